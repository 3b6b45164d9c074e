// The fuzz test's worker thread (test/fuzz.test.ts starts it): runs hostile
// inputs through every entry point for a time budget, shrinks a failure, and
// reports. It is a thread of its own so that the test can see a hang in the
// synchronous WASM core, and stop it.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import fc from 'fast-check';
import { parseBuffer, parseFile, parseStream, type ParseRun } from '../../src/index.js';
import { DEFAULTS } from '../../src/options.js';
import { WorkerPool } from '../../src/pool/pool.js';
import { checkOutput, lineCount, nonEmptyLines, type LineFacts } from './fuzz-check.js';
import { cutInto, cuts, hostileInput } from './fuzz-inputs.js';
import { referenceParse } from './reference.js';

export interface FuzzJob {
  seed: number;
  /** Time to look for a failure. */
  seconds: number;
  /** Time to shrink one. */
  shrinkSeconds: number;
  /** Replay this fast-check path (a failure's) instead of searching. */
  path?: string;
  /** A scratch folder for input files (the test removes it, even after a hang). */
  dir: string;
}

export type FuzzMessage =
  | { type: 'case'; phase: 'search' | 'shrink'; run: number }
  | { type: 'done'; runs: number; seconds: number; failure?: string };

const FORMATS = ['auto', 'classic', 'logfmt', 'json', 'syslog', 'apache_error'] as const;
type Format = (typeof FORMATS)[number];
/** The formats the plain reference parser knows (the built-in pattern formats it does not). */
const REFERENCE_FORMATS = new Set<string>(['auto', 'classic', 'logfmt', 'json']);
const FILE = 'fuzz.log';
/** Inputs up to this size are also compared with the plain reference parser (it is slow). */
const REFERENCE_BYTES = 64 << 10;
/** Inputs from this size on are also parsed as files (smaller ones now and then). */
const FILE_BYTES = 256 << 10;
/** mmap needs the native addon; LOGWIRE_NO_NATIVE=1 (and only that) turns it off. */
const IOS = process.env.LOGWIRE_NO_NATIVE === '1' ? (['pread'] as const) : (['mmap', 'pread'] as const);

const fuzzCase = fc.record({
  input: hostileInput,
  smallMax: fc.constantFrom(64, 4097),
  levelRaw: fc.boolean(),
  /** The WASM build for parseBuffer; streams and files use the default one, and must give the same bytes. */
  flavor: fc.constantFrom('simd', 'scalar'),
  stream: fc.record({ format: fc.constantFrom(...FORMATS), small: fc.boolean(), cuts, windowBytes: fc.constantFrom(undefined, 4096, 65536) }),
  file: fc.record({ format: fc.constantFrom(...FORMATS), small: fc.boolean(), anyway: fc.nat(9).map((n) => n === 0), chunkBytes: fc.constantFrom(4096, 65537, 1 << 20) }),
});
type FuzzCase = typeof fuzzCase extends fc.Arbitrary<infer T> ? T : never;

const pools = new Map<string, WorkerPool>();
function pool(workers: number, maxRecordBytes: number): WorkerPool {
  const key = `${workers}/${maxRecordBytes}`;
  let p = pools.get(key);
  if (!p) pools.set(key, (p = new WorkerPool(workers, { maxRecordBytes, windowBytes: 65536, inflightBytes: DEFAULTS.inflightBytes })));
  return p;
}

async function drain(run: ParseRun): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const batch of run) parts.push(batch.ndjson);
  return Buffer.concat(parts);
}

/** The same bytes as parseBuffer gave, or the first record that differs. */
function sameOutput(got: Buffer, want: Buffer, what: string): void {
  if (got.equals(want)) return;
  const a = got.toString().split('\n');
  const b = want.toString().split('\n');
  const i = a.findIndex((row, k) => row !== b[k]);
  assert.fail(`${what} differs from parseBuffer at output line ${i + 1} of ${b.length - 1}:\n  got  ${a[i]?.slice(0, 400)}\n  want ${b[i]?.slice(0, 400)}`);
}

