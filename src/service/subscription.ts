// One subscription: a reader per file of its source, each at its own
// (offset, line), parsing new bytes and sending `records` frames while the
// subscriber's send queue has room. A replay and live following are the same
// loop; big backlogs go to the worker pool, small steps run on this thread.
import { fstatSync, readSync } from 'node:fs';
import { detectFormat } from '../detect.js';
import { parseChunk } from '../engine.js';
import { DEFAULTS } from '../options.js';
import { WorkerPool } from '../pool/pool.js';
import type { IoMode } from '../io/window.js';
import type { WasmCore } from '../wasm/bridge.js';
import type { ResolvedService } from './config.js';
import { compileFilter, encodeCursor, recordPosition, recordsFrame, type CursorEntry, type Filter } from './frames.js';
import { lastLineEnd } from '../io/lines.js';
import { lineAt } from './seek.js';
import type { RotateReason, Source, TrackedFile } from './source.js';

/** Backlogs at least this large are parsed by the worker pool. */
export const POOL_MIN_BYTES = 32 << 20;
/** Bytes a subscription parses in the pool at one go (then it lets others have the pool). */
const POOL_SEGMENT_BYTES = 64 << 20;
/** How long a subscriber whose full queue does not drain at all may keep the pool waiting. */
const POOL_HOLD_MS = 50;
/** Bytes parsed in one step on the service's thread. */
const SLICE_BYTES = 1 << 20;

/** What a subscription needs from its connection. */
export interface Outlet {
  /** Hand a frame to the socket; `done` runs once it is written out. */
  send(frame: Buffer | string, done: () => void): void;
  readonly open: boolean;
  /** Close the connection for a slow consumer. */
  drop(): void;
}

/** Shared by every subscription of a service: the thread's core, the pool, the histograms. */
export interface Engine {
  core: WasmCore;
  io: IoMode;
  options: ResolvedService;
  pool(): WorkerPool;
  /** Signs cursors (kept in the checkpoint, so cursors outlive a restart). */
  cursorKey: Buffer;
  /** Serialises use of the pool between subscriptions. */
  withPool<T>(use: (pool: WorkerPool) => Promise<T>): Promise<T>;
  /** Record an end-to-end latency (ms): line seen by the service -> frame handed to the socket. */
  e2e(ms: number): void;
  /** Record the parse time of one batch (ms). */
  parse(ms: number): void;
}

interface Reader {
  file: TrackedFile;
  pos: number;
  line: number;
  generation: number;
  /** When a last line without LF was first seen waiting. */
  partialSince: number | null;
  /** When bytes past `pos` were first seen while this reader was caught up (end-to-end latency). */
  waitingSince: number | null;
  /** Multiline: the file's size when last looked at, and since when it has had that size. */
  seenSize: number;
  seenAt: number;
}

export class Subscription {
  readonly id: string;
  readonly source: Source;
  private readonly engine: Engine;
  private readonly outlet: Outlet;
  private readonly test: ((line: string) => boolean) | null;
  private readonly head: string;
  private readonly readers = new Map<number, Reader>();
  /** Bytes handed to the socket and not yet written out. */
  queued = 0;
  live = false;
  sentRecords = 0;
  private closed = false;
  private wakeUp: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly onGrow: (f: TrackedFile) => void;
  private readonly onRotate: (f: TrackedFile, reason: RotateReason) => void;

  /** Called when a file the subscription reads from 0 appears (before anything of it is sent). */
  onNewFile: ((f: TrackedFile) => void) | null = null;
  /** Called once when the subscription ends (closed, failed or its connection dropped for being slow). */
  onEnd: (() => void) | null = null;

