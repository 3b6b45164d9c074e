// logwire's WASM core: the line/record state machine and the exports the host
// bridge (src/wasm/bridge.ts) calls. Input arrives in windows (mapped file
// pages or pread buffers) inside a reserved region; records leave as NDJSON
// in the output buffer. All offsets cross the boundary as f64 (exact < 2^53).
import { crcCombine, crcInit, crcUpdate } from './crc32c';
import { bulkEnd, bulkNewlines, bulkRecords, countNewlines, findNewline, splitBulk } from './scan';
import { outPos, putByte, putBytes, putString, putU64, resetOut, setOut } from './out';
import {
  classicShape, extractClassic, extractLogfmt, initKeyChars, logfmtShape, putFieldsKey, putLevel, putMsgKey, putNull, putTsKey,
  RAW_PLAIN, setLevelRaw,
} from './extract';
import { extractJson, extractJsonCheck, JSON_DEEP, JSON_NOT_OBJECT, JSON_OK } from './json';
import { parseTimestamp, resetTimestampCache, resetZoneCache, setZone as setTimeZone } from './time';
import { extractPattern, initPattern, PATTERN_NO_MATCH, resetLayoutCache, startMatches } from './pattern';

export const MODE_SPLIT = 0;
export const MODE_CRC = 1;
export const MODE_PARSE = 2;
export const MODE_NDJSON = 3;

export const FORMAT_CLASSIC = 0;
export const FORMAT_LOGFMT = 1;
export const FORMAT_JSON = 2;
export const FORMAT_PATTERN = 3;

export const STATUS_NEED_INPUT = 0;
export const STATUS_OUTPUT_FULL = 1;
export const STATUS_DONE = 2;

const REGION_ALIGN: usize = 65536;

// ---- Memory layout (fixed at init) ----
let inputBase: usize = 0;
let inputCap: usize = 0;
let outputBase: usize = 0;
let outputCap: usize = 0;
let carryBase: usize = 0;
let recordBase: usize = 0;
let prefixBase: usize = 0;
const PREFIX_CAP: usize = 65536;

let maxRecord: usize = 1 << 20;
let mode: i32 = MODE_NDJSON;
let format: i32 = FORMAT_CLASSIC;
let chunkCrcOn: bool = false;
// Input is mapped file pages, which a truncation can change while we read them.
let volatileInput: bool = false;
let prefixLen: usize = 0;

function alignedAlloc(size: usize): usize {
  const raw = heap.alloc(size + REGION_ALIGN);
  return (raw + REGION_ALIGN - 1) & ~(REGION_ALIGN - 1);
}

/**
 * Reserve the regions once: the input region (for mapped windows: page
 * aligned, owned by this allocation so the allocator never hands it out),
 * the output buffer and the carry buffer for lines that cross windows.
 */
export function init(inputBytes: u32, maxRecordBytes: u32, outputBytes: u32): void {
  crcInit();
  initKeyChars();
  maxRecord = maxRecordBytes;
  inputCap = (<usize>inputBytes + REGION_ALIGN - 1) & ~(REGION_ALIGN - 1);
  inputBase = alignedAlloc(inputCap + REGION_ALIGN); // + slack: SIMD tails never leave the region
  outputCap = outputBytes;
  outputBase = alignedAlloc(outputCap + 64);
  carryBase = heap.alloc(maxRecord + 64);
  recordBase = heap.alloc(maxRecord + 64);
  prefixBase = heap.alloc(PREFIX_CAP);
  initPattern();
  setOut(outputBase);
}

export function inputPtr(): usize { return inputBase; }
export function inputSize(): usize { return inputCap; }
export function outputPtr(): usize { return outputBase; }
export function outputSize(): usize { return outputCap; }
export function prefixPtr(): usize { return prefixBase; }
export function prefixSize(): usize { return PREFIX_CAP; }

/** Choose format and mode; `prefixBytes` of `{"file":"…","offset":` were written at prefixPtr(). */
export function configure(fmt: i32, md: i32, flags: u32, prefixBytes: u32): void {
  format = fmt;
  mode = md;
  setLevelRaw((flags & 1) != 0);
  chunkCrcOn = (flags & 2) != 0;
  volatileInput = (flags & 4) != 0;
  prefixLen = prefixBytes;
  resetTimestampCache();
  resetZoneCache();
  resetLayoutCache(); // a new program may be in place
}

