// A checkpointed position in a file, and the checks that make resuming from
// it safe: the same file (device + inode + CRC32C of its first bytes) with the
// same bytes just before the offset. Anything else is new content from 0.
import { readdirSync, readSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { crc32c } from '../crc32c.js';

/** Bytes of a file's start in its fingerprint, and bytes before the offset in `crcBefore`. */
export const FINGERPRINT_BYTES = 1024;
export const CRC_BEFORE_BYTES = 1024;

export interface FilePosition {
  dev: number;
  ino: number;
  /** CRC32C of the first fpLength bytes (fewer than FINGERPRINT_BYTES when the file was shorter). */
  fp: number;
  fpLength: number;
  /** The next unread byte, a line start. */
  offset: number;
  /** The line number at `offset`. */
  line: number;
  /** CRC32C of the crcLength bytes just before `offset`. */
  crcBefore: number;
  crcLength: number;
}

/** Fingerprint of a file's first bytes (up to FINGERPRINT_BYTES, fewer if it is shorter). */
export function fingerprint(fd: number, length: number): { fp: number; fpLength: number } {
  const n = Math.min(length, FINGERPRINT_BYTES);
  const buf = Buffer.alloc(n);
  const got = n ? readSync(fd, buf, 0, n, 0) : 0;
  return { fp: crc32c(buf.subarray(0, got)), fpLength: got };
}

function crcOf(fd: number, start: number, length: number): number | null {
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, start + got);
    if (n === 0) return null;
    got += n;
  }
  return crc32c(buf);
}

/** The position `offset` (line `line`) of an open file, with what identifies it. */
export function positionOf(fd: number, st: Stats, offset: number, line: number): FilePosition {
  const fpLength = Math.min(FINGERPRINT_BYTES, Math.max(st.size, offset));
  const crcLength = Math.min(CRC_BEFORE_BYTES, offset);
  return {
    dev: st.dev, ino: st.ino, fp: crcOf(fd, 0, fpLength) ?? 0, fpLength, offset, line,
    crcBefore: crcOf(fd, offset - crcLength, crcLength) ?? 0, crcLength,
  };
}

export type Verdict = 'same' | 'other' | 'changed';

/**
 * Whether an open file is where `pos` was taken: 'same' (continue at
 * pos.offset), 'other' (another file: a different device or inode) or
 * 'changed' (the same inode, but truncated or rewritten: start again at 0).
 */
export function checkPosition(fd: number, st: Stats, pos: FilePosition): Verdict {
  if (st.dev !== pos.dev || st.ino !== pos.ino) return 'other';
  if (st.size < pos.offset || st.size < pos.fpLength) return 'changed';
  if (crcOf(fd, 0, pos.fpLength) !== pos.fp) return 'changed';
  if (crcOf(fd, pos.offset - pos.crcLength, pos.crcLength) !== pos.crcBefore) return 'changed';
  return 'same';
}

/** A file in `dir` with this device and inode (where a rotated file went), or null. */
export function findByIdentity(dir: string, dev: number, ino: number): string | null {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return null;
  }
  for (const n of names) {
    try {
      const st = statSync(join(dir, n));
      if (st.dev === dev && st.ino === ino && st.isFile()) return join(dir, n);
    } catch {
      // gone meanwhile
    }
  }
  return null;
}
