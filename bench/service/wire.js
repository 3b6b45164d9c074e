// What the benchmark clients read from the service's frames without JSON.parse of a
// whole `records` frame: its head (op, id, count) and, for the follow-latency run,
// the `seq` and `wt` fields the writer put in every line.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const RECORDS_PREFIX = Buffer.from('{"op":"records",');
const SEQ_KEY = Buffer.from('"seq":"');
const WT_KEY = Buffer.from('"wt":"');

/** CLOCK_MONOTONIC in µs: one clock for every process of the machine (writer and client). */
export function monotonicMicros() {
  const [s, ns] = process.hrtime();
  return s * 1e6 + Math.floor(ns / 1000);
}

function fail(why) {
  throw new Error(`bad records frame head: ${why}`);
}

/** Index of the quote that closes the JSON string opening at `at`. */
function stringEnd(b, at) {
  for (let i = at + 1; i < b.length; i++) {
    if (b[i] === BACKSLASH) i++;
    else if (b[i] === QUOTE) return i;
  }
  return fail('a string runs past the end of the frame');
}

/** True if the frame is a `records` frame (the service writes `op` first). */
export function isRecordsFrame(b) {
  return b.length > RECORDS_PREFIX.length && b.compare(RECORDS_PREFIX, 0, RECORDS_PREFIX.length, 0, RECORDS_PREFIX.length) === 0;
}

/**
 * The head of a `records` frame: { id, count, recordsAt } where recordsAt is the index
 * of the `[` that opens the records. Walks the top-level keys in order, stepping over
 * string values by their escapes, so an id or file name cannot fake a key.
 */
export function recordsHead(b) {
  let i = 1; // after '{'
  let id;
  let count;
  for (;;) {
    if (b[i] !== QUOTE) fail(`a key expected at byte ${i}`);
    const keyEnd = stringEnd(b, i);
    const key = b.toString('latin1', i + 1, keyEnd);
    i = keyEnd + 1;
    if (b[i] !== 0x3a) fail(`":" expected after "${key}"`);
    i++;
    if (key === 'records') {
      if (b[i] !== 0x5b) fail('"records" is not an array');
      if (id === undefined || count === undefined) fail('"id" or "count" missing before "records"');
      return { id, count, recordsAt: i };
    }
    if (b[i] === QUOTE) {
      const end = stringEnd(b, i);
      if (key === 'id') id = JSON.parse(b.toString('utf8', i, end + 1));
      i = end + 1;
    } else {
      let n = 0;
      let digits = 0;
      for (; b[i] >= 0x30 && b[i] <= 0x39; i++, digits++) n = n * 10 + (b[i] - 0x30);
      if (digits === 0) fail(`"${key}" is neither a string nor a whole number`);
      if (key === 'count') count = n;
    }
    if (b[i] !== 0x2c) fail(`"," expected after "${key}"`);
    i++;
  }
}

function digitsAt(b, i) {
  let n = 0;
  for (let c = b[i]; c >= 0x30 && c <= 0x39; c = b[++i]) n = n * 10 + (c - 0x30);
  return n;
}

/**
 * Calls visit(seq, wtMicros) for every record of a follow-run frame, from the fields
 * `seq` and `wt` (the writer's CLOCK_MONOTONIC in µs) that every writer line carries.
 * Returns the number of records seen.
 */
export function eachWriterLine(b, from, visit) {
  let seen = 0;
  for (let i = b.indexOf(SEQ_KEY, from); i >= 0; i = b.indexOf(SEQ_KEY, i)) {
    i += SEQ_KEY.length;
    const seq = digitsAt(b, i);
    const w = b.indexOf(WT_KEY, i);
    if (w < 0) break;
    i = w + WT_KEY.length;
    visit(seq, digitsAt(b, i));
    seen++;
  }
  return seen;
}
