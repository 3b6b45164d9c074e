// The service's configuration: sources and knobs, defaults in one place,
// checked once (config file, --source flags or the library call) with
// messages that name the setting and what it must be.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { createError, ErrorCodes } from '../errors.js';
import { DEFAULTS, resolveFormat, resolveMultiline, type Format, type Multiline, type MultilineOptions, type MultilineStart } from '../options.js';
import { parseZone, type Zone } from '../tz.js';
import { tokenDigest } from './auth.js';
import { hasDotDot, isUnder, realpathOrNull } from './paths.js';

export type Policy = 'block' | 'drop' | 'disconnect';

export interface SourceConfig {
  name: string;
  /** Paths; `*`, `?` and `[…]` may appear in the last path component only. */
  globs: string[];
  /** auto, classic, logfmt, json, "pattern:…" or { pattern } (docs/patterns.md). */
  format?: Format | { pattern: string };
  tz?: string;
  /** What a live subscriber that cannot keep up gets (default 'block'). */
  policy?: Policy;
  /** Directories its files must really be under, symlinks resolved (default: the directories of its globs). */
  roots?: string[];
  /**
   * Join continuation lines into records (docs/records.md). A file's last
   * record is held back until a line starts the next one, or until the file
   * has been quiet for flushMs (default 1000), or it is rotated away.
   */
  multiline?: MultilineStart | (MultilineOptions & { flushMs?: number });
}

export interface TokenConfig {
  /** A bearer token: 16 to 4096 of A-Z a-z 0-9 - . _ ~ + / and trailing = (RFC 6750). */
  token: string;
  /** The sources it may read, or "*" for all. */
  sources: string[] | '*';
}

export interface ServiceOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  sources: SourceConfig[];
  /** Most record bytes in one `records` frame. */
  batchBytes?: number;
  /** How long a live reader waits after a change to gather more lines. */
  batchDelayMs?: number;
  /** A subscriber's send queue: bytes handed to its socket and not yet written out. */
  queueBytes?: number;
  /** How long a last line without LF waits before it is sent as it is. */
  partialFlushMs?: number;
  /** Period of the polling fallback beside inotify. */
  pollMs?: number;
  /** Keepalive ping period; a connection that missed the previous pong is closed. */
  pingMs?: number;
  /** How long a file renamed away or deleted is still read after its end, for lines written before the writer reopened. */
  rotateWaitMs?: number;
  /** The checkpoint write-ahead log (durable subscriptions' acknowledged positions); none: no durable subscriptions. */
  checkpoint?: string;
  /** Group commit: the checkpoint is written and fsynced this often. */
  checkpointMs?: number;
  /** Worker threads for catching up on large backlogs. */
  workers?: number;
  /** Bearer tokens; none: anyone who can reach the port may read every source. */
  tokens?: TokenConfig[];
  /** Browser origins allowed besides the service's own, like "https://logs.example.com". */
  origins?: string[];
  /** PEM certificate and key files: serve HTTPS and wss://. */
  tls?: { cert: string; key: string };
  /** Open WebSocket connections at most; more are refused with 503. */
  maxConnections?: number;
  /** Subscriptions per connection at most. */
  maxSubscriptions?: number;
  /** Messages (and pings) a connection may send per second, on average... */
  messageRate?: number;
  /** ...and in a burst. */
  messageBurst?: number;
  /** permessage-deflate (off: compression costs CPU per frame and a client can make the server inflate). */
  perMessageDeflate?: boolean;
  /** Where warnings go (default: a line on stderr). */
  warn?: (message: string) => void;
}

export const SERVICE_DEFAULTS = {
  host: '127.0.0.1',
  port: 7070,
  batchBytes: 256 << 10,
  batchDelayMs: 0,
  queueBytes: 4 << 20,
  partialFlushMs: 1000,
  multilineFlushMs: 1000,
  pollMs: 250,
  pingMs: 30_000,
  rotateWaitMs: 5000,
  checkpointMs: 200,
  maxConnections: 256,
  maxSubscriptions: 32,
  messageRate: 100,
  messageBurst: 200,
};

export interface ResolvedSource {
  name: string;
  globs: string[];
  format: Format;
  zone: Zone;
  policy: Policy;
  roots: string[];
  multiline: (Multiline & { flushMs: number }) | null;
}

