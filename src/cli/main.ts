// The logwire command line: `logwire parse` (files or stdin to NDJSON) and
// `logwire demo`. A user's mistake is one line on stderr and exit code 2.
import { closeSync, fstatSync, openSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { build as buildHistogram } from 'hdr-histogram-js';
import { parseFile, parseStream, type ParseRun } from '../index.js';
import { ErrorCodes, LogwireError, createError, ioError } from '../errors.js';
import { DEFAULTS, resolveOptions } from '../options.js';
import { WorkerPool } from '../pool/pool.js';
import { resolveIo } from '../io/window.js';
import { parseFlags } from './args.js';
import { ParseCheckpoint } from './checkpoint.js';
import type { RecordBatch } from '../batch.js';
import { runReport } from './report.js';
import { runServe, runServiceDemo } from './serve.js';
import { runTail } from './tail.js';
import { Progress } from './progress.js';

const HELP = `logwire: parse log files at memory speed

Usage:
  logwire parse FILE... [options]    parse files (or - for stdin) into NDJSON on stdout
  logwire serve --source NAME=GLOB   follow files, stream records over WebSocket (serve --help)
  logwire demo                       the service on a live demo log (what npm start runs)
  logwire demo --parse               generate a demo log and parse it
  logwire tail URL SOURCE [options]  subscribe to a service and print NDJSON (tail --help)
  logwire report URL|FILE.hlog       latency interval log and percentile plot (report --help)
  logwire --help | --version

Options for parse:
  --format F          auto (default), classic, logfmt, json, clf, combined,
                      apache_error, syslog, or pattern:PATTERN
                      (dissect-style, e.g. 'pattern:%{@ts:%Y-%m-%d %H:%M:%S} %{@level} %{@msg}';
                      see docs/patterns.md)
  --tz ZONE           zone for timestamps without an offset: UTC (default),
                      an offset like +05:30, or an IANA name like Europe/Berlin
  --workers N         worker threads for files (default: one per core, ${availableParallelism()} here)
  --io MODE           mmap (default where the native addon loaded) or pread
  --output O          ndjson (default) or none (parse only, print nothing)
  --max-record-bytes N  longest line parsed in full (default ${DEFAULTS.maxRecordBytes});
                      longer lines give one record with "truncated":true
  --level-raw         add "levelRaw" (the level as written) to every record
  --multiline RULE    join continuation lines into the record before them:
                      indent (lines starting with a space or tab, or "Caused by:",
                      continue a record), timestamp (lines not starting with a
                      timestamp do), or pattern:PATTERN (a record starts at a line
                      the pattern matches from its start); see docs/records.md
  --multiline-max-lines N  lines kept in a record's text (default ${DEFAULTS.multilineMaxLines});
                      later ones still count in its len and crc ("truncated":true)
  --multiline-max-bytes N  bytes kept in a record's text (default: --max-record-bytes)
  --checkpoint FILE   keep each file's position in FILE (a write-ahead log) and
                      go on from there next time: a killed parse loses nothing;
                      records after the last checkpoint may print again
  --checkpoint-ms N   commit (fsync) the checkpoint every N ms (default 200)
  --stats             print bytes, records, MB/s, records/s, the file's CRC32C
                      and per-batch parse latency percentiles to stderr
  -h, --help          this help

A progress bar goes to stderr when it is a terminal and a file is 64 MiB or more.

Records are one JSON object per line (see docs/records.md):
  {"file":"app.log","offset":0,"line":1,"len":97,"crc":2204343810,
   "ts":"2024-05-01T00:00:00.007Z","level":"info","msg":"…","fields":{"user":"u0"}}

Exit codes: 0 done, 1 internal error, 2 usage error or unreadable input.
`;

function usage(message: string): never {
  throw createError(ErrorCodes.USAGE, message);
}

interface ParseCli {
  files: string[];
  format: string;
  tz: string;
  workers: number | undefined;
  io: 'mmap' | 'pread' | undefined;
  output: 'ndjson' | 'none';
  maxRecordBytes: number | undefined;
  levelRaw: boolean;
  stats: boolean;
  checkpoint: string | undefined;
  checkpointMs: number | undefined;
  multiline: string | undefined;
  multilineMaxLines: number | undefined;
  multilineMaxBytes: number | undefined;
}

function intOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) usage(`--${name} must be a positive integer; got ${JSON.stringify(value)}`);
  return Number(value);
}

