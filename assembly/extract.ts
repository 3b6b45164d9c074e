// Field extraction for the classic and logfmt formats: timestamp, level,
// message and key=value pairs, written straight into the output buffer.
import { copyString, putByte, putBytes, putString, putUnquoted } from './out';
import { parseEpoch, parseTimestamp, putTimestamp, tsEnd } from './time';
import { levelName, levelNameLen, normalizeLevel } from './level';

export let levelRawWanted: bool = false;
export function setLevelRaw(on: bool): void { levelRawWanted = on; }

const SP: u8 = 0x20;
const TAB: u8 = 0x09;
const EQ: u8 = 0x3d;
const QUOTE: u8 = 0x22;
const BSLASH: u8 = 0x5c;

// @ts-ignore: decorator
@inline
function isBlank(c: u32): bool {
  // LF: only inside a multiline record, where it ends a value like a space.
  return c == SP || c == TAB || c == 0x0a;
}

// Classic key bytes [A-Za-z0-9_.@/-], as a table: one load per byte.
const KEY_CHARS: usize = memory.data(256);
export function initKeyChars(): void {
  for (let c: u32 = 0; c < 256; c++) {
    const l = c | 0x20;
    const ok = (l >= 0x61 && l <= 0x7a) || (c >= 0x30 && c <= 0x39) || c == 0x5f || c == 0x2e ||
      c == 0x40 || c == 0x2f || c == 0x2d;
    store<u8>(KEY_CHARS + c, ok ? 1 : 0);
  }
}

// @ts-ignore: decorator
@inline
function isKeyChar(c: u32): bool {
  return load<u8>(KEY_CHARS + c) != 0;
}

/** Address of the first space, tab or LF in [p, end), or end. */
// @ts-ignore: decorator
@inline
function findBlank(p: usize, end: usize): usize {
  if (ASC_FEATURE_SIMD) {
    const sp = i8x16.splat(0x20);
    const tab = i8x16.splat(0x09);
    const lf = i8x16.splat(0x0a);
    while (p < end) {
      const v = v128.load(p);
      let m = i8x16.bitmask(v128.or(v128.or(i8x16.eq(v, sp), i8x16.eq(v, tab)), i8x16.eq(v, lf)));
      const left = end - p;
      if (left < 16) m |= 1 << <u32>left;
      if (m) return p + <usize>ctz(m);
      p += 16;
    }
    return end;
  }
  while (p < end && !isBlank(load<u8>(p))) p++;
  return p;
}

/** End of a quoted value whose opening quote is at q-1: address of the closing quote, or end. */
export function quotedEnd(q: usize, end: usize): usize {
  if (ASC_FEATURE_SIMD) {
    // Jump to the next quote or backslash 16 bytes at a time.
    const qv = i8x16.splat(0x22);
    const bv = i8x16.splat(0x5c);
    while (q < end) {
      const v = v128.load(q);
      let m = i8x16.bitmask(v128.or(i8x16.eq(v, qv), i8x16.eq(v, bv)));
      const left = end - q;
      if (left < 16) m &= (1 << <u32>left) - 1;
      if (!m) { q += 16; continue; }
      q += <usize>ctz(m);
      if (load<u8>(q) == QUOTE) return q;
      q += 2; // a backslash: skip the byte it escapes
    }
    return end;
  }
  while (q < end) {
    const b = load<u8>(q);
    if (b == BSLASH) { q += 2; continue; }
    if (b == QUOTE) return q;
    q++;
  }
  return end;
}

// @ts-ignore: decorator
@inline
function putKey(first: bool, k: usize, ke: usize): void {
  if (!first) putByte(0x2c);
  putString(k, ke);
  putByte(0x3a);
}

// Shared "field" writers so classic and logfmt stay byte-identical.
export const RAW_PLAIN = 0;
export const RAW_QUOTED = 1; // logfmt "…" content: backslash escapes decoded
export const RAW_JSON_STRING = 2; // a JSON string token, copied as it is

