// Hostile input: whatever the bytes, the output is valid UTF-8 NDJSON and
// every record's offset, len and crc describe the raw input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBuffer, parseFile } from '../src/index.js';
import { crc32c } from './support/reference.js';
import { Rng } from './support/random.js';

const strict = new TextDecoder('utf-8', { fatal: true });

/** Check the NDJSON against the input and return the records. */
function check(input: Uint8Array, ndjson: Buffer): Record<string, unknown>[] {
  const text = strict.decode(ndjson); // throws on invalid UTF-8
  const recs = text.split('\n').filter((l) => l).map((l) => JSON.parse(l) as Record<string, unknown>);
  let lastEnd = -1;
  for (const r of recs) {
    const off = r.offset as number;
    const len = r.len as number;
    assert.ok(off > lastEnd, 'offsets increase');
    const bytes = input.subarray(off, off + len);
    assert.equal(bytes.length, len);
    assert.equal(r.crc, crc32c(bytes), `crc at ${off}`);
    assert.ok(!bytes.includes(10), 'no LF inside a record');
    assert.ok(off === 0 || input[off - 1] === 10, 'a record starts a line');
    lastEnd = off + len;
  }
  return recs;
}

for (const format of ['classic', 'logfmt', 'json', 'auto'] as const) {
  test(`random bytes never break the ${format} output`, () => {
    const r = new Rng(99);
    for (let i = 0; i < 300; i++) {
      const input = Uint8Array.from({ length: r.int(3000) }, () => (r.chance(0.05) ? 10 : r.int(256)));
      check(input, parseBuffer(input, { format, maxRecordBytes: r.pick([64, 1 << 20]) }).ndjson);
    }
  });
}

test('NUL bytes, lone CRs and control bytes are escaped', () => {
  const input = Buffer.from('a\u0000b\rc\u001fd\u007f e="\u0001"\n', 'latin1');
  const [rec] = check(input, parseBuffer(input, { format: 'classic' }).ndjson);
  assert.equal(rec.msg, 'a\u0000b\rc\u001fd\u007f e="\u0001"');
  assert.deepEqual(rec.fields, { e: '\u0001' });
});

test('a 5 MiB line is one truncated record whose len and crc cover the whole line', () => {
  const big = Buffer.alloc(5 << 20, 'x');
  big.write('2024-05-01 00:00:00 [INFO] k=v ', 0);
  const input = Buffer.concat([Buffer.from('first\n'), big, Buffer.from('\nlast')]);
  const recs = check(input, parseBuffer(input, { format: 'classic' }).ndjson);
  assert.equal(recs.length, 3);
  assert.equal(recs[1].len, 5 << 20);
  assert.equal(recs[1].truncated, true);
  assert.equal(recs[1].level, 'info');
  assert.equal((recs[1].msg as string).length, (1 << 20) - 27);
  assert.deepEqual([recs[2].msg, recs[2].line, 'truncated' in recs[2]], ['last', 3, false]);
});

test('a 5 MiB line across mapped windows and chunks of a file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'logwire-hostile-'));
  try {
    const big = Buffer.alloc(5 << 20, 'y');
    const input = Buffer.concat([Buffer.from('a=1\n'), big, Buffer.from('\nb=2\n'), big, Buffer.from('\r\nc=3')]);
    const path = join(dir, 'big.log');
    writeFileSync(path, input);
    // mmap needs the native addon; LOGWIRE_NO_NATIVE=1 (and only that) turns it off.
    const ios = process.env.LOGWIRE_NO_NATIVE === '1' ? (['pread'] as const) : (['mmap', 'pread'] as const);
    for (const io of ios) {
      const parts: Buffer[] = [];
      for await (const b of parseFile(path, { format: 'logfmt', workers: 2, io, fileName: 'big.log' }, { chunkBytes: 3 << 20, windowBytes: 1 << 20 })) parts.push(b.ndjson);
      const got = Buffer.concat(parts);
      assert.ok(got.equals(parseBuffer(input, { format: 'logfmt', fileName: 'big.log' }).ndjson), io);
      const recs = check(input, got);
      assert.deepEqual(recs.map((r) => [r.line, r.len, r.truncated ?? false]), [[1, 3, false], [2, 5 << 20, true], [3, 3, false], [4, 5 << 20, true], [5, 3, false]]);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('JSON nested 100k deep, 10k-digit numbers and strings full of escapes', () => {
  const deep = '['.repeat(100_000) + ']'.repeat(100_000);
  const deepObj = '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000);
  const digits = `{"n":${'9'.repeat(10_000)},"msg":"m"}`;
  const escapes = `{"msg":"${'\\n\\"\\\\\\u00e9\\ud83d\\ude00'.repeat(5000)}"}`;
  const input = Buffer.from([deep, deepObj, digits, escapes].join('\n'));
  const recs = check(input, parseBuffer(input, { format: 'json' }).ndjson);
  assert.equal(recs[0].error, 'too deep');
  assert.equal(recs[1].error, 'too deep');
  assert.equal(recs[2].error, undefined);
  assert.equal(recs[2].msg, 'm');
  assert.equal(recs[3].msg, '\n"\\é😀'.repeat(5000));
  // Nesting up to the limit is fine.
  const ok = parseBuffer('{"a":' + '['.repeat(999) + ']'.repeat(999) + '}', { format: 'json' }).records();
  assert.equal(ok[0].error, undefined);
});

test('invalid UTF-8 becomes U+FFFD like TextDecoder, bytes are still described raw', () => {
  const input = Buffer.from([0x61, 0xc3, 0x28, 0x62, 0xe2, 0x82, 0x0a, 0xf0, 0x9f, 0x98, 0x80, 0xff, 0xed, 0xa0, 0x80]);
  const recs = check(input, parseBuffer(input, { format: 'classic' }).ndjson);
  assert.equal(recs[0].msg, new TextDecoder().decode(input.subarray(0, 6)));
  assert.equal(recs[1].msg, new TextDecoder().decode(input.subarray(7)));
});
