// Dissect-style patterns: a program compiled by the host (src/pattern.ts)
// into this region, run over each line left to right with no backtracking
// beyond optional segments. Literal text between named fields, a space
// matching a run of spaces or tabs, fields that end at the first place the
// next part of the pattern can start, and the last field taking the rest.
import { putByte, putBytes, putString } from './out';
import { putFieldsKey, putLevel, putMsgKey, putNull, putTsKey, RAW_PLAIN } from './extract';
import { normalizeLevel } from './level';
import { daysFromCivil, localToUtc, putTimestamp, setTimestamp } from './time';

// Program: 4 words per op; literal bytes, names and layouts after the ops (offsets from PROG).
export const OP_END = 0;
export const OP_LIT = 1; // a: offset, b: length
export const OP_WS = 2;
export const OP_FIELD = 3; // a: kind, b: name/layout offset, c: length
export const OP_OPT = 4; // a: index of the op after its OPT_END
export const OP_OPT_END = 5;

export const KIND_STRING = 0;
export const KIND_INT = 1;
export const KIND_SKIP = 2;
export const KIND_TS = 3;
export const KIND_LEVEL = 4;
export const KIND_MSG = 5;

export const PROGRAM_BYTES: usize = 64 << 10;
let PROG: usize = 0;
const MAX_CAPS = 64;
const MAX_DEPTH = 16;
const capOp: usize = memory.data(MAX_CAPS * 4, 4);
const capStart: usize = memory.data(MAX_CAPS * 4, 4);
const capEnd: usize = memory.data(MAX_CAPS * 4, 4);
const optPos: usize = memory.data(MAX_DEPTH * 4, 4);
const optCaps: usize = memory.data(MAX_DEPTH * 4, 4);
const optNext: usize = memory.data(MAX_DEPTH * 4, 4);

// A second program: what a multiline record's first line looks like.
let START_PROG: usize = 0;

export function initPattern(): void {
  PROG = heap.alloc(PROGRAM_BYTES);
  START_PROG = heap.alloc(PROGRAM_BYTES);
}
export function patternPtr(): usize { return PROG; }
export function patternSize(): usize { return PROGRAM_BYTES; }
export function startPatternPtr(): usize { return START_PROG; }

let prefixOnly = false;

/** Does the start program match the beginning of [p, end)? (The rest of the line may be anything.) */
export function startMatches(p: usize, end: usize): bool {
  const main = PROG;
  PROG = START_PROG;
  prefixOnly = true;
  const ok = run(p, end);
  prefixOnly = false;
  PROG = main;
  return ok;
}

// @ts-ignore: decorator
@inline
function op(pc: i32, k: i32): i32 {
  return load<i32>(PROG + (<usize>pc << 4) + (<usize>k << 2));
}

// @ts-ignore: decorator
@inline
function isBlank(c: u32): bool {
  return c == 0x20 || c == 0x09;
}

/** Does the literal of op `pc` start at p? */
function litAt(pc: i32, p: usize, end: usize): bool {
  const off = <usize>op(pc, 1);
  const n = <usize>op(pc, 2);
  if (p + n > end) return false;
  return memory.compare(p, PROG + off, n) == 0;
}

/** The first place at or after p where the pattern from `pc` can start (end of line for the end). */
function stopAt(pc: i32, p: usize, end: usize): usize {
  const kind = op(pc, 0);
  if (kind == OP_LIT) {
    // A delimiter followed by a space in the pattern counts only where blanks follow it (": " is not the ':' of "a:0").
    const first = load<u8>(PROG + <usize>op(pc, 1));
    const n = <usize>op(pc, 2);
    const blankAfter = op(pc + 1, 0) == OP_WS;
    for (let q = p; q < end; q++) {
      if (load<u8>(q) != first || !litAt(pc, q, end)) continue;
      if (blankAfter && (q + n >= end || !isBlank(load<u8>(q + n)))) continue;
      return q;
    }
    return usize.MAX_VALUE;
  }
  if (kind == OP_WS) {
    for (let q = p; q < end; q++) if (isBlank(load<u8>(q))) return q;
    return usize.MAX_VALUE;
  }
  if (kind == OP_OPT) {
    // Either the optional segment's start, or what follows it.
    const a = stopAt(pc + 1, p, end);
    const b = stopAt(op(pc, 1), p, end);
    return a < b ? a : b;
  }
  if (kind == OP_OPT_END) return stopAt(pc + 1, p, end);
  return end; // OP_END: the rest of the line
}

