// Positions in a followed file: where the last whole line ends, the line
// number at an offset (a SIMD count, in slices so the event loop breathes),
// and the first line at or after a time (binary search over timestamps).
import type { ConcreteFormat } from '../options.js';
import { readSync } from 'node:fs';
import { lastLineEnd, nextLineStart, PROBE } from '../io/lines.js';
import { setImmediate as tick } from 'node:timers/promises';
import { countChunkLines, StreamFeeder } from '../engine.js';
import type { WasmCore } from '../wasm/bridge.js';
import type { Zone } from '../tz.js';

/** Lines counted per turn of the event loop. */
const COUNT_SLICE = 64 << 20;

/** The line number at `offset` (a line start), counting from a known (offset, line) before it. */
export async function lineAt(core: WasmCore, fd: number, offset: number, known: { offset: number; line: number }): Promise<number> {
  let pos = known.offset <= offset ? known.offset : 0;
  let line = known.offset <= offset ? known.line : 1;
  while (pos < offset) {
    const end = Math.min(offset, pos + COUNT_SLICE);
    const { newlines, shrunkTo } = countChunkLines(core, fd, 'pread', 1 << 20, pos, end);
    line += newlines;
    if (shrunkTo !== undefined) break;
    pos = end;
    if (pos < offset) await tick();
  }
  return line;
}

/** How a file's lines are read: its format, zone, and the time a syslog time without a year is read against (its mtime). */
export interface Reading {
  format: ConcreteFormat;
  zone: Zone;
  clock: number;
}

/** Parse [start, end) of a file on the calling thread's core; NDJSON out. */
export function parseBytes(core: WasmCore, bytes: Uint8Array, how: Reading, file: string, offset: number, line: number): Buffer {
  core.setZone(how.zone);
  core.configure(how.format, 'ndjson', file, { clock: how.clock });
  const feeder = new StreamFeeder(core, offset, line);
  const parts = [...feeder.push(bytes, true)].map((o) => o.ndjson);
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
}

/** Timestamps (ms since epoch) of the records in `bytes` that start before `before`, with their offsets. */
function timestamps(core: WasmCore, bytes: Uint8Array, how: Reading, offset: number, before: number): { ts: number; offset: number }[] {
  const out: { ts: number; offset: number }[] = [];
  const ndjson = parseBytes(core, bytes, how, '', offset, 1);
  let start = 0;
  while (start < ndjson.length) {
    const end = ndjson.indexOf(10, start);
    const r = JSON.parse(ndjson.toString('utf8', start, end)) as { offset: number; ts: string | null };
    start = end + 1;
    if (r.offset >= before) break;
    if (r.ts !== null) out.push({ ts: Date.parse(r.ts), offset: r.offset });
  }
  return out;
}

/**
 * The offset of the first line whose timestamp is at or after `time` (ms),
 * by binary search over line starts; lines without a timestamp are passed
 * over. Returns `size` when every line is earlier.
 */
export function seekTime(core: WasmCore, fd: number, size: number, how: Reading, time: number): number {
  const buf = Buffer.allocUnsafe(PROBE);
  const read = (pos: number): Buffer => buf.subarray(0, readSync(fd, buf, 0, Math.min(PROBE, size - pos), pos));
  let lo = 0; // a line start: every timestamped line before it is earlier than `time`
  let hi = size; // a line start (or the end): the line here is at or after `time`
  while (hi - lo > PROBE) {
    const mid = lo + Math.floor((hi - lo) / 2);
    const ls = nextLineStart(fd, mid, hi);
    if (ls < 0 || ls >= hi) break;
    const chunk = read(ls);
    const cut = chunk.lastIndexOf(10);
    if (cut < 0) break;
    const stamps = timestamps(core, chunk.subarray(0, cut + 1), how, ls, hi);
    if (stamps.length === 0) break; // a long stretch without timestamps: finish linearly
    const first = stamps[0];
    if (first.ts < time) {
      const after = nextLineStart(fd, first.offset, hi);
      lo = after < 0 ? hi : after;
    } else hi = first.offset;
  }
  // Linear over what is left: at most a probe's worth, unless timestamps were missing.
  for (let pos = lo; pos < hi;) {
    const chunk = read(pos);
    let cut = chunk.lastIndexOf(10);
    if (cut < 0) cut = chunk.length - 1;
    const stamps = timestamps(core, chunk.subarray(0, cut + 1), how, pos, hi);
    const hit = stamps.find((s) => s.ts >= time);
    if (hit) return hit.offset;
    pos += cut + 1;
  }
  return hi;
}

