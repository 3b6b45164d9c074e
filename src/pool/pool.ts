// The worker pool: cuts a file into chunks, hands them to workers (one WASM
// core each), numbers lines across chunks and delivers batches in file order
// with bounded memory.
import type { ConcreteFormat, Multiline } from '../options.js';
import { Worker } from 'node:worker_threads';
import { abortedError, createError, ErrorCodes, LogwireError, type ErrorCode } from '../errors.js';
import type { IoMode } from '../io/window.js';
import type { Zone } from '../tz.js';
import type { Flavor, Mode } from '../wasm/bridge.js';
import type { FromWorker, ToWorker, WorkerInit } from './protocol.js';

export interface FileJob {
  path: string;
  fileName: string;
  size: number;
  format: ConcreteFormat;
  mode: Mode;
  zone: Zone;
  io: IoMode;
  levelRaw: boolean;
  chunkCrc: boolean;
  chunkBytes: number;
  /** Parse from this offset, a line start (default 0); bytes before it are not read. */
  start?: number;
  /** Line number of the line at `start` (default 1). */
  line?: number;
  /** The consumer is done with a batch's bytes once it asks for the next: reuse them. */
  recycle?: boolean;
  multiline?: Multiline | null;
  /** The file's modification time (ms): what a syslog time without a year is read against. */
  clock?: number;
  /** The file goes on after `size` (still being written): the last record is held back; see FileTotals.held. */
  open?: boolean;
  signal?: AbortSignal;
}

export interface PoolBatch {
  ndjson: Buffer;
  records: number;
  through: number;
  parseMs: number;
}

export interface FileTotals {
  records: number;
  /** LF bytes read. */
  newlines: number;
  /** CRC32C per chunk, in order, with lengths (when chunkCrc was asked for). */
  crcs: { crc: number; length: number }[];
  shrunkTo: number | undefined;
  /** Where the records delivered end: the next one starts here (with its line number). */
  held: { offset: number; line: number } | undefined;
}

interface ChunkState {
  id: number;
  start: number;
  end: number;
  worker: PoolWorker | null;
  batches: PoolBatch[];
  done: boolean;
  newlines: number | null;
  result: Extract<FromWorker, { type: 'done' }> | null;
}

interface PoolWorker {
  worker: Worker;
  busy: ChunkState | null;
}

export class WorkerPool {
  readonly size: number;
  private readonly workers: PoolWorker[] = [];
  private listener: ((w: PoolWorker, msg: FromWorker) => void) | null = null;
  private failure: LogwireError | null = null;
  private closed = false;

  constructor(size: number, init: WorkerInit) {
    this.size = size;
    const url = new URL('./worker.js', import.meta.url);
    for (let i = 0; i < size; i++) {
      // execArgv: [] so flags meant for the main script (--input-type, -e …) don't break the workers.
      const w: PoolWorker = { worker: new Worker(url, { workerData: init, execArgv: [] }), busy: null };
      w.worker.on('message', (msg: FromWorker) => this.listener?.(w, msg));
      w.worker.on('error', (err) => {
        this.failure = createError(ErrorCodes.WORKER, `worker thread failed: ${err.message}`, err);
        this.listener?.(w, { type: 'error', id: -1, code: ErrorCodes.WORKER, message: err.message });
      });
      w.worker.unref();
      this.workers.push(w);
    }
  }

