// `logwire tail URL SOURCE`: subscribes to a source of a running `logwire
// serve` (docs/service.md) and prints its records as NDJSON, resuming from the
// last cursor after a dropped connection so that nothing is lost or repeated.
import { once } from 'node:events';
import WebSocket from 'ws';
import { parseFlags } from './args.js';
import { createError, ErrorCodes } from '../errors.js';

const HELP = `logwire tail: print the records of a source of a running logwire serve

Usage:
  logwire tail URL SOURCE [options]

  URL is ws://HOST:PORT or http://HOST:PORT (the path defaults to /ws).

Options:
  --from F            where to start: end (default: lines appended from now on),
                      start (every file from byte 0), TIME (ISO 8601, e.g.
                      2024-05-01T12:00:00Z; UTC when it has no offset),
                      OFFSET:FILE (that file from byte OFFSET) or cursor:CURSOR
  --level L           that level and above: trace, debug, info, warn, error, fatal
  --contains TEXT     records whose message or a field value contains TEXT
  --match KEY=VALUE   records whose field KEY equals VALUE (repeatable; msg, level
                      and file can be matched too)
  --no-reconnect      stop when the connection drops (default: reconnect and
                      resume after the last record printed)
  -h, --help          this help

Records go to stdout, one JSON object a line; gaps, rotations and "caught up"
go to stderr. Exit codes: 0 stopped (Ctrl-C, closed pipe, server closed the
connection with --no-reconnect), 1 the server failed the subscription,
2 usage error, refused subscription or unreachable server.
`;

/** The subscription's id; one subscription a connection. */
const ID = 'tail';

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

/** Reconnect delays: doubled after each failed attempt, back to the first once subscribed. */
const BACKOFF_FIRST_MS = 100;
const BACKOFF_MAX_MS = 2000;

/** How long a closing handshake may take before the socket is cut. */
const CLOSE_WAIT_MS = 1000;

type From = 'start' | 'end' | { time: string } | { offset: number; file: string } | { cursor: string };

interface Filter {
  level?: string;
  contains?: string;
  match?: Record<string, string>;
}

interface TailCli {
  url: string;
  source: string;
  from: From;
  filter: Filter | undefined;
  reconnect: boolean;
}

function usage(message: string): never {
  throw createError(ErrorCodes.USAGE, message);
}

/** ws://… from ws://, wss://, http:// or https://; path /ws unless one is given. */
function wsUrl(raw: string): string {
  const url = URL.canParse(raw) ? new URL(raw) : null;
  const scheme = url && ({ 'ws:': 'ws:', 'wss:': 'wss:', 'http:': 'ws:', 'https:': 'wss:' } as Record<string, string>)[url.protocol];
  if (!url || !scheme || !url.hostname || url.hash) usage(`URL must be ws://HOST:PORT or http://HOST:PORT; got ${JSON.stringify(raw)}`);
  url.protocol = scheme;
  if (url.pathname === '/') url.pathname = '/ws';
  return url.href;
}

const ISO_TIME = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(Z|[+-]\d{2}:?\d{2})?)?$/i;

function parseFrom(raw: string): From {
  if (raw === 'start' || raw === 'end') return raw;
  if (raw.startsWith('cursor:')) {
    if (raw.length === 'cursor:'.length) usage('--from cursor:CURSOR needs a cursor after "cursor:"');
    return { cursor: raw.slice('cursor:'.length) };
  }
  const offset = /^(\d+):(.+)$/.exec(raw);
  if (offset) {
    const n = Number(offset[1]);
    if (!Number.isSafeInteger(n)) usage(`--from OFFSET:FILE: offset ${offset[1]} is too large`);
    return { offset: n, file: offset[2] };
  }
  const t = ISO_TIME.exec(raw);
  if (t) {
    // A time without an offset is UTC, as logwire reads timestamps by default.
    const text = t[2] === undefined ? `${t[1]}T00:00:00Z` : `${t[1]}T${t[2]}${t[3] ?? 'Z'}`;
    const ms = Date.parse(text);
    // Date.parse rolls 2024-02-30 over to March; a day that does not round-trip is wrong.
    const day = Date.parse(`${t[1]}T00:00:00Z`);
    if (Number.isFinite(ms) && Number.isFinite(day) && new Date(day).toISOString().startsWith(t[1])) {
      return { time: new Date(ms).toISOString() };
    }
  }
  usage(`--from must be start, end, an ISO 8601 time, OFFSET:FILE or cursor:CURSOR; got ${JSON.stringify(raw)}`);
}