function parseParseArgs(args: string[]): ParseCli {
  const parsed = parseFlags(args, {
      format: { type: 'string', default: 'auto' },
      tz: { type: 'string', default: 'UTC' },
      workers: { type: 'string' },
      io: { type: 'string' },
      output: { type: 'string', default: 'ndjson' },
      'max-record-bytes': { type: 'string' },
      'level-raw': { type: 'boolean', default: false },
      stats: { type: 'boolean', default: false },
      checkpoint: { type: 'string' },
      'checkpoint-ms': { type: 'string' },
      multiline: { type: 'string' },
      'multiline-max-lines': { type: 'string' },
      'multiline-max-bytes': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
  }, 'logwire --help');
  const v = parsed.values;
  if (v.help) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  if (parsed.positionals.length === 0) usage('parse needs at least one FILE (or - for stdin); see logwire --help');
  if (v.output !== 'ndjson' && v.output !== 'none') usage(`--output must be ndjson or none; got ${JSON.stringify(v.output)}`);
  if (v.checkpoint !== undefined && parsed.positionals.includes('-')) usage('--checkpoint needs files: stdin (-) has no position to go back to');
  if (v.multiline === undefined && (v['multiline-max-lines'] !== undefined || v['multiline-max-bytes'] !== undefined)) {
    usage('--multiline-max-lines and --multiline-max-bytes go with --multiline RULE');
  }
  if (v.io !== undefined && v.io !== 'mmap' && v.io !== 'pread') usage(`--io must be mmap or pread; got ${JSON.stringify(v.io)}`);
  return {
    files: parsed.positionals,
    format: v.format!,
    tz: v.tz!,
    workers: intOption('workers', v.workers),
    io: v.io as 'mmap' | 'pread' | undefined,
    output: v.output,
    maxRecordBytes: intOption('max-record-bytes', v['max-record-bytes']),
    levelRaw: v['level-raw']!,
    stats: v.stats!,
    checkpoint: v.checkpoint,
    checkpointMs: intOption('checkpoint-ms', v['checkpoint-ms']),
    multiline: v.multiline,
    multilineMaxLines: intOption('multiline-max-lines', v['multiline-max-lines']),
    multilineMaxBytes: intOption('multiline-max-bytes', v['multiline-max-bytes']),
  };
}

const FLAGS: Record<string, string> = {
  format: '--format', tz: '--tz', workers: '--workers', io: '--io', maxRecordBytes: '--max-record-bytes',
  multiline: '--multiline', 'multiline.start': '--multiline', 'multiline.maxLines': '--multiline-max-lines', 'multiline.maxBytes': '--multiline-max-bytes',
};

/** Library option names in a message, as the command-line flags. */
function flagNames(message: string): string {
  return message.replace(/option "([\w.]+)"/g, (m, name: string) => (FLAGS[name] ? FLAGS[name] : m)).replace('to maxRecordBytes', 'to --max-record-bytes');
}

/**
 * Write to stdout and wait until node has handed the bytes to the system: the
 * batch's buffer goes back to its worker for reuse once the next batch is asked
 * for, and a pipe or socket that is full queues a write (even one that returns
 * true) by reference. A write error is stdout's 'error' handler's (see main).
 */
function writeOut(buf: Uint8Array): Promise<void> {
  return new Promise((resolve) => { process.stdout.write(buf, () => resolve()); });
}