export interface ResolvedToken {
  /** SHA-256 of the token: the token itself is not kept. */
  digest: Buffer;
  /** null: every source. */
  sources: string[] | null;
}

export interface ResolvedService {
  host: string;
  port: number;
  sources: ResolvedSource[];
  batchBytes: number;
  batchDelayMs: number;
  queueBytes: number;
  partialFlushMs: number;
  pollMs: number;
  pingMs: number;
  rotateWaitMs: number;
  checkpoint: string | null;
  checkpointMs: number;
  workers: number;
  tokens: ResolvedToken[];
  origins: string[];
  tls: { cert: string; key: string } | null;
  maxConnections: number;
  maxSubscriptions: number;
  messageRate: number;
  messageBurst: number;
  perMessageDeflate: boolean;
  warn: (message: string) => void;
}

const POLICIES: readonly Policy[] = ['block', 'drop', 'disconnect'];
const SERVICE_KEYS = new Set([
  'host', 'port', 'sources', 'batchBytes', 'batchDelayMs', 'queueBytes', 'partialFlushMs', 'pollMs', 'pingMs', 'rotateWaitMs', 'checkpoint', 'checkpointMs', 'workers',
  'tokens', 'origins', 'tls', 'maxConnections', 'maxSubscriptions', 'messageRate', 'messageBurst', 'perMessageDeflate', 'warn',
]);
const SOURCE_KEYS = new Set(['name', 'globs', 'format', 'tz', 'policy', 'roots', 'multiline']);
const TOKEN = /^[A-Za-z0-9\-._~+/]{16,4096}=*$/;

function bad(where: string, must: string, got: unknown): never {
  const shown = typeof got === 'string' ? JSON.stringify(got) : Array.isArray(got) ? 'an array' : got === null ? 'null' : typeof got === 'object' ? 'an object' : String(got);
  throw createError(ErrorCodes.INVALID_OPTION, `${where} must be ${must}; got ${shown}`);
}

function int(where: string, v: unknown, min: number, max: number, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) bad(where, `an integer from ${min} to ${max}`, v);
  return v;
}