export function putLevel(id: i32, rawP: usize, rawE: usize, rawKind: i32): void {
  putBytes(memory.data<u8>([0x2c, 0x22, 0x6c, 0x65, 0x76, 0x65, 0x6c, 0x22, 0x3a]), 9); // ,"level":
  if (id) {
    putByte(0x22);
    putBytes(levelName(id), levelNameLen(id));
    putByte(0x22);
  } else {
    putNull();
  }
  if (levelRawWanted) {
    putBytes(memory.data<u8>([0x2c, 0x22, 0x6c, 0x65, 0x76, 0x65, 0x6c, 0x52, 0x61, 0x77, 0x22, 0x3a]), 12); // ,"levelRaw":
    if (!id) putNull();
    else if (rawKind == RAW_QUOTED) putUnquoted(rawP, rawE);
    else if (rawKind == RAW_JSON_STRING) copyString(rawP, rawE);
    else putString(rawP, rawE);
  }
}

export function putNull(): void {
  putBytes(memory.data<u8>([0x6e, 0x75, 0x6c, 0x6c]), 4);
}

export function putTsKey(): void {
  putBytes(memory.data<u8>([0x2c, 0x22, 0x74, 0x73, 0x22, 0x3a]), 6); // ,"ts":
}

export function putMsgKey(): void {
  putBytes(memory.data<u8>([0x2c, 0x22, 0x6d, 0x73, 0x67, 0x22, 0x3a]), 7); // ,"msg":
}

export function putFieldsKey(): void {
  putBytes(memory.data<u8>([0x2c, 0x22, 0x66, 0x69, 0x65, 0x6c, 0x64, 0x73, 0x22, 0x3a, 0x7b]), 11); // ,"fields":{
}

/**
 * classic: `<ts> [<LEVEL>] <msg>`; fields are the key=value pairs of msg.
 */
// Result of classicShape.
let shapeMsg: usize = 0;
let shapeLevel: i32 = 0;
let shapeLevelP: usize = 0;
let shapeLevelE: usize = 0;

/** Whether [p, end) has the classic shape; sets shapeMsg/shapeLevel* and the timestamp. */
export function classicShape(p: usize, end: usize): bool {
  if (!parseTimestamp(p, end, false)) return false;
  let q = tsEnd;
  if (q >= end || load<u8>(q) != SP) return false;
  while (q < end && load<u8>(q) == SP) q++;
  if (q >= end || load<u8>(q) != 0x5b) return false;
  const lp = q + 1;
  let le = lp;
  while (le < end && le - lp < 14 && load<u8>(le) != 0x5d) le++;
  if (le >= end || load<u8>(le) != 0x5d) return false;
  const lvl = normalizeLevel(lp, le - lp);
  if (!lvl) return false;
  const after = le + 1;
  if (after == end) shapeMsg = end;
  else if (load<u8>(after) == SP) shapeMsg = after + 1;
  else return false;
  shapeLevel = lvl;
  shapeLevelP = lp;
  shapeLevelE = le;
  return true;
}

export function extractClassic(p: usize, end: usize): void {
  const shaped = classicShape(p, end);
  const msg = shaped ? shapeMsg : p;
  putTsKey();
  if (shaped) putTimestamp(); else putNull();
  putLevel(shaped ? shapeLevel : 0, shapeLevelP, shapeLevelE, RAW_PLAIN);
  putMsgKey();
  putString(msg, end);
  putFieldsKey();
  putPairs(msg, end);
  putByte(0x7d);
}


/** Address of the first '=' in [p, end), or end. */
// @ts-ignore: decorator
@inline
function findEquals(p: usize, end: usize): usize {
  if (ASC_FEATURE_SIMD) {
    const eqv = i8x16.splat(0x3d);
    while (p < end) {
      let m = i8x16.bitmask(i8x16.eq(v128.load(p), eqv));
      const left = end - p;
      if (left < 16) m &= (1 << <u32>left) - 1;
      if (m) return p + <usize>ctz(m);
      p += 16;
    }
    return end;
  }
  while (p < end && load<u8>(p) != EQ) p++;
  return p;
}

/**
 * Every key=value in [p, end) (classic rules), comma-separated. Finds each
 * '=' with SIMD and walks back over the key: text between pairs costs one
 * vector compare per 16 bytes.
 */
