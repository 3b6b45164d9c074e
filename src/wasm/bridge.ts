// The one module that talks to the WASM core: loads the SIMD build (or the
// scalar one where SIMD is missing), lays out its memory, keeps views fresh
// after memory.grow and turns AssemblyScript aborts into LogwireErrors.
import { readFileSync } from 'node:fs';
import { createError, ErrorCodes } from '../errors.js';
import type { ConcreteFormat, Multiline } from '../options.js';
import { BUILTIN_PATTERNS, compilePattern, type BuiltinPattern } from '../pattern.js';
import { offsetForLocal, type Zone } from '../tz.js';

/** What the host needs from the core; test/wasm-contract.test.ts checks both builds export it. */
export interface CoreExports {
  memory: WebAssembly.Memory;
  init(inputBytes: number, maxRecordBytes: number, outputBytes: number): void;
  inputPtr(): number;
  inputSize(): number;
  outputPtr(): number;
  outputSize(): number;
  prefixPtr(): number;
  prefixSize(): number;
  configure(format: number, mode: number, flags: number, prefixBytes: number): void;
  setZone(fixed: number, offsetSeconds: number): void;
  begin(offset: number, line: number, end: number, skip: number): void;
  feed(ptr: number, len: number, last: number): number;
  consumedBytes(): number;
  outputLength(): number;
  resetOutput(): void;
  setOutputLimit(bytes: number): void;
  recordCount(): number;
  newlineCount(): number;
  position(): number;
  nextLine(): number;
  committedOffset(): number;
  heldOffset(): number;
  heldLine(): number;
  isDone(): number;
  chunkCrc(): number;
  chunkLength(): number;
  countLines(ptr: number, len: number): number;
  crc32c(ptr: number, len: number, previous: number): number;
  detect(ptr: number, len: number, whole: number): number;
  patternPtr(): number;
  patternSize(): number;
  setClock(year: number, nowSeconds: number): void;
  startPatternPtr(): number;
  setMultiline(mode: number, maxLines: number, maxBytes: number, program: number): void;
}

export const CORE_EXPORTS: readonly (keyof CoreExports)[] = [
  'memory', 'init', 'inputPtr', 'inputSize', 'outputPtr', 'outputSize', 'prefixPtr', 'prefixSize',
  'configure', 'setZone', 'begin', 'feed', 'consumedBytes', 'outputLength', 'resetOutput', 'setOutputLimit', 'recordCount',
  'newlineCount', 'position', 'nextLine', 'committedOffset', 'heldOffset', 'heldLine', 'isDone', 'chunkCrc', 'chunkLength',
  'countLines', 'crc32c', 'detect', 'patternPtr', 'patternSize', 'setClock', 'startPatternPtr', 'setMultiline',
];

export const Mode = { split: 0, crc: 1, parse: 2, ndjson: 3 } as const;
export type Mode = keyof typeof Mode;
export const Status = { needInput: 0, outputFull: 1, done: 2 } as const;
/** begin()'s skip flags: a partial line, and (multiline) the continuation lines after it. */
export const Skip = { partial: 1, continuation: 2 } as const;
const MULTILINE_IDS = { indent: 1, timestamp: 2, pattern: 3 } as const;
const FORMAT_IDS: Record<'classic' | 'logfmt' | 'json', number> = { classic: 0, logfmt: 1, json: 2 };
const FORMAT_PATTERN = 3;
const FORMAT_NAMES = ['classic', 'logfmt', 'json'] as const;

export type Flavor = 'simd' | 'scalar';
const modules = new Map<Flavor, WebAssembly.Module>();

function wasmPath(flavor: Flavor): URL {
  // Compiled to build/js/src/wasm/bridge.js; the core is in build/wasm/.
  return new URL(`../../../wasm/logwire.${flavor}.wasm`, import.meta.url);
}

/** The build to use: LOGWIRE_WASM=scalar|simd forces one; otherwise SIMD where it validates. */
export function pickFlavor(requested?: Flavor): Flavor {
  const forced = requested ?? (process.env.LOGWIRE_WASM as Flavor | undefined);
  if (forced === 'scalar' || forced === 'simd') return forced;
  return WebAssembly.validate(loadBytes('simd')) ? 'simd' : 'scalar';
}