/** The arguments of `logwire tail`, checked; null for --help. */
function parseTailArgs(args: string[]): TailCli | null {
  const parsed = parseFlags(args, {
      from: { type: 'string' },
      level: { type: 'string' },
      contains: { type: 'string' },
      match: { type: 'string', multiple: true },
      'no-reconnect': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
  }, 'logwire tail --help');
  const v = parsed.values;
  if (v.help) return null;
  if (parsed.positionals.length !== 2) usage('tail needs a URL and a SOURCE; see logwire tail --help');
  const [rawUrl, source] = parsed.positionals;
  const url = wsUrl(rawUrl);
  if (source === '') usage('SOURCE must not be empty');
  const filter: Filter = {};
  if (v.level !== undefined) {
    const level = v.level.toLowerCase();
    if (!LEVELS.includes(level)) usage(`--level must be one of ${LEVELS.join(', ')}; got ${JSON.stringify(v.level)}`);
    filter.level = level;
  }
  if (v.contains !== undefined) {
    if (v.contains === '') usage('--contains must not be empty');
    filter.contains = v.contains;
  }
  for (const m of v.match ?? []) {
    const eq = m.indexOf('=');
    if (eq < 1) usage(`--match must be KEY=VALUE; got ${JSON.stringify(m)}`);
    const key = m.slice(0, eq);
    filter.match ??= {};
    if (Object.hasOwn(filter.match, key)) usage(`--match ${key} is given twice; a record has one value for it`);
    filter.match[key] = m.slice(eq + 1);
  }
  return {
    url,
    source,
    from: v.from === undefined ? 'end' : parseFrom(v.from),
    filter: Object.keys(filter).length ? filter : undefined,
    reconnect: !v['no-reconnect'],
  };
}

function skipSpace(s: string, i: number): number {
  for (;;) {
    const c = s.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13) i++;
    else return i;
  }
}

/** The end of the JSON string that starts at s[i] (a quote), past its closing quote. */
function skipString(s: string, i: number): number {
  for (let from = i + 1; ;) {
    const q = s.indexOf('"', from);
    if (q < 0) return s.length;
    let slashes = 0;
    while (s.charCodeAt(q - 1 - slashes) === 92) slashes++;
    if (slashes % 2 === 0) return q + 1;
    from = q + 1;
  }
}

/** The end of the JSON value that starts at s[i]. */
function skipValue(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c === 34) return skipString(s, i);
  if (c === 123 || c === 91) {
    let depth = 0;
    while (i < s.length) {
      const d = s.charCodeAt(i);
      if (d === 34) {
        i = skipString(s, i);
        continue;
      }
      if (d === 123 || d === 91) depth++;
      else if ((d === 125 || d === 93) && --depth === 0) return i + 1;
      i++;
    }
    return i;
  }
  while (i < s.length && !',}] \t\r\n'.includes(s[i])) i++;
  return i;
}

/**
 * The elements of the top-level "records" array of a frame, as the server
 * wrote them: no re-serialising, so big integers and escapes come out as sent.
 * Only for text that JSON.parse accepted; null where the shape is unexpected.
 */
function rawRecords(s: string): string[] | null {
  let i = skipSpace(s, 0);
  if (s[i] !== '{') return null;
  i = skipSpace(s, i + 1);
  while (s[i] === '"') {
    const keyEnd = skipString(s, i);
    const key = JSON.parse(s.slice(i, keyEnd)) as string;
    i = skipSpace(s, keyEnd);
    if (s[i] !== ':') return null;
    i = skipSpace(s, i + 1);
    if (key === 'records') {
      if (s[i] !== '[') return null;
      const out: string[] = [];
      i = skipSpace(s, i + 1);
      while (s[i] !== ']') {
        const end = skipValue(s, i);
        out.push(s.slice(i, end));
        i = skipSpace(s, end);
        if (s[i] === ',') i = skipSpace(s, i + 1);
        else if (s[i] !== ']') return null;
      }
      return out;
    }
    i = skipSpace(s, skipValue(s, i));
    if (s[i] === ',') i = skipSpace(s, i + 1);
  }
  return null;
}

