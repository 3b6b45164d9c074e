// A pool worker: one WASM core, parsing the chunks the pool sends, one at a
// time, and posting NDJSON batches back as they fill.
import { closeSync, openSync, readSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { countChunkLines, parseChunk } from '../engine.js';
import { Skip, WasmCore } from '../wasm/bridge.js';
import { LogwireError } from '../errors.js';
import type { FromWorker, ToWorker, WorkerInit } from './protocol.js';

const init = workerData as WorkerInit;
const port = parentPort!;
// Made on the first chunk, so that a failure is reported with its code for that chunk.
let wasm: WasmCore | null = null;
function core(): WasmCore {
  wasm ??= new WasmCore({ inputBytes: init.windowBytes, maxRecordBytes: init.maxRecordBytes }, init.flavor);
  return wasm;
}

let inflight = 0;
// Output buffers the consumer gave back (recycling runs): no allocation, no garbage.
const spares: ArrayBuffer[] = [];
let wakeAck: (() => void) | null = null;
const baseWaiters = new Map<number, (line: number) => void>();
const queue: Extract<ToWorker, { type: 'chunk' }>[] = [];
let running = false;

function post(msg: FromWorker, transfer?: ArrayBuffer[]): void {
  port.postMessage(msg, transfer ?? []);
}

port.on('message', (msg: ToWorker) => {
  if (msg.type === 'ack') {
    inflight -= msg.bytes;
    if (msg.buffer && spares.length < 8) spares.push(msg.buffer);
    wakeAck?.();
  } else if (msg.type === 'base') {
    baseWaiters.get(msg.id)?.(msg.line);
  } else {
    queue.push(msg);
    if (!running) void drain();
  }
});

async function drain(): Promise<void> {
  running = true;
  while (queue.length) {
    const job = queue.shift()!;
    try {
      await runChunk(job);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const ours = err instanceof LogwireError;
      // fs and addon errors name the file; ours already say what they are about.
      post({ type: 'error', id: job.id, code: typeof e.code === 'string' ? e.code : 'LOGWIRE_ERR_WORKER', message: ours ? e.message : `${job.path}: ${e.message ?? String(err)}` });
    }
  }
  running = false;
}

async function runChunk(job: Extract<ToWorker, { type: 'chunk' }>): Promise<void> {
  const fd = openSync(job.path, 'r');
  try {
    let line = job.line;
    let shrunkTo: number | undefined;
    if (job.countFirst || line === null) {
      // A fast SIMD pass, so the chunks after this one can number their lines now.
      const counted = countChunkLines(core(), fd, job.io, init.windowBytes, job.start, job.end);
      shrunkTo = counted.shrunkTo;
      const known = line === null ? new Promise<number>((resolve) => baseWaiters.set(job.id, resolve)) : null;
      post({ type: 'count', id: job.id, newlines: counted.newlines });
      if (known) {
        line = await known;
        baseWaiters.delete(job.id);
      }
    }
    if (line === null) throw new Error('chunk started without a line number');
    let skip = 0;
    if (job.start > 0 && !job.lineStart) {
      const b = Buffer.alloc(1);
      if (readSync(fd, b, 0, 1, job.start - 1) === 1 && b[0] !== 10) skip |= Skip.partial;
      // A record that began in the chunk before is that chunk's, continuation lines and all.
      skip |= Skip.continuation;
    }
    const c = core();
    c.setZone(job.zone);
    c.configure(job.format, job.mode, job.fileName, { levelRaw: job.levelRaw, chunkCrc: job.chunkCrc, mapped: job.io === 'mmap', multiline: job.multiline, clock: job.clock ?? undefined });
    const it = parseChunk(c, { fd, size: job.size, start: job.start, end: job.end, line, io: job.io, windowBytes: init.windowBytes, shrunkTo, open: job.open }, skip, () => spares.pop());
    for (;;) {
      const r = it.next();
      if (r.done) {
        const res = r.value;
        post({ type: 'done', id: job.id, records: res.records, newlines: res.newlines, crc: res.crc, crcLength: res.crcLength, shrunkTo: res.shrunkTo ?? null, held: res.held });
        break;
      }
      const out = r.value;
      const ab = out.ndjson.buffer as ArrayBuffer; // takeOutput gives a view at 0 of its own buffer
      inflight += out.ndjson.length;
      post({ type: 'batch', id: job.id, buffer: ab, length: out.ndjson.length, records: out.records, through: out.through, parseMs: out.parseMs }, [ab]);
      // Back-pressure: wait until the consumer has taken enough.
      while (inflight > init.inflightBytes) {
        await new Promise<void>((resolve) => { wakeAck = resolve; });
        wakeAck = null;
      }
    }
  } finally {
    closeSync(fd);
  }
}
