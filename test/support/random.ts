// Seeded random log inputs for property tests: well-formed lines of each
// format, near misses, and garbage, joined with LF or CRLF.

export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 1;
  }
  /** Uniform 32-bit unsigned. */
  u32(): number {
    let x = this.s;
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    this.s = x;
    return x;
  }
  int(n: number): number {
    return this.u32() % n;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  chance(p: number): boolean {
    return this.u32() / 4294967296 < p;
  }
}

const LEVELS = ['INFO', 'info', 'WARN', 'Warning', 'ERR', 'error', 'DEBUG', 'trace', 'FATAL', 'crit', 'NOTICE', 'panic', 'bogus', 'Informational', 'EMERGENCY'];
const WORDS = ['payment', 'ok', 'user', 'timeout', 'retry', 'α', 'データ', '😀', 'a=b', 'x="y z"', '"q"', '\\', '\\"', '=', '==', '{', '}', '[', ']', ':', ',', 'null', '1e5', '-0.5'];

/** Mostly valid timestamps, many of them near DST changes; the rest near misses. */
function ts(r: Rng): string {
  if (r.chance(0.6)) {
    // Around the 2024 changes in Europe, the US and Lord Howe, or anywhere in 1970–2037.
    const anchors = [Date.UTC(2024, 2, 31, 1), Date.UTC(2024, 9, 27, 1), Date.UTC(2024, 2, 10, 7), Date.UTC(2024, 10, 3, 6), Date.UTC(2024, 3, 6, 15)];
    const t = r.chance(0.7) ? r.pick(anchors) + (r.int(14400) - 7200) * 1000 : r.u32() * 500;
    const iso = new Date(t).toISOString();
    const base = iso.slice(0, 10) + r.pick(['T', ' ']) + iso.slice(11, 19);
    const frac = r.pick(['', '.' + iso.slice(20, 23), ',5', '.000001']);
    return base + frac + r.pick(['', '', '', 'Z', '+01:00', '-0400']);
  }
  const y = r.pick(['2024', '1999', '2000', '0001', '9999', '2023']);
  const mo = r.pick(['01', '02', '03', '10', '12', '13', '00']);
  const d = r.pick(['01', '28', '29', '30', '31', '00']);
  const h = r.pick(['00', '01', '02', '03', '12', '23', '24']);
  const mi = r.pick(['00', '30', '59', '60']);
  const s = r.pick(['00', '07', '59', '60', '61']);
  const sep = r.pick(['T', ' ', 't', '_']);
  const frac = r.pick(['', '.1', '.123', ',5', '.123456789', '.1234567890', '.']);
  const zone = r.pick(['', '', 'Z', 'z', '+02:00', '-0530', '+05', '+24:00', '-00:00', '+0', '+05:60']);
  return `${y}-${mo}-${d}${sep}${h}:${mi}:${s}${frac}${zone}`;
}

function word(r: Rng): string {
  if (r.chance(0.1)) return garbage(r, 1 + r.int(4));
  return r.pick(WORDS) + (r.chance(0.5) ? String(r.int(1000)) : '');
}

function value(r: Rng): string {
  if (r.chance(0.3)) {
    let v = '"';
    for (let i = r.int(4); i > 0; i--) v += r.pick([word(r), ' ', '\\"', '\\\\', '\\n', '\\t', '\\x', '=']);
    return r.chance(0.9) ? v + '"' : v;
  }
  return r.chance(0.1) ? '' : word(r);
}

function pairs(r: Rng): string {
  const parts: string[] = [];
  for (let i = r.int(5); i > 0; i--) {
    if (r.chance(0.2)) parts.push(word(r));
    else parts.push(`${r.pick(['user', 'id', 'a.b', 'x-y', 'k@h', 'p/q', 'msg', 'ts', 'time', 'level', 'lvl', 'message', 'severity', 'timestamp', ''])}=${value(r)}`);
  }
  return parts.join(r.pick([' ', ' ', '  ', '\t']));
}

function classic(r: Rng): string {
  return `${ts(r)}${r.pick([' ', '  ', ''])}[${r.pick(LEVELS)}]${r.pick([' ', '', '  '])}${pairs(r)}`;
}

