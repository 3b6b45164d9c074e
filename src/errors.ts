// One error taxonomy for logwire: every error a user can see has a stable
// LOGWIRE_ERR_* code (documented in README.md, "Errors").

export const ErrorCodes = {
  /** An option has a wrong type or value. */
  INVALID_OPTION: 'LOGWIRE_ERR_INVALID_OPTION',
  /** A command-line argument is wrong or missing. */
  USAGE: 'LOGWIRE_ERR_USAGE',
  /** A file could not be opened, read or mapped. */
  IO: 'LOGWIRE_ERR_IO',
  /** The WASM core stopped on an internal assertion (a bug: please report). */
  WASM_ABORT: 'LOGWIRE_ERR_WASM_ABORT',
  /** The WASM core could not be loaded. */
  WASM_LOAD: 'LOGWIRE_ERR_WASM_LOAD',
  /** A worker thread failed. */
  WORKER: 'LOGWIRE_ERR_WORKER',
  /** A logwire service refused or failed a request (logwire tail). */
  SERVICE: 'LOGWIRE_ERR_SERVICE',
  /** The operation was aborted through its AbortSignal. */
  ABORTED: 'LOGWIRE_ERR_ABORTED',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export class LogwireError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LogwireError';
    this.code = code;
  }
}

export function createError(code: ErrorCode, message: string, cause?: unknown): LogwireError {
  return new LogwireError(code, message, cause === undefined ? undefined : { cause });
}

/** What a parse throws when its AbortSignal fires. */
export function abortedError(): LogwireError {
  return createError(ErrorCodes.ABORTED, 'parse aborted');
}

/** Turn a Node fs error into a one-line LogwireError naming the path. */
export function ioError(path: string, err: unknown): LogwireError {
  const e = err as NodeJS.ErrnoException;
  const why =
    e?.code === 'ENOENT' ? 'no such file' :
    e?.code === 'EACCES' ? 'permission denied' :
    e?.code === 'EISDIR' ? 'is a directory' :
    e?.message ?? String(err);
  return createError(ErrorCodes.IO, `${path}: ${why}`, err);
}

/** A value a user gave, as an error message shows it: strings quoted, a plain object as short JSON. */
export function describeValue(got: unknown): string {
  if (typeof got === 'string') return JSON.stringify(got);
  if (typeof got === 'bigint') return `${got}n (a BigInt)`;
  if (Array.isArray(got)) return 'an array';
  if (typeof got !== 'object' || got === null) return String(got);
  const name = (got.constructor as { name?: string } | undefined)?.name;
  if (name && name !== 'Object') return `an instance of ${name}`;
  let json: string | undefined;
  try {
    json = JSON.stringify(got);
  } catch {
    // cyclic, or a BigInt inside
  }
  return json !== undefined && json.length <= 60 ? json : 'an object';
}
