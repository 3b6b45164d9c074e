// Line splitting: find and count LF bytes. The SIMD build compares 16 bytes
// at a time; the scalar build uses 8-byte SWAR. Same results either way.

const LF: u8 = 10;
export const ONES: u64 = 0x0101010101010101;
const HIGHS: u64 = 0x8080808080808080;
const LFS: u64 = 0x0a0a0a0a0a0a0a0a;

/** The high bit of each zero byte of x (exact per byte: no borrow across bytes). */
// @ts-ignore: decorator
@inline
export function zeroBytes(x: u64): u64 {
  return ~(((x & ~HIGHS) + ~HIGHS) | x) & HIGHS;
}

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
      n += <u32>popcnt(zeroBytes(load<u64>(p) ^ LFS));
      p += 8;
    }
  }
  while (p < end) {
    if (load<u8>(p) == LF) n++;
    p++;
  }
  return n;
}

// Results of splitBulk.
export let bulkRecords: u32 = 0;
export let bulkNewlines: u32 = 0;
export let bulkEnd: usize = 0;

/**
 * Split-only fast path over [p, stop), where p starts a line: counts the
 * lines that end there and how many of them are records (not empty, not a
 * lone CR), 64 bytes per step with no branch per line. Sets bulkRecords,
 * bulkNewlines and bulkEnd (the address after the last LF, or p).
 */
export function splitBulk(p: usize, stop: usize): void {
  let records: u32 = 0;
  let newlines: u32 = 0;
  let last: usize = p;
  if (ASC_FEATURE_SIMD) {
    const lf = i8x16.splat(10);
    const cr = i8x16.splat(13);
    // Carries from the byte before the block: it is LF / CR / a line start.
    let prevL: u64 = 1;
    let prevC: u64 = 0;
    let prevS: u64 = 0;
    let q = p;
    while (q < stop) {
      const v0 = v128.load(q);
      const v1 = v128.load(q, 16);
      const v2 = v128.load(q, 32);
      const v3 = v128.load(q, 48);
      let L = <u64>i8x16.bitmask(i8x16.eq(v0, lf)) | (<u64>i8x16.bitmask(i8x16.eq(v1, lf)) << 16) |
        (<u64>i8x16.bitmask(i8x16.eq(v2, lf)) << 32) | (<u64>i8x16.bitmask(i8x16.eq(v3, lf)) << 48);
      // CRs are rare in logs: build their mask only when the block has one.
      const c0 = i8x16.eq(v0, cr);
      const c1 = i8x16.eq(v1, cr);
      const c2 = i8x16.eq(v2, cr);
      const c3 = i8x16.eq(v3, cr);
      let C: u64 = 0;
      if (v128.any_true(v128.or(v128.or(c0, c1), v128.or(c2, c3)))) {
        C = <u64>i8x16.bitmask(c0) | (<u64>i8x16.bitmask(c1) << 16) | (<u64>i8x16.bitmask(c2) << 32) | (<u64>i8x16.bitmask(c3) << 48);
      }
      const left = stop - q;
      if (left < 64) {
        const keep = (<u64>1 << <u64>left) - 1;
        L &= keep;
        C &= keep;
      }
      const S = (L << 1) | prevL; // position starts a line
      const empty = L & (S | (((C << 1) | prevC) & ((S << 1) | prevS)));
      const n = <u32>popcnt(L);
      newlines += n;
      records += n - <u32>popcnt(empty);
      if (L) last = q + 64 - <usize>clz(L);
      prevL = L >> 63;
      prevC = C >> 63;
      prevS = S >> 63;
      q += 64;
    }
  } else {
    // Scalar build: one line at a time.
    let q = p;
    for (;;) {
      const e = findNewline(q, stop);
      if (e >= stop) break;
      newlines++;
      const len = e - q;
      if (len > 1 || (len == 1 && load<u8>(q) != 13)) records++;
      q = e + 1;
      last = q;
    }
  }
  bulkRecords = records;
  bulkNewlines = newlines;
  bulkEnd = last;
}
