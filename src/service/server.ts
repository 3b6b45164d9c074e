// `logwire serve`: HTTP and WebSocket on one port. Sources follow their
// files; each WebSocket subscription reads them at its own pace (protocol in
// docs/service.md); /metrics, /stats, /healthz, /report and the viewer at /.
// Every request is screened (headers, Host, Origin, token) before it is
// served, and an upgrade before its WebSocket exists.
import type { ConcreteFormat } from '../options.js';
import { createHash, randomBytes } from 'node:crypto';
import { fstatSync, readFileSync, readSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket } from 'ws';
import { createError, ErrorCodes, LogwireError } from '../errors.js';
import { detectFormat } from '../detect.js';
import { resolveIo } from '../io/window.js';
import { DEFAULTS } from '../options.js';
import { WorkerPool } from '../pool/pool.js';
import { WasmCore } from '../wasm/bridge.js';
import { isLoopback, mayRead, OriginPolicy, presentedToken, Tokens, type Grant } from './auth.js';
import { readText, resolveService, type ResolvedService, type ServiceOptions } from './config.js';
import { checkFilter, decodeCursor, type Filter } from './frames.js';
import { LatencyRecorder, writeHlog } from './latency.js';
import { HEADERS_KEPT, HEADERS_TIMEOUT_MS, MAX_HEADER_BYTES, MAX_HEADERS, RateLimit, refuseUpgrade, REQUEST_TIMEOUT_MS, tooManyHeaders } from './limits.js';
import { followedPath } from './paths.js';
import { lastLineEnd, nextLineStart } from '../io/lines.js';
import { lineAt, seekTime } from './seek.js';
import { Source, type TrackedFile } from './source.js';
import { checkPosition, fingerprint, positionOf, type FilePosition } from '../durability/position.js';
import { CheckpointStore } from '../durability/wal.js';
import { Subscription, type Engine } from './subscription.js';

export type { ServiceOptions, SourceConfig, TokenConfig } from './config.js';

export interface Service {
  /** http://HOST:PORT, or https:// with TLS */
  readonly url: string;
  readonly port: number;
  readonly options: ResolvedService;
  close(): Promise<void>;
}

/** A durable subscription's acknowledged position in one file, as the checkpoint keeps it. */
type DurablePosition = FilePosition & { path: string };
interface DurableState {
  positions: DurablePosition[];
  /** The token that made it (Grant.holder): no other token may take it over. */
  holder?: string;
}

/** A client mistake, answered with an `error` frame. */
class RequestError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

interface Connection {
  n: number;
  ws: WebSocket;
  alive: boolean;
  /** The sources its token may read. */
  grant: Grant;
  subs: Map<string, Subscription>;
  /** Subscription id → its durable checkpoint key. */
  durable: Map<string, string>;
  /** Messages are handled one after the other, in the order they came. */
  chain: Promise<void>;
  rate: RateLimit;
  /** Messages dropped over the rate since the client last slowed down, and when the last was. */
  dropped: number;
  droppedAt: number;
}

/** Why requests were refused (the `logwire_refused_total` metric). */
type Refusal = 'headers' | 'host' | 'origin' | 'unauthorized' | 'connections' | 'forbidden' | 'rate_limited';

const VIEWER_DIR = new URL('../../../../viewer/', import.meta.url);
/** The protocol's messages are small; a subscribe with a long filter is a few KiB. */
const MAX_MESSAGE = 64 << 10;
/** Paths served without a token: the viewer's files (no data: it asks for a token itself) and the health check. */
const OPEN_PATHS = new Set(['/', '/index.html', '/viewer.js', '/healthz']);
/** Headers on every HTTP answer: a token in the page's URL must not leak through Referer. */
const SAFE_HEADERS = { 'referrer-policy': 'no-referrer', 'x-content-type-options': 'nosniff' };


function fileFormat(core: WasmCore, src: Source, f: TrackedFile): ConcreteFormat {
  if (f.format === null) {
    const sample = Buffer.alloc(Math.min(65536, f.size));
    const n = readSync(f.fd, sample, 0, sample.length, 0);
    f.format = src.config.format === 'auto' ? detectFormat(core, sample.subarray(0, n), n === f.size, src.config.multiline) : src.config.format;
  }
  return f.format;
}

