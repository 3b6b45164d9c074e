// The file path through the worker pool (parseFile) and the stream path
// (parseStream), checked against parseBuffer on the same bytes and against the
// plain reference parser; abort, early break and file errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { LogwireError, parseBuffer, parseFile, parseStream, type ParseRun } from '../src/index.js';
import { DEFAULTS } from '../src/options.js';
import { WorkerPool } from '../src/pool/pool.js';
import { loadNative } from '../src/io/native.js';
import { crc32c, referenceParse } from './support/reference.js';
import { prng } from './support/prng.js';

const MiB = 1024 * 1024;
const MAX_RECORD = 256;
/** io 'mmap' needs the native addon (LOGWIRE_NO_NATIVE=1 turns it off); 'pread' is always there. */
const NO_MMAP = loadNative() === null ? 'the native addon is not loaded: no io "mmap"' : false;
const IO_MODES = NO_MMAP ? (['pread'] as const) : (['mmap', 'pread'] as const);


type Rand = () => number;
const int = (r: Rand, n: number) => Math.floor(r() * n);
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[int(r, xs.length)]!;

const LEVELS = ['INFO', 'info', 'WARN', 'warning', 'ERROR', 'err', 'DEBUG', 'trace', 'FATAL', 'notice', 'bogus'];
/** Byte sequences that are not valid UTF-8 (lone continuation, truncated, surrogate, overlong, 0xFF). */
const INVALID_UTF8 = [[0xff], [0x80], [0xc3], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xf0, 0x9f, 0x98]];

function timestamp(r: Rand): string {
  const d = new Date(Date.UTC(2024, 4, 1) + int(r, 86400 * 1000 * 30));
  const iso = d.toISOString();
  return pick(r, [iso, iso.replace('T', ' ').replace('Z', ''), iso.slice(0, 19) + '+02:00', iso.slice(0, 19) + ',5Z']);
}

function word(r: Rand): string {
  return pick(r, ['alpha', 'beta', 'gamma', 'user', 'ok', 'x', 'päth', '✓', 'a"b', 'back\\slash', 'tab\there']);
}

/** One line (without its ending) of a given flavour. */
function line(r: Rand, kind: string): Buffer {
  switch (kind) {
    case 'classic':
      return Buffer.from(`${timestamp(r)} [${pick(r, LEVELS)}] ${word(r)} ${word(r)} k=${word(r)} q="${word(r)} ${word(r)}" n=${int(r, 1000)}`);
    case 'logfmt':
      return Buffer.from(`ts=${pick(r, [timestamp(r).replace(' ', 'T'), String(1714521600 + int(r, 1e6))])} level=${pick(r, LEVELS)} msg="${word(r)} ${word(r)}" user=u${int(r, 50)} ${word(r)}`);
    case 'json':
      return Buffer.from(JSON.stringify({ time: timestamp(r), level: pick(r, [pick(r, LEVELS), 30, 50]), msg: `${word(r)} ${word(r)}`, n: int(r, 100), a: [1, { b: word(r) }] }));
    case 'badjson':
      return Buffer.from(pick(r, ['{"msg": "unterminated', '[1,2,3]', '"just a string"', '{"a":1,}', '  {"level":"warn"}  ']));
    case 'long': {
      const n = MAX_RECORD + 1 + int(r, 80);
      const head = `${timestamp(r)} [WARN] long `;
      let s = head;
      while (s.length < n) s += `k${int(r, 99)}=${word(r)} `;
      return Buffer.from(s.slice(0, n));
    }
    case 'invalid': {
      const bad = Buffer.from(pick(r, INVALID_UTF8));
      return Buffer.concat([Buffer.from(`${timestamp(r)} [INFO] bad `), bad, Buffer.from(` k=v`), bad, Buffer.from(' msg="x')]);
    }
    case 'cr':
      return Buffer.from(`lone\rcr k=v\r inside`);
    default:
      return Buffer.from(word(r));
  }
}

interface Input {
  name: string;
  format: 'auto' | 'classic' | 'logfmt' | 'json';
  bytes: Buffer;
}

/**
 * `lines` lines with LF or CRLF endings: every kind in `kinds` at least once,
 * an empty line and a CR-only line, the rest random; at least one CRLF.
 */
