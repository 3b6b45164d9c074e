// `npm run bench`: generates the data, runs every logwire scenario and the baselines in one
// run, each measurement in a fresh node process, and prints one table with ratios and the goals.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { DEFAULT_DIR, ensureDataFile, warmFile } from './generate.js';
import { CLI_PATH } from './hooks.js';
import { machine, printReport, sizeText } from './report.js';

const CHILD = fileURLToPath(new URL('child.js', import.meta.url));
const MIB = 1024 * 1024;
// CRC32C alone: larger than any CPU cache, small enough for any wasm memory layout.
const CRC_BUFFER_BYTES = 64 * MIB;

const HELP = `usage: npm run bench -- [options]      (or: node bench/run.js [options])

Generates deterministic log files (reused when present), runs each measurement in a
fresh node process (peak RSS per scenario) and prints one table plus the goals.

  --size MiB        classic file size (default 1024); the logfmt and json files are
                    half of it (default 512 each)
  --rss-size MiB    classic file for the peak-RSS rows (default 2048)
  --reps N          repetitions per measurement, the fastest is kept (default 3)
  --slow-reps N     repetitions of the two readline baselines (default 1: ~1 min per GiB)
  --only LIST       run only the scenarios whose id contains one of the comma-separated,
                    case-insensitive substrings; ids are group/name, groups: core,
                    formats, cli, rss, crc32c, baselines. e.g. --only baselines,
                    --only "classic parse", --only core,crc32c
  --list            print the scenario ids and exit
  --dir DIR         data directory (default bench/data)
  --json FILE       also write all results as JSON to FILE
  --help            this text
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
    reps: whole('reps', 1),
    slowReps: whole('slow-reps', 1),
    only: values.only ? values.only.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean) : null,
    dir: path.resolve(values.dir),
    json: values.json ? path.resolve(values.json) : null,
  };
}

// Every measurement of the run. `file` names a data file (see dataFiles), `needs` what
// of logwire must exist, `ndjson` rows get the JSON baseline ratio.
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
  for (const workers of [1, 2]) {
    add({ group: 'cli', name: 'classic ndjson', label: 'CLI parse --output ndjson >/dev/null', file: 'classic', workers, io: 'default', needs: 'cli', ndjson: true, module: 'scenarios/cli.js' });
  }
  for (const workers of [1, 2]) {
    add({ group: 'rss', name: `classic-${opts.rssSizeMiB}MiB ndjson`, label: `classic ${sizeText(opts.rssSizeMiB)} ndjson`, file: 'rss', mode: 'ndjson', workers, io: 'mmap', needs: 'hooks', ndjson: true });
  }
  add({ group: 'crc32c', name: 'alone', label: `CRC32C alone (${CRC_BUFFER_BYTES / MIB} MiB buffer in wasm)`, file: null, io: 'memory', needs: 'hooks', module: 'scenarios/crc32c.js', params: { bytes: CRC_BUFFER_BYTES } });
  add({ group: 'baselines', name: 'wc -l', file: 'classic', io: 'read', module: 'baselines/wc.js' });
  add({ group: 'baselines', name: 'buffer-indexof', label: 'Buffer.indexOf line count', file: 'classic', io: 'read', module: 'baselines/indexof.js' });
  add({ group: 'baselines', name: 'readline-regex', label: 'readline + regex', file: 'classic', io: 'stream', module: 'baselines/readline-regex.js', reps: opts.slowReps });
  add({ group: 'baselines', name: 'readline-regex-json', label: 'readline + regex + JSON.stringify', file: 'classic', io: 'stream', module: 'baselines/readline-json.js', reps: opts.slowReps, ndjson: true });
  for (const row of rows) {
    row.id = row.group === 'core' || row.group === 'formats' || row.group === 'rss' || row.group === 'cli'
      ? `${row.group}/${row.name} w${row.workers}${row.group === 'cli' ? '' : ` ${row.io}`}`
      : `${row.group}/${row.name}`;
    row.label ??= row.name;
    row.module ??= 'scenarios/core.js';
  }
  return rows;
}

function dataFiles(opts) {
  return {
    classic: { format: 'classic', sizeMiB: opts.sizeMiB },
    logfmt: { format: 'logfmt', sizeMiB: Math.floor(opts.sizeMiB / 2) },
    json: { format: 'json', sizeMiB: Math.floor(opts.sizeMiB / 2) },
    rss: { format: 'classic', sizeMiB: opts.rssSizeMiB },
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

// Does the logwire side exist? Returns { hooks: null | reason, cli: null | reason }.
async function probeLogwire() {
  const missing = {};
  const r = await runChild('hooks.js', {}, 60_000);
  missing.hooks = r.error ?? null;
  missing.cli = fs.existsSync(CLI_PATH) ? null : `${CLI_PATH} not found`;
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

  // logwire side: skip what is not built, say why, and still run the baselines
  const missing = rows.some((row) => row.needs) ? await probeLogwire() : { hooks: null, cli: null };
  const skipped = [];
  rows = rows.filter((row) => {
    const why = row.needs && missing[row.needs];
    if (why) skipped.push({ id: row.id, reason: why });
    return !why;
  });
  for (const kind of ['hooks', 'cli']) {
    const n = skipped.filter((s) => s.reason === missing[kind]).length;
    if (n > 0) {
      const line = `NOT RUN: ${n} logwire scenario(s): ${missing[kind]}`;
      notes.push(line);
      log(line);
    }
  }

  // data: generate or reuse, then read once so that every measurement starts page-cached
  const specs = dataFiles(opts);
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
  rows.sort((a, b) => (a.group === 'baselines' ? 0 : 1) - (b.group === 'baselines' ? 0 : 1));
  const count = rows.reduce((sum, row) => sum + row.reps, 0);
  let done = 0;
  for (const row of rows) {
    const file = row.file ? files[row.file] : null;
    row.bytes = file ? file.bytes : row.params.bytes;
    row.format = file?.format ?? null;
    row.expected = file ? { bytes: file.bytes, lines: file.lines, records: file.records } : null;
    const params = file ? { file: file.path, mode: row.mode, workers: row.workers, io: row.io, format: file.format } : row.params;
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