/** The zone for times without an offset: see time.ts. */
export function setZone(fixed: bool, offsetSeconds: i32): void {
  setTimeZone(fixed, offsetSeconds);
  resetLayoutCache();
}
export { patternPtr, patternSize, setClock, startPatternPtr } from './pattern';

// ---- Multiline records (docs/records.md, "Multiline records") ----
export const MULTI_OFF = 0;
export const MULTI_INDENT = 1; // lines that start with a space or tab (or "Caused by:") continue a record
export const MULTI_TIMESTAMP = 2; // lines that don't start with a timestamp continue one
export const MULTI_PATTERN = 3; // a record starts at a line the start program matches

let multi: i32 = MULTI_OFF;
let multiMaxLines: u64 = 0;
let multiMaxBytes: usize = 0;
let startProgram: bool = false;

/**
 * Join continuation lines into the record before them (mode MULTI_*, 0 for
 * off). A record keeps at most maxLines lines and maxBytes bytes of text;
 * past that it is truncated, while offset, len and crc still span all of it.
 * `program`: a start program is loaded at startPatternPtr() (MULTI_PATTERN,
 * or MULTI_TIMESTAMP with the format's own timestamp layout).
 */
export function setMultiline(md: i32, maxLines: u32, maxBytes: u32, program: bool): void {
  multi = md;
  multiMaxLines = maxLines;
  multiMaxBytes = min(<usize>maxBytes, maxRecord);
  startProgram = program;
  resetLayoutCache(); // a new start program may be in place
}

// ---- Stream state ----
let pos: u64 = 0; // file offset of the next byte fed
let line: u64 = 1; // number of the line in progress, or the next line
let inLine: bool = false; // a line has started in an earlier window
let lineOff: u64 = 0;
let lineLen: u64 = 0; // its bytes so far, a held-back CR excluded
let lineReg: u32 = 0; // CRC register over those bytes
let carryLen: usize = 0; // bytes of it kept in the carry buffer
let heldCR: bool = false; // a CR ended the last window: part of CRLF or not?
let skipping: bool = false;
let endOff: u64 = u64.MAX_VALUE;
let done: bool = false;
let consumed: usize = 0;
let records: u64 = 0;
let newlines: u64 = 0; // LFs before endOff seen since begin
let chunkReg: u32 = 0xffffffff;
let chunkBytes: u64 = 0;
let committed: u64 = 0; // offset after the last whole line
let beginOff: u64 = 0;

// The record being built (multiline): its text joined with LF in recordBase.
let recOpen: bool = false;
let recOff: u64 = 0;
let recLine: u64 = 0;
let recLen: u64 = 0; // raw bytes from its first byte to the end of its last line's text
let recCrc: u32 = 0; // CRC32C of those bytes
let recBytes: usize = 0;
// Its text still in the input window at recPtr (one line, the common case): copied
// to recordBase only when a continuation joins it or the window is left.
let recInWindow: bool = false;
let recPtr: usize = 0;
let recLines: u64 = 0;
let recCut: bool = false;
// Line endings after its last text (that line's own, then blank lines): part of it only if a continuation follows.
let gapLen: u64 = 0;
let gapReg: u32 = 0xffffffff;
let gapLines: u64 = 0;
// At a chunk start: continuation lines belong to the record of the chunk before.
let skipCont: bool = false;
// A record was opened in this run. Until then the run reads on past its end: the
// first non-empty line of an input starts a record whatever it looks like, and the
// chunks after skip it as a continuation.
let seenRecord: bool = false;

/**
 * Start a run at file offset `offset` whose first line has number `lineNo`.
 * `skip` bit 1: the offset is inside a line that belongs to the previous
 * chunk; skip to after the next LF. Bit 2 (multiline): so do the
 * continuation lines that follow. Lines (records) starting at or after
 * `end` are left to the next chunk (pass -1 for none).
 */
