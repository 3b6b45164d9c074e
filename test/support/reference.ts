// Plain, slow reference implementation of docs/records.md: the oracle the
// property tests compare the WASM core with. Clarity first, speed never.
//
// Readings of the document where it leaves room are marked "Reading:" below;
// the WASM core has to make the same choices.

export type Format = 'classic' | 'logfmt' | 'json' | 'auto';

export interface RefOptions {
  file: string;
  format: Format;
  /** 'UTC' (default), a fixed offset like '+05:30' '-0800' '+05', or an IANA name. */
  tz?: string;
  /** Default 1048576 (1 MiB). */
  maxRecordBytes?: number;
  levelRaw?: boolean;
  multiline?: RefMultiline;
}

/** Joining continuation lines into records (docs/records.md, "Multiline records"). */
export interface RefMultiline {
  start: 'indent' | 'timestamp';
  maxLines: number;
  /** At most maxRecordBytes. */
  maxBytes: number;
}

const DEFAULT_MAX_RECORD_BYTES = 1024 * 1024;
const MAX_JSON_DEPTH = 1000;
const AUTO_MAX_LINES = 20;
const AUTO_WINDOW_BYTES = 64 * 1024;

// ignoreBOM: a U+FEFF is valid UTF-8 and is kept like any other character.
// Reading: the document never mentions a BOM, so a BOM at the start of a file
// is part of the first line (which then has no classic shape and is not JSON).
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

// ---------------------------------------------------------------- CRC32C

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC32C (Castagnoli, reflected). `crc` is a previous result to continue from. */
export function crc32c(bytes: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (const b of bytes) c = (CRC32C_TABLE[(c ^ b) & 0xff] ^ (c >>> 8)) >>> 0;
  return ~c >>> 0;
}

// ---------------------------------------------------------------- lines

interface Line {
  offset: number;
  number: number;
  /** The line's bytes without LF / CRLF. */
  bytes: Uint8Array;
  /** Offset of the byte after the line's ending (input length for a last line without LF). */
  next: number;
}

function splitLines(input: Uint8Array): Line[] {
  const lines: Line[] = [];
  let start = 0;
  let number = 0;
  while (start < input.length) {
    number++;
    const lf = input.indexOf(0x0a, start);
    if (lf === -1) {
      // Reading: without a following LF a trailing CR is an ordinary byte.
      lines.push({ offset: start, number, bytes: input.subarray(start), next: input.length });
      break;
    }
    const end = lf > start && input[lf - 1] === 0x0d ? lf - 1 : lf;
    lines.push({ offset: start, number, bytes: input.subarray(start, end), next: lf + 1 });
    start = lf + 1;
  }
  return lines;
}

// ---------------------------------------------------------------- levels

const LEVEL_SPELLINGS: Record<string, string[]> = {
  trace: ['trace', 'trc', 'finest', 'verbose'],
  debug: ['debug', 'dbg', 'fine', 'finer'],
  info: ['info', 'inf', 'information', 'informational', 'notice', 'config'],
  warn: ['warn', 'warning', 'wrn'],
  error: ['error', 'err', 'severe', 'eror'],
  fatal: ['fatal', 'ftl', 'crit', 'critical', 'alert', 'emerg', 'emergency', 'panic'],
};

const PINO_LEVELS: Record<string, string> = {
  '10': 'trace', '20': 'debug', '30': 'info', '40': 'warn', '50': 'error', '60': 'fatal',
};

// Reading: "case-insensitive" is ASCII case folding only (A-Z ↔ a-z); a
// non-ASCII letter never matches (no Unicode folding of 'İ', 'K', 'ſ'…).
function asciiLower(text: string): string {
  return text.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}

/** The canonical level for a spelling (the whole text, ASCII case-insensitive), or null. */
export function normalizeLevel(text: string): string | null {
  const lower = asciiLower(text);
  for (const [level, spellings] of Object.entries(LEVEL_SPELLINGS)) {
    if (spellings.includes(lower)) return level;
  }
  return null;
}

// ---------------------------------------------------------------- time

type Zone = { kind: 'fixed'; offset: number } | { kind: 'iana'; format: Intl.DateTimeFormat };