function mixed(seed: number, lines: number, kinds: readonly string[], opts: { trailingLF: boolean }): Buffer {
  const r = prng(seed);
  const plan = [...new Set(kinds), 'empty', 'cr-only'];
  while (plan.length < lines) plan.push(r() < 0.1 ? 'empty' : pick(r, kinds));
  for (let i = plan.length - 1; i > 0; i--) {
    const j = int(r, i + 1);
    [plan[i], plan[j]] = [plan[j]!, plan[i]!];
  }
  const parts: Buffer[] = [];
  plan.forEach((kind, i) => {
    parts.push(kind === 'empty' ? Buffer.alloc(0) : kind === 'cr-only' ? Buffer.from('\r') : line(r, kind));
    if (i < plan.length - 1 || opts.trailingLF) parts.push(Buffer.from(i === 0 || r() < 0.3 ? '\r\n' : '\n'));
  });
  return Buffer.concat(parts);
}

const ALL_KINDS = ['classic', 'logfmt', 'json', 'badjson', 'long', 'invalid', 'cr', 'word'];
const INPUTS: Input[] = [
  { name: 'classic mix, no final LF', format: 'classic', bytes: mixed(1, 10, ['classic', 'classic', 'long', 'invalid', 'cr', 'logfmt'], { trailingLF: false }) },
  { name: 'logfmt mix', format: 'logfmt', bytes: mixed(2, 7, ['logfmt', 'logfmt', 'long', 'invalid', 'classic', 'word'], { trailingLF: true }) },
  { name: 'json mix, no final LF', format: 'json', bytes: mixed(3, 7, ['json', 'json', 'badjson', 'long', 'invalid'], { trailingLF: false }) },
  { name: 'everything, auto', format: 'auto', bytes: mixed(4, 12, ALL_KINDS, { trailingLF: true }) },
  { name: 'empty file', format: 'classic', bytes: Buffer.alloc(0) },
  { name: 'one byte, no LF', format: 'logfmt', bytes: Buffer.from('x') },
  { name: 'only line endings', format: 'json', bytes: Buffer.from('\n\r\n\n\r\r\n') },
  { name: 'one long line, CR at the end without LF', format: 'classic', bytes: Buffer.concat([line(prng(5), 'long'), Buffer.from('\r')]) },
];

function splitNdjson(buf: Buffer): string[] {
  const s = buf.toString('utf8');
  if (s === '') return [];
  assert.ok(s.endsWith('\n'), 'NDJSON ends with LF');
  return s.slice(0, -1).split('\n');
}

function countLF(buf: Uint8Array, from = 0, to = buf.length): number {
  let n = 0;
  for (let i = buf.indexOf(10, from); i !== -1 && i < to; i = buf.indexOf(10, i + 1)) n++;
  return n;
}

/** Lines per docs/records.md: one per LF, plus a last line without LF. */
function expectedLines(buf: Uint8Array): number {
  return countLF(buf) + (buf.length > 0 && buf[buf.length - 1] !== 10 ? 1 : 0);
}

async function collect(run: ParseRun): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const batch of run) {
    assert.equal(splitNdjson(batch.ndjson).length, batch.count, 'batch.count matches its NDJSON lines');
    parts.push(batch.ndjson);
  }
  return Buffer.concat(parts);
}

/** OS threads of this process (Linux); worker threads are among them. */
function threadCount(): number | null {
  return existsSync('/proc/self/task') ? readdirSync('/proc/self/task').length : null;
}

/** The thread count once it has held still for 100 ms (threads of earlier tests may still be ending). */
async function steadyThreadCount(): Promise<number | null> {
  let last = threadCount();
  if (last === null) return null;
  const deadline = Date.now() + 3000;
  for (let still = 0; still < 5 && Date.now() < deadline;) {
    await sleep(20);
    const n = threadCount();
    still = n === last ? still + 1 : 0;
    last = n;
  }
  return last;
}

/** Waits (bounded) until the thread count is back to `baseline`; returns the last count. */
async function settleThreads(baseline: number | null): Promise<number | null> {
  if (baseline === null) return null;
  const deadline = Date.now() + 5000;
  let n = threadCount();
  while (n !== null && n > baseline && Date.now() < deadline) {
    await sleep(20);
    n = threadCount();
  }
  return n;
}

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'logwire-files-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

