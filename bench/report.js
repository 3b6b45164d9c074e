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

// Issue #5: pattern extraction against readline + RegExp of the same layout, combined against goaccess.
function goals5(byId) {
  const ratio = (a, b) => (byId(a)?.mbPerSec && byId(b)?.mbPerSec ? byId(a).mbPerSec / byId(b).mbPerSec : undefined);
  const list = [];
  for (const layout of ['hdfs', 'zookeeper']) {
    const ids = [`patterns/${layout} parse w1 mmap`, `patterns/${layout} readline-regex`];
    list.push([`pattern extraction ${layout}, 1 worker (mmap) >= 20 x readline+RegExp of the same layout`, () => ratio(...ids), '>=', 20, 'x', ids]);
  }
  for (const output of ['none', 'ndjson']) {
    const ids = [`access/logwire ${output} w1`, 'access/goaccess no-panels'];
    list.push([`combined, logwire parse --output ${output}${output === 'ndjson' ? ' >/dev/null' : ''}, 1 worker, faster than goaccess (every panel ignored)`,
      () => ratio(...ids), '>', 1.0, 'x', ids]);
  }
  return list;
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
  const count = best.records ?? best.lines ?? (row.module === 'scenarios/cli.js' ? row.expected.records : null);
  out.recordsPerSec = count == null ? null : count / best.seconds;
  const rss = good.map((r) => r.maxRSSKiB).filter((k) => typeof k === 'number');
  out.peakRssMB = rss.length ? (Math.max(...rss) * 1024) / MB : null;
  // A scenario that skipped work must not look fast: compare its counts with the file's.
  out.mismatches = [];
  for (const key of ['bytes', 'lines', 'records']) {
    if (row.expected && row.expected[key] !== undefined && typeof best[key] === 'number' && best[key] !== row.expected[key]) {
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

/** lines: arrays of cells, null for a rule, or { label, text }: the label's cell, then text across the rest. */
export function table(header, lines, numeric) {
  const widths = header.map((h, i) => Math.max(h.length, ...lines.filter(Array.isArray).map((l) => l[i].length)));
  const cell = (text, i) => (numeric[i] ? text.padStart(widths[i]) : text.padEnd(widths[i]));
  const rule = widths.map((w) => '-'.repeat(w)).join('-+-');
  const out = [header.map(cell).join(' | '), rule];
  for (const l of lines) {
    if (Array.isArray(l)) out.push(l.map(cell).join(' | ').trimEnd());
    else if (l === null) out.push(rule);
    else out.push(`${cell(l.label, 0)} | ${l.text}`);
  }
  return out.join('\n');
}

// The first table's groups (issue #2), then the tables of issue #5.
const MAIN_GROUPS = ['core', 'formats', 'cli', 'rss', 'crc32c', 'floor', 'baselines'];
const GROUP_ORDER = [...MAIN_GROUPS, 'patterns', 'access'];

/** Evaluates goals ([text, value, op, target, unit, ids]) against the measured rows. */
function evaluate(list, byId, index, skippedById) {
  return list.map(([text, value, op, target, unit, ids]) => {
    const v = value();
    if (v === undefined) {
      const missing = ids.filter((id) => !byId(id));
      const why = missing.map((id) => (skippedById.has(id) ? `${id} skipped: ${skippedById.get(id)}` : `${id} ${index.get(id) ? 'failed' : 'not run'}`)).join(', ');
      return { goal: text, status: 'n/a', measured: null, target, unit, note: why };
    }
    const pass = op === '>=' ? v >= target : op === '>' ? v > target : v < target;
    const doubtful = ids.filter((id) => byId(id).mismatches.length > 0);
    const note = doubtful.length ? `(! ${doubtful.join(', ')}: see above)` : undefined;
    return { goal: text, status: pass ? 'PASS' : 'FAIL', measured: v, target, unit, note };
  });
}

/** A table line for a measured row: label, workers, io, MB/s, records/s, the ratios, peak RSS, mark (or FAILED). */
function rowLine(r, problems, ratios) {
  if (!r.ok) {
    problems.push(`${r.id}: ${r.error}`);
    return [r.label, String(r.workers), r.io, 'FAILED', '-', ...ratios.map(() => '-'), '-', '!'];
  }
  if (r.mismatches.length) problems.push(`${r.id}: ${r.mismatches.join('; ')}`);
  return [
    r.label, String(r.workers), r.io, fmtRate(r.mbPerSec), fmtCount(r.recordsPerSec), ...ratios.map((x) => fmtRatio(x)),
    r.peakRssMB == null ? '-' : fixed(r.peakRssMB, 0), r.mismatches.length ? '!' : '',
  ];
}

/** Prints the report on stdout and returns it as one JSON-able object. */
export function printReport({ date, machine, options, rows, files, skipped, notes, elapsedSeconds }) {
  const all = rows.map(summarise).sort((a, b) => GROUP_ORDER.indexOf(a.group) - GROUP_ORDER.indexOf(b.group) || a.order - b.order);
  const index = new Map(all.map((r) => [r.id, r]));
  const byId = (id) => (index.get(id)?.ok ? index.get(id) : undefined);
  const skippedById = new Map(skipped.map((s) => [s.id, s.reason]));
  const wc = byId('baselines/wc -l');
  const rl = byId('baselines/readline-regex');
  const rlJson = byId('baselines/readline-regex-json');
  const gaFast = byId('access/goaccess no-panels');
  const gaFull = byId('access/goaccess all-panels');
  for (const r of all) {
    if (!r.ok) continue;
    if (MAIN_GROUPS.includes(r.group)) {
      // wc -l does not care about the format; the readline parsers read the classic format only
      r.xWc = wc && r.group !== 'crc32c' ? r.mbPerSec / wc.mbPerSec : null;
      r.xReadline = rl && r.format === 'classic' ? r.mbPerSec / rl.mbPerSec : null;
      r.xReadlineJson = rlJson && r.format === 'classic' && r.ndjson ? r.mbPerSec / rlJson.mbPerSec : null;
    } else if (r.group === 'patterns') {
      const base = byId(`patterns/${r.format} readline-regex`);
      const baseJson = byId(`patterns/${r.format} readline-regex-json`);
      r.xLayoutRegex = base ? r.mbPerSec / base.mbPerSec : null;
      r.xLayoutRegexJson = baseJson && r.ndjson ? r.mbPerSec / baseJson.mbPerSec : null;
    } else if (r.group === 'access') {
      r.xGoaccess = gaFast ? r.mbPerSec / gaFast.mbPerSec : null;
      r.xGoaccessPanels = gaFull ? r.mbPerSec / gaFull.mbPerSec : null;
    }
  }

  const rssId = `rss/classic-${options.rssSizeMiB}MiB ndjson`;
  const rssLabel = `${sizeText(options.rssSizeMiB)} file`;
  const planned = (group) => all.some((r) => r.group === group) || skipped.some((s) => s.id.startsWith(`${group}/`));
  const goalResults = MAIN_GROUPS.some(planned) ? evaluate(goals(byId, rssLabel, rssId), byId, index, skippedById) : [];
  const goal5Results = planned('patterns') || planned('access') ? evaluate(goals5(byId), byId, index, skippedById) : [];

  const out = [];
  out.push(`logwire benchmarks, ${date}`);
  out.push(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB RAM, ${machine.os}, Node ${machine.node}`);
  for (const [key, f] of Object.entries(files)) {
    out.push(`data (${key}): ${f.path}, ${f.bytes / 2 ** 20} MiB, ${f.lines} lines, ${f.records} records, ${f.avgLineBytes} bytes/line avg`);
  }
  const slowReps = options.slowReps === 1 ? '1 run' : `best of ${options.slowReps} runs`;
  out.push(`Each row: the best (fastest) of ${options.reps} run(s), each run a fresh node process, files page-cached;`);
  out.push(`the classic readline baselines, the patterns' readline + RegExp + JSON.stringify and goaccess with all panels:`);
  out.push(`${slowReps} (--slow-reps). Peak RSS: the highest of the runs. MB = 10^6 bytes.`);
  out.push('');

  const problems = [];
  const main = all.filter((r) => MAIN_GROUPS.includes(r.group));
  if (main.length > 0) {
    const header = ['scenario', 'workers', 'io', 'MB/s', 'records/s', 'x wc -l', 'x readline+regex', 'x rl+regex+JSON', 'peak RSS MB', '!'];
    const numeric = [false, true, false, true, true, true, true, true, true, false];
    const lines = [];
    let group = null;
    for (const r of main) {
      if (group !== null && r.group !== group) lines.push(null);
      group = r.group;
      lines.push(rowLine(r, problems, [r.xWc, r.xReadline, r.xReadlineJson]));
    }
    out.push(table(header, lines, numeric));
    out.push('');
    out.push('x wc -l, x readline+regex: MB/s of the row over MB/s of that baseline on the classic file (readline ratios');
    out.push('only for classic-format rows). x rl+regex+JSON: the NDJSON rows over readline + regex + JSON.stringify');
    out.push('to /dev/null. records/s: lines/s for wc -l and Buffer.indexOf; the CLI rows use the file\'s record count.');
    out.push('CRC32C alone: GB/s as crc32cThroughput reports it, x 1000 in the MB/s column. Peak RSS of wc -l is not measured.');
    out.push('');
  }

  // The issue #5 tables; rows that could not run (goaccess missing) keep their place in them.
  const subTable = (group, title, ratioHeaders, ratiosOf, footnotes) => {
    const members = [...all.filter((r) => r.group === group), ...skipped.filter((s) => s.group === group)].sort((a, b) => a.order - b.order);
    if (members.length === 0) return;
    const header = ['scenario', 'workers', 'io', 'MB/s', 'records/s', ...ratioHeaders, 'peak RSS MB', '!'];
    const numeric = header.map((h, i) => i > 0 && h !== 'io' && h !== '!');
    const lines = [];
    let data = null;
    for (const r of members) {
      // a rule between the data files (the two layouts)
      if (data !== null && r.format !== data) lines.push(null);
      data = r.format;
      lines.push(r.reason ? { label: r.label, text: `skipped: ${r.reason}` } : rowLine(r, problems, ratiosOf(r)));
    }
    out.push(title, table(header, lines, numeric), '', ...footnotes, '');
  };
  subTable('patterns', 'Patterns: logwire with format { pattern } (the LAYOUTS of bench/baselines/readline-pattern.js) against readline + RegExp',
    ['x readline+RegExp', 'x rl+RegExp+JSON'], (r) => [r.xLayoutRegex, r.xLayoutRegexJson], [
      'x readline+RegExp: MB/s of the row over MB/s of readline + one RegExp + Date.UTC/Date.parse, an object per line,',
      'on the same file. x rl+RegExp+JSON: the NDJSON rows over that plus JSON.stringify of each record to /dev/null.',
      'parse: the full parse (timestamp, fields, CRC32C, NDJSON encoded in wasm memory, not handed out);',
      'ndjson: parse, and every batch of NDJSON handed to the calling thread.',
    ]);
  subTable('access', 'combined access log: the logwire CLI against goaccess on the same file',
    ['x goaccess (no panels)', 'x goaccess (all panels)'], (r) => [r.xGoaccess, r.xGoaccessPanels], [
      'logwire rows: `logwire parse FILE --format combined --output none|ndjson --workers N > /dev/null`, the whole process;',
      'records/s from the file\'s record count. goaccess rows: `TZ=UTC goaccess FILE --log-format=COMBINED --no-global-config',
      '--no-parsing-spinner -o report.json`, with --ignore-panel for each of its 18 panels (no panels) or none (all panels),',
      'spawn to exit; records/s from its report\'s valid_requests, checked against the file; peak RSS: VmHWM sampled every 20 ms.',
    ]);

  for (const n of notes) out.push(n);
  for (const p of problems) out.push(`! ${p}`);
  if (notes.length || problems.length) out.push('');
  const measured = (g) => (g.unit === 'x' ? fmtRatio(g.measured) : `${fixed(g.measured, g.unit === 'MB' ? 0 : 2)} ${g.unit}`);
  const printGoals = (title, list) => {
    if (list.length === 0) return;
    out.push(title);
    for (const g of list) {
      out.push(`  ${g.status.padEnd(4)}  ${g.goal}: ${g.measured == null ? g.note : measured(g) + (g.note ? ` ${g.note}` : '')}`);
    }
  };
  printGoals('Goals:', goalResults);
  printGoals('Goals (issue #5):', goal5Results);
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
      xReadlineRegexLayout: r.xLayoutRegex ?? null, xReadlineRegexJsonLayout: r.xLayoutRegexJson ?? null,
      xGoaccess: r.xGoaccess ?? null, xGoaccessAllPanels: r.xGoaccessPanels ?? null,
      mismatches: r.mismatches ?? [], expected: r.expected, runs: r.runs,
    })),
    goals: goalResults,
    goalsIssue5: goal5Results,
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
