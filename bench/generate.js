// Deterministic benchmark data: classic, logfmt and json log lines (~100 bytes, varied), lines
// in the shapes of the loghub HDFS and Zookeeper samples, and combined-format access logs;
// written with large buffered writes and reused when a matching file is already there.
// Standalone: node bench/generate.js --format classic --size 64 [--dir bench/data]

import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { SHAPES } from './shapes.js';

// Bump when the line templates change, so that old files are regenerated instead of reused.
export const GENERATOR_VERSION = 1;
// Appended only: a format's index seeds its generator.
export const FORMATS = ['classic', 'logfmt', 'json', 'hdfs', 'zookeeper', 'combined'];
export const DEFAULT_DIR = fileURLToPath(new URL('data/', import.meta.url));

const SEED = 0x10c5eed;
const START_MS = Date.UTC(2024, 4, 1, 0, 0, 0);
// Every generated line is shorter than this, so the file can be closed by one padding
// line of the exact remaining length: files are exactly --size MiB.
const MAX_LINE_BYTES = 1024;
const TAIL_RESERVE = MAX_LINE_BYTES + 256;
const WRITE_BUFFER_BYTES = 16 << 20;

// sfc32: small, fast, and the same sequence on every platform and Node version.
class Rng {
  constructor(seed) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 16; i++) this.u32();
  }

  u32() {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (((this.c << 21) | (this.c >>> 11)) + t) | 0;
    return t >>> 0;
  }

  float() {
    return this.u32() / 4294967296;
  }

  int(lo, hi) {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  chance(p) {
    return this.float() < p;
  }

  pick(list) {
    return list[Math.floor(this.float() * list.length)];
  }

  hex(chars) {
    let s = '';
    while (s.length < chars) s += this.u32().toString(16).padStart(8, '0');
    return s.slice(0, chars);
  }
}

// Increasing timestamps, 0-4 ms apart with rare pauses; date/time text cached per second.
class Clock {
  constructor() {
    this.ms = START_MS;
    this.second = -1;
    this.date = '';
    this.time = '';
    this.millis = '';
  }

  tick(r) {
    this.ms += r.int(0, 4) + (r.chance(0.001) ? r.int(100, 3000) : 0);
    const second = Math.floor(this.ms / 1000);
    if (second !== this.second) {
      this.second = second;
      const iso = new Date(second * 1000).toISOString();
      this.date = iso.slice(0, 10);
      this.time = iso.slice(11, 19);
    }
    this.millis = String(this.ms % 1000).padStart(3, '0');
  }

  classic() {
    return `${this.date} ${this.time}.${this.millis}`;
  }

  iso() {
    return `${this.date}T${this.time}.${this.millis}Z`;
  }

  /** HDFS: `081109 203615` (yyMMdd HHmmss). */
  hdfs() {
    return `${this.date.slice(2, 4)}${this.date.slice(5, 7)}${this.date.slice(8, 10)} ${this.time.slice(0, 2)}${this.time.slice(3, 5)}${this.time.slice(6, 8)}`;
  }

  /** Zookeeper (log4j): `2015-07-29 17:41:44,747`. */
  log4j() {
    return `${this.date} ${this.time},${this.millis}`;
  }

