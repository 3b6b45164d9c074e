// logwire's core through runCore: split, crc, parse or ndjson over one file, at N workers,
// with mmap or pread (the classic, logfmt, json and 2 GiB RSS rows of the table).

import { loadHooks } from '../hooks.js';

export function setup() {
  return loadHooks();
}

export async function run({ file, mode, workers, io, format, multiline }, hooks) {
  const r = await hooks.runCore(file, { mode, workers, io, format, multiline });
  // r.io, if runCore says which io it used, lets the runner catch a silent fallback.
  return { bytes: r.bytes, records: r.records, lines: r.lines, io: r.io };
}
