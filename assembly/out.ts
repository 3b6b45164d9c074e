// The NDJSON output buffer: JSON string escaping with UTF-8 repair, numbers,
// raw bytes. The caller checks capacity once per record (see index.ts), so
// the writers here never check bounds.

export let outBase: usize = 0;
export let outPos: usize = 0;

// @ts-ignore: decorator
@inline
export function putByte(b: u32): void {
  store<u8>(outPos, <u8>b);
  outPos++;
}

export function putBytes(p: usize, n: usize): void {
  // Short copies (keys, the file prefix) inline; memory.copy is a call.
  if (n <= 64) {
    if (ASC_FEATURE_SIMD) {
      v128.store(outPos, v128.load(p));
      v128.store(outPos, v128.load(p, 16), 16);
      if (n > 32) {
        v128.store(outPos, v128.load(p, 32), 32);
        v128.store(outPos, v128.load(p, 48), 48);
      }
    } else {
      for (let i: usize = 0; i < n; i += 8) store<u64>(outPos + i, load<u64>(p + i));
    }
  } else {
    memory.copy(outPos, p, n);
  }
  outPos += n;
}

// "00".."99": two digits per division.
const PAIRS: usize = memory.data<u8>([
  48,48,48,49,48,50,48,51,48,52,48,53,48,54,48,55,48,56,48,57,49,48,49,49,49,50,49,51,49,52,49,53,49,54,49,55,49,56,49,57,
  50,48,50,49,50,50,50,51,50,52,50,53,50,54,50,55,50,56,50,57,51,48,51,49,51,50,51,51,51,52,51,53,51,54,51,55,51,56,51,57,
  52,48,52,49,52,50,52,51,52,52,52,53,52,54,52,55,52,56,52,57,53,48,53,49,53,50,53,51,53,52,53,53,53,54,53,55,53,56,53,57,
  54,48,54,49,54,50,54,51,54,52,54,53,54,54,54,55,54,56,54,57,55,48,55,49,55,50,55,51,55,52,55,53,55,54,55,55,55,56,55,57,
  56,48,56,49,56,50,56,51,56,52,56,53,56,54,56,55,56,56,56,57,57,48,57,49,57,50,57,51,57,52,57,53,57,54,57,55,57,56,57,57,
]);

// @ts-ignore: decorator
@inline
function digits32(v: u32): usize {
  return v < 100000 ? (v < 100 ? (v < 10 ? 1 : 2) : v < 1000 ? 3 : v < 10000 ? 4 : 5)
    : v < 10000000 ? (v < 1000000 ? 6 : 7) : v < 100000000 ? 8 : v < 1000000000 ? 9 : 10;
}

/** Write a u32 in decimal (32-bit division: 64-bit division is slow in wasm engines). */
export function putU32(v: u32): void {
  const n = digits32(v);
  let q = outPos + n;
  outPos = q;
  while (v >= 100) {
    const r = v % 100;
    v /= 100;
    q -= 2;
    store<u16>(q, load<u16>(PAIRS + (<usize>r << 1)));
  }
  if (v >= 10) store<u16>(q - 2, load<u16>(PAIRS + (<usize>v << 1)));
  else store<u8>(q - 1, <u8>(48 + v));
}

/** Write a u64 in decimal. */
export function putU64(v: u64): void {
  if (v <= 0xffffffff) { putU32(<u32>v); return; }
  // Split into a high part and 9 low digits, both done in 32 bits.
  const hi = v / 1000000000;
  const lo = <u32>(v - hi * 1000000000);
  putU64(hi);
  putPadded(lo, 9);
}

const HEX: usize = memory.data<u8>([48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 97, 98, 99, 100, 101, 102]);

/** Write `n` decimal digits of v, zero-padded. */
export function putPadded(v: u32, n: i32): void {
  let q = outPos + <usize>n;
  outPos = q;
  let i = n;
  while (i >= 2) {
    const r = v % 100;
    v /= 100;
    q -= 2;
    store<u16>(q, load<u16>(PAIRS + (<usize>r << 1)));
    i -= 2;
  }
  if (i) store<u8>(q - 1, <u8>(48 + v % 10));
}