let capCount = 0;

/** Match the program against [p, end); the captures are left in the cap arrays. */
function run(p: usize, end: usize): bool {
  let pc = 0;
  let depth = 0;
  capCount = 0;
  for (;;) {
    const kind = op(pc, 0);
    let ok = true;
    if (kind == OP_END) {
      if (p == end || prefixOnly) return true;
      ok = false;
    } else if (kind == OP_LIT) {
      if (litAt(pc, p, end)) {
        p += <usize>op(pc, 2);
        pc++;
      } else ok = false;
    } else if (kind == OP_WS) {
      if (p < end && isBlank(load<u8>(p))) {
        while (p < end && isBlank(load<u8>(p))) p++;
        pc++;
      } else ok = false;
    } else if (kind == OP_FIELD) {
      // A timestamp field is as long as its layout reads (layouts may hold spaces); other fields stop where the pattern goes on.
      let stop: usize;
      if (op(pc, 1) == KIND_TS) {
        const l = PROG + <usize>op(pc, 2);
        const e = parseLayout(l, l + <usize>op(pc, 3), p, end, false);
        stop = e == 0 ? usize.MAX_VALUE : e;
      } else stop = stopAt(pc + 1, p, end);
      if (stop == usize.MAX_VALUE || capCount == MAX_CAPS) ok = false;
      else {
        const i = <usize>capCount << 2;
        capCount++;
        store<i32>(capOp + i, pc);
        store<u32>(capStart + i, <u32>p);
        store<u32>(capEnd + i, <u32>stop);
        p = stop;
        pc++;
      }
    } else if (kind == OP_OPT) {
      if (depth == MAX_DEPTH) return false;
      const d = <usize>depth << 2;
      depth++;
      store<u32>(optPos + d, <u32>p);
      store<i32>(optCaps + d, capCount);
      store<i32>(optNext + d, op(pc, 1));
      pc++;
    } else {
      // OP_OPT_END: the optional segment matched.
      depth--;
      pc++;
    }
    if (!ok) {
      if (depth == 0) return false;
      // Inside an optional segment: undo it and go on after it.
      depth--;
      const d = <usize>depth << 2;
      p = <usize>load<u32>(optPos + d);
      capCount = load<i32>(optCaps + d);
      pc = load<i32>(optNext + d);
    }
  }
  return false; // not reached: the loop returns
}

// ---- Timestamps with a strftime-like layout ----

const MONTHS: usize = memory.data<u8>([
  0x6a, 0x61, 0x6e, 0x66, 0x65, 0x62, 0x6d, 0x61, 0x72, 0x61, 0x70, 0x72, 0x6d, 0x61, 0x79, 0x6a, 0x75, 0x6e,
  0x6a, 0x75, 0x6c, 0x61, 0x75, 0x67, 0x73, 0x65, 0x70, 0x6f, 0x63, 0x74, 0x6e, 0x6f, 0x76, 0x64, 0x65, 0x63,
]); // janfebmaraprmayjunjulaugsepoctnovdec

/** Up to `max` digits at p (at least `min`): the value, or -1. Sets numEnd. */
let numEnd: usize = 0;
function digits(p: usize, end: usize, min: i32, max: i32): i64 {
  let v: i64 = 0;
  let n = 0;
  while (p < end && n < max) {
    const d = <u32>load<u8>(p) - 48;
    if (d > 9) break;
    v = v * 10 + d;
    n++;
    p++;
  }
  numEnd = p;
  return n < min ? -1 : v;
}

/**
 * Read a timestamp at p with the layout at [l, le) (not past end); sets the
 * timestamp and returns where it ended, or 0. `whole`: it must end at end.
 */
