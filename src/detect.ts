// The "auto" rule (docs/records.md): a built-in pattern format (access logs,
// Apache errors, syslog) when every sampled line matches it, else the core's
// classic / logfmt / json detection.
import { StreamFeeder } from './engine.js';
import type { ConcreteFormat } from './options.js';
import type { WasmCore } from './wasm/bridge.js';

/** Tried in this order: a combined line is also a clf line (its tail would be the size). */
const PATTERN_FORMATS = ['combined', 'clf', 'apache_error', 'syslog'] as const;
const SAMPLE_LINES = 20;

export function detectFormat(core: WasmCore, sample: Uint8Array, whole: boolean): ConcreteFormat {
  const base = core.detect(sample, whole);
  // Up to 20 whole non-empty lines (the last one only if the sample is the whole input).
  const lines: Uint8Array[] = [];
  let start = 0;
  while (lines.length < SAMPLE_LINES && start < sample.length) {
    let end = sample.indexOf(10, start);
    if (end < 0) {
      if (!whole) break;
      end = sample.length;
    }
    let e = end;
    if (e > start && sample[e - 1] === 13) e--;
    if (e > start) lines.push(sample.subarray(start, e));
    start = end + 1;
  }
  if (lines.length === 0) return base;
  const text = Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')]));
  for (const format of PATTERN_FORMATS) {
    core.configure(format, 'ndjson', '');
    let misses = 0;
    for (const out of new StreamFeeder(core).push(text, true)) {
      for (let i = out.ndjson.indexOf('"error":"no match"'); i >= 0; i = out.ndjson.indexOf('"error":"no match"', i + 1)) misses++;
    }
    if (misses === 0) return format;
  }
  return base;
}