/** A server's text on one line. */
function oneLine(text: unknown): string {
  return String(text ?? '').replace(/\s+/g, ' ').trim();
}

interface Frame {
  op?: unknown;
  id?: unknown;
  file?: unknown;
  cursor?: unknown;
  records?: unknown;
  reason?: unknown;
  from?: unknown;
  to?: unknown;
  code?: unknown;
  message?: unknown;
}

/** One run of `logwire tail`: connections one after another, until stopped. */
class Tail {
  private readonly cli: TailCli;
  private readonly out: NodeJS.WritableStream;
  private readonly err: NodeJS.WritableStream;
  private ws: WebSocket | null = null;
  /** The cursor of the last records frame printed: where a new connection resumes. */
  private cursor: string | null = null;
  private opened = false;
  private lost = false;
  private backoffMs = BACKOFF_FIRST_MS;
  private retryTimer: NodeJS.Timeout | null = null;
  private stopping = false;
  private failure: Error | null = null;
  /** Cancels a wait for 'drain' when the run stops. */
  private readonly abort = new AbortController();
  private settle: ((err: Error | null) => void) | null = null;

  constructor(cli: TailCli, out: NodeJS.WritableStream, err: NodeJS.WritableStream) {
    this.cli = cli;
    this.out = out;
    this.err = err;
  }