export function begin(offset: f64, lineNo: f64, end: f64, skip: u32): void {
  pos = <u64>offset;
  beginOff = pos;
  line = <u64>lineNo;
  endOff = end < 0 ? u64.MAX_VALUE : <u64>end;
  skipping = (skip & 1) != 0;
  skipCont = (skip & 2) != 0 && multi != MULTI_OFF;
  recOpen = false;
  recInWindow = false;
  seenRecord = false;
  gapLen = 0;
  gapReg = 0xffffffff;
  gapLines = 0;
  inLine = false;
  lineLen = 0;
  lineReg = 0xffffffff;
  carryLen = 0;
  heldCR = false;
  done = false;
  consumed = 0;
  records = 0;
  newlines = 0;
  chunkReg = 0xffffffff;
  chunkBytes = 0;
  committed = pos;
}

export function consumedBytes(): usize { return consumed; }
export function outputLength(): usize { return outPos - outputBase; }
export function resetOutput(): void { resetOut(outputBase); }
export function recordCount(): f64 { return <f64>records; }
export function newlineCount(): f64 { return <f64>newlines; }
export function position(): f64 { return <f64>pos; }
export function nextLine(): f64 { return <f64>line; }
export function committedOffset(): f64 { return <f64>committed; }
/** Where the output so far ends: the open record's start (multiline), else after the last whole line. */
export function heldOffset(): f64 { return <f64>(recOpen ? recOff : committed); }
export function heldLine(): f64 { return <f64>(recOpen ? recLine : line); }
export function isDone(): bool { return done; }
export function chunkCrc(): u32 { return ~chunkReg; }
export function chunkLength(): f64 { return <f64>chunkBytes; }

// @ts-ignore: decorator
@inline
function sawNewline(at: u64): void {
  if (at < endOff) newlines++;
  line++;
  committed = at + 1;
}

let outputSoft: usize = usize.MAX_VALUE;

/** Hand output out once this much is written (smaller batches, less memory touched). */
export function setOutputLimit(bytes: usize): void {
  outputSoft = bytes;
}

/** Whether a record with `n` extractable bytes fits: the worst case must fit the buffer. */
// @ts-ignore: decorator
@inline
function room(n: usize): bool {
  if (mode < MODE_PARSE) return true;
  const used = outPos - outputBase;
  if (used >= outputSoft && used > 0) return false;
  return outputCap - used >= n * 14 + prefixLen + 1024;
}

const CR_BYTE: usize = memory.data<u8>([13]);

function absorbBytes(p: usize, n: usize): void {
  if (mode >= MODE_CRC) lineReg = crcUpdate(lineReg, p, n);
  // Multiline decides from a line's text whether it starts a record, in every mode.
  if ((mode >= MODE_PARSE || multi != MULTI_OFF) && carryLen < maxRecord) {
    const k = min(n, maxRecord - carryLen);
    memory.copy(carryBase + carryLen, p, k);
    carryLen += k;
  }
  lineLen += n;
}

/** Add [p, e) to the carried line, holding back a final CR. */
function absorb(p: usize, e: usize, holdCR: bool): void {
  if (p == e) return;
  if (heldCR) { absorbBytes(CR_BYTE, 1); heldCR = false; }
  if (holdCR && load<u8>(e - 1) == 13) { e--; heldCR = true; }
  absorbBytes(p, e - p);
}

function finish(ptr: usize, p: usize, status: i32): i32 {
  consumed = p - ptr;
  if (recInWindow) keepRecordText();
  if (chunkCrcOn && consumed > 0) {
    // The chunk's CRC covers exactly [begin offset, end offset): the host combines them in order.
    const lo = max(pos, beginOff);
    const hi = min(pos + <u64>consumed, endOff);
    if (hi > lo) {
      chunkReg = crcUpdate(chunkReg, ptr + <usize>(lo - pos), <usize>(hi - lo));
      chunkBytes += hi - lo;
    }
  }
  pos += <u64>consumed;
  return status;
}

