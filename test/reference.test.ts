// Checks the plain reference parser (test/support/reference.ts) against
// records written out by hand from docs/records.md, so that it can be trusted
// as the oracle for the WASM core.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  crc32c, detectFormat, normalizeLevel, parseTimestamp, referenceParse, type Format,
} from './support/reference.js';

const enc = (text: string): Uint8Array => new TextEncoder().encode(text);

function concat(...parts: Array<string | number[]>): Uint8Array {
  const chunks = parts.map((p) => (typeof p === 'string' ? enc(p) : Uint8Array.from(p)));
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

// An independent bit-at-a-time CRC32C (the reference uses a table), itself
// checked against the RFC 3720 vectors below.
function bitwiseCrc32c(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

function parse(input: string | Uint8Array, format: Format, extra: Partial<{ tz: string; maxRecordBytes: number; levelRaw: boolean }> = {}) {
  return referenceParse(typeof input === 'string' ? enc(input) : input, { file: 'a.log', format, ...extra });
}

interface Parts {
  ts?: string | null;
  level?: string | null;
  levelRaw?: string | null;
  msg?: string | null;
  fields?: Record<string, unknown>;
  truncated?: true;
  error?: string;
}

/** The expected record of a line whose bytes (without ending) are `content`. */
function rec(offset: number, line: number, content: string | Uint8Array, parts: Parts): Record<string, unknown> {
  const bytes = typeof content === 'string' ? enc(content) : content;
  const r: Record<string, unknown> = {
    file: 'a.log', offset, line, len: bytes.length, crc: bitwiseCrc32c(bytes),
    ts: parts.ts ?? null, level: parts.level ?? null,
  };
  if ('levelRaw' in parts) r.levelRaw = parts.levelRaw;
  r.msg = parts.msg ?? null;
  r.fields = parts.fields ?? {};
  if (parts.truncated) r.truncated = true;
  if (parts.error !== undefined) r.error = parts.error;
  return r;
}

// ---------------------------------------------------------------- CRC32C

const RFC3720_VECTORS: Array<[string, Uint8Array, number]> = [
  ['32 zeros', new Uint8Array(32), 0x8a9136aa],
  ['32 x 0xFF', new Uint8Array(32).fill(0xff), 0x62a8ab43],
  ['0..31', Uint8Array.from({ length: 32 }, (_, i) => i), 0x46dd794e],
  ['31..0', Uint8Array.from({ length: 32 }, (_, i) => 31 - i), 0x113fdb5c],
  ['"123456789"', enc('123456789'), 0xe3069283],
];

test('crc32c: RFC 3720 B.4 vectors and the check value', () => {
  for (const [name, bytes, expected] of RFC3720_VECTORS) {
    assert.equal(crc32c(bytes), expected, name);
    assert.equal(bitwiseCrc32c(bytes), expected, `test helper, ${name}`);
  }
  assert.equal(crc32c(new Uint8Array(0)), 0);
});

test('crc32c: a previous result continues the computation', () => {
  const all = enc('123456789');
  for (let cut = 0; cut <= all.length; cut++) {
    assert.equal(crc32c(all.subarray(cut), crc32c(all.subarray(0, cut))), 0xe3069283, `cut at ${cut}`);
  }
  assert.equal(crc32c(new Uint8Array(32).fill(0xff), crc32c(new Uint8Array(0))), 0x62a8ab43);
});

test('records carry the crc of the line as an unsigned integer', () => {
  const [r] = parse('123456789\r\n', 'classic');
  assert.equal(r.crc, 3808858755);
  assert.equal(r.len, 9);
});

// ---------------------------------------------------------------- lines

test('lines: CRLF, lone CR, empty lines, last line without LF', () => {
  // a \r \n | \r \n | \n | b \r c \n | \r   (offsets 0, 3, 5, 6, 10)
  assert.deepEqual(parse('a\r\n\r\n\nb\rc\n\r', 'classic'), [
    rec(0, 1, 'a', { msg: 'a' }),
    rec(6, 4, 'b\rc', { msg: 'b\rc' }),
    rec(10, 5, '\r', { msg: '\r' }), // no LF after it: an ordinary byte
  ]);
  assert.deepEqual(parse('x\ny', 'classic'), [rec(0, 1, 'x', { msg: 'x' }), rec(2, 2, 'y', { msg: 'y' })]);
  assert.deepEqual(parse('x\n', 'classic'), [rec(0, 1, 'x', { msg: 'x' })]);
  assert.deepEqual(parse('\n\n\r\n', 'classic'), []);
  assert.deepEqual(parse('', 'classic'), []);
});

test('records have their keys in the documented order', () => {
  const [plain] = parse('x', 'classic');
  assert.deepEqual(Object.keys(plain), ['file', 'offset', 'line', 'len', 'crc', 'ts', 'level', 'msg', 'fields']);
  const [raw] = parse('x', 'logfmt', { levelRaw: true });
  assert.deepEqual(Object.keys(raw),
    ['file', 'offset', 'line', 'len', 'crc', 'ts', 'level', 'levelRaw', 'msg', 'fields']);
  const [bad] = parse('{"a":1}', 'json', { maxRecordBytes: 3 });
  assert.deepEqual(Object.keys(bad),
    ['file', 'offset', 'line', 'len', 'crc', 'ts', 'level', 'msg', 'fields', 'truncated', 'error']);
});

// ---------------------------------------------------------------- classic

test('classic: the shape', () => {
  const lines = [
    '2024-05-01T00:00:00.007Z [INFO] user=u0 started',
    '2024-05-01 12:34:56,5+02:00   [Warning] disk almost full',
    '2024-05-01T00:00:00Z [ERROR]',
    '2024-05-01T00:00:00Z [fatal]  two spaces',
  ];
  assert.deepEqual(parse(lines.join('\n'), 'classic', { levelRaw: true }), [
    rec(0, 1, lines[0], {
      ts: '2024-05-01T00:00:00.007Z', level: 'info', levelRaw: 'INFO', msg: 'user=u0 started', fields: { user: 'u0' },
    }),
    rec(48, 2, lines[1], {
      ts: '2024-05-01T10:34:56.5Z', level: 'warn', levelRaw: 'Warning', msg: 'disk almost full',
    }),
    rec(105, 3, lines[2], { ts: '2024-05-01T00:00:00Z', level: 'error', levelRaw: 'ERROR', msg: '' }),
    rec(134, 4, lines[3], { ts: '2024-05-01T00:00:00Z', level: 'fatal', levelRaw: 'fatal', msg: ' two spaces' }),
  ]);
});

test('classic: lines without the shape are all message', () => {
  const lines = [
    '2024-05-01T00:00:00Z [ERROR]x',         // no space after ]
    '2024-02-30T00:00:00Z [INFO] a=1',        // no such day
    '2024-05-01T00:00:00Z [AUDIT] a=1',       // not a level spelling
    '2024-05-01T00:00:00Z\t[INFO] x',         // a tab is not a space
    '2024-05-01T00:00:00Z[INFO] x',           // no space at all
    ' 2024-05-01T00:00:00Z [INFO] x',         // not at the very start
    '2024-05-01T00:00:00.1234567890Z [INFO]', // 10 fraction digits
    '[INFO] k=v',
  ];
  const records = parse(lines.join('\n'), 'classic', { levelRaw: true });
  assert.equal(records.length, lines.length);
  records.forEach((r, i) => {
    assert.equal(r.ts, null, lines[i]);
    assert.equal(r.level, null, lines[i]);
    assert.equal(r.levelRaw, null, lines[i]);
    assert.equal(r.msg, lines[i]);
  });
  assert.deepEqual(records[1].fields, { a: '1' });
  assert.deepEqual(records[2].fields, { a: '1' });
  assert.deepEqual(records[7].fields, { k: 'v' });
});

test('classic: key=value pairs, quoting and escapes', () => {
  const msg = String.raw`a=1 b="x y" c="q\"uote\\ \n\t\r \z" d= e=f=g` + '\t' +
    String.raw`h=tab x"y=1 glued="v"w=2 ok:no=3 _.@/-k=4 u="unterminated \"x`;
  const line = `2024-05-01T00:00:00Z [INFO] ${msg}`;
  assert.deepEqual(parse(line, 'classic'), [rec(0, 1, line, {
    ts: '2024-05-01T00:00:00Z', level: 'info', msg,
    fields: {
      a: '1', b: 'x y', c: 'q"uote\\ \n\t\r \\z', d: '', e: 'f=g', h: 'tab', glued: 'v', '_.@/-k': '4',
      u: 'unterminated "x',
    },
  })]);
  // A lone trailing backslash in an unterminated quote, and a duplicate key.
  assert.deepEqual(parse('k=1 k=2 z="ab\\', 'classic')[0].fields, { k: '2', z: 'ab\\' });
  assert.deepEqual(Object.keys(parse('k=1 j=0 k=2', 'classic')[0].fields as object), ['k', 'j']);
});

test('classic: a key named __proto__ is an ordinary field', () => {
  const fields = parse('__proto__=x', 'classic')[0].fields as Record<string, unknown>;
  assert.deepEqual(Object.keys(fields), ['__proto__']);
  assert.equal(Object.getPrototypeOf(fields), Object.prototype);
});

// ---------------------------------------------------------------- logfmt

test('logfmt: slots, groups and fields', () => {
  const l1 = 'ts=2024-05-01T00:00:00Z level=info msg="hello world" user=u0';
  const l2 = String.raw`time=yesterday ts=1714521600.5 level=loud lvl=WRN severity=error message=first msg=second` +
    String.raw` bare =skipped ="also skipped" "quoted token" k="a\"b"junk tail=1`;
  const l3 = '   \t  ';
  assert.deepEqual(parse([l1, l2, l3].join('\n'), 'logfmt', { levelRaw: true }), [
    rec(0, 1, l1, {
      ts: '2024-05-01T00:00:00Z', level: 'info', levelRaw: 'info', msg: 'hello world', fields: { user: 'u0' },
    }),
    rec(l1.length + 1, 2, l2, {
      ts: '2024-05-01T00:00:00.5Z', level: 'warn', levelRaw: 'WRN', msg: 'first',
      fields: { time: 'yesterday', level: 'loud', severity: 'error', msg: 'second', bare: '', k: 'a"b', tail: '1' },
    }),
    rec(l1.length + l2.length + 2, 3, l3, { levelRaw: null }),
  ]);
  const fieldKeys = Object.keys(parse(l2, 'logfmt')[0].fields as object);
  assert.deepEqual(fieldKeys, ['time', 'level', 'severity', 'msg', 'bare', 'k', 'tail']);
});

test('logfmt: keys are compared exactly, bare msg is an empty message', () => {
  assert.deepEqual(parse('Level=info MSG=x', 'logfmt')[0],
    rec(0, 1, 'Level=info MSG=x', { fields: { Level: 'info', MSG: 'x' } }));
  assert.deepEqual(parse('msg', 'logfmt')[0], rec(0, 1, 'msg', { msg: '' }));
  assert.deepEqual(parse('a\tb=2\t\tc', 'logfmt')[0].fields, { a: '', b: '2', c: '' });
});

test('logfmt: epoch numbers under time keys', () => {
  const cases: Array<[string, string | null]> = [
    ['0', '1970-01-01T00:00:00Z'],
    ['1714521600', '2024-05-01T00:00:00Z'],
    ['1714521600.5', '2024-05-01T00:00:00.5Z'],
    ['1714521600.123456789', '2024-05-01T00:00:00.123456789Z'],
    ['1714521600.1234567890', null],
    ['99999999999', '5138-11-16T09:46:39Z'],
    ['100000000000', '1973-03-03T09:46:40.000Z'],
    ['1714521600000', '2024-05-01T00:00:00.000Z'],
    ['1714521600123', '2024-05-01T00:00:00.123Z'],
    ['1714521600123.4', '2024-05-01T00:00:00.1234Z'],
    ['1714521600123.456789', '2024-05-01T00:00:00.123456789Z'],
    ['1714521600123.4567890', null],
    ['253402300799999', '9999-12-31T23:59:59.999Z'],
    ['253402300800000', null],
    ['"1714521600"', '2024-05-01T00:00:00Z'],
    ['-1714521600', null],
    ['1714521600.', null],
    ['.5', null],
    ['1.7e9', null],
    ['1714521600.5.5', null],
  ];
  for (const [value, ts] of cases) {
    const [r] = parse(`ts=${value}`, 'logfmt');
    assert.equal(r.ts, ts, value);
    assert.deepEqual(r.fields, ts === null ? { ts: value.replace(/"/g, '') } : {}, value);
  }
});

// ---------------------------------------------------------------- json

test('json: a pino line', () => {
  const line = '{"level":30,"time":1714521600007,"pid":7,"msg":"hello","nested":{"a":[1,2.50,{"b":null}]}}';
  assert.deepEqual(parse(line, 'json', { levelRaw: true }), [rec(0, 1, line, {
    ts: '2024-05-01T00:00:00.007Z', level: 'info', levelRaw: '30', msg: 'hello',
    fields: { pid: 7, nested: { a: [1, 2.5, { b: null }] } },
  })]);
});

test('json: well-known keys, first usable of each group, the rest in fields', () => {
  const l1 = ' \t{"@timestamp":"2024-05-01T02:00:00+02:00","severity":"Emergency","message":"m","ts":"later"} ';
  const l2 = '{"ts":-5,"ts":1.7e9,"time":"2024-05-01T00:00:00Z","level":35,"level":"30","lvl":30.0,' +
    '"severity":60,"msg":7,"message":"text","dup":1,"dup":2,"timestamp":true}';
  const l3 = '{ "Level" : "info" , "MSG" : "x" , "e" : [ ] , "o" : { } }';
  assert.deepEqual(parse([l1, l2, l3].join('\n'), 'json', { levelRaw: true }), [
    rec(0, 1, l1, {
      ts: '2024-05-01T00:00:00Z', level: 'fatal', levelRaw: 'Emergency', msg: 'm', fields: { ts: 'later' },
    }),
    rec(l1.length + 1, 2, l2, {
      ts: '2024-05-01T00:00:00Z', level: 'fatal', levelRaw: '60', msg: 'text',
      // Duplicates are written; seen through JSON.parse the last one wins at the first one's place.
      fields: { ts: 1700000000, level: '30', lvl: 30, msg: 7, dup: 2, timestamp: true },
    }),
    rec(l1.length + l2.length + 2, 3, l3, { levelRaw: null, fields: { Level: 'info', MSG: 'x', e: [], o: {} } }),
  ]);
});

test('json: pino numbers are levels only under level keys and only exactly', () => {
  for (const [n, level] of [['10', 'trace'], ['20', 'debug'], ['30', 'info'], ['40', 'warn'], ['50', 'error'],
    ['60', 'fatal'], ['0', null], ['70', null], ['-30', null], ['30.5', null]] as const) {
    const [r] = parse(`{"lvl":${n}}`, 'json', { levelRaw: true });
    assert.equal(r.level, level, n);
    assert.equal(r.levelRaw, level === null ? null : n, n);
  }
  assert.equal(parse('{"level":"WARNING"}', 'logfmt')[0].level, null); // not logfmt at all
  assert.equal(parse('level=30', 'logfmt')[0].level, null); // pino numbers are json only
});

test('json: errors', () => {
  const deepOk = '{"a":' + '['.repeat(999) + ']'.repeat(999) + '}'; // 1000 levels
  const deepBad = '{"a":' + '['.repeat(1000) + ']'.repeat(1000) + '}'; // 1001 levels
  const cases: Array<[string, string]> = [
    ['[1,2]', 'not an object'],
    ['"str"', 'not an object'],
    ['null', 'not an object'],
    ['{"a":1,}', 'invalid json'],
    ['{"a":1} x', 'invalid json'],
    ['{"a":1}{}', 'invalid json'],
    ['[1,', 'invalid json'],
    ['{"a":"\\x"}', 'invalid json'],
    ['{"a":"tab\there"}', 'invalid json'],
    ["{'a':1}", 'invalid json'],
    ['{"a":01}', 'invalid json'],
    ['{"a":tru}', 'invalid json'],
    [deepBad, 'too deep'],
    ['['.repeat(1001), 'too deep'],
    ['{"a":tru,"b":' + '['.repeat(2000), 'invalid json'],
  ];
  let input = '';
  const expected: Record<string, unknown>[] = [];
  cases.forEach(([line, error], i) => {
    expected.push(rec(enc(input).length, i + 1, line, { msg: line, error }));
    input += line + '\n';
  });
  assert.deepEqual(parse(input, 'json'), expected);
  const [ok] = parse(deepOk, 'json');
  assert.equal(ok.error, undefined);
  assert.equal(JSON.stringify(ok.fields), deepOk);
});

test('json: __proto__ stays a field, lone surrogates become U+FFFD', () => {
  const line = String.raw`{"__proto__":{"x":1},"a":"\ud800\ud83d\ude00\u0041","\udc00":"k"}`;
  const [r] = parse(line, 'json');
  assert.deepEqual(r.fields, JSON.parse('{"__proto__":{"x":1},"a":"\uFFFD\u{1F600}A","\uFFFD":"k"}'));
  assert.deepEqual(Object.keys(r.fields as object), ['__proto__', 'a', '\uFFFD']);
});

test('json: invalid UTF-8 inside strings is U+FFFD, outside it is invalid json', () => {
  const inside = concat('{"a":"', [0xff, 0xc3], '"}');
  assert.deepEqual(parse(inside, 'json'), [rec(0, 1, inside, { fields: { a: '\uFFFD\uFFFD' } })]);
  const outside = concat('{"a":1}', [0xff]);
  assert.deepEqual(parse(outside, 'json'), [rec(0, 1, outside, { msg: '{"a":1}\uFFFD', error: 'invalid json' })]);
});

// ---------------------------------------------------------------- UTF-8, truncation

test('invalid UTF-8: each maximal ill-formed subpart is one U+FFFD', () => {
  const line = concat('a', [0xff], ' k=', [0xe2, 0x82], ' ', [0xf0, 0x80, 0x80], ' ', [0xed, 0xa0, 0x80], ' ',
    [0xc0, 0xaf], ' ', [0xef, 0xbb, 0xbf]);
  const msg = 'a\uFFFD k=\uFFFD \uFFFD\uFFFD\uFFFD \uFFFD\uFFFD\uFFFD \uFFFD\uFFFD \uFEFF';
  assert.deepEqual(parse(line, 'classic'), [rec(0, 1, line, { msg, fields: { k: '\uFFFD' } })]);
  // A byte order mark is a character like any other, at the start of a file too.
  const bom = concat([0xef, 0xbb, 0xbf], '{"a":1}');
  assert.deepEqual(parse(bom, 'json'), [rec(0, 1, bom, { msg: '\uFEFF{"a":1}', error: 'invalid json' })]);
});

test('truncation: fields from the first maxRecordBytes bytes, len and crc of the whole line', () => {
  const line = '2024-05-01T00:00:00Z [INFO] hello k=v'; // 37 bytes
  assert.deepEqual(parse(`${line}\r\n`, 'classic', { maxRecordBytes: 30 }), [
    rec(0, 1, line, { ts: '2024-05-01T00:00:00Z', level: 'info', msg: 'he', truncated: true }),
  ]);
  assert.deepEqual(parse(line, 'classic', { maxRecordBytes: 37 }), [
    rec(0, 1, line, { ts: '2024-05-01T00:00:00Z', level: 'info', msg: 'hello k=v', fields: { k: 'v' } }),
  ]);
  // k = 0xC3 0xBC: the cut leaves 0xC3 alone.
  assert.deepEqual(parse('k=ü', 'logfmt', { maxRecordBytes: 3 }), [
    rec(0, 1, 'k=ü', { fields: { k: '\uFFFD' }, truncated: true }),
  ]);
  assert.deepEqual(parse('{"msg":"long"}', 'json', { maxRecordBytes: 5 }), [
    rec(0, 1, '{"msg":"long"}', { msg: '{"msg', truncated: true, error: 'invalid json' }),
  ]);
  assert.deepEqual(parse('{"msg":"x"}     ', 'json', { maxRecordBytes: 12 }), [
    rec(0, 1, '{"msg":"x"}     ', { msg: 'x', truncated: true }),
  ]);
});

test('the default maxRecordBytes is 1 MiB', () => {
  const exact = 'x'.repeat(1048576);
  assert.equal(parse(exact, 'classic')[0].truncated, undefined);
  const [over] = parse(exact + 'yz', 'classic');
  assert.equal(over.truncated, true);
  assert.equal(over.len, 1048578);
  assert.equal(over.msg, exact);
});

// ---------------------------------------------------------------- timestamps

test('timestamps: accepted text', () => {
  const cases: Array<[string, string | null]> = [
    ['2024-05-01T00:00:00Z', '2024-05-01T00:00:00Z'],
    ['2024-05-01t00:00:00z', '2024-05-01T00:00:00Z'],
    ['2024-05-01 00:00:00', '2024-05-01T00:00:00Z'],
    ['2024-05-01T00:00:00.123456789Z', '2024-05-01T00:00:00.123456789Z'],
    ['2024-05-01T00:00:00,50', '2024-05-01T00:00:00.50Z'],
    ['2024-05-01T00:00:00.000', '2024-05-01T00:00:00.000Z'],
    ['2024-05-01T05:30:00+05:30', '2024-05-01T00:00:00Z'],
    ['2024-05-01T05:30:00+0530', '2024-05-01T00:00:00Z'],
    ['2024-05-01T05:00:00+05', '2024-05-01T00:00:00Z'],
    ['2024-04-30T16:00:00.5-0800', '2024-05-01T00:00:00.5Z'],
    ['2024-05-01T00:00:00-00:00', '2024-05-01T00:00:00Z'],
    ['2024-01-01T00:30:00+01:00', '2023-12-31T23:30:00Z'],
    ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00Z'],
    ['2000-02-29T00:00:00Z', '2000-02-29T00:00:00Z'],
    ['0000-02-29T00:00:00Z', '0000-02-29T00:00:00Z'],
    ['0000-01-01T00:00:00Z', '0000-01-01T00:00:00Z'],
    ['0099-03-01T00:00:00Z', '0099-03-01T00:00:00Z'],
    ['9999-12-31T23:59:59.999999999Z', '9999-12-31T23:59:59.999999999Z'],
    ['9999-12-31T23:59:59+01:00', '9999-12-31T22:59:59Z'],
    ['2024-12-31T23:59:60Z', '2025-01-01T00:00:00Z'],
    ['2024-12-31T23:59:60.25+01:00', '2024-12-31T23:00:00.25Z'],
    ['2024-06-30T12:00:60Z', '2024-06-30T12:01:00Z'],
  ];
  for (const [text, expected] of cases) assert.equal(parseTimestamp(text, 'UTC'), expected, text);
});

test('timestamps: rejected text', () => {
  const rejected = [
    '2023-02-29T00:00:00Z', '1900-02-29T00:00:00Z', '2024-04-31T00:00:00Z', '2024-13-01T00:00:00Z',
    '2024-00-01T00:00:00Z', '2024-01-00T00:00:00Z', '2024-01-01T24:00:00Z', '2024-01-01T23:60:00Z',
    '2024-01-01T23:59:61Z', '2024-05-01T00:00:00.1234567890Z', '2024-05-01T00:00:00.Z',
    '2024-05-01T00:00:00+05:3', '2024-05-01T00:00:00+053', '2024-05-01T00:00:00+5',
    '2024-05-01T00:00:00+24:00', '2024-05-01T00:00:00+05:60', '2024-05-01T00:00:00 Z',
    ' 2024-05-01T00:00:00Z', '2024-05-01T00:00:00Z ', '2024-5-01T00:00:00Z', '24-05-01T00:00:00Z',
    '2024-05-01T00:00Z', '2024-05-01_00:00:00Z', '2024/05/01T00:00:00Z', '\uFF12024-05-01T00:00:00Z',
    '0000-01-01T00:30:00+01:00', '9999-12-31T23:59:59-00:01', '9999-12-31T23:59:60Z', '',
  ];
  for (const text of rejected) assert.equal(parseTimestamp(text, 'UTC'), null, text);
});

test('timestamps: fixed offsets as tz', () => {
  assert.equal(parseTimestamp('2024-05-01T00:00:00', '+05:30'), '2024-04-30T18:30:00Z');
  assert.equal(parseTimestamp('2024-05-01T00:00:00', '-0800'), '2024-05-01T08:00:00Z');
  assert.equal(parseTimestamp('2024-05-01T00:00:00.25', '+05'), '2024-04-30T19:00:00.25Z');
  assert.equal(parseTimestamp('2024-05-01T00:00:00Z', '+05:30'), '2024-05-01T00:00:00Z');
  assert.equal(parseTimestamp('2024-05-01T00:00:00+01:00', '-0800'), '2024-04-30T23:00:00Z');
  assert.equal(parseTimestamp('0000-01-01T00:00:00', '+01'), null);
  assert.throws(() => parseTimestamp('2024-05-01T00:00:00', '+25:00'), RangeError);
  assert.throws(() => parseTimestamp('2024-05-01T00:00:00', 'Mars/Olympus_Mons'), RangeError);
  assert.throws(() => parse('x', 'classic', { tz: 'nowhere' }), RangeError);
});

test('timestamps: IANA zones, DST gaps and repeats', () => {
  const cases: Array<[string, string, string]> = [
    ['Europe/Berlin', '2024-01-15 12:00:00', '2024-01-15T11:00:00Z'],
    ['Europe/Berlin', '2024-07-15 12:00:00', '2024-07-15T10:00:00Z'],
    ['Europe/Berlin', '2024-03-31 01:59:59', '2024-03-31T00:59:59Z'],
    ['Europe/Berlin', '2024-03-31 02:30:00', '2024-03-31T01:30:00Z'], // gap: read at +01:00
    ['Europe/Berlin', '2024-03-31T02:00:00.5', '2024-03-31T01:00:00.5Z'],
    ['Europe/Berlin', '2024-03-31T01:59:60', '2024-03-31T01:00:00Z'], // = local 02:00:00, in the gap
    ['Europe/Berlin', '2024-03-31 03:00:00', '2024-03-31T01:00:00Z'],
    ['Europe/Berlin', '2024-10-27 01:59:59', '2024-10-26T23:59:59Z'],
    ['Europe/Berlin', '2024-10-27 02:30:00', '2024-10-27T00:30:00Z'], // repeated: the first, +02:00
    ['Europe/Berlin', '2024-10-27 03:00:00', '2024-10-27T02:00:00Z'],
    ['Europe/Berlin', '1800-01-01T00:00:00', '1799-12-31T23:06:32Z'], // local mean time +00:53:28
    ['America/New_York', '2024-01-15T12:00:00', '2024-01-15T17:00:00Z'],
    ['America/New_York', '2024-07-01T12:00:00', '2024-07-01T16:00:00Z'],
    ['America/New_York', '2024-03-10T02:30:00', '2024-03-10T07:30:00Z'], // gap: read at -05:00
    ['America/New_York', '2024-11-03T01:30:00', '2024-11-03T05:30:00Z'], // repeated: the first, -04:00
    ['America/New_York', '2024-11-03T02:30:00', '2024-11-03T07:30:00Z'],
    ['Australia/Sydney', '2024-04-07T02:30:00', '2024-04-06T15:30:00Z'], // repeated: the first, +11:00
    ['Australia/Sydney', '2024-10-06T02:30:00', '2024-10-05T16:30:00Z'], // gap: read at +10:00
    ['Asia/Kolkata', '2024-05-01T00:00:00', '2024-04-30T18:30:00Z'],
    ['UTC', '2024-05-01T00:00:00', '2024-05-01T00:00:00Z'],
  ];
  for (const [tz, text, expected] of cases) assert.equal(parseTimestamp(text, tz), expected, `${tz} ${text}`);
  // An explicit zone wins over tz.
  assert.equal(parseTimestamp('2024-03-31T02:30:00Z', 'Europe/Berlin'), '2024-03-31T02:30:00Z');
  // The zone reaches every format.
  assert.equal(parse('2024-10-27 02:30:00 [INFO] x', 'classic', { tz: 'Europe/Berlin' })[0].ts,
    '2024-10-27T00:30:00Z');
  assert.equal(parse('ts="2024-03-31 02:30:00"', 'logfmt', { tz: 'Europe/Berlin' })[0].ts, '2024-03-31T01:30:00Z');
  assert.equal(parse('{"time":"2024-03-10T02:30:00"}', 'json', { tz: 'America/New_York' })[0].ts,
    '2024-03-10T07:30:00Z');
  // Epoch numbers are UTC whatever the zone.
  assert.equal(parse('{"time":1714521600}', 'json', { tz: 'Europe/Berlin' })[0].ts, '2024-05-01T00:00:00Z');
});

// ---------------------------------------------------------------- levels

test('levels: every spelling, ASCII case-insensitive, the whole value', () => {
  const table: Record<string, string[]> = {
    trace: ['trace', 'trc', 'finest', 'verbose'],
    debug: ['debug', 'dbg', 'fine', 'finer'],
    info: ['info', 'inf', 'information', 'informational', 'notice', 'config'],
    warn: ['warn', 'warning', 'wrn'],
    error: ['error', 'err', 'severe', 'eror'],
    fatal: ['fatal', 'ftl', 'crit', 'critical', 'alert', 'emerg', 'emergency', 'panic'],
  };
  for (const [level, spellings] of Object.entries(table)) {
    for (const s of spellings) {
      assert.equal(normalizeLevel(s), level, s);
      assert.equal(normalizeLevel(s.toUpperCase()), level, s.toUpperCase());
      assert.equal(normalizeLevel(s[0].toUpperCase() + s.slice(1)), level, s);
    }
  }
  for (const s of ['', ' info', 'info ', 'warnings', 'inform', 'fatal!', '\u0131nfo', 'INFO\u0000', '30']) {
    assert.equal(normalizeLevel(s), null, JSON.stringify(s));
  }
});

// ---------------------------------------------------------------- auto

test('auto: the format with the most lines, ties to classic, json, logfmt', () => {
  const classic = '2024-05-01T00:00:00Z [INFO] hello';
  const json = '{"msg":"hi"}';
  const logfmt = 'a=1 b=2';
  const det = (lines: string[]) => detectFormat(enc(lines.join('\n')));
  assert.equal(det([json, json, classic]), 'json');
  assert.equal(det([classic, json]), 'classic');
  assert.equal(det([logfmt, json]), 'json');
  assert.equal(det([logfmt, classic]), 'classic');
  assert.equal(det([logfmt, logfmt, classic, json]), 'logfmt');
  assert.equal(det(['hello', 'world']), 'classic');
  assert.equal(det([]), 'classic');
  // Not logfmt-like: a leading blank, one pair only, pairs with an empty key.
  assert.equal(det([' a=1 b=2', 'a=1 b', '=1 =2 a=3', json]), 'json');
  // A line can count for two formats: here json and logfmt, and json wins the tie.
  assert.equal(det(['{"x":"a=1 b=2"}']), 'json');
  assert.equal(detectFormat(enc(`${logfmt}\r\n\r\n${logfmt}\r\n${json}`)), 'logfmt');
});

test('auto: the first 20 non-empty lines within the first 64 KiB', () => {
  const classic = '2024-05-01T00:00:00Z [INFO] hello';
  const json = '{"msg":"hi"}';
  const logfmt = 'a=1 b=2';
  // 9 classic + 11 json make the 20; the empty lines do not count; the logfmt lines come too late.
  const lines = [...Array(9).fill(classic), ...Array(30).fill(''), ...Array(11).fill(json), ...Array(30).fill(logfmt)];
  assert.equal(detectFormat(enc(lines.join('\n'))), 'json');
  // A line that ends after the first 64 KiB is not looked at, nor any after it.
  const long = 'a=1 b=' + 'x'.repeat(70000);
  assert.equal(detectFormat(enc([json, long, logfmt, logfmt].join('\n'))), 'json');
  // The boundary: a line whose LF is the 65536th byte is looked at, one byte more is not.
  assert.equal(detectFormat(enc('a=1 b=' + 'x'.repeat(65535 - 6) + '\n')), 'logfmt');
  assert.equal(detectFormat(enc('a=1 b=' + 'x'.repeat(65536 - 6) + '\n')), 'classic');
  assert.equal(detectFormat(enc('a=1 b=' + 'x'.repeat(65536 - 6))), 'logfmt'); // whole input in the window
});

test('auto: referenceParse parses the whole input in the detected format', () => {
  const input = 'a=1 b=2\nmsg=hi level=warn\n2024-05-01T00:00:00Z [INFO] x=1';
  assert.deepEqual(parse(input, 'auto'), [
    rec(0, 1, 'a=1 b=2', { fields: { a: '1', b: '2' } }),
    rec(8, 2, 'msg=hi level=warn', { level: 'warn', msg: 'hi' }),
    rec(26, 3, '2024-05-01T00:00:00Z [INFO] x=1', { fields: { '2024-05-01T00:00:00Z': '', '[INFO]': '', x: '1' } }),
  ]);
});
