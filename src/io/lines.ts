// Line boundaries found by reading a file directly (small probes, no parser):
// where the last whole line ends, where the next one starts.
import { readSync } from 'node:fs';

/** Bytes read per probe. */
export const PROBE = 64 << 10;

/** Offset just after the last LF in [from, to), or -1 if there is none. */
export function lastLineEnd(fd: number, from: number, to: number): number {
  const buf = Buffer.allocUnsafe(Math.min(PROBE, Math.max(0, to - from)));
  let end = to;
  while (end > from) {
    const start = Math.max(from, end - buf.length);
    const n = readSync(fd, buf, 0, end - start, start);
    const i = buf.subarray(0, n).lastIndexOf(10);
    if (i >= 0) return start + i + 1;
    end = start;
  }
  return -1;
}

/** Offset just after the first LF at or after `from` (before `to`), or -1. */
export function nextLineStart(fd: number, from: number, to: number): number {
  const buf = Buffer.allocUnsafe(PROBE);
  for (let pos = from; pos < to; pos += buf.length) {
    const n = readSync(fd, buf, 0, Math.min(buf.length, to - pos), pos);
    if (n <= 0) break;
    const i = buf.subarray(0, n).indexOf(10);
    if (i >= 0) return pos + i + 1;
  }
  return -1;
}