function putPairs(p: usize, end: usize): void {
  let first = true;
  let from = p; // nothing before this can start a key (it was a value)
  let q = p;
  while (q < end) {
    const eqAt = findEquals(q, end);
    if (eqAt >= end) break;
    let k = eqAt;
    while (k > from && isKeyChar(load<u8>(k - 1))) k--;
    // A key starts the text or follows a blank, and is not empty.
    if (k == eqAt || (k > p && !isBlank(load<u8>(k - 1)))) {
      q = eqAt + 1;
      continue;
    }
    const v = eqAt + 1;
    // Through the escaper, not a raw copy: a mapped page may change after the
    // key was checked (a file truncated while read), and the output must stay valid.
    putKey(first, k, eqAt);
    first = false;
    if (v < end && load<u8>(v) == QUOTE) {
      const e = quotedEnd(v + 1, end);
      putUnquoted(v + 1, e < end ? e : end);
      q = e < end ? e + 1 : end;
    } else {
      const e = findBlank(v, end);
      putString(v, e);
      q = e;
    }
    from = q;
  }
}

// ---- logfmt ----

const KEY_OTHER = 0;
const KEY_TS = 1;
const KEY_LEVEL = 2;
const KEY_MSG = 3;

function eq(p: usize, n: usize, s: usize, sn: usize): bool {
  if (n != sn) return false;
  for (let i: usize = 0; i < n; i++) if (load<u8>(p + i) != load<u8>(s + i)) return false;
  return true;
}

const K_TS: usize = memory.data<u8>([0x74, 0x73]);
const K_TIME: usize = memory.data<u8>([0x74, 0x69, 0x6d, 0x65]);
const K_TIMESTAMP: usize = memory.data<u8>([0x74, 0x69, 0x6d, 0x65, 0x73, 0x74, 0x61, 0x6d, 0x70]);
const K_ATTIMESTAMP: usize = memory.data<u8>([0x40, 0x74, 0x69, 0x6d, 0x65, 0x73, 0x74, 0x61, 0x6d, 0x70]);
const K_LEVEL: usize = memory.data<u8>([0x6c, 0x65, 0x76, 0x65, 0x6c]);
const K_LVL: usize = memory.data<u8>([0x6c, 0x76, 0x6c]);
const K_SEVERITY: usize = memory.data<u8>([0x73, 0x65, 0x76, 0x65, 0x72, 0x69, 0x74, 0x79]);
const K_MSG: usize = memory.data<u8>([0x6d, 0x73, 0x67]);
const K_MESSAGE: usize = memory.data<u8>([0x6d, 0x65, 0x73, 0x73, 0x61, 0x67, 0x65]);

/** Which well-known group a key belongs to; `json` adds @timestamp. */
export function keyClass(p: usize, n: usize, json: bool): i32 {
  if (eq(p, n, K_TS, 2) || eq(p, n, K_TIME, 4) || eq(p, n, K_TIMESTAMP, 9)) return KEY_TS;
  if (json && eq(p, n, K_ATTIMESTAMP, 10)) return KEY_TS;
  if (eq(p, n, K_LEVEL, 5) || eq(p, n, K_LVL, 3) || eq(p, n, K_SEVERITY, 8)) return KEY_LEVEL;
  if (eq(p, n, K_MSG, 3) || eq(p, n, K_MESSAGE, 7)) return KEY_MSG;
  return KEY_OTHER;
}

// One logfmt token, filled by nextToken.
let tokKey: usize = 0;
let tokKeyEnd: usize = 0;
let tokVal: usize = 0;
let tokValEnd: usize = 0;
let tokQuoted: bool = false;
let tokNext: usize = 0;

/**
 * Read the token at or after q. Returns false at the end of the line. A token
 * with an empty key (or starting with a quote) has tokKey == tokKeyEnd.
 */
/** Address of the first '=', space, tab or LF in [p, end), or end: where a logfmt key stops. */
// @ts-ignore: decorator
@inline
function findKeyEnd(p: usize, end: usize): usize {
  if (ASC_FEATURE_SIMD) {
    const eqv = i8x16.splat(0x3d);
    const sp = i8x16.splat(0x20);
    const tab = i8x16.splat(0x09);
    const lf = i8x16.splat(0x0a);
    while (p < end) {
      const v = v128.load(p);
      let m = i8x16.bitmask(v128.or(v128.or(i8x16.eq(v, eqv), i8x16.eq(v, sp)), v128.or(i8x16.eq(v, tab), i8x16.eq(v, lf))));
      const left = end - p;
      if (left < 16) m |= 1 << <u32>left;
      if (m) return p + <usize>ctz(m);
      p += 16;
    }
    return end;
  }
  while (p < end) {
    const c = load<u8>(p);
    if (c == EQ || isBlank(c)) break;
    p++;
  }
  return p;
}

