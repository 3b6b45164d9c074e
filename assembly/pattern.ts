// Dissect-style patterns: a program compiled by the host (src/pattern.ts)
// into this region, run over each line left to right with no backtracking
// beyond optional segments. Literal text between named fields, a space
// matching a run of spaces or tabs, fields that end at the first place the
// next part of the pattern can start, and the last field taking the rest.
// Alternatives (%|) need no op of their own: each but the last is an
// optional segment holding an OP_END, so a failure goes on with the next.
import { putByte, putBytes, putEscaped, putString } from './out';
import { putFieldsKey, putLevel, putMsgKey, putNull, putTsKey, quotedEnd, RAW_PLAIN } from './extract';
import { normalizeLevel } from './level';
import { ONES, zeroBytes } from './scan';
import { daysFromCivil, daysInMonth, localToUtc, putTimestamp, setTimestamp, tsFrac, tsFracDigits, tsSeconds } from './time';

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
export const KIND_PRI = 6; // syslog <PRI> digits: level and facility
export const KIND_SD = 7; // RFC 5424 structured data
// Or-ed into a kind: "-" alone is no value; the field may not hold a blank; blanks around the text are dropped.
export const FLAG_NIL = 0x100;
export const FLAG_WORD = 0x200;
export const FLAG_TRIM = 0x400;
/** A field that must be an integer (a lone "-" too with FLAG_NIL): the alternative fails where it is not. */
export const FLAG_NUM = 0x800;
const KIND_MASK = 0xff;

export const PROGRAM_BYTES: usize = 64 << 10;
let PROG: usize = 0;
// src/pattern.ts refuses patterns past these: 64 fields an alternative, 16
// nested segments (and the one each alternative but the last is wrapped in).
const MAX_CAPS = 64;
const MAX_DEPTH = 17;
const capOp: usize = memory.data(MAX_CAPS * 4, 4);
const capStart: usize = memory.data(MAX_CAPS * 4, 4);
const capEnd: usize = memory.data(MAX_CAPS * 4, 4);
const optPos: usize = memory.data(MAX_DEPTH * 4, 4);
const optCaps: usize = memory.data(MAX_DEPTH * 4, 4);
const optNext: usize = memory.data(MAX_DEPTH * 4, 4);
// A timestamp capture's value as the match read it (extractPattern writes it without reading it again):
// seconds (i64), fraction (u32), fraction digits (i32; -1 for a nil "-").
const capTs: usize = memory.data(MAX_CAPS * 16, 8);

// A second program: what a multiline record's first line looks like.
let START_PROG: usize = 0;

