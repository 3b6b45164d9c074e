// Entry points for bench/ only (not part of the public API): run the core in
// one of its modes over a file, count its lines, and time CRC32C alone.
import type { ConcreteFormat, MultilineStart } from '../options.js';
import { parseFile } from '../index.js';
import { WasmCore, type Mode } from '../wasm/bridge.js';
import type { IoMode } from '../io/window.js';

export { countLines } from './count-lines.js';

export interface CoreRunResult {
  bytes: number;
  records: number;
  lines: number;
  io: IoMode | 'stream';
}

/**
 * Parse `path` in `mode` (split | crc | parse | ndjson). ndjson hands every
 * batch to this thread, which drops it after touching its length.
 */
export async function runCore(path: string, opts: { mode: Mode; workers: number; io: IoMode; format?: ConcreteFormat; multiline?: MultilineStart }): Promise<CoreRunResult> {
  const run = parseFile(path, { workers: opts.workers, io: opts.io, format: opts.format ?? 'auto', multiline: opts.multiline }, { mode: opts.mode });
  let outBytes = 0;
  for await (const batch of run) outBytes += batch.ndjson.length;
  if (opts.mode === 'ndjson' && outBytes === 0 && run.stats.records > 0) throw new Error('ndjson mode produced no output');
  return { bytes: run.stats.bytes, records: run.stats.records, lines: run.stats.lines, io: run.stats.io };
}

/** CRC32C alone over `bytes` of pseudo-random data in wasm memory; best of 5 passes. */
export function crc32cThroughput(bytes: number): { gbPerSec: number; crc: number } {
  const core = new WasmCore({ inputBytes: bytes, maxRecordBytes: 1 << 16 });
  const view = core.bytes;
  let x = 0x9e3779b9;
  for (let i = 0; i < bytes; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    view[core.inputPtr + i] = x & 0xff;
  }
  let best = Infinity;
  let crc = 0;
  for (let rep = 0; rep < 5; rep++) {
    const t0 = performance.now();
    crc = core.exports.crc32c(core.inputPtr, bytes, 0) >>> 0;
    best = Math.min(best, performance.now() - t0);
  }
  return { gbPerSec: bytes / best / 1e6, crc };
}
