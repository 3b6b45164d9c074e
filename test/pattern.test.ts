// Patterns: the compiler's errors, the matching rules, timestamps with
// layouts, and every CSV cell of the eight loghub samples reproduced.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseBuffer, parseFile, type LogRecord } from '../src/index.js';
import { compilePattern } from '../src/pattern.js';

/**
 * The loghub samples: ../shared/data beside the repository (the team's layout), or where
 * LOGWIRE_SHARED_DATA says; a clone elsewhere on this machine finds /work/shared/data.
 */
const DATA = [
  process.env.LOGWIRE_SHARED_DATA,
  fileURLToPath(new URL('../../../../shared/data/', import.meta.url)),
  '/work/shared/data/',
].filter((d): d is string => !!d).map((d) => join(d, 'loghub')).find((d) => existsSync(join(d, 'HDFS_2k.log'))) ??
  assert.fail('the loghub samples (shared/data/loghub beside the repository) were not found; set LOGWIRE_SHARED_DATA to the data folder');

const rec = (line: string, pattern: string): LogRecord => parseBuffer(line + '\n', { format: { pattern } }).records()[0];

/** RFC 4180 rows: quoted cells may hold commas, quotes (doubled) and line breaks. */
function csv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; }
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(cell); cell = ''; }
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += c;
  }
  if (cell !== '' || row.length) { row.push(cell); rows.push(row); }
  return rows;
}

const LOGHUB: Record<string, string> = {
  HDFS: '%{Date} %{Time} %{Pid} %{Level} %{Component}: %{Content}',
  Hadoop: '%{Date} %{Time} %{Level} [%{Process}] %{Component}: %{Content:trim}',
  Spark: '%{Date} %{Time} %{Level} %{Component}: %{Content}',
  Zookeeper: '%{Date} %{Time} - %{Level} [%{Node}:%{Component}@%{Id}] - %{Content:trim}',
  BGL: '%{Label} %{Timestamp} %{Date} %{Node} %{Time} %{NodeRepeat} %{Type} %{Component} %{Level} %{Content}',
  HPC: '%{LogId} %{Node} %{Component} %{State} %{Time} %{Flag} %{Content}',
  Thunderbird: '%{Label} %{Timestamp} %{Date} %{User} %{Month} %{Day} %{Time} %{Location} %{Component}%[[%{PID}]%]: %{Content}',
  Windows: '%{Date} %{Time}, %{Level} %{Component} %{Content}',
};

for (const [name, pattern] of Object.entries(LOGHUB)) {
  test(`loghub ${name}: the pattern reproduces every CSV cell of every line`, () => {
    const log = readFileSync(join(DATA, `${name}_2k.log`));
    const [header, ...rows] = csv(readFileSync(join(DATA, `${name}_2k.log_structured.csv`), 'utf8'));
    const columns = header.filter((h) => h !== 'LineId' && h !== 'EventId' && h !== 'EventTemplate');
    const records = parseBuffer(log, { format: { pattern } }).records();
    assert.equal(records.length, rows.length);
    let cells = 0;
    for (let i = 0; i < rows.length; i++) {
      const row = Object.fromEntries(header.map((h, k) => [h, rows[i][k]]));
      const r = records[i];
      assert.equal(r.error, undefined, `line ${i + 1}: ${r.msg}`);
      assert.equal(r.line, Number(row.LineId));
      for (const col of columns) {
        // Cell for cell, as written. A field of an optional segment that did not match is absent: an empty cell.
        assert.equal(String(r.fields[col] ?? ''), row[col], `line ${i + 1}, ${col}`);
        cells++;
      }
    }
    assert.equal(cells, rows.length * columns.length);
  });
}

test('fields stop lazily at what follows; the last takes the rest; a space matches a run of blanks', () => {
  const r = rec('a:b:c  \t d rest of it', '%{x}:%{y} %{z} %{tail}');
  assert.deepEqual(r.fields, { x: 'a', y: 'b:c', z: 'd', tail: 'rest of it' });
});

test('a literal that ends the pattern stops a field only at the end of the line; a space before a word and a literal only where that word reaches it', () => {
  const fields = (pattern: string, line: string) => {
    const r = parseBuffer(line + '\n', { format: { pattern } }).records()[0];
    return r.error ?? r.fields;
  };
  assert.deepEqual(fields('[%{a}]', '[x] y]'), { a: 'x] y' });
  assert.deepEqual(fields('"%{a}" "%{b}"', '"1" "say "hi" now"'), { a: '1', b: 'say "hi" now' });
  assert.equal(fields('[%{a}]', '[x] y'), 'no match');
  assert.deepEqual(fields('%{a} %{b:word};', 'one two three four;'), { a: 'one two three', b: 'four' });
  assert.deepEqual(fields('%{a} %{b:word}; %{c}', 'x y; z; w'), { a: 'x', b: 'y', c: 'z; w' });
  assert.equal(fields('%{a} %{b:word};', 'one two three;four'), 'no match');
  // Without a word after it a space still stops a field at the first blank.
  assert.deepEqual(fields('%{a} %{b};', 'one two three;'), { a: 'one', b: 'two three' });
  // In a multiline start pattern the rest of the line may be anything: a last literal may come anywhere.
  const recs = parseBuffer('[a] x\n  more\n[b] y\n', { format: 'classic', multiline: { start: 'pattern:[%{}]' } }).records();
  assert.equal(recs.length, 2);
});