/** The input ended: the open record goes out (once there is room for it). */
function endInput(ptr: usize, p: usize): i32 {
  done = true;
  if (recOpen) {
    if (!room(recBytes)) return finish(ptr, p, STATUS_OUTPUT_FULL);
    flushRecord();
  }
  return finish(ptr, p, STATUS_DONE);
}

/**
 * Process [ptr, ptr+len), the bytes at file offset position(). Emits every
 * line that ends inside; keeps the unfinished one. `last`: no more input
 * follows (the final line needs no LF). Returns a STATUS_*; consumedBytes()
 * tells how far it got (less than len only when the output is full or the
 * chunk is done).
 */
export function feed(ptr: usize, len: usize, last: bool): i32 {
  const end = ptr + len;
  const base = pos;
  let p = ptr;
  if (done) {
    // An open record that had no room when the input ended.
    if (recOpen) return endInput(ptr, p);
    return finish(ptr, p, STATUS_DONE);
  }
  if (skipping) {
    const nl = findNewline(p, end);
    if (nl == end) {
      committed = base + <u64>len;
      if (last) done = true;
      return finish(ptr, end, last ? STATUS_DONE : STATUS_NEED_INPUT);
    }
    sawNewline(base + <u64>(nl - ptr));
    p = nl + 1;
    skipping = false;
  }
  while (true) {
    if (inLine) {
      const nl = findNewline(p, end);
      if (nl == end && !last) {
        absorb(p, end, true);
        return finish(ptr, end, STATUS_NEED_INPUT);
      }
      const total = lineLen + <u64>(nl - p) + 1;
      if (!room(multi != MULTI_OFF ? (recOpen ? recBytes : 0) : <usize>min(total, <u64>maxRecord))) return finish(ptr, p, STATUS_OUTPUT_FULL);
      let ending = 0;
      if (nl == end) {
        // The last line, without LF: a final CR is part of it.
        if (heldCR) { absorbBytes(CR_BYTE, 1); heldCR = false; }
        if (end > p) absorbBytes(p, end - p);
      } else {
        let e = nl;
        if (e > p && load<u8>(e - 1) == 13) e--;
        ending = e < nl ? 2 : 1;
        // A held CR directly before this LF was the line ending; otherwise content.
        if (heldCR) {
          if (nl != p) absorbBytes(CR_BYTE, 1);
          else ending = 2;
          heldCR = false;
        }
        if (e > p) absorbBytes(p, e - p);
      }
      inLine = false;
      if (multi != MULTI_OFF) {
        if (takeLine(carryBase, carryLen, lineLen, lineOff, ending, ~lineReg, false) == ACT_STOP) return endInput(ptr, p);
      } else if (lineLen > 0) {
        emit(carryBase, carryLen, lineLen, ~lineReg, lineOff, line, lineLen > <u64>carryLen);
      }
      if (nl == end) {
        committed = base + <u64>len;
        return endInput(ptr, end);
      }
      sawNewline(base + <u64>(nl - ptr));
      p = nl + 1;
      continue;
    }
    const off = base + <u64>(p - ptr);
    if (off >= endOff && !recOpen && (multi == MULTI_OFF || seenRecord || skipCont)) {
      done = true;
      return finish(ptr, p, STATUS_DONE);
    }
    if (p == end) {
      if (last) return endInput(ptr, p);
      return finish(ptr, p, STATUS_NEED_INPUT);
    }
    if (mode == MODE_SPLIT && multi == MULTI_OFF) {
      // Whole lines that start before the chunk end, in bulk.
      const stop = endOff - base > <u64>(end - ptr) ? end : ptr + <usize>(endOff - base);
      splitBulk(p, stop);
      if (bulkEnd > p) {
        records += bulkRecords;
        line += bulkNewlines;
        newlines += bulkNewlines;
        p = bulkEnd;
        committed = base + <u64>(p - ptr);
        continue;
      }
    }
    const nl = findNewline(p, end);
    if (nl == end && !last) {
      inLine = true;
      lineOff = off;
      lineLen = 0;
      lineReg = 0xffffffff;
      carryLen = 0;
      heldCR = false;
      absorb(p, end, true);
      return finish(ptr, end, STATUS_NEED_INPUT);
    }
    let e = nl;
    if (nl != end && e > p && load<u8>(e - 1) == 13) e--;
    const n = e - p;
    if (multi != MULTI_OFF) {
      if (!room(recOpen ? recBytes : 0)) return finish(ptr, p, STATUS_OUTPUT_FULL);
      if (takeLine(p, min(n, maxRecord), <u64>n, off, nl == end ? 0 : <i32>(nl + 1 - e), 0, true) == ACT_STOP) return endInput(ptr, p);
    } else if (n > 0) {
      const ext = min(n, maxRecord);
      if (!room(ext)) return finish(ptr, p, STATUS_OUTPUT_FULL);
      emit(p, ext, <u64>n, mode >= MODE_CRC ? ~crcUpdate(0xffffffff, p, n) : 0, off, line, n > ext);
    }
    if (nl == end) {
      committed = base + <u64>len;
      return endInput(ptr, end);
    }
    sawNewline(base + <u64>(nl - ptr));
    p = nl + 1;
  }
}