const zoneCache = new Map<string, Zone>();

// Reading: an offset's hours must be 00–23 and its minutes 00–59 (RFC 3339's
// time-hour / time-minute), both in timestamps and in the `tz` option.
function fixedOffsetSeconds(sign: string, hh: string, mm: string | undefined): number | null {
  const hours = Number(hh);
  const minutes = mm === undefined ? 0 : Number(mm);
  if (hours > 23 || minutes > 59) return null;
  return (sign === '-' ? -1 : 1) * (hours * 3600 + minutes * 60);
}

function zoneFor(tz: string): Zone {
  let zone = zoneCache.get(tz);
  if (zone) return zone;
  const fixed = /^([+-])(\d{2})(?::?(\d{2}))?$/.exec(tz);
  if (tz === 'UTC') {
    zone = { kind: 'fixed', offset: 0 };
  } else if (fixed) {
    const offset = fixedOffsetSeconds(fixed[1], fixed[2], fixed[3]);
    if (offset === null) throw new RangeError(`tz must be UTC, ±hh[:mm] or an IANA zone name, got ${tz}`);
    zone = { kind: 'fixed', offset };
  } else {
    // Throws a RangeError for an unknown zone name.
    const format = new Intl.DateTimeFormat('en-US', {
      timeZone: tz, hourCycle: 'h23', era: 'short',
      year: 'numeric', month: 'numeric', day: 'numeric',
      hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    zone = { kind: 'iana', format };
  }
  zoneCache.set(tz, zone);
  return zone;
}

/** Seconds since the epoch of a proleptic Gregorian UTC date-time (second 60 rolls over). */
function utcSeconds(year: number, month: number, day: number, h: number, m: number, s: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day); // unlike Date.UTC, no 1900 offset for years 0–99
  date.setUTCHours(h, m, s, 0);
  return date.getTime() / 1000;
}

/** The zone's offset from UTC, in seconds, at an instant (epoch seconds). */
function offsetAt(format: Intl.DateTimeFormat, instant: number): number {
  const parts: Record<string, string> = {};
  for (const p of format.formatToParts(new Date(instant * 1000))) parts[p.type] = p.value;
  const yearOfEra = Number(parts.year);
  const year = parts.era === 'BC' ? 1 - yearOfEra : yearOfEra;
  const local = utcSeconds(year, Number(parts.month), Number(parts.day),
    Number(parts.hour), Number(parts.minute), Number(parts.second));
  return local - instant;
}

/**
 * The offset to read a local time (given as if it were UTC) with. Assumes at
 * most one offset change within a day of it, which holds for the tz database.
 */
function offsetForLocal(format: Intl.DateTimeFormat, local: number): number {
  const day = 86400;
  const before = offsetAt(format, local - day);
  const after = offsetAt(format, local + day);
  // The larger offset gives the earlier instant: try it first, so a repeated
  // local time is read as the first one.
  for (const offset of [Math.max(before, after), Math.min(before, after)]) {
    if (offsetAt(format, local - offset) === offset) return offset;
  }
  return before; // a local time skipped by the change: the offset before it
}

const MAX_SECONDS = utcSeconds(9999, 12, 31, 23, 59, 59);
const MIN_SECONDS = utcSeconds(0, 1, 1, 0, 0, 0);

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** RFC 3339 UTC text for whole epoch seconds plus fraction digits, or null outside years 0000–9999. */
function formatUtc(seconds: number, fraction: string): string | null {
  if (seconds < MIN_SECONDS || seconds > MAX_SECONDS) return null;
  const d = new Date(seconds * 1000);
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}` +
    `T${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}` +
    (fraction === '' ? '' : `.${fraction}`) + 'Z';
}

function daysInMonth(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
}

// `\d` without the u flag is ASCII 0-9 only.
const TIMESTAMP_PATTERN =
  '(\\d{4})-(\\d{2})-(\\d{2})[Tt ](\\d{2}):(\\d{2}):(\\d{2})(?:[.,](\\d{1,9}))?(?:([Zz])|([+-])(\\d{2})(?::?(\\d{2}))?)?';
const TIMESTAMP_RE = new RegExp(`^${TIMESTAMP_PATTERN}$`);

/** A timestamp text (the whole string) as RFC 3339 UTC, or null. */
export function parseTimestamp(text: string, tz: string): string | null {
  const zone = zoneFor(tz);
  const m = TIMESTAMP_RE.exec(text);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  const fraction = m[7] ?? '';
  if (month < 1 || month > 12) return null;
  if (day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 60) return null;
  // Reading: second 60 rolls over before the zone is applied, so a local
  // 01:59:60 is the local 02:00:00 (and a DST gap or repeat applies to that).
  const local = utcSeconds(year, month, day, hour, minute, second);
  let offset: number;
  if (m[8] !== undefined) {
    offset = 0;
  } else if (m[9] !== undefined) {
    const fixed = fixedOffsetSeconds(m[9], m[10], m[11]);
    if (fixed === null) return null;
    offset = fixed;
  } else if (zone.kind === 'fixed') {
    offset = zone.offset;
  } else {
    offset = offsetForLocal(zone.format, local);
  }
  return formatUtc(local - offset, fraction);
}

// Reading: "digits with at most one `.`" means digits, optionally followed by
// `.` and more digits: '1714521600.' and '.5' are not numbers. The same
// pattern is what a JSON number without sign and exponent looks like.
const EPOCH_NUMBER_RE = /^(\d+)(?:\.(\d+))?$/;

/** An epoch number's text (seconds below 1e11, else milliseconds) as RFC 3339 UTC, or null. */
function epochTimestamp(text: string): string | null {
  const m = EPOCH_NUMBER_RE.exec(text);
  if (!m) return null;
  const integer = BigInt(m[1]);
  let fraction = m[2] ?? '';
  let seconds: bigint;
  if (integer < 100000000000n) {
    seconds = integer;
  } else {
    seconds = integer / 1000n;
    fraction = String(integer % 1000n).padStart(3, '0') + fraction;
  }
  if (fraction.length > 9) return null;
  if (seconds > BigInt(MAX_SECONDS)) return null;
  return formatUtc(Number(seconds), fraction);
}

// ---------------------------------------------------------------- key=value

// The decoded text is scanned instead of the bytes. That is the same thing:
// every byte the rules look at is ASCII, and the UTF-8 decoder never folds an
// ASCII byte into a U+FFFD, so decoding before or after cutting gives the same.

function isBlank(c: string | undefined): boolean {
  // A multiline record's text holds LFs; they end values like a space.
  return c === ' ' || c === '\t' || c === '\n';
}

const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', n: '\n', t: '\t', r: '\r' };

/** Reads a value starting at `start`; `end` is the index just after it. */
function readValue(text: string, start: number): { value: string; end: number } {
  if (text[start] !== '"') {
    let end = start;
    while (end < text.length && !isBlank(text[end])) end++;
    return { value: text.slice(start, end), end };
  }
  let value = '';
  let i = start + 1;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') return { value, end: i + 1 };
    if (c === '\\' && i + 1 < text.length) {
      const next = text[i + 1];
      value += ESCAPES[next] ?? c + next;
      i += 2;
      continue;
    }
    // Reading: a backslash as the last character of an unterminated quote
    // stays as itself.
    value += c;
    i++;
  }
  return { value, end: i }; // unterminated: runs to the end
}

const KEY_CHAR = /[A-Za-z0-9_.@/-]/;

/** The key=value pairs of a classic message, in order. */
function classicPairs(msg: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  let i = 0;
  while (i < msg.length) {
    if (i === 0 || isBlank(msg[i - 1])) {
      let j = i;
      while (j < msg.length && KEY_CHAR.test(msg[j])) j++;
      if (j > i && msg[j] === '=') {
        const { value, end } = readValue(msg, j + 1);
        pairs.push([msg.slice(i, j), value]);
        // A key must follow a space or tab, so text glued to a closing quote
        // is skipped by the loop below.
        i = end;
        continue;
      }
    }
    i++;
  }
  return pairs;
}

interface LogfmtToken {
  key: string;
  value: string;
  hasEquals: boolean;
  start: number;
}

/**
 * The tokens of a logfmt line, with empty keys already dropped.
 * Reading: a token starting with `"` has an empty key; the quoted string is
 * read as a value (so `"a b"` is one token) and skipped with it.
 * Reading: after a closing quote, anything up to the next space or tab
 * belongs to the same token and is skipped.
 */
function logfmtTokens(line: string): LogfmtToken[] {
  const tokens: LogfmtToken[] = [];
  let i = 0;
  while (i < line.length) {
    if (isBlank(line[i])) {
      i++;
      continue;
    }
    const start = i;
    let key = '';
    let value = '';
    let hasEquals = false;
    if (line[i] === '"') {
      i = readValue(line, i).end;
    } else {
      while (i < line.length && line[i] !== '=' && !isBlank(line[i])) i++;
      key = line.slice(start, i);
      if (line[i] === '=') {
        hasEquals = true;
        ({ value, end: i } = readValue(line, i + 1));
      }
    }
    while (i < line.length && !isBlank(line[i])) i++;
    if (key !== '') tokens.push({ key, value, hasEquals, start });
  }
  return tokens;
}

// ---------------------------------------------------------------- records

interface Parsed {
  ts: string | null;
  level: string | null;
  levelRaw: string | null;
  msg: string | null;
  fields: Record<string, unknown>;
  error?: string;
}

// JSON.parse makes "__proto__" an own property; plain assignment would not.
// Redefining an existing key keeps its place, as JSON.parse does with duplicates.
function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

// The timestamp pattern with its groups made non-capturing: here it is one group.
const CLASSIC_RE = new RegExp(`^(${TIMESTAMP_PATTERN.replace(/\((?!\?)/g, '(?:')}) +\\[([^\\]]*)\\](?: ([\\s\\S]*))?$`);

function classicShape(line: string, tz: string): { ts: string; level: string; levelRaw: string; msg: string } | null {
  const m = CLASSIC_RE.exec(line);
  if (!m) return null;
  const ts = parseTimestamp(m[1], tz);
  const level = normalizeLevel(m[2]);
  if (ts === null || level === null) return null;
  return { ts, level, levelRaw: m[2], msg: m[3] ?? '' };
}

function parseClassic(line: string, tz: string): Parsed {
  const shape = classicShape(line, tz);
  const parsed: Parsed = shape
    ? { ...shape, fields: {} }
    : { ts: null, level: null, levelRaw: null, msg: line, fields: {} };
  // Reading: duplicate keys are all written, as in json; seen through
  // JSON.parse the last value wins at the first key's place.
  for (const [key, value] of classicPairs(parsed.msg as string)) setOwn(parsed.fields, key, value);
  return parsed;
}

const LOGFMT_TIME_KEYS = ['ts', 'time', 'timestamp'];
const JSON_TIME_KEYS = ['ts', 'time', 'timestamp', '@timestamp'];
const LEVEL_KEYS = ['level', 'lvl', 'severity'];
const MSG_KEYS = ['msg', 'message'];

function parseLogfmt(line: string, tz: string): Parsed {
  const parsed: Parsed = { ts: null, level: null, levelRaw: null, msg: null, fields: {} };
  for (const { key, value } of logfmtTokens(line)) {
    if (LOGFMT_TIME_KEYS.includes(key) && parsed.ts === null) {
      // Reading: a quoted value of digits is a number too (values are text).
      const ts = parseTimestamp(value, tz) ?? epochTimestamp(value);
      if (ts !== null) {
        parsed.ts = ts;
        continue;
      }
    }
    if (LEVEL_KEYS.includes(key) && parsed.level === null) {
      const level = normalizeLevel(value);
      if (level !== null) {
        parsed.level = level;
        parsed.levelRaw = value;
        continue;
      }
    }
    if (MSG_KEYS.includes(key) && parsed.msg === null) {
      parsed.msg = value;
      continue;
    }
    setOwn(parsed.fields, key, value);
  }
  return parsed;
}

// ---- json

class JsonReject extends Error {}

interface JsonMember {
  key: string;
  /** The value's text exactly as written (whitespace around it excluded). */
  text: string;
}

/**
 * A small RFC 8259 validator over the decoded line, left to right: the first
 * problem found decides the error. It returns the top-level members with
 * their source text, which JSON.parse alone would lose (duplicates, number text).
 *
 * Reading: errors are those of a left-to-right parse. A syntax error met
 * before depth 1001 is "invalid json"; reaching depth 1001 before any syntax
 * error is "too deep" (whatever follows); only a complete valid value that is
 * not an object is "not an object" (so `[1,` is "invalid json").
 */
class JsonScanner {
  private i = 0;
  constructor(private readonly text: string) {}

  scanLine(): { isObject: boolean; members: JsonMember[] } {
    this.ws();
    const isObject = this.text[this.i] === '{';
    const members: JsonMember[] = [];
    this.value(1, members);
    this.ws();
    if (this.i !== this.text.length) throw new JsonReject('invalid json');
    return { isObject, members };
  }

  // Reading: "surrounding spaces" are JSON whitespace: space, tab, CR, LF
  // (only a lone CR can be left in a line).
  private ws(): void {
    while (this.i < this.text.length && ' \t\r\n'.includes(this.text[this.i])) this.i++;
  }

  private value(depth: number, members?: JsonMember[]): void {
    const c = this.text[this.i];
    if (c === '{') this.object(depth, members);
    else if (c === '[') this.array(depth);
    else if (c === '"') this.string();
    else if (c === '-' || (c >= '0' && c <= '9')) this.number();
    else if (!this.literal('true') && !this.literal('false') && !this.literal('null')) {
      throw new JsonReject('invalid json');
    }
  }

  private enter(depth: number): void {
    if (depth > MAX_JSON_DEPTH) throw new JsonReject('too deep');
    this.i++;
    this.ws();
  }

  private object(depth: number, members?: JsonMember[]): void {
    this.enter(depth);
    if (this.text[this.i] === '}') {
      this.i++;
      return;
    }
    for (;;) {
      if (this.text[this.i] !== '"') throw new JsonReject('invalid json');
      const keyStart = this.i;
      this.string();
      const key = JSON.parse(this.text.slice(keyStart, this.i)) as string;
      this.ws();
      if (this.text[this.i] !== ':') throw new JsonReject('invalid json');
      this.i++;
      this.ws();
      const valueStart = this.i;
      this.value(depth + 1);
      members?.push({ key, text: this.text.slice(valueStart, this.i) });
      this.ws();
      const c = this.text[this.i++];
      if (c === '}') return;
      if (c !== ',') throw new JsonReject('invalid json');
      this.ws();
    }
  }

  private array(depth: number): void {
    this.enter(depth);
    if (this.text[this.i] === ']') {
      this.i++;
      return;
    }
    for (;;) {
      this.value(depth + 1);
      this.ws();
      const c = this.text[this.i++];
      if (c === ']') return;
      if (c !== ',') throw new JsonReject('invalid json');
      this.ws();
    }
  }

  private string(): void {
    this.i++; // opening quote
    for (;;) {
      const c = this.text[this.i];
      if (c === undefined || c < ' ') throw new JsonReject('invalid json');
      this.i++;
      if (c === '"') return;
      if (c === '\\') {
        const e = this.text[this.i];
        if (e !== undefined && '"\\/bfnrt'.includes(e)) this.i++;
        else if (e === 'u' && /^[0-9A-Fa-f]{4}$/.test(this.text.slice(this.i + 1, this.i + 5))) this.i += 5;
        else throw new JsonReject('invalid json');
      }
    }
  }

  private number(): void {
    const m = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/.exec(this.text.slice(this.i));
    if (!m) throw new JsonReject('invalid json');
    this.i += m[0].length;
  }

  private literal(word: string): boolean {
    if (!this.text.startsWith(word, this.i)) return false;
    this.i += word.length;
    return true;
  }
}

// Reading: a lone surrogate written as a \u escape cannot be output as valid
// UTF-8, so it becomes U+FFFD (in keys and strings, at any depth).
function wellFormed(value: unknown): unknown {
  if (typeof value === 'string') {
    return value.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
  }
  if (Array.isArray(value)) return value.map(wellFormed);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) setOwn(out, wellFormed(k) as string, wellFormed(v));
    return out;
  }
  return value;
}