test('optional segments, skipped fields, integers, @level and @msg', () => {
  const p = '%{host} %{prog}%[[%{pid:int}]%]: %{?skip} %{@level} %{@msg}';
  assert.deepEqual(rec('h1 sshd[42]: x WARN disk full', p).fields, { host: 'h1', prog: 'sshd', pid: 42 });
  const r = rec('h1 cron: x error job failed', p);
  assert.deepEqual(r.fields, { host: 'h1', prog: 'cron' });
  assert.equal(r.level, 'error');
  assert.equal(r.msg, 'job failed');
  // An integer field that is not a number stays text.
  assert.deepEqual(rec('h1 sshd[x1]: x INFO y', p).fields, { host: 'h1', prog: 'sshd', pid: 'x1' });
  // Nor is one with a leading zero (JSON has no such numbers).
  assert.deepEqual(['0', '-0', '007', '-08424', '-'].map((pid) => rec(`h1 sshd[${pid}]: x INFO y`, p).fields.pid), [0, -0, '007', '-08424', '-']);
});

test('an integer field past ±(2^53 - 1) is written as text: its exact digits, in NDJSON and through JSON.parse', () => {
  const n = (text: string) => rec(`${text} x`, '%{n:int} %{@msg}').fields.n;
  assert.equal(n('123456789012345678'), '123456789012345678');
  assert.equal(n('9007199254740992'), '9007199254740992');
  assert.equal(n('-9007199254740992'), '-9007199254740992');
  assert.equal(n('99999999999999999999'), '99999999999999999999');
  assert.equal(n('9007199254740991'), 9007199254740991);
  assert.equal(n('-9007199254740991'), -9007199254740991);
  assert.equal(n('999999999999999'), 999999999999999);
  assert.match(parseBuffer('123456789012345678 x\n', { format: { pattern: '%{n:int} %{@msg}' } }).ndjson.toString(), /"n":"123456789012345678"/);
});

test('trim fields drop the spaces and tabs around their text, and combine with int and nil', () => {
  const r = rec(' x \t| 42 |  - |a  b  |', '%{a:trim}|%{b:trim,int}|%{c:nil,trim}|%{d:trim}|%{e:trim}');
  assert.deepEqual(r.fields, { a: 'x', b: 42, d: 'a  b', e: '' });
  assert.deepEqual(rec('k=  v \t', 'k=%{v:trim}').fields, { v: 'v' });
  // Without trim, the same text as written.
  assert.deepEqual(rec('k=  v \t', 'k=%{v}').fields, { v: '  v \t' });
});

test('a field followed by an optional segment grows past a failed attempt, in linear time', () => {
  for (const flavor of ['simd', 'scalar'] as const) {
    const one = (line: string, pattern: string) => {
      const r = parseBuffer(line + '\n', { format: { pattern } }, { flavor }).records()[0];
      return [r.msg, r.fields, r.error ?? null];
    };
    const p = '%{@ts:%Y-%m-%d %H:%M:%S} %{@msg}%[ (%{addr})%]';
    assert.deepEqual(one('2024-05-01 12:00:00 login ok (10.0.0.1)', p), ['login ok', { addr: '10.0.0.1' }, null], flavor);
    assert.deepEqual(one('2024-05-01 12:00:00 login ok', p), ['login ok', {}, null], flavor);
    assert.deepEqual(one('foo (bar', '%{a}%[ (%{b})%]'), [null, { a: 'foo (bar' }, null], flavor);
    assert.deepEqual(one('foo (bar) extra', '%{a}%[ (%{b})%]'), [null, { a: 'foo (bar) extra' }, null], flavor);
    // The first place from the left where the segment and the rest of the pattern both match.
    assert.deepEqual(one('x (y) z (w)', '%{a}%[ (%{b})%]'), [null, { a: 'x (y) z', b: 'w' }, null], flavor);
    const sys = '%{host} %{app}%[[%{pid}]%]: %{@msg}';
    assert.deepEqual(one('h foo[bar: x', sys), ['x', { host: 'h', app: 'foo[bar' }, null], flavor);
    assert.deepEqual(one('h foo[1]x[2]: y', sys), ['y', { host: 'h', app: 'foo[1]x', pid: '2' }, null], flavor);
    assert.deepEqual(one('h foo[1]: y', sys), ['y', { host: 'h', app: 'foo', pid: '1' }, null], flavor);
    // A field inside the segment does not take the outer field's retry: skipping the segment still can.
    assert.deepEqual(one('x ( [qx ( [q)', '%{a}%[ (%{b}%[ [%{c}]%])%] %{d}'), [null, { a: 'x', d: '( [qx ( [q)' }, null], flavor);
    // Lines with a candidate every few bytes and the segment failing late: each is read a bounded number of times.
    const long: [string, string][] = [
      ['%{a}%[ (%{b})%]', 'x ('.repeat(200_000)],
      ['%{a}%[ (%{b})%]', 'x ('.repeat(200_000) + ') y'],
      ['%{a}%[[%{b:word}]%]', 'x['.repeat(300_000)],
      ['%{a}%[ (%{b})%]: %{c}', 'x ('.repeat(200_000) + ') y'],
    ];
    for (const [pattern, line] of long) {
      const t = performance.now();
      const r = parseBuffer(line + '\n', { format: { pattern } }, { flavor }).records()[0];
      const ms = performance.now() - t;
      assert.equal(r.error === undefined ? r.fields.a : r.error, pattern.endsWith('%{c}') ? 'no match' : line, pattern);
      // Quadratic work on 600 kB would take minutes.
      assert.ok(ms < 3000, `${flavor} ${pattern}: ${ms} ms`);
    }
  }
});