function resolveSource(s: unknown, i: number): ResolvedSource {
  const at = `sources[${i}]`;
  if (s === null || typeof s !== 'object' || Array.isArray(s)) bad(at, 'an object', s);
  const src = s as Record<string, unknown>;
  for (const k of Object.keys(src)) if (!SOURCE_KEYS.has(k)) bad(`${at}.${k}`, `one of the known settings (${[...SOURCE_KEYS].join(', ')})`, 'an unknown setting');
  if (typeof src.name !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(src.name)) bad(`${at}.name`, 'a name of 1 to 64 letters, digits, "_", "." or "-"', src.name);
  const globs = src.globs;
  if (!Array.isArray(globs) || globs.length === 0 || globs.some((g) => typeof g !== 'string' || g === '')) bad(`${at}.globs`, 'a non-empty array of non-empty paths', globs);
  for (const g of globs as string[]) {
    const dir = g.slice(0, Math.max(0, g.lastIndexOf('/')));
    if (/[*?[]/.test(dir)) bad(`${at}.globs`, 'paths with wildcards in the last component only', g);
  }
  let format: Format;
  try {
    format = resolveFormat(src.format ?? 'auto', (must, got) => bad(`${at}.format`, must, got));
  } catch (err) {
    // A pattern's own error names the column; say which source it belongs to.
    throw createError(ErrorCodes.INVALID_OPTION, (err as Error).message.replace(/^option "format"/, `${at}.format`));
  }
  if (src.tz !== undefined && typeof src.tz !== 'string') bad(`${at}.tz`, 'a zone name', src.tz);
  let zone: Zone;
  try {
    zone = parseZone((src.tz as string | undefined) ?? 'UTC');
  } catch (err) {
    throw createError(ErrorCodes.INVALID_OPTION, `${at}.tz: ${(err as Error).message}`);
  }
  const policy = (src.policy ?? 'block') as Policy;
  if (!POLICIES.includes(policy)) bad(`${at}.policy`, `one of ${POLICIES.join(', ')}`, src.policy);
  const paths = (globs as string[]).map((g) => resolve(g));
  const roots = src.roots === undefined ? [...new Set(paths.map((g) => dirname(g)))] : resolveRoots(`${at}.roots`, src.roots);
  for (const [j, g] of (globs as string[]).entries()) checkGlob(`${at}.globs`, g, paths[j], roots);
  return { name: src.name, globs: paths, format, zone, policy, roots, multiline: resolveSourceMultiline(`${at}.multiline`, src.multiline) };
}

function resolveSourceMultiline(at: string, m: unknown): (Multiline & { flushMs: number }) | null {
  let spec = m;
  let flushMs: unknown;
  if (m !== null && typeof m === 'object' && !Array.isArray(m) && 'flushMs' in m) {
    const { flushMs: ms, ...rest } = m as Record<string, unknown>;
    flushMs = ms;
    spec = rest;
  }
  try {
    const resolved = resolveMultiline(spec, DEFAULTS.maxRecordBytes, at);
    return resolved && { ...resolved, flushMs: int(`${at}.flushMs`, flushMs, 1, 3_600_000, SERVICE_DEFAULTS.multilineFlushMs) };
  } catch (err) {
    // The library's wording ('option "x" must be') in this file's ('x must be').
    throw createError(ErrorCodes.INVALID_OPTION, (err as Error).message.replace(/^option "([^"]+)"/, '$1'));
  }
}

function resolveRoots(where: string, roots: unknown): string[] {
  if (!Array.isArray(roots) || roots.length === 0 || roots.some((r) => typeof r !== 'string' || r === '')) bad(where, 'a non-empty array of directories', roots);
  return (roots as string[]).map((r) => resolve(r));
}

/** A glob may only reach files under the roots: as written, and through the symlinks its directory has now. */
function checkGlob(where: string, glob: string, path: string, roots: string[]): void {
  if (hasDotDot(glob)) bad(where, 'paths without ".." components', glob);
  const dir = dirname(path);
  if (!roots.some((r) => isUnder(dir, r))) bad(where, `paths under the source's roots (${roots.join(', ')})`, glob);
  const real = realpathOrNull(dir);
  if (real === null) return; // not there yet: each file is checked when it is opened
  const realRoots = roots.map(realpathOrNull).filter((r): r is string => r !== null);
  if (realRoots.length > 0 && !realRoots.some((r) => isUnder(real, r))) bad(where, `paths whose directory does not lead outside the roots through a symlink (${dir} is ${real})`, glob);
}

/** A bearer token's text, checked before it is hashed. */
export function checkToken(where: string, token: unknown): string {
  if (typeof token === 'string' && TOKEN.test(token)) return token;
  // The message never shows the token: it is a secret, and this line may end up in a log.
  const got = typeof token !== 'string' ? (token === null ? 'null' : typeof token) : token.length < 16 || token.length > 4096 ? `${token.length} characters` : 'a character outside that set';
  throw createError(ErrorCodes.INVALID_OPTION, `${where} must be a token of 16 to 4096 characters A-Z a-z 0-9 - . _ ~ + / (and = at the end); got ${got}`);
}

function resolveTokens(tokens: unknown, names: Set<string>): ResolvedToken[] {
  if (tokens === undefined) return [];
  if (!Array.isArray(tokens)) bad('tokens', 'an array of {"token","sources"}', tokens);
  const seen = new Set<string>();
  return (tokens as unknown[]).map((t, i) => {
    const at = `tokens[${i}]`;
    if (t === null || typeof t !== 'object' || Array.isArray(t)) bad(at, 'an object {"token","sources"}', t);
    const { token, sources, ...rest } = t as Record<string, unknown>;
    for (const k of Object.keys(rest)) bad(`${at}.${k}`, 'one of the known settings (token, sources)', 'an unknown setting');
    const text = checkToken(`${at}.token`, token);
    if (seen.has(text)) bad(`${at}.token`, 'different from the other tokens', 'a repeated token');
    seen.add(text);
    if (sources !== '*' && (!Array.isArray(sources) || sources.length === 0 || sources.some((s) => typeof s !== 'string'))) bad(`${at}.sources`, '"*" or a non-empty array of source names', sources);
    if (Array.isArray(sources)) for (const s of sources as string[]) if (!names.has(s)) bad(`${at}.sources`, `names of configured sources (${[...names].join(', ')})`, s);
    return { digest: tokenDigest(text), sources: sources === '*' ? null : [...new Set(sources as string[])] };
  });
}

function resolveOrigins(origins: unknown): string[] {
  if (origins === undefined) return [];
  if (!Array.isArray(origins)) bad('origins', 'an array of origins like "https://logs.example.com:8443"', origins);
  return (origins as unknown[]).map((o, i) => {
    const url = typeof o === 'string' && URL.canParse(o) ? new URL(o) : null;
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin.toLowerCase() !== (o as string).replace(/\/$/, '').toLowerCase()) {
      bad(`origins[${i}]`, 'an origin: http:// or https://, a host and an optional port, nothing after', o);
    }
    return url.origin;
  });
}