async function parseCommand(args: string[]): Promise<void> {
  const cli = parseParseArgs(args);
  const options = {
    format: cli.format as 'auto',
    tz: cli.tz,
    workers: cli.workers,
    io: cli.io,
    maxRecordBytes: cli.maxRecordBytes,
    levelRaw: cli.levelRaw,
    multiline: cli.multiline === undefined ? undefined : { start: cli.multiline as 'indent', maxLines: cli.multilineMaxLines, maxBytes: cli.multilineMaxBytes },
  };
  // Option errors before file errors, named as the flags the user typed.
  try {
    resolveOptions({ ...options, workers: options.workers ?? 1 });
    if (cli.files.some((f) => f !== '-')) resolveIo(cli.io);
  } catch (err) {
    if (err instanceof LogwireError) throw createError(err.code, flagNames(err.message));
    throw err;
  }
  // Check every file before printing anything: a typo in the third file should not
  // cost the output of the first two.
  for (const f of cli.files) {
    if (f === '-') continue;
    try {
      // Opened, not only stat'ed: an unreadable file is found here too.
      if (statSync(f).isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
      closeSync(openSync(f, 'r'));
    } catch (err) {
      throw ioError(f, err);
    }
  }
  const mode = cli.output === 'none' ? 'parse' : 'ndjson';
  const workers = cli.workers ?? availableParallelism();
  let pool: WorkerPool | null = null;
  const totals = { bytes: 0, records: 0 };
  const hist = buildHistogram({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });
  const crcs: string[] = [];
  const t0 = performance.now();
  const checkpoint = cli.checkpoint === undefined ? null : new ParseCheckpoint(cli.checkpoint, cli.checkpointMs, (line) => process.stderr.write(`logwire: ${line}\n`));
  /** Print one run's batches (then `written` for each), and add up its stats. */
  const printRun = async (run: ParseRun, f: string, size: number, written?: (batch: RecordBatch) => void): Promise<void> => {
    const progress = new Progress(f, size);
    for await (const batch of run) {
      if (mode === 'ndjson' && batch.ndjson.length) await writeOut(batch.ndjson);
      written?.(batch);
      progress.update(batch.through);
    }
    progress.finish();
    if (run.stats.shrunkTo !== null) {
      process.stderr.write(`logwire: warning: ${f} shrank while it was read; records at or after byte ${run.stats.shrunkTo} were not read\n`);
    }
    for (const ms of run.stats.batchMs) hist.recordValue(Math.max(1, Math.round(ms * 1000)));
    totals.bytes += run.stats.bytes;
    totals.records += run.stats.records;
    if (run.stats.crc !== null) crcs.push(`${f}: crc32c ${run.stats.crc} (0x${run.stats.crc.toString(16).padStart(8, '0')})`);
  };
  try {
    for (const f of cli.files) {
      if (f === '-') {
        await printRun(parseStream(process.stdin, { ...options, fileName: '-' }, { fileCrc: cli.stats }), f, 0);
        continue;
      }
      if (!pool || pool.isClosed) {
        pool = new WorkerPool(workers, { maxRecordBytes: cli.maxRecordBytes ?? DEFAULTS.maxRecordBytes, windowBytes: DEFAULTS.windowBytes, inflightBytes: DEFAULTS.inflightBytes });
      }
      if (!checkpoint) {
        await printRun(parseFile(f, options, { mode, pool, fileCrc: cli.stats, recycle: true }), f, statSync(f).size);
        continue;
      }
      for (const planned of checkpoint.plan(f)) {
        // Through the planned descriptor: the file the checkpoint speaks of, even if it is rotated meanwhile.
        const run = parseFile(`/proc/self/fd/${planned.fd}`, { ...options, fileName: planned.path }, { mode, pool, fileCrc: cli.stats, recycle: true, start: planned.start, wholeLines: true });
        await printRun(run, planned.path, fstatSync(planned.fd).size, (batch) => checkpoint!.written(planned, batch));
        checkpoint.finished(planned, run.stats);
      }
    }
  } finally {
    await (pool as WorkerPool | null)?.close();
    checkpoint?.close();
  }
  if (cli.stats) {
    const secs = (performance.now() - t0) / 1000;
    // A percentile is its bucket's highest value, which can pass the exact max.
    const pct = (p: number) => Math.min(hist.getValueAtPercentile(p), hist.maxValue);
    const lines = [
      `bytes       ${totals.bytes}`,
      `records     ${totals.records}`,
      `seconds     ${secs.toFixed(3)}`,
      `MB/s        ${(totals.bytes / secs / 1e6).toFixed(1)}`,
      `records/s   ${Math.round(totals.records / secs)}`,
      ...crcs,
      `batch parse latency (µs, ${hist.totalCount} batches): p50 ${pct(50)}  p99 ${pct(99)}  p99.9 ${pct(99.9)}  max ${hist.maxValue}`,
    ];
    process.stderr.write(lines.join('\n') + '\n');
  }
}

export async function main(argv: string[]): Promise<number> {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    // `logwire parse big.log | head`: the reader left; stop quietly.
    if (err.code === 'EPIPE') process.exit(0);
    // A full disk, a closed descriptor: one line, and the output is incomplete.
    process.stderr.write(`logwire: cannot write the output: ${err.code === 'ENOSPC' ? 'no space left on device' : err.message}\n`);
    process.exit(1);
  });
  try {
    const [cmd, ...rest] = argv;
    if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
      process.stdout.write(HELP);
      return cmd === undefined ? 2 : 0;
    }
    if (cmd === '--version') {
      const pkg = JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as { version: string };
      process.stdout.write(`${pkg.version}\n`);
      return 0;
    }
    if (cmd === 'parse') {
      await parseCommand(rest);
      return 0;
    }
    if (cmd === 'demo') {
      await runServiceDemo(rest);
      return 0;
    }
    if (cmd === 'serve') {
      await runServe(rest);
      return 0;
    }
    if (cmd === 'tail') {
      await runTail(rest);
      return 0;
    }
    if (cmd === 'report') {
      await runReport(rest);
      return 0;
    }
    usage(`unknown command ${JSON.stringify(cmd)}; see logwire --help`);
  } catch (err) {
    if (err instanceof LogwireError) {
      process.stderr.write(`logwire: ${err.message}\n`);
      const userError = err.code === ErrorCodes.USAGE || err.code === ErrorCodes.IO || err.code === ErrorCodes.INVALID_OPTION;
      return userError ? 2 : 1;
    }
    process.stderr.write(`logwire: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
    return 1;
  }
}
