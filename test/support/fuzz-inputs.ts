// Hostile inputs for the fuzz test, as fast-check arbitraries: lines built
// from small pieces (bad UTF-8, control bytes, deep JSON, huge numbers,
// escapes, mutated log lines) joined by every kind of line ending, so that a
// failure shrinks to a short input. A few cases carry lines of several MiB.
import fc from 'fast-check';
import { randomInput, Rng } from './random.js';
import { apache22, apache24, syslog3164, syslog5424 } from './syslog-lines.js';

type Bytes = Uint8Array;

const latin1 = (s: string): Bytes => Buffer.from(s, 'latin1');
const utf8 = (s: string): Bytes => Buffer.from(s, 'utf8');
const join = (parts: readonly Bytes[]): Bytes => Buffer.concat(parts);

/** Ill-formed UTF-8 of every kind, and a few well-formed sequences it could be confused with. */
const UTF8_EDGES = [
  [0xc0, 0x80], [0xc1, 0xbf], [0xe0, 0x80, 0x80], [0xe0, 0x9f, 0xbf], [0xf0, 0x80, 0x80, 0x80], [0xf0, 0x8f, 0xbf, 0xbf], // overlong
  [0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf], [0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80], // surrogates, a CESU-8 pair
  [0xc3], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xf4, 0x8f, 0xbf], // truncated
  [0x80], [0xbf], [0xff], [0xfe], [0xf5, 0x80, 0x80, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0xc3, 0xa9], [0xe2, 0x82, 0xac], [0xf0, 0x9f, 0x98, 0x80], [0xef, 0xbb, 0xbf], [0xe2, 0x80, 0xa8], [0xf4, 0x8f, 0xbf, 0xbf],
].map((b) => Uint8Array.from(b));

const CONTROLS = ['\0', '\r', '\t', '\b', '\f', '\x01', '\x1f', '\x7f', '\v', '\r\r', '\0\0\0\0'].map(latin1);

/** Bits of the formats' syntax, for gluing into nonsense that is almost a record. */
const SYNTAX = [
  '<165>1 ', '<34>', '- ', '[a@1 k="v\\"]', '[x]', '\\]', '\uFEFF', 'Oct 11 22:14:15 ', '[Wed Oct 11 14:32:52.123456 2000] ', '[core:error] ', '[pid 1:tid 2] ',
  '2024-05-01T00:00:00Z ', '2024-05-01 00:00:00.123456789 ', '2024-02-30 00:00:00 ', '[INFO] ', '[warn]', '[',
  ']', ' ', '  ', '=', '==', '"', '\\', '\\"', 'ts=', 'time=1714521600123 ', 'level=info ', 'lvl=', 'msg="', 'message=',
  'k=v ', '{', '}', '[]', '{}', ':', ',', '{"msg":', '"level":30', '"@timestamp":', 'null', 'true', '-0', '1e999',
].map(utf8);

const ESCAPES = [
  '\\u', '\\u0', '\\u00', '\\u00e', '\\uZZZZ', '\\u12G4', '\\U0041', '\\ud800', '\\udc00', '\\uDFFF', '\\ud83d', '\\ud83d\\ude00',
  '\\ude00\\ud83d', '\\ud800\\u0041', '\\u0000', '\\u001f', '\\u00e9', '\\"', '\\\\', '\\/', '\\b', '\\f', '\\n', '\\r', '\\t',
  '\\x', '\\0', "\\'", '\\a', '\\', 'a', 'é', ' ', '=', '"',
].map(utf8);

const rawBytes = fc.uint8Array({ maxLength: 48 });
const edge = fc.constantFrom(...UTF8_EDGES, ...CONTROLS);
const syntax = fc.constantFrom(...SYNTAX);

/** Syslog and Apache error lines (test/support/syslog-lines.ts), for the built-in pattern formats. */
const PATTERN_LINES = { syslog5424, syslog3164, apache24, apache22 };