test('a line that does not match is a record with "error":"no match" and the line as msg; the parse goes on', () => {
  const out = parseBuffer('k=1 v=2\nnot this\nk=3 v=4\n', { format: 'pattern:k=%{k:int} v=%{v:int}' }).records();
  assert.deepEqual(out.map((r) => [r.fields, r.error ?? null, r.msg]), [
    [{ k: 1, v: 2 }, null, null],
    [{}, 'no match', 'not this'],
    [{ k: 3, v: 4 }, null, null],
  ]);
});

test('a truncated line that does not match: "truncated" before "error", as in every format', () => {
  const row = parseBuffer('x'.repeat(100) + '\n', { format: 'pattern:k=%{k}', maxRecordBytes: 64 }).ndjson.toString();
  assert.match(row, /"fields":\{\},"truncated":true,"error":"no match"\}\n$/);
});

test('timestamps with layouts: %Y %m %d %H %M %S %f %b %a %y %j %z %s, zones, literal brackets', () => {
  const ts = (line: string, layout: string, tz?: string) => parseBuffer(line + '\n', { format: { pattern: `[%{@ts:${layout}}] %{@msg}` }, tz }).records()[0].ts;
  assert.equal(ts('[10/Oct/2000:13:55:36 -0700] x', '%d/%b/%Y:%H:%M:%S %z'), '2000-10-10T20:55:36Z');
  assert.equal(ts('[Sun Dec 04 04:47:44 2005] x', '%a %b %d %H:%M:%S %Y'), '2005-12-04T04:47:44Z');
  assert.equal(ts('[2015-07-29 17:41:44,747] x', '%Y-%m-%d %H:%M:%S,%f'), '2015-07-29T17:41:44.747Z');
  assert.equal(ts('[081109 203615] x', '%y%m%d %H%M%S'), '2008-11-09T20:36:15Z');
  assert.equal(ts('[2024 061 00:00:00] x', '%Y %j %H:%M:%S'), '2024-03-01T00:00:00Z');
  assert.equal(ts('[1714521600] x', '%s'), '2024-05-01T00:00:00Z');
  assert.equal(ts('[2024-05-01 12:00:00] x', '%Y-%m-%d %H:%M:%S', 'Europe/Berlin'), '2024-05-01T10:00:00Z');
  assert.equal(ts('[2024-05-01 12:00:00+05:30] x', '%Y-%m-%d %H:%M:%S%z', 'Europe/Berlin'), '2024-05-01T06:30:00Z');
  // A layout that does not fit: the line does not match.
  assert.equal(parseBuffer('[2024-13-01 00:00:00] x\n', { format: { pattern: '[%{@ts:%Y-%m-%d %H:%M:%S}] %{@msg}' } }).records()[0].error, 'no match');
});

