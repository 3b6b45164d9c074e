// Line splitting: find and count LF bytes. The SIMD build compares 16 bytes
// at a time; the scalar build uses 8-byte SWAR. Same results either way.

const LF: u8 = 10;
const ONES: u64 = 0x0101010101010101;
const HIGHS: u64 = 0x8080808080808080;
const LFS: u64 = 0x0a0a0a0a0a0a0a0a;

/** Address of the first LF in [p, end), or `end` if there is none. */
// @ts-ignore: decorator
@inline
export function findNewline(p: usize, end: usize): usize {
  if (ASC_FEATURE_SIMD) {
    const nl = i8x16.splat(10);
    while (p + 16 <= end) {
      const m = i8x16.bitmask(i8x16.eq(v128.load(p), nl));
      if (m) return p + <usize>ctz(m);
      p += 16;
    }
  } else {
    while (p + 8 <= end) {
      const x = load<u64>(p) ^ LFS;
      const t = (x - ONES) & ~x & HIGHS;
      if (t) return p + <usize>(ctz(t) >> 3);
      p += 8;
    }
  }
  while (p < end) {
    if (load<u8>(p) == LF) return p;
    p++;
  }
  return end;
}

/** Number of LF bytes in [p, end). */
export function countNewlines(p: usize, end: usize): u32 {
  let n: u32 = 0;
  if (ASC_FEATURE_SIMD) {
    const nl = i8x16.splat(10);
    // Four blocks per step: one popcnt of a combined 64-bit mask.
    while (p + 64 <= end) {
      const a = <u64>i8x16.bitmask(i8x16.eq(v128.load(p), nl));
      const b = <u64>i8x16.bitmask(i8x16.eq(v128.load(p, 16), nl));
      const c = <u64>i8x16.bitmask(i8x16.eq(v128.load(p, 32), nl));
      const d = <u64>i8x16.bitmask(i8x16.eq(v128.load(p, 48), nl));
      n += <u32>popcnt(a | (b << 16) | (c << 32) | (d << 48));
      p += 64;
    }
    while (p + 16 <= end) {
      n += <u32>popcnt(i8x16.bitmask(i8x16.eq(v128.load(p), nl)));
      p += 16;
    }
  } else {
    while (p + 8 <= end) {
      const x = load<u64>(p) ^ LFS;
      // Exact per-byte zero test (no borrow across bytes).
      const t = ~(((x & ~HIGHS) + ~HIGHS) | x) & HIGHS;
      n += <u32>popcnt(t);
      p += 8;
    }
  }
  while (p < end) {
    if (load<u8>(p) == LF) n++;
    p++;
  }
  return n;
}

/**
 * Split-only pass: count the non-empty lines that end in [p, end). A line
 * that is empty or only a CR is not a record. `lineStart` is the address
 * where the line in progress began (may be below p when it was carried).
 * Returns the number of records; the address after the last LF is left in
 * splitLastLineStart.
 */
export let splitLastLineStart: usize = 0;
export function splitRecords(p: usize, end: usize, lineStart: usize, carried: u64): u32 {
  let n: u32 = 0;
  let ls = lineStart;
  let carry = carried;
  if (ASC_FEATURE_SIMD) {
    const nl = i8x16.splat(10);
    while (p + 16 <= end) {
      let m = i8x16.bitmask(i8x16.eq(v128.load(p), nl));
      while (m) {
        const e = p + <usize>ctz(m);
        const len = <u64>(e - ls) + carry;
        if (len > 1 || (len == 1 && load<u8>(e - 1) != 13)) n++;
        carry = 0;
        ls = e + 1;
        m &= m - 1;
      }
      p += 16;
    }
  }
  while (p < end) {
    const e = findNewline(p, end);
    if (e == end) break;
    const len = <u64>(e - ls) + carry;
    if (len > 1 || (len == 1 && load<u8>(e - 1) != 13)) n++;
    carry = 0;
    ls = e + 1;
    p = e + 1;
  }
  splitLastLineStart = ls;
  return n;
}
