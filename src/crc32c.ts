// CRC32C on the host: a table version for small inputs (checkpoints, tests)
// and crc32c_combine, which joins the CRCs of consecutive chunks parsed in
// parallel into the CRC of the whole (zlib's GF(2) matrix method).

import { createError, ErrorCodes } from './errors.js';

const POLY = 0x82f63b78;
const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** CRC32C of `bytes` (a string counts as its UTF-8 bytes), continuing `crc` (the result of a previous call). */
export function crc32c(input: Uint8Array | string, crc = 0): number {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  if (!(bytes instanceof Uint8Array)) {
    throw createError(ErrorCodes.INVALID_OPTION, 'crc32c: the input must be a Buffer, Uint8Array or string');
  }
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

function gf2Times(mat: Uint32Array, vec: number): number {
  let sum = 0;
  let i = 0;
  while (vec) {
    if (vec & 1) sum ^= mat[i];
    vec >>>= 1;
    i++;
  }
  return sum >>> 0;
}

function gf2Square(square: Uint32Array, mat: Uint32Array): void {
  for (let n = 0; n < 32; n++) square[n] = gf2Times(mat, mat[n]);
}

/** CRC32C of A followed by B, from crc(A), crc(B) and the length of B in bytes. */
export function crc32cCombine(crcA: number, crcB: number, lenB: number): number {
  if (lenB <= 0) return crcA >>> 0;
  const even = new Uint32Array(32);
  const odd = new Uint32Array(32);
  odd[0] = POLY;
  let row = 1;
  for (let n = 1; n < 32; n++) { odd[n] = row; row <<= 1; }
  gf2Square(even, odd); // 2 zero bits
  gf2Square(odd, even); // 4 zero bits
  let a = crcA >>> 0;
  let len = lenB;
  do {
    gf2Square(even, odd);
    if (len % 2) a = gf2Times(even, a);
    len = Math.floor(len / 2);
    if (len === 0) break;
    gf2Square(odd, even);
    if (len % 2) a = gf2Times(odd, a);
    len = Math.floor(len / 2);
  } while (len !== 0);
  return (a ^ crcB) >>> 0;
}