/** A well-formed or near-miss line of one format (test/support/random.ts), then edited. */
const logLine = fc
  .record({
    kind: fc.constantFrom('classic', 'logfmt', 'json', 'syslog5424', 'syslog3164', 'apache24', 'apache22'),
    seed: fc.integer(),
    edits: fc.array(fc.record({ at: fc.nat(), drop: fc.nat(3), put: fc.oneof(rawBytes, edge, syntax) }), { maxLength: 3 }),
  })
  .map(({ kind, seed, edits }) => {
    let line: Bytes;
    if (kind in PATTERN_LINES) line = utf8(PATTERN_LINES[kind as keyof typeof PATTERN_LINES](new Rng(seed)).line);
    else {
      line = randomInput(new Rng(seed), 1, [kind as 'classic' | 'logfmt' | 'json']);
      const end = line.length - (line[line.length - 1] === 10 ? (line[line.length - 2] === 13 ? 2 : 1) : 0);
      line = line.subarray(0, end);
    }
    for (const { at, drop, put } of edits) {
      const i = at % (line.length + 1);
      line = join([line.subarray(0, i), put, line.subarray(i + drop)]);
    }
    return line;
  });

/**
 * A line of hostile pieces. `heavy` ones may repeat their unit many
 * thousand times (100k-deep JSON, 10k-digit numbers, escapes, empty lines);
 * light ones keep to a few, so that most cases are small and quick.
 */
function lineOf(heavy: boolean) {
  const many = (most: number) => (heavy ? fc.oneof({ weight: 4, arbitrary: fc.nat(40) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: most }) }) : fc.nat(40));

  /** `[[[…`, `{"a":{"a":…`, closed or not, around the 1000-level limit or far past it. */
  const deepJson = fc
    .record({
      open: fc.constantFrom('[', '{"a":', '[{"a":', '{"a":['),
      depth: fc.oneof(fc.constantFrom(999, 1000, 1001, ...(heavy ? [100_000] : [])), many(3000)),
      closed: fc.boolean(),
      inner: fc.constantFrom('', '1', '"x"', '{}', '[]', 'nul', '{"a"'),
    })
    .map(({ open, depth, closed, inner }) => {
      const close = open === '[' ? ']' : open === '{"a":' ? '}' : open === '[{"a":' ? '}]' : ']}';
      return utf8(open.repeat(depth) + inner + (closed ? close.repeat(depth) : ''));
    });

  /** Long numbers, bare or where a timestamp or a level is looked for. */
  const longNumber = fc
    .record({
      digits: fc.oneof(fc.constant(heavy ? 10_000 : 17), many(20_000)),
      digit: fc.constantFrom('0', '1', '9'),
      shape: fc.constantFrom('int', 'neg', 'frac', 'exp', 'lead0'),
      where: fc.constantFrom('bare', '{"n":%}', '{"time":%}', '{"level":%}', '{"ts":"%"}', 'ts=%', 'time="%"', 'x=%'),
    })
    .map(({ digits, digit, shape, where }) => {
      const d = digit.repeat(digits);
      const n = { int: d, neg: '-' + d, frac: '1.' + d, exp: '1e' + d, lead0: '0' + d }[shape];
      return utf8(where === 'bare' ? n : where.replace('%', n));
    });

  /** Strings full of escapes, valid and not: a mix, or one escape over and over. */
  const escapeString = fc
    .record({
      body: fc.oneof(
        fc.array(fc.constantFrom(...ESCAPES), { maxLength: 40 }).map(join),
        fc.tuple(fc.constantFrom(...ESCAPES), many(20_000)).map(([e, n]) => join(Array(n).fill(e))),
      ),
      closed: fc.boolean(),
      where: fc.constantFrom('bare', '{"msg":%}', '{%:1}', '{"a":[%]}', 'msg=%', '2024-05-01 00:00:00 [INFO] k=%'),
    })
    .map(({ body, closed, where }) => {
      const s = join([utf8('"'), body, utf8(closed ? '"' : '')]);
      if (where === 'bare') return s;
      const [before, after] = where.split('%');
      return join([utf8(before), s, utf8(after)]);
    });

  /** Many short pairs on one line: records whose output is much larger than the line. */
  const manyPairs = fc
    .record({ n: many(30_000), pair: fc.constantFrom('k=v ', 'a= ', '=x ', 'k="', 'msg=m ', '"k":1,') })
    .map(({ n, pair }) => utf8(pair.repeat(n)));

  const piece = fc.oneof(
    { weight: 6, arbitrary: logLine },
    { weight: 4, arbitrary: rawBytes },
    { weight: 4, arbitrary: edge },
    { weight: 4, arbitrary: syntax },
    { weight: 1, arbitrary: deepJson },
    { weight: 1, arbitrary: longNumber },
    { weight: 2, arbitrary: escapeString },
    { weight: 1, arbitrary: manyPairs },
  );

  /** What ends a line: LF, CRLF, a near miss (a lone CR, CRCRLF, LFCR, nothing at all), or a run of empty lines. */
  const ending = fc.oneof(
    { weight: 10, arbitrary: fc.constantFrom('\n', '\n', '\n', '\r\n', '\r\n', '\r', '\r\r\n', '\n\r', '\n\n', '').map(latin1) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom('\n', '\r\n'), many(100_000)).map(([end, n]) => latin1(end.repeat(n))) },
  );

  return fc.tuple(fc.array(piece, { maxLength: 5 }), ending).map(([parts, end]) => join([...parts, end]));
}

