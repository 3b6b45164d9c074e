// `npm run bench:service`: `logwire serve` under load, in one run: replay throughput to 1
// and to N subscribers beside `logwire parse > /dev/null`, follow latency at steady write
// rates, and peak RSS while one subscriber never reads. The service runs in its own
// process (a fresh one per measurement), the clients and the writer in others.

import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { DEFAULT_DIR, ensureDataFile, warmFile } from './generate.js';
import { CLI_PATH, ROOT } from './hooks.js';
import { machine, sizeText } from './report.js';
import { cleanup, dropTempDir, Kid, machineBusySeconds, makeTempDir, procMemory, runParse, startService } from './service/procs.js';
import { checksText, fmtCount, followText, goalsText, memoryText, replayText } from './service/report.js';

const MIB = 1024 * 1024;
const SECTIONS = ['replay', 'latency', 'memory'];
// A replay that delivers nothing for this long is reported as hung.
const IDLE_MS = 30_000;
const SAMPLE_MS = 200;
const FOLLOW_GRACE_MS = 10_000;
// The memory run holds a subscriber that never answers pings: keep it connected throughout.
const MEMORY_PING_MS = 3_600_000;

const GOAL_RECORDS_PER_SEC = 1_000_000;
const GOAL_X_PARSE = 0.4;
const GOAL_P99_MS = 8;
const GOAL_P99_RATE = 100_000;
const GOAL_RSS_MB = 400;

const HELP = `usage: npm run bench:service -- [options]      (or: node bench/service.js [options])

Runs logwire serve in its own process (a fresh one per measurement) with clients in
another, and prints a table per section and the goals with PASS/FAIL:
  replay   records/s of a replay from "start" to 1 and to N subscribers, and of
           logwire parse FILE --output ndjson > /dev/null on the same file
  latency  one live subscriber while a writer appends at each rate: the service's
           end-to-end and the writer->client latency percentiles
  memory   peak RSS of the service while N subscribers replay, one never reading

  --quick           a quick run: --size 128 --seconds 3 (flags given as well win)
  --size MiB        classic file to replay (default 1024; bench/data, reused)
  --seconds N       writing time per rate (default 10)
  --rates LIST      writer rates in lines/s (default 10000,100000)
  --subscribers N   subscribers of the fan-out and memory runs (default 8)
  --reps N          runs of each replay measurement, the fastest kept (default 1);
                    the parse baseline runs max(N, 3) times
  --workers N       --workers for both logwire serve and logwire parse (default:
                    theirs, one per core)
  --serve-args S    more flags for logwire serve, e.g. "--batch-bytes 1048576"
  --only LIST       sections to run, comma-separated: ${SECTIONS.join(', ')}
  --dir DIR         data directory (default bench/data)
  --json FILE       also write the results as JSON to FILE
  --help            this text
`;

function log(line) {
  process.stderr.write(`${line}\n`);
}

function out(text) {
  process.stdout.write(`${text}\n`);
}

