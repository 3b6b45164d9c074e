// Options of the library and the CLI: defaults in one place, checked once,
// with messages that name the option and what it must be.
import { availableParallelism } from 'node:os';
import { createError, describeValue, ErrorCodes } from './errors.js';
import { parseZone, type Zone } from './tz.js';
import { compilePattern } from './pattern.js';

/** A format the core runs: a built-in one or a pattern (`pattern:…`, see src/pattern.ts). */
export type ConcreteFormat = 'classic' | 'logfmt' | 'json' | 'clf' | 'combined' | 'apache_error' | 'syslog' | `pattern:${string}`;
export type Format = 'auto' | ConcreteFormat;
export type IoMode = 'mmap' | 'pread';

export interface ParseOptions {
  /** Line format; 'auto' picks one from the first lines (default 'auto'); a pattern as `pattern:…` or `{ pattern }`. */
  format?: Format | { pattern: string };
  /** Zone for timestamps without an offset: 'UTC', '+05:30' or an IANA name (default 'UTC'). */
  tz?: string;
  /** Worker threads for files (default: one per core). */
  workers?: number;
  /** How file bytes reach the parser: 'mmap' (default where the addon loaded) or 'pread'. */
  io?: IoMode;
  /** Longest line parsed in full; longer lines are records with truncated: true (default 1 MiB). */
  maxRecordBytes?: number;
  /** Add `levelRaw`, the level as written, to every record (default false). */
  levelRaw?: boolean;
  /** Name written in each record's `file` (default: the path as given; '-' for streams). */
  fileName?: string;
  /** Stops the parse; the iterator then throws LOGWIRE_ERR_ABORTED. */
  signal?: AbortSignal;
  /** Join continuation lines into the record before them (default: off); see docs/records.md. */
  multiline?: MultilineStart | MultilineOptions;
}

/**
 * What starts a record: 'indent' (lines starting with a space or tab, or
 * "Caused by:", continue one), 'timestamp' (lines not starting with a
 * timestamp continue one) or a pattern its first line matches.
 */
export type MultilineStart = 'indent' | 'timestamp' | `pattern:${string}` | { pattern: string };

export interface MultilineOptions {
  start: MultilineStart;
  /** Lines kept in a record's text; the rest still count in its len and crc (default 500). */
  maxLines?: number;
  /** Bytes kept in a record's text, at most maxRecordBytes (default: maxRecordBytes). */
  maxBytes?: number;
}

export interface Multiline {
  start: 'indent' | 'timestamp' | `pattern:${string}`;
  maxLines: number;
  maxBytes: number;
}

export const DEFAULTS = {
  format: 'auto' as Format,
  tz: 'UTC',
  maxRecordBytes: 1 << 20,
  levelRaw: false,
  multilineMaxLines: 500,
  /** File bytes handed to one worker at a time. */
  chunkBytes: 4 << 20,
  /** Bytes mapped (or read) into wasm memory at once. */
  windowBytes: 4 << 20,
  /** NDJSON a worker may have handed out and not yet seen consumed. */
  inflightBytes: 16 << 20,
};

export interface ResolvedOptions {
  format: Format;
  zone: Zone;
  workers: number;
  io: IoMode | undefined;
  maxRecordBytes: number;
  levelRaw: boolean;
  fileName: string | undefined;
  signal: AbortSignal | undefined;
  multiline: Multiline | null;
}

const KNOWN = new Set(['format', 'tz', 'workers', 'io', 'maxRecordBytes', 'levelRaw', 'fileName', 'signal', 'multiline']);
const FORMATS: readonly Format[] = ['auto', 'classic', 'logfmt', 'json', 'clf', 'combined', 'apache_error', 'syslog'];

function bad(name: string, must: string, got: unknown): never {
  throw createError(ErrorCodes.INVALID_OPTION, `option "${name}" must be ${must}; got ${describeValue(got)}`);
}

/** A format option as the core takes it; a pattern is compiled here so its errors come early. */
export function resolveFormat(f: unknown, bad: (must: string, got: unknown) => never): Format {
  const isObject = f !== null && typeof f === 'object' && !Array.isArray(f);
  if (isObject && (typeof (f as { pattern?: unknown }).pattern !== 'string' || Object.keys(f).some((k) => k !== 'pattern'))) {
    bad('{ pattern: string } with no other key, when it is an object', f);
  }
  const text = isObject ? `pattern:${(f as { pattern: string }).pattern}` : f;
  if (typeof text === 'string' && text.startsWith('pattern:')) {
    compilePattern(text.slice(8));
    return text as Format;
  }
  if (!FORMATS.includes(text as Format)) bad(`one of ${FORMATS.join(', ')}, "pattern:…" or { pattern }`, f);
  return text as Format;
}