export function initPattern(): void {
  PROG = heap.alloc(PROGRAM_BYTES);
  START_PROG = heap.alloc(PROGRAM_BYTES);
  MEMO = heap.alloc(PROGRAM_BYTES << 1);
  memory.fill(MEMO, 0, PROGRAM_BYTES << 1);
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

/** Are the n bytes at a and b the same? (Literals are short: no call to memory.compare.) */
// @ts-ignore: decorator
@inline
function sameBytes(a: usize, b: usize, n: usize): bool {
  let i: usize = 0;
  for (; i + 8 <= n; i += 8) if (load<u64>(a + i) != load<u64>(b + i)) return false;
  for (; i < n; i++) if (load<u8>(a + i) != load<u8>(b + i)) return false;
  return true;
}

/** Does the literal of op `pc` start at p? */
// @ts-ignore: decorator
@inline
function litAt(pc: i32, p: usize, end: usize): bool {
  const n = <usize>op(pc, 2);
  if (p + n > end) return false;
  return sameBytes(p, PROG + <usize>op(pc, 1), n);
}

/**
 * The first place in [p, limit) where the pattern from `pc` can start (end
 * of line for the end), or a place at or past limit (usize.MAX_VALUE where
 * there is none). Literals are checked up to end, whatever the limit.
 */
function stopAt(pc: i32, p: usize, end: usize, limit: usize): usize {
  const kind = op(pc, 0);
  if (kind == OP_LIT) return memoOn ? memoStop(pc, p, end, limit, MODE_LIT) : litStop(pc, p, end, limit, false);
  if (kind == OP_WS) return memoOn ? memoStop(pc, p, end, limit, MODE_WS) : blanksStop(pc, p, end, limit);
  if (kind == OP_OPT) {
    // Either the optional segment's start or what follows it, whichever comes first:
    // what follows is searched first, so the segment's start is looked for only before it.
    const b = stopAt(op(pc, 1), p, end, limit);
    const a = stopAt(pc + 1, p, end, b < limit ? b : limit);
    return a < b ? a : b;
  }
  if (kind == OP_OPT_END) return stopAt(pc + 1, p, end, limit);
  return end; // OP_END: the rest of the line
}

const SPACES: u64 = 0x2020202020202020;
const TABS: u64 = 0x0909090909090909;

/** The first space or tab in [p, limit), or usize.MAX_VALUE. */
function blankAt(p: usize, limit: usize): usize {
  let q = p;
  if (ASC_FEATURE_SIMD) {
    const sp = i8x16.splat(0x20);
    const tab = i8x16.splat(0x09);
    for (; q < limit; q += 16) {
      const v = v128.load(q);
      let m = i8x16.bitmask(v128.or(i8x16.eq(v, sp), i8x16.eq(v, tab)));
      const left = limit - q;
      if (left < 16) m &= (1 << <u32>left) - 1;
      if (m) return q + <usize>ctz(m);
    }
    return usize.MAX_VALUE;
  }
  for (; q + 8 <= limit; q += 8) {
    const x = load<u64>(q);
    const m = zeroBytes(x ^ SPACES) | zeroBytes(x ^ TABS);
    if (m) return q + <usize>(ctz(m) >> 3);
  }
  for (; q < limit; q++) if (isBlank(load<u8>(q))) return q;
  return usize.MAX_VALUE;
}

/** Where a word field's litStop found a blank first (memoStop reads it). */
let wordBlank: usize = 0;

/**
 * Where a space (op `pc`) can start in [p, limit): at the first blank, but
 * when a word field and a literal follow the space, only at a blank run from
 * which that word reaches its literal: `%{path} %{protocol:word}"` reads
 * `/a b c HTTP/1.1"` as "/a b c" and "HTTP/1.1". Each candidate's word
 * ends at the next blank, so the work stays linear.
 */
// @ts-ignore: decorator
@inline
function blanksStop(pc: i32, p: usize, end: usize, limit: usize): usize {
  const q = blankAt(p, limit);
  const word = pc + 1;
  if (op(word, 0) != OP_FIELD || (op(word, 1) & FLAG_WORD) == 0 || op(word + 1, 0) != OP_LIT) return q;
  return wordReachesLit(word, q, end, limit);
}

/** blanksStop's search when a word and a literal follow: from the blank at q on. */
function wordReachesLit(word: i32, q: usize, end: usize, limit: usize): usize {
  while (q != usize.MAX_VALUE) {
    let r = q;
    while (r < end && isBlank(load<u8>(r))) r++;
    if (litStop(word + 1, r, end, end, true) != usize.MAX_VALUE) return q;
    q = r < limit ? blankAt(r, limit) : usize.MAX_VALUE;
  }
  return q;
}

// litCandidate's answer for a place that is not a stop: go on.
const NOT_HERE: usize = 0;

/**
 * What a candidate c for litStop is: c itself where the literal of op `pc`
 * (n bytes) starts there, usize.MAX_VALUE for a blank in a word, else NOT_HERE.
 */
// @ts-ignore: decorator
@inline
function litCandidate(pc: i32, c: usize, n: usize, end: usize, blankAfter: bool, word: bool, last: bool): usize {
  if (word && isBlank(load<u8>(c))) {
    wordBlank = c;
    return usize.MAX_VALUE;
  }
  if (!litAt(pc, c, end)) return NOT_HERE;
  // A delimiter followed by a space in the pattern counts only where blanks follow it (": " is not the ':' of "a:0").
  if (blankAfter && (c + n >= end || !isBlank(load<u8>(c + n)))) return NOT_HERE;
  // One that ends the pattern, only where it ends the line (the closing quote of "a \"b\" c").
  if (last && c + n != end) return NOT_HERE;
  return c;
}

/**
 * Where the literal of op `pc` first starts in [p, limit), or usize.MAX_VALUE.
 * `word`: usize.MAX_VALUE as well if a blank comes first (a literal never
 * starts with one). Candidates for its first byte (and blanks, for a word)
 * are found 16 bytes at a time (SIMD) or 8 (scalar).
 */
function litStop(pc: i32, p: usize, end: usize, limit: usize, word: bool): usize {
  const first = load<u8>(PROG + <usize>op(pc, 1));
  const n = <usize>op(pc, 2);
  const blankAfter = op(pc + 1, 0) == OP_WS;
  const last = op(pc + 1, 0) == OP_END && !prefixOnly;
  let q = p;
  if (ASC_FEATURE_SIMD) {
    const fv = i8x16.splat(first);
    const sp = i8x16.splat(word ? 0x20 : first);
    const tab = i8x16.splat(word ? 0x09 : first);
    for (; q < limit; q += 16) {
      const v = v128.load(q);
      let m = i8x16.bitmask(v128.or(i8x16.eq(v, fv), v128.or(i8x16.eq(v, sp), i8x16.eq(v, tab))));
      const left = limit - q;
      if (left < 16) m &= (1 << <u32>left) - 1;
      while (m) {
        const r = litCandidate(pc, q + <usize>ctz(m), n, end, blankAfter, word, last);
        if (r != NOT_HERE) return r;
        m &= m - 1;
      }
    }
    return usize.MAX_VALUE;
  }
  const fx = ONES * <u64>first;
  const sx = word ? SPACES : fx;
  const tx = word ? TABS : fx;
  for (; q + 8 <= limit; q += 8) {
    const x = load<u64>(q);
    let m = zeroBytes(x ^ fx) | zeroBytes(x ^ sx) | zeroBytes(x ^ tx);
    while (m) {
      const r = litCandidate(pc, q + <usize>(ctz(m) >> 3), n, end, blankAfter, word, last);
      if (r != NOT_HERE) return r;
      m &= m - 1;
    }
  }
  for (; q < limit; q++) {
    const c = load<u8>(q);
    if (c != first && !(word && isBlank(c))) continue;
    const r = litCandidate(pc, q, n, end, blankAfter, word, last);
    if (r != NOT_HERE) return r;
  }
  return usize.MAX_VALUE;
}

let capCount = 0;

// The first capture of a timestamp, of a level (or PRI) and of a message, or -1.
let tsCap = -1;
let levelCap = -1;
let msgCap = -1;

/** Whether the last timestamp field typedEnd accepted had a time (not a nil "-"). */
let tsRead = false;

/** Where a field of kind `k` (a timestamp, a PRI, structured data, or a flagged field) at p ends, or usize.MAX_VALUE. */
function typedEnd(pc: i32, k: i32, p: usize, end: usize): usize {
  const kind = k & KIND_MASK;
  if (kind == KIND_TS) {
    // Layouts may hold spaces: the layout says how long it is.
    const l = PROG + <usize>op(pc, 2);
    const e = parseLayout(pc, l, l + <usize>op(pc, 3), p, end);
    tsRead = e != 0;
    if (e != 0) return e;
    if ((k & FLAG_NIL) != 0 && p < end && load<u8>(p) == 0x2d) return p + 1;
    return usize.MAX_VALUE;
  }
  if (kind == KIND_PRI) {
    const e = priEnd(p, end);
    return e == 0 ? usize.MAX_VALUE : e;
  }
  if (kind == KIND_SD) {
    const e = sdEnd(p, end);
    return e == 0 ? usize.MAX_VALUE : e;
  }
  if ((k & FLAG_WORD) != 0) return wordEnd(pc, p, end);
  return stopAt(pc + 1, p, end, end);
}

/** A field without blanks: stopAt, but giving up at the first blank. */
function wordEnd(pc: i32, p: usize, end: usize): usize {
  if (op(pc + 1, 0) == OP_LIT) return memoOn ? memoStop(pc + 1, p, end, end, MODE_WORD) : litStop(pc + 1, p, end, end, true);
  const stop = stopAt(pc + 1, p, end, end);
  if (stop != usize.MAX_VALUE && blankAt(p, stop) != usize.MAX_VALUE) return usize.MAX_VALUE;
  return stop;
}

/** Keep field `pc` ([p, stop), of kind k) as capture capCount. */
// @ts-ignore: decorator
@inline
function capture(pc: i32, k: i32, p: usize, stop: usize): void {
  const i = <usize>capCount << 2;
  store<i32>(capOp + i, pc);
  store<u32>(capStart + i, <u32>p);
  store<u32>(capEnd + i, <u32>stop);
  const kind = k & KIND_MASK;
  if (kind == KIND_TS) {
    const t = capTs + (i << 2);
    store<i64>(t, tsSeconds);
    store<u32>(t, tsFrac, 8);
    store<i32>(t, tsRead ? tsFracDigits : -1, 12);
    if (tsCap < 0) tsCap = capCount;
  } else if ((kind == KIND_LEVEL || kind == KIND_PRI) && levelCap < 0) levelCap = capCount;
  else if (kind == KIND_MSG && msgCap < 0) msgCap = capCount;
  capCount++;
}

/** Forget the slots of captures from capCount on. */
// @ts-ignore: decorator
@inline
function dropCaps(): void {
  if (tsCap >= capCount) tsCap = -1;
  if (levelCap >= capCount) levelCap = -1;
  if (msgCap >= capCount) msgCap = -1;
}

// The retry: the last field that stopped where an optional segment (or what
// follows it) can start. When the match then fails at its depth, the field
// grows to its next stop and the pattern goes on from there, instead of the
// line failing. One field at a time: a later one at the same depth or
// shallower takes its place, one inside a segment after it does not (the
// outer field keeps its retry); it is given up with the segment that holds
// it. Its stops are searched on from the last one, never again from its
// start, and the ops after it remember their scans (memoStop): a line costs
// at most (its length × the fields) attempts of the pattern's ops.
let retryPc = -1;
let retryStart: usize = 0;
let retryStop: usize = 0;
let retryCap = 0;
let retryDepth = 0;

/** A num field's text: an optional '-' and digits, or a lone '-' when the field is also nil. */
function isNumText(p: usize, e: usize, k: i32): bool {
  if (p < e && load<u8>(p) == 0x2d) {
    p++;
    if (p == e) return (k & FLAG_NIL) != 0;
  }
  return p < e && allDigits(p, e);
}

/** Whether every byte of [p, e) is a digit. */
// @ts-ignore: decorator
@inline
function allDigits(p: usize, e: usize): bool {
  for (; p < e; p++) if (<u32>load<u8>(p) - 48 > 9) return false;
  return true;
}

/** Match the program against [p, end); the captures are left in the cap arrays. */
function run(p: usize, end: usize): bool {
  let pc = 0;
  let depth = 0;
  capCount = 0;
  tsCap = -1;
  levelCap = -1;
  msgCap = -1;
  retryPc = -1;
  memoOn = false;
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
      // Plain fields stop where the pattern goes on; typed ones are as long as they read (typedEnd).
      const k = op(pc, 1);
      const plain = k < KIND_PRI && k != KIND_TS;
      const stop = plain ? stopAt(pc + 1, p, end, end) : typedEnd(pc, k, p, end);
      if (stop == usize.MAX_VALUE || capCount == MAX_CAPS || ((k & FLAG_NUM) != 0 && !isNumText(p, stop, k))) ok = false;
      else {
        capture(pc, k, p, stop);
        const next = op(pc + 1, 0);
        // A num field is not retried: a longer text would be checked again.
        if (next == OP_OPT && (retryPc < 0 || depth <= retryDepth) && (plain || (k & KIND_MASK) < KIND_PRI && (k & KIND_MASK) != KIND_TS && (k & FLAG_NUM) == 0)) {
          retryPc = pc;
          retryStart = p;
          retryStop = stop;
          retryCap = capCount - 1;
          retryDepth = depth;
        }
        p = stop;
        pc++;
        // A literal that a plain field stopped at is known to be there (litStop checked it).
        if (plain && next == OP_LIT) {
          p += <usize>op(pc, 2);
          pc++;
        }
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
      // OP_OPT_END: the optional segment matched; a retry inside it is given up with it.
      depth--;
      if (retryDepth > depth) retryPc = -1;
      pc++;
    }
    if (!ok) {
      if (retryPc >= 0 && depth == retryDepth) {
        const stop = nextStop(end);
        if (stop != usize.MAX_VALUE) {
          capCount = retryCap;
          dropCaps();
          pc = retryPc;
          capture(pc, op(pc, 1), retryStart, stop);
          retryStop = stop;
          p = stop;
          pc++;
          continue;
        }
        retryPc = -1;
      }
      if (depth == 0) return false;
      // Inside an optional segment: undo it and go on after it.
      depth--;
      if (retryDepth > depth) retryPc = -1;
      const d = <usize>depth << 2;
      p = <usize>load<u32>(optPos + d);
      capCount = load<i32>(optCaps + d);
      dropCaps();
      pc = load<i32>(optNext + d);
    }
  }
  return false; // not reached: the loop returns
}