const MiB = 1 << 20;

/**
 * A line of a few MiB: right around the default maxRecordBytes or well past
 * it, of one repeated pattern (multi-byte ones get cut mid-character).
 */
const hugeLine = fc
  .record({
    len: fc.oneof(fc.constantFrom(MiB - 1, MiB, MiB + 1, MiB + 2), fc.integer({ min: MiB, max: 6 * MiB })),
    prefix: fc.constantFrom('', '2024-05-01 00:00:00 [INFO] k=', 'ts=1714521600 msg="', '{"msg":"', '{"a":['),
    fill: fc.constantFrom('x', 'é', '€', '😀', '\\u00e9', '\\', 'a=1 ', '"', '[', '\r', '\0'),
    raw: fc.boolean(),
    ending: fc.constantFrom('\n', '\r\n', ''),
  })
  .map(({ len, prefix, fill, raw, ending }) => {
    const big = Buffer.alloc(len, raw ? latin1('\xff\xed\xa0\x80') : utf8(fill));
    big.write(prefix, 0);
    return join([big, latin1(ending)]);
  });

/**
 * One fuzz input: up to 100 hostile lines; one case in 8 has heavy pieces
 * among them, one in 40 also a line of a few MiB.
 */
export const hostileInput: fc.Arbitrary<Buffer> = fc
  .record({
    lines: fc.oneof(
      { weight: 7, arbitrary: fc.array(lineOf(false), { maxLength: 100, size: 'medium' }) },
      { weight: 1, arbitrary: fc.array(lineOf(true), { maxLength: 100, size: 'medium' }) },
    ),
    huge: fc.oneof({ weight: 39, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: fc.array(fc.tuple(fc.nat(), hugeLine), { minLength: 1, maxLength: 2 }) }),
  })
  .map(({ lines, huge }) => {
    const all: Bytes[] = [...lines];
    for (const [at, big] of huge) all.splice(at % (all.length + 1), 0, big);
    return Buffer.concat(all);
  });

/** Where to cut an input into stream pieces: random cuts, or one byte at a time for a short input. */
export const cuts = fc.oneof(
  { weight: 5, arbitrary: fc.array(fc.nat(), { maxLength: 12 }) },
  { weight: 1, arbitrary: fc.constant('bytes' as const) },
);

/** Split `input` where `how` says (positions taken modulo its length). */
export function cutInto(input: Buffer, how: number[] | 'bytes'): Buffer[] {
  if (how === 'bytes' && input.length <= 4096) return Array.from(input, (_, i) => input.subarray(i, i + 1));
  const at = how === 'bytes' ? [] : [...new Set(how.map((n) => n % (input.length + 1)))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let from = 0;
  for (const to of [...at, input.length]) {
    pieces.push(input.subarray(from, to));
    from = to;
  }
  return pieces;
}