function resolveTls(tls: unknown): { cert: string; key: string } | null {
  if (tls === undefined) return null;
  if (tls === null || typeof tls !== 'object' || Array.isArray(tls)) bad('tls', 'an object {"cert","key"} of PEM file paths', tls);
  const { cert, key, ...rest } = tls as Record<string, unknown>;
  for (const k of Object.keys(rest)) bad(`tls.${k}`, 'one of the known settings (cert, key)', 'an unknown setting');
  if (typeof cert !== 'string' || cert === '') bad('tls.cert', 'the path of a PEM certificate file', cert);
  if (typeof key !== 'string' || key === '') bad('tls.key', 'the path of a PEM private key file', key);
  return { cert: resolve(cert as string), key: resolve(key as string) };
}

function defaultWarn(message: string): void {
  process.stderr.write(`logwire: warning: ${message}\n`);
}

export function resolveService(options: ServiceOptions): ResolvedService {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) bad('service options', 'an object', options);
  for (const k of Object.keys(options)) if (!SERVICE_KEYS.has(k)) bad(k, `one of the known settings (${[...SERVICE_KEYS].join(', ')})`, 'an unknown setting');
  const host = options.host ?? SERVICE_DEFAULTS.host;
  if (typeof host !== 'string' || host === '') bad('host', 'a host name or address', host);
  if (!Array.isArray(options.sources) || options.sources.length === 0) bad('sources', 'a non-empty array of sources', options.sources);
  const sources = options.sources.map(resolveSource);
  const names = new Set<string>();
  for (const s of sources) {
    if (names.has(s.name)) bad('sources', 'sources with different names', s.name);
    names.add(s.name);
  }
  if (options.perMessageDeflate !== undefined && typeof options.perMessageDeflate !== 'boolean') bad('perMessageDeflate', 'true or false', options.perMessageDeflate);
  if (options.warn !== undefined && typeof options.warn !== 'function') bad('warn', 'a function', options.warn);
  const messageRate = int('messageRate', options.messageRate, 1, 1_000_000, SERVICE_DEFAULTS.messageRate);
  return {
    host,
    port: int('port', options.port, 0, 65535, SERVICE_DEFAULTS.port),
    sources,
    batchBytes: int('batchBytes', options.batchBytes, 1024, 64 << 20, SERVICE_DEFAULTS.batchBytes),
    batchDelayMs: int('batchDelayMs', options.batchDelayMs, 0, 60_000, SERVICE_DEFAULTS.batchDelayMs),
    queueBytes: int('queueBytes', options.queueBytes, 4096, 1 << 30, SERVICE_DEFAULTS.queueBytes),
    partialFlushMs: int('partialFlushMs', options.partialFlushMs, 1, 3_600_000, SERVICE_DEFAULTS.partialFlushMs),
    pollMs: int('pollMs', options.pollMs, 10, 60_000, SERVICE_DEFAULTS.pollMs),
    pingMs: int('pingMs', options.pingMs, 50, 3_600_000, SERVICE_DEFAULTS.pingMs),
    rotateWaitMs: int('rotateWaitMs', options.rotateWaitMs, 0, 3_600_000, SERVICE_DEFAULTS.rotateWaitMs),
    checkpoint: options.checkpoint === undefined ? null : typeof options.checkpoint === 'string' && options.checkpoint !== '' ? resolve(options.checkpoint) : bad('checkpoint', 'the path of a checkpoint file', options.checkpoint),
    checkpointMs: int('checkpointMs', options.checkpointMs, 1, 60_000, SERVICE_DEFAULTS.checkpointMs),
    workers: int('workers', options.workers, 1, 256, availableParallelism()),
    tokens: resolveTokens(options.tokens, names),
    origins: resolveOrigins(options.origins),
    tls: resolveTls(options.tls),
    maxConnections: int('maxConnections', options.maxConnections, 1, 65_536, SERVICE_DEFAULTS.maxConnections),
    maxSubscriptions: int('maxSubscriptions', options.maxSubscriptions, 1, 4096, SERVICE_DEFAULTS.maxSubscriptions),
    messageRate,
    // A burst below the rate would refuse a steady client that keeps to the rate.
    messageBurst: int('messageBurst', options.messageBurst, 1, 1_000_000, Math.max(SERVICE_DEFAULTS.messageBurst, messageRate)),
    perMessageDeflate: options.perMessageDeflate ?? false,
    warn: options.warn ?? defaultWarn,
  };
}