/** The retried field's next stop after the last one, or usize.MAX_VALUE. */
function nextStop(end: usize): usize {
  if (retryStop >= end) return usize.MAX_VALUE;
  // From here on the line's scans are remembered (memoStop): the attempts that follow do not read it again.
  if (!memoOn) {
    memoOn = true;
    if (++memoGen == 0) {
      memory.fill(MEMO, 0, PROGRAM_BYTES << 1);
      memoGen = 1;
    }
  }
  const stop = stopAt(retryPc + 1, retryStop + 1, end, end);
  // A word field: [retryStart, retryStop) was found without blanks already.
  if (stop != usize.MAX_VALUE && (op(retryPc, 1) & FLAG_WORD) != 0 && blankAt(retryStop, stop) != usize.MAX_VALUE) return usize.MAX_VALUE;
  return stop;
}

// What each op's last scan (litStop, blankAt) found, while a line is retried:
// 32 bytes an op (ops are 16 bytes, so PROGRAM_BYTES * 2): the line's
// generation, the scan's mode, where it started, its limit, what it found
// (NONE: nothing before the limit), and whether that was a blank that ended
// a word field.
let memoOn = false;
let memoGen: u32 = 0;
let MEMO: usize = 0;
const NONE: u32 = u32.MAX_VALUE;
const MODE_LIT = 0;
const MODE_WORD = 1;
const MODE_WS = 2;