function parseJson(line: string, tz: string): Parsed {
  let scanned: ReturnType<JsonScanner['scanLine']>;
  try {
    scanned = new JsonScanner(line).scanLine();
    if (!scanned.isObject) throw new JsonReject('not an object');
  } catch (e) {
    if (!(e instanceof JsonReject)) throw e;
    return { ts: null, level: null, levelRaw: null, msg: line, fields: {}, error: e.message };
  }
  const parsed: Parsed = { ts: null, level: null, levelRaw: null, msg: null, fields: {} };
  for (const member of scanned.members) {
    // Reading: keys are compared exactly, after JSON unescaping.
    const key = wellFormed(member.key) as string;
    const value = wellFormed(JSON.parse(member.text));
    if (JSON_TIME_KEYS.includes(key) && parsed.ts === null) {
      const ts = typeof value === 'string' ? parseTimestamp(value, tz)
        : typeof value === 'number' ? epochTimestamp(member.text) : null;
      if (ts !== null) {
        parsed.ts = ts;
        continue;
      }
    }
    if (LEVEL_KEYS.includes(key) && parsed.level === null) {
      // Reading: pino levels are the number texts 10…60 exactly as written;
      // 30.0 or 3e1 are not levels. levelRaw of a string is its decoded value.
      const level = typeof value === 'string' ? normalizeLevel(value)
        : typeof value === 'number' ? PINO_LEVELS[member.text] ?? null : null;
      if (level !== null) {
        parsed.level = level;
        parsed.levelRaw = typeof value === 'string' ? value : member.text;
        continue;
      }
    }
    if (MSG_KEYS.includes(key) && parsed.msg === null && typeof value === 'string') {
      parsed.msg = value;
      continue;
    }
    setOwn(parsed.fields, key, value);
  }
  return parsed;
}

