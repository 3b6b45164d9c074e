// Timestamps: RFC 3339 / ISO 8601 text and epoch numbers to UTC, and the
// RFC 3339 UTC text written into records.
import { advance, outPos, putByte, putPadded } from './out';

// The zone for times written without one: a fixed offset, or the host's
// IANA rules (asked through an import, cached by 15-minute local bucket:
// zone changes fall on quarter hours).
@external("env", "zoneOffset")
declare function hostZoneOffset(localSeconds: f64): i32;

export let zoneIsFixed: bool = true;
export let zoneFixedOffset: i32 = 0;
let zoneBucket: i64 = i64.MIN_VALUE;
let zoneBucketOffset: i32 = 0;

/** UTC seconds of local seconds in the configured zone. */
export function localToUtc(local: i64): i64 {
  if (zoneIsFixed) return local - zoneFixedOffset;
  const bucket = local >= 0 ? local / 900 : (local - 899) / 900;
  if (bucket != zoneBucket) {
    zoneBucket = bucket;
    zoneBucketOffset = hostZoneOffset(<f64>(bucket * 900));
  }
  return local - zoneBucketOffset;
}

export function resetZoneCache(): void {
  zoneBucket = i64.MIN_VALUE;
}

// Result of the last successful parse.
export let tsSeconds: i64 = 0;
export let tsFrac: u32 = 0;
export let tsFracDigits: i32 = 0;
export let tsEnd: usize = 0;

// @ts-ignore: decorator
@inline
function digit(p: usize): u32 {
  return <u32>load<u8>(p) - 48;
}

// @ts-ignore: decorator
@inline
function two(p: usize): i32 {
  const a = digit(p);
  const b = digit(p + 1);
  if (a > 9 || b > 9) return -1;
  return <i32>(a * 10 + b);
}

export function daysFromCivil(y: i64, m: i32, d: i32): i64 {
  if (m <= 2) y--;
  const era = (y >= 0 ? y : y - 399) / 400;
  const yoe = y - era * 400;
  const mp = m > 2 ? m - 3 : m + 9;
  const doy: i64 = (153 * mp + 2) / 5 + d - 1;
  const doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

export function daysInMonth(y: i32, m: i32): i32 {
  if (m == 2) return (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) ? 29 : 28;
  return (m == 4 || m == 6 || m == 9 || m == 11) ? 30 : 31;
}

// Cache of the last `YYYY-MM-DD?hh:mm:ss` seen: log lines come in runs that
// share the second, so most lines skip the calendar arithmetic.
const LAST: usize = memory.data(32, 16);
let lastValid: bool = false;
let lastLocal: i64 = 0;

/**
 * Parse a timestamp at [p, end). On success sets tsSeconds/tsFrac/
 * tsFracDigits/tsEnd and returns true. `whole`: the text must end exactly
 * at `end` (values); otherwise it may be followed by anything (line prefix).
 */
export function parseTimestamp(p: usize, end: usize, whole: bool): bool {
  if (end - p < 19) return false;
  let local: i64;
  if (ASC_FEATURE_SIMD) {
    // Compare the 19-byte prefix with the cached one (16 + 3 bytes).
    const same = lastValid &&
      i8x16.all_true(i8x16.eq(v128.load(p), v128.load(LAST))) &&
      load<u16>(p, 16) == load<u16>(LAST, 16) && load<u8>(p, 18) == load<u8>(LAST, 18);
    if (same) {
      local = lastLocal;
    } else {
      local = parseDateTime(p);
      if (local == i64.MIN_VALUE) return false;
    }
  } else {
    const same = lastValid && load<u64>(p) == load<u64>(LAST) && load<u64>(p, 8) == load<u64>(LAST, 8) &&
      load<u16>(p, 16) == load<u16>(LAST, 16) && load<u8>(p, 18) == load<u8>(LAST, 18);
    if (same) {
      local = lastLocal;
    } else {
      local = parseDateTime(p);
      if (local == i64.MIN_VALUE) return false;
    }
  }
  let q = p + 19;
  let frac: u32 = 0;
  let fd = 0;
  if (q < end && (load<u8>(q) == 0x2e || load<u8>(q) == 0x2c)) {
    q++;
    while (q < end) {
      const d = digit(q);
      if (d > 9) break;
      if (fd == 9) return false;
      frac = frac * 10 + d;
      fd++;
      q++;
    }
    if (fd == 0) return false;
  }
  let utc: i64;
  const z = q < end ? <u32>load<u8>(q) : 0;
  if (z == 0x5a || z == 0x7a) { // Z z
    utc = local;
    q++;
  } else if (z == 0x2b || z == 0x2d) { // + -
    if (q + 3 > end) return false;
    const hh = two(q + 1);
    if (hh < 0 || hh > 23) return false;
    let mm = 0;
    let r = q + 3;
    if (r < end && load<u8>(r) == 0x3a) {
      if (r + 3 > end) return false;
      mm = two(r + 1);
      if (mm < 0) return false;
      r += 3;
    } else if (r + 2 <= end && digit(r) <= 9) {
      mm = two(r);
      if (mm < 0) return false;
      r += 2;
    }
    if (mm > 59) return false;
    const off = (hh * 3600 + mm * 60) * (z == 0x2d ? -1 : 1);
    utc = local - off;
    q = r;
  } else {
    utc = localToUtc(local);
  }
  if (whole && q != end) return false;
  // Years 0000–9999 only.
  if (utc < -62167219200 || utc > 253402300799) return false;
  tsSeconds = utc;
  tsFrac = frac;
  tsFracDigits = fd;
  tsEnd = q;
  return true;
}

/** Local seconds of `YYYY-MM-DD?hh:mm:ss` at p, or i64.MIN_VALUE. Caches it. */
function parseDateTime(p: usize): i64 {
  const y1 = two(p);
  const y2 = two(p + 2);
  if (y1 < 0 || y2 < 0) return i64.MIN_VALUE;
  if (load<u8>(p, 4) != 0x2d || load<u8>(p, 7) != 0x2d) return i64.MIN_VALUE;
  const sep = load<u8>(p, 10);
  if (sep != 0x54 && sep != 0x74 && sep != 0x20) return i64.MIN_VALUE;
  if (load<u8>(p, 13) != 0x3a || load<u8>(p, 16) != 0x3a) return i64.MIN_VALUE;
  const y = y1 * 100 + y2;
  const mo = two(p + 5);
  const d = two(p + 8);
  const h = two(p + 11);
  const mi = two(p + 14);
  const s = two(p + 17);
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) return i64.MIN_VALUE;
  if (h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 60) return i64.MIN_VALUE;
  const local = daysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
  if (ASC_FEATURE_SIMD) {
    v128.store(LAST, v128.load(p));
  } else {
    store<u64>(LAST, load<u64>(p));
    store<u64>(LAST, load<u64>(p, 8), 8);
  }
  store<u16>(LAST, load<u16>(p, 16), 16);
  store<u8>(LAST, load<u8>(p, 18), 18);
  lastValid = true;
  lastLocal = local;
  return local;
}

