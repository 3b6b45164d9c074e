// The WASM core against the plain reference (test/support/reference.ts) on
// seeded random inputs: every format, zones, truncation, both builds, and
// the same input cut in two at every byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBuffer, parseStream } from '../src/index.js';
import { referenceParse, type Format } from './support/reference.js';
import { randomInput, Rng } from './support/random.js';

const ZONES = ['UTC', '+05:30', '-0800', 'Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe'];
const FORMATS: Format[] = ['classic', 'logfmt', 'json', 'auto'];
const FLAVORS = ['simd', 'scalar'] as const;

function records(ndjson: Buffer): unknown[] {
  const text = ndjson.toString('utf8');
  assert.ok(text === '' || text.endsWith('\n'), 'NDJSON ends with LF');
  return text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
}

for (const flavor of FLAVORS) {
  test(`core (${flavor}) matches the reference on random inputs`, () => {
    for (let seed = 1; seed <= 1500; seed++) {
      const r = new Rng(seed * 7919);
      const input = randomInput(r, 1 + r.int(12));
      const format = r.pick(FORMATS);
      const tz = r.pick(ZONES);
      const maxRecordBytes = r.pick([64, 100, 1 << 20]);
      const levelRaw = r.chance(0.3);
      const opts = { format, tz, maxRecordBytes, levelRaw, fileName: 'x.log' };
      const got = records(parseBuffer(input, opts, { flavor }).ndjson);
      const want = referenceParse(input, { file: 'x.log', format, tz, maxRecordBytes, levelRaw });
      assert.deepStrictEqual(got, want, `seed ${seed} format ${format} tz ${tz} max ${maxRecordBytes}\ninput ${JSON.stringify(input.toString('latin1'))}`);
    }
  });
}

test('cutting the input at every byte gives the same NDJSON', async () => {
  for (let seed = 1; seed <= 40; seed++) {
    const r = new Rng(seed * 104729);
    const input = randomInput(r, 2 + r.int(8));
    const format = r.pick(['classic', 'logfmt', 'json'] as const);
    const maxRecordBytes = r.pick([64, 1 << 20]);
    const opts = { format, tz: r.pick(ZONES), maxRecordBytes, fileName: 'c.log' };
    const whole = parseBuffer(input, opts).ndjson;
    for (let cut = 0; cut <= input.length; cut++) {
      const pieces = [input.subarray(0, cut), input.subarray(cut)];
      const parts: Buffer[] = [];
      for await (const b of parseStream((async function* () { yield* pieces; })(), opts)) parts.push(b.ndjson);
      const got = Buffer.concat(parts);
      if (!got.equals(whole)) {
        assert.equal(got.toString(), whole.toString(), `seed ${seed} cut ${cut} of ${JSON.stringify(input.toString('latin1'))}`);
      }
    }
  }
});

test('a CR at the end of one piece and LF at the start of the next is one CRLF', async () => {
  const input = Buffer.from('2024-05-01 00:00:00 [INFO] a=1\r\n\r\nb\r\r\nc\r');
  const want = referenceParse(input, { file: '-', format: 'classic' });
  for (let cut = 0; cut <= input.length; cut++) {
    const parts: Buffer[] = [];
    for await (const b of parseStream((async function* () { yield input.subarray(0, cut); yield input.subarray(cut); })(), { format: 'classic' })) parts.push(b.ndjson);
    assert.deepStrictEqual(records(Buffer.concat(parts)), want, `cut ${cut}`);
  }
});

for (const flavor of FLAVORS) {
  test(`split and crc modes (${flavor}) count the same records as a full parse`, () => {
    for (let seed = 1; seed <= 400; seed++) {
      const r = new Rng(seed * 31337);
      const input = randomInput(r, 1 + r.int(40));
      const want = referenceParse(input, { file: '-', format: 'classic' }).length;
      for (const mode of ['split', 'crc', 'parse'] as const) {
        const batch = parseBuffer(input, { format: 'classic' }, { flavor, mode });
        assert.equal(batch.count, want, `seed ${seed} mode ${mode}: ${JSON.stringify(input.toString('latin1'))}`);
        assert.equal(batch.ndjson.length, 0);
      }
    }
  });
}