const CHUNKS = [1, 7, 100, 4096];
const WINDOWS = [64, 4096, 65536];

test('parseFile equals parseBuffer and the reference for every workers/io/flavor/chunk/window combination', { timeout: 180_000 }, async (t) => {
  // Pools shared by runs with the same workers/window/flavor; some runs start their own (the public path).
  const pools = new Map<string, WorkerPool>();
  const sharedPool = (workers: number, windowBytes: number, flavor: 'simd' | 'scalar'): WorkerPool => {
    const key = `${workers}/${windowBytes}/${flavor}`;
    let pool = pools.get(key);
    if (!pool || pool.isClosed) {
      pool = new WorkerPool(workers, { maxRecordBytes: MAX_RECORD, windowBytes, inflightBytes: DEFAULTS.inflightBytes, flavor });
      pools.set(key, pool);
    }
    return pool;
  };
  let runs = 0;
  try {
    for (const [i, input] of INPUTS.entries()) {
      const path = join(dir, `input-${i}.log`);
      writeFileSync(path, input.bytes);
      const expected = parseBuffer(input.bytes, { format: input.format, maxRecordBytes: MAX_RECORD, fileName: path }).ndjson;
      const reference = referenceParse(input.bytes, { file: path, format: input.format, maxRecordBytes: MAX_RECORD });
      // The reference is independent of the core: check parseBuffer against it once per input.
      assert.deepEqual(splitNdjson(expected).map((l) => JSON.parse(l)), reference, `${input.name}: parseBuffer vs reference`);
      const check = async (workers: number, io: 'mmap' | 'pread', flavor: 'simd' | 'scalar', chunkBytes: number, windowBytes: number) => {
        const label = `${input.name} (${input.bytes.length} bytes): workers ${workers}, io ${io}, ${flavor}, chunk ${chunkBytes}, window ${windowBytes}`;
        const fileCrc = (CHUNKS.indexOf(chunkBytes) + WINDOWS.indexOf(windowBytes)) % 2 === 1;
        const fresh = chunkBytes === 4096 && windowBytes === 4096 && flavor === 'simd';
        const pool = fresh ? undefined : sharedPool(workers, windowBytes, flavor);
        const run = parseFile(path, { format: input.format, workers, io, maxRecordBytes: MAX_RECORD }, { chunkBytes, windowBytes, flavor, fileCrc, pool });
        const got = await collect(run);
        runs++;
        if (!got.equals(expected)) {
          assert.deepEqual(splitNdjson(got), splitNdjson(expected), `${label}: NDJSON differs from parseBuffer`);
          assert.fail(`${label}: NDJSON differs from parseBuffer`);
        }
        assert.deepEqual(splitNdjson(got).map((l) => JSON.parse(l)), reference, `${label}: records vs reference`);
        assert.equal(run.stats.records, reference.length, `${label}: stats.records`);
        assert.equal(run.stats.lines, expectedLines(input.bytes), `${label}: stats.lines`);
        assert.equal(run.stats.bytes, input.bytes.length, `${label}: stats.bytes`);
        assert.equal(run.stats.shrunkTo, null, `${label}: stats.shrunkTo`);
        assert.equal(run.stats.io, io, `${label}: stats.io`);
        assert.equal(run.stats.workers, workers, `${label}: stats.workers`);
        assert.equal(run.stats.crc, fileCrc ? crc32c(input.bytes) : null, `${label}: stats.crc`);
        if (input.format !== 'auto') assert.equal(run.stats.format, input.format, `${label}: stats.format`);
      };
      for (const workers of [1, 2, 3]) {
        for (const io of IO_MODES) {
          for (const flavor of ['simd', 'scalar'] as const) {
            // The three window sizes use three different pools: run them side by side.
            await Promise.all(WINDOWS.map(async (windowBytes) => {
              for (const chunkBytes of CHUNKS) await check(workers, io, flavor, chunkBytes, windowBytes);
            }));
          }
        }
      }
    }
  } finally {
    await Promise.all([...pools.values()].map((p) => p.close()));
  }
  t.diagnostic(`${runs} parses compared; input sizes ${INPUTS.map((i) => i.bytes.length).join(', ')} bytes`);
});