  constructor(id: string, source: Source, filter: Filter, engine: Engine, outlet: Outlet) {
    this.id = id;
    this.source = source;
    this.engine = engine;
    this.outlet = outlet;
    this.test = compileFilter(filter);
    this.head = `{"op":"records","id":${JSON.stringify(id)}`;
    this.onGrow = (f) => {
      const r = this.readers.get(f.seq);
      // The first growth seen since the reader last reached the end starts the latency clock.
      if (r) r.waitingSince ??= f.grewAt;
      this.wake();
    };
    this.onRotate = (f, reason) => {
      if (this.closed) return;
      if (reason === 'created' && !this.readers.has(f.seq)) {
        this.addReader(f, 0, 1);
        this.onNewFile?.(f);
      }
      this.sendJson({ op: 'rotated', id: this.id, file: f.path, reason, ...(reason === 'renamed' ? { to: f.movedTo } : {}) });
      this.wake();
    };
  }

  /** Start reading: `at` gives each file's starting (offset, line); gaps are reported first. */
  start(at: Map<TrackedFile, { offset: number; line: number }>, gaps: { file: string; from: number; to: number | null; reason: string }[], extra: object = {}): void {
    for (const [f, p] of at) this.addReader(f, p.offset, p.line);
    this.source.on('grow', this.onGrow);
    this.source.on('rotate', this.onRotate);
    this.sendJson({ op: 'subscribed', id: this.id, source: this.source.config.name, ...extra, files: [...this.readers.values()].map((r) => ({ file: r.file.path, offset: r.pos })) });
    for (const g of gaps) this.sendJson({ op: 'gap', id: this.id, ...g });
    void this.run().catch((err: Error) => {
      this.sendJson({ op: 'error', id: this.id, code: 'internal', message: err.message });
      this.close();
    });
  }

  private addReader(f: TrackedFile, offset: number, line: number): void {
    f.readers++;
    this.readers.set(f.seq, { file: f, pos: offset, line, generation: f.generation, partialSince: null, waitingSince: null, seenSize: -1, seenAt: 0 });
  }