export async function startService(options: ServiceOptions): Promise<Service> {
  const o = resolveService(options);
  // Read now, so that a wrong path is a clear error at start.
  const tls = o.tls && { cert: readText(o.tls.cert, 'tls.cert'), key: readText(o.tls.key, 'tls.key') };
  const io = resolveIo(undefined);
  const tokens = new Tokens(o.tokens);
  const sources = new Map(o.sources.map((s) => [s.name, new Source(s, o.pollMs, (path, real) => {
    o.warn(`source "${s.name}": ${path} leads outside the source's roots (to ${real}); it is not opened (list its directory in the source's roots if it should be read)`);
  })]));
  const started = Date.now();
  const core = new WasmCore({ inputBytes: 1 << 20, maxRecordBytes: DEFAULTS.maxRecordBytes });
  let pool: WorkerPool | null = null;
  let poolQueue: Promise<unknown> = Promise.resolve();
  let poolBusyMs = 0;
  const sums = { e2e: 0, parse: 0 };
  const e2e = new LatencyRecorder();
  const parse = new LatencyRecorder();
  // Durable subscriptions' acknowledged positions, in the checkpoint write-ahead log.
  const store = o.checkpoint === null ? null : CheckpointStore.open(o.checkpoint, {
    syncMs: o.checkpointMs,
    onError: (err) => o.warn(err.message),
  });
  for (const m of store?.recovery.messages ?? []) o.warn(m);
  // Cursors are signed, with a key that outlives a restart: a random one kept in the checkpoint, or
  // without one a key derived from the configuration, the tokens' digests included (which no client knows).
  let cursorKey = store?.get('cursor-key') as string | undefined;
  if (cursorKey === undefined && store) {
    cursorKey = randomBytes(32).toString('hex');
    store.put('cursor-key', cursorKey);
    store.commit();
  }
  cursorKey ??= createHash('sha256').update(JSON.stringify({
    sources: o.sources.map((x) => [x.name, x.globs, x.roots]),
    tokens: o.tokens.map((t) => t.digest.toString('hex')).sort(),
  })).digest('hex');
  const engine: Engine = {
    core, io, options: o, cursorKey: Buffer.from(cursorKey, 'hex'),
    pool: () => {
      if (!pool || pool.isClosed) pool = new WorkerPool(o.workers, { maxRecordBytes: DEFAULTS.maxRecordBytes, windowBytes: DEFAULTS.windowBytes, inflightBytes: DEFAULTS.inflightBytes });
      return pool;
    },
    withPool: (use) => {
      const turn = poolQueue.then(async () => {
        const t0 = performance.now();
        try {
          return await use(engine.pool());
        } finally {
          poolBusyMs += performance.now() - t0;
        }
      });
      poolQueue = turn.catch(() => undefined);
      return turn;
    },
    e2e: (ms) => { sums.e2e += ms; e2e.record(ms); },
    parse: (ms) => { sums.parse += ms; parse.record(ms); },
  };
  const conns = new Set<Connection>();
  /** Durable names with an open subscription: one at a time each. */
  const durableInUse = new Set<string>();
  let nextConn = 1;
  /** Upgrades accepted whose WebSocket is not open yet: they count against maxConnections. */
  let upgrading = 0;
  const refused: Record<Refusal, number> = { headers: 0, host: 0, origin: 0, unauthorized: 0, connections: 0, forbidden: 0, rate_limited: 0 };
  let origins: OriginPolicy; // set once the port is known

  async function resolveFrom(src: Source, from: unknown): Promise<{ at: Map<TrackedFile, { offset: number; line: number }>; gaps: { file: string; from: number; to: number | null; reason: string }[] }> {
    src.check();
    const files = src.liveFiles();
    const at = new Map<TrackedFile, { offset: number; line: number }>();
    const gaps: { file: string; from: number; to: number | null; reason: string }[] = [];
    const atEnd = async (f: TrackedFile) => {
      const size = fstatSync(f.fd).size;
      const end = Math.max(0, lastLineEnd(f.fd, 0, size));
      at.set(f, { offset: end, line: await lineAt(core, f.fd, end, f.known) });
    };
    if (from === undefined || from === 'end') {
      for (const f of files) await atEnd(f);
    } else if (from === 'start') {
      for (const f of files) at.set(f, { offset: 0, line: 1 });
    } else if (from !== null && typeof from === 'object' && !Array.isArray(from)) {
      const spec = from as Record<string, unknown>;
      if ('cursor' in spec) {
        let decoded;
        try {
          decoded = decodeCursor(spec.cursor, engine.cursorKey);
        } catch (err) {
          throw new RequestError('bad_request', (err as Error).message);
        }
        if (decoded.source !== src.config.name) throw new RequestError('bad_request', `the cursor belongs to source "${decoded.source}", not "${src.config.name}"`);
        for (const e of decoded.entries) {
          // Rotated to a name the globs do not match: found again by identity, so it is finished.
          const f = src.adopt(e.dev, e.ino);
          if (f && fingerprint(f.fd, e.fpLength).fp === e.fp && fstatSync(f.fd).size >= e.offset) at.set(f, { offset: e.offset, line: e.line });
          else gaps.push({ file: e.path, from: e.offset, to: null, reason: 'file_gone' });
        }
        // Files that appeared after the cursor was made: from their start.
        for (const f of files) if (!at.has(f)) at.set(f, { offset: 0, line: 1 });
      } else if ('offset' in spec) {
        const { offset, file } = spec;
        if (typeof file !== 'string') throw new RequestError('bad_request', '"from.file" must be the path of a file of the source');
        if (!Number.isSafeInteger(offset) || (offset as number) < 0) throw new RequestError('bad_request', '"from.offset" must be an integer >= 0');
        const target = followedFile(src, file);
        const size = fstatSync(target.fd).size;
        let off = Math.min(offset as number, size);
        if (off > 0) {
          const b = Buffer.alloc(1);
          readSync(target.fd, b, 0, 1, off - 1);
          if (b[0] !== 10) off = nextLineStart(target.fd, off, size) < 0 ? Math.max(off, lastLineEnd(target.fd, 0, size)) : nextLineStart(target.fd, off, size);
        }
        at.set(target, { offset: off, line: await lineAt(core, target.fd, off, target.known.offset <= off ? target.known : { offset: 0, line: 1 }) });
        for (const f of files) if (f !== target) await atEnd(f);
      } else if ('time' in spec) {
        const t = typeof spec.time === 'string' ? Date.parse(spec.time) : typeof spec.time === 'number' ? spec.time : NaN;
        if (!Number.isFinite(t)) throw new RequestError('bad_request', '"from.time" must be an RFC 3339 timestamp like "2024-05-01T12:00:00Z"');
        for (const f of files) {
          const { size, mtimeMs } = fstatSync(f.fd);
          const end = Math.max(0, lastLineEnd(f.fd, 0, size));
          const off = size === 0 ? 0 : Math.min(end, seekTime(core, f.fd, end, { format: fileFormat(core, src, f), zone: src.config.zone, clock: mtimeMs }, t));
          at.set(f, { offset: off, line: await lineAt(core, f.fd, off, f.known.offset <= off ? f.known : { offset: 0, line: 1 }) });
        }
      } else {
        throw new RequestError('bad_request', '"from" must be "start", "end", {"offset","file"}, {"time"} or {"cursor"}');
      }
    } else {
      throw new RequestError('bad_request', '"from" must be "start", "end", {"offset","file"}, {"time"} or {"cursor"}');
    }
    return { at, gaps };
  }

  /**
   * The followed file a client's `from.file` names. Its text is checked
   * first (absolute, no `..`, under the roots); then it is only compared with
   * the paths of files already open, as followed and as resolved: no path a
   * client wrote is ever looked up on disk.
   */
  function followedFile(src: Source, file: string): TrackedFile {
    const checked = src.confinement.checkClientPath(file);
    if ('refused' in checked) {
      refused.forbidden++;
      throw new RequestError('forbidden', `"from.file" ${checked.refused}`);
    }
    const files = [...src.files.values()];
    const target = files.find((f) => f.path === checked.path) ?? files.find((f) => followedPath(f.fd) === checked.path);
    if (!target) throw new RequestError('not_found', `${file} is not a file of source "${src.config.name}"`);
    return target;
  }

  function sendError(c: Connection, id: unknown, code: string, message: string): void {
    // Error frames are advice: to a client that does not read them, they are not queued without end.
    if (c.ws.readyState === WebSocket.OPEN && c.ws.bufferedAmount <= o.queueBytes) {
      c.ws.send(JSON.stringify({ op: 'error', id: typeof id === 'string' ? id : null, code, message }));
    }
  }

  /** Where a durable subscription left off: each file found again by identity and checked before it is trusted. */
  function resumeDurable(src: Source, saved: DurableState): { at: Map<TrackedFile, { offset: number; line: number }>; gaps: { file: string; from: number; to: number | null; reason: string }[] } {
    src.check();
    const at = new Map<TrackedFile, { offset: number; line: number }>();
    const gaps: { file: string; from: number; to: number | null; reason: string }[] = [];
    for (const pos of saved.positions) {
      const f = src.adopt(pos.dev, pos.ino);
      if (!f) {
        gaps.push({ file: pos.path, from: pos.offset, to: null, reason: 'file_gone' });
        continue;
      }
      if (checkPosition(f.fd, fstatSync(f.fd), pos) === 'same') at.set(f, { offset: pos.offset, line: pos.line });
      else {
        // Truncated or replaced while the service was down: the new content from 0, and say so.
        at.set(f, { offset: 0, line: 1 });
        gaps.push({ file: f.path, from: pos.offset, to: null, reason: 'truncated' });
      }
    }
    for (const f of src.liveFiles()) if (!at.has(f)) at.set(f, { offset: 0, line: 1 });
    return { at, gaps };
  }

  /** `{"op":"ack","id","cursor"}`: a durable subscriber has everything up to the cursor; the checkpoint may move there. */
  function ack(c: Connection, m: Record<string, unknown>): void {
    const sub = typeof m.id === 'string' ? c.subs.get(m.id) : undefined;
    if (!sub) throw new RequestError('unknown_id', `no subscription ${JSON.stringify(m.id)} on this connection`);
    const key = c.durable.get(m.id as string);
    if (key === undefined || !store) throw new RequestError('bad_request', 'ack is for durable subscriptions (subscribe with "durable")');
    let decoded;
    try {
      decoded = decodeCursor(m.cursor, engine.cursorKey);
    } catch (err) {
      throw new RequestError('bad_request', (err as Error).message);
    }
    if (decoded.source !== sub.source.config.name) throw new RequestError('bad_request', `the cursor belongs to source "${decoded.source}"`);
    const positions: DurablePosition[] = decoded.entries.map((e) => {
      const f = sub.source.find(e.dev, e.ino);
      // With the bytes just before the offset, so that a resume can tell the same content from new.
      if (f && fingerprint(f.fd, e.fpLength).fp === e.fp) return { path: f.path, ...positionOf(f.fd, fstatSync(f.fd), e.offset, e.line) };
      return { path: e.path, dev: e.dev, ino: e.ino, fp: e.fp, fpLength: e.fpLength, offset: e.offset, line: e.line, crcBefore: 0, crcLength: 0 };
    });
    // Files the subscription still reads that this (older) cursor does not name keep their last acknowledged position.
    const state = store.get(key) as DurableState | undefined;
    const previous = state?.positions ?? [];
    for (const p of previous) {
      if (positions.some((q) => q.dev === p.dev && q.ino === p.ino)) continue;
      const f = sub.source.find(p.dev, p.ino);
      if (f && sub.position(f) !== undefined) positions.push(p);
    }
    store.put(key, { positions, holder: state?.holder } satisfies DurableState);
    sourceCheckpoint(sub.source);
  }

  /**
   * The source's own checkpoint: per file, the position every durable
   * subscriber has acknowledged (the least of theirs), never past any of them.
   */
  function sourceCheckpoint(src: Source): void {
    const prefix = `durable:${src.config.name}:`;
    const least = new Map<string, DurablePosition>();
    for (const k of store!.keys()) {
      if (!k.startsWith(prefix)) continue;
      for (const p of (store!.get(k) as DurableState).positions) {
        const id = `${p.dev}:${p.ino}`;
        const have = least.get(id);
        if (!have || p.offset < have.offset) least.set(id, p);
      }
    }
    store!.put(`source:${src.config.name}`, { positions: [...least.values()] } satisfies DurableState);
  }

  /**
   * Positions a durable subscription may fall back to right now: where it
   * starts (nothing was sent yet), and every file it begins reading from 0,
   * committed at once so that a crash before the first ack loses no file.
   */
  function durableStart(key: string, at: Map<TrackedFile, { offset: number; line: number }>, holder: string): void {
    const positions: DurablePosition[] = [...at].map(([f, p]) => ({ path: f.path, ...positionOf(f.fd, fstatSync(f.fd), p.offset, p.line) }));
    store!.put(key, { positions, holder } satisfies DurableState);
    store!.commit();
  }

  function durableNewFile(key: string, f: TrackedFile): void {
    const state = (store!.get(key) as DurableState | undefined) ?? { positions: [] };
    if (state.positions.some((p) => p.dev === f.dev && p.ino === f.ino)) return;
    store!.put(key, { ...state, positions: [...state.positions, { path: f.path, ...positionOf(f.fd, fstatSync(f.fd), 0, 1) }] } satisfies DurableState);
    store!.commit();
  }

  async function subscribe(c: Connection, msg: Record<string, unknown>): Promise<void> {
    const id = msg.id;
    if (typeof id !== 'string' || id === '' || id.length > 128) throw new RequestError('bad_request', '"id" must be a string of 1 to 128 characters');
    if (c.subs.has(id)) throw new RequestError('duplicate_id', `a subscription "${id}" already exists on this connection`);
    if (c.subs.size >= o.maxSubscriptions) throw new RequestError('too_many_subscriptions', `a connection may have ${o.maxSubscriptions} subscriptions at most`);
    if (typeof msg.source !== 'string') throw new RequestError('bad_request', '"source" must be the name of a source');
    // Before looking the name up: a token learns nothing about sources it may not read, not even that they exist.
    if (!mayRead(c.grant, msg.source)) {
      refused.forbidden++;
      throw new RequestError('forbidden', `this token may not read source "${msg.source}"`);
    }
    const src = sources.get(msg.source);
    if (!src) throw new RequestError('unknown_source', `no source "${msg.source}" (known: ${visible(c.grant).map((s) => s.config.name).join(', ')})`);
    const filter = checkFilter(msg.filter);
    if (typeof filter === 'string') throw new RequestError('bad_request', filter);
    let durable: string | null = null;
    if (msg.durable !== undefined) {
      if (typeof msg.durable !== 'string' || !/^[A-Za-z0-9_.-]{1,128}$/.test(msg.durable)) throw new RequestError('bad_request', '"durable" must be a name of 1 to 128 letters, digits, "_", "." or "-"');
      if (!store) throw new RequestError('bad_request', 'durable subscriptions need a checkpoint: start the service with --checkpoint FILE');
      durable = `durable:${src.config.name}:${msg.durable}`;
      if (durableInUse.has(durable)) throw new RequestError('durable_in_use', `the durable subscription "${msg.durable}" of source "${src.config.name}" is open on another subscription`);
    }
    const saved = durable === null ? undefined : (store!.get(durable) as DurableState | undefined);
    if (saved && (saved.holder ?? '') !== c.grant.holder) {
      refused.forbidden++;
      throw new RequestError('forbidden', `the durable subscription "${msg.durable}" belongs to another token`);
    }
    if (durable !== null) durableInUse.add(durable);
    // Hold the files while the start is found (counting lines yields): none is closed under us.
    const held = [...src.files.values()];
    for (const f of held) f.readers++;
    let where;
    try {
      // A durable name seen before goes on after its last acknowledged cursor, whatever `from` says.
      where = saved ? resumeDurable(src, saved) : await resolveFrom(src, msg.from);
    } catch (err) {
      if (durable !== null) durableInUse.delete(durable);
      throw err;
    } finally {
      for (const f of held) {
        f.readers--;
        src.release(f);
      }
    }
    // Files that appeared meanwhile are new: from their start. Files let go meanwhile are dropped.
    for (const f of src.liveFiles()) if (!where.at.has(f) && !held.includes(f)) where.at.set(f, { offset: 0, line: 1 });
    for (const f of [...where.at.keys()]) if (!src.files.has(f.seq)) where.at.delete(f);
    if (c.ws.readyState !== WebSocket.OPEN) {
      // gone meanwhile
      if (durable !== null) durableInUse.delete(durable);
      return;
    }
    const sub = new Subscription(id, src, filter as Filter, engine, {
      send: (frame, done) => c.ws.send(frame, { binary: false }, () => done()),
      get open() { return c.ws.readyState === WebSocket.OPEN; },
      drop: () => {
        c.ws.close(4008, 'slow consumer');
        setTimeout(() => c.ws.terminate(), 1000).unref();
      },
    });
    c.subs.set(id, sub);
    if (durable !== null) {
      const key = durable;
      c.durable.set(id, key);
      durableStart(key, where.at, c.grant.holder);
      sub.onNewFile = (f) => durableNewFile(key, f);
    }
    sub.onEnd = () => {
      if (c.subs.get(id) === sub) c.subs.delete(id);
      if (durable !== null && c.durable.get(id) === durable) {
        c.durable.delete(id);
        durableInUse.delete(durable);
      }
    };
    sub.start(where.at, where.gaps, saved ? { resumed: true } : {});
  }

  async function onMessage(c: Connection, data: Buffer, isBinary: boolean): Promise<void> {
    let msg: unknown;
    try {
      if (isBinary) throw new Error('binary');
      msg = JSON.parse(data.toString('utf8'));
    } catch {
      return sendError(c, null, 'bad_message', 'messages must be JSON text');
    }
    if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) return sendError(c, null, 'bad_message', 'a message must be a JSON object with an "op"');
    const m = msg as Record<string, unknown>;
    try {
      if (m.op === 'subscribe') await subscribe(c, m);
      else if (m.op === 'unsubscribe') {
        const sub = typeof m.id === 'string' ? c.subs.get(m.id) : undefined;
        if (!sub) throw new RequestError('unknown_id', `no subscription ${JSON.stringify(m.id)} on this connection`);
        sub.close();
        c.subs.delete(m.id as string);
        c.ws.send(JSON.stringify({ op: 'unsubscribed', id: m.id }));
      } else if (m.op === 'ack') {
        ack(c, m);
      } else {
        sendError(c, m.id, 'bad_message', `unknown op ${JSON.stringify(m.op)} (subscribe, unsubscribe, ack)`);
      }
    } catch (err) {
      if (err instanceof RequestError) sendError(c, m.id, err.code, err.message);
      else sendError(c, m.id, 'internal', (err as Error).message);
    }
  }

  function percentiles(r: LatencyRecorder) {
    return r.summary();
  }

  /** The sources a grant may read: /stats and /metrics show only those. */
  function visible(grant: Grant): Source[] {
    return [...sources.values()].filter((s) => mayRead(grant, s.config.name));
  }

  function stats(grant: Grant): object {
    const subs = [...conns].flatMap((c) => [...c.subs.entries()].filter(([, s]) => s instanceof Subscription && mayRead(grant, s.source.config.name)).map(([id, s]) => ({
      connection: c.n, id, source: s.source.config.name, live: s.live, queueBytes: s.queued, lagBytes: s.lag(), records: s.sentRecords,
    })));
    const mem = process.memoryUsage();
    return {
      uptimeMs: Date.now() - started,
      sources: visible(grant).map((s) => ({
        name: s.config.name, format: s.config.format, policy: s.config.policy, bytesParsed: s.bytesParsed, recordsParsed: s.recordsParsed,
        files: [...s.files.values()].map((f) => ({ path: f.path, size: f.size, live: f.live, readers: f.readers, lagBytes: fileLag(s, f) })),
        refusedFiles: [...s.confinement.refused],
      })),
      subscribers: subs,
      connections: conns.size,
      refused: { ...refused },
      workers: { size: o.workers, busyRatio: busyRatio(), started: pool !== null },
      memory: { rss: mem.rss, heapUsed: mem.heapUsed, external: mem.external, arrayBuffers: mem.arrayBuffers },
      latency: { e2e: percentiles(e2e), parse: percentiles(parse) },
    };
  }

  function allSubs(): Subscription[] {
    return [...conns].flatMap((c) => [...c.subs.values()].filter((s): s is Subscription => s instanceof Subscription));
  }

  /** Bytes of the file the slowest subscription reading it has not read. */
  function fileLag(s: Source, f: TrackedFile): number {
    let lag = 0;
    for (const sub of allSubs()) {
      if (sub.source !== s) continue;
      const p = sub.position(f);
      if (p !== undefined) lag = Math.max(lag, f.size - p);
    }
    return lag;
  }

  function busyRatio(): number {
    const secs = (Date.now() - started) / 1000;
    return secs > 0 ? poolBusyMs / 1000 / secs : 0;
  }

  function metrics(grant: Grant): string {
    const lines: string[] = [];
    const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
    const metric = (name: string, type: string, help: string, rows: [string, number][]) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, v] of rows) lines.push(`${name}${labels} ${v}`);
    };
    const srcs = visible(grant);
    metric('logwire_source_bytes_parsed_total', 'counter', 'File bytes parsed for subscribers, per source.', srcs.map((s) => [`{source="${esc(s.config.name)}"}`, s.bytesParsed]));
    metric('logwire_source_records_parsed_total', 'counter', 'Records parsed for subscribers, per source.', srcs.map((s) => [`{source="${esc(s.config.name)}"}`, s.recordsParsed]));
    const files = srcs.flatMap((s) => [...s.files.values()].map((f) => [s, f] as const));
    metric('logwire_file_size_bytes', 'gauge', 'Size of each followed file.', files.map(([s, f]) => [`{source="${esc(s.config.name)}",file="${esc(f.path)}"}`, f.size]));
    metric('logwire_file_lag_bytes', 'gauge', 'Bytes of each file the slowest subscriber reading it has not been sent.', files.map(([s, f]) => [`{source="${esc(s.config.name)}",file="${esc(f.path)}"}`, fileLag(s, f)]));
    const subs = [...conns].flatMap((c) => [...c.subs.entries()].filter(([, s]) => s instanceof Subscription && mayRead(grant, s.source.config.name)).map(([id, s]) => [c, id, s] as const));
    metric('logwire_subscriber_queue_bytes', 'gauge', 'Bytes handed to a subscriber\'s socket and not yet written out.', subs.map(([c, id, s]) => [`{connection="${c.n}",id="${esc(id)}",source="${esc(s.source.config.name)}"}`, s.queued]));
    metric('logwire_subscribers', 'gauge', 'Open subscriptions.', [['', subs.length]]);
    metric('logwire_connections', 'gauge', 'Open WebSocket connections.', [['', conns.size]]);
    metric('logwire_refused_total', 'counter', 'Requests, messages and subscriptions refused, by reason.', Object.entries(refused).map(([k, v]) => [`{reason="${k}"}`, v]));
    metric('logwire_source_refused_files', 'gauge', 'Paths a source\'s globs matched that lead outside its roots (not opened).', srcs.map((s) => [`{source="${esc(s.config.name)}"}`, s.confinement.refused.size]));
    if (store) {
      metric('logwire_checkpoint_commits_total', 'counter', 'Group commits of the checkpoint log.', [['', store.commits]]);
      metric('logwire_checkpoint_failures_total', 'counter', 'Checkpoint writes or fsyncs that failed (the checkpoint stayed where it was).', [['', store.failures]]);
      const cps = srcs.flatMap((src) => ((store.get(`source:${src.config.name}`) as DurableState | undefined)?.positions ?? []).map((p) => [src, p] as const));
      metric('logwire_checkpoint_offset_bytes', 'gauge', 'Per file, the offset every durable subscriber has acknowledged.', cps.map(([src, p]) => [`{source="${esc(src.config.name)}",file="${esc(p.path)}"}`, p.offset]));
      metric('logwire_checkpoint_corrupt_records', 'gauge', 'Damaged records found in the checkpoint at start (the rest of that file was skipped).', [['', store.recovery.corrupt]]);
    }
    metric('logwire_worker_busy_ratio', 'gauge', 'Share of the time since start the worker pool was parsing a backlog.', [['', busyRatio()]]);
    metric('logwire_resident_memory_bytes', 'gauge', 'Resident set size of the service.', [['', process.memoryUsage().rss]]);
    for (const [name, help, rec, sum] of [
      ['logwire_delivery_latency_seconds', 'End-to-end latency: a line seen by the service to its frame handed to the socket.', e2e, sums.e2e],
      ['logwire_parse_latency_seconds', 'Parse time per batch.', parse, sums.parse],
    ] as const) {
      const p = rec.summary();
      metric(name, 'summary', help, [
        ['{quantile="0.5"}', p.p50 / 1000], ['{quantile="0.9"}', p.p90 / 1000], ['{quantile="0.99"}', p.p99 / 1000], ['{quantile="0.999"}', p.p999 / 1000],
      ]);
      lines.push(`${name}_sum ${sum / 1000}`, `${name}_count ${p.count}`);
    }
    return lines.join('\n') + '\n';
  }

  function serveFile(res: ServerResponse, name: string, type: string): void {
    try {
      const body = readFileSync(new URL(name, VIEWER_DIR));
      res.writeHead(200, { 'content-type': type, 'cache-control': 'no-cache' }).end(body);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  }

  /**
   * What every request goes through before it is served: too many headers
   * (431), a Host or Origin that is not the service's (403), a missing or
   * wrong token where tokens are configured (401). The sources it may read,
   * or why it is refused.
   */
  function screen(req: IncomingMessage, needsToken: boolean): Grant | { status: number; reason: Refusal; message: string } {
    if (tooManyHeaders(req.rawHeaders)) return { status: 431, reason: 'headers', message: `more than ${MAX_HEADERS} header lines` };
    if (!origins.hostAllowed(req.headers.host)) return { status: 403, reason: 'host', message: `Host ${JSON.stringify(req.headers.host)} is not this service's; add its origin with --origin` };
    if (!origins.originAllowed(req.headers.origin)) return { status: 403, reason: 'origin', message: `origin ${JSON.stringify(req.headers.origin)} is not allowed; add it with --origin` };
    if (!needsToken) return { sources: null, holder: '' };
    const token = presentedToken(req);
    const grant = tokens.grant(token);
    if (!grant) return { status: 401, reason: 'unauthorized', message: token === null ? 'a token is needed: "Authorization: Bearer TOKEN" or ?token=TOKEN' : 'wrong token' };
    return grant;
  }

  const AUTH_HEADER = { 'www-authenticate': 'Bearer realm="logwire"' };

  function onRequest(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    for (const [k, v] of Object.entries(SAFE_HEADERS)) res.setHeader(k, v);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    const grant = screen(req, !OPEN_PATHS.has(path));
    if ('status' in grant) {
      refused[grant.reason]++;
      res.writeHead(grant.status, { 'content-type': 'text/plain', ...(grant.status === 401 ? AUTH_HEADER : {}) }).end(`${grant.message}\n`);
      return;
    }
    try {
      if (path === '/' || path === '/index.html') serveFile(res, 'index.html', 'text/html; charset=utf-8');
      else if (path === '/viewer.js') serveFile(res, 'viewer.js', 'text/javascript; charset=utf-8');
      else if (path === '/healthz') res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      else if (path === '/stats') res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(stats(grant)));
      else if (path === '/metrics') res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(metrics(grant));
      else if (path === '/report') {
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(
          `# End-to-end latency (ms): line seen by the service -> frame handed to the socket\n${e2e.distribution()}\n` +
          `# Parse latency per batch (ms)\n${parse.distribution()}`,
        );
      } else if (path === '/report.hlog') {
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(writeHlog([{ tag: 'e2e', recorder: e2e }, { tag: 'parse', recorder: parse }], started));
      } else res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    } catch (err) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`internal error: ${(err as Error).message}\n`);
    }
  }

  /** The checks run here, on the raw socket: a refused client never gets a WebSocket. */
  function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const grant = screen(req, true);
    if ('status' in grant) {
      refused[grant.reason]++;
      refuseUpgrade(socket, grant.status, grant.message, grant.status === 401 ? AUTH_HEADER : {});
      return;
    }
    if (conns.size + upgrading >= o.maxConnections) {
      refused.connections++;
      refuseUpgrade(socket, 503, `${o.maxConnections} connections already open`, { 'retry-after': '5' });
      return;
    }
    upgrading++;
    let pending = true;
    const settle = () => {
      if (pending) upgrading--;
      pending = false;
    };
    socket.once('close', settle); // ws refused the handshake itself (400, 405…)
    wss.handleUpgrade(req, socket, head, (ws) => {
      settle();
      socket.off('close', settle);
      onConnection(ws, grant);
    });
  }

  /**
   * Take one message (or ping) from the connection's rate. Past it the
   * message is dropped: the client is told once, and closed (1008) when it
   * goes on for another burst. Both wait their turn behind the messages
   * already taken, so their answers come first.
   */
  function withinRate(c: Connection): boolean {
    const now = performance.now();
    if (c.rate.take()) {
      if (now - c.droppedAt > 1000) c.dropped = 0; // it slowed down
      return true;
    }
    refused.rate_limited++;
    c.droppedAt = now;
    if (c.dropped++ === 0) {
      c.chain = c.chain.then(() => sendError(c, null, 'rate_limited', `more than ${o.messageRate} messages a second (${o.messageBurst} at once): this one and those that come too soon after it are dropped`));
    } else if (c.dropped === o.messageBurst) {
      c.chain = c.chain.then(() => {
        c.ws.close(1008, 'message rate exceeded');
        setTimeout(() => c.ws.terminate(), 1000).unref();
      });
    }
    return false;
  }

  function onConnection(ws: WebSocket, grant: Grant): void {
    const c: Connection = {
      n: nextConn++, ws, alive: true, grant, subs: new Map(), durable: new Map(), chain: Promise.resolve(),
      rate: new RateLimit(o.messageRate, o.messageBurst), dropped: 0, droppedAt: 0,
    };
    conns.add(c);
    ws.on('pong', () => {
      c.alive = true;
      withinRate(c); // unasked pongs are messages too: a flood of them closes the connection
    });
    // Pings are answered here (autoPong is off) so that a ping flood meets the rate limit too.
    ws.on('ping', (data) => { if (withinRate(c)) ws.pong(data); });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!withinRate(c)) return;
      c.chain = c.chain.then(() => onMessage(c, data, isBinary)).catch(() => undefined);
    });
    ws.on('error', () => { /* a protocol error from the client (1002, 1009 oversized…): ws closes the socket */ });
    ws.on('close', () => {
      conns.delete(c);
      for (const s of c.subs.values()) s.close();
      c.subs.clear();
    });
  }

  const serverOptions: ServerOptions = {
    maxHeaderSize: MAX_HEADER_BYTES,
    headersTimeout: HEADERS_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
    // How often those timeouts are looked at (Node's default, 30 s, would let a slow client hold a socket that long).
    connectionsCheckingInterval: 1000,
  };
  let server: Server;
  try {
    server = tls ? createTlsServer({ ...serverOptions, ...tls }, onRequest) : createServer(serverOptions, onRequest);
  } catch (err) {
    for (const s of sources.values()) s.close();
    throw createError(ErrorCodes.INVALID_OPTION, `tls: the certificate or key cannot be used (${(err as Error).message})`);
  }
  server.maxHeadersCount = HEADERS_KEPT;
  server.on('upgrade', onUpgrade);
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE, perMessageDeflate: o.perMessageDeflate, autoPong: false });
  const ping = setInterval(() => {
    for (const c of conns) {
      if (!c.alive) {
        c.ws.terminate();
        continue;
      }
      c.alive = false;
      c.ws.ping();
    }
  }, o.pingMs);
  ping.unref();

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'EADDRINUSE' ? createError(ErrorCodes.USAGE, `port ${o.port} on ${o.host} is in use; pick another with --port`) : err);
    });
    server.listen(o.port, o.host, () => resolve());
  }).catch((err) => {
    for (const s of sources.values()) s.close();
    throw err instanceof LogwireError ? err : createError(ErrorCodes.IO, `cannot listen on ${o.host}:${o.port}: ${(err as Error).message}`);
  });
  const port = (server.address() as AddressInfo).port;
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;
  const scheme = tls ? 'https' : 'http';
  origins = new OriginPolicy(o.host, port, scheme, o.origins);
  if (tokens.open && !isLoopback(o.host)) o.warn(`listening on ${o.host} without tokens: anyone who can reach port ${port} may read every source (configure tokens with --token, or listen on 127.0.0.1)`);
  if (!tokens.open && !tls && !isLoopback(o.host)) o.warn(`tokens travel in clear text on ${o.host}: serve TLS (--tls-cert, --tls-key) or put a TLS proxy in front`);
  let closing: Promise<void> | null = null;
  return {
    url: `${scheme}://${host}:${port}`,
    port,
    options: o,
    close: () => {
      closing ??= (async () => {
        clearInterval(ping);
        for (const c of conns) {
          for (const s of c.subs.values()) s.close();
          c.ws.terminate();
        }
        await new Promise<void>((resolve) => wss.close(() => resolve()));
        // Keep-alive HTTP connections would hold server.close() open: end them first.
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await closed;
        for (const s of sources.values()) s.close();
        await poolQueue;
        await (pool as WorkerPool | null)?.close();
        store?.close();
      })();
      return closing;
    },
  };
}
