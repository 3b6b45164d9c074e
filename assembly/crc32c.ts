// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), slicing-by-16.
// wasm has no CRC instruction; sixteen 1 KiB tables let one step eat 16 bytes.

const POLY: u32 = 0x82f63b78;
const TABLES: usize = memory.data(16 * 256 * 4, 64);

export function crcInit(): void {
  for (let i: u32 = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    store<u32>(TABLES + (<usize>i << 2), c);
  }
  for (let i: u32 = 0; i < 256; i++) {
    let c = load<u32>(TABLES + (<usize>i << 2));
    for (let t: usize = 1; t < 16; t++) {
      c = load<u32>(TABLES + ((<usize>c & 0xff) << 2)) ^ (c >>> 8);
      store<u32>(TABLES + (t << 10) + (<usize>i << 2), c);
    }
  }
}

// @ts-ignore: decorator
@inline
function tab(t: usize, i: u32): u32 {
  return load<u32>(TABLES + (t << 10) + (<usize>(i & 0xff) << 2));
}

/** Continue a raw CRC register (not inverted) over [p, p+n). */
export function crcUpdate(reg: u32, p: usize, n: usize): u32 {
  let c = reg;
  const end = p + n;
  while (p + 16 <= end) {
    const a = load<u32>(p) ^ c;
    const b = load<u32>(p, 4);
    const d = load<u32>(p, 8);
    const e = load<u32>(p, 12);
    c = tab(15, a) ^ tab(14, a >>> 8) ^ tab(13, a >>> 16) ^ tab(12, a >>> 24) ^
        tab(11, b) ^ tab(10, b >>> 8) ^ tab(9, b >>> 16) ^ tab(8, b >>> 24) ^
        tab(7, d) ^ tab(6, d >>> 8) ^ tab(5, d >>> 16) ^ tab(4, d >>> 24) ^
        tab(3, e) ^ tab(2, e >>> 8) ^ tab(1, e >>> 16) ^ tab(0, e >>> 24);
    p += 16;
  }
  if (p + 8 <= end) {
    const a = load<u32>(p) ^ c;
    const b = load<u32>(p, 4);
    c = tab(7, a) ^ tab(6, a >>> 8) ^ tab(5, a >>> 16) ^ tab(4, a >>> 24) ^
        tab(3, b) ^ tab(2, b >>> 8) ^ tab(1, b >>> 16) ^ tab(0, b >>> 24);
    p += 8;
  }
  if (p + 4 <= end) {
    const a = load<u32>(p) ^ c;
    c = tab(3, a) ^ tab(2, a >>> 8) ^ tab(1, a >>> 16) ^ tab(0, a >>> 24);
    p += 4;
  }
  while (p < end) {
    c = tab(0, c ^ load<u8>(p)) ^ (c >>> 8);
    p++;
  }
  return c;
}

/** CRC32C of [p, p+n) with the standard init and final xor. */
export function crc32c(p: usize, n: usize): u32 {
  return ~crcUpdate(0xffffffff, p, n);
}

// ---- Combining: crc(A ‖ B) from crc(A), crc(B) and |B| (multiline records
// join lines whose CRCs were computed apart). Polynomial arithmetic mod P,
// reflected; X2N[k] = x^(2^k) mod P.
const X2N: usize = memory.data(32 * 4, 4);
let x2nReady = false;

function multModP(a: u32, b: u32): u32 {
  let m: u32 = 1 << 31;
  let p: u32 = 0;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1)) == 0) break;
    }
    m >>>= 1;
    b = b & 1 ? (b >>> 1) ^ POLY : b >>> 1;
  }
  return p;
}

/** x^(n·2^k) mod P. */
function x2nModP(n: u64, k: u32): u32 {
  if (!x2nReady) {
    let p: u32 = 1 << 30; // x^1
    store<u32>(X2N, p);
    for (let i: usize = 1; i < 32; i++) {
      p = multModP(p, p);
      store<u32>(X2N + (i << 2), p);
    }
    x2nReady = true;
  }
  let p: u32 = 1 << 31; // x^0
  while (n != 0) {
    if (n & 1) p = multModP(load<u32>(X2N + ((<usize>k & 31) << 2)), p);
    n >>= 1;
    k++;
  }
  return p;
}

/** CRC32C of A followed by B, from crc(A), crc(B) and the length of B. */
export function crcCombine(crcA: u32, crcB: u32, lenB: u64): u32 {
  if (lenB == 0) return crcA;
  return multModP(x2nModP(lenB, 3), crcA) ^ crcB;
}