function loadBytes(flavor: Flavor): Uint8Array<ArrayBuffer> {
  try {
    return new Uint8Array(readFileSync(wasmPath(flavor)));
  } catch (err) {
    throw createError(ErrorCodes.WASM_LOAD, `cannot read the ${flavor} WASM core (${wasmPath(flavor).pathname}): run "npm install" to build it`, err);
  }
}

export function compiledModule(flavor: Flavor): WebAssembly.Module {
  let m = modules.get(flavor);
  if (!m) {
    m = new WebAssembly.Module(loadBytes(flavor));
    modules.set(flavor, m);
  }
  return m;
}

export interface CoreLayout {
  /** Bytes of the reserved input region (mapped windows land here). */
  inputBytes: number;
  maxRecordBytes: number;
}

/** Output capacity so that one record of maxRecordBytes always fits (see room() in assembly/index.ts). */
export function outputBytesFor(maxRecordBytes: number): number {
  return Math.max(8 << 20, maxRecordBytes * 14 + (2 << 20));
}

export class WasmCore {
  readonly flavor: Flavor;
  readonly exports: CoreExports;
  readonly inputPtr: number;
  readonly inputSize: number;
  readonly outputPtr: number;
  private buffer: ArrayBuffer;
  private view: Uint8Array;
  private zoneName: string | undefined;

  constructor(layout: CoreLayout, flavor?: Flavor) {
    this.flavor = pickFlavor(flavor);
    const self = this;
    const imports = {
      env: {
        abort(msg: number, file: number, line: number, col: number): never {
          throw createError(ErrorCodes.WASM_ABORT, `WASM core aborted: ${self.readString(msg) || 'assertion failed'} at ${self.readString(file)}:${line}:${col}`);
        },
        zoneOffset(local: number): number {
          return self.zoneName === undefined ? 0 : offsetForLocal(self.zoneName, local);
        },
      },
    };
    const instance = new WebAssembly.Instance(compiledModule(this.flavor), imports);
    this.exports = instance.exports as unknown as CoreExports;
    this.exports.init(layout.inputBytes, layout.maxRecordBytes, outputBytesFor(layout.maxRecordBytes));
    this.inputPtr = this.exports.inputPtr();
    this.inputSize = this.exports.inputSize();
    this.outputPtr = this.exports.outputPtr();
    this.buffer = this.exports.memory.buffer;
    this.view = new Uint8Array(this.buffer);
  }

  /** The current memory buffer (a new one after memory.grow). */
  get memoryBuffer(): ArrayBuffer {
    this.refresh();
    return this.buffer;
  }

  /** A byte view of all of wasm memory, refreshed after growth. */
  get bytes(): Uint8Array {
    this.refresh();
    return this.view;
  }

  private refresh(): void {
    if (this.exports.memory.buffer !== this.buffer) {
      this.buffer = this.exports.memory.buffer;
      this.view = new Uint8Array(this.buffer);
    }
  }

  /** AssemblyScript string (UTF-16, byte length at ptr - 4). */
  private readString(ptr: number): string {
    if (!ptr) return '';
    const bytes = this.bytes;
    const len = new DataView(bytes.buffer).getUint32(ptr - 4, true);
    let s = '';
    for (let i = 0; i < len; i += 2) s += String.fromCharCode(bytes[ptr + i] | (bytes[ptr + i + 1] << 8));
    return s;
  }

  setZone(zone: Zone): void {
    if (zone.kind === 'fixed') {
      this.zoneName = undefined;
      this.exports.setZone(1, zone.offsetSeconds);
    } else {
      this.zoneName = zone.name;
      this.exports.setZone(0, 0);
    }
  }

