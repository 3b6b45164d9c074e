// The printed report of bench/run.js: figures per row (best of the reps), ratios to the
// baselines measured in the same run, the table, the goals with PASS/FAIL, and the JSON form.
import fs from 'node:fs';
import os from 'node:os';

const MB = 1e6;

export function sizeText(mib) {
  return mib % 1024 === 0 ? `${mib / 1024} GiB` : `${mib} MiB`;
}

// The goals, from the measured rows (looked up by id). Each: [text, value(rows), op, target, unit].
function goals(byId, rssLabel, rssId) {
  const mbs = (id) => byId(id)?.mbPerSec;
  const ratio = (a, b) => (mbs(a) && mbs(b) ? mbs(a) / mbs(b) : undefined);
  return [
    ['split only, 1 worker (mmap) >= 1.0 x wc -l',
      () => ratio('core/classic split w1 mmap', 'baselines/wc -l'), '>=', 1.0, 'x', ['core/classic split w1 mmap', 'baselines/wc -l']],
    ['CRC32C alone >= 1.5 GB/s',
      () => (mbs('crc32c/alone') ? mbs('crc32c/alone') / 1000 : undefined), '>=', 1.5, 'GB/s', ['crc32c/alone']],
    ['full parse classic (incl. CRC), 1 worker (mmap) >= 25 x readline+regex',
      () => ratio('core/classic parse w1 mmap', 'baselines/readline-regex'), '>=', 25, 'x', ['core/classic parse w1 mmap', 'baselines/readline-regex']],
    ['full parse classic, 2 workers >= 1.7 x 1 worker (mmap)',
      () => ratio('core/classic parse w2 mmap', 'core/classic parse w1 mmap'), '>=', 1.7, 'x', ['core/classic parse w2 mmap', 'core/classic parse w1 mmap']],
    ['ndjson to /dev/null (CLI, 1 worker) >= 10 x readline+regex+JSON.stringify',
      () => ratio('cli/classic ndjson w1', 'baselines/readline-regex-json'), '>=', 10, 'x', ['cli/classic ndjson w1', 'baselines/readline-regex-json']],
    [`peak RSS < 300 MB, ${rssLabel}, ndjson 1 worker (mmap)`,
      () => byId(`${rssId} w1 mmap`)?.peakRssMB, '<', 300, 'MB', [`${rssId} w1 mmap`]],
    [`peak RSS < 300 MB, ${rssLabel}, ndjson 2 workers (mmap)`,
      () => byId(`${rssId} w2 mmap`)?.peakRssMB, '<', 300, 'MB', [`${rssId} w2 mmap`]],
  ];
}

function summarise(row) {
  const failed = row.runs.find((r) => r.error);
  const good = row.runs.filter((r) => !r.error);
  const out = { ...row, ok: !failed && good.length > 0, error: failed?.error ?? null };
  if (!out.ok) return out;
  const best = good.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  out.best = best;
  out.seconds = best.seconds;
  out.mbPerSec = row.bytes / best.seconds / MB;
  // CLI rows report no counts (their output goes to /dev/null): use the file's.
  const count = best.records ?? best.lines ?? (row.group === 'cli' ? row.expected.records : null);
  out.recordsPerSec = count == null ? null : count / best.seconds;
  const rss = good.map((r) => r.maxRSSKiB).filter((k) => typeof k === 'number');
  out.peakRssMB = rss.length ? (Math.max(...rss) * 1024) / MB : null;
  // A scenario that skipped work must not look fast: compare its counts with the file's.
  out.mismatches = [];
  for (const key of ['bytes', 'lines', 'records']) {
    if (row.expected && typeof best[key] === 'number' && best[key] !== row.expected[key]) {
      out.mismatches.push(`${key} ${best[key]}, but the file has ${row.expected[key]}`);
    }
  }
  if (typeof best.io === 'string' && best.io !== row.io) out.mismatches.push(`ran with io ${best.io}, not ${row.io}`);
  return out;
}

