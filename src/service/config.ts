// The service's configuration: sources and knobs, defaults in one place,
// checked once (config file, --source flags or the library call) with
// messages that name the setting and what it must be.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { createError, ErrorCodes } from '../errors.js';
import type { Format } from '../options.js';
import { parseZone, type Zone } from '../tz.js';

export type Policy = 'block' | 'drop' | 'disconnect';

export interface SourceConfig {
  name: string;
  /** Paths; `*`, `?` and `[…]` may appear in the last path component only. */
  globs: string[];
  format?: Format;
  tz?: string;
  /** What a live subscriber that cannot keep up gets (default 'block'). */
  policy?: Policy;
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
  /** Worker threads for catching up on large backlogs. */
  workers?: number;
}

export const SERVICE_DEFAULTS = {
  host: '127.0.0.1',
  port: 7070,
  batchBytes: 256 << 10,
  batchDelayMs: 0,
  queueBytes: 4 << 20,
  partialFlushMs: 1000,
  pollMs: 250,
  pingMs: 30_000,
};

export interface ResolvedSource {
  name: string;
  globs: string[];
  format: Format;
  zone: Zone;
  policy: Policy;
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
  workers: number;
}

const FORMATS: readonly Format[] = ['auto', 'classic', 'logfmt', 'json'];
const POLICIES: readonly Policy[] = ['block', 'drop', 'disconnect'];
const SERVICE_KEYS = new Set(['host', 'port', 'sources', 'batchBytes', 'batchDelayMs', 'queueBytes', 'partialFlushMs', 'pollMs', 'pingMs', 'workers']);
const SOURCE_KEYS = new Set(['name', 'globs', 'format', 'tz', 'policy']);

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
  const format = (src.format ?? 'auto') as Format;
  if (!FORMATS.includes(format)) bad(`${at}.format`, `one of ${FORMATS.join(', ')}`, src.format);
  if (src.tz !== undefined && typeof src.tz !== 'string') bad(`${at}.tz`, 'a zone name', src.tz);
  let zone: Zone;
  try {
    zone = parseZone((src.tz as string | undefined) ?? 'UTC');
  } catch (err) {
    throw createError(ErrorCodes.INVALID_OPTION, `${at}.tz: ${(err as Error).message}`);
  }
  const policy = (src.policy ?? 'block') as Policy;
  if (!POLICIES.includes(policy)) bad(`${at}.policy`, `one of ${POLICIES.join(', ')}`, src.policy);
  return { name: src.name, globs: (globs as string[]).map((g) => (isAbsolute(g) ? g : resolve(g))), format, zone, policy };
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
    workers: int('workers', options.workers, 1, 256, availableParallelism()),
  };
}

/** `NAME=GLOB[,GLOB…][,format=F][,tz=Z][,policy=P]` from a --source flag. */
export function parseSourceFlag(spec: string): SourceConfig {
  const eq = spec.indexOf('=');
  if (eq <= 0) throw createError(ErrorCodes.USAGE, `--source must be NAME=GLOB[,format=F,tz=Z,policy=P]; got ${JSON.stringify(spec)}`);
  const src: SourceConfig = { name: spec.slice(0, eq), globs: [] };
  for (const part of spec.slice(eq + 1).split(',')) {
    const m = /^(format|tz|policy)=(.*)$/.exec(part);
    if (m) (src as unknown as Record<string, string>)[m[1]] = m[2];
    else if (part !== '') src.globs.push(part);
  }
  return src;
}

/** Read a JSON config file; errors name the file. */
export function loadConfigFile(path: string): ServiceOptions {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw createError(ErrorCodes.IO, `${path}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  try {
    return JSON.parse(text) as ServiceOptions;
  } catch (err) {
    throw createError(ErrorCodes.INVALID_OPTION, `${path}: not valid JSON (${(err as Error).message})`);
  }
}