/**
 * litStop or blanksStop of op `pc` from p, answered from the op's last scan
 * where that says it: the first stop at or after a place is the same for
 * every place between there and that stop.
 */
function memoStop(pc: i32, p: usize, end: usize, limit: usize, mode: i32): usize {
  const m = MEMO + (<usize>pc << 5);
  if (load<u32>(m) == memoGen && load<i32>(m, 4) == mode && p >= <usize>load<u32>(m, 8)) {
    const found = load<u32>(m, 16);
    if (found != NONE && p <= <usize>found) return <usize>found < limit && load<u32>(m, 20) == 0 ? <usize>found : usize.MAX_VALUE;
    if (found == NONE && limit <= <usize>load<u32>(m, 12)) return usize.MAX_VALUE;
  }
  wordBlank = 0;
  const r = mode == MODE_WS ? blanksStop(pc, p, end, limit) : litStop(pc, p, end, limit, mode == MODE_WORD);
  // Only a word field's own search stops at a blank; blanksStop's inner word search is not this stop.
  if (mode != MODE_WORD) wordBlank = 0;
  store<u32>(m, memoGen);
  store<i32>(m, mode, 4);
  store<u32>(m, <u32>p, 8);
  store<u32>(m, <u32>limit, 12);
  store<u32>(m, r != usize.MAX_VALUE ? <u32>r : wordBlank != 0 ? <u32>wordBlank : NONE, 16);
  store<u32>(m, r == usize.MAX_VALUE && wordBlank != 0 ? 1 : 0, 20);
  return r;
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

// The last timestamp text each layout read, with the bytes after it that
// the layout looked at: lines come in runs with the same time, and the same
// bytes read with the same layout (and clock and zone) give the same time;
// where only the digits of a fraction differ (as many, and digits), the
// same time with that fraction. A slot per timestamp op (by its index), so
// alternatives keep one each; the multiline start program (a prefix of the
// format's pattern, its ops at the same indexes) has slots of its own.
const KEPT_SLOTS = 16;
const KEPT_CAP: usize = 48; // text and lookahead
const SLOT: usize = 96; // layout u32 (0: none), layout end u32, bytes compared u32, text length u32, seconds i64,
// fraction u32, fraction digits i32, the text (KEPT_CAP + 8 for whole-word copies), lookahead u32, fraction digits' span u16 u16
const kept: usize = memory.data(KEPT_SLOTS * <i32>SLOT, 8);

/** Forget the kept timestamps: a new program, clock or zone (index.ts calls it). */
export function resetLayoutCache(): void {
  for (let i = 0; i < KEPT_SLOTS; i++) store<u32>(kept + <usize>i * SLOT, 0);
}

/**
 * How many bytes past the text a layout reads: the byte that stops the last
 * field, and one more for %.f and %z (a '.' or a ':' not followed by digits).
 */
function lookahead(l: usize, le: usize): usize {
  for (let q = l; q + 1 < le; q++) {
    if (load<u8>(q) != 0x25) continue;
    const t = load<u8>(q + 1);
    if (t == 0x2e || t == 0x7a) return 2;
  }
  return 1;
}

/** One or two digits at p (digits(p, end, 1, 2) unrolled): the value, or -1. Sets numEnd. */
// @ts-ignore: decorator
@inline
function digits2(p: usize, end: usize): i64 {
  const a = p < end ? <u32>load<u8>(p) - 48 : 10;
  if (a > 9) { numEnd = p; return -1; }
  const b = p + 1 < end ? <u32>load<u8>(p + 1) - 48 : 10;
  if (b > 9) { numEnd = p + 1; return <i64>a; }
  numEnd = p + 2;
  return <i64>(a * 10 + b);
}

/**
 * Read a timestamp at p with the layout at [l, le) (not past end) of op
 * `pc`; sets the timestamp and returns where it ended, or 0.
 */
function parseLayout(pc: i32, l: usize, le: usize, p: usize, end: usize): usize {
  const k = kept + <usize>((pc & (KEPT_SLOTS / 2 - 1)) | (prefixOnly ? KEPT_SLOTS / 2 : 0)) * SLOT;
  const same = <usize>load<u32>(k) == l && <usize>load<u32>(k, 4) == le;
  if (same) {
    // The same bytes, or the same but for the fraction's digits (as many, and digits).
    const n = <usize>load<u32>(k, 8);
    const fs = <usize>load<u16>(k, 92);
    const fe = <usize>load<u16>(k, 94);
    if (p + n <= end && sameBytes(p, k + 32, fs)) {
      if (fe == fs) {
        if (sameBytes(p, k + 32, n)) {
          setTimestamp(load<i64>(k, 16), load<u32>(k, 24), load<i32>(k, 28));
          return p + <usize>load<u32>(k, 12);
        }
      } else if (sameBytes(p + fe, k + 32 + fe, n - fe)) {
        const frac = fractionAt(p + fs, p + fe);
        if (frac != u32.MAX_VALUE) {
          setTimestamp(load<i64>(k, 16), frac, load<i32>(k, 28));
          return p + <usize>load<u32>(k, 12);
        }
      }
    }
  }
  const e = readLayout(l, le, p, end);
  if (e == 0) return 0;
  const look = same ? <usize>load<u32>(k, 88) : lookahead(l, le);
  const n = e - p + look;
  if (n <= KEPT_CAP && p + n <= end) {
    for (let i: usize = 0; i < n; i += 8) store<u64>(k + 32 + i, load<u64>(p + i));
    store<u32>(k, <u32>l);
    store<u32>(k, <u32>le, 4);
    store<u32>(k, <u32>n, 8);
    store<u32>(k, <u32>(e - p), 12);
    store<i64>(k, tsSeconds, 16);
    store<u32>(k, tsFrac, 24);
    store<i32>(k, tsFracDigits, 28);
    store<u32>(k, <u32>look, 88);
    // One run of fraction digits may differ next time; two are compared as they are.
    const one = fracSpans == 1;
    store<u16>(k, <u16>(one ? fracFrom - p : 0), 92);
    store<u16>(k, <u16>(one ? fracTo - p : 0), 94);
  }
  return e;
}

// Where readLayout read fraction digits: [fracFrom, fracTo), in fracSpans places (0 to 2: 2 is "more than one").
let fracFrom: usize = 0;
let fracTo: usize = 0;
let fracSpans = 0;

// @ts-ignore: decorator
@inline
function fractionDigits(from: usize, to: usize): void {
  if (to == from) return;
  fracFrom = from;
  fracTo = to;
  fracSpans = min(fracSpans + 1, 2);
}

/** The value of the digits [p, e), or u32.MAX_VALUE where one is not a digit. */
function fractionAt(p: usize, e: usize): u32 {
  let v: u32 = 0;
  for (; p < e; p++) {
    const d = <u32>load<u8>(p) - 48;
    if (d > 9) return u32.MAX_VALUE;
    v = v * 10 + d;
  }
  return v;
}

/** parseLayout without the kept time. */
function readLayout(l: usize, le: usize, p: usize, end: usize): usize {
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
  fracSpans = 0;
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
    switch (t) {
      case 0x59: { v = digits(p, end, 4, 4); y = v; break; } // %Y
      case 0x79: { v = digits(p, end, 2, 2); y = v < 69 ? 2000 + v : 1900 + v; break; } // %y
      case 0x6d: { v = digits2(p, end); mo = v; break; } // %m
      case 0x64: { v = digits2(p, end); d = v; break; } // %d
      case 0x48: { v = digits2(p, end); h = v; break; } // %H
      case 0x4d: { v = digits2(p, end); mi = v; break; } // %M
      case 0x53: { v = digits2(p, end); s = v; break; } // %S
      case 0x6a: { v = digits(p, end, 1, 3); yday = v; break; } // %j
      case 0x73: { v = digits(p, end, 1, 12); epoch = v; break; } // %s
      case 0x66: { // %f: fraction digits
        let q = p;
        while (q < end && fd < 9 && <u32>load<u8>(q) - 48 <= 9) { frac = frac * 10 + (<u32>load<u8>(q) - 48); fd++; q++; }
        if (fd == 0) return 0;
        fractionDigits(p, q);
        numEnd = q;
        break;
      }
      case 0x2e: { // %.f: a '.' and fraction digits, or nothing
        l++;
        let q = p;
        if (q + 1 < end && load<u8>(q) == 0x2e && <u32>load<u8>(q + 1) - 48 <= 9) {
          q++;
          const from = q;
          while (q < end && fd < 9 && <u32>load<u8>(q) - 48 <= 9) { frac = frac * 10 + (<u32>load<u8>(q) - 48); fd++; q++; }
          fractionDigits(from, q);
        }
        numEnd = q;
        break;
      }
      case 0x61: { // %a weekday: three letters
        if (p + 3 > end) return 0;
        numEnd = p + 3;
        break;
      }
      case 0x62: { // %b month: three letters
        if (p + 3 > end) return 0;
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
        numEnd = p + 3;
        break;
      }
      case 0x7a: { // %z: Z, +hh, +hhmm, +hh:mm
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
          if (hh > 23 || mm > 59) return 0;
          offset = (hh * 3600 + mm * 60) * (sign == 0x2d ? -1 : 1);
          hasOffset = true;
        }
        break;
      }
      case 0x25: {
        if (p >= end || load<u8>(p) != 0x25) return 0;
        numEnd = p + 1;
        break;
      }
      default: return 0;
    }
    if (v < 0) return 0;
    p = numEnd;
  }
  let utc: i64;
  if (epoch != i64.MIN_VALUE) utc = epoch;
  else {
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return 0;
    const guess = y < 0;
    if (guess) y = defaultYear;
    let days = yday >= 0 ? daysFromCivil(y, 1, 1) + yday - 1 : daysFromCivil(y, <i32>mo, <i32>d);
    let local = days * 86400 + h * 3600 + mi * 60 + s;
    utc = hasOffset ? local - offset : localToUtc(local);
    if (guess && utc > nowSeconds + 86400) {
      y--;
      days = yday >= 0 ? daysFromCivil(y, 1, 1) + yday - 1 : daysFromCivil(y, <i32>mo, <i32>d);
      local = days * 86400 + h * 3600 + mi * 60 + s;
      utc = hasOffset ? local - offset : localToUtc(local);
    }
    // A day the year (as written, or as chosen above) does not have is no time: Feb 29 of a
    // year that is not a leap year, Apr 31, day 0 or 366 of 2023 (no rolling into the next month).
    if (yday >= 0 ? yday < 1 || yday > 337 + <i64>daysInMonth(<i32>y, 2) : d > <i64>daysInMonth(<i32>y, <i32>mo)) return 0;
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
  resetLayoutCache();
}

