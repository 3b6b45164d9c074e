// The checkpoint store: a key → JSON value map kept in an append-only
// write-ahead log of CRC32C-framed records, group-committed with fsync and
// compacted into a snapshot. Recovery keeps every whole, valid record before
// the first bad one: a torn tail is a writer that died, not an error.
//
// Record: [length u32 LE][masked CRC32C u32 LE][type u8][sequence u64 LE][payload]
// `length` counts the payload; the CRC covers type, sequence and payload and is
// masked as LevelDB does, so a CRC of data that holds CRCs stays strong.
import * as fs from 'node:fs';
import { dirname } from 'node:path';
import { crc32c } from '../crc32c.js';
import { createError, ErrorCodes } from '../errors.js';

export const HEADER_BYTES = 17;
export const RecordType = { put: 1, delete: 2 } as const;
/** Records longer than this are taken as a corrupt length. */
const MAX_PAYLOAD = 16 << 20;

const MASK_DELTA = 0xa282ead8;
export function maskCrc(crc: number): number {
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + MASK_DELTA) >>> 0;
}
export function unmaskCrc(masked: number): number {
  const rot = (masked - MASK_DELTA) >>> 0;
  return ((rot >>> 17) | (rot << 15)) >>> 0;
}

export function encodeRecord(type: number, seq: bigint, payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  out.writeUInt32LE(payload.length, 0);
  out.writeUInt8(type, 8);
  out.writeBigUInt64LE(seq, 9);
  payload.copy(out, HEADER_BYTES);
  out.writeUInt32LE(maskCrc(crc32c(out.subarray(8))), 4);
  return out;
}

export interface DecodedRecord {
  type: number;
  seq: bigint;
  payload: Buffer;
}

export interface ReadResult {
  records: DecodedRecord[];
  /** Bytes of whole, valid records from the start. */
  goodBytes: number;
  /** Set when a bad record was found before the end (not a torn tail): what was wrong. */
  corruption: string | null;
}

/** Only zero bytes from `from` to the end. */
function zeros(buf: Buffer, from: number): boolean {
  for (let i = from; i < buf.length; i++) if (buf[i] !== 0) return false;
  return true;
}

/** Whole, valid records from the start of `buf`, up to the first bad one. */
export function readRecords(buf: Buffer): ReadResult {
  const records: DecodedRecord[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const left = buf.length - pos;
    if (left < HEADER_BYTES) return { records, goodBytes: pos, corruption: null }; // torn header
    const len = buf.readUInt32LE(pos);
    const end = pos + HEADER_BYTES + len;
    if (zeros(buf, pos)) return { records, goodBytes: pos, corruption: null }; // a zero-filled tail: torn
    if (len > MAX_PAYLOAD) return { records, goodBytes: pos, corruption: `a record length of ${len} bytes at offset ${pos}` };
    if (end > buf.length) return { records, goodBytes: pos, corruption: null }; // torn body
    const crc = unmaskCrc(buf.readUInt32LE(pos + 4));
    const type = buf[pos + 8];
    if (crc !== crc32c(buf.subarray(pos + 8, end)) || (type !== RecordType.put && type !== RecordType.delete)) {
      // The last record cut short by a crash also fails its CRC, and a power loss can leave zeros after it:
      // only a bad record with more data after it is damage.
      const last = end === buf.length || zeros(buf, pos);
      return { records, goodBytes: pos, corruption: last ? null : `a record at offset ${pos} fails its CRC32C` };
    }
    records.push({ type, seq: buf.readBigUInt64LE(pos + 9), payload: buf.subarray(pos + HEADER_BYTES, end) });
    pos = end;
  }
  return { records, goodBytes: pos, corruption: null };
}

/** The file operations the store uses: replaceable in tests to inject ENOSPC and EIO. */
export interface StoreIo {
  openSync: typeof fs.openSync;
  writeSync: (fd: number, buf: Buffer) => number;
  fsyncSync: typeof fs.fsyncSync;
  ftruncateSync: typeof fs.ftruncateSync;
  closeSync: typeof fs.closeSync;
  renameSync: typeof fs.renameSync;
  readFileSync: (path: string) => Buffer;
}

export const realIo: StoreIo = {
  openSync: fs.openSync,
  writeSync: (fd, buf) => fs.writeSync(fd, buf),
  fsyncSync: fs.fsyncSync,
  ftruncateSync: fs.ftruncateSync,
  closeSync: fs.closeSync,
  renameSync: fs.renameSync,
  readFileSync: (path) => fs.readFileSync(path),
};

