// Drives one WASM core over one input: a chunk of a file (window by window,
// mapped or read) or a stream of buffers. Used by the pool's workers for
// files and directly on the calling thread for streams and small buffers.
import { fstatSync } from 'node:fs';
import { Status, type WasmCore } from './wasm/bridge.js';
import { WindowReader } from './io/window.js';
import type { IoMode } from './io/window.js';

/** NDJSON handed out by the core, with how many records it holds. */
export interface Output {
  ndjson: Buffer;
  records: number;
  /** Where the records handed out so far end: after the last whole line, or at the start of a record still open (multiline). */
  through: number;
  /** Milliseconds the core spent producing this output. */
  parseMs: number;
}

/** Hand the output out once it is this large (keeps batches, latency and touched memory small). */
export const FLUSH_BYTES = 1 << 20;

export interface ChunkJob {
  fd: number;
  /** File size when the parse began: bytes after it are not read. */
  size: number;
  start: number;
  /** Lines starting at or after this offset belong to the next chunk. */
  end: number;
  /** Line number of the first line starting at or after `start`. */
  line: number;
  io: IoMode;
  windowBytes: number;
  /** A count pass already found the file this short. */
  shrunkTo?: number;
  /** The input goes on after `size` (a file still being written): its last record is held back. */
  open?: boolean;
}

export interface ChunkResult {
  records: number;
  /** LFs in [start, end): the next chunk's first line is line + newlines. */
  newlines: number;
  /** CRC32C of the bytes this chunk owned (its lines with their endings), when asked for. */
  crc: number;
  crcLength: number;
  /** The file was found shorter than `size`: nothing at or after this offset was read. */
  shrunkTo: number | undefined;
  /** Where the output ends: the next record starts here (an open job's held record), with its line number. */
  held: { offset: number; line: number };
}

/**
 * Parse the lines of one chunk of a file; yields output as it fills and
 * returns the chunk's totals. The core must be configured already. `skip`:
 * Skip flags (the chunk starts inside a line, or a record, of the one before).
 */
export function* parseChunk(core: WasmCore, job: ChunkJob, skip: number, spare: () => ArrayBuffer | undefined = () => undefined): Generator<Output, ChunkResult> {
  const x = core.exports;
  x.setOutputLimit(FLUSH_BYTES);
  const reader = new WindowReader(core, job.fd, job.io, job.windowBytes);
  x.begin(job.start, job.line, job.end >= job.size ? -1 : job.end, skip);
  // The file may shrink while it is read (or a count pass saw it shorter):
  // then nothing past the smaller size is read or reported.
  let shrunk = job.shrunkTo;
  let size = shrunk === undefined ? job.size : Math.min(job.size, shrunk);
  let pos = job.start;
  let emitted = 0;
  let delivered = job.start; // records handed out end at or before this
  let t0 = performance.now();
  const take = (): Output => {
    const records = x.recordCount() - emitted;
    emitted += records;
    const now = performance.now();
    const out = { ndjson: core.takeOutput(spare()), records, through: x.heldOffset(), parseMs: now - t0 };
    delivered = Math.max(delivered, out.through);
    t0 = now;
    return out;
  };
  const noteShrink = (to: number) => {
    shrunk = Math.min(shrunk ?? to, to);
    size = Math.min(size, shrunk);
  };
  // Before output leaves, check the file did not shrink while the core read it:
  // bytes a truncation zeroed must not come out as records.
  const shrankUnder = (): boolean => {
    const now = fstatSync(job.fd).size;
    if (now >= size) return false;
    noteShrink(now);
    return now < pos; // only if the new end falls in what was already read
  };
  const cutOutput = (): Output => {
    const cut = Math.max(shrunk!, delivered);
    const out = take();
    return { ...out, ...dropFrom(out.ndjson, cut) };
  };
  try {
    for (;;) {
      if (job.open && pos >= size) break;
      const w = reader.load(pos, size);
      if (reader.shrunkTo !== undefined) noteShrink(reader.shrunkTo);
      const last = !job.open && pos + w.len >= size;
      let ptr = w.ptr;
      let left = w.len;
      let status: number;
      for (;;) {
        status = x.feed(ptr, left, last ? 1 : 0);
        const used = x.consumedBytes();
        ptr += used;
        left -= used;
        pos += used;
        if (status !== Status.outputFull) break;
        if (shrankUnder()) {
          yield cutOutput();
          return finish(core, Math.max(shrunk!, delivered));
        }
        // Yielding with a window mapped is fine: the caller only posts the bytes.
        yield take();
      }
      // A SIGBUS caught in the window (pages past the new end read as zeros), or a shrink seen now.
      if (reader.release() || shrankUnder()) {
        noteShrink(reader.shrunkTo ?? size);
        yield cutOutput();
        return finish(core, Math.max(shrunk!, delivered));
      }
      if (status === Status.done) break;
      // Modes without output still report progress once per window.
      if (x.outputLength() >= FLUSH_BYTES || (x.outputLength() === 0 && x.recordCount() > emitted)) yield take();
    }
    if (x.outputLength() > 0 || x.recordCount() > emitted) yield take();
    // Cut short: the file ended (at its smaller size) before this chunk's last line did.
    const cutShort = shrunk !== undefined && x.position() >= size && size < job.size;
    return finish(core, cutShort ? Math.max(size, delivered) : undefined);
  } finally {
    reader.release();
  }
}