/** extractPattern's result for a line the pattern does not match (an error code of emit(), apart from json.ts's). */
export const PATTERN_NO_MATCH = 16;

// 2^53 - 1: past it a JSON number is not read back exactly by JSON.parse (and most readers).
const MAX_SAFE: usize = memory.data<u8>([0x39, 0x30, 0x30, 0x37, 0x31, 0x39, 0x39, 0x32, 0x35, 0x34, 0x37, 0x34, 0x30, 0x39, 0x39, 0x31]); // 9007199254740991

/**
 * An integer field's text: optional '-' and digits, as JSON writes them (no
 * leading zero), within ±(2^53 - 1) so that every reader gets these digits.
 */
function isInt(p: usize, e: usize): bool {
  if (p < e && load<u8>(p) == 0x2d) p++;
  if (p == e || e - p > 16 || (load<u8>(p) == 0x30 && e - p > 1) || !allDigits(p, e)) return false;
  return e - p < 16 || memory.compare(p, MAX_SAFE, 16) <= 0;
}

/** Extract one line with the pattern: ts, level, msg, fields; PATTERN_NO_MATCH (the caller writes the error) or 0. */
export function extractPattern(p: usize, end: usize): i32 {
  if (!run(p, end)) {
    putTsKey();
    putNull();
    putLevel(0, 0, 0, RAW_PLAIN);
    putMsgKey();
    putString(p, end);
    putFieldsKey();
    putByte(0x7d);
    return PATTERN_NO_MATCH;
  }
  const ts = tsCap;
  const lv = levelCap;
  const msg = msgCap;
  putTsKey();
  const t = ts >= 0 ? capTs + (<usize>ts << 4) : 0;
  if (t != 0 && load<i32>(t, 12) >= 0) {
    setTimestamp(load<i64>(t), load<u32>(t, 8), load<i32>(t, 12));
    putTimestamp();
  } else putNull();
  if (lv >= 0) {
    const c = <usize>lv << 2;
    const a = <usize>load<u32>(capStart + c);
    const b = <usize>load<u32>(capEnd + c);
    const pri = (op(load<i32>(capOp + c), 1) & KIND_MASK) == KIND_PRI;
    putLevel(pri ? <i32>load<u8>(SEVERITY_LEVEL + (<usize>priValue(a, b) & 7)) : normalizeLevel(a, b - a), a, b, RAW_PLAIN);
  } else putLevel(0, 0, 0, RAW_PLAIN);
  putMsgKey();
  if (msg >= 0) {
    const c = <usize>msg << 2;
    putString(<usize>load<u32>(capStart + c), <usize>load<u32>(capEnd + c));
  } else putNull();
  putFieldsKey();
  firstField = true;
  for (let i = 0; i < capCount; i++) {
    const c = <usize>i << 2;
    const pc = load<i32>(capOp + c);
    const k = op(pc, 1);
    const kind = k & KIND_MASK;
    let a = <usize>load<u32>(capStart + c);
    let b = <usize>load<u32>(capEnd + c);
    if (kind == KIND_PRI) { putFacility(priValue(a, b) >> 3); continue; }
    if (kind == KIND_SD) { putSd(a, b); continue; }
    if (kind != KIND_STRING && kind != KIND_INT) continue;
    if ((k & FLAG_TRIM) != 0) {
      while (a < b && isBlank(load<u8>(a))) a++;
      while (b > a && isBlank(load<u8>(b - 1))) b--;
    }
    if ((k & FLAG_NIL) != 0 && b == a + 1 && load<u8>(a) == 0x2d) continue;
    fieldSep();
    // The name is stored as its JSON key text: "name":
    putBytes(PROG + <usize>op(pc, 2), <usize>op(pc, 3));
    if (kind == KIND_INT && isInt(a, b)) putBytes(a, b - a);
    else putString(a, b);
  }
  putByte(0x7d);
  return 0;
}