test('fileCrc: stats.crc is the CRC32C of the whole file, however it is cut', { timeout: 60_000 }, async () => {
  const r = prng(77);
  const bytes = Buffer.concat([mixed(77, 40, ALL_KINDS, { trailingLF: false }), Buffer.from(Array.from({ length: 700 }, () => int(r, 256)))]);
  const path = join(dir, 'crc.log');
  writeFileSync(path, bytes);
  const want = crc32c(bytes);
  for (const [workers, chunkBytes, windowBytes, io] of [[1, 1 << 20, 4096, 'mmap'], [2, 333, 64, 'pread'], [3, 4096, 1000, 'mmap'], [2, 7, 65536, 'pread'], [3, 1000, 64, 'mmap']] as const) {
    if (io === 'mmap' && NO_MMAP) continue;
    const run = parseFile(path, { workers, io, maxRecordBytes: MAX_RECORD }, { fileCrc: true, chunkBytes, windowBytes });
    await collect(run);
    assert.equal(run.stats.crc, want, `workers ${workers}, chunk ${chunkBytes}, window ${windowBytes}, ${io}`);
  }
  // Without fileCrc there is no CRC.
  const plain = parseFile(path, { workers: 1 });
  await collect(plain);
  assert.equal(plain.stats.crc, null);
});

/** ~size bytes of varied log lines, quickly: random picks from a pool of lines. */
function bigLog(seed: number, size: number): Buffer {
  const r = prng(seed);
  const pool: Buffer[] = [];
  for (let i = 0; i < 3000; i++) {
    const l = line(r, pick(r, ['classic', 'classic', 'classic', 'logfmt', 'long', 'invalid', 'cr', 'word']));
    pool.push(Buffer.concat([l, Buffer.from(r() < 0.2 ? '\r\n' : r() < 0.05 ? '\n\n' : '\n')]));
  }
  const out = Buffer.alloc(size);
  let at = 0;
  while (at < size) {
    const l = pool[int(r, pool.length)]!;
    at += l.copy(out, at);
  }
  // The copy may have cut the last line: the input ends without LF.
  return out;
}

test('a ~40 MiB file: mmap and pread with 2 workers give identical output, line numbers follow the LFs', { skip: NO_MMAP, timeout: 120_000 }, async () => {
  const bytes = bigLog(40, 40 * MiB + 12345);
  const path = join(dir, 'big.log');
  writeFileSync(path, bytes);
  const digests: Record<string, string> = {};
  for (const io of ['mmap', 'pread'] as const) {
    const run = parseFile(path, { workers: 2, io, format: 'classic' });
    const hash = createHash('sha256');
    let prevOffset = -1;
    let prevLine = 0;
    let count = 0;
    for await (const batch of run) {
      hash.update(batch.ndjson);
      for (const rec of batch) {
        count++;
        if (prevOffset < 0) {
          assert.equal(rec.line, 1 + countLF(bytes, 0, rec.offset), `${io}: first record's line`);
        } else {
          assert.ok(rec.offset > prevOffset, `${io}: offsets increase (${prevOffset} then ${rec.offset})`);
          const want = prevLine + countLF(bytes, prevOffset, rec.offset);
          if (rec.line !== want) assert.fail(`${io}: record at ${rec.offset} has line ${rec.line}, the LFs say ${want}`);
        }
        if (rec.offset > 0 && bytes[rec.offset - 1] !== 10) assert.fail(`${io}: record at ${rec.offset} does not start a line`);
        prevOffset = rec.offset;
        prevLine = rec.line;
      }
    }
    assert.equal(run.stats.records, count, `${io}: stats.records`);
    assert.equal(run.stats.bytes, bytes.length, `${io}: stats.bytes`);
    assert.equal(run.stats.lines, expectedLines(bytes), `${io}: stats.lines`);
    assert.equal(run.stats.workers, 2);
    digests[io] = hash.digest('hex');
  }
  assert.equal(digests.mmap, digests.pread, 'mmap and pread give the same NDJSON');
  const whole = createHash('sha256').update(parseBuffer(bytes, { format: 'classic', fileName: path }).ndjson).digest('hex');
  assert.equal(digests.mmap, whole, 'and both equal parseBuffer');
});