function nextToken(q: usize, end: usize): bool {
  while (q < end && isBlank(load<u8>(q))) q++;
  if (q >= end) return false;
  tokKey = q;
  if (load<u8>(q) == QUOTE) {
    // Not a key: skip the quoted text and the rest of the token.
    let e = quotedEnd(q + 1, end);
    e = findBlank(e < end ? e + 1 : end, end);
    tokKeyEnd = q;
    tokVal = tokValEnd = e;
    tokQuoted = false;
    tokNext = e;
    return true;
  }
  const k = findKeyEnd(q, end);
  tokKeyEnd = k;
  if (k >= end || load<u8>(k) != EQ) {
    tokVal = tokValEnd = k;
    tokQuoted = false;
    tokNext = k;
    return true;
  }
  const v = k + 1;
  if (v < end && load<u8>(v) == QUOTE) {
    const e = quotedEnd(v + 1, end);
    tokVal = v + 1;
    tokValEnd = e < end ? e : end;
    tokQuoted = true;
    // Text glued to the closing quote belongs to no token.
    tokNext = findBlank(e < end ? e + 1 : end, end);
  } else {
    const e = findBlank(v, end);
    tokVal = v;
    tokValEnd = e;
    tokQuoted = false;
    tokNext = e;
  }
  return true;
}

export function extractLogfmt(p: usize, end: usize): void {
  // Pass 1: the first usable token of each well-known group.
  let tsTok: usize = 0;
  let lvTok: usize = 0;
  let msgTok: usize = 0;
  let lvl = 0;
  let lvP: usize = 0, lvE: usize = 0, lvQ = false;
  let msgP: usize = 0, msgE: usize = 0, msgQ = false;
  let q = p;
  while (nextToken(q, end)) {
    q = tokNext;
    const kn = tokKeyEnd - tokKey;
    if (kn == 0) continue;
    const cls = keyClass(tokKey, kn, false);
    if (cls == KEY_TS && !tsTok) {
      if (parseTimestamp(tokVal, tokValEnd, true) || parseEpoch(tokVal, tokValEnd)) tsTok = tokKey + 1;
    } else if (cls == KEY_LEVEL && !lvTok) {
      lvl = normalizeLevel(tokVal, tokValEnd - tokVal);
      if (lvl) { lvTok = tokKey + 1; lvP = tokVal; lvE = tokValEnd; lvQ = tokQuoted; }
    } else if (cls == KEY_MSG && !msgTok) {
      msgTok = tokKey + 1;
      msgP = tokVal; msgE = tokValEnd; msgQ = tokQuoted;
    }
  }
  putTsKey();
  if (tsTok) putTimestamp(); else putNull();
  putLevel(lvl, lvP, lvE, lvQ ? RAW_QUOTED : RAW_PLAIN);
  putMsgKey();
  if (!msgTok) putNull();
  else if (msgQ) putUnquoted(msgP, msgE);
  else putString(msgP, msgE);
  putFieldsKey();
  // Pass 2: everything else.
  let first = true;
  q = p;
  while (nextToken(q, end)) {
    q = tokNext;
    if (tokKeyEnd == tokKey) continue;
    const id = tokKey + 1;
    if (id == tsTok || id == lvTok || id == msgTok) continue;
    putKey(first, tokKey, tokKeyEnd);
    first = false;
    if (tokQuoted) putUnquoted(tokVal, tokValEnd);
    else putString(tokVal, tokValEnd);
  }
  putByte(0x7d);
}


/** Whether [p, end) looks like logfmt: two or more key=value tokens, the first one leading. */
export function logfmtShape(p: usize, end: usize): bool {
  if (p >= end || isBlank(load<u8>(p))) return false;
  let n = 0;
  let q = p;
  let firstTok = true;
  while (nextToken(q, end)) {
    q = tokNext;
    const pair = tokKeyEnd > tokKey && tokKeyEnd < end && load<u8>(tokKeyEnd) == EQ;
    if (firstTok && !pair) return false;
    firstTok = false;
    if (pair) n++;
  }
  return n >= 2;
}
