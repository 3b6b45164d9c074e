// What goes on the wire: filters over NDJSON records, cursors, and `records`
// frames built from the core's NDJSON bytes without re-serialising them.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FilePosition } from '../durability/position.js';
import { createError, ErrorCodes } from '../errors.js';

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

export interface Filter {
  level?: string;
  match?: Record<string, string>;
  contains?: string;
}

/** Check a client's filter; a message for the client when it is wrong. */
export function checkFilter(f: unknown): Filter | string {
  if (f === undefined) return {};
  if (f === null || typeof f !== 'object' || Array.isArray(f)) return '"filter" must be an object';
  const out: Filter = {};
  for (const [k, v] of Object.entries(f)) {
    if (k === 'level') {
      if (typeof v !== 'string' || !LEVELS.includes(v.toLowerCase())) return `"filter.level" must be one of ${LEVELS.join(', ')}`;
      out.level = v.toLowerCase();
    } else if (k === 'match') {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) return '"filter.match" must be an object of field names to values';
      const m: Record<string, string> = {};
      for (const [mk, mv] of Object.entries(v)) {
        if (typeof mv !== 'string' && typeof mv !== 'number' && typeof mv !== 'boolean') return `"filter.match.${mk}" must be a string, number or boolean`;
        m[mk] = String(mv);
      }
      out.match = m;
    } else if (k === 'contains') {
      if (typeof v !== 'string' || v === '') return '"filter.contains" must be a non-empty string';
      out.contains = v;
    } else {
      return `"filter" has an unknown part "${k}" (level, match, contains)`;
    }
  }
  return out;
}

interface Rec {
  file: string;
  level: string | null;
  msg: string | null;
  fields: Record<string, unknown>;
}

const text = (v: unknown): string => (typeof v === 'string' ? v : v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));

/** A predicate over NDJSON lines, or null when the filter lets everything through. */
export function compileFilter(f: Filter): ((line: string) => boolean) | null {
  if (f.level === undefined && f.match === undefined && f.contains === undefined) return null;
  const min = f.level === undefined ? -1 : LEVELS.indexOf(f.level);
  // A cheap test on the raw bytes first when the text escapes to itself in JSON.
  const plain = f.contains !== undefined && JSON.stringify(f.contains) === `"${f.contains}"` ? f.contains : null;
  return (line) => {
    if (plain !== null && !line.includes(plain)) return false;
    const r = JSON.parse(line) as Rec;
    if (min >= 0 && (r.level === null || LEVELS.indexOf(r.level) < min)) return false;
    if (f.match) {
      for (const [k, want] of Object.entries(f.match)) {
        const got = k === 'msg' || k === 'level' || k === 'file' ? r[k] : r.fields[k];
        if (got === undefined || text(got) !== want) return false;
      }
    }
    if (f.contains !== undefined) {
      const needle = f.contains;
      if (!text(r.msg).includes(needle) && !Object.values(r.fields).some((v) => text(v).includes(needle))) return false;
    }
    return true;
  };
}

/**
 * A position in one file: its identity and offset/line as a checkpoint keeps
 * them (without the CRC before the offset, which an ack adds), and where the
 * file was when the cursor was made (for messages only).
 */
export type CursorEntry = Omit<FilePosition, 'crcBefore' | 'crcLength'> & { path: string };

/** The cursor's signature: a client can only hand back positions this service gave out. */
function sign(key: Buffer, body: string): string {
  return createHmac('sha256', key).update(body).digest().subarray(0, 16).toString('base64url');
}

export function encodeCursor(source: string, entries: CursorEntry[], key: Buffer): string {
  const body = Buffer.from(JSON.stringify([source, entries.map((e) => [e.path, e.dev, e.ino, e.fp, e.fpLength, e.offset, e.line])])).toString('base64url');
  return `${body}.${sign(key, body)}`;
}

export function decodeCursor(cursor: unknown, key: Buffer): { source: string; entries: CursorEntry[] } {
  const fail = () => createError(ErrorCodes.INVALID_OPTION, '"cursor" is not a cursor this service gave out');
  if (typeof cursor !== 'string' || cursor.length > 1 << 20) throw fail();
  const dot = cursor.lastIndexOf('.');
  const text = cursor.slice(0, dot);
  const mac = Buffer.from(cursor.slice(dot + 1));
  const want = Buffer.from(sign(key, text));
  if (dot < 0 || mac.length !== want.length || !timingSafeEqual(mac, want)) throw fail();
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw fail();
  }
  if (!Array.isArray(body) || body.length !== 2 || typeof body[0] !== 'string' || !Array.isArray(body[1])) throw fail();
  const entries = (body[1] as unknown[]).map((e) => {
    if (!Array.isArray(e) || e.length !== 7 || typeof e[0] !== 'string' || !e.slice(1).every((n) => Number.isSafeInteger(n) && n >= 0)) throw fail();
    const [path, dev, ino, fp, fpLength, offset, line] = e as [string, ...number[]];
    return { path, dev, ino, fp, fpLength, offset, line };
  });
  return { source: body[0], entries };
}

/** `offset` and `line` of the NDJSON record that starts at `at` (the core writes them right after `file`). */
export function recordPosition(ndjson: Buffer, at: number): { offset: number; line: number } {
  // Inside the file name a quote is always escaped, so `,"offset":` is the key itself.
  let i = ndjson.indexOf(',"offset":', at) + 10;
  let offset = 0;
  for (let c = ndjson[i]; c >= 48 && c <= 57; c = ndjson[++i]) offset = offset * 10 + (c - 48);
  i += 8; // ,"line":
  let line = 0;
  for (let c = ndjson[i]; c >= 48 && c <= 57; c = ndjson[++i]) line = line * 10 + (c - 48);
  return { offset, line };
}

/**
 * The `records` frame for the NDJSON lines [start, end) of `ndjson` (each
 * ending in LF), and how many records it holds.
 */
export function recordsFrame(head: string, ndjson: Buffer, start: number, end: number, cursor: string): { frame: Buffer; count: number } {
  // The body is copied first, the header (which has the count) is put right in front of it.
  const room = Buffer.byteLength(head) + cursor.length + 64;
  const out = Buffer.allocUnsafe(room + (end - start) + 1);
  ndjson.copy(out, room, start, end);
  // LF only ever separates records (inside strings it is escaped): each becomes a comma, the last one the bracket.
  const stop = out.length - 2;
  let count = 0;
  for (let i = room; ;) {
    const j = out.indexOf(10, i);
    count++;
    if (j >= stop || j < 0) break;
    out[j] = 44;
    i = j + 1;
  }
  out[stop] = 93;
  out[stop + 1] = 125;
  const pre = Buffer.from(`${head},"count":${count},"cursor":"${cursor}","records":[`);
  pre.copy(out, room - pre.length);
  return { frame: out.subarray(room - pre.length), count };
}