/** The bytes in random pieces of 1..5000 bytes, each a fresh Buffer. */
function randomPieces(bytes: Buffer, seed: number): Readable {
  const r = prng(seed);
  return Readable.from((function* () {
    for (let at = 0; at < bytes.length;) {
      const n = 1 + int(r, 5000);
      yield Buffer.from(bytes.subarray(at, at + n));
      at += n;
    }
  })());
}

test('parseStream over random-sized pieces gives the same NDJSON as parseBuffer', { timeout: 60_000 }, async () => {
  const cases = [
    { name: 'small (under the 64 KiB detection window)', bytes: mixed(11, 60, ALL_KINDS, { trailingLF: false }), format: 'auto' as const },
    { name: 'large, auto', bytes: bigLog(12, 300_000), format: 'auto' as const },
    { name: 'large, logfmt', bytes: mixed(13, 3000, ALL_KINDS, { trailingLF: true }), format: 'logfmt' as const },
    { name: 'empty', bytes: Buffer.alloc(0), format: 'auto' as const },
  ];
  for (const [i, c] of cases.entries()) {
    for (const windowBytes of [undefined, 4096]) {
      const label = `${c.name}, window ${windowBytes ?? 'default'}`;
      const options = { format: c.format, maxRecordBytes: MAX_RECORD, fileName: `stream-${i}.log` };
      const run = parseStream(randomPieces(c.bytes, 100 + i), options, { windowBytes });
      const got = await collect(run);
      const expected = parseBuffer(c.bytes, options).ndjson;
      assert.ok(got.equals(expected), `${label}: NDJSON differs from parseBuffer`);
      assert.equal(run.stats.records, splitNdjson(expected).length, `${label}: stats.records`);
      assert.equal(run.stats.bytes, c.bytes.length, `${label}: stats.bytes`);
      assert.equal(run.stats.lines, expectedLines(c.bytes), `${label}: stats.lines`);
      if (c.format !== 'auto') {
        const reference = referenceParse(c.bytes, { file: options.fileName, format: c.format, maxRecordBytes: MAX_RECORD });
        assert.deepEqual(splitNdjson(got).map((l) => JSON.parse(l)), reference, `${label}: records vs reference`);
      }
    }
  }
  // Without fileName, both name the input "-".
  const bytes = mixed(14, 30, ['classic'], { trailingLF: true });
  const got = await collect(parseStream(randomPieces(bytes, 14)));
  assert.ok(got.equals(parseBuffer(bytes).ndjson));
  assert.match(got.toString(), /^\{"file":"-","offset":0,/);
});

test('two parseStream runs interleaved do not disturb each other', { timeout: 30_000 }, async () => {
  const a = mixed(21, 2000, ['classic', 'long'], { trailingLF: true });
  const b = mixed(22, 2000, ['logfmt', 'invalid'], { trailingLF: true });
  /** Yields a piece, then lets the other stream run. */
  async function* slow(bytes: Buffer, seed: number) {
    const r = prng(seed);
    for (let at = 0; at < bytes.length;) {
      const n = 1 + int(r, 5000);
      yield Buffer.from(bytes.subarray(at, at + n));
      at += n;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  const opts = { maxRecordBytes: MAX_RECORD };
  const [gotA, gotB] = await Promise.all([
    collect(parseStream(slow(a, 1), { ...opts, fileName: 'a.log', format: 'classic' })),
    collect(parseStream(slow(b, 2), { ...opts, fileName: 'b.log', format: 'logfmt' })),
  ]);
  const wantA = parseBuffer(a, { ...opts, fileName: 'a.log', format: 'classic' }).ndjson;
  const wantB = parseBuffer(b, { ...opts, fileName: 'b.log', format: 'logfmt' }).ndjson;
  assert.equal(gotA.length, wantA.length, 'stream a: NDJSON length');
  assert.ok(gotA.equals(wantA), 'stream a: NDJSON differs from parseBuffer');
  assert.equal(gotB.length, wantB.length, 'stream b: NDJSON length');
  assert.ok(gotB.equals(wantB), 'stream b: NDJSON differs from parseBuffer');
});

test('parseStream on a live stream: records come as lines come, not when the stream ends', { timeout: 30_000 }, async () => {
  const line = (i: number) => `2024-05-01 12:00:0${i} [INFO] line ${i} user=u${i}\n`;
  for (const format of ['classic', 'auto'] as const) {
    const input = new PassThrough();
    const it = parseStream(input, { format })[Symbol.asyncIterator]();
    input.write(line(1));
    const t0 = performance.now();
    const first = await it.next();
    // auto decides from the whole lines it has once 0.5 s have passed; a known format does not wait.
    assert.equal(first.done, false, format);
    assert.equal(first.value.records()[0].msg, 'line 1 user=u1', format);
    assert.ok(performance.now() - t0 < (format === 'auto' ? 5000 : 2000), `${format}: the first record came late`);
    input.write(line(2));
    const second = await it.next();
    assert.equal(second.value.records()[0].line, 2, format);
    input.end();
    assert.equal((await it.next()).done, true, format);
  }
});

test('parseStream: an abort stops an idle stream, an aborted signal stops it before it starts, a stream error is a LogwireError', { timeout: 30_000 }, async () => {
  const isAborted = (err: unknown) => err instanceof LogwireError && err.code === 'LOGWIRE_ERR_ABORTED';
  const idle = new PassThrough();
  idle.write('2024-05-01 12:00:00 [INFO] a\n');
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 50);
  await assert.rejects(collect(parseStream(idle, { signal: ac.signal, format: 'classic' })), isAborted);
  await assert.rejects(collect(parseStream(new PassThrough().end(), { signal: AbortSignal.abort() })), isAborted);
  const broken = new PassThrough();
  setTimeout(() => broken.destroy(new Error('boom')), 20);
  await assert.rejects(collect(parseStream(broken)), (err: unknown) => err instanceof LogwireError && err.code === 'LOGWIRE_ERR_IO' && /boom/.test(err.message));
});

test('a consumer that drops the iterator of a parseFile without return() does not keep the process alive', { timeout: 60_000 }, async () => {
  const path = join(dir, 'dropped.log');
  writeFileSync(path, bigLog(33, 16 * MiB));
  const index = new URL('../src/index.js', import.meta.url).href;
  const script = `
    const { parseFile } = await import(${JSON.stringify(index)});
    const it = parseFile(${JSON.stringify(path)}, { workers: 2 }, { chunkBytes: 1 << 20 })[Symbol.asyncIterator]();
    const first = await it.next();
    console.log('first', first.value.count > 0);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])));
  clearTimeout(killer);
  assert.equal(signal, null, 'the process did not exit on its own');
  assert.equal(code, 0);
  assert.equal(out, 'first true\n');
});

test('aborting mid-file throws LOGWIRE_ERR_ABORTED and stops every worker', { timeout: 60_000 }, async () => {
  const path = join(dir, 'abort.log');
  writeFileSync(path, bigLog(31, 8 * MiB));
  const baseline = await steadyThreadCount();
  const ac = new AbortController();
  let batches = 0;
  await assert.rejects(
    (async () => {
      for await (const batch of parseFile(path, { workers: 3, signal: ac.signal }, { chunkBytes: 256 * 1024, windowBytes: 65536 })) {
        batches++;
        assert.ok(batch.count > 0);
        if (batches === 2) ac.abort();
        if (batches > 1000) assert.fail('the parse went on after the abort');
      }
    })(),
    (err: unknown) => err instanceof LogwireError && err.code === 'LOGWIRE_ERR_ABORTED',
  );
  assert.equal(batches, 2, 'no batch after the abort');
  assert.equal(await settleThreads(baseline), baseline, 'worker threads still running after the abort');

  // A signal aborted before the parse starts.
  const early = new AbortController();
  early.abort();
  await assert.rejects(collect(parseFile(path, { workers: 2, signal: early.signal })), { code: 'LOGWIRE_ERR_ABORTED' });
  assert.equal(await settleThreads(baseline), baseline, 'worker threads still running after an early abort');
});

test('breaking out of for await early leaves no worker running', { timeout: 60_000 }, async () => {
  const path = join(dir, 'break.log');
  writeFileSync(path, bigLog(32, 8 * MiB));
  const baseline = await steadyThreadCount();
  let seen = 0;
  for await (const batch of parseFile(path, { workers: 3 }, { chunkBytes: 256 * 1024 })) {
    seen += batch.count;
    break;
  }
  assert.ok(seen > 0);
  assert.equal(await settleThreads(baseline), baseline, 'worker threads still running after break');
});

test('breaking out early with a shared pool (internal.pool) closes that pool', { timeout: 60_000 }, async () => {
  const path = join(dir, 'break-pool.log');
  writeFileSync(path, bigLog(33, 8 * MiB));
  const baseline = await steadyThreadCount();
  const pool = new WorkerPool(2, { maxRecordBytes: DEFAULTS.maxRecordBytes, windowBytes: 65536, inflightBytes: DEFAULTS.inflightBytes });
  try {
    for await (const batch of parseFile(path, {}, { pool, chunkBytes: 256 * 1024 })) {
      assert.ok(batch.count > 0);
      break;
    }
    // pool.ts: "A run ended early (error, abort, break) leaves workers mid-chunk: the pool is done."
    const deadline = Date.now() + 2000;
    while (!pool.isClosed && Date.now() < deadline) await sleep(20);
    assert.equal(pool.isClosed, true, 'the pool is still open (and its workers busy and referenced) after a break');
    assert.equal(await settleThreads(baseline), baseline, 'worker threads still running after break');
  } finally {
    await pool.close();
  }
});

/** Runs node with `args` (stdout, stderr, exit code); killed after `ms`. */
async function runNode(args: string[], ms: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  const code = await exited;
  clearTimeout(timer);
  return { code, stdout, stderr };
}

const INDEX_URL = new URL('../src/index.js', import.meta.url).href;

test('abort and break in a child process: it exits on its own, without process.exit', { timeout: 60_000 }, async () => {
  const path = join(dir, 'child.log');
  writeFileSync(path, bigLog(34, 4 * MiB));
  const script = join(dir, 'child.mjs');
  writeFileSync(script, `
    const { parseFile } = await import(${JSON.stringify(INDEX_URL)});
    const path = ${JSON.stringify(path)};
    const ac = new AbortController();
    try {
      for await (const b of parseFile(path, { workers: 2, signal: ac.signal }, { chunkBytes: 128 * 1024 })) ac.abort();
      console.log('no abort');
    } catch (err) {
      console.log(err.code);
    }
    for await (const b of parseFile(path, { workers: 2 }, { chunkBytes: 128 * 1024 })) break;
    console.log('done');
  `);
  const { code, stdout, stderr } = await runNode([script], 20_000);
  assert.equal(stdout, 'LOGWIRE_ERR_ABORTED\ndone\n', stderr);
  assert.equal(code, 0, `the child did not exit on its own (killed after 20 s?): ${stderr}`);
});

test('parseFile works in a process started with node --input-type=module -e', { timeout: 30_000 }, async () => {
  const path = join(dir, 'eval.log');
  const bytes = mixed(35, 50, ['classic'], { trailingLF: true });
  writeFileSync(path, bytes);
  const script = `
    const { parseFile } = await import(${JSON.stringify(INDEX_URL)});
    let n = 0;
    for await (const b of parseFile(${JSON.stringify(path)}, { workers: 2, format: 'classic' })) n += b.count;
    console.log(n);
  `;
  // Worker threads inherit execArgv; --input-type is an error for a worker's file entry.
  const { code, stdout, stderr } = await runNode(['--input-type=module', '-e', script], 20_000);
  assert.equal(stderr, '');
  assert.equal(stdout, `${referenceParse(bytes, { file: path, format: 'classic' }).length}\n`);
  assert.equal(code, 0);
});

test('a missing file or a directory is LOGWIRE_ERR_IO naming the path', { timeout: 30_000 }, async () => {
  const missing = join(dir, 'no-such-file.log');
  await assert.rejects(collect(parseFile(missing, { workers: 1 })), (err: unknown) => {
    assert.ok(err instanceof LogwireError, `a LogwireError, got ${String(err)}`);
    assert.equal(err.code, 'LOGWIRE_ERR_IO');
    assert.ok(err.message.includes(missing), `message names the path: ${err.message}`);
    return true;
  });
  const sub = join(dir, 'a-directory');
  mkdirSync(sub);
  await assert.rejects(collect(parseFile(sub, { workers: 1 })), (err: unknown) => {
    assert.ok(err instanceof LogwireError, `a LogwireError, got ${String(err)}`);
    assert.equal(err.code, 'LOGWIRE_ERR_IO');
    assert.ok(err.message.includes(sub), `message names the path: ${err.message}`);
    return true;
  });
});