// @ts-ignore: decorator
@inline
function putReplacement(): void {
  store<u8>(outPos, 0xef);
  store<u8>(outPos, 0xbf, 1);
  store<u8>(outPos, 0xbd, 2);
  outPos += 3;
}

function putControl(b: u32): void {
  let e: u32 = 0;
  if (b == 0x22) e = 0x22;
  else if (b == 0x5c) e = 0x5c;
  else if (b == 0x0a) e = 0x6e;
  else if (b == 0x0d) e = 0x72;
  else if (b == 0x09) e = 0x74;
  else if (b == 0x08) e = 0x62;
  else if (b == 0x0c) e = 0x66;
  if (e) {
    store<u8>(outPos, 0x5c);
    store<u8>(outPos, <u8>e, 1);
    outPos += 2;
    return;
  }
  store<u8>(outPos, 0x5c);
  store<u8>(outPos, 0x75, 1);
  store<u8>(outPos, 0x30, 2);
  store<u8>(outPos, 0x30, 3);
  store<u8>(outPos, load<u8>(HEX + (b >> 4)), 4);
  store<u8>(outPos, load<u8>(HEX + (b & 15)), 5);
  outPos += 6;
}

/**
 * Copy one UTF-8 sequence starting at p (lead byte >= 0x80), or write U+FFFD
 * for its maximal ill-formed subpart as the WHATWG decoder does. Returns the
 * address after what was consumed.
 */
export function putUtf8(p: usize, end: usize): usize {
  const b = <u32>load<u8>(p);
  let need = 0;
  let lo: u32 = 0x80;
  let hi: u32 = 0xbf;
  if (b >= 0xc2 && b <= 0xdf) need = 1;
  else if (b >= 0xe0 && b <= 0xef) {
    need = 2;
    if (b == 0xe0) lo = 0xa0;
    else if (b == 0xed) hi = 0x9f;
  } else if (b >= 0xf0 && b <= 0xf4) {
    need = 3;
    if (b == 0xf0) lo = 0x90;
    else if (b == 0xf4) hi = 0x8f;
  } else {
    putReplacement();
    return p + 1;
  }
  // Bytes are written from the values that were checked, never read again: a
  // mapped page can change under us (a file truncated while it is read), and
  // the output must stay valid whatever the input does.
  let seq = b;
  let q = p + 1;
  for (let k = 0; k < need; k++) {
    if (q >= end) { putReplacement(); return end; }
    const c = <u32>load<u8>(q);
    if (c < lo || c > hi) { putReplacement(); return q; }
    seq |= c << (<u32>(k + 1) << 3);
    lo = 0x80;
    hi = 0xbf;
    q++;
  }
  store<u32>(outPos, seq); // need + 1 <= 4 bytes; the rest is overwritten later
  outPos += q - p;
  return q;
}

/** Write the bytes [p, end) as the inside of a JSON string (no quotes). */
export function putEscaped(p: usize, end: usize): void {
  if (ASC_FEATURE_SIMD) {
    const quote = i8x16.splat(0x22);
    const bslash = i8x16.splat(0x5c);
    const space = i8x16.splat(0x20);
    // Inputs always have 16 readable bytes past `end` (region slack), so the
    // last step loads a whole vector and masks the lanes past the end.
    while (p < end) {
      for (;;) {
        const v = v128.load(p);
        const bad = v128.or(v128.or(i8x16.eq(v, quote), i8x16.eq(v, bslash)), i8x16.lt_u(v, space));
        let m = i8x16.bitmask(v128.or(bad, v)); // high bit: non-ASCII
        v128.store(outPos, v);
        const left = end - p;
        if (left < 16) m |= 1 << <u32>left;
        if (m) {
          const k = <usize>ctz(m);
          outPos += k;
          p += k;
          break;
        }
        outPos += 16;
        p += 16;
      }
      if (p >= end) return;
      p = putSlowByte(p, end);
    }
  } else {
    while (p < end) p = putSlowByte(p, end);
  }
}