function isJsonObjectLine(line: string): boolean {
  return parseJson(line, 'UTC').error === undefined;
}

function isLogfmtLike(line: string): boolean {
  const pairs = logfmtTokens(line).filter((t) => t.hasEquals);
  return pairs.length >= 2 && pairs[0].start === 0;
}

/**
 * The format `auto` picks for an input.
 * Reading: a line is looked at only if it ends (its LF, or the end of the
 * input) within the first 64 KiB, so a line cut by the window is not; lines
 * are looked at whole (maxRecordBytes does not apply); the classic shape's
 * timestamp is read in UTC; a line may count for several formats; "starting
 * with" a key=value token means at the line's first byte (no leading blanks);
 * a token with an empty key is not a key=value token.
 */
export function detectFormat(input: Uint8Array): 'classic' | 'logfmt' | 'json' {
  const counts = { classic: 0, json: 0, logfmt: 0 };
  let seen = 0;
  for (const line of splitLines(input)) {
    if (seen === AUTO_MAX_LINES || line.next > AUTO_WINDOW_BYTES) break;
    if (line.bytes.length === 0) continue;
    seen++;
    const text = utf8.decode(line.bytes);
    if (classicShape(text, 'UTC')) counts.classic++;
    if (isJsonObjectLine(text)) counts.json++;
    if (isLogfmtLike(text)) counts.logfmt++;
  }
  // Ties go to classic, then json, then logfmt; no match at all gives classic.
  let best: 'classic' | 'json' | 'logfmt' = 'classic';
  for (const format of ['json', 'logfmt'] as const) {
    if (counts[format] > counts[best]) best = format;
  }
  return best;
}