/** A comma before every field of a record's fields but the first. */
let firstField = true;
// @ts-ignore: decorator
@inline
function fieldSep(): void {
  if (!firstField) putByte(0x2c);
  firstField = false;
}

// ---- Syslog: <PRI> and RFC 5424 structured data ----

/** Where a PRI value at p ends (0 to 191 in 1-3 digits, no leading zero), or 0. */
function priEnd(p: usize, end: usize): usize {
  const v = digits(p, end, 1, 3);
  if (v < 0 || v > 191) return 0;
  if (load<u8>(p) == 0x30 && numEnd > p + 1) return 0;
  return numEnd;
}

/** The value of PRI digits that priEnd accepted. */
function priValue(a: usize, b: usize): i32 {
  const v = digits(a, b, 1, 3);
  return v < 0 || v > 191 ? 0 : <i32>v; // only if mapped bytes changed since the match
}

// Severity 0-7 to the normalized levels: emerg, alert, crit fatal; err error; warning warn; notice, info info; debug.
const SEVERITY_LEVEL: usize = memory.data<u8>([6, 6, 6, 5, 4, 3, 3, 2]);

// Facility names (RFC 5424, section 6.2.1; rsyslog's names), 8 bytes each.
const FACILITIES: usize = memory.data<u8>([
  0x6b, 0x65, 0x72, 0x6e, 0, 0, 0, 0, 0x75, 0x73, 0x65, 0x72, 0, 0, 0, 0, 0x6d, 0x61, 0x69, 0x6c, 0, 0, 0, 0, // kern user mail
  0x64, 0x61, 0x65, 0x6d, 0x6f, 0x6e, 0, 0, 0x61, 0x75, 0x74, 0x68, 0, 0, 0, 0, // daemon auth
  0x73, 0x79, 0x73, 0x6c, 0x6f, 0x67, 0, 0, 0x6c, 0x70, 0x72, 0, 0, 0, 0, 0, 0x6e, 0x65, 0x77, 0x73, 0, 0, 0, 0, // syslog lpr news
  0x75, 0x75, 0x63, 0x70, 0, 0, 0, 0, 0x63, 0x72, 0x6f, 0x6e, 0, 0, 0, 0, // uucp cron
  0x61, 0x75, 0x74, 0x68, 0x70, 0x72, 0x69, 0x76, 0x66, 0x74, 0x70, 0, 0, 0, 0, 0, 0x6e, 0x74, 0x70, 0, 0, 0, 0, 0, // authpriv ftp ntp
  0x61, 0x75, 0x64, 0x69, 0x74, 0, 0, 0, 0x61, 0x6c, 0x65, 0x72, 0x74, 0, 0, 0, 0x63, 0x6c, 0x6f, 0x63, 0x6b, 0, 0, 0, // audit alert clock
  0x6c, 0x6f, 0x63, 0x61, 0x6c, 0x30, 0, 0, 0x6c, 0x6f, 0x63, 0x61, 0x6c, 0x31, 0, 0, 0x6c, 0x6f, 0x63, 0x61, 0x6c, 0x32, 0, 0, // local0-2
  0x6c, 0x6f, 0x63, 0x61, 0x6c, 0x33, 0, 0, 0x6c, 0x6f, 0x63, 0x61, 0x6c, 0x34, 0, 0, 0x6c, 0x6f, 0x63, 0x61, 0x6c, 0x35, 0, 0, // local3-5
  0x6c, 0x6f, 0x63, 0x61, 0x6c, 0x36, 0, 0, 0x6c, 0x6f, 0x63, 0x61, 0x6c, 0x37, 0, 0, // local6-7
]);
const K_FACILITY: usize = memory.data<u8>([0x22, 0x66, 0x61, 0x63, 0x69, 0x6c, 0x69, 0x74, 0x79, 0x22, 0x3a, 0x22]); // "facility":"

