// CRC32C alone over an in-memory buffer inside wasm; crc32cThroughput does its own
// timing, and its GB/s is reported as returned.

import { loadHooks } from '../hooks.js';

export function setup() {
  return loadHooks();
}

export function run({ bytes }, hooks) {
  const { gbPerSec, crc } = hooks.crc32cThroughput(bytes);
  if (!(gbPerSec > 0)) throw new Error(`crc32cThroughput returned gbPerSec ${gbPerSec}`);
  // As seconds for the given bytes, so the runner's "fastest rep" and MB/s apply unchanged.
  return { bytes, seconds: bytes / (gbPerSec * 1e9), gbPerSec, crc };
}