function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      size: { type: 'string' },
      seconds: { type: 'string' },
      rates: { type: 'string', default: '10000,100000' },
      subscribers: { type: 'string', default: '8' },
      reps: { type: 'string', default: '1' },
      workers: { type: 'string' },
      'serve-args': { type: 'string', default: '' },
      only: { type: 'string' },
      dir: { type: 'string', default: DEFAULT_DIR },
      json: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  const whole = (name, text, min) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be a whole number >= ${min}, got ${JSON.stringify(text)} (see --help)`);
    return n;
  };
  const only = values.only ? values.only.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean) : SECTIONS;
  for (const s of only) if (!SECTIONS.includes(s)) throw new Error(`--only takes ${SECTIONS.join(', ')}; got ${JSON.stringify(s)} (see --help)`);
  const serveArgs = values['serve-args'].split(/\s+/).filter(Boolean);
  return {
    help: values.help,
    quick: values.quick,
    sizeMiB: whole('size', values.size ?? (values.quick ? '128' : '1024'), 2),
    seconds: whole('seconds', values.seconds ?? (values.quick ? '3' : '10'), 1),
    rates: values.rates.split(',').map((r) => whole('rates', r.trim(), 1)),
    subscribers: whole('subscribers', values.subscribers, 2),
    reps: whole('reps', values.reps, 1),
    workers: values.workers === undefined ? null : whole('workers', values.workers, 1),
    serveArgs,
    only,
    dir: path.resolve(values.dir),
    json: values.json ? path.resolve(values.json) : null,
  };
}

/** Share of the machine's CPU time (all cores) spent busy during the next `ms`. */
async function cpuBusy(ms) {
  const read = () => {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    return { idle: f[3] + (f[4] ?? 0), total: f.reduce((a, b) => a + b, 0) };
  };
  try {
    const a = read();
    await new Promise((r) => setTimeout(r, ms));
    const b = read();
    return b.total > a.total ? 1 - (b.idle - a.idle) / (b.total - a.total) : null;
  } catch {
    return null; // not Linux
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * CPU use over one measurement, in % of one core: the service's, and every other
 * process's but the benchmark's own (the runner and the helpers whose CPU ms are given).
 */
function cpuMeter(svc) {
  const t0 = performance.now();
  const machine0 = machineBusySeconds();
  const service0 = svc.cpuSeconds();
  const self0 = process.cpuUsage();
  return (helpersMs) => {
    const wall = (performance.now() - t0) / 1000;
    const machine1 = machineBusySeconds();
    const service1 = svc.cpuSeconds();
    const self = process.cpuUsage(self0);
    const service = service0 != null && service1 != null ? service1 - service0 : null;
    const others = machine0 != null && machine1 != null && service !== null
      ? machine1 - machine0 - service - helpersMs / 1000 - (self.user + self.system) / 1e6
      : null;
    return {
      serviceCpuPct: service === null ? null : (service / wall) * 100,
      helpersCpuPct: (helpersMs / 1000 / wall) * 100,
      othersCpuPct: others === null ? null : (Math.max(0, others) / wall) * 100,
    };
  };
}

function serveArgs(opts, extra = []) {
  return [...(opts.workers ? ['--workers', String(opts.workers)] : []), ...opts.serveArgs, ...extra];
}

/** Logs a progress line about every 5 s from the client's progress messages. */
function progressLogger(label, t0) {
  let next = 5000;
  return (m) => {
    const ms = performance.now() - t0;
    if (ms < next) return;
    next = ms + 5000;
    log(`  ${label}: ${fmtCount(m.records)} records after ${(ms / 1000).toFixed(0)} s (${fmtCount(m.records / (ms / 1000))}/s)`);
  };
}

// ---- section 1: replay throughput -------------------------------------------------------

async function measureParse(opts, data) {
  const reps = Math.max(3, opts.reps);
  const row = { kind: 'parse', label: 'logwire parse --output ndjson >/dev/null', ok: false, problems: [], runs: [] };
  for (let i = 1; i <= reps; i++) {
    try {
      const r = await runParse(data.path, opts.workers);
      row.runs.push(r);
      log(`  parse rep ${i}/${reps}: ${r.seconds.toFixed(2)} s, ${fmtCount(data.records / r.seconds)} records/s`);
    } catch (err) {
      row.problems.push(err.message);
      log(`  parse rep ${i}/${reps}: FAILED: ${err.message}`);
      break;
    }
  }
  if (row.runs.length === 0) return row;
  const best = row.runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  return {
    ...row, ok: true, records: data.records, seconds: best.seconds, recordsPerSec: data.records / best.seconds,
    mbPerSec: data.bytes / best.seconds / 1e6, peakRss: Math.max(...row.runs.map((r) => r.maxRss ?? 0)) || null,
  };
}

/**
 * One replay from "start" to `subs` subscribers (of which `stalled` never read), on a
 * fresh service. Returns the client's results and the service's figures.
 */
async function replayOnce(opts, data, { readers, stalled = 0, label, extraArgs = [], onDone }) {
  const svc = await startService({ name: 'bench', file: data.path, args: serveArgs(opts, extraArgs), sampleMs: SAMPLE_MS });
  const client = new Kid('client.js', 'client');
  const subs = [
    ...Array.from({ length: stalled }, (_, i) => ({ id: `stalled-${i + 1}`, from: 'start', stall: true })),
    ...Array.from({ length: readers }, (_, i) => ({ id: `reader-${i + 1}`, from: 'start' })),
  ];
  // Generous: only a service far below its goals reaches it; a hang is caught sooner (IDLE_MS).
  const capMs = Math.max(300_000, (readers * data.records) / 200_000 * 1000);
  const res = { command: svc.command, problems: [] };
  try {
    const t0 = performance.now();
    client.onProgress = progressLogger(label, t0);
    const cpu = cpuMeter(svc);
    client.send({ cmd: 'start', url: svc.wsUrl, source: 'bench', mode: 'replay', subs, idleMs: IDLE_MS });
    const done = await client.wait('done', capMs);
    res.atDone = procMemory(svc.pid);
    const c = cpu(done.cpuMs);
    res.serviceCpuPct = c.serviceCpuPct;
    res.clientCpuPct = c.helpersCpuPct;
    res.othersCpuPct = c.othersCpuPct;
    res.client = done;
    if (done.hung) res.problems.push(`no frame for ${IDLE_MS / 1000} s: the replay looks hung (service ${svc.alive() ? 'still running' : 'gone'})`);
    if (onDone) await onDone(svc, done, res);
  } catch (err) {
    res.problems.push(err.message);
  } finally {
    client.kill();
    const end = await svc.stop();
    res.peakRss = res.atDone ? Math.max(res.atDone.hwm, end.maxSampledRss) : end.peakRss;
    res.maxSampledRss = end.maxSampledRss;
    res.samples = svc.samples;
    res.problems.push(...end.problems);
  }
  return res;
}

/** Problems with what the readers got: every record of the file, caught up, no errors. */
function readerProblems(subs, expected) {
  const problems = [];
  for (const s of subs.filter((x) => !x.stall)) {
    const what = [];
    if (s.records !== expected) what.push(`${s.records} records, the file has ${expected}`);
    if (!s.caughtUp) what.push('never caught up');
    if (s.failed) what.push(`failed: ${s.failed}`);
    if (s.closed) what.push(`connection closed by the service: code ${s.closed.code} ${s.closed.reason}`.trim());
    if (s.gaps) what.push(`${s.gaps} gap frame(s)`);
    if (s.errors.length) what.push(`errors: ${s.errors.slice(0, 3).join('; ')}`);
    if (what.length) problems.push(`${s.id}: ${what.join(', ')}`);
  }
  return problems;
}

async function measureReplay(opts, data, readers) {
  const label = readers === 1 ? 'service, 1 subscriber' : `service, ${readers} subscribers`;
  const row = { kind: 'replay', label, subscribers: readers, ok: false, problems: [], runs: [] };
  for (let i = 1; i <= opts.reps; i++) {
    log(`  ${label}, rep ${i}/${opts.reps} ...`);
    const r = await replayOnce(opts, data, { readers, label });
    row.command = r.command;
    const subs = r.client?.subs ?? [];
    const problems = [...r.problems, ...(r.client ? readerProblems(subs, data.records) : [])];
    const caught = subs.filter((s) => s.caughtUp);
    if (caught.length === readers) {
      const t0 = Math.min(...subs.map((s) => s.tSubscribe));
      const t1 = Math.max(...subs.map((s) => s.tCaughtUp));
      const records = subs.reduce((n, s) => n + s.records, 0);
      const seconds = (t1 - t0) / 1000;
      const per = subs.map((s) => s.records / s.seconds);
      row.runs.push({
        seconds, records, recordsPerSec: records / seconds, mbPerSec: (readers * data.bytes) / seconds / 1e6,
        perSub: readers > 1 ? { min: Math.min(...per), median: median(per), max: Math.max(...per) } : null,
        peakRss: r.peakRss, serviceCpuPct: r.serviceCpuPct, clientCpuPct: r.clientCpuPct, othersCpuPct: r.othersCpuPct, problems,
      });
      log(`  ${label}, rep ${i}/${opts.reps}: ${seconds.toFixed(2)} s, ${fmtCount(records / seconds)} records/s${problems.length ? ` (! ${problems.length} problem(s))` : ''}`);
    } else {
      log(`  ${label}, rep ${i}/${opts.reps}: FAILED: ${problems.join('; ') || 'not every subscriber caught up'}`);
    }
    row.problems.push(...problems.map((p) => `rep ${i}: ${p}`));
    if (caught.length !== readers) break;
  }
  if (row.runs.length === 0) return row;
  const best = row.runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  return { ...row, ...best, problems: row.problems, ok: true };
}

async function replaySection(opts, data) {
  const rows = [];
  log('replay: logwire parse baseline ...');
  rows.push(await measureParse(opts, data));
  log('replay: 1 subscriber ...');
  rows.push(await measureReplay(opts, data, 1));
  log(`replay: ${opts.subscribers} subscribers ...`);
  rows.push(await measureReplay(opts, data, opts.subscribers));
  return { rows };
}

// ---- section 2: follow latency ----------------------------------------------------------

async function followOnce(opts, rate) {
  const row = { rate, ok: false, problems: [] };
  const dir = makeTempDir();
  const file = path.join(dir, 'follow.log');
  fs.writeFileSync(file, '');
  let svc = null;
  let client = null;
  let writer = null;
  try {
    svc = await startService({ name: 'follow', file, args: serveArgs(opts), sampleMs: SAMPLE_MS });
    row.command = svc.command;
    client = new Kid('client.js', 'client');
    client.send({ cmd: 'start', url: svc.wsUrl, source: 'follow', mode: 'live', subs: [{ id: 'live', from: 'end' }], idleMs: opts.seconds * 1000 + 60_000 });
    await client.wait('ready', 30_000);
    const cpu = cpuMeter(svc);
    writer = new Kid('writer.js', 'writer');
    writer.send({ file, rate, seconds: opts.seconds });
    const w = await writer.wait('done', opts.seconds * 1000 + 60_000);
    row.written = w.lines;
    row.achieved = w.rate;
    row.writerMaxLateMs = w.maxLateMs;
    client.send({ cmd: 'expect', lines: w.lines, graceMs: FOLLOW_GRACE_MS });
    const c = await client.wait('done', FOLLOW_GRACE_MS + 30_000);
    const used = cpu(c.cpuMs + w.cpuMs);
    row.serviceCpuPct = used.serviceCpuPct;
    row.othersCpuPct = used.othersCpuPct;
    const sub = c.subs[0];
    row.delivered = sub.records;
    row.client = c.latency.client;
    row.clientFrames = c.latency.clientFrames;
    row.order = c.latency.order;
    const stats = await svc.stats();
    row.e2e = stats.latency?.e2e ?? null;
    if (!row.e2e) row.problems.push('GET /stats has no latency.e2e');
    if (sub.records !== w.lines) row.problems.push(`${w.lines} lines written, ${sub.records} delivered${sub.records < w.lines ? ` (waited ${FOLLOW_GRACE_MS / 1000} s after the writer stopped)` : ''}`);
    const o = row.order;
    if (o.missing || o.repeated || o.countMismatch) row.problems.push(`order: ${o.missing} line(s) skipped, ${o.repeated} repeated or out of order, ${o.countMismatch} frame(s) whose "count" differs from their records`);
    if (sub.failed || sub.closed || sub.gaps || sub.errors.length) row.problems.push(`subscriber: ${[sub.failed, sub.closed && `closed ${sub.closed.code}`, sub.gaps && `${sub.gaps} gaps`, ...sub.errors].filter(Boolean).join('; ')}`);
    if (w.rate < rate * 0.97) row.problems.push(`the writer reached only ${fmtCount(w.rate)} lines/s of ${fmtCount(rate)}`);
    row.ok = true;
  } catch (err) {
    row.problems.push(err.message);
  } finally {
    writer?.kill();
    client?.kill();
    if (svc) {
      const end = await svc.stop();
      row.peakRss = end.peakRss;
      row.problems.push(...end.problems);
    }
    dropTempDir(dir);
  }
  return row;
}

async function latencySection(opts) {
  const rows = [];
  for (const rate of opts.rates) {
    log(`latency: ${fmtCount(rate)} lines/s for ${opts.seconds} s ...`);
    const r = await followOnce(opts, rate);
    const p = (l) => (l ? `p50 ${l.p50.toFixed(2)} ms, p99 ${l.p99.toFixed(2)} ms` : '-');
    log(`  ${fmtCount(rate)} lines/s: service e2e ${p(r.e2e)}; writer->client ${p(r.client)}${r.problems.length ? `; ! ${r.problems.join('; ')}` : ''}`);
    rows.push(r);
  }
  return { rows, seconds: opts.seconds };
}

// ---- section 3: memory with a subscriber that never reads ------------------------------

async function memorySection(opts, data) {
  const readers = opts.subscribers - 1;
  const userPing = opts.serveArgs.includes('--ping-ms');
  log(`memory: ${readers} readers + 1 that never reads ...`);
  const row = { readers, ok: false, problems: [] };
  const r = await replayOnce(opts, data, {
    readers,
    stalled: 1,
    label: 'memory',
    extraArgs: userPing ? [] : ['--ping-ms', String(MEMORY_PING_MS)],
    onDone: async (svc) => {
      try {
        const stats = await svc.stats();
        const s = stats.subscribers?.find((x) => x.id === 'stalled-1');
        if (s) row.stalled = { queueBytes: s.queueBytes, lagBytes: s.lagBytes, records: s.records };
        else row.problems.push('GET /stats does not list the stalled subscriber any more (disconnected?)');
        row.statsRss = stats.memory?.rss ?? null;
      } catch (err) {
        row.problems.push(`GET /stats at the end: ${err.message}`);
      }
    },
  });
  const subs = r.client?.subs ?? [];
  const readerSubs = subs.filter((s) => !s.stall);
  row.command = r.command;
  row.problems.push(...r.problems, ...(r.client ? readerProblems(subs, data.records) : []));
  row.peakRss = r.peakRss;
  row.maxSampledRss = r.maxSampledRss;
  row.samples = r.samples;
  row.serviceCpuPct = r.serviceCpuPct;
  row.othersCpuPct = r.othersCpuPct;
  if (readerSubs.length === readers && readerSubs.every((s) => s.caughtUp)) {
    row.ok = true;
    row.seconds = (Math.max(...readerSubs.map((s) => s.tCaughtUp)) - Math.min(...subs.map((s) => s.tSubscribe))) / 1000;
    row.recordsPerReader = Math.min(...readerSubs.map((s) => s.records));
  }
  log(`  memory: peak RSS ${row.peakRss ? (row.peakRss / 1e6).toFixed(0) : '-'} MB${row.problems.length ? `; ! ${row.problems.join('; ')}` : ''}`);
  return { row, sampleMs: SAMPLE_MS, pingNote: userPing ? 'the --ping-ms given in --serve-args' : `--ping-ms ${MEMORY_PING_MS} (the never-reading client answers no ping: it stays connected throughout)` };
}

// ---- goals, checks, the BENCHMARKS.md block ---------------------------------------------

function goals(res) {
  const parse = res.replay?.rows.find((r) => r.kind === 'parse');
  const one = res.replay?.rows.find((r) => r.kind === 'replay' && r.subscribers === 1);
  const at100k = res.latency?.rows.find((r) => r.rate === GOAL_P99_RATE);
  const mem = res.memory?.row;
  const goal = (text, measured, op, target, unit, missing) => ({
    text, measured: measured ?? null, target, unit, pass: measured == null ? null : op === '>=' ? measured >= target : op === '<=' ? measured <= target : measured < target,
    note: measured == null ? missing : undefined,
  });
  const why = (row, section) => (!res[section] ? `not run (--only)` : !row ? 'not measured' : row.ok ? 'not measured' : `failed: ${row.problems[0] ?? 'see above'}`);
  return [
    goal(`replay to 1 subscriber >= ${fmtCount(GOAL_RECORDS_PER_SEC)} records/s`, one?.ok ? one.recordsPerSec : null, '>=', GOAL_RECORDS_PER_SEC, 'records/s', why(one, 'replay')),
    goal(`replay to 1 subscriber >= ${GOAL_X_PARSE} x parse --output ndjson >/dev/null (records/s)`, one?.ok && parse?.ok ? one.recordsPerSec / parse.recordsPerSec : null, '>=', GOAL_X_PARSE, 'x', one?.ok ? why(parse, 'replay') : why(one, 'replay')),
    goal(`follow at ${fmtCount(GOAL_P99_RATE)} lines/s: service end-to-end p99 <= ${GOAL_P99_MS} ms`, at100k?.e2e?.p99, '<=', GOAL_P99_MS, 'ms', !res.latency ? 'not run (--only)' : !at100k ? `${fmtCount(GOAL_P99_RATE)} lines/s is not in --rates` : `failed: ${at100k.problems[0] ?? 'see above'}`),
    goal(`peak RSS < ${GOAL_RSS_MB} MB, ${mem ? mem.readers + 1 : '?'} subscribers replaying, 1 never reading`, mem?.peakRss ? mem.peakRss / 1e6 : null, '<', GOAL_RSS_MB, 'MB', why(mem, 'memory')),
  ];
}

function checks(res, data) {
  const list = [];
  for (const r of res.replay?.rows ?? []) {
    if (r.kind !== 'replay') continue;
    list.push({ text: `${r.label}: each got all ${fmtCount(data.records)} records, caught up, no error frame`, ok: r.ok && r.problems.length === 0, detail: r.problems.slice(0, 3).join('; ') });
  }
  for (const r of res.latency?.rows ?? []) {
    list.push({ text: `follow at ${fmtCount(r.rate)} lines/s: every written line delivered once, in order`, ok: r.ok && r.problems.length === 0, detail: r.problems.slice(0, 3).join('; ') });
  }
  if (res.memory) {
    const m = res.memory.row;
    list.push({ text: `memory run: each of the ${m.readers} readers got all ${fmtCount(data.records)} records; the stalled one stayed connected`, ok: m.ok && m.problems.length === 0, detail: m.problems.slice(0, 3).join('; ') });
  }
  return list;
}

function pasteBlock(info, sectionsText, goalsBlock, opts) {
  const m = info.machine;
  const flags = [opts.quick ? '--quick' : null, opts.sizeMiB !== (opts.quick ? 128 : 1024) ? `--size ${opts.sizeMiB}` : null].filter(Boolean).join(' ');
  return [
    '## Service',
    '',
    `The latest figures, from one run of \`npm run bench:service${flags ? ` -- ${flags}` : ''}\`.`,
    '',
    `- **When**: ${info.date.slice(0, 10)}.`,
    `- **Machine**: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}, Node.js ${m.node}${info.busyBefore != null ? `; CPUs ${(info.busyBefore * 100).toFixed(0)}% busy just before the start` : ''}.`,
    `- **Data**: ${info.dataText}, generated by \`bench/generate.js\` and page-cached.`,
    '- **How**: `logwire serve` in its own process (a fresh one per measurement, default knobs unless noted), the',
    '  WebSocket clients in another (ws), the writer in a third; `records` frames counted from their head.',
    `- **Rerun**: \`npm run bench:service\` (\`-- --quick\`: a 128 MiB file and 3 s per rate; \`-- --help\` for options).`,
    '',
    '```',
    ...sectionsText,
    '',
    'Goals:',
    goalsBlock,
    '```',
  ].join('\n');
}