test('a timestamp that is not a real date does not match: no day past the month, no day of year past the year, no offset past 23:59', () => {
  const ts = (line: string, layout: string) => {
    const r = rec(line, `%{@ts:${layout}} %{@msg}`);
    return r.error ?? r.ts;
  };
  const cases: [string, string, string][] = [
    ['2024-02-30 a', '%Y-%m-%d', 'no match'],
    ['2023-02-29 a', '%Y-%m-%d', 'no match'],
    ['2024-04-31 a', '%Y-%m-%d', 'no match'],
    ['2024-02-29 a', '%Y-%m-%d', '2024-02-29T00:00:00Z'],
    ['2000-02-29 a', '%Y-%m-%d', '2000-02-29T00:00:00Z'],
    ['1900-02-29 a', '%Y-%m-%d', 'no match'],
    ['2024-12-31 a', '%Y-%m-%d', '2024-12-31T00:00:00Z'],
    ['2024 000 a', '%Y %j', 'no match'],
    ['2023 366 a', '%Y %j', 'no match'],
    ['2024 400 a', '%Y %j', 'no match'],
    ['2024 366 a', '%Y %j', '2024-12-31T00:00:00Z'],
    ['2023 365 a', '%Y %j', '2023-12-31T00:00:00Z'],
    ['2024 001 a', '%Y %j', '2024-01-01T00:00:00Z'],
    ['2024-05-01T00:00:00+99:99 a', '%Y-%m-%dT%H:%M:%S%z', 'no match'],
    ['2024-05-01T00:00:00+0575 a', '%Y-%m-%dT%H:%M:%S%z', 'no match'],
    ['2024-05-01T00:00:00+24 a', '%Y-%m-%dT%H:%M:%S%z', 'no match'],
    ['2024-05-01T00:00:00+23:59 a', '%Y-%m-%dT%H:%M:%S%z', '2024-04-30T00:01:00Z'],
    ['2024-05-01T00:00:00-0530 a', '%Y-%m-%dT%H:%M:%S%z', '2024-05-01T05:30:00Z'],
  ];
  for (const [line, layout, want] of cases) assert.equal(ts(line, layout), want, `${line} with ${layout}`);
  // In an optional segment, the segment does not match.
  const opt = rec('x 2024-02-30 y', '%{a} %[%{@ts:%Y-%m-%d} %]%{@msg}');
  assert.deepEqual([opt.ts, opt.msg, opt.fields], [null, '2024-02-30 y', { a: 'x' }]);
  // The built-in formats: clf's date, syslog's Feb 29 in the year the line is given.
  const clf = parseBuffer('1.2.3.4 - - [31/Feb/2024:00:00:00 +0000] "GET / HTTP/1.1" 200 5\n', { format: 'clf' }).records()[0];
  assert.equal(clf.error, 'no match');
  const realNow = Date.now;
  try {
    const feb29 = (now: string) => {
      Date.now = () => Date.parse(now);
      const r = parseBuffer('Feb 29 12:00:00 h app: x\n', { format: 'syslog' }).records()[0];
      return r.error ?? r.ts;
    };
    // The year is this one, or the one before when this one would put the line more than a day ahead.
    assert.equal(feb29('2025-06-01T00:00:00Z'), 'no match');
    assert.equal(feb29('2024-06-01T00:00:00Z'), '2024-02-29T12:00:00Z');
    assert.equal(feb29('2025-01-15T00:00:00Z'), '2024-02-29T12:00:00Z');
    assert.equal(feb29('2024-01-15T00:00:00Z'), 'no match');
  } finally {
    Date.now = realNow;
  }
});

test('a time kept from the line before is used only where the layout would read the same: same text, same bytes after it, same pattern and zone', () => {
  for (const flavor of ['simd', 'scalar'] as const) {
    const slots = (r: LogRecord) => JSON.stringify([r.ts, r.level, r.msg, r.fields, r.error]);
    const each = (lines: string[], pattern: string) => lines.map((l) => slots(parseBuffer(l + '\n', { format: { pattern } }, { flavor }).records()[0]));
    const together = (lines: string[], pattern: string, tz?: string) => parseBuffer(lines.join('\n') + '\n', { format: { pattern }, tz }, { flavor }).records().map(slots);
    // Runs of one time, where what follows the time is read by the layout (%.f, %z, digits) or not.
    const cases: [string, string[]][] = [
      ['%{@ts:%Y-%m-%d %H:%M:%S%.f} %{m}', ['2024-05-01 00:00:00 a', '2024-05-01 00:00:00 a', '2024-05-01 00:00:00.x e', '2024-05-01 00:00:00.5 c', '2024-05-01 00:00:00.5 c', '2024-05-01 00:00:00.5x f']],
      ['%{@ts:%Y-%m-%d %H:%M:%S%z}|%{m}', ['2024-05-01 00:00:00+05|a', '2024-05-01 00:00:00+05|a', '2024-05-01 00:00:00+053|b', '2024-05-01 00:00:00+0530|c', '2024-05-01 00:00:00+05:|d', '2024-05-01 00:00:00+05:30|e']],
      ['%{@ts:%s}|%{m}', ['17|a', '17|a', '171|b', '17', '17|c']],
      ['%{@ts:%b %d %H:%M:%S}|%{m}', ['Jun 14 15:16:01|a', 'Jun 14 15:16:01|a', 'Jun 14 15:16:01', 'Jun 14 15:16:012|c', 'Jun  4 15:16:01|d']],
      // Only the fraction's digits differ: as many digits, or not.
      ['%{@ts:%Y-%m-%d %H:%M:%S,%f} - %{m}', ['2024-05-01 00:00:00,004 - a', '2024-05-01 00:00:00,007 - a', '2024-05-01 00:00:00,0071 - a', '2024-05-01 00:00:00,00x - a',
        '2024-05-01 00:00:00,123456789 - a', '2024-05-01 00:00:00,987654321 - a', '2024-05-01 00:00:00,1234567891 - a', '2024-05-01 00:00:01,987654321 - a']],
      ['[%{@ts:%a %b %d %H:%M:%S%.f %Y}] %{m}', ['[Tue Dec 04 00:00:00.644566 2012] a', '[Tue Dec 04 00:00:00.123456 2012] a', '[Tue Dec 04 00:00:00.123456 2013] a',
        '[Tue Dec 04 00:00:00 2013] a', '[Tue Dec 04 00:00:00.1 2013] a', '[Tue Dec 04 00:00:00.x 2013] a', '[Tue Dec 04 00:00:00.2 2013] a']],
      ['%{@ts:%H:%M:%S.%f.%f}|%{m}', ['00:00:00.1.2|a', '00:00:00.1.3|a', '00:00:00.2.3|a']],
    ];
    for (const [pattern, lines] of cases) assert.deepEqual(together(lines, pattern), each(lines, pattern), `${flavor} ${pattern}`);
    // The same core, a new pattern whose layout sits where the last one's did, or a new zone: read anew.
    const lines = ['2024-05-01 a', '2024-05-01 b'];
    const times = (pattern: string, tz?: string) => together(lines, pattern, tz).map((r) => JSON.parse(r)[0]);
    assert.deepEqual(times('%{@ts:%Y-%m-%d} %{m}'), ['2024-05-01T00:00:00Z', '2024-05-01T00:00:00Z']);
    assert.deepEqual(times('%{@ts:%Y-%d-%m} %{m}'), ['2024-01-05T00:00:00Z', '2024-01-05T00:00:00Z']);
    assert.deepEqual(times('%{@ts:%Y-%d-%m} %{m}', '+02:00'), ['2024-01-04T22:00:00Z', '2024-01-04T22:00:00Z']);
  }
});