  /**
   * Choose format and mode; `file` is written into every record. `clock`
   * (ms since the epoch): the time a layout without a year (syslog) is read
   * against; a file's modification time, else now.
   */
  configure(format: ConcreteFormat, mode: Mode, file: string, opts: { levelRaw?: boolean; chunkCrc?: boolean; mapped?: boolean; multiline?: Multiline | null; clock?: number } = {}): void {
    // A lone surrogate would be written as a \udXXX escape, which strict decoders refuse.
    const wellFormed = file.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
    const prefix = Buffer.from(`{"file":${JSON.stringify(wellFormed)},"offset":`, 'utf8');
    if (prefix.length > this.exports.prefixSize()) {
      throw createError(ErrorCodes.INVALID_OPTION, `file name too long (${prefix.length} bytes)`);
    }
    this.bytes.set(prefix, this.exports.prefixPtr());
    const flags = (opts.levelRaw ? 1 : 0) | (opts.chunkCrc ? 2 : 0) | (opts.mapped ? 4 : 0);
    let id: number;
    const pattern = format.startsWith('pattern:') ? format.slice(8) : BUILTIN_PATTERNS[format as BuiltinPattern];
    if (pattern !== undefined) {
      this.loadPattern(pattern);
      // Layouts without a year (syslog): the year of the clock a day on (a local time in a zone east
      // of UTC may already be in the next year), or the one before for a time more than a day ahead of the clock.
      const now = opts.clock ?? Date.now();
      this.exports.setClock(new Date(now + 86_400_000).getUTCFullYear(), Math.floor(now / 1000));
      id = FORMAT_PATTERN;
    } else id = FORMAT_IDS[format as 'classic'];
    this.exports.configure(id, Mode[mode], flags, prefix.length);
    this.configureMultiline(opts.multiline ?? null, pattern !== undefined ? this.loadedPrefix : null);
  }

  private loadedStart: string | null = null;

  /**
   * Multiline: the start rule, and its program (a start pattern, or
   * `timestampPrefix`, the loaded format pattern's own timestamp, if it has one).
   */
  private configureMultiline(m: Multiline | null, timestampPrefix: string | null): void {
    if (!m) {
      this.exports.setMultiline(0, 0, 0, 0);
      return;
    }
    const kind = m.start.startsWith('pattern:') ? 'pattern' : (m.start as 'indent' | 'timestamp');
    const program = kind === 'pattern' ? m.start.slice(8) : kind === 'timestamp' ? timestampPrefix : null;
    if (program !== null && program !== this.loadedStart) {
      this.writeProgram(compilePattern(program), this.exports.startPatternPtr());
      this.loadedStart = program;
    }
    this.exports.setMultiline(MULTILINE_IDS[kind], m.maxLines, m.maxBytes, program !== null ? 1 : 0);
  }

  private writeProgram(p: ReturnType<typeof compilePattern>, at: number): void {
    this.bytes.set(new Uint8Array(p.ops.buffer, p.ops.byteOffset, p.ops.byteLength), at);
    this.bytes.set(p.blob, at + p.ops.byteLength);
  }

  private loadedPattern: string | null = null;
  private loadedPrefix: string | null = null;

  /** Compile a pattern into the core's program region (once per pattern text). */
  private loadPattern(text: string): void {
    if (this.loadedPattern === text) return;
    const compiled = compilePattern(text);
    this.writeProgram(compiled, this.exports.patternPtr());
    this.loadedPattern = text;
    this.loadedPrefix = compiled.timestampPrefix;
  }

  /**
   * Detect the format from the first bytes of an input (docs/records.md,
   * "auto"); `whole`: the sample is the entire input.
   */
  detect(sample: Uint8Array, whole: boolean): 'classic' | 'logfmt' | 'json' {
    const n = Math.min(sample.length, 65536);
    this.bytes.set(sample.subarray(0, n), this.inputPtr);
    return FORMAT_NAMES[this.exports.detect(this.inputPtr, n, whole && sample.length <= 65536 ? 1 : 0)];
  }

  /**
   * Copy the NDJSON written so far out of wasm memory and reset the buffer.
   * `into`: a spare ArrayBuffer to reuse when it is large enough.
   */
  takeOutput(into?: ArrayBuffer): Buffer {
    const n = this.exports.outputLength();
    // Its own ArrayBuffer (not Node's shared pool), so a worker can transfer it.
    const ab = into && into.byteLength >= n ? into : new ArrayBuffer(n);
    const out = Buffer.from(ab, 0, n);
    out.set(this.bytes.subarray(this.outputPtr, this.outputPtr + n));
    this.exports.resetOutput();
    return out;
  }

  /** CRC32C of bytes, through the core (continuing `previous`). */
  crc32c(data: Uint8Array, previous = 0): number {
    let crc = previous;
    for (let off = 0; off < data.length; off += this.inputSize) {
      const part = data.subarray(off, off + this.inputSize);
      this.bytes.set(part, this.inputPtr);
      crc = this.exports.crc32c(this.inputPtr, part.length, crc) >>> 0;
    }
    return crc >>> 0;
  }
}