const fixed = (n, digits) => n.toFixed(digits);
function fmtRate(n) {
  if (n == null) return '-';
  return n >= 100 ? fixed(n, 0) : n >= 10 ? fixed(n, 1) : fixed(n, 2);
}
function fmtCount(n) {
  if (n == null) return '-';
  return n >= 1e6 ? `${fixed(n / 1e6, 2)} M` : n >= 1e3 ? `${fixed(n / 1e3, 1)} k` : fixed(n, 0);
}
function fmtRatio(n) {
  if (n == null) return '-';
  return `${fixed(n, n >= 10 ? 1 : n >= 0.1 ? 2 : 3)}x`;
}

export function table(header, lines, numeric) {
  const widths = header.map((h, i) => Math.max(h.length, ...lines.filter(Array.isArray).map((l) => l[i].length)));
  const cell = (text, i) => (numeric[i] ? text.padStart(widths[i]) : text.padEnd(widths[i]));
  const rule = widths.map((w) => '-'.repeat(w)).join('-+-');
  const out = [header.map(cell).join(' | '), rule];
  for (const l of lines) out.push(Array.isArray(l) ? l.map(cell).join(' | ').trimEnd() : rule);
  return out.join('\n');
}

const GROUP_ORDER = ['core', 'formats', 'cli', 'rss', 'crc32c', 'baselines'];