test('a pattern that does not compile says which column and why', () => {
  const cases: [string, RegExp][] = [
    ['%{a}%{b}', /column 5: two fields/],
    ['%{a', /column 1: .*not closed/],
    ['x %[ %{a}', /column 3: .*not closed with %\]/],
    ['x %]', /column 3: %\] closes no optional/],
    ['%{a:float}', /column 1: unknown field type "float"/],
    ['%{@ts:%Y-%Q}', /column 10: unknown layout code %Q/],
    ['%{@when}', /unknown slot @when/],
    ['%{a} %{a}', /"a" appears twice/],
    ['%x', /column 1: a % starts/],
    ['', /non-empty/],
    ['%{a:int,float}', /column 1: unknown field type "float"/],
    ['%{@ts:nil,%Y-%.x}', /column 14: unknown layout code %\./],
    ['%{@pri:int}', /column 1: @pri takes no type/],
    ['%{@sd:x}', /column 1: @sd takes no type/],
    ['<%{@pri}> %{facility}', /column 11: the field "facility" appears twice/],
    ['a %[b %| c%]', /column 7: %\| separates alternatives of the whole pattern/],
    ['%|a', /column 1: an empty alternative/],
    ['a%|%|b', /column 4: an empty alternative/],
    ['a%|', /column 2: an empty alternative/],
    ['%{a} %{b}%|%{b} %{b}', /column 17: the field "b" appears twice/],
  ];
  for (const [pattern, re] of cases) {
    assert.throws(() => compilePattern(pattern), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'LOGWIRE_ERR_INVALID_OPTION');
      assert.match(err.message, re, pattern);
      return true;
    });
    if (pattern !== '') assert.throws(() => parseBuffer('x\n', { format: `pattern:${pattern}` }), re);
  }
});

test('patterns that could never match, or would give empty or repeated slots, do not compile', () => {
  const fields = (n: number) => Array.from({ length: n }, (_, k) => `%{f${k}}`).join(' ');
  const nested = (n: number) => '%[a'.repeat(n) + '%]'.repeat(n);
  const refused: [string, RegExp][] = [
    // The core captures 64 fields an alternative and nests 16 segments.
    [fields(65), new RegExp(`column ${fields(64).length + 2}: an alternative holds at most 64 fields`)],
    [`x%|${fields(65)}`, new RegExp(`column ${fields(64).length + 5}: an alternative holds at most 64 fields`)],
    [`%{a} ${nested(17)}`, /column 54: optional segments nest at most 16 deep/],
    [`${nested(17)}%|b`, /column 49: optional segments nest at most 16 deep/],
    // Fields with nothing between them where a segment is kept or skipped.
    ['%[%{a}%]%{b}', /column 9: two fields need literal text or a space/],
    ['%{a} %[%{b}%]%{c}', /column 14: two fields/],
    ['%{a}%[%{b}%]', /column 7: two fields/],
    ['%{a}%[x%]%{b}', /column 10: two fields/],
    ['%{a}%[x%[y%]%]%{b}', /column 15: two fields/],
    ['%{a}%[%[x%]y%]%{b}', /column 15: two fields/],
    // One of each slot in an alternative.
    ['%{@ts:%Y} %{@ts:%m}', /column 11: the slot @ts appears twice/],
    ['%{@msg} - %{@msg}', /column 11: the slot @msg appears twice/],
    ['%{@level} %[%{@level}%]', /column 13: the slot @level appears twice/],
    // An unclosed %{ before another.
    ['%{a %{b}', /column 1: this %\{ is not closed with \} before the next %\{/],
    // Columns count characters, not UTF-16 units.
    ['\u{1F600}\u{1F600}%{a}%{b}', /column 7: two fields .*near "\u{1F600}\u{1F600}%\{a\}%\{b\}"/u],
  ];
  for (const [pattern, re] of refused) {
    assert.throws(() => compilePattern(pattern), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'LOGWIRE_ERR_INVALID_OPTION');
      assert.match(err.message, re, pattern);
      return true;
    }, pattern);
  }
  // At the limits, and what stays allowed: the same slot in two alternatives, fields after a segment that ends with text.
  const accepted = [fields(64), `x%|${fields(64)}`, `%{a} ${nested(16)}`, `${nested(16)}%|b`, '%{@msg}%|x %{@msg}', '%{a}%[x%{b}y%] %{c}', '%[%{a}:%]%{b}'];
  for (const pattern of accepted) assert.doesNotThrow(() => compilePattern(pattern), pattern);
  // And they match: 64 fields, 16 nested segments in an alternative that is not the last.
  const line = Array.from({ length: 64 }, (_, k) => `v${k}`).join(' ');
  assert.equal(rec(line, fields(64)).fields.f63, 'v63');
  const deep = rec('a'.repeat(16) + ' z', `${nested(16)} %{z}%|%{other}`);
  assert.deepEqual(deep.fields, { z: 'z' });
});