function sameAsReference(got: Record<string, unknown>[], input: Buffer, format: 'auto' | 'classic' | 'logfmt' | 'json', maxRecordBytes: number, levelRaw: boolean): void {
  const want = referenceParse(input, { file: FILE, format, maxRecordBytes, levelRaw });
  // As text, so that the order of fields counts too.
  const i = got.findIndex((r, k) => JSON.stringify(r) !== JSON.stringify(want[k]));
  if (i >= 0) assert.fail(`record ${i + 1} differs from the reference (${format}, maxRecordBytes ${maxRecordBytes}):\n  got  ${JSON.stringify(got[i]).slice(0, 400)}\n  want ${JSON.stringify(want[i]).slice(0, 400)}`);
}

/** The format auto picks for a whole input (parseBuffer's choice: the same first bytes). */
async function autoFormat(input: Buffer): Promise<string> {
  const run = parseStream((async function* () { yield input; })(), { format: 'auto', fileName: FILE });
  await drain(run);
  return run.stats.format ?? 'classic';
}

async function check(c: FuzzCase, dir: string): Promise<void> {
  const { input, levelRaw } = c;
  const lines: LineFacts[] = nonEmptyLines(input);
  const maxOf = (small: boolean) => (small ? c.smallMax : DEFAULTS.maxRecordBytes);
  const whole = new Map<string, Buffer>();
  const compare = input.length <= REFERENCE_BYTES;
  // What auto chose: a built-in pattern format (syslog, …) is not the reference's to check.
  const picked = await autoFormat(input);
  for (const format of FORMATS) {
    const as = format === 'auto' && !REFERENCE_FORMATS.has(picked) ? (picked as Format) : format;
    for (const maxRecordBytes of [c.smallMax, DEFAULTS.maxRecordBytes]) {
      const batch = parseBuffer(input, { format, maxRecordBytes, levelRaw, fileName: FILE }, { flavor: c.flavor });
      const recs = checkOutput(batch.ndjson, lines, { format: as, maxRecordBytes, levelRaw, file: FILE });
      assert.equal(batch.count, lines.length, `parseBuffer's count (${format}, maxRecordBytes ${maxRecordBytes})`);
      if (compare && REFERENCE_FORMATS.has(as)) sameAsReference(recs, input, as as 'auto', maxRecordBytes, levelRaw);
      whole.set(`${format}/${maxRecordBytes}`, batch.ndjson);
    }
  }

  const s = c.stream;
  const pieces = cutInto(input, s.cuts);
  const streamed = parseStream((async function* () { yield* pieces; })(), { format: s.format, maxRecordBytes: maxOf(s.small), levelRaw, fileName: FILE }, { windowBytes: s.windowBytes });
  sameOutput(await drain(streamed), whole.get(`${s.format}/${maxOf(s.small)}`)!, `parseStream (${s.format}, ${pieces.length} pieces, window ${s.windowBytes ?? 'default'})`);
  assert.deepEqual([streamed.stats.records, streamed.stats.lines, streamed.stats.bytes], [lines.length, lineCount(input), input.length], 'parseStream stats: records, lines, bytes');

  const f = c.file;
  if (input.length < FILE_BYTES && !f.anyway) return;
  // Each chunk costs a round trip to a worker: at most 16 of them.
  const chunkBytes = Math.max(f.chunkBytes, Math.ceil(input.length / 16));
  const path = join(dir, 'input.log');
  writeFileSync(path, input);
  for (const workers of [1, 2]) {
    for (const io of IOS) {
      const maxRecordBytes = maxOf(f.small);
      const run = parseFile(path, { format: f.format, maxRecordBytes, levelRaw, fileName: FILE, workers, io }, { pool: pool(workers, maxRecordBytes), chunkBytes });
      sameOutput(await drain(run), whole.get(`${f.format}/${maxRecordBytes}`)!, `parseFile (${f.format}, workers ${workers}, io ${io}, chunk ${chunkBytes})`);
      assert.deepEqual([run.stats.records, run.stats.lines, run.stats.bytes], [lines.length, lineCount(input), input.length], 'parseFile stats: records, lines, bytes');
    }
  }
}

