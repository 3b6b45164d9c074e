// The json format: validate one JSON value per line without recursion
// (nesting is bounded, not the stack), pick the well-known members and copy
// the others into `fields` with strings repaired to valid UTF-8.
import { copyString, putByte } from './out';
import { parseEpoch, parseTimestamp, putTimestamp } from './time';
import { normalizeLevel } from './level';
import { keyClass, putFieldsKey, putLevel, putMsgKey, putNull, putTsKey, RAW_JSON_STRING, RAW_PLAIN } from './extract';

export const MAX_DEPTH = 1000;
export const JSON_OK = 0;
export const JSON_INVALID = 1;
export const JSON_DEEP = 2;
export const JSON_NOT_OBJECT = 3;

export let jsonError: i32 = JSON_OK;

// @ts-ignore: decorator
@inline
function isWs(c: u32): bool {
  return c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d;
}

function skipWs(p: usize, end: usize): usize {
  while (p < end && isWs(load<u8>(p))) p++;
  return p;
}

// @ts-ignore: decorator
@inline
function isHex(c: u32): bool {
  const l = c | 0x20;
  return (c >= 0x30 && c <= 0x39) || (l >= 0x61 && l <= 0x66);
}

/** String starting at the quote p: address after the closing quote, or 0. */
function skipString(p: usize, end: usize): usize {
  p++;
  while (p < end) {
    if (ASC_FEATURE_SIMD) {
      // Skip 16 plain bytes at a time: stop at a quote, a backslash or a control byte.
      const qv = i8x16.splat(0x22);
      const bv = i8x16.splat(0x5c);
      const sp = i8x16.splat(0x20);
      for (;;) {
        const v = v128.load(p);
        let m = i8x16.bitmask(v128.or(v128.or(i8x16.eq(v, qv), i8x16.eq(v, bv)), i8x16.lt_u(v, sp)));
        const left = end - p;
        if (left < 16) m |= 1 << <u32>left;
        if (m) { p += <usize>ctz(m); break; }
        p += 16;
      }
      if (p >= end) return 0;
    }
    const c = <u32>load<u8>(p);
    if (c == 0x22) return p + 1;
    if (c < 0x20) return 0;
    if (c == 0x5c) {
      if (p + 1 >= end) return 0;
      const e = <u32>load<u8>(p + 1);
      if (e == 0x75) {
        if (p + 6 > end) return 0;
        if (!isHex(load<u8>(p + 2)) || !isHex(load<u8>(p + 3)) || !isHex(load<u8>(p + 4)) || !isHex(load<u8>(p + 5))) return 0;
        p += 6;
        continue;
      }
      if (e == 0x22 || e == 0x5c || e == 0x2f || e == 0x62 || e == 0x66 || e == 0x6e || e == 0x72 || e == 0x74) {
        p += 2;
        continue;
      }
      return 0;
    }
    p++;
  }
  return 0;
}

// @ts-ignore: decorator
@inline
function isDigit(c: u32): bool {
  return c - 0x30 <= 9;
}

/** Number at p: address after it, or 0. */
function skipNumber(p: usize, end: usize): usize {
  if (p < end && load<u8>(p) == 0x2d) p++;
  if (p >= end) return 0;
  if (load<u8>(p) == 0x30) p++;
  else if (isDigit(load<u8>(p))) { while (p < end && isDigit(load<u8>(p))) p++; }
  else return 0;
  if (p < end && load<u8>(p) == 0x2e) {
    p++;
    if (p >= end || !isDigit(load<u8>(p))) return 0;
    while (p < end && isDigit(load<u8>(p))) p++;
  }
  if (p < end && (load<u8>(p) | 0x20) == 0x65) {
    p++;
    if (p < end && (load<u8>(p) == 0x2b || load<u8>(p) == 0x2d)) p++;
    if (p >= end || !isDigit(load<u8>(p))) return 0;
    while (p < end && isDigit(load<u8>(p))) p++;
  }
  return p;
}

function skipLiteral(p: usize, end: usize): usize {
  const c = load<u8>(p);
  if (c == 0x74) { // true
    if (p + 4 <= end && load<u32>(p) == 0x65757274) return p + 4;
  } else if (c == 0x66) { // false
    if (p + 5 <= end && load<u32>(p) == 0x736c6166 && load<u8>(p + 4) == 0x65) return p + 5;
  } else if (c == 0x6e) { // null
    if (p + 4 <= end && load<u32>(p) == 0x6c6c756e) return p + 4;
  }
  return 0;
}

// Where pass 1 found each member: key start/end, value start/end (u32 each).
const MAX_MEMBERS = 4096;
const MEMBERS: usize = memory.data(MAX_MEMBERS * 16, 16);

// Container kinds of the open levels, one byte each: 1 object, 2 array.
const STACK: usize = memory.data(MAX_DEPTH + 8);