  /** Access logs: `10/Oct/2000:13:55:36 +0000`. */
  clf() {
    const d = this.date;
    return `${d.slice(8, 10)}/${MONTHS[Number(d.slice(5, 7)) - 1]}/${d.slice(0, 4)}:${this.time} +0000`;
  }
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const METHODS = ['GET', 'GET', 'GET', 'GET', 'POST', 'POST', 'PUT', 'DELETE'];
const STATUSES = [200, 200, 200, 200, 200, 200, 201, 204, 304, 400, 404, 500, 503];
const ROUTES = ['/api/v1/orders/', '/api/v1/users/', '/api/v2/cart/', '/static/img/', '/api/v1/search?q=', '/health'];
const CURRENCIES = ['EUR', 'USD', 'GBP', 'CHF', 'JPY'];
const CITIES = ['Berlin', 'Paris', 'Zürich', 'São Paulo', '東京', 'Kraków', 'New York', 'Lyon'];
const HOSTS = ['web-01', 'web-02', 'web-03', 'api-eu-1', 'api-us-2', 'worker-7'];
const REGIONS = ['eu-west-1', 'eu-central-1', 'us-east-1', 'ap-northeast-1'];
const JOBS = ['reindex', 'send-digest', 'cleanup-sessions', 'export-csv', 'rotate-keys'];
const PLAIN = [
  'worker started',
  'Shutting down gracefully',
  'Reloading configuration from /etc/app/config.yaml',
  'health check passed',
  'listening on 0.0.0.0:8080',
  'connected to database primary',
  'flushing metrics buffer',
  'scheduler tick',
  'GC pause longer than expected',
  'received SIGHUP, reopening log files',
];
const FUNCTIONS = ['processPayment', 'handleRequest', 'Router.dispatch', 'Pool.acquire', 'JSON.parse', 'next'];
const SOURCES = ['payments', 'router', 'db/pool', 'handlers/orders', 'middleware/auth'];

const user = (r) => `u${r.int(1, 99999)}`;
const latency = (r) => Math.floor(Math.exp(r.float() * 7.5)); // 1 ms .. ~1.8 s, mostly small
const ip = (r) => `10.${r.int(0, 255)}.${r.int(0, 255)}.${r.int(1, 254)}`;

// Events: [weight, make]. make returns { text, pairs: [key, value, ...], level? };
// `level` pins a level, otherwise the common distribution applies.
const EVENTS = [
  [18, (r) => {
    const ok = r.chance(0.93);
    return {
      text: ok ? 'payment ok' : r.pick(['payment declined', 'card declined by issuer', 'payment failed: insufficient funds']),
      level: ok ? undefined : 'WARN',
      pairs: ['transaction_id', r.int(1, 999999999), 'user', user(r), 'amount', r.int(100, 99999) / 100,
        'currency', r.pick(CURRENCIES), 'latency_ms', latency(r)],
    };
  }],
  [30, (r) => {
    const route = r.pick(ROUTES);
    return {
      text: 'request completed',
      pairs: ['method', r.pick(METHODS), 'path', route.endsWith('/health') ? route : route + r.int(1, 99999),
        'status', r.pick(STATUSES), 'duration_ms', latency(r), 'bytes', r.int(0, 250000), 'ip', ip(r)],
    };
  }],
  [10, (r) => ({
    text: r.pick(['cache miss', 'cache hit', 'cache evicted']),
    level: 'DEBUG',
    pairs: ['key', `session:${r.hex(8)}`, 'ttl', r.pick([60, 300, 3600]), 'size', r.int(10, 9000)],
  })],
  [6, (r) => ({
    text: 'slow query',
    level: 'WARN',
    pairs: ['duration_ms', r.int(500, 9000), 'query', r.pick(['SELECT * FROM orders WHERE id = $1',
      'UPDATE users SET last_seen = now() WHERE id = $1', 'SELECT count(*) FROM events']), 'rows', r.int(0, 5000)],
  })],
  [10, (r) => ({
    text: r.pick(['user login succeeded', 'user logged out', 'password reset requested']),
    pairs: ['user', user(r), 'method', r.pick(['password', 'sso', 'token']), 'ip', ip(r), 'city', r.pick(CITIES)],
  })],
  [6, (r) => ({
    text: r.pick(['job finished', 'job started', 'job retried']),
    pairs: ['job', `${r.pick(JOBS)}-${r.int(1, 99)}`, 'items', r.int(0, 100000), 'took', `${r.int(1, 300) / 100} s`],
  })],
  [5, (r) => ({
    text: r.pick(['upstream connection failed', 'request to payment provider timed out']),
    level: r.chance(0.6) ? 'WARN' : 'ERROR',
    pairs: ['remote', `${ip(r)}:${r.pick([443, 5432, 6379])}`, 'err', r.pick(['connection reset by peer', 'timeout after 30s', 'ECONNREFUSED']),
      'retries', r.int(0, 5)],
  })],
  [2, (r) => ({
    text: `user said "${r.pick(['the page is slow', 'thanks!', 'where is my order?'])}"`,
    pairs: ['user', user(r), 'ticket', r.int(1000, 99999)],
  })],
  [13, (r) => ({ text: r.pick(PLAIN), pairs: [] })],
];
const EVENT_TOTAL = EVENTS.reduce((sum, [w]) => sum + w, 0);
const LEVELS = [[80, 'INFO'], [10, 'DEBUG'], [7, 'WARN'], [3, 'ERROR']];

// Filler pairs to reach the 2-5 pairs an event line carries.
const EXTRAS = [
  (r) => ['request_id', r.hex(16)],
  (r) => ['host', r.pick(HOSTS)],
  (r) => ['pid', r.int(100, 65000)],
  (r) => ['region', r.pick(REGIONS)],
  (r) => ['trace_id', r.hex(32)],
  (r) => ['cached', r.chance(0.5)],
];

function nextEvent(r) {
  let n = r.float() * EVENT_TOTAL;
  let make = EVENTS[EVENTS.length - 1][1];
  for (const [w, m] of EVENTS) {
    if ((n -= w) < 0) { make = m; break; }
  }
  const ev = make(r);
  if (!ev.level) {
    let l = r.float() * 100;
    for (const [w, name] of LEVELS) {
      if ((l -= w) < 0) { ev.level = name; break; }
    }
  }
  if (ev.pairs.length > 0) {
    const want = r.int(2, 5) * 2;
    if (ev.pairs.length > want) ev.pairs.length = want;
    // consecutive extras from a random start: no key twice on a line
    for (let i = r.int(0, EXTRAS.length - 1); ev.pairs.length < want; i++) ev.pairs.push(...EXTRAS[i % EXTRAS.length](r));
  }
  return ev;
}

const NEEDS_QUOTE = /[\s"=\\]|^$/;
const NEEDS_JSON_ESCAPE = /["\\\u0000-\u001f]/;

function kv(key, value) {
  if (typeof value !== 'string') return `${key}=${value}`;
  if (!NEEDS_QUOTE.test(value)) return `${key}=${value}`;
  return `${key}="${value.replace(/["\\]/g, '\\$&')}"`;
}

function jsonString(s) {
  return NEEDS_JSON_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}

function pairsText(pairs, from = 0, to = pairs.length) {
  let s = '';
  for (let i = from; i < to; i += 2) s += ' ' + kv(pairs[i], pairs[i + 1]);
  return s;
}

// Each format: line(r, clock, state) -> one line without LF; pad(clock, n) -> a line of exactly n ASCII bytes.
const WRITERS = {
  classic: {
    line(r, clock, state) {
      if (state.pending.length > 0) return state.pending.pop();
      if (r.chance(0.0002)) return '';
      clock.tick(r);
      const ev = nextEvent(r);
      const head = `${clock.classic()} [${ev.level}] `;
      if (ev.level === 'ERROR' && r.chance(0.3)) {
        for (let i = r.int(1, 3); i > 0; i--) {
          state.pending.push(`    at ${r.pick(FUNCTIONS)} (/srv/app/src/${r.pick(SOURCES)}.js:${r.int(1, 900)}:${r.int(1, 80)})`);
        }
      }
      const p = ev.pairs;
      if (p.length === 0) return head + ev.text;
      const form = r.int(0, 9);
      if (form < 5) return head + ev.text + pairsText(p);
      if (form < 9) {
        // msg="…" as a pair, after the first pair or two: `transaction_id=42 user=u1 msg="payment ok" latency_ms=12`
        const at = Math.min(p.length, r.int(1, 2) * 2);
        return head + pairsText(p, 0, at).slice(1) + ' ' + kv('msg', ev.text) + pairsText(p, at);
      }
      return head + pairsText(p).slice(1);
    },
    pad(clock, n) {
      const head = `${clock.classic()} [INFO] end of benchmark data pad="`;
      return head + 'x'.repeat(n - head.length - 1) + '"';
    },
  },
  logfmt: {
    line(r, clock) {
      clock.tick(r);
      const ev = nextEvent(r);
      return `ts=${clock.iso()} level=${ev.level.toLowerCase()} ${kv('msg', ev.text)}${pairsText(ev.pairs)}`;
    },
    pad(clock, n) {
      const head = `ts=${clock.iso()} level=info msg="end of benchmark data" pad=`;
      return head + 'x'.repeat(n - head.length);
    },
  },
  json: {
    line(r, clock) {
      clock.tick(r);
      const ev = nextEvent(r);
      let s = `{"time":"${clock.iso()}","level":"${ev.level.toLowerCase()}","msg":${jsonString(ev.text)}`;
      const p = ev.pairs;
      for (let i = 0; i < p.length; i += 2) {
        const v = p[i + 1];
        s += `,"${p[i]}":${typeof v === 'string' ? jsonString(v) : v}`;
      }
      if (r.chance(0.35)) s += `,"req":{"id":"${r.hex(16)}"${r.chance(0.3) ? ',"tags":["beta","eu"]' : ''}}`;
      return s + '}';
    },
    pad(clock, n) {
      const head = `{"time":"${clock.iso()}","level":"info","msg":"end of benchmark data","pad":"`;
      return head + 'x'.repeat(n - head.length - 2) + '"}';
    },
  },
  ...SHAPES,
};

/**
 * Writes `bytes` bytes of `format` lines to `file` (exactly; the last line pads).
 * Returns { bytes, lines, records } where records counts non-empty lines.
 */
export function generateFile(file, format, bytes, seed = SEED) {
  const writer = WRITERS[format];
  if (!writer) throw new Error(`format must be one of ${FORMATS.join(', ')}, got ${JSON.stringify(format)}`);
  if (!Number.isInteger(bytes) || bytes < TAIL_RESERVE) throw new Error(`bytes must be an integer >= ${TAIL_RESERVE}, got ${bytes}`);
  const r = new Rng(seed ^ FORMATS.indexOf(format));
  const clock = new Clock();
  const state = { pending: [] };
  const buf = Buffer.allocUnsafe(WRITE_BUFFER_BYTES);
  const fd = fs.openSync(file, 'w');
  let pos = 0;
  let flushed = 0;
  let lines = 0;
  let records = 0;
  const flush = () => {
    for (let off = 0; off < pos; off += fs.writeSync(fd, buf, off, pos - off));
    flushed += pos;
    pos = 0;
  };
  try {
    while (bytes - flushed - pos >= TAIL_RESERVE) {
      if (buf.length - pos < 4 * MAX_LINE_BYTES) flush();
      const line = writer.line(r, clock, state);
      const n = buf.write(line, pos);
      if (n >= MAX_LINE_BYTES) throw new Error(`generator bug: a ${format} line of ${n} bytes (limit ${MAX_LINE_BYTES})`);
      pos += n;
      buf[pos++] = 10;
      lines++;
      if (n > 0) records++;
    }
    const last = writer.pad(clock, bytes - flushed - pos - 1);
    pos += buf.write(last, pos, 'latin1');
    buf[pos++] = 10;
    lines++;
    records++;
    flush();
  } finally {
    fs.closeSync(fd);
  }
  if (flushed !== bytes) throw new Error(`generator bug: wrote ${flushed} bytes instead of ${bytes}`);
  return { bytes, lines, records };
}

/**
 * The data file for `format` at `sizeMiB` in `dir`: reused when its manifest (written
 * after a complete generation) matches, otherwise generated. Returns the manifest plus
 * { path, generated, seconds }.
 */
export function ensureDataFile(dir, format, sizeMiB) {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${format}-${sizeMiB}MiB.log`);
  const manifestFile = `${file}.json`;
  const bytes = sizeMiB * 1024 * 1024;
  const wanted = { generator: GENERATOR_VERSION, format, seed: SEED, bytes };
  try {
    const m = JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
    const same = Object.entries(wanted).every(([k, v]) => m[k] === v);
    if (same && fs.statSync(file).size === bytes) return { ...m, path: file, generated: false, seconds: 0 };
  } catch {
    // no manifest or no file: generate below
  }
  const t0 = performance.now();
  const tmp = `${file}.tmp`;
  const counts = generateFile(tmp, format, bytes, SEED);
  fs.renameSync(tmp, file);
  const manifest = { ...wanted, lines: counts.lines, records: counts.records, avgLineBytes: +(bytes / counts.lines).toFixed(1) };
  fs.writeFileSync(manifestFile, JSON.stringify(manifest, null, 2) + '\n');
  return { ...manifest, path: file, generated: true, seconds: (performance.now() - t0) / 1000 };
}

function main() {
  const { values } = parseArgs({
    options: {
      format: { type: 'string', default: 'classic' },
      size: { type: 'string', default: '64' },
      dir: { type: 'string', default: DEFAULT_DIR },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(`usage: node bench/generate.js [--format ${FORMATS.join('|')}] [--size MiB (default 64)] [--dir DIR (default bench/data)]`);
    return;
  }
  const size = Number(values.size);
  if (!Number.isInteger(size) || size < 1) throw new Error(`--size must be a whole number of MiB >= 1, got ${values.size}`);
  const f = ensureDataFile(values.dir, values.format, size);
  const how = f.generated ? `generated in ${f.seconds.toFixed(1)} s` : 'reused';
  console.log(`${f.path}: ${f.bytes} bytes, ${f.lines} lines, ${f.records} records, ${f.avgLineBytes} bytes/line avg (${how})`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  try {
    main();
  } catch (err) {
    console.error(`generate: ${err.message}`);
    process.exitCode = 1;
  }
}

/** Read a file once so that it is in the page cache before anything is timed. */
export function warmFile(file) {
  const chunk = 8 << 20;
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.allocUnsafe(chunk);
  try {
    while (fs.readSync(fd, buf, 0, chunk, null) > 0);
  } finally {
    fs.closeSync(fd);
  }
}