test('patterns run in the worker pool too (parseFile), the same as on the calling thread', async () => {
  const { parseFile } = await import('../src/index.js');
  const path = join(DATA, 'HDFS_2k.log');
  const format = `pattern:${LOGHUB.HDFS}` as const;
  const got: string[] = [];
  for await (const b of parseFile(path, { format, workers: 2 }, { chunkBytes: 64 << 10 })) got.push(b.ndjson.toString());
  assert.equal(got.join(''), parseBuffer(readFileSync(path), { format, fileName: path }).ndjson.toString());
});

test('built-in formats: clf and combined access logs, apache_error, syslog with its year inferred', () => {
  const one = (line: string, format: 'clf' | 'combined' | 'apache_error' | 'syslog') => parseBuffer(line + '\n', { format }).records()[0];
  const clf = one('127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326', 'clf');
  assert.equal(clf.ts, '2000-10-10T20:55:36Z');
  assert.deepEqual(clf.fields, { client: '127.0.0.1', ident: '-', user: 'frank', method: 'GET', path: '/apache_pb.gif', protocol: 'HTTP/1.0', status: 200, size: 2326 });
  const combined = one('10.0.0.2 - - [01/May/2024:12:00:00 +0000] "POST /api/v1/orders?id=7 HTTP/1.1" 201 - "https://ex.com/a b" "Mozilla/5.0 (X11; Linux x86_64)"', 'combined');
  assert.deepEqual(combined.fields, {
    // A size of "-" (no body) leaves size out.
    client: '10.0.0.2', ident: '-', user: '-', method: 'POST', path: '/api/v1/orders?id=7', protocol: 'HTTP/1.1', status: 201,
    referer: 'https://ex.com/a b', agent: 'Mozilla/5.0 (X11; Linux x86_64)',
  });
  // HTTP/0.9 requests have no protocol.
  assert.deepEqual(one('1.2.3.4 - - [01/May/2024:12:00:00 +0000] "GET /" 200 5', 'clf').fields.path, '/');
  const err = one('[Sun Dec 04 04:47:44 2005] [error] [client 1.2.3.4] File does not exist: /var/www/favicon.ico', 'apache_error');
  assert.deepEqual([err.ts, err.level, err.msg, err.fields], ['2005-12-04T04:47:44Z', 'error', 'File does not exist: /var/www/favicon.ico', { client: '1.2.3.4' }]);
  assert.equal(one('[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok', 'apache_error').msg, 'workerEnv.init() ok');
  const sys = one('Jun  4 15:16:01 combo sshd(pam_unix)[19939]: check pass; user unknown', 'syslog');
  assert.deepEqual([sys.msg, sys.fields], ['check pass; user unknown', { host: 'combo', app: 'sshd(pam_unix)', pid: 19939 }]);
  // No year in the line: the year a day from now, or the year before for a time more than a day ahead of now.
  const now = new Date();
  for (const [month, day] of [[0, 1], [11, 31]] as const) {
    let year = new Date(now.getTime() + 86_400_000).getUTCFullYear();
    if (Date.UTC(year, month, day, 23, 59, 59) > now.getTime() + 86_400_000) year--;
    const text = `${['Jan', 'Dec'][month === 0 ? 0 : 1]} ${String(day).padStart(2, ' ')} 23:59:59 h app: x`;
    assert.equal(one(text, 'syslog').ts, new Date(Date.UTC(year, month, day, 23, 59, 59)).toISOString().replace('.000Z', 'Z'), text);
  }
  assert.equal(one('not a syslog line', 'syslog').error, 'no match');
});