/** Bytes as a JS string expression, long runs of one byte written as `.repeat(n)`. */
function describeBytes(b: Uint8Array, limit = 2000): string {
  const parts: string[] = [];
  let text = '';
  let shown = 0;
  for (let i = 0; i < b.length && shown < limit; ) {
    let j = i;
    while (j < b.length && b[j] === b[i]) j++;
    const ch = String.fromCharCode(b[i]);
    if (j - i >= 16) {
      if (text) parts.push(JSON.stringify(text));
      parts.push(`${JSON.stringify(ch)}.repeat(${j - i})`);
      shown += 20;
      text = '';
    } else {
      text += ch.repeat(j - i);
      shown += j - i;
    }
    i = j;
  }
  if (text) parts.push(JSON.stringify(text));
  return (parts.join(' + ') || '""') + (shown >= limit ? ' + …' : '');
}

function report(job: FuzzJob, details: fc.RunDetails<[FuzzCase]>): string {
  const [c] = details.counterexample!;
  const file = join(tmpdir(), `logwire-fuzz-${job.seed}.bin`);
  writeFileSync(file, c.input);
  const e = details.errorInstance;
  // An assertion says all there is to say; anything else thrown is a parser bug: show where.
  const err = e instanceof assert.AssertionError ? e.message : e instanceof Error ? String(e.stack) : String(e);
  const { input: _, ...options } = c;
  return [
    `fuzz failure, seed ${job.seed}, path ${details.counterexamplePath} (shrunk ${details.numShrinks} times):`,
    err.slice(0, 4000),
    `options: ${JSON.stringify(options)}`,
    `input: ${c.input.length} bytes, all in ${file}; as latin1: ${describeBytes(c.input)}`,
    `repeat: LOGWIRE_FUZZ_SEED=${job.seed} LOGWIRE_FUZZ_PATH=${details.counterexamplePath} npm test -- fuzz`,
  ].join('\n');
}

async function main(job: FuzzJob): Promise<void> {
  const post = (m: FuzzMessage) => parentPort!.postMessage(m);
  const t0 = performance.now();
  let phase: 'search' | 'shrink' = 'search';
  let runs = 0;
  const property = fc.asyncProperty(fuzzCase, async (c) => {
    post({ type: 'case', phase, run: phase === 'search' ? runs++ : -1 });
    await check(c, job.dir);
  });
  let failure: string | undefined;
  let seconds = 0;
  try {
    let failed: fc.RunDetails<[FuzzCase]> | null = null;
    if (job.path === undefined) {
      // Search without shrinking, so that the budget bounds the search alone.
      const found = await fc.check(property, { seed: job.seed, numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: job.seconds * 1000, endOnFailure: true });
      if (found.failed) failed = found;
    }
    seconds = (performance.now() - t0) / 1000;
    const path = job.path ?? failed?.counterexamplePath;
    if (path) {
      phase = 'shrink';
      const shrunk = await fc.check(property, { seed: job.seed, path, interruptAfterTimeLimit: job.shrinkSeconds * 1000 });
      const smallest = shrunk.failed ? shrunk : failed;
      failure = smallest ? report(job, smallest) : `the case at path ${path} (seed ${job.seed}) passes now`;
    }
  } finally {
    await Promise.all([...pools.values()].map((p) => p.close()));
  }
  // Only now: the test may end this thread as soon as it hears.
  post({ type: 'done', runs, seconds, failure });
}

if (parentPort) await main(workerData as FuzzJob);