  run(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.settle = (err) => {
        process.off('SIGINT', this.onSigint);
        this.out.off('error', this.onOutError);
        if (err) reject(err);
        else resolve();
      };
      process.on('SIGINT', this.onSigint);
      this.out.on('error', this.onOutError);
      this.connect();
    });
  }

  private readonly onSigint = () => this.stop();

  private readonly onOutError = (err: NodeJS.ErrnoException) => {
    // `logwire tail … | head`: the reader left; stop quietly.
    this.stop(err.code === 'EPIPE' ? null : createError(ErrorCodes.IO, `tail: cannot write the records: ${err.code ?? err.message}`, err));
  };

  private note(text: string): void {
    this.err.write(`logwire tail: ${text}\n`);
  }

  private subscribeMessage(): string {
    const from = this.cursor === null ? this.cli.from : { cursor: this.cursor };
    return JSON.stringify({ op: 'subscribe', id: ID, source: this.cli.source, from, ...(this.cli.filter && { filter: this.cli.filter }) });
  }

  private connect(): void {
    this.retryTimer = null;
    const ws = new WebSocket(this.cli.url, { handshakeTimeout: 10_000 });
    this.ws = ws;
    // Frames are handled one at a time, in order; a wait for stdout holds the rest.
    let chain = Promise.resolve();
    let lastError: Error | null = null;
    ws.on('open', () => {
      this.opened = true;
      ws.send(this.subscribeMessage());
    });
    ws.on('message', (data) => {
      const text = (data as Buffer).toString('utf8');
      chain = chain.then(() => this.onFrame(ws, text)).catch((err: Error) => this.stop(err));
    });
    ws.on('error', (err) => {
      lastError = err;
    });
    ws.on('close', (code, reason) => {
      chain = chain.then(() => this.onClose(code, oneLine(reason.toString()) || lastError?.message || ''));
    });
  }

  private onClose(code: number, why: string): void {
    this.ws = null;
    if (this.stopping) {
      this.settle?.(this.failure);
      this.settle = null;
      return;
    }
    const what = `code ${code}${why ? `: ${why}` : ''}`;
    if (!this.opened) {
      this.stop(createError(ErrorCodes.IO, `tail: cannot connect to ${this.cli.url} (${why || `code ${code}`})`));
    } else if (!this.cli.reconnect) {
      // 1000 and 1001: the server ended the connection on purpose (e.g. it is shutting down).
      this.stop(code === 1000 || code === 1001 ? null : createError(ErrorCodes.SERVICE, `tail: connection lost (${what})`));
    } else {
      if (!this.lost) this.note(`connection lost (${what}); reconnecting`);
      this.lost = true;
      this.retryTimer = setTimeout(() => this.connect(), this.backoffMs);
      this.backoffMs = Math.min(this.backoffMs * 2, BACKOFF_MAX_MS);
    }
  }

  private async onFrame(ws: WebSocket, text: string): Promise<void> {
    if (this.stopping) return;
    let f: Frame;
    try {
      f = JSON.parse(text) as Frame;
    } catch {
      throw createError(ErrorCodes.SERVICE, 'tail: the server sent a frame that is not JSON');
    }
    if (typeof f !== 'object' || f === null || (f.id !== ID && f.id !== null && f.id !== undefined)) return;
    switch (f.op) {
      case 'records': {
        if (!Array.isArray(f.records)) throw createError(ErrorCodes.SERVICE, 'tail: the server sent a records frame without records');
        let flowing = true;
        if (f.records.length > 0) {
          let lines = rawRecords(text);
          if (lines === null || lines.length !== f.records.length) lines = f.records.map((r) => JSON.stringify(r));
          flowing = this.out.write(lines.join('\n') + '\n');
        }
        // Handed to stdout: a new connection resumes after these records.
        if (typeof f.cursor === 'string') this.cursor = f.cursor;
        if (!flowing) await this.drain(ws);
        break;
      }
      case 'subscribed':
        this.backoffMs = BACKOFF_FIRST_MS;
        if (this.lost) this.note(this.cursor === null ? 'reconnected' : 'reconnected; resuming after the last record');
        this.lost = false;
        break;
      case 'caught_up':
        this.note('caught up');
        break;
      case 'rotated':
        this.note(`rotated ${f.file} (${f.reason})`);
        break;
      case 'gap':
        this.note(`gap in ${f.file} [${f.from}, ${f.to}) ${f.reason}`);
        break;
      case 'error': {
        const message = `tail: ${oneLine(f.code)}: ${oneLine(f.message)}`;
        // The server closes a slow subscriber after this frame; resuming from the cursor loses nothing.
        if (f.code === 'slow_consumer' && this.cli.reconnect) {
          this.note(`${message}; resuming`);
          break;
        }
        const user = f.code === 'bad_request' || f.code === 'unknown_source';
        throw createError(user ? ErrorCodes.USAGE : ErrorCodes.SERVICE, message);
      }
      default:
        // A newer server's frame: nothing for tail to do with it.
        break;
    }
  }

  /** Wait until stdout takes more, reading nothing from the server meanwhile. */
  private async drain(ws: WebSocket): Promise<void> {
    ws.pause();
    try {
      await once(this.out, 'drain', { signal: this.abort.signal });
    } catch (err) {
      if ((err as Error).name === 'AbortError') return;
      throw err;
    } finally {
      ws.resume();
    }
  }

  /** Stop (with an error to reject with, or null), closing the socket politely. */
  stop(err: Error | null = null): void {
    if (this.stopping) return;
    this.stopping = true;
    this.failure = err;
    this.abort.abort();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const ws = this.ws;
    if (!ws) {
      this.settle?.(err);
      this.settle = null;
      return;
    }
    // The close event (through onClose) settles the run.
    const cut = setTimeout(() => ws.terminate(), CLOSE_WAIT_MS);
    ws.once('close', () => clearTimeout(cut));
    ws.close(1000);
  }
}

/**
 * `logwire tail URL SOURCE [options]`. Resolves when stopped (SIGINT, a
 * closed stdout, or the end of the connection with --no-reconnect); rejects
 * with a LogwireError (LOGWIRE_ERR_USAGE for a mistake of the user's).
 */
export async function runTail(args: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<void> {
  const cli = parseTailArgs(args);
  if (cli === null) {
    if (!out.write(HELP)) await once(out, 'drain');
    return;
  }
  await new Tail(cli, out, err).run();
}