// ---- Multiline: what each line does to the record being built ----
const ACT_BLANK = 0; // an empty line: joins only if a continuation follows
const ACT_START = 1;
const ACT_CONT = 2;
const ACT_SKIP = 3; // a continuation of the previous chunk's record
const ACT_STOP = 4; // a record start at or after the chunk end: the chunk is done

const CRLF: usize = memory.data<u8>([13, 10]);
const CAUSED_BY: usize = memory.data<u8>([0x43, 0x61, 0x75, 0x73, 0x65, 0x64, 0x20, 0x62, 0x79, 0x3a]); // Caused by:

/** Whether the line with text [q, e) starts a record (decided on its first maxRecord bytes). */
function isRecordStart(q: usize, e: usize): bool {
  if (multi == MULTI_INDENT) {
    const c = load<u8>(q);
    if (c == 0x20 || c == 0x09) return false;
    // A Java cause chain: "Caused by:" lines are not indented.
    return !(e - q >= 10 && memory.compare(q, CAUSED_BY, 10) == 0);
  }
  if (multi == MULTI_TIMESTAMP) {
    if (startProgram && startMatches(q, e)) return true;
    let t = q;
    if (load<u8>(t) == 0x5b) t++; // [2024-05-01 …]
    return parseTimestamp(t, e, false);
  }
  return startMatches(q, e);
}

/** A whole line: `n` bytes of its text at q (of `total`), starting at file offset `off`. */
function lineAction(q: usize, n: usize, total: u64, off: u64): i32 {
  if (total == 0) return ACT_BLANK;
  if (!recOpen && !skipCont) {
    // The input's first line starts a record, whatever it looks like. Past the
    // chunk's end (a chunk of empty lines reads on) only one the next chunk skips
    // as a continuation: a line that looks like a start is the next chunk's.
    return off >= endOff && isRecordStart(q, q + n) ? ACT_STOP : ACT_START;
  }
  if (!isRecordStart(q, q + n)) return recOpen ? ACT_CONT : ACT_SKIP;
  skipCont = false;
  return off >= endOff && seenRecord ? ACT_STOP : ACT_START;
}

/**
 * A whole line: its text's first `n` of `total` bytes at q, starting at file
 * offset `off`, ended by `ending` bytes. `inWindow`: all of it is at q (its CRC
 * is computed here); else it is in the carry buffer and `crc` is its CRC.
 * Returns what it did (ACT_STOP: nothing, the chunk is done).
 */
function takeLine(q: usize, n: usize, total: u64, off: u64, ending: i32, crc: u32, inWindow: bool): i32 {
  const act = lineAction(q, n, total, off);
  if (act == ACT_STOP) return act;
  if (act == ACT_START) {
    if (recOpen) flushRecord();
    openRecord(q, n, total, inWindow && mode >= MODE_CRC ? ~crcUpdate(0xffffffff, q, <usize>total) : crc, off);
    if (!inWindow) keepRecordText(); // the carry buffer is the next long line's
  } else if (act == ACT_CONT) {
    joinGap();
    if (mode >= MODE_CRC) recCrc = inWindow ? ~crcUpdate(~recCrc, q, <usize>total) : crcCombine(recCrc, crc, total);
    joinText(q, n, total);
  }
  if (recOpen && act != ACT_SKIP) addGap(ending);
  return act;
}