  /** Parse one file; yields batches in file order and returns the totals. */
  async *run(job: FileJob): AsyncGenerator<PoolBatch, FileTotals> {
    if (this.closed) throw createError(ErrorCodes.WORKER, 'the worker pool is closed');
    if (this.failure) throw this.failure;
    const chunks: ChunkState[] = [];
    const from = job.start ?? 0;
    for (let start = from, id = 0; start < job.size || id === 0; start += job.chunkBytes, id++) {
      const end = Math.min(job.size, start + job.chunkBytes);
      chunks.push({ id, start, end, worker: null, batches: [], done: false, newlines: null, result: null });
      if (job.size <= from) break;
    }
    const bases: (number | null)[] = chunks.map((_, i) => (i === 0 ? job.line ?? 1 : null));
    const waitingBase = new Set<number>();
    let next = 0; // next chunk to assign
    let head = 0; // next chunk to deliver
    let error: LogwireError | null = null;
    let wake: (() => void) | null = null;
    const notify = () => { const w = wake; wake = null; w?.(); };

    const send = (w: PoolWorker, msg: ToWorker) => w.worker.postMessage(msg);
    const propagate = () => {
      for (let i = 1; i < chunks.length; i++) {
        if (bases[i] === null && bases[i - 1] !== null && chunks[i - 1].newlines !== null) {
          bases[i] = bases[i - 1]! + chunks[i - 1].newlines!;
        }
        if (bases[i] !== null && waitingBase.has(i)) {
          waitingBase.delete(i);
          send(chunks[i].worker!, { type: 'base', id: i, line: bases[i]! });
        }
      }
    };
    const assign = () => {
      // Keep at most one chunk per worker, and never run far ahead of delivery.
      for (const w of this.workers) {
        if (w.busy || next >= chunks.length || next - head >= this.size * 2) continue;
        const c = chunks[next++];
        c.worker = w;
        w.busy = c;
        if (bases[c.id] === null) waitingBase.add(c.id);
        send(w, {
          type: 'chunk', id: c.id, path: job.path, fileName: job.fileName, size: job.size, start: c.start, end: c.end,
          line: bases[c.id], lineStart: c.id === 0, countFirst: this.size > 1 && c.id < chunks.length - 1, format: job.format, mode: job.mode, zone: job.zone, io: job.io, levelRaw: job.levelRaw,
          chunkCrc: job.chunkCrc, multiline: job.multiline ?? null, clock: job.clock ?? null, open: (job.open ?? false) && c.id === chunks.length - 1,
        });
      }
    };

    this.listener = (w, msg) => {
      if (msg.type === 'error') {
        // Codes outside logwire's taxonomy (errno names, the addon's own) are I/O errors.
        const known = (Object.values(ErrorCodes) as string[]).includes(msg.code);
        error ??= createError((known ? msg.code : ErrorCodes.IO) as ErrorCode, msg.message);
        notify();
        return;
      }
      const c = chunks[msg.id];
      if (!c) return;
      if (msg.type === 'count') {
        c.newlines = msg.newlines;
        propagate();
      } else if (msg.type === 'batch') {
        c.batches.push({ ndjson: Buffer.from(msg.buffer, 0, msg.length), records: msg.records, through: msg.through, parseMs: msg.parseMs });
        if (c.id === head) notify();
      } else if (msg.type === 'done') {
        c.done = true;
        c.result = msg;
        c.newlines ??= msg.newlines;
        w.busy = null;
        propagate();
        assign();
        notify();
      }
    };

    const onAbort = () => {
      error ??= abortedError();
      notify();
    };
    job.signal?.addEventListener('abort', onAbort, { once: true });
    const totals: FileTotals = { records: 0, newlines: 0, crcs: [], shrunkTo: undefined, held: undefined };
    let deliveredThrough = 0;
    try {
      if (job.signal?.aborted) onAbort();
      assign();
      while (head < chunks.length) {
        if (error) throw error;
        const c = chunks[head];
        const b = c.batches.shift();
        if (b) {
          deliveredThrough = Math.max(deliveredThrough, b.through);
          yield b;
          if (job.recycle) {
            const buffer = b.ndjson.buffer as ArrayBuffer;
            c.worker!.worker.postMessage({ type: 'ack', bytes: b.ndjson.length, buffer } satisfies ToWorker, [buffer]);
          } else {
            send(c.worker!, { type: 'ack', bytes: b.ndjson.length });
          }
          continue;
        }
        if (c.done) {
          const r = c.result!;
          totals.records += r.records;
          totals.newlines += r.newlines;
          totals.crcs.push({ crc: r.crc, length: r.crcLength });
          totals.held = r.held;
          if (r.shrunkTo !== null) {
            // The file shrank: later chunks have nothing left to read. A line that an
            // earlier chunk finished before the shrink may reach past the new end.
            totals.shrunkTo = Math.max(r.shrunkTo, deliveredThrough);
            head = chunks.length;
            break;
          }
          head++;
          assign();
          continue;
        }
        // Workers keep the process alive only while the consumer waits for them: a
        // consumer that drops the iterator without return() does not hold the process.
        for (const w of this.workers) w.worker.ref();
        await new Promise<void>((resolve) => { wake = resolve; });
        for (const w of this.workers) w.worker.unref();
      }
      if (error) throw error;
      return totals;
    } finally {
      job.signal?.removeEventListener('abort', onAbort);
      this.listener = null;
      // A run ended early (error, abort, break) leaves workers mid-chunk: the pool is done.
      if (head < chunks.length || this.workers.some((w) => w.busy)) await this.close();
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}