function finish(core: WasmCore, shrunkTo: number | undefined): ChunkResult {
  const x = core.exports;
  return {
    records: x.recordCount(),
    newlines: x.newlineCount(),
    crc: x.chunkCrc() >>> 0,
    crcLength: x.chunkLength(),
    shrunkTo,
    held: { offset: x.heldOffset(), line: x.heldLine() },
  };
}

/** Keep only the records that lie wholly before `cut` (rare path: a file shrank while read). */
function dropFrom(ndjson: Buffer, cut: number): { ndjson: Buffer; records: number } {
  const keep: Buffer[] = [];
  let records = 0;
  let start = 0;
  while (start < ndjson.length) {
    const end = ndjson.indexOf(10, start);
    const line = ndjson.subarray(start, end + 1);
    const r = JSON.parse(line.toString('utf8')) as { offset: number; len: number };
    if (r.offset + r.len <= cut) {
      keep.push(line);
      records++;
    }
    start = end + 1;
  }
  return { ndjson: Buffer.concat(keep), records };
}

/**
 * Count the LFs in [start, end) of a file: the pre-pass that numbers a
 * chunk's lines. `shrunkTo` is set when the file was too short to count it all.
 */
export function countChunkLines(core: WasmCore, fd: number, io: IoMode, windowBytes: number, start: number, end: number): { newlines: number; shrunkTo: number | undefined } {
  const reader = new WindowReader(core, fd, io, windowBytes);
  let n = 0;
  let pos = start;
  try {
    while (pos < end) {
      const w = reader.load(pos, end);
      if (w.len === 0) break;
      n += core.exports.countLines(w.ptr, w.len);
      pos += w.len;
      if (reader.release()) break; // zero pages: the count is short
    }
  } finally {
    reader.release();
  }
  return { newlines: n, shrunkTo: pos < end || reader.shrunkTo !== undefined ? Math.min(pos, reader.shrunkTo ?? pos) : undefined };
}

/**
 * Feed a stream of buffers to a configured core (stdin, pipes, parseBuffer):
 * copies each piece into the input region; lines may cross pieces.
 */
export class StreamFeeder {
  private readonly core: WasmCore;
  private emitted = 0;
  private t0 = performance.now();

  /** CRC32C of every byte fed so far, when asked for (`crc: true`). */
  crc: number | null;

  /** `offset` and `line`: where the first byte fed sits in its file. */
  constructor(core: WasmCore, offset = 0, line = 1, crc = false) {
    this.crc = crc ? 0 : null;
    this.core = core;
    core.exports.setOutputLimit(FLUSH_BYTES);
    core.exports.begin(offset, line, -1, 0);
  }

  /**
   * Feed one piece; `last` on the final call (an empty piece is fine).
   * `flush`: hand out what the piece gave at once (a live stream), instead of
   * gathering up to FLUSH_BYTES of output.
   */
  *push(data: Uint8Array, last: boolean, flush = false): Generator<Output> {
    const x = this.core.exports;
    const cap = this.core.inputSize;
    let off = 0;
    do {
      const n = Math.min(cap, data.length - off);
      this.core.bytes.set(data.subarray(off, off + n), this.core.inputPtr);
      if (this.crc !== null) this.crc = x.crc32c(this.core.inputPtr, n, this.crc) >>> 0;
      const final = last && off + n >= data.length;
      let ptr = this.core.inputPtr;
      let left = n;
      for (;;) {
        const status = x.feed(ptr, left, final ? 1 : 0);
        const used = x.consumedBytes();
        ptr += used;
        left -= used;
        if (status !== Status.outputFull) break;
        yield this.take();
      }
      off += n;
    } while (off < data.length);
    const pending = x.outputLength() > 0 || x.recordCount() > this.emitted;
    if (x.outputLength() >= FLUSH_BYTES || ((last || flush) && pending)) yield this.take();
  }

  private take(): Output {
    const records = this.core.exports.recordCount() - this.emitted;
    this.emitted += records;
    const now = performance.now();
    const out = { ndjson: this.core.takeOutput(), records, through: this.core.exports.heldOffset(), parseMs: now - this.t0 };
    this.t0 = now;
    return out;
  }
}