const PREFIX_TIMESTAMP_RE = /^\[?(\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2})([.,]\d{1,9})?([Zz]|[+-]\d{2}(?::?\d{2})?)?/;

/**
 * Whether a line starts a record. Reading: "starts with a timestamp" is the
 * classic timestamp at the line's first byte (or after one '['), followed by
 * anything that does not make it a broken one: a '.' without digits, a tenth
 * fraction digit, a zone sign without a valid zone. "indent" continues lines
 * that start with a space or tab, or with "Caused by:".
 */
function startsRecord(text: string, rule: RefMultiline['start']): boolean {
  if (rule === 'indent') return !(text[0] === ' ' || text[0] === '\t' || text.startsWith('Caused by:'));
  const m = PREFIX_TIMESTAMP_RE.exec(text);
  if (!m) return false;
  const [all, , frac, zone] = m;
  const next = text[all.length] ?? '';
  const digit = next >= '0' && next <= '9';
  if (zone === undefined) {
    if (frac === undefined && (next === '.' || next === ',')) return false;
    if (frac !== undefined && frac.length === 10 && digit) return false;
    if (next === '+' || next === '-') return false;
  } else if (zone.length === 3 && (next === ':' || digit)) {
    return false;
  }
  return parseTimestamp(all.slice(text[0] === '[' ? 1 : 0), 'UTC') !== null;
}