/** Set the timestamp that putTimestamp writes (patterns parse their own layouts). */
export function setTimestamp(seconds: i64, frac: u32, fracDigits: i32): void {
  tsSeconds = seconds;
  tsFrac = frac;
  tsFracDigits = fracDigits;
}

export function resetTimestampCache(): void {
  lastValid = false;
}

/**
 * Epoch number text at [p, end): digits with at most one '.'. Below 1e11 it
 * is seconds, otherwise milliseconds; fraction digits are kept.
 */
export function parseEpoch(p: usize, end: usize): bool {
  let ip: u64 = 0;
  // Significant digits only: leading zeros do not make a number large (17 of them would overflow u64's exact range).
  let idigits = 0;
  let q = p;
  while (q < end) {
    const d = digit(q);
    if (d > 9) break;
    if (idigits == 16) return false;
    ip = ip * 10 + d;
    if (ip != 0) idigits++;
    q++;
  }
  if (q == p) return false;
  let frac: u64 = 0;
  let fd = 0;
  if (q < end && load<u8>(q) == 0x2e) {
    q++;
    while (q < end) {
      const d = digit(q);
      if (d > 9) return false;
      if (fd == 9) return false;
      frac = frac * 10 + d;
      fd++;
      q++;
    }
    if (fd == 0) return false;
  }
  if (q != end) return false;
  let secs: i64;
  if (ip < 100000000000) {
    secs = <i64>ip;
  } else {
    secs = <i64>(ip / 1000);
    if (fd + 3 > 9) return false;
    let scale: u64 = 1;
    for (let i = 0; i < fd; i++) scale *= 10;
    frac = (ip % 1000) * scale + frac;
    fd += 3;
  }
  if (secs > 253402300799) return false;
  tsSeconds = secs;
  tsFrac = <u32>frac;
  tsFracDigits = fd;
  tsEnd = q;
  return true;
}

// Cache of the last second written as text.
const LAST_OUT: usize = memory.data(32, 16);
let lastOutSecond: i64 = i64.MIN_VALUE;

/** Write `"YYYY-MM-DDThh:mm:ss[.f]Z"` for the last parsed timestamp. */
export function putTimestamp(): void {
  putByte(0x22);
  if (tsSeconds != lastOutSecond) {
    const save = outPos;
    writeCivil(tsSeconds);
    memory.copy(LAST_OUT, save, 19);
    lastOutSecond = tsSeconds;
  } else {
    memory.copy(outPos, LAST_OUT, 19);
    advance(19);
  }
  if (tsFracDigits) {
    putByte(0x2e);
    putPadded(tsFrac, tsFracDigits);
  }
  putByte(0x5a);
  putByte(0x22);
}

function writeCivil(t: i64): void {
  let days = t / 86400;
  let rem = t % 86400;
  if (rem < 0) { rem += 86400; days--; }
  const z = days + 719468;
  const era = (z >= 0 ? z : z - 146096) / 146097;
  const doe = z - era * 146097;
  const yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const mp = (5 * doy + 2) / 153;
  const d = doy - (153 * mp + 2) / 5 + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  putPadded(<u32>y, 4);
  putByte(0x2d);
  putPadded(<u32>m, 2);
  putByte(0x2d);
  putPadded(<u32>d, 2);
  putByte(0x54);
  putPadded(<u32>(rem / 3600), 2);
  putByte(0x3a);
  putPadded(<u32>((rem / 60) % 60), 2);
  putByte(0x3a);
  putPadded(<u32>(rem % 60), 2);
}

/** `fixed`: a fixed offset of `offsetSeconds`; otherwise ask the host (IANA rules). */
export function setZone(fixed: bool, offsetSeconds: i32): void {
  zoneIsFixed = fixed;
  zoneFixedOffset = offsetSeconds;
  zoneBucket = i64.MIN_VALUE;
  lastValid = false;
}