/** A setting of a --source flag, and its value. */
const SOURCE_SETTING = /^(format|tz|policy|root|multiline)=(.*)$/s;

/**
 * `NAME=GLOB[,GLOB…][,format=F][,tz=Z][,policy=P][,root=DIR…][,multiline=RULE]` from a --source flag.
 * Patterns hold commas (`%S,%f`, `%{n:nil,int}`): in `format=pattern:…` and `multiline=pattern:…` a
 * comma belongs to the pattern unless another setting (`tz=`, `root=`, …) follows it.
 */
export function parseSourceFlag(spec: string): SourceConfig {
  const eq = spec.indexOf('=');
  if (eq <= 0) throw createError(ErrorCodes.USAGE, `--source must be NAME=GLOB[,format=F,tz=Z,policy=P,root=DIR,multiline=RULE]; got ${JSON.stringify(spec)}`);
  const src: SourceConfig = { name: spec.slice(0, eq), globs: [] };
  const parts = spec.slice(eq + 1).split(',');
  for (let i = 0; i < parts.length; i++) {
    let part = parts[i];
    if (/^(format|multiline)=pattern:/.test(part)) while (i + 1 < parts.length && !SOURCE_SETTING.test(parts[i + 1])) part += `,${parts[++i]}`;
    const m = SOURCE_SETTING.exec(part);
    if (m?.[1] === 'root') (src.roots ??= []).push(m[2]);
    else if (m) (src as unknown as Record<string, string>)[m[1]] = m[2];
    else if (part !== '') src.globs.push(part);
  }
  return src;
}

/** A file's text; errors name the file (and the setting that named it). */
export function readText(path: string, setting?: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw createError(ErrorCodes.IO, `${setting ? `${setting} ` : ''}${path}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
}

/** `TOKEN[:SOURCE,SOURCE…]` from a --token flag or a line of a --token-file (no sources: every source). */
export function parseTokenFlag(spec: string, where = '--token'): TokenConfig {
  const colon = spec.indexOf(':');
  const token = colon < 0 ? spec : spec.slice(0, colon);
  try {
    checkToken(where, token);
  } catch (err) {
    throw createError(ErrorCodes.USAGE, (err as Error).message);
  }
  if (colon < 0) return { token, sources: '*' };
  const sources = spec.slice(colon + 1).split(',').filter((s) => s !== '');
  if (sources.length === 0) throw createError(ErrorCodes.USAGE, `${where} must be TOKEN or TOKEN:SOURCE[,SOURCE…]; got no source after ":"`);
  return { token, sources: sources.includes('*') ? '*' : sources };
}

/** A --token-file: one `TOKEN[:SOURCE,…]` a line; blank lines and lines starting with # are skipped. */
export function loadTokenFile(path: string): TokenConfig[] {
  return readText(path).split('\n').map((l, i) => [l.trim(), i + 1] as const).filter(([l]) => l !== '' && !l.startsWith('#')).map(([l, n]) => parseTokenFlag(l, `${path}:${n}`));
}

/** Read a JSON config file; errors name the file. */
export function loadConfigFile(path: string): ServiceOptions {
  const text = readText(path);
  try {
    return JSON.parse(text) as ServiceOptions;
  } catch (err) {
    throw createError(ErrorCodes.INVALID_OPTION, `${path}: not valid JSON (${(err as Error).message})`);
  }
}