export interface StoreOptions {
  /** Group commit: pending changes are written and fsynced this often (ms; 0: only on flush()). */
  syncMs?: number;
  /** Compact into the snapshot once the log passes this many bytes. */
  compactBytes?: number;
  io?: StoreIo;
  /** A failed write or fsync (the store keeps the changes and tries again at the next commit). */
  onError?: (err: Error) => void;
}

export const STORE_DEFAULTS = { syncMs: 200, compactBytes: 4 << 20 };

export interface Recovery {
  /** Valid records read (snapshot and log). */
  records: number;
  /** Bad records found before the end (each one skips the rest of its file). */
  corrupt: number;
  /** Bytes of a torn tail dropped. */
  tornBytes: number;
  /** One line per problem, for the log. */
  messages: string[];
}

function fsyncDir(io: StoreIo, path: string): void {
  const fd = io.openSync(dirname(path), 'r');
  try {
    io.fsyncSync(fd);
  } finally {
    io.closeSync(fd);
  }
}

export class CheckpointStore {
  readonly path: string;
  readonly snapshotPath: string;
  readonly recovery: Recovery;
  private readonly io: StoreIo;
  private readonly options: Required<Omit<StoreOptions, 'io' | 'onError'>>;
  private readonly onError: (err: Error) => void;
  /** The state as of the last successful commit. */
  private readonly durable = new Map<string, unknown>();
  /** Changes not committed yet (undefined: deleted). */
  private readonly pending = new Map<string, unknown>();
  private fd: number;
  private size = 0;
  private seq = 0n;
  private timer: NodeJS.Timeout | null = null;
  /** Bytes past `size` may be in the log (a failed write not cut away yet): cut them before writing. */
  private dirty = false;
  private closed = false;
  /** The last commit failure, cleared by the next success. */
  lastError: Error | null = null;
  commits = 0;
  failures = 0;

  private constructor(path: string, options: StoreOptions) {
    this.path = path;
    this.snapshotPath = `${path}.snap`;
    this.io = options.io ?? realIo;
    this.options = { syncMs: options.syncMs ?? STORE_DEFAULTS.syncMs, compactBytes: options.compactBytes ?? STORE_DEFAULTS.compactBytes };
    this.onError = options.onError ?? (() => {});
    this.recovery = { records: 0, corrupt: 0, tornBytes: 0, messages: [] };
    const snap = this.load(this.snapshotPath, 0n);
    const log = this.load(this.path, snap.maxSeq);
    this.seq = log.maxSeq > snap.maxSeq ? log.maxSeq : snap.maxSeq;
    const created = !fs.existsSync(path);
    try {
      this.fd = this.io.openSync(path, 'a+');
      // A new file's name is in its folder only once the folder is synced.
      if (created) fsyncDir(this.io, path);
    } catch (err) {
      throw createError(ErrorCodes.IO, `checkpoint ${path}: ${(err as Error).message}`, err);
    }
    this.size = log.goodBytes;
    try {
      if (log.damaged) {
        // Start clean: everything valid goes into a new snapshot, the log starts empty.
        this.compact();
      } else if (log.torn) {
        this.io.ftruncateSync(this.fd, log.goodBytes);
        this.io.fsyncSync(this.fd);
      }
    } catch (err) {
      // A full or failing disk at start: go on from the good part; the bad tail is cut before the next write.
      this.dirty = true;
      this.recovery.messages.push(`checkpoint ${path}: could not clean up after recovery (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); trying again at the next commit`);
    }
    if (this.options.syncMs > 0) {
      this.timer = setInterval(() => this.commit(), this.options.syncMs);
      this.timer.unref();
    }
  }

  /** Open (or create) the store at `path`, recovering what it holds. */
  static open(path: string, options: StoreOptions = {}): CheckpointStore {
    return new CheckpointStore(path, options);
  }

