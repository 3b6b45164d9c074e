// `npm run bench`: generates the data, runs every logwire scenario and the baselines in one
// run, each measurement in a fresh node process, and prints the tables with ratios and the goals.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { DEFAULT_DIR, ensureDataFile, warmFile } from './generate.js';
import { CLI_PATH } from './hooks.js';
import { LAYOUTS } from './baselines/readline-pattern.js';
import { missing as goaccessMissing } from './baselines/goaccess.js';
import { missing as ccMissing } from './scenarios/floor.js';
import { machine, printReport, sizeText } from './report.js';

const CHILD = fileURLToPath(new URL('child.js', import.meta.url));
const MIB = 1024 * 1024;
// CRC32C alone: larger than any CPU cache, small enough for any wasm memory layout.
const CRC_BUFFER_BYTES = 64 * MIB;

const HELP = `usage: npm run bench -- [options]      (or: node bench/run.js [options])

Generates deterministic log files (reused when present), runs each measurement in a
fresh node process (peak RSS per scenario) and prints the tables plus the goals.

  --size MiB        classic file size (default 1024); the logfmt and json files are
                    half of it (default 512 each)
  --rss-size MiB    classic file for the peak-RSS rows (default 2048)
  --pattern-size MiB  size of each of the HDFS- and Zookeeper-shaped files of the
                    pattern rows (default 512)
  --access-size MiB combined-format access log of the goaccess rows (default 1024)
  --reps N          repetitions per measurement, the fastest is kept (default 3)
  --slow-reps N     repetitions of the slowest rows (default 1): the classic readline
                    baselines and the patterns' readline + RegExp + JSON.stringify (~0.5 to
                    1 min per GiB), goaccess with all its panels (~4 min per GiB)
  --only LIST       run only the scenarios whose id contains one of the comma-separated,
                    case-insensitive substrings; ids are group/name, groups: core,
                    formats, cli, rss, crc32c, floor, baselines, patterns, access. e.g.
                    --only baselines, --only "classic parse", --only core,crc32c,
                    --only patterns,access (the issue #5 rows and their baselines)
  --list            print the scenario ids and exit
  --dir DIR         data directory (default bench/data)
  --json FILE       also write all results as JSON to FILE
  --help            this text

The access rows compare with goaccess (apt-get install goaccess); without it they
print as skipped and the other rows still run. The native floor rows build
bench/floor/lf-count.c with cc; without one they are skipped the same way.
`;

function parseOptions(argv) {
  try {
    return checkOptions(argv);
  } catch (err) {
    throw new Error(`${err.message} (see --help)`);
  }
}

function checkOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      size: { type: 'string', default: '1024' },
      'rss-size': { type: 'string', default: '2048' },
      'pattern-size': { type: 'string', default: '512' },
      'access-size': { type: 'string', default: '1024' },
      reps: { type: 'string', default: '3' },
      'slow-reps': { type: 'string', default: '1' },
      only: { type: 'string' },
      list: { type: 'boolean', default: false },
      dir: { type: 'string', default: DEFAULT_DIR },
      json: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  const whole = (name, min) => {
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be a whole number >= ${min}, got ${JSON.stringify(values[name])}`);
    return n;
  };
  return {
    help: values.help,
    list: values.list,
    sizeMiB: whole('size', 2),
    rssSizeMiB: whole('rss-size', 1),
    patternSizeMiB: whole('pattern-size', 2),
    accessSizeMiB: whole('access-size', 2),
    reps: whole('reps', 1),
    slowReps: whole('slow-reps', 1),
    only: values.only ? values.only.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean) : null,
    dir: path.resolve(values.dir),
    json: values.json ? path.resolve(values.json) : null,
  };
}

// Every measurement of the run. `file` names a data file (see dataFiles), `needs` what
// must exist (of logwire, or goaccess), `ndjson` rows get the JSON baseline ratio,
// `baseline` rows run first, `params` go to the scenario with the file's.
function plan(opts) {
  const rows = [];
  const add = (row) => rows.push({ reps: opts.reps, workers: 1, io: '', needs: null, ndjson: false, ...row });
  for (const mode of ['split', 'crc', 'parse', 'ndjson']) {
    for (const workers of [1, 2]) {
      for (const io of ['mmap', 'pread']) {
        add({ group: 'core', name: `classic ${mode}`, file: 'classic', mode, workers, io, needs: 'hooks', ndjson: mode === 'ndjson' });
      }
    }
  }
  for (const format of ['logfmt', 'json']) {
    for (const mode of ['parse', 'ndjson']) {
      for (const workers of [1, 2]) {
        add({ group: 'formats', name: `${format} ${mode}`, file: format, mode, workers, io: 'mmap', needs: 'hooks', ndjson: mode === 'ndjson' });
      }
    }
  }
  // Multiline's cost on an ordinary log: every line checked for a timestamp and copied into its record.
  for (const mode of ['parse', 'ndjson']) {
    for (const workers of [1, 2]) {
      add({ group: 'formats', name: `classic multiline ${mode}`, label: `classic multiline=timestamp ${mode}`, file: 'classic', mode, workers, io: 'mmap', needs: 'hooks', ndjson: mode === 'ndjson', params: { multiline: 'timestamp' } });
    }
  }
  for (const workers of [1, 2]) {
    add({ group: 'cli', name: 'classic ndjson', label: 'CLI parse --output ndjson >/dev/null', file: 'classic', workers, io: 'default', needs: 'cli', ndjson: true, module: 'scenarios/cli.js' });
  }
  for (const workers of [1, 2]) {
    add({ group: 'rss', name: `classic-${opts.rssSizeMiB}MiB ndjson`, label: `classic ${sizeText(opts.rssSizeMiB)} ndjson`, file: 'rss', mode: 'ndjson', workers, io: 'mmap', needs: 'hooks', ndjson: true });
  }
  add({ group: 'crc32c', name: 'alone', label: `CRC32C alone (${CRC_BUFFER_BYTES / MIB} MiB buffer in wasm)`, file: null, io: 'memory', needs: 'hooks', module: 'scenarios/crc32c.js', params: { bytes: CRC_BUFFER_BYTES } });
  // The floor under the split goal: counting LFs and nothing else, in wasm and in C.
  for (const io of ['mmap', 'pread']) {
    add({ group: 'floor', name: `wasm lf count ${io}`, label: 'LF count (wasm, no worker)', file: 'classic', io, needs: 'hooks', module: 'scenarios/floor.js', params: { kind: 'wasm' } });
  }
  add({ group: 'floor', name: 'wasm lf count in a worker mmap', label: 'LF count (wasm, in a new worker)', file: 'classic', io: 'mmap', needs: 'hooks', module: 'scenarios/floor.js', params: { kind: 'wasm-worker' } });
  for (const [kind, io, label] of [['mmap-touch', 'mmap', 'C: map, 1 byte a page'], ['mmap-count', 'mmap', 'C: LF count'], ['pread-count', 'pread', 'C: LF count']]) {
    add({ group: 'floor', name: `c ${kind}`, label, file: 'classic', io, needs: 'cc', module: 'scenarios/floor.js', params: { kind } });
  }
  add({ group: 'baselines', name: 'wc -l', file: 'classic', io: 'read', module: 'baselines/wc.js' });
  add({ group: 'baselines', name: 'buffer-indexof', label: 'Buffer.indexOf line count', file: 'classic', io: 'read', module: 'baselines/indexof.js' });
  add({ group: 'baselines', name: 'readline-regex', label: 'readline + regex', file: 'classic', io: 'stream', module: 'baselines/readline-regex.js', reps: opts.slowReps });
  add({ group: 'baselines', name: 'readline-regex-json', label: 'readline + regex + JSON.stringify', file: 'classic', io: 'stream', module: 'baselines/readline-json.js', reps: opts.slowReps, ndjson: true });
  // issue #5: patterns on the HDFS and Zookeeper layouts, each against readline + RegExp of the same layout
  for (const layout of ['hdfs', 'zookeeper']) {
    const format = `pattern:${LAYOUTS[layout].pattern}`;
    for (const [mode, ios] of [['parse', ['mmap', 'pread']], ['ndjson', ['mmap']]]) {
      for (const workers of [1, 2]) {
        for (const io of ios) {
          add({ group: 'patterns', name: `${layout} ${mode}`, label: `${layout} pattern ${mode}`, file: layout, mode, workers, io, needs: 'hooks', ndjson: mode === 'ndjson', params: { format } });
        }
      }
    }
    add({ group: 'patterns', name: `${layout} readline-regex`, label: `${layout} readline + RegExp`, file: layout, io: 'stream', module: 'baselines/readline-pattern.js', baseline: true, params: { layout, output: 'none' } });
    add({ group: 'patterns', name: `${layout} readline-regex-json`, label: `${layout} readline + RegExp + JSON.stringify`, file: layout, io: 'stream', module: 'baselines/readline-pattern.js', reps: opts.slowReps, baseline: true, ndjson: true, params: { layout, output: 'ndjson' } });
  }
  // issue #5: the combined access log, the CLI against goaccess
  for (const output of ['none', 'ndjson']) {
    for (const workers of [1, 2]) {
      add({ group: 'access', name: `logwire ${output}`, label: `logwire parse --format combined --output ${output}`, file: 'combined', workers, io: 'default', needs: 'cli', ndjson: output === 'ndjson', module: 'scenarios/cli.js', params: { formatFlag: 'combined', output } });
    }
  }
  add({ group: 'access', name: 'goaccess no-panels', label: 'goaccess -o report.json, every panel ignored', file: 'combined', io: 'read', needs: 'goaccess', baseline: true, module: 'baselines/goaccess.js', params: { panels: false } });
  add({ group: 'access', name: 'goaccess all-panels', label: 'goaccess -o report.json, all panels', file: 'combined', io: 'read', needs: 'goaccess', baseline: true, module: 'baselines/goaccess.js', reps: opts.slowReps, params: { panels: true } });
  rows.forEach((row, i) => {
    const perWorker = ['core', 'formats', 'rss', 'cli', 'patterns', 'access'].includes(row.group) && !row.baseline;
    const withIo = perWorker && row.group !== 'cli' && row.group !== 'access';
    row.id = perWorker ? `${row.group}/${row.name} w${row.workers}${withIo ? ` ${row.io}` : ''}` : `${row.group}/${row.name}`;
    row.label ??= row.name;
    row.module ??= 'scenarios/core.js';
    row.baseline ||= row.group === 'baselines';
    row.order = i;
  });
  return rows;
}

function dataFiles(opts) {
  return {
    classic: { format: 'classic', sizeMiB: opts.sizeMiB },
    logfmt: { format: 'logfmt', sizeMiB: Math.floor(opts.sizeMiB / 2) },
    json: { format: 'json', sizeMiB: Math.floor(opts.sizeMiB / 2) },
    rss: { format: 'classic', sizeMiB: opts.rssSizeMiB },
    hdfs: { format: 'hdfs', sizeMiB: opts.patternSizeMiB },
    zookeeper: { format: 'zookeeper', sizeMiB: opts.patternSizeMiB },
    combined: { format: 'combined', sizeMiB: opts.accessSizeMiB },
  };
}

function memAvailableBytes() {
  try {
    const m = /^MemAvailable:\s+(\d+) kB$/m.exec(fs.readFileSync('/proc/meminfo', 'utf8'));
    return m ? Number(m[1]) * 1024 : os.freemem();
  } catch {
    return os.freemem();
  }
}

function log(line) {
  process.stderr.write(`${line}\n`);
}

// One measurement in a fresh node process; resolves to the child's result or { error }.
function runChild(module, params, timeoutMs) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CHILD, JSON.stringify({ module, params })], {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
    });
    let report = '';
    let stderr = '';
    child.stdio[3].on('data', (d) => { report += d; });
    child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-8192); });
    child.on('error', (err) => resolve({ error: `could not start node: ${err.message}` }));
    child.on('close', (code, signal) => {
      if (report) {
        try {
          return resolve(JSON.parse(report));
        } catch {
          // fall through to the exit status
        }
      }
      const tail = stderr.trim().split('\n').pop();
      const how = signal === 'SIGKILL' ? `killed after the ${Math.round(timeoutMs / 1000)} s time limit` : signal ? `killed by ${signal}` : `exited with code ${code}`;
      resolve({ error: `child ${how} without a result${tail ? `: ${tail}` : ''}`, stderr });
    });
  });
}

// What the planned rows need and is missing: { hooks, cli, goaccess, cc }, each null or why.
async function probe(rows) {
  const needed = new Set(rows.map((row) => row.needs));
  const missing = { hooks: null, cli: null, goaccess: null, cc: null };
  if (needed.has('hooks')) missing.hooks = (await runChild('hooks.js', {}, 60_000)).error ?? null;
  if (needed.has('cli')) missing.cli = fs.existsSync(CLI_PATH) ? null : `${CLI_PATH} not found`;
  if (needed.has('goaccess')) missing.goaccess = goaccessMissing();
  if (needed.has('cc')) missing.cc = ccMissing();
  return missing;
}

async function main() {
  const opts = parseOptions(process.argv.slice(2));
  if (opts.help) {
    process.stdout.write(HELP);
    return;
  }
  let rows = plan(opts);
  if (opts.list) {
    for (const row of rows) console.log(row.id);
    return;
  }
  if (opts.only) {
    rows = rows.filter((row) => opts.only.some((s) => row.id.toLowerCase().includes(s)));
    if (rows.length === 0) throw new Error(`--only ${opts.only.join(',')} matches no scenario (see --list)`);
  }
  const started = new Date();
  const t0 = performance.now();
  const info = { date: started.toISOString(), machine: machine(), options: { ...opts, help: undefined, list: undefined } };
  const notes = [];
  const specs = dataFiles(opts);

  // skip what is not built or installed, say why, and still run the rest
  const missing = await probe(rows);
  const skipped = [];
  rows = rows.filter((row) => {
    const why = row.needs && missing[row.needs];
    if (why) skipped.push({ id: row.id, reason: why, group: row.group, order: row.order, label: row.label, format: specs[row.file]?.format ?? null });
    return !why;
  });
  for (const kind of ['hooks', 'cli', 'goaccess', 'cc']) {
    const n = skipped.filter((s) => s.reason === missing[kind]).length;
    if (n > 0) {
      const what = { goaccess: 'goaccess row', cc: 'native floor row' }[kind] ?? 'logwire scenario';
      const line = `NOT RUN: ${n} ${what}(s): ${missing[kind]}`;
      notes.push(line);
      log(line);
    }
  }

  // data: generate or reuse, then read once so that every measurement starts page-cached
  const files = {};
  for (const key of new Set(rows.map((row) => row.file).filter(Boolean))) {
    const { format, sizeMiB } = specs[key];
    log(`data: ${format} ${sizeText(sizeMiB)} in ${opts.dir} ...`);
    files[key] = ensureDataFile(opts.dir, format, sizeMiB);
    const f = files[key];
    log(`data: ${f.path}: ${f.lines} lines, ${f.avgLineBytes} bytes/line avg (${f.generated ? `generated in ${f.seconds.toFixed(1)} s` : 'reused'})`);
  }
  const uniquePaths = [...new Set(Object.values(files).map((f) => f.path))];
  const totalBytes = uniquePaths.reduce((sum, p) => sum + fs.statSync(p).size, 0);
  if (totalBytes > 0.8 * memAvailableBytes()) {
    const line = `WARNING: the data (${(totalBytes / 2 ** 30).toFixed(1)} GiB) may not fit in the page cache; some runs will read from disk`;
    notes.push(line);
    log(line);
  }
  for (const p of uniquePaths) {
    const w0 = performance.now();
    warmFile(p);
    log(`warm: read ${path.basename(p)} in ${((performance.now() - w0) / 1000).toFixed(1)} s`);
  }

  // measurements: baselines first, so that a broken logwire build cannot hide them
  rows.sort((a, b) => (a.baseline ? 0 : 1) - (b.baseline ? 0 : 1));
  const count = rows.reduce((sum, row) => sum + row.reps, 0);
  let done = 0;
  for (const row of rows) {
    const file = row.file ? files[row.file] : null;
    row.bytes = file ? file.bytes : row.params.bytes;
    row.format = file?.format ?? null;
    // Multiline rows join lines into fewer records: their lines and bytes are still checked.
    row.expected = file ? { bytes: file.bytes, lines: file.lines, records: row.params?.multiline ? undefined : file.records } : null;
    const params = file ? { file: file.path, mode: row.mode, workers: row.workers, io: row.io, format: file.format, ...row.params } : row.params;
    // generous: 2 MB/s plus startup; only a hung child reaches it
    const timeoutMs = 60_000 + Math.ceil(row.bytes / 2e6) * 1000;
    row.runs = [];
    for (let rep = 1; rep <= row.reps; rep++) {
      const r = await runChild(row.module, params, timeoutMs);
      done++;
      row.runs.push(r);
      if (r.error) {
        log(`[${done}/${count}] ${row.id}: FAILED: ${r.error}`);
        done += row.reps - rep;
        break;
      }
      log(`[${done}/${count}] ${row.id} rep ${rep}/${row.reps}: ${(row.bytes / r.seconds / 1e6).toFixed(1)} MB/s, ${r.seconds.toFixed(3)} s`);
    }
  }

  const report = printReport({ ...info, rows, files, skipped, notes, elapsedSeconds: (performance.now() - t0) / 1000 });
  if (opts.json) {
    fs.mkdirSync(path.dirname(opts.json), { recursive: true });
    fs.writeFileSync(opts.json, JSON.stringify(report, null, 2) + '\n');
    log(`results written to ${opts.json}`);
  }
}

main().catch((err) => {
  process.stderr.write(`bench: ${err.message}\n`);
  process.exitCode = 1;
});

