// The "auto" rule (docs/records.md): a built-in pattern format (access logs,
// Apache errors, syslog) when at least 90% of the sampled records match it,
// else the core's classic / logfmt / json detection.
import { StreamFeeder } from './engine.js';
import type { ConcreteFormat, Multiline } from './options.js';
import type { WasmCore } from './wasm/bridge.js';

/** Tried in this order: a combined line is also a clf line (its tail would be the size). */
const PATTERN_FORMATS = ['combined', 'clf', 'apache_error', 'syslog'] as const;
const SAMPLE_LINES = 20;
/** Lines count only if they end within this many first bytes (the core's rule: docs/records.md, "auto"). */
const SAMPLE_BYTES = 65536;
/** A built-in needs this share of the sample's records to match: a stray "-" request or "-- MARK --" line does not make a file classic. */
const MATCH_SHARE = 0.9;

/** `multiline`: the records to match are multiline records (a stack trace is part of the line before it). */
export function detectFormat(core: WasmCore, input: Uint8Array, whole: boolean, multiline: Multiline | null = null): ConcreteFormat {
  const base = core.detect(input, whole);
  // Up to 20 whole non-empty lines (the last one only if the sample is the whole input), as they are.
  const sample = input.subarray(0, SAMPLE_BYTES);
  if (input.length > SAMPLE_BYTES) whole = false;
  let lines = 0;
  let start = 0;
  let upTo = 0;
  while (lines < SAMPLE_LINES && start < sample.length) {
    let end = sample.indexOf(10, start);
    if (end < 0) {
      if (!whole) break;
      end = sample.length;
    }
    if (end > start && !(end === start + 1 && sample[start] === 13)) lines++;
    start = end + 1;
    upTo = Math.min(start, sample.length);
  }
  if (lines === 0) return base;
  const text = sample.subarray(0, upTo);
  // The first in list order that at least 90% of the records match (the core's idea of an empty line
  // rules): clf matches every combined line too, so a combined file with a few odd lines stays combined.
  for (const format of PATTERN_FORMATS) {
    core.configure(format, 'ndjson', '', { multiline });
    let records = 0;
    let misses = 0;
    for (const out of new StreamFeeder(core).push(text, true)) {
      records += out.records;
      for (let i = out.ndjson.indexOf('"error":"no match"'); i >= 0; i = out.ndjson.indexOf('"error":"no match"', i + 1)) misses++;
    }
    const matches = records - misses;
    if (matches > 0 && matches >= MATCH_SHARE * records) return format;
  }
  return base;
}