/**
 * Skip one value at p (after whitespace) nested `depth` levels deep already.
 * Returns the address after it, or 0 with jsonError set.
 */
export function skipValue(p: usize, end: usize, depth: i32): usize {
  let sp = 0;
  // state: 0 expect value, 1 after value
  while (true) {
    p = skipWs(p, end);
    if (p >= end) { jsonError = JSON_INVALID; return 0; }
    let c = <u32>load<u8>(p);
    // Expect a value.
    if (c == 0x7b || c == 0x5b) {
      if (depth + sp + 1 > MAX_DEPTH) { jsonError = JSON_DEEP; return 0; }
      store<u8>(STACK + sp, c == 0x7b ? 1 : 2);
      sp++;
      p = skipWs(p + 1, end);
      if (p >= end) { jsonError = JSON_INVALID; return 0; }
      const close = c == 0x7b ? 0x7d : 0x5d;
      if (load<u8>(p) == close) { sp--; p++; }
      else {
        if (c == 0x7b) {
          p = memberKey(p, end);
          if (!p) return 0;
        }
        continue;
      }
    } else if (c == 0x22) {
      p = skipString(p, end);
      if (!p) { jsonError = JSON_INVALID; return 0; }
    } else if (c == 0x2d || isDigit(c)) {
      p = skipNumber(p, end);
      if (!p) { jsonError = JSON_INVALID; return 0; }
    } else {
      p = skipLiteral(p, end);
      if (!p) { jsonError = JSON_INVALID; return 0; }
    }
    // After a value: close containers or continue with the next element.
    while (true) {
      if (sp == 0) return p;
      p = skipWs(p, end);
      if (p >= end) { jsonError = JSON_INVALID; return 0; }
      c = <u32>load<u8>(p);
      const kind = load<u8>(STACK + sp - 1);
      if (c == 0x2c) {
        p = skipWs(p + 1, end);
        if (kind == 1) {
          p = memberKey(p, end);
          if (!p) return 0;
        }
        break;
      }
      if ((kind == 1 && c == 0x7d) || (kind == 2 && c == 0x5d)) { sp--; p++; continue; }
      jsonError = JSON_INVALID;
      return 0;
    }
  }
}

/** `"key" :` at p; returns the address after the colon, or 0. */
function memberKey(p: usize, end: usize): usize {
  if (p >= end || load<u8>(p) != 0x22) { jsonError = JSON_INVALID; return 0; }
  p = skipString(p, end);
  if (!p) { jsonError = JSON_INVALID; return 0; }
  p = skipWs(p, end);
  if (p >= end || load<u8>(p) != 0x3a) { jsonError = JSON_INVALID; return 0; }
  return p + 1;
}

/** Copy a validated value [p, e) without whitespace. */
function copyValue(p: usize, e: usize): void {
  if (load<u8>(p) == 0x22) { copyString(p, e); return; }
  while (p < e) {
    const c = <u32>load<u8>(p);
    if (c == 0x22) {
      const s = skipString(p, e);
      copyString(p, s);
      p = s;
    } else if (isWs(c)) {
      p++;
    } else {
      putByte(c);
      p++;
    }
  }
}

/** A pino/bunyan numeric level: 10..60 in steps of 10, as an integer text. */
function pinoLevel(p: usize, e: usize): i32 {
  if (e - p != 2 || load<u8>(p + 1) != 0x30) return 0;
  const d = <i32>load<u8>(p) - 0x30;
  return d >= 1 && d <= 6 ? d : 0;
}

/** Whether [p, end) is one valid JSON object (for format detection). */
export function extractJsonCheck(p: usize, end: usize): bool {
  jsonError = JSON_OK;
  const q = skipWs(p, end);
  if (q >= end || load<u8>(q) != 0x7b) return false;
  const v = skipValue(q, end, 0);
  return v != 0 && skipWs(v, end) == end;
}

// A key decoded from its escapes, for comparing with the well-known names.
const KEY_BUF: usize = memory.data(16);

/** keyClass of a JSON key token [k, ke) (quotes included), compared after unescaping. */
function jsonKeyClass(k: usize, ke: usize): i32 {
  const s = k + 1;
  const e = ke - 1;
  let n: usize = 0;
  let q = s;
  while (q < e) {
    if (n == 16) return 0;
    let c = <u32>load<u8>(q);
    if (c == 0x5c) {
      const x = <u32>load<u8>(q + 1);
      if (x == 0x75) {
        c = hexValue(q + 2);
        if (c >= 0x80) return 0; // no well-known key has non-ASCII
        q += 6;
      } else {
        c = x == 0x62 ? 8 : x == 0x66 ? 12 : x == 0x6e ? 10 : x == 0x72 ? 13 : x == 0x74 ? 9 : x;
        q += 2;
      }
    } else {
      q++;
    }
    store<u8>(KEY_BUF + n, <u8>c);
    n++;
  }
  return keyClass(KEY_BUF, n, true);
}