test('access logs: a request that is not METHOD PATH [PROTOCOL] is kept whole as "request"; clf drops what follows the size', () => {
  const head = '1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] ';
  const fields = (line: string, format: 'clf' | 'combined') => {
    const r = parseBuffer(line + '\n', { format }).records()[0];
    assert.equal(r.error, undefined, line);
    assert.equal(r.ts, '2000-10-10T20:55:36Z', line);
    return r.fields;
  };
  const common = { client: '1.2.3.4', ident: '-', user: '-' };
  for (const [request, status, size] of [['-', 408, 0], ['', 400, 0], [String.raw`\x16\x03\x01\x00\xa5\x01`, 400, 157], ['\x16\x03\x01\xa5\x01', 400, 157], ['GARBAGE', 400, 0]] as const) {
    assert.deepEqual(fields(`${head}"${request}" ${status} ${size} "-" "-"`, 'combined'), { ...common, request, status, size, referer: '-', agent: '-' });
    assert.deepEqual(fields(`${head}"${request}" ${status} ${size}`, 'clf'), { ...common, request, status, size });
  }
  // A path with blanks, when a protocol ends the request.
  assert.deepEqual(fields(`${head}"GET /a b c HTTP/1.1" 200 5 "-" "-"`, 'combined'), { ...common, method: 'GET', path: '/a b c', protocol: 'HTTP/1.1', status: 200, size: 5, referer: '-', agent: '-' });
  // nginx writes a quote in a value as \x22, Apache as \": both kept as written.
  assert.equal(fields(`${head}"GET / HTTP/1.1" 200 5 "-" "Mozilla \\x22quoted\\x22 agent"`, 'combined').agent, String.raw`Mozilla \x22quoted\x22 agent`);
  assert.equal(fields(`${head}"GET / HTTP/1.1" 200 5 "-" "Mozilla \\"quoted\\" agent"`, 'combined').agent, String.raw`Mozilla \"quoted\" agent`);
  // clf on a combined line: the common fields, the rest dropped.
  assert.deepEqual(fields(`${head}"GET /x HTTP/1.1" 200 5 "-" "curl"`, 'clf'), { ...common, method: 'GET', path: '/x', protocol: 'HTTP/1.1', status: 200, size: 5 });
  assert.equal(parseBuffer(`${head}"GET /x HTTP/1.1" 200\n`, { format: 'clf' }).records()[0].error, 'no match');
});