function parseLayout(l: usize, le: usize, p: usize, end: usize, whole: bool): usize {
  let y: i64 = -1;
  let mo: i64 = 1;
  let d: i64 = 1;
  let h: i64 = 0;
  let mi: i64 = 0;
  let s: i64 = 0;
  let yday: i64 = -1;
  let frac: u32 = 0;
  let fd = 0;
  let offset: i64 = 0;
  let hasOffset = false;
  let epoch: i64 = i64.MIN_VALUE;
  while (l < le) {
    const c = load<u8>(l);
    if (c == 0x20) {
      if (p >= end || !isBlank(load<u8>(p))) return 0;
      while (p < end && isBlank(load<u8>(p))) p++;
      while (l < le && load<u8>(l) == 0x20) l++;
      continue;
    }
    if (c != 0x25 || l + 1 >= le) {
      if (p >= end || load<u8>(p) != c) return 0;
      p++;
      l++;
      continue;
    }
    const t = load<u8>(l + 1);
    l += 2;
    let v: i64 = 0;
    if (t == 0x59) { v = digits(p, end, 4, 4); y = v; } // %Y
    else if (t == 0x79) { v = digits(p, end, 2, 2); y = v < 69 ? 2000 + v : 1900 + v; } // %y
    else if (t == 0x6d) { v = digits(p, end, 1, 2); mo = v; } // %m
    else if (t == 0x64) { v = digits(p, end, 1, 2); d = v; } // %d
    else if (t == 0x48) { v = digits(p, end, 1, 2); h = v; } // %H
    else if (t == 0x4d) { v = digits(p, end, 1, 2); mi = v; } // %M
    else if (t == 0x53) { v = digits(p, end, 1, 2); s = v; } // %S
    else if (t == 0x6a) { v = digits(p, end, 1, 3); yday = v; } // %j
    else if (t == 0x73) { v = digits(p, end, 1, 12); epoch = v; } // %s
    else if (t == 0x66) { // %f: fraction digits
      let q = p;
      while (q < end && fd < 9 && <u32>load<u8>(q) - 48 <= 9) { frac = frac * 10 + (<u32>load<u8>(q) - 48); fd++; q++; }
      if (fd == 0) return 0;
      numEnd = q;
    } else if (t == 0x62 || t == 0x61) { // %b month, %a weekday: three letters
      if (p + 3 > end) return 0;
      if (t == 0x62) {
        let m = -1;
        const a = load<u8>(p) | 0x20;
        const b = load<u8>(p + 1) | 0x20;
        const e = load<u8>(p + 2) | 0x20;
        for (let i = 0; i < 12; i++) {
          const q = MONTHS + <usize>i * 3;
          if (load<u8>(q) == a && load<u8>(q + 1) == b && load<u8>(q + 2) == e) { m = i + 1; break; }
        }
        if (m < 0) return 0;
        mo = m;
      }
      numEnd = p + 3;
    } else if (t == 0x7a) { // %z: Z, +hh, +hhmm, +hh:mm
      if (p < end && (load<u8>(p) | 0x20) == 0x7a) { hasOffset = true; numEnd = p + 1; }
      else {
        if (p >= end) return 0;
        const sign = load<u8>(p);
        if (sign != 0x2b && sign != 0x2d) return 0;
        const hh = digits(p + 1, end, 2, 2);
        if (hh < 0) return 0;
        let q = numEnd;
        let mm: i64 = 0;
        if (q < end && load<u8>(q) == 0x3a) q++;
        const m2 = digits(q, end, 2, 2);
        if (m2 >= 0) mm = m2;
        else numEnd = q;
        offset = (hh * 3600 + mm * 60) * (sign == 0x2d ? -1 : 1);
        hasOffset = true;
      }
    } else if (t == 0x25) {
      if (p >= end || load<u8>(p) != 0x25) return 0;
      numEnd = p + 1;
    } else return 0;
    if (v < 0) return 0;
    p = numEnd;
  }
  if (whole && p != end) return 0;
  let utc: i64;
  if (epoch != i64.MIN_VALUE) utc = epoch;
  else {
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return 0;
    const guess = y < 0;
    if (guess) y = defaultYear;
    let days = yday > 0 ? daysFromCivil(y, 1, 1) + yday - 1 : daysFromCivil(y, <i32>mo, <i32>d);
    let local = days * 86400 + h * 3600 + mi * 60 + s;
    utc = hasOffset ? local - offset : localToUtc(local);
    if (guess && utc > nowSeconds + 86400) {
      days = yday > 0 ? daysFromCivil(y - 1, 1, 1) + yday - 1 : daysFromCivil(y - 1, <i32>mo, <i32>d);
      local = days * 86400 + h * 3600 + mi * 60 + s;
      utc = hasOffset ? local - offset : localToUtc(local);
    }
  }
  if (utc < -62167219200 || utc > 253402300799) return 0;
  setTimestamp(utc, frac, fd);
  return p;
}