async function main() {
  const opts = parseOptions(process.argv.slice(2));
  if (opts.help) {
    process.stdout.write(HELP);
    return;
  }
  const built = path.join(ROOT, 'build/js/src/cli/main.js');
  if (!fs.existsSync(CLI_PATH) || !fs.existsSync(built)) throw new Error(`${built} not found: build first (node scripts/build.js ts, or npm install)`);
  const t0 = performance.now();
  const info = { date: new Date().toISOString(), machine: machine(), options: { ...opts, help: undefined } };
  out(`logwire service benchmarks, ${info.date}`);
  out(`machine: ${info.machine.cpu}, ${info.machine.cores} cores, ${info.machine.memoryGiB} GiB RAM, ${info.machine.os}, Node ${info.machine.node}`);
  const busy = await cpuBusy(1000);
  info.busyBefore = busy;
  if (busy !== null && busy > 0.1) out(`note: the CPUs were ${(busy * 100).toFixed(0)}% busy in the second before the start: something else is running; figures will be noisy`);

  const needsData = opts.only.includes('replay') || opts.only.includes('memory');
  let data = null;
  if (needsData) {
    log(`data: classic ${sizeText(opts.sizeMiB)} in ${opts.dir} ...`);
    data = ensureDataFile(opts.dir, 'classic', opts.sizeMiB);
    log(`data: ${data.path}: ${data.lines} lines, ${data.records} records (${data.generated ? `generated in ${data.seconds.toFixed(1)} s` : 'reused'})`);
    const w0 = performance.now();
    warmFile(data.path);
    log(`warm: read ${path.basename(data.path)} in ${((performance.now() - w0) / 1000).toFixed(1)} s`);
    info.dataText = `classic ${sizeText(opts.sizeMiB)} file (${fmtCount(data.records)} records, ${data.avgLineBytes} bytes/line)`;
    out(`data: ${data.path}, ${data.bytes / MIB} MiB, ${data.lines} lines, ${data.records} records, ${data.avgLineBytes} bytes/line avg`);
  } else {
    info.dataText = 'no replay data (--only)';
  }
  out(`service: node bin/logwire.js serve --source NAME=FILE,format=classic --port 0${serveArgs(opts).length ? ` ${serveArgs(opts).join(' ')}` : ''}`);
  out('');

  const res = {};
  const texts = [];
  const section = (text) => {
    texts.push(text, '');
    out(text);
    out('');
  };
  if (opts.only.includes('replay')) {
    res.replay = await replaySection(opts, data);
    section(replayText({ ...res.replay, dataText: info.dataText }));
  }
  if (opts.only.includes('latency')) {
    res.latency = await latencySection(opts);
    section(followText(res.latency));
  }
  if (opts.only.includes('memory')) {
    res.memory = await memorySection(opts, data);
    section(memoryText({ ...res.memory, dataText: info.dataText }));
  }

  const problems = [
    ...(res.replay?.rows ?? []).flatMap((r) => r.problems.map((p) => `${r.label}: ${p}`)),
    ...(res.latency?.rows ?? []).flatMap((r) => r.problems.map((p) => `follow ${fmtCount(r.rate)} lines/s: ${p}`)),
    ...(res.memory?.row.problems ?? []).map((p) => `memory: ${p}`),
  ];
  const goalList = goals(res);
  const checkList = checks(res, data ?? { records: 0 });
  const goalsBlock = goalsText(goalList);
  out('Summary');
  out('Goals:');
  out(goalsBlock);
  out('Checks:');
  out(checksText(checkList));
  if (problems.length) {
    out('Problems seen:');
    for (const p of problems) out(`  ! ${p}`);
  }
  out('');
  out(`total time ${((performance.now() - t0) / 60000).toFixed(1)} min`);
  out('');
  out('For BENCHMARKS.md:');
  out('');
  out(pasteBlock(info, texts.slice(0, -1), goalsBlock, opts));

  if (opts.json) {
    fs.mkdirSync(path.dirname(opts.json), { recursive: true });
    fs.writeFileSync(opts.json, JSON.stringify({ ...info, data, results: res, goals: goalList, checks: checkList, problems }, null, 2) + '\n');
    log(`results written to ${opts.json}`);
  }
}

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log(`bench: ${signal}: stopping every child process`);
    cleanup().finally(() => process.exit(130));
  });
}

main()
  .catch((err) => {
    process.stderr.write(`bench: ${err.message}\n`);
    process.exitCode = 1;
  })
  .finally(() => cleanup(1000));