  private removeReader(r: Reader): void {
    this.readers.delete(r.file.seq);
    r.file.readers--;
    this.source.release(r.file);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.source.off('grow', this.onGrow);
    this.source.off('rotate', this.onRotate);
    for (const r of [...this.readers.values()]) this.removeReader(r);
    if (this.timer) clearTimeout(this.timer);
    this.wake();
    this.onEnd?.();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Bytes of the source's files this subscription has not read yet. */
  lag(): number {
    let n = 0;
    for (const r of this.readers.values()) n += Math.max(0, r.file.size - r.pos);
    return n;
  }

  position(f: TrackedFile): number | undefined {
    return this.readers.get(f.seq)?.pos;
  }

  private wake(): void {
    const w = this.wakeUp;
    this.wakeUp = null;
    w?.();
  }

  private sleep(ms?: number): Promise<void> {
    return new Promise((resolve) => {
      this.wakeUp = resolve;
      if (ms !== undefined) {
        if (this.timer) clearTimeout(this.timer);
        this.timer = setTimeout(() => this.wake(), ms);
      }
    });
  }

  private sendJson(msg: object): void {
    this.sendFrame(JSON.stringify(msg));
  }

  private sendFrame(frame: Buffer | string): void {
    if (this.closed || !this.outlet.open) return;
    const n = typeof frame === 'string' ? Buffer.byteLength(frame) : frame.length;
    this.queued += n;
    this.outlet.send(frame, () => {
      this.queued -= n;
      if (this.queued <= this.engine.options.queueBytes / 2) this.wake();
    });
  }

  private get full(): boolean {
    return this.queued >= this.engine.options.queueBytes;
  }

  private cursor(): string {
    const entries: CursorEntry[] = [];
    for (const r of this.readers.values()) {
      const f = r.file;
      entries.push({ path: f.path, dev: f.dev, ino: f.ino, fp: f.fp, fpLength: f.fpLength, offset: r.pos, line: r.line });
    }
    return encodeCursor(this.source.config.name, entries, this.engine.cursorKey);
  }

  private async run(): Promise<void> {
    const { options } = this.engine;
    let rr = 0; // round robin over readers
    while (!this.closed && this.outlet.open) {
      if (this.full) {
        if (this.live && this.source.config.policy === 'disconnect') {
          this.sendJson({ op: 'error', id: this.id, code: 'slow_consumer', message: `the send queue passed ${options.queueBytes} bytes` });
          this.outlet.drop();
          this.close();
          return;
        }
        const dropping = this.live && this.source.config.policy === 'drop';
        while (this.full && !this.closed && this.outlet.open) await this.sleep();
        if (dropping) await this.skipToEnd();
        continue;
      }
      // Files rotated away come first, oldest first: the old file is read to its end before the new one.
      // The live files take turns.
      const all = [...this.readers.values()];
      const live = all.filter((x) => x.file.live);
      const order = [...all.filter((x) => !x.file.live), ...live.map((_, k) => live[(rr + k) % live.length])];
      let worked = false;
      let soonest = Infinity;
      for (const r of order) {
        const res = await this.step(r);
        if (res === true) {
          worked = true;
          if (r.file.live) rr = (live.indexOf(r) + 1) % live.length;
          break;
        }
        if (typeof res === 'number') soonest = Math.min(soonest, res);
      }
      if (worked) {
        // Let other subscriptions, the socket and the watchers run between steps.
        await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      if (!this.live) {
        this.live = true;
        this.sendJson({ op: 'caught_up', id: this.id });
      }
      if (options.batchDelayMs > 0) soonest = Math.max(soonest, options.batchDelayMs);
      await this.sleep(Number.isFinite(soonest) ? soonest : undefined);
      if (options.batchDelayMs > 0 && !this.closed) await new Promise((resolve) => setTimeout(resolve, options.batchDelayMs));
    }
  }

  /**
   * One step for one reader: true if it read something, a number of ms to
   * wait for a partial line, or false when there is nothing to do.
   */
  private async step(r: Reader): Promise<boolean | number> {
    const f = r.file;
    let size: number;
    try {
      size = fstatSync(f.fd).size;
    } catch {
      this.removeReader(r);
      return false;
    }
    // Cut (and maybe written again) before the source noticed: the source tells every reader.
    if (r.generation === f.generation && r.pos > 0) {
      if (size < r.pos) this.source.truncated(f);
      else this.source.verify(f, size);
    }
    if (r.generation !== f.generation) {
      // Truncated (copytruncate): read again from the start; what this reader had not read of the old content is gone.
      if (r.pos < f.truncatedFrom) this.sendJson({ op: 'gap', id: this.id, file: f.path, from: r.pos, to: f.truncatedFrom, reason: 'truncated' });
      r.generation = f.generation;
      r.pos = 0;
      r.line = 1;
    }
    if (size < r.pos) return false;
    if (size === r.pos) {
      r.partialSince = null;
      if (!f.live && this.source.files.has(f.seq)) {
        // Rotated away or deleted and read to its end: lines the writer adds before it reopens are still read for a while.
        const wait = this.engine.options.rotateWaitMs - (performance.now() - f.goneAt);
        if (wait > 0) return wait;
        this.removeReader(r);
      }
      return false;
    }
    let cut = lastLineEnd(f.fd, r.pos, size);
    let flushPartial = false;
    if (cut < 0) {
      const now = performance.now();
      r.partialSince ??= now;
      const wait = this.engine.options.partialFlushMs - (now - r.partialSince);
      if (wait > 0) return wait;
      cut = size; // flushed as it is
      flushPartial = true;
    }
    r.partialSince = null;
    // Multiline: a file's last record may go on in lines not written yet. It is held back
    // until a line starts the next record, or the file has been quiet for flushMs, or is gone.
    const ml = this.source.config.multiline;
    let waiting = false;
    if (ml) {
      const now = performance.now();
      if (size !== r.seenSize) {
        r.seenSize = size;
        r.seenAt = now;
      }
      waiting = f.live && !flushPartial && now - r.seenAt < ml.flushMs;
    }
    // Whether a parse that ends at `end` holds its last record back: always when more follows.
    const openAt = (end: number) => ml !== null && (end < size || waiting);
    const before = r.pos;
    if (f.format === null) {
      const sample = Buffer.alloc(Math.min(65536, size));
      const n = readSync(f.fd, sample, 0, sample.length, 0);
      f.format = this.source.config.format === 'auto' ? detectFormat(this.engine.core, sample.subarray(0, n), n === size, this.source.config.multiline) : this.source.config.format;
    }
    if (cut - r.pos >= POOL_MIN_BYTES) {
      let end = cut;
      if (end - r.pos > POOL_SEGMENT_BYTES) {
        const e = lastLineEnd(f.fd, r.pos, r.pos + POOL_SEGMENT_BYTES);
        if (e > r.pos) end = e;
      }
      await this.poolStep(r, end, openAt(end));
    } else {
      let end = cut;
      if (end - r.pos > SLICE_BYTES) {
        const e = lastLineEnd(f.fd, r.pos, r.pos + SLICE_BYTES);
        if (e > r.pos) end = e;
      }
      this.threadStep(r, end, openAt(end));
      // One record longer than the slice: read all there is.
      if (openAt(end) && r.pos === before && end < cut && !this.full) this.threadStep(r, cut, openAt(cut));
    }
    if (r.pos >= size) r.waitingSince = null;
    // Only a held record left: look again when the file would be quiet long enough.
    if (ml && r.pos === before) return Math.max(1, ml.flushMs - (performance.now() - r.seenAt));
    return true;
  }

  private threadStep(r: Reader, end: number, open: boolean): void {
    const f = r.file;
    const { core } = this.engine;
    core.setZone(this.source.config.zone);
    core.configure(f.format!, 'ndjson', f.path, { multiline: this.source.config.multiline, clock: f.mtimeMs });
    const t0 = performance.now();
    const it = parseChunk(core, { fd: f.fd, size: end, start: r.pos, end, line: r.line, io: 'pread', windowBytes: 1 << 20, open }, 0);
    const parts: Buffer[] = [];
    let records = 0;
    for (;;) {
      const x = it.next();
      if (x.done) {
        const res = x.value;
        const held = open && res.shrunkTo === undefined;
        const to = res.shrunkTo ?? (held ? res.held.offset : end);
        this.engine.parse(performance.now() - t0);
        // A reader whose queue fills stops mid-way; the rest is parsed again when it drains.
        this.deliver(r, parts.length === 1 ? parts[0] : Buffer.concat(parts), records, to, held ? res.held.line : r.line + res.newlines, true);
        return;
      }
      parts.push(x.value.ndjson);
      records += x.value.records;
    }
  }

  private async poolStep(r: Reader, end: number, open: boolean): Promise<void> {
    const f = r.file;
    await this.engine.withPool(async (pool) => {
      if (this.closed) return;
      // Where the run starts: deliver() moves r on as batches go out.
      const base = { pos: r.pos, line: r.line };
      const it = pool.run({
        // The worker threads share this process's descriptors: this path reaches the file even if renamed or deleted.
        path: `/proc/self/fd/${f.fd}`, fileName: f.path, size: end, start: r.pos, line: r.line, format: f.format!, mode: 'ndjson',
        zone: this.source.config.zone, io: this.engine.io, levelRaw: false, chunkCrc: false, chunkBytes: DEFAULTS.chunkBytes,
        multiline: this.source.config.multiline, clock: f.mtimeMs, open,
      });
      // Batches are held until the next one arrives: a frame's cursor is the position of the record after it.
      let held: { ndjson: Buffer; records: number } | null = null;
      for (;;) {
        const x = await it.next();
        if (x.done) {
          // Open: the last record is held back, and the reader ends where it starts.
          const rest = open && x.value.shrunkTo === undefined ? x.value.held : undefined;
          const to = x.value.shrunkTo ?? rest?.offset ?? end;
          const line = rest?.line ?? base.line + x.value.newlines;
          if (this.closed) return;
          if (held) this.deliver(r, held.ndjson, held.records, to, line);
          else this.advance(r, to, line);
          return;
        }
        this.engine.parse(x.value.parseMs);
        if (x.value.records === 0) continue;
        if (this.closed) {
          await it.return(undefined as never);
          return;
        }
        if (held) {
          const next = recordPosition(x.value.ndjson, 0);
          this.deliver(r, held.ndjson, held.records, next.offset, next.line);
        }
        held = { ndjson: x.value.ndjson, records: x.value.records };
        // A slow reader keeps the pool while its queue drains; one that stops reading gives it up.
        while (this.full && !this.closed && this.outlet.open) {
          const before = this.queued;
          await Promise.race([this.sleep(), new Promise((resolve) => setTimeout(resolve, POOL_HOLD_MS))]);
          if (this.queued >= before) break;
        }
        if (this.closed || this.full || !this.outlet.open) {
          // Give the pool up; the held batch is read again later (the position is before it).
          await it.return(undefined as never);
          return;
        }
      }
    });
  }

  private advance(r: Reader, to: number, line: number): void {
    this.source.bytesParsed += Math.max(0, to - r.pos);
    r.pos = to;
    r.line = line;
    if (to >= r.file.known.offset && r.generation === r.file.generation) r.file.known = { offset: to, line };
  }

  /**
   * Send NDJSON records as frames of at most batchBytes; the reader ends at
   * (to, line) after the last one. A frame's cursor is the position after it.
   */
  private deliver(r: Reader, ndjson: Buffer, records: number, to: number, line: number, stopWhenFull = false): void {
    this.source.recordsParsed += records;
    const limit = this.engine.options.batchBytes;
    const head = `${this.head},"file":${JSON.stringify(r.file.path)}`;
    let start = 0;
    while (start < ndjson.length) {
      // Whole lines up to the frame limit (at least one).
      let end = ndjson.length;
      if (end - start > limit) {
        const cut = ndjson.lastIndexOf(10, start + limit - 1);
        end = cut >= start ? cut + 1 : ndjson.indexOf(10, start) + 1;
      }
      const after = end < ndjson.length ? recordPosition(ndjson, end) : { offset: to, line };
      this.advance(r, after.offset, after.line);
      let body = ndjson;
      let bodyStart = start;
      let bodyEnd = end;
      if (this.test) {
        const kept: Buffer[] = [];
        for (let i = start; i < end;) {
          const nl = ndjson.indexOf(10, i);
          if (this.test(ndjson.toString('utf8', i, nl))) kept.push(ndjson.subarray(i, nl + 1));
          i = nl + 1;
        }
        start = end;
        if (kept.length === 0) continue;
        body = Buffer.concat(kept);
        bodyStart = 0;
        bodyEnd = body.length;
      }
      start = end;
      const { frame, count } = recordsFrame(head, body, bodyStart, bodyEnd, this.cursor());
      this.sendFrame(frame);
      this.sentRecords += count;
      if (this.live && r.waitingSince !== null) this.engine.e2e(performance.now() - r.waitingSince);
      if (stopWhenFull && this.full && start < ndjson.length) return;
    }
    this.advance(r, to, line);
  }

  /** Policy drop: skip every reader to the live end, reporting what was skipped. */
  private async skipToEnd(): Promise<void> {
    for (const r of [...this.readers.values()]) {
      const f = r.file;
      if (this.closed) return;
      if (r.generation !== f.generation) continue; // truncated: its reader starts again at 0 anyway
      const size = fstatSync(f.fd).size;
      const end = lastLineEnd(f.fd, r.pos, size);
      if (end <= r.pos) continue;
      const from = r.pos;
      const line = await lineAt(this.engine.core, f.fd, end, { offset: r.pos, line: r.line });
      if (this.closed || r.generation !== f.generation) return;
      r.pos = end;
      r.line = line;
      r.waitingSince = null;
      this.sendJson({ op: 'gap', id: this.id, file: f.path, from, to: end, reason: 'slow_consumer' });
    }
  }
}