// A layout without a year (syslog) takes this one, or the year before when
// that would put the time more than a day in the future (lines from December
// read in January).
let defaultYear: i64 = 1970;
let nowSeconds: i64 = 0;
export function setClock(year: i32, now: f64): void {
  defaultYear = year;
  nowSeconds = <i64>now;
}

const E_NO_MATCH: usize = memory.data<u8>([0x2c, 0x22, 0x65, 0x72, 0x72, 0x6f, 0x72, 0x22, 0x3a, 0x22, 0x6e, 0x6f, 0x20, 0x6d, 0x61, 0x74, 0x63, 0x68, 0x22]); // ,"error":"no match"

/** An integer field's text: optional '-' and digits. */
function isInt(p: usize, e: usize): bool {
  if (p < e && load<u8>(p) == 0x2d) p++;
  if (p == e || e - p > 18) return false;
  for (; p < e; p++) if (<u32>load<u8>(p) - 48 > 9) return false;
  return true;
}

/** Extract one line with the pattern: ts, level, msg, fields (or "error":"no match"). */
export function extractPattern(p: usize, end: usize): void {
  if (!run(p, end)) {
    putTsKey();
    putNull();
    putLevel(0, 0, 0, RAW_PLAIN);
    putMsgKey();
    putString(p, end);
    putFieldsKey();
    putByte(0x7d);
    putBytes(E_NO_MATCH, 19);
    return;
  }
  let ts = -1;
  let lv = -1;
  let msg = -1;
  for (let i = 0; i < capCount; i++) {
    const kind = op(load<i32>(capOp + (<usize>i << 2)), 1);
    if (kind == KIND_TS && ts < 0) ts = i;
    else if (kind == KIND_LEVEL && lv < 0) lv = i;
    else if (kind == KIND_MSG && msg < 0) msg = i;
  }
  putTsKey();
  if (ts >= 0) {
    const c = <usize>ts << 2;
    const pc = load<i32>(capOp + c);
    const l = PROG + <usize>op(pc, 2);
    if (parseLayout(l, l + <usize>op(pc, 3), <usize>load<u32>(capStart + c), <usize>load<u32>(capEnd + c), true)) putTimestamp();
    else putNull();
  } else putNull();
  if (lv >= 0) {
    const c = <usize>lv << 2;
    const a = <usize>load<u32>(capStart + c);
    const b = <usize>load<u32>(capEnd + c);
    putLevel(normalizeLevel(a, b - a), a, b, RAW_PLAIN);
  } else putLevel(0, 0, 0, RAW_PLAIN);
  putMsgKey();
  if (msg >= 0) {
    const c = <usize>msg << 2;
    putString(<usize>load<u32>(capStart + c), <usize>load<u32>(capEnd + c));
  } else putNull();
  putFieldsKey();
  let first = true;
  for (let i = 0; i < capCount; i++) {
    const c = <usize>i << 2;
    const pc = load<i32>(capOp + c);
    const kind = op(pc, 1);
    if (kind != KIND_STRING && kind != KIND_INT) continue;
    if (!first) putByte(0x2c);
    first = false;
    // The name is stored as its JSON key text: "name":
    putBytes(PROG + <usize>op(pc, 2), <usize>op(pc, 3));
    const a = <usize>load<u32>(capStart + c);
    const b = <usize>load<u32>(capEnd + c);
    if (kind == KIND_INT && isInt(a, b)) putBytes(a, b - a);
    else putString(a, b);
  }
  putByte(0x7d);
}