/** Prints the report on stdout and returns it as one JSON-able object. */
export function printReport({ date, machine, options, rows, files, skipped, notes, elapsedSeconds }) {
  const all = rows.map(summarise).sort((a, b) => GROUP_ORDER.indexOf(a.group) - GROUP_ORDER.indexOf(b.group));
  const index = new Map(all.map((r) => [r.id, r]));
  const byId = (id) => (index.get(id)?.ok ? index.get(id) : undefined);
  const wc = byId('baselines/wc -l');
  const rl = byId('baselines/readline-regex');
  const rlJson = byId('baselines/readline-regex-json');
  for (const r of all) {
    if (!r.ok) continue;
    // wc -l does not care about the format; the readline parsers read the classic format only
    r.xWc = wc && r.group !== 'crc32c' ? r.mbPerSec / wc.mbPerSec : null;
    r.xReadline = rl && r.format === 'classic' ? r.mbPerSec / rl.mbPerSec : null;
    r.xReadlineJson = rlJson && r.format === 'classic' && r.ndjson ? r.mbPerSec / rlJson.mbPerSec : null;
  }

  const rssId = `rss/classic-${options.rssSizeMiB}MiB ndjson`;
  const rssLabel = `${sizeText(options.rssSizeMiB)} file`;
  const goalResults = goals(byId, rssLabel, rssId).map(([text, value, op, target, unit, ids]) => {
    const v = value();
    if (v === undefined) {
      const missing = ids.filter((id) => !byId(id));
      const why = missing.map((id) => `${id} ${index.get(id) ? 'failed' : 'not run'}`).join(', ');
      return { goal: text, status: 'n/a', measured: null, target, unit, note: why };
    }
    const pass = op === '>=' ? v >= target : v < target;
    const doubtful = ids.filter((id) => byId(id).mismatches.length > 0);
    const note = doubtful.length ? `(! ${doubtful.join(', ')}: see above)` : undefined;
    return { goal: text, status: pass ? 'PASS' : 'FAIL', measured: v, target, unit, note };
  });

  const out = [];
  out.push(`logwire benchmarks, ${date}`);
  out.push(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB RAM, ${machine.os}, Node ${machine.node}`);
  for (const [key, f] of Object.entries(files)) {
    out.push(`data (${key}): ${f.path}, ${f.bytes / 2 ** 20} MiB, ${f.lines} lines, ${f.records} records, ${f.avgLineBytes} bytes/line avg`);
  }
  const slowReps = options.slowReps === 1 ? '1 run' : `best of ${options.slowReps} runs`;
  out.push(`Each row: the best (fastest) of ${options.reps} run(s), each run a fresh node process, files page-cached;`);
  out.push(`the two readline baselines: ${slowReps} (--slow-reps). Peak RSS: the highest of the runs. MB = 10^6 bytes.`);
  out.push('');

  const header = ['scenario', 'workers', 'io', 'MB/s', 'records/s', 'x wc -l', 'x readline+regex', 'x rl+regex+JSON', 'peak RSS MB', '!'];
  const numeric = [false, true, false, true, true, true, true, true, true, false];
  const lines = [];
  let group = null;
  const problems = [];
  for (const r of all) {
    if (group !== null && r.group !== group) lines.push(null);
    group = r.group;
    if (!r.ok) {
      lines.push([r.label, String(r.workers), r.io, 'FAILED', '-', '-', '-', '-', '-', '!']);
      problems.push(`${r.id}: ${r.error}`);
      continue;
    }
    if (r.mismatches.length) problems.push(`${r.id}: ${r.mismatches.join('; ')}`);
    lines.push([
      r.label, String(r.workers), r.io, fmtRate(r.mbPerSec), fmtCount(r.recordsPerSec),
      fmtRatio(r.xWc), fmtRatio(r.xReadline), fmtRatio(r.xReadlineJson),
      r.peakRssMB == null ? '-' : fixed(r.peakRssMB, 0), r.mismatches.length ? '!' : '',
    ]);
  }
  out.push(table(header, lines, numeric));
  out.push('');
  out.push('x wc -l, x readline+regex: MB/s of the row over MB/s of that baseline on the classic file (readline ratios');
  out.push('only for classic-format rows). x rl+regex+JSON: the NDJSON rows over readline + regex + JSON.stringify');
  out.push('to /dev/null. records/s: lines/s for wc -l and Buffer.indexOf; the CLI rows use the file\'s record count.');
  out.push('CRC32C alone: GB/s as crc32cThroughput reports it, x 1000 in the MB/s column. Peak RSS of wc -l is not measured.');
  for (const n of notes) out.push(n);
  for (const p of problems) out.push(`! ${p}`);
  out.push('');
  out.push('Goals:');
  const measured = (g) => (g.unit === 'x' ? fmtRatio(g.measured) : `${fixed(g.measured, g.unit === 'MB' ? 0 : 2)} ${g.unit}`);
  for (const g of goalResults) {
    out.push(`  ${g.status.padEnd(4)}  ${g.goal}: ${g.measured == null ? g.note : measured(g) + (g.note ? ` ${g.note}` : '')}`);
  }
  out.push('');
  out.push(`total time ${(elapsedSeconds / 60).toFixed(1)} min`);
  process.stdout.write(out.join('\n') + '\n');

  return {
    date,
    machine,
    options,
    files,
    elapsedSeconds,
    notes,
    skipped,
    results: all.map((r) => ({
      id: r.id, group: r.group, label: r.label, format: r.format, mode: r.mode ?? null, workers: r.workers, io: r.io,
      bytes: r.bytes, ok: r.ok, error: r.error, seconds: r.seconds ?? null, mbPerSec: r.mbPerSec ?? null,
      recordsPerSec: r.recordsPerSec ?? null, peakRssMB: r.peakRssMB ?? null, xWcL: r.xWc ?? null,
      xReadlineRegex: r.xReadline ?? null, xReadlineRegexJson: r.xReadlineJson ?? null,
      mismatches: r.mismatches ?? [], expected: r.expected, runs: r.runs,
    })),
    goals: goalResults,
  };
}

/** The machine a run measured, for the report. */
export function machine() {
  let cpu = os.cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpu = m[1].trim();
  } catch {
    // not Linux: os.cpus() has it
  }
  return {
    cpu,
    cores: os.availableParallelism(),
    memoryGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
  };
}