function logfmt(r: Rng): string {
  const parts: string[] = [];
  if (r.chance(0.7)) parts.push(`${r.pick(['ts', 'time', 'timestamp'])}=${r.pick([ts(r), '1714521600', '1714521600123', '1714521600.5', '"1714521600"', '-5', '1.2.3', '"' + ts(r) + '"'])}`);
  if (r.chance(0.7)) parts.push(`${r.pick(['level', 'lvl', 'severity'])}=${r.pick(LEVELS)}`);
  if (r.chance(0.7)) parts.push(`${r.pick(['msg', 'message'])}=${value(r)}`);
  parts.push(pairs(r));
  for (let i = parts.length - 1; i > 0; i--) {
    const j = r.int(i + 1);
    [parts[i], parts[j]] = [parts[j], parts[i]];
  }
  return parts.join(' ');
}

function jsonValue(r: Rng, depth: number): string {
  const k = r.int(depth > 3 ? 5 : 8);
  switch (k) {
    case 0: return JSON.stringify(word(r));
    case 1: return r.pick(['0', '-1', '3.25', '1e3', '10', '30', '60', '1714521600', '1714521600123', '1714521600.25', '30.0', '-0']);
    case 2: return r.pick(['true', 'false', 'null']);
    case 3: return r.pick(['"\\u00e9"', '"\\ud83d\\ude00"', '"\\ud800"', '"a\\/b"', '"\\b\\f\\n\\r\\t"', '"\\u0000"']);
    case 4: return JSON.stringify(ts(r));
    case 5: return `[${Array.from({ length: r.int(3) }, () => jsonValue(r, depth + 1)).join(r.pick([',', ' , ']))}]`;
    default: return jsonObject(r, depth + 1);
  }
}

function jsonObject(r: Rng, depth: number): string {
  const members: string[] = [];
  for (let i = r.int(5); i > 0; i--) {
    const key = r.pick(['"time"', '"ts"', '"@timestamp"', '"level"', '"lvl"', '"msg"', '"message"', '"m\\u0073g"', '"user"', '"a b"', '"é"', '"x"']);
    members.push(`${key}${r.pick([':', ' : '])}${jsonValue(r, depth)}`);
  }
  return `{${members.join(',')}}`;
}

function json(r: Rng): string {
  let s = r.chance(0.85) ? jsonObject(r, 0) : jsonValue(r, 0);
  if (r.chance(0.1)) s = s.slice(0, r.int(s.length + 1));
  if (r.chance(0.1)) s = ` ${s}\t`;
  return s;
}

/** Random bytes that stress UTF-8 repair and escaping (no LF). */
export function garbage(r: Rng, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) {
    const b = r.pick([0, 1, 9, 13, 0x1f, 0x20, 0x22, 0x3d, 0x5c, 0x7f, 0x80, 0xbf, 0xc0, 0xc2, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff, 0x41, 0xa0, 0x9f]);
    s += String.fromCharCode(b);
  }
  return s;
}

/** A line of a Java or Python stack trace (the continuation lines of multiline records). */
function trace(r: Rng): string {
  return r.pick([
    `\tat com.example.Service${r.int(9)}.call(Service.java:${r.int(500)})`,
    `\t... ${r.int(40)} more`,
    `Caused by: java.io.IOException: ${word(r)}`,
    'Traceback (most recent call last):',
    `  File "app.py", line ${r.int(300)}, in handler`,
    `    raise ValueError(${JSON.stringify(word(r))})`,
    `ValueError: ${word(r)} user=${word(r)}`,
    `java.lang.IllegalStateException: ${word(r)}`,
  ]);
}

/** One input: `lines` lines of mixed kinds as raw bytes (latin1 for garbage, UTF-8 for text). */
export function randomInput(r: Rng, lines: number, kinds: readonly ('classic' | 'logfmt' | 'json' | 'garbage' | 'empty' | 'trace')[] = ['classic', 'logfmt', 'json', 'garbage', 'empty']): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < lines; i++) {
    const kind = r.pick(kinds);
    let b: Buffer;
    if (kind === 'classic') b = Buffer.from(classic(r));
    else if (kind === 'logfmt') b = Buffer.from(logfmt(r));
    else if (kind === 'json') b = Buffer.from(json(r));
    else if (kind === 'garbage') b = Buffer.from(garbage(r, r.int(40)), 'latin1');
    else if (kind === 'trace') b = Buffer.from(trace(r));
    else b = Buffer.alloc(0);
    if (r.chance(0.05)) b = Buffer.concat([b, Buffer.from(garbage(r, 3), 'latin1')]);
    parts.push(b);
    const last = i === lines - 1;
    if (!last || r.chance(0.7)) parts.push(Buffer.from(r.chance(0.2) ? '\r\n' : '\n'));
  }
  return Buffer.concat(parts);
}