/**
 * Lines grouped into records: the first non-empty line of the input starts
 * one; each later non-empty line starts one or continues the one before.
 * Empty lines between a record's lines are part of it; after its last line
 * they are no one's.
 */
function groupLines(lines: Line[], m: RefMultiline | undefined): Line[][] {
  const groups: Line[][] = [];
  let blanks: Line[] = [];
  for (const line of lines) {
    if (line.bytes.length === 0) {
      blanks.push(line);
      continue;
    }
    const text = utf8.decode(line.bytes);
    if (m === undefined || groups.length === 0 || startsRecord(text, m.start)) groups.push([line]);
    else groups[groups.length - 1].push(...blanks, line);
    blanks = [];
  }
  return groups;
}

/** Lines' bytes joined with LF. */
function joinLines(lines: Line[]): Buffer {
  return Buffer.concat(lines.flatMap((l, i) => (i ? [Buffer.from('\n'), l.bytes] : [l.bytes])));
}

/** The records of a whole input, as the objects JSON.parse would give for each NDJSON line. */
export function referenceParse(input: Uint8Array, opts: RefOptions): Record<string, unknown>[] {
  const tz = opts.tz ?? 'UTC';
  zoneFor(tz); // reject a bad tz even for an input without timestamps
  const maxRecordBytes = opts.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  if (!Number.isInteger(maxRecordBytes) || maxRecordBytes < 1) {
    throw new RangeError(`maxRecordBytes must be a positive integer, got ${maxRecordBytes}`);
  }
  const format = opts.format === 'auto' ? detectFormat(input) : opts.format;
  const parse = { classic: parseClassic, logfmt: parseLogfmt, json: parseJson }[format];
  if (!parse) throw new RangeError(`format must be classic, logfmt, json or auto, got ${opts.format}`);

  const records: Record<string, unknown>[] = [];
  const m = opts.multiline;
  for (const group of groupLines(splitLines(input), m)) {
    const first = group[0];
    const last = group[group.length - 1];
    // All the record's bytes, from its first line's first byte to its last line's last (line endings between included).
    const bytes = input.subarray(first.offset, last.offset + last.bytes.length);
    // Its text: the lines joined with LF, at most maxLines of them and maxBytes bytes.
    const full = joinLines(group);
    // Reading: empty lines count as lines; the ones kept are those before a kept non-empty line.
    const head = group.slice(0, m ? m.maxLines : group.length);
    while (head[head.length - 1].bytes.length === 0) head.pop();
    const kept = joinLines(head);
    const limit = m ? Math.min(m.maxBytes, maxRecordBytes) : maxRecordBytes;
    const truncated = kept.length > limit || kept.length < full.length;
    // A cut inside a UTF-8 sequence leaves an incomplete one: U+FFFD.
    const text = utf8.decode(kept.subarray(0, limit));
    const p = parse(text, tz);
    const record: Record<string, unknown> = {
      file: opts.file,
      offset: first.offset,
      line: first.number,
      len: bytes.length,
      crc: crc32c(bytes),
      ts: p.ts,
      level: p.level,
    };
    if (opts.levelRaw) record.levelRaw = p.levelRaw;
    record.msg = p.msg;
    record.fields = p.fields;
    if (truncated) record.truncated = true;
    if (p.error !== undefined) record.error = p.error;
    records.push(record);
  }
  return records;
}