/** The multiline option, checked; `maxRecordBytes` bounds its maxBytes. */
export function resolveMultiline(m: unknown, maxRecordBytes: number, name = 'multiline'): Multiline | null {
  if (m === undefined || m === false) return null;
  const spec = typeof m === 'string' || (m !== null && typeof m === 'object' && 'pattern' in m) ? { start: m } : m;
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
    bad(name, '"indent", "timestamp", "pattern:…", { pattern } or { start, maxLines?, maxBytes? }', m);
  }
  const { start, maxLines, maxBytes, ...rest } = spec as { start?: unknown; maxLines?: unknown; maxBytes?: unknown };
  const extra = Object.keys(rest);
  if (extra.length) bad(`${name}.${extra[0]}`, 'one of start, maxLines, maxBytes', 'an unknown option');
  let text: unknown = start;
  if (start !== null && typeof start === 'object' && !Array.isArray(start) && typeof (start as { pattern?: unknown }).pattern === 'string') text = `pattern:${(start as { pattern: string }).pattern}`;
  if (typeof text === 'string' && text.startsWith('pattern:')) {
    try {
      compilePattern(text.slice(8));
    } catch (err) {
      throw createError(ErrorCodes.INVALID_OPTION, (err as Error).message.replace('option "format"', `option "${name}"`));
    }
  } else if (text !== 'indent' && text !== 'timestamp') {
    bad(`${name}.start`, '"indent", "timestamp", "pattern:…" or { pattern }', start);
  }
  const lines = maxLines ?? DEFAULTS.multilineMaxLines;
  if (!Number.isInteger(lines) || (lines as number) < 1 || (lines as number) > 1_000_000) bad(`${name}.maxLines`, 'an integer from 1 to 1000000', lines);
  const bytes = maxBytes ?? maxRecordBytes;
  if (!Number.isInteger(bytes) || (bytes as number) < 64 || (bytes as number) > maxRecordBytes) {
    bad(`${name}.maxBytes`, `an integer from 64 to maxRecordBytes (${maxRecordBytes})`, bytes);
  }
  return { start: text as Multiline['start'], maxLines: lines as number, maxBytes: bytes as number };
}

export function resolveOptions(options: ParseOptions = {}): ResolvedOptions {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) bad('options', 'an object', options);
  for (const [key, value] of Object.entries(options)) {
    if (!KNOWN.has(key)) bad(key, `one of the known options (${[...KNOWN].join(', ')})`, 'an unknown option');
    // undefined means "the default"; null is a mistake, for every option alike.
    if (value === null) bad(key, 'left out or undefined for the default, not null', null);
  }
  const format = resolveFormat(options.format ?? DEFAULTS.format, (must, got) => bad('format', must, got));
  const zone = parseZone(options.tz ?? DEFAULTS.tz);
  const workers = options.workers ?? availableParallelism();
  if (!Number.isInteger(workers) || workers < 1 || workers > 256) bad('workers', 'an integer from 1 to 256', workers);
  const io = options.io;
  if (io !== undefined && io !== 'mmap' && io !== 'pread') bad('io', '"mmap" or "pread"', io);
  const maxRecordBytes = options.maxRecordBytes ?? DEFAULTS.maxRecordBytes;
  if (!Number.isInteger(maxRecordBytes) || maxRecordBytes < 64 || maxRecordBytes > 64 << 20) {
    bad('maxRecordBytes', 'an integer from 64 to 67108864 (64 MiB)', maxRecordBytes);
  }
  const levelRaw = options.levelRaw ?? DEFAULTS.levelRaw;
  if (typeof levelRaw !== 'boolean') bad('levelRaw', 'a boolean', levelRaw);
  const fileName = options.fileName;
  if (fileName !== undefined && typeof fileName !== 'string') bad('fileName', 'a string', fileName);
  const signal = options.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) bad('signal', 'an AbortSignal', signal);
  const multiline = resolveMultiline(options.multiline, maxRecordBytes);
  return { format, zone, workers, io, maxRecordBytes, levelRaw, fileName, signal, multiline };
}
