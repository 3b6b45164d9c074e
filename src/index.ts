// logwire's library API: parse log files, streams and buffers into records
// (NDJSON bytes from the WASM core, readable as objects).
import { closeSync, createReadStream, fstatSync, openSync, readSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { RecordBatch, type LogRecord } from './batch.js';
import { crc32cCombine } from './crc32c.js';
import { detectFormat } from './detect.js';
import { StreamFeeder } from './engine.js';
import { abortedError, createError, ErrorCodes, ioError, LogwireError } from './errors.js';
import { lastLineEnd } from './io/lines.js';
import { resolveIo } from './io/window.js';
import { DEFAULTS, resolveOptions, type ConcreteFormat, type Format, type MultilineOptions, type MultilineStart, type ParseOptions, type ResolvedOptions } from './options.js';
import { WorkerPool, type FileTotals, type PoolBatch } from './pool/pool.js';
import { WasmCore, type Flavor, type Mode } from './wasm/bridge.js';

export { RecordBatch, LogwireError, ErrorCodes };
export type { LogRecord, ParseOptions, Format, MultilineStart, MultilineOptions };
export { crc32c, crc32cCombine } from './crc32c.js';
export { startService } from './service/server.js';
export type { Service, ServiceOptions, SourceConfig } from './service/server.js';

/** What a finished parse read. Filled in as the parse goes; complete when iteration ends. */
export interface ParseStats {
  /** The format used (the one `auto` chose). */
  format: ConcreteFormat | null;
  io: 'mmap' | 'pread' | 'stream';
  workers: number;
  bytes: number;
  records: number;
  /** Lines read, empty ones included. */
  lines: number;
  /** CRC32C of all bytes read (only when asked for with `fileCrc`). */
  crc: number | null;
  /** Set when the file shrank while it was read: nothing at or after this offset was read. */
  shrunkTo: number | null;
  /** Per-batch parse time in ms, in order (for latency histograms). */
  batchMs: number[];
}

/** An async iterable of record batches that also carries the parse's stats. */
export interface ParseRun extends AsyncIterable<RecordBatch> {
  readonly stats: ParseStats;
}

/** Knobs for tools, tests and benchmarks; not part of the stable API. */
export interface InternalOptions {
  /** split | crc | parse | ndjson (default): how much of the work to do. */
  mode?: Mode;
  /** Compute the CRC32C of the whole file (a second CRC pass). */
  fileCrc?: boolean;
  /** Reuse this pool (the caller closes it). */
  pool?: WorkerPool;
  /** Bytes per chunk handed to a worker. */
  chunkBytes?: number;
  /** Bytes per mapped/read window (also the stream piece size). */
  windowBytes?: number;
  /** Force the SIMD or the scalar WASM build. */
  flavor?: Flavor;
  /**
   * The caller is done with a batch's NDJSON bytes once it asks for the next
   * batch: the buffer goes back to the worker for reuse (the CLI does this).
   */
  recycle?: boolean;
  /** Start at this offset (a line start) with this line number instead of at 0. */
  start?: { offset: number; line: number };
  /** Stop after the last LF: a last line still being written is left for later. */
  wholeLines?: boolean;
}

const callerCores = new Map<string, WasmCore[]>();

/**
 * A core on the calling thread for streams, buffers and format detection.
 * Synchronous users (parseBuffer, detection) use it and give it back at once;
 * a stream holds its own until it ends, so concurrent streams never share one.
 */
function acquireCore(maxRecordBytes: number, internal: InternalOptions = {}): { core: WasmCore; release: () => void } {
  const inputBytes = internal.windowBytes ?? 1 << 20;
  const key = `${maxRecordBytes}/${inputBytes}/${internal.flavor ?? ''}`;
  let free = callerCores.get(key);
  if (!free) callerCores.set(key, (free = []));
  const core = free.pop() ?? new WasmCore({ inputBytes, maxRecordBytes }, internal.flavor);
  return { core, release: () => { if (free!.length < 4) free!.push(core); } };
}

function withCore<T>(maxRecordBytes: number, internal: InternalOptions, use: (core: WasmCore) => T): T {
  const { core, release } = acquireCore(maxRecordBytes, internal);
  try {
    return use(core);
  } finally {
    release();
  }
}

function chooseFormat(o: ResolvedOptions, core: WasmCore, sample: Uint8Array, whole: boolean): ConcreteFormat {
  return o.format === 'auto' ? detectFormat(core, sample, whole, o.multiline) : o.format;
}

/**
 * Parse a file with a pool of worker threads. Batches come in file order;
 * bytes appended after the parse began are not read.
 */
export function parseFile(path: string, options: ParseOptions = {}, internal: InternalOptions = {}): ParseRun {
  if (typeof path !== 'string' || path === '') {
    throw createError(ErrorCodes.INVALID_OPTION, `parseFile: "path" must be a non-empty string; got ${JSON.stringify(path)}`);
  }
  const o = resolveOptions(options);
  const io = resolveIo(o.io);
  const stats: ParseStats = { format: null, io, workers: o.workers, bytes: 0, records: 0, lines: 0, crc: null, shrunkTo: null, batchMs: [] };
  async function* run(): AsyncGenerator<RecordBatch> {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (err) {
      throw ioError(path, err);
    }
    let size = 0;
    let sample = Buffer.alloc(0);
    let lastByte = 10;
    let pipe = false;
    let mtime = 0;
    try {
      const st = fstatSync(fd);
      if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
      pipe = !st.isFile();
      mtime = st.mtimeMs;
    } catch (err) {
      closeSync(fd);
      throw ioError(path, err);
    }
    if (pipe) {
      // A FIFO, a character device, /dev/stdin: no size, no mapping; read it as a stream.
      const inner = parseStream(createReadStream('', { fd }), { ...options, fileName: o.fileName ?? path });
      for await (const batch of inner) {
        Object.assign(stats, inner.stats);
        yield batch;
      }
      Object.assign(stats, inner.stats);
      return;
    }
    try {
      size = fstatSync(fd).size;
      sample = Buffer.alloc(Math.min(size, 65536));
      readSync(fd, sample, 0, sample.length, 0);
      if (size > 0) {
        const b = Buffer.alloc(1);
        readSync(fd, b, 0, 1, size - 1);
        lastByte = b[0];
      }
    } catch (err) {
      throw ioError(path, err);
    } finally {
      closeSync(fd);
    }
    const from = internal.start ?? { offset: 0, line: 1 };
    if (internal.wholeLines && lastByte !== 10 && size > from.offset) {
      const fd2 = openSync(path, 'r');
      try {
        size = Math.max(from.offset, lastLineEnd(fd2, from.offset, size));
      } finally {
        closeSync(fd2);
      }
      lastByte = 10;
    }
    const format = withCore(o.maxRecordBytes, internal, (core) => chooseFormat(o, core, sample, size <= 65536));
    stats.format = format;
    const pool = internal.pool ?? new WorkerPool(o.workers, {
      maxRecordBytes: o.maxRecordBytes, windowBytes: internal.windowBytes ?? DEFAULTS.windowBytes,
      inflightBytes: DEFAULTS.inflightBytes, flavor: internal.flavor,
    });
    let finished = false;
    let it: AsyncGenerator<PoolBatch, FileTotals> | null = null;
    try {
      it = pool.run({
        path, fileName: o.fileName ?? path, size, format, mode: internal.mode ?? 'ndjson', zone: o.zone, io,
        levelRaw: o.levelRaw, chunkCrc: internal.fileCrc ?? false, chunkBytes: internal.chunkBytes ?? DEFAULTS.chunkBytes,
        recycle: internal.recycle ?? false, signal: o.signal, start: from.offset, line: from.line, multiline: o.multiline, clock: mtime,
      });
      for (;;) {
        const r = await it.next();
        if (r.done) {
          finished = true;
          const t = r.value;
          stats.records = t.records;
          stats.shrunkTo = t.shrunkTo ?? null;
          stats.bytes = (t.shrunkTo ?? size) - from.offset;
          // A last line without LF is a line too.
          stats.lines = t.newlines + (t.shrunkTo === undefined && lastByte !== 10 ? 1 : 0);
          if (internal.fileCrc) {
            let crc = 0;
            for (const c of t.crcs) crc = crc32cCombine(crc, c.crc, c.length);
            stats.crc = crc;
          }
          if (t.shrunkTo !== undefined) yield new RecordBatch(Buffer.alloc(0), 0, t.shrunkTo, t.shrunkTo);
          break;
        }
        stats.batchMs.push(r.value.parseMs);
        stats.records += r.value.records;
        yield new RecordBatch(r.value.ndjson, r.value.records, r.value.through);
      }
    } finally {
      // Left early (break, error): let the pool's run clean up its workers.
      if (!finished) await it?.return(undefined as unknown as FileTotals);
      if (!internal.pool) await pool.close();
    }
  }
  return { stats, [Symbol.asyncIterator]: () => run() };
}

/** How long `auto` waits for more of a slow stream before it decides from the lines it has. */
const STREAM_DETECT_WAIT_MS = 500;
/** The sample `auto` decides from (the whole stream when it is shorter). */
const STREAM_SAMPLE_BYTES = 65536;

/**
 * Parse a byte stream (stdin, a pipe, a socket) on the calling thread.
 * Lines may be split across the stream's chunks. Records are handed out as
 * each chunk is parsed, so a slow stream (`tail -f | …`) is not held back;
 * with format `auto`, the first records wait until 64 KiB have come, the
 * stream ends, or 0.5 s have passed since the first whole line came.
 */
export function parseStream(readable: Readable | AsyncIterable<Uint8Array | string>, options: ParseOptions = {}, internal: InternalOptions = {}): ParseRun {
  if (!readable || typeof (readable as AsyncIterable<unknown>)[Symbol.asyncIterator] !== 'function') {
    throw createError(ErrorCodes.INVALID_OPTION, 'parseStream: "readable" must be a readable stream or an async iterable of bytes');
  }
  const o = resolveOptions(options);
  const stats: ParseStats = { format: null, io: 'stream', workers: 1, bytes: 0, records: 0, lines: 0, crc: null, shrunkTo: null, batchMs: [] };
  async function* run(): AsyncGenerator<RecordBatch> {
    if (o.signal?.aborted) throw abortedError();
    const { core, release } = acquireCore(o.maxRecordBytes, internal);
    const source = (readable as AsyncIterable<Uint8Array | string>)[Symbol.asyncIterator]();
    let feeder: StreamFeeder | null = null;
    let head: Buffer[] = [];
    let headBytes = 0;
    let detectBy = Infinity; // when `auto` stops waiting for a full sample: 0.5 s after the first whole line
    const start = (whole: boolean) => {
      const sample = Buffer.concat(head);
      const format = chooseFormat(o, core, sample.subarray(0, STREAM_SAMPLE_BYTES), whole);
      stats.format = format;
      core.setZone(o.zone);
      core.configure(format, 'ndjson', o.fileName ?? '-', { levelRaw: o.levelRaw, multiline: o.multiline });
      feeder = new StreamFeeder(core, 0, 1, internal.fileCrc ?? false);
      head = [];
      return sample;
    };
    const emit = function* (data: Uint8Array, last: boolean) {
      for (const out of feeder!.push(data, last, true)) {
        stats.records += out.records;
        stats.batchMs.push(out.parseMs);
        yield new RecordBatch(out.ndjson, out.records, out.through);
      }
    };
    // The next piece; or 'wait' when `auto` should decide now, or on abort (the read stays in flight).
    let inflight: Promise<IteratorResult<Uint8Array | string>> | null = null;
    let stopWaiting: (() => void) | null = null;
    const onAbort = () => stopWaiting?.();
    o.signal?.addEventListener('abort', onAbort, { once: true });
    const next = async (): Promise<IteratorResult<Uint8Array | string> | 'wait'> => {
      if (o.signal?.aborted) return 'wait';
      inflight ??= source.next();
      const waitMs = feeder ? Infinity : detectBy - performance.now();
      let timer: NodeJS.Timeout | undefined;
      const stop = new Promise<'wait'>((resolve) => {
        stopWaiting = () => resolve('wait');
        if (Number.isFinite(waitMs)) timer = setTimeout(() => resolve('wait'), Math.max(0, waitMs));
      });
      try {
        const r = await Promise.race([inflight, stop]);
        if (r !== 'wait') inflight = null;
        return r;
      } catch (err) {
        inflight = null;
        throw err instanceof LogwireError ? err : createError(ErrorCodes.IO, `reading the stream: ${(err as Error)?.message ?? String(err)}`, err);
      } finally {
        clearTimeout(timer);
        stopWaiting = null;
      }
    };
    let lastByte = 10;
    let done = false;
    try {
      for (;;) {
        const r = await next();
        if (o.signal?.aborted) throw abortedError();
        if (r === 'wait') {
          // A slow stream under `auto`: decide from the whole lines that came.
          detectBy = Infinity;
          if (!feeder) yield* emit(start(false), false);
          continue;
        }
        if (r.done) {
          done = true;
          break;
        }
        const buf = typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
        stats.bytes += buf.length;
        if (buf.length) lastByte = buf[buf.length - 1];
        if (feeder) {
          yield* emit(buf, false);
          continue;
        }
        head.push(Buffer.from(buf));
        headBytes += buf.length;
        if (detectBy === Infinity && buf.includes(10)) detectBy = performance.now() + STREAM_DETECT_WAIT_MS;
        if (o.format !== 'auto' || headBytes >= STREAM_SAMPLE_BYTES) yield* emit(start(false), false);
      }
      yield* emit(feeder ? new Uint8Array(0) : start(true), true);
      stats.lines = core.exports.newlineCount() + (lastByte !== 10 ? 1 : 0);
      stats.crc = (feeder as StreamFeeder | null)?.crc ?? null;
    } finally {
      o.signal?.removeEventListener('abort', onAbort);
      // Left early (abort, error, break): let the source clean up (a Readable is destroyed).
      // Not awaited: with a read still in flight, return() waits for that read.
      if (!done) {
        (inflight as Promise<unknown> | null)?.catch(() => {});
        Promise.resolve(source.return?.()).catch(() => {});
      }
      release();
    }
  }
  return { stats, [Symbol.asyncIterator]: () => run() };
}

/** Parse a small input in one go on the calling thread. */
export function parseBuffer(buf: Uint8Array | string, options: ParseOptions = {}, internal: InternalOptions = {}): RecordBatch {
  const data = typeof buf === 'string' ? Buffer.from(buf) : buf;
  if (!(data instanceof Uint8Array)) {
    throw createError(ErrorCodes.INVALID_OPTION, 'parseBuffer: "buf" must be a Buffer, Uint8Array or string');
  }
  const o = resolveOptions(options);
  // Synchronous: an abort can only come before the call.
  if (o.signal?.aborted) throw abortedError();
  return withCore(o.maxRecordBytes, internal, (core) => {
    const format = chooseFormat(o, core, data.subarray(0, 65536), data.length <= 65536);
    core.setZone(o.zone);
    core.configure(format, internal.mode ?? 'ndjson', o.fileName ?? '-', { levelRaw: o.levelRaw, multiline: o.multiline });
    const parts: Buffer[] = [];
    let records = 0;
    for (const out of new StreamFeeder(core).push(data, true)) {
      parts.push(out.ndjson);
      records += out.records;
    }
    return new RecordBatch(parts.length === 1 ? parts[0] : Buffer.concat(parts), records, data.length);
  });
}