function openRecord(q: usize, n: usize, total: u64, crc: u32, off: u64): void {
  recOpen = true;
  seenRecord = true;
  recOff = off;
  recLine = line;
  recLen = total;
  recCrc = crc;
  recLines = 1;
  recBytes = 0;
  recInWindow = false;
  if (mode >= MODE_PARSE) {
    recBytes = min(n, multiMaxBytes);
    recPtr = q;
    recInWindow = true;
  }
  recCut = total > <u64>recBytes && mode >= MODE_PARSE;
  gapLen = 0;
  gapReg = 0xffffffff;
  gapLines = 0;
}

function addGap(ending: i32): void {
  if (ending == 0) return;
  gapLen += <u64>ending;
  gapLines++;
  if (mode >= MODE_CRC) gapReg = crcUpdate(gapReg, ending == 2 ? CRLF : CRLF + 1, <usize>ending);
}

/** A continuation follows: the line endings since the record's last text become part of it. */
function joinGap(): void {
  recLen += gapLen;
  if (mode >= MODE_CRC) recCrc = crcCombine(recCrc, ~gapReg, gapLen);
}

/** Append a continuation line's text (n of total bytes at q), one LF per line ending before it. */
/** Move the open record's text from the input to recordBase. */
function keepRecordText(): void {
  if (!recInWindow) return;
  memory.copy(recordBase, recPtr, recBytes);
  recInWindow = false;
}

function joinText(q: usize, n: usize, total: u64): void {
  keepRecordText();
  recLen += total;
  const lines = gapLines;
  recLines += lines;
  gapLen = 0;
  gapReg = 0xffffffff;
  gapLines = 0;
  if (mode < MODE_PARSE) return;
  if (recLines > multiMaxLines || recCut) {
    recCut = true;
    return;
  }
  const room = multiMaxBytes - recBytes;
  const nls = <usize>min(lines, <u64>room);
  memory.fill(recordBase + recBytes, 0x0a, nls);
  recBytes += nls;
  const k = min(n, multiMaxBytes - recBytes);
  memory.copy(recordBase + recBytes, q, k);
  recBytes += k;
  if (nls < <usize>lines || <u64>k < total) recCut = true;
}

function flushRecord(): void {
  recOpen = false;
  emit(recInWindow ? recPtr : recordBase, recBytes, recLen, recCrc, recOff, recLine, recCut);
  recInWindow = false;
}

const K_LINE: usize = memory.data<u8>([0x2c, 0x22, 0x6c, 0x69, 0x6e, 0x65, 0x22, 0x3a]); // ,"line":
const K_LEN: usize = memory.data<u8>([0x2c, 0x22, 0x6c, 0x65, 0x6e, 0x22, 0x3a]); // ,"len":
const K_CRC: usize = memory.data<u8>([0x2c, 0x22, 0x63, 0x72, 0x63, 0x22, 0x3a]); // ,"crc":
const K_TRUNC: usize = memory.data<u8>([0x2c, 0x22, 0x74, 0x72, 0x75, 0x6e, 0x63, 0x61, 0x74, 0x65, 0x64, 0x22, 0x3a, 0x74, 0x72, 0x75, 0x65]); // ,"truncated":true
const K_ERROR: usize = memory.data<u8>([0x2c, 0x22, 0x65, 0x72, 0x72, 0x6f, 0x72, 0x22, 0x3a, 0x22]); // ,"error":"
const E_INVALID: usize = memory.data<u8>([0x69, 0x6e, 0x76, 0x61, 0x6c, 0x69, 0x64, 0x20, 0x6a, 0x73, 0x6f, 0x6e]); // invalid json
const E_NOT_OBJECT: usize = memory.data<u8>([0x6e, 0x6f, 0x74, 0x20, 0x61, 0x6e, 0x20, 0x6f, 0x62, 0x6a, 0x65, 0x63, 0x74]); // not an object
const E_DEEP: usize = memory.data<u8>([0x74, 0x6f, 0x6f, 0x20, 0x64, 0x65, 0x65, 0x70]); // too deep
const E_NO_MATCH: usize = memory.data<u8>([0x6e, 0x6f, 0x20, 0x6d, 0x61, 0x74, 0x63, 0x68]); // no match