function hexValue(p: usize): u32 {
  let v: u32 = 0;
  for (let i: usize = 0; i < 4; i++) {
    const c = <u32>load<u8>(p + i);
    const d = c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x61 + 10;
    v = (v << 4) | d;
  }
  return v;
}

/**
 * Extract a json record from [p, end). Returns JSON_OK, or an error code
 * (then nothing was written and the caller writes the error record).
 */
export function extractJson(p: usize, end: usize): i32 {
  jsonError = JSON_OK;
  let q = skipWs(p, end);
  if (q >= end) return JSON_INVALID;
  if (load<u8>(q) != 0x7b) {
    const v = skipValue(q, end, 0);
    if (!v) return jsonError;
    return skipWs(v, end) == end ? JSON_NOT_OBJECT : JSON_INVALID;
  }
  // Pass 1, one walk: validate the object member by member, find the
  // well-known members and remember every member's place for pass 2.
  let tsAt: usize = 0, lvAt: usize = 0, msgAt: usize = 0;
  let lvl = 0;
  let lvP: usize = 0, lvE: usize = 0, lvQ = false;
  let msgP: usize = 0, msgE: usize = 0;
  let count = 0;
  q = skipWs(q + 1, end);
  if (q >= end) return JSON_INVALID;
  if (load<u8>(q) == 0x7d) {
    q++;
  } else {
    while (true) {
      const k = q;
      if (k >= end || load<u8>(k) != 0x22) return JSON_INVALID;
      const ke = skipString(k, end);
      if (!ke) return JSON_INVALID;
      let vs = skipWs(ke, end);
      if (vs >= end || load<u8>(vs) != 0x3a) return JSON_INVALID;
      vs = skipWs(vs + 1, end);
      const ve = skipValue(vs, end, 1);
      if (!ve) return jsonError;
      if (count < MAX_MEMBERS) {
        const m = MEMBERS + (<usize>count << 4);
        store<u32>(m, <u32>k);
        store<u32>(m, <u32>ke, 4);
        store<u32>(m, <u32>vs, 8);
        store<u32>(m, <u32>ve, 12);
      }
      count++;
      const cls = jsonKeyClass(k, ke);
      const c = load<u8>(vs);
      if (cls == 1 && !tsAt) {
        if (c == 0x22 ? parseTimestamp(vs + 1, ve - 1, true) : parseEpoch(vs, ve)) tsAt = k + 1;
      } else if (cls == 2 && !lvAt) {
        lvl = c == 0x22 ? normalizeLevel(vs + 1, ve - vs - 2) : pinoLevel(vs, ve);
        if (lvl) {
          lvAt = k + 1;
          lvQ = c == 0x22;
          lvP = vs;
          lvE = ve;
        }
      } else if (cls == 3 && !msgAt && c == 0x22) {
        msgAt = k + 1;
        msgP = vs;
        msgE = ve;
      }
      q = skipWs(ve, end);
      if (q >= end) return JSON_INVALID;
      const sep = load<u8>(q);
      if (sep == 0x7d) { q++; break; }
      if (sep != 0x2c) return JSON_INVALID;
      q = skipWs(q + 1, end);
    }
  }
  if (skipWs(q, end) != end) return JSON_INVALID;
  putTsKey();
  if (tsAt) putTimestamp(); else putNull();
  putLevel(lvl, lvP, lvE, lvQ ? RAW_JSON_STRING : RAW_PLAIN);
  putMsgKey();
  if (msgAt) copyString(msgP, msgE); else putNull();
  putFieldsKey();
  // Pass 2: the other members, in order (walked again only for huge objects).
  let first = true;
  if (count <= MAX_MEMBERS) {
    for (let i = 0; i < count; i++) {
      const m = MEMBERS + (<usize>i << 4);
      const k = <usize>load<u32>(m);
      const id = k + 1;
      if (id == tsAt || id == lvAt || id == msgAt) continue;
      if (!first) putByte(0x2c);
      first = false;
      copyString(k, <usize>load<u32>(m, 4));
      putByte(0x3a);
      copyValue(<usize>load<u32>(m, 8), <usize>load<u32>(m, 12));
    }
  } else {
    q = skipWs(skipWs(p, end) + 1, end);
    while (true) {
      const k = q;
      const ke = skipString(k, end);
      const vs = skipWs(skipWs(ke, end) + 1, end);
      const ve = skipValue(vs, end, 1);
      const id = k + 1;
      if (id != tsAt && id != lvAt && id != msgAt) {
        if (!first) putByte(0x2c);
        first = false;
        copyString(k, ke);
        putByte(0x3a);
        copyValue(vs, ve);
      }
      q = skipWs(ve, end);
      if (load<u8>(q) == 0x7d) break;
      q = skipWs(q + 1, end);
    }
  }
  putByte(0x7d);
  return JSON_OK;
}