function putFacility(f: i32): void {
  fieldSep();
  putBytes(K_FACILITY, 12);
  const name = FACILITIES + (<usize>f << 3);
  let n: usize = 0;
  while (n < 8 && load<u8>(name + n) != 0) n++;
  putBytes(name, n);
  putByte(0x22);
}

/** Where an SD-NAME at p ends (1 to 32 printable ASCII bytes but '=', ' ', ']' and '"'), or 0. */
function sdNameEnd(p: usize, end: usize): usize {
  let q = p;
  while (q < end && q - p < 33) {
    const c = load<u8>(q);
    if (c <= 0x20 || c >= 0x7f || c == 0x3d || c == 0x5d || c == 0x22) break;
    q++;
  }
  return q == p || q - p > 32 ? 0 : q;
}

/** Where the SD-PARAM at p (name="value") ends, or 0; sets sdName*, sdValue*. */
let sdNameAt: usize = 0;
let sdNameTo: usize = 0;
let sdValueAt: usize = 0;
let sdValueTo: usize = 0;
function sdParamEnd(p: usize, end: usize): usize {
  const n = sdNameEnd(p, end);
  if (n == 0 || n + 1 >= end || load<u8>(n) != 0x3d || load<u8>(n + 1) != 0x22) return 0;
  const v = n + 2;
  const e = quotedEnd(v, end);
  if (e >= end) return 0;
  sdNameAt = p;
  sdNameTo = n;
  sdValueAt = v;
  sdValueTo = e;
  return e + 1;
}