/** One record: `n` bytes at p to extract from; `len`/`crc` describe all its bytes (cut: n is not all its text). */
function emit(p: usize, n: usize, len: u64, crc: u32, off: u64, lineNo: u64, cut: bool): void {
  records++;
  if (mode < MODE_PARSE) return;
  const start = outPos;
  putBytes(prefixBase, prefixLen);
  putU64(off);
  putBytes(K_LINE, 8);
  putU64(lineNo);
  putBytes(K_LEN, 7);
  putU64(len);
  putBytes(K_CRC, 7);
  putU64(<u64>crc);
  let err = JSON_OK;
  if (format == FORMAT_CLASSIC) extractClassic(p, p + n);
  else if (format == FORMAT_LOGFMT) extractLogfmt(p, p + n);
  else if (format == FORMAT_PATTERN) err = extractPattern(p, p + n);
  else {
    // The json extractor reads a line twice (validate, then copy): over mapped
    // pages it works on a private copy, so both passes see the same bytes.
    if (volatileInput && p != carryBase && p != recordBase) {
      memory.copy(carryBase, p, n);
      p = carryBase;
    }
    err = extractJson(p, p + n);
    if (err != JSON_OK) {
      putTsKey();
      putNull();
      putLevel(0, 0, 0, RAW_PLAIN);
      putMsgKey();
      putString(p, p + n);
      putFieldsKey();
      putByte(0x7d);
    }
  }
  if (cut) putBytes(K_TRUNC, 17);
  if (err != JSON_OK) {
    putBytes(K_ERROR, 10);
    if (err == JSON_NOT_OBJECT) putBytes(E_NOT_OBJECT, 13);
    else if (err == JSON_DEEP) putBytes(E_DEEP, 8);
    else if (err == PATTERN_NO_MATCH) putBytes(E_NO_MATCH, 8);
    else putBytes(E_INVALID, 12);
    putByte(0x22);
  }
  putByte(0x7d);
  putByte(0x0a);
  // parse mode measures extraction and encoding without handing bytes out.
  if (mode == MODE_PARSE) resetOut(start);
}

/** Number of LFs in [ptr, ptr+len): the pre-pass that gives each chunk its first line number. */
export function countLines(ptr: usize, len: usize): u32 {
  return countNewlines(ptr, ptr + len);
}

/** CRC32C of [ptr, ptr+len) (standard init and final xor). */
export function crc32c(ptr: usize, len: usize, previous: u32): u32 {
  return ~crcUpdate(~previous, ptr, len);
}

/**
 * Pick a format from the first lines at [ptr, ptr+len): see docs/records.md,
 * "auto". Returns a FORMAT_*.
 */
export function detect(ptr: usize, len: usize, whole: bool): i32 {
  // A line counts only if it ends (LF, or the end of a whole input) in the first 64 KiB.
  const end = ptr + min(len, 65536);
  const cut = !whole || len > 65536;
  let p = ptr;
  let lines = 0;
  let nClassic = 0, nJson = 0, nLogfmt = 0;
  while (p < end && lines < 20) {
    const nl = findNewline(p, end);
    if (nl == end && cut) break;
    let e = nl;
    if (nl != end && e > p && load<u8>(e - 1) == 13) e--;
    if (e > p) {
      lines++;
      // A line may count for several formats.
      if (classicShape(p, e)) nClassic++;
      if (isJsonObject(p, e)) nJson++;
      if (logfmtShape(p, e)) nLogfmt++;
    }
    p = nl + 1;
  }
  resetTimestampCache();
  if (nJson > nClassic && nJson >= nLogfmt) return FORMAT_JSON;
  if (nLogfmt > nClassic && nLogfmt > nJson) return FORMAT_LOGFMT;
  return FORMAT_CLASSIC;
}

function isJsonObject(p: usize, e: usize): bool {
  return extractJsonCheck(p, e);
}