  private load(path: string, after: bigint): { maxSeq: bigint; goodBytes: number; torn: boolean; damaged: boolean } {
    let buf: Buffer;
    try {
      buf = this.io.readFileSync(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { maxSeq: after, goodBytes: 0, torn: false, damaged: false };
      throw createError(ErrorCodes.IO, `checkpoint ${path}: ${(err as Error).message}`, err);
    }
    const r = readRecords(buf);
    let maxSeq = after;
    for (const rec of r.records) {
      // Records already in the snapshot (a crash between snapshot and log reset) are skipped.
      if (after > 0n && rec.seq <= after) continue;
      if (rec.seq > maxSeq) maxSeq = rec.seq;
      this.recovery.records++;
      let body: { k: string; v?: unknown };
      try {
        body = JSON.parse(rec.payload.toString('utf8')) as { k: string; v?: unknown };
      } catch {
        continue; // a valid CRC over bad JSON: written by something else; skip it
      }
      if (rec.type === RecordType.put) this.durable.set(body.k, body.v);
      else this.durable.delete(body.k);
    }
    const torn = r.corruption === null && r.goodBytes < buf.length;
    if (torn) this.recovery.tornBytes += buf.length - r.goodBytes;
    if (r.corruption !== null) {
      this.recovery.corrupt++;
      this.recovery.messages.push(`checkpoint ${path}: ${r.corruption}; the ${buf.length - r.goodBytes} bytes from there on were skipped`);
    }
    return { maxSeq, goodBytes: r.goodBytes, torn, damaged: r.corruption !== null };
  }

  /** The latest value (committed or not). */
  get(key: string): unknown {
    return this.pending.has(key) ? this.pending.get(key) : this.durable.get(key);
  }

  /** The value as of the last successful commit (what a crash now would leave). */
  getDurable(key: string): unknown {
    return this.durable.get(key);
  }

  keys(): string[] {
    const all = new Set([...this.durable.keys(), ...this.pending.keys()]);
    return [...all].filter((k) => this.get(k) !== undefined);
  }

  put(key: string, value: unknown): void {
    if (this.closed) throw createError(ErrorCodes.IO, `checkpoint ${this.path} is closed`);
    this.pending.set(key, value);
  }

  delete(key: string): void {
    this.pending.set(key, undefined);
  }

  /**
   * Write and fsync the pending changes. False if that failed: the changes
   * stay pending and the durable state does not move.
   */
  commit(): boolean {
    if (this.pending.size === 0 || this.closed) return true;
    const batch = [...this.pending];
    const parts: Buffer[] = [];
    let seq = this.seq;
    for (const [k, v] of batch) {
      seq++;
      const payload = Buffer.from(JSON.stringify(v === undefined ? { k } : { k, v }));
      parts.push(encodeRecord(v === undefined ? RecordType.delete : RecordType.put, seq, payload));
    }
    const bytes = Buffer.concat(parts);
    try {
      if (this.dirty) {
        // A half-written batch must never sit in front of later records.
        this.io.ftruncateSync(this.fd, this.size);
        this.dirty = false;
      }
      let off = 0;
      while (off < bytes.length) off += this.io.writeSync(this.fd, bytes.subarray(off));
      this.io.fsyncSync(this.fd);
    } catch (err) {
      this.failures++;
      this.lastError = createError(ErrorCodes.IO, `checkpoint ${this.path}: write failed (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); the checkpoint stays at its last good state`, err);
      this.dirty = true;
      try {
        this.io.ftruncateSync(this.fd, this.size);
        this.dirty = false;
      } catch {
        // cut before the next write
      }
      this.onError(this.lastError);
      return false;
    }
    this.seq = seq;
    this.size += bytes.length;
    for (const [k, v] of batch) {
      if (this.pending.get(k) === v) this.pending.delete(k);
      if (v === undefined) this.durable.delete(k);
      else this.durable.set(k, v);
    }
    this.lastError = null;
    this.commits++;
    if (this.size > this.options.compactBytes) {
      try {
        this.compact();
      } catch (err) {
        this.onError(createError(ErrorCodes.IO, `checkpoint ${this.path}: compaction failed: ${(err as Error).message}`, err));
      }
    }
    return true;
  }

  /** Write the durable state as a snapshot (temp, fsync, rename, fsync the folder), then empty the log. */
  private compact(): void {
    const tmp = `${this.snapshotPath}.tmp`;
    // Every snapshot record carries the current sequence number: log records up to it are then skipped.
    const parts = [...this.durable].map(([k, v]) => encodeRecord(RecordType.put, this.seq, Buffer.from(JSON.stringify({ k, v }))));
    const fd = this.io.openSync(tmp, 'w');
    try {
      const bytes = Buffer.concat(parts);
      let off = 0;
      while (off < bytes.length) off += this.io.writeSync(fd, bytes.subarray(off));
      this.io.fsyncSync(fd);
    } finally {
      this.io.closeSync(fd);
    }
    this.io.renameSync(tmp, this.snapshotPath);
    fsyncDir(this.io, this.snapshotPath);
    this.io.ftruncateSync(this.fd, 0);
    this.io.fsyncSync(this.fd);
    this.size = 0;
  }

  /** Commit what is pending and close. */
  close(): boolean {
    if (this.closed) return true;
    if (this.timer) clearInterval(this.timer);
    const ok = this.commit();
    this.closed = true;
    this.io.closeSync(this.fd);
    return ok;
  }
}