/** The format auto chooses for a file holding `text` (parseFile: the file path's detection). */
async function autoFormat(text: string): Promise<string | null> {
  const dir = mkdtempSync(join(tmpdir(), 'logwire-auto-'));
  try {
    const path = join(dir, 'sample.log');
    writeFileSync(path, text);
    const run = parseFile(path, { workers: 1 });
    for await (const b of run) void b;
    return run.stats.format;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('auto picks a built-in pattern format when every sampled line matches it, else the classic/logfmt/json rule', async () => {
  const samples: [string, string][] = [
    ['combined', '1.2.3.4 - - [01/May/2024:12:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8"\n10.0.0.1 - bob [01/May/2024:12:00:01 +0000] "POST /x HTTP/1.1" 201 17 "https://a/" "Mozilla/5.0"\n'],
    ['clf', '1.2.3.4 - - [01/May/2024:12:00:00 +0000] "GET / HTTP/1.1" 200 5\n'],
    ['apache_error', '[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok /etc/httpd/conf/workers2.properties\n[Sun Dec 04 04:47:45 2005] [error] mod_jk child workerEnv in error state 6\n'],
    ['syslog', 'Jun 14 15:16:01 combo sshd(pam_unix)[19939]: check pass; user unknown\nJun 14 15:16:02 combo kernel: Linux version 2.6.5\n'],
    // One line in three of another kind: under 90% match, so the classic/logfmt/json rule decides.
    ['classic', '2024-05-01 12:00:00.000 [INFO] started\nJun 14 15:16:01 combo kernel: x\n2024-05-01 12:00:01.000 [WARN] slow\n'],
    ['logfmt', 'ts=2024-05-01T12:00:00Z level=info msg=hi\n'],
  ];
  for (const [want, text] of samples) {
    assert.equal(await autoFormat(text), want, text);
    assert.ok(parseBuffer(text).records().every((r) => r.error === undefined), want);
  }
});

test('combined drops what follows the agent (nginx "main" adds $http_x_forwarded_for) and still reads an agent holding \\"; a syslog pid holds no blank', () => {
  const head = '10.0.0.1 - - [12/Mar/2024:08:01:01 +0000] "GET /p1 HTTP/1.1" 200 1 "-"';
  const [nginx, quoted] = parseBuffer(`${head} "Mozilla/5.0 (X11)" "203.0.113.1"\n${head} "Mozilla \\"quoted\\" agent"\n`, { format: 'combined' }).records();
  assert.equal(nginx.error, undefined);
  assert.equal(nginx.fields.agent, 'Mozilla/5.0 (X11)');
  assert.equal(nginx.fields.status, 200);
  assert.equal(quoted.fields.agent, 'Mozilla \\"quoted\\" agent');
  const [sys] = parseBuffer('Mar  3 10:00:00 ho[st app[12]: m\n', { format: 'syslog' }).records();
  assert.deepEqual([sys.fields.app, sys.fields.pid, sys.msg], ['app', 12, 'm']);
});

test('a num field must be an integer (nil,num: or "-"), and the alternative fails where it is not; access logs rely on it after a "-" request', () => {
  const recs = parseBuffer(['7 x', '-7 x', '- x', 'seven x', '7.5 x'].join('\n') + '\n', { format: { pattern: '%{n:nil,num} %{@msg}%|%{other} %{@msg}' } }).records();
  assert.deepEqual(recs.map((r) => r.fields), [{ n: 7 }, { n: -7 }, {}, { other: 'seven' }, { other: '7.5' }]);
  assert.equal(parseBuffer('- x\n', { format: { pattern: '%{n:num} %{@msg}' } }).records()[0].error, 'no match');
  // status and size are num fields: a "-" request followed by quoted values with blanks keeps them.
  const head = '10.0.0.1 - - [12/Mar/2024:08:01:02 +0000] "-" 400 0 "-" "Mozilla/5.0 (X11)"';
  for (const [format, line] of [['clf', head], ['clf', `${head} "-"`], ['combined', head], ['combined', `${head} "1.2.3.4" "0.001"`]] as const) {
    const [r] = parseBuffer(line + '\n', { format }).records();
    assert.equal(r.fields.request, '-', `${format}: ${line}`);
    assert.equal(r.fields.status, 400, `${format}: ${line}`);
    assert.equal(r.fields.size, 0, `${format}: ${line}`);
  }
});

test('auto picks the first built-in that at least 90% of the sampled lines match; a file with a few odd lines keeps its fields', async () => {
  const access = (i: number) => `10.0.0.${i} - - [01/May/2024:12:00:${String(i % 60).padStart(2, '0')} +0000] "GET /p${i} HTTP/1.1" 200 ${i} "-" "curl/8"`;
  const clfLine = (i: number) => `10.0.0.${i} - - [01/May/2024:12:00:00 +0000] "GET /c${i} HTTP/1.0" 200 ${i}`;
  const sys = (i: number) => `Jun 14 15:16:${String(i % 60).padStart(2, '0')} combo sshd[${i}]: session ${i}`;
  const odd = 'this line is of no known kind';
  const lines = (n: number, make: (i: number) => string) => Array.from({ length: n }, (_, i) => make(i + 1));
  const cases: [string, string[]][] = [
    // The review's files: 20 good lines and a "-" request; a -- MARK -- line among syslog lines.
    ['combined', [...lines(10, access), '1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "-" 408 0 "-" "-"', ...lines(10, access)]],
    ['syslog', [...lines(5, sys), 'Jun 14 15:16:01 host -- MARK --', ...lines(15, sys)]],
    // One or two lines in twenty of no kind: still the built-in (the first 20 non-empty lines are sampled).
    ['combined', [odd, ...lines(25, access)]],
    ['syslog', [...lines(9, sys), odd, '', odd, ...lines(10, sys)]],
    // Three in twenty (85%): the classic/logfmt/json rule.
    ['classic', [odd, odd, odd, ...lines(17, sys)]],
    // combined and clf lines mixed: clf reads them all (without referer and agent); combined comes
    // first while 90% of the lines are combined ones, then clf.
    ['combined', [...lines(19, access), ...lines(1, clfLine)]],
    ['combined', [...lines(18, access), ...lines(2, clfLine)]],
    ['clf', [...lines(17, access), ...lines(3, clfLine)]],
    ['combined', lines(20, access)],
  ];
  for (const [want, sample] of cases) {
    const text = sample.join('\n') + '\n';
    assert.equal(await autoFormat(text), want, text);
    const records = parseBuffer(text).records();
    assert.ok(want === 'classic' || records.filter((r) => r.error === undefined).length >= records.length - 2, text);
  }
});

test("alternatives (%|), nil and word fields, %.f, @pri and @sd in a pattern of one's own", () => {
  const p = '<%{@pri}>%{@ts:nil,%Y-%m-%dT%H:%M:%S%.f%z} %{user:nil} %{n:nil,int} %{@sd}%[ %{@msg}%]%|%{kind:word}: %{@msg}%|%{rest}';
  const recs = parseBuffer([
    '<11>2024-05-01T12:00:00.25+01:00 bob 7 [a@1 k="v"] hi',
    '<11>- - - -',
    'kind: x',
    'two words: x',
  ].join('\n'), { format: { pattern: p } }).records();
  assert.deepEqual(recs.map((r) => [r.ts, r.level, r.msg, r.fields]), [
    ['2024-05-01T11:00:00.25Z', 'error', 'hi', { facility: 'user', user: 'bob', n: 7, 'a@1': { k: 'v' } }],
    [null, 'error', null, { facility: 'user' }],
    [null, null, 'x', { kind: 'kind' }],
    // A word field holds no blank: the next alternative takes the line.
    [null, null, null, { rest: 'two words: x' }],
  ]);
  // %.f: an optional fraction; alternatives share field names.
  assert.deepEqual(compilePattern('%{a}:%{b}%|%{a}').fields, ['a', 'b']);
  const ts = (line: string) => parseBuffer(line + '\n', { format: { pattern: '%{@ts:%H:%M:%S%.f}' } }).records()[0].ts;
  assert.equal(ts('12:00:00'), `${new Date().getUTCFullYear()}-01-01T12:00:00Z`);
  assert.equal(ts('12:00:00.5'), `${new Date().getUTCFullYear()}-01-01T12:00:00.5Z`);
  assert.equal(parseBuffer('12:00:00.\n', { format: { pattern: '%{@ts:%H:%M:%S%.f}' } }).records()[0].error, 'no match');
});