/** Where the structured data at p ends ("-", or one or more [SD-ID SD-PARAM…] elements), or 0. */
function sdEnd(p: usize, end: usize): usize {
  if (p < end && load<u8>(p) == 0x2d) return p + 1;
  if (p >= end || load<u8>(p) != 0x5b) return 0;
  while (p < end && load<u8>(p) == 0x5b) {
    p = sdNameEnd(p + 1, end);
    if (p == 0) return 0;
    while (p < end && load<u8>(p) == 0x20) {
      p = sdParamEnd(p + 1, end);
      if (p == 0) return 0;
    }
    if (p >= end || load<u8>(p) != 0x5d) return 0;
    p++;
  }
  return p;
}

/** A param value as a JSON string: \" \\ and \] unescaped, any other backslash kept (RFC 5424, 6.3.3). */
function putSdValue(p: usize, e: usize): void {
  putByte(0x22);
  let run = p;
  for (let q = p; q < e; q++) {
    if (load<u8>(q) != 0x5c || q + 1 >= e) continue;
    const c = load<u8>(q + 1);
    if (c != 0x22 && c != 0x5c && c != 0x5d) continue;
    putEscaped(run, q);
    run = q + 1; // the escaped byte starts the next run
    q++;
  }
  putEscaped(run, e);
  putByte(0x22);
}

// The params of one element, up to SD_BATCH at a time: name and value bounds.
const SD_BATCH = 256;
const sdParams: usize = memory.data(SD_BATCH * 16, 4);

/** Same name? */
function sdSameName(i: usize, j: usize): bool {
  const a = <usize>load<u32>(sdParams + (i << 4));
  const an = <usize>load<u32>(sdParams + (i << 4), 4) - a;
  const b = <usize>load<u32>(sdParams + (j << 4));
  const bn = <usize>load<u32>(sdParams + (j << 4), 4) - b;
  return an == bn && memory.compare(a, b, an) == 0;
}

/** Write a batch of params: a name given more than once has an array of its values, in order. */
function putSdBatch(n: usize, first: bool): bool {
  for (let i: usize = 0; i < n; i++) {
    let seen = false;
    for (let j: usize = 0; j < i && !seen; j++) seen = sdSameName(i, j);
    if (seen) continue;
    let more = false;
    for (let j = i + 1; j < n && !more; j++) more = sdSameName(i, j);
    if (!first) putByte(0x2c);
    first = false;
    const at = sdParams + (i << 4);
    putString(<usize>load<u32>(at), <usize>load<u32>(at, 4));
    putByte(0x3a);
    if (!more) {
      putSdValue(<usize>load<u32>(at, 8), <usize>load<u32>(at, 12));
      continue;
    }
    putByte(0x5b);
    for (let j = i; j < n; j++) {
      if (j != i && !sdSameName(i, j)) continue;
      if (j != i) putByte(0x2c);
      const v = sdParams + (j << 4);
      putSdValue(<usize>load<u32>(v, 8), <usize>load<u32>(v, 12));
    }
    putByte(0x5d);
  }
  return first;
}

/**
 * Structured data [a, b) that sdEnd accepted, as fields: each element's
 * SD-ID a key, its value an object of the params. Checked again as it is
 * read: mapped bytes may have changed since the match (a truncated file).
 */
function putSd(a: usize, b: usize): void {
  let p = a;
  while (p < b && load<u8>(p) == 0x5b) {
    const id = p + 1;
    p = sdNameEnd(id, b);
    if (p == 0) return;
    fieldSep();
    putString(id, p);
    putByte(0x3a);
    putByte(0x7b);
    let first = true;
    let n: usize = 0;
    while (p < b && load<u8>(p) == 0x20) {
      const e = sdParamEnd(p + 1, b);
      if (e == 0) break;
      p = e;
      const at = sdParams + (n << 4);
      store<u32>(at, <u32>sdNameAt);
      store<u32>(at, <u32>sdNameTo, 4);
      store<u32>(at, <u32>sdValueAt, 8);
      store<u32>(at, <u32>sdValueTo, 12);
      if (++n == SD_BATCH) {
        first = putSdBatch(n, first);
        n = 0;
      }
    }
    putSdBatch(n, first);
    putByte(0x7d);
    p++; // the element's ']'
  }
}
