// The fuzz test's oracle: what any output must be for any input, whatever the
// format: valid UTF-8 NDJSON, one record per non-empty line in order, each
// record's offset/line/len/crc those of its line (docs/records.md, "Lines"),
// and the record's shape as documented.
import assert from 'node:assert/strict';
import { crc32c } from '../../src/crc32c.js';

/** What the lines of an input say each record must start with. */
export interface LineFacts {
  offset: number;
  line: number;
  len: number;
  crc: number;
}

/** The non-empty lines of `input`: LF ends a line, a CR just before it is not part of it. */
export function nonEmptyLines(input: Uint8Array): LineFacts[] {
  const out: LineFacts[] = [];
  let line = 1;
  for (let start = 0; start < input.length; line++) {
    const lf = input.indexOf(10, start);
    const next = lf < 0 ? input.length : lf + 1;
    const end = lf < 0 ? input.length : lf > start && input[lf - 1] === 13 ? lf - 1 : lf;
    if (end > start) out.push({ offset: start, line, len: end - start, crc: crc32c(input.subarray(start, end)) });
    start = next;
  }
  return out;
}

/** The number of lines `stats.lines` counts: every LF, plus a last line without one. */
export function lineCount(input: Uint8Array): number {
  let n = 0;
  for (let i = input.indexOf(10); i >= 0; i = input.indexOf(10, i + 1)) n++;
  return n + (input.length > 0 && input[input.length - 1] !== 10 ? 1 : 0);
}

export interface Expect {
  /** The format asked for (or the one auto chose); with `auto` the one chosen is not known here. */
  format: 'auto' | 'classic' | 'logfmt' | 'json' | 'syslog' | 'apache_error';
  maxRecordBytes: number;
  levelRaw: boolean;
  file: string;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const KEYS = ['file', 'offset', 'line', 'len', 'crc', 'ts', 'level', 'levelRaw', 'msg', 'fields'];
const LEVELS = new Set([null, 'trace', 'debug', 'info', 'warn', 'error', 'fatal']);
const ERRORS = new Set(['invalid json', 'not an object', 'too deep', 'no match']);
const TS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/;

const show = (v: unknown): string => {
  const s = String(JSON.stringify(v));
  return s.length > 300 ? s.slice(0, 300) + '…' : s;
};

/** Check one whole output against its input's lines; returns the records. */
export function checkOutput(ndjson: Buffer, lines: readonly LineFacts[], want: Expect): Record<string, unknown>[] {
  let text: string;
  try {
    text = strictUtf8.decode(ndjson);
  } catch {
    // Where the bytes and their repaired copy first differ is the first invalid sequence.
    const repaired = Buffer.from(new TextDecoder().decode(ndjson));
    let at = 0;
    while (repaired[at] === ndjson[at]) at++;
    assert.fail(`the output is not valid UTF-8 (near output byte ${at}: ${show(ndjson.subarray(Math.max(0, at - 40), at + 40).toString('latin1'))})`);
  }
  assert.ok(text === '' || text.endsWith('\n'), 'the output ends with LF');
  const rows = text === '' ? [] : text.slice(0, -1).split('\n');
  const recs = rows.map((row, i) => {
    try {
      return JSON.parse(row) as Record<string, unknown>;
    } catch (err) {
      return assert.fail(`output line ${i + 1} is not JSON (${(err as Error).message}): ${show(row)}`);
    }
  });
  assert.equal(recs.length, lines.length, `${recs.length} records for ${lines.length} non-empty lines`);
  recs.forEach((r, i) => checkRecord(r, lines[i], want, i));
  return recs;
}

function checkRecord(r: Record<string, unknown>, line: LineFacts, want: Expect, i: number): void {
  // Messages are built only on failure: this runs for every record of every parse.
  const need = (ok: boolean, what: () => string) => {
    if (!ok) assert.fail(`record ${i + 1} (line ${line.line}, offset ${line.offset}): ${what()}`);
  };
  need(r !== null && typeof r === 'object' && !Array.isArray(r), () => `not an object: ${show(r)}`);
  need(r.offset === line.offset && r.line === line.line && r.len === line.len && r.crc === line.crc,
    () => `offset/line/len/crc ${show([r.offset, r.line, r.len, r.crc])} do not describe the input line ${show(line)}`);
  const keys = KEYS.filter((k) => k !== 'levelRaw' || want.levelRaw);
  if (r.truncated !== undefined) keys.push('truncated');
  if (r.error !== undefined) keys.push('error');
  need(Object.keys(r).join() === keys.join(), () => `keys ${show(Object.keys(r))}, not ${show(keys)}`);
  need(r.file === want.file, () => `file ${show(r.file)}`);
  need(r.ts === null || (typeof r.ts === 'string' && TS.test(r.ts)), () => `ts ${show(r.ts)}`);
  need(LEVELS.has(r.level as string | null), () => `level ${show(r.level)}`);
  need(!want.levelRaw || r.levelRaw === null || typeof r.levelRaw === 'string', () => `levelRaw ${show(r.levelRaw)}`);
  need(r.msg === null || typeof r.msg === 'string', () => `msg ${show(r.msg)}`);
  need(r.fields !== null && typeof r.fields === 'object' && !Array.isArray(r.fields), () => `fields ${show(r.fields)}`);
  need(r.truncated === (line.len > want.maxRecordBytes || undefined), () => `truncated ${show(r.truncated)} with maxRecordBytes ${want.maxRecordBytes}`);
  if (want.format === 'classic' || want.format === 'logfmt') {
    need(r.error === undefined, () => `error ${show(r.error)} in ${want.format}`);
    need(Object.values(r.fields as object).every((v) => typeof v === 'string'), () => `${want.format} fields that are not strings: ${show(r.fields)}`);
  }
  need(want.format !== 'classic' || typeof r.msg === 'string', () => `classic msg ${show(r.msg)}`);
  if (r.error !== undefined) {
    need(ERRORS.has(r.error as string) && (r.error === 'no match') === (want.format === 'syslog' || want.format === 'apache_error'), () => `error ${show(r.error)} in ${want.format}`);
    need(r.ts === null && r.level === null && Object.keys(r.fields as object).length === 0, () => `ts, level or fields on a record with an error: ${show(r)}`);
  }
}
