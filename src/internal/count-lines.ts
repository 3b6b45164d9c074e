// For bench/ only: the pool's SIMD LF count over a whole file, with no more
// imports than a pool worker has (a worker that loads it starts like one).
import { closeSync, fstatSync, openSync } from 'node:fs';
import { countChunkLines } from '../engine.js';
import { WasmCore } from '../wasm/bridge.js';
import { resolveIo, type IoMode } from '../io/window.js';
import { DEFAULTS } from '../options.js';

/**
 * The pool's SIMD LF count (its line-numbering pre-pass) over the whole file on
 * the calling thread: mapping or reading windows and counting, nothing else.
 */
export function countLines(path: string, io: IoMode): { bytes: number; lines: number; io: IoMode } {
  const used = resolveIo(io);
  const core = new WasmCore({ inputBytes: DEFAULTS.windowBytes, maxRecordBytes: 1 << 16 });
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const r = countChunkLines(core, fd, used, DEFAULTS.windowBytes, 0, size);
    return { bytes: r.shrunkTo ?? size, lines: r.newlines, io: used };
  } finally {
    closeSync(fd);
  }
}