// @ts-ignore: decorator
@inline
function putSlowByte(p: usize, end: usize): usize {
  const b = <u32>load<u8>(p);
  if (b >= 0x80) return putUtf8(p, end);
  if (b < 0x20 || b == 0x22 || b == 0x5c) putControl(b);
  else putByte(b);
  return p + 1;
}

/** Write [p, end) as a JSON string with quotes. */
export function putString(p: usize, end: usize): void {
  putByte(0x22);
  putEscaped(p, end);
  putByte(0x22);
}

/**
 * Write the content of a `"…"` value with backslash escapes (logfmt and
 * classic key=value) decoded, as a JSON string: \" \\ \n \t \r are decoded,
 * any other backslash stays as it is.
 */
export function putUnquoted(p: usize, end: usize): void {
  putByte(0x22);
  let run = p;
  while (p < end) {
    if (load<u8>(p) != 0x5c) { p++; continue; }
    putEscaped(run, p);
    if (p + 1 >= end) { putControl(0x5c); p++; run = p; break; }
    const c = <u32>load<u8>(p + 1);
    let d: u32 = 0;
    if (c == 0x22) d = 0x22;
    else if (c == 0x5c) d = 0x5c;
    else if (c == 0x6e) d = 0x0a;
    else if (c == 0x74) d = 0x09;
    else if (c == 0x72) d = 0x0d;
    if (d) {
      putControl(d);
      p += 2;
    } else {
      putControl(0x5c);
      p += 1;
    }
    run = p;
  }
  putEscaped(run, end);
  putByte(0x22);
}

export function advance(n: usize): void {
  outPos += n;
}

/** Copy a validated string token [p, e) (quotes included), repairing UTF-8 and lone surrogate escapes. */
export function copyString(p: usize, e: usize): void {
  while (p < e) {
    if (ASC_FEATURE_SIMD) {
      const bslash = i8x16.splat(0x5c);
      while (p + 16 <= e) {
        const v = v128.load(p);
        v128.store(outPos, v);
        const m = i8x16.bitmask(v128.or(v, i8x16.eq(v, bslash)));
        if (m) { const k = <usize>ctz(m); outPos += k; p += k; break; }
        outPos += 16;
        p += 16;
      }
      if (p >= e) return;
    }
    const c = <u32>load<u8>(p);
    if (c >= 0x80) p = putUtf8(p, e);
    else if (c == 0x5c) p = copyEscape(p);
    else { putByte(c); p++; }
  }
}

// @ts-ignore: decorator
@inline
function hex4(p: usize): u32 {
  let v: u32 = 0;
  for (let i: usize = 0; i < 4; i++) {
    const c = <u32>load<u8>(p + i);
    v = (v << 4) | (c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x57);
  }
  return v;
}

/** Copy one escape of a validated JSON string; a lone surrogate \uD8xx becomes U+FFFD. */
function copyEscape(p: usize): usize {
  if (load<u8>(p + 1) != 0x75) {
    store<u16>(outPos, load<u16>(p));
    outPos += 2;
    return p + 2;
  }
  const u = hex4(p + 2);
  if (u >= 0xd800 && u <= 0xdbff) {
    if (load<u8>(p + 6) == 0x5c && load<u8>(p + 7) == 0x75) {
      const l = hex4(p + 8);
      if (l >= 0xdc00 && l <= 0xdfff) {
        memory.copy(outPos, p, 12);
        outPos += 12;
        return p + 12;
      }
    }
    putReplacement();
    return p + 6;
  }
  if (u >= 0xdc00 && u <= 0xdfff) {
    putReplacement();
    return p + 6;
  }
  memory.copy(outPos, p, 6);
  outPos += 6;
  return p + 6;
}

export function setOut(p: usize): void {
  outBase = p;
  outPos = p;
}

export function resetOut(p: usize): void {
  outPos = p;
}
