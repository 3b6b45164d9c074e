// Timestamps and zones, with expected values worked out by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBuffer } from '../src/index.js';

function tsOf(line: string, tz = 'UTC', format: 'classic' | 'logfmt' | 'json' = 'classic'): string | null {
  const [r] = parseBuffer(line + '\n', { format, tz }).records();
  return r.ts;
}

test('RFC 3339 forms', () => {
  assert.equal(tsOf('2024-05-01T12:00:00Z [INFO] x'), '2024-05-01T12:00:00Z');
  assert.equal(tsOf('2024-05-01 12:00:00.123 [INFO] x'), '2024-05-01T12:00:00.123Z');
  assert.equal(tsOf('2024-05-01 12:00:00,5 [INFO] x'), '2024-05-01T12:00:00.5Z');
  assert.equal(tsOf('2024-05-01t12:00:00.123456789z [INFO] x'), '2024-05-01T12:00:00.123456789Z');
  assert.equal(tsOf('2024-05-01T12:00:00+02:00 [INFO] x'), '2024-05-01T10:00:00Z');
  assert.equal(tsOf('2024-05-01T12:00:00-0530 [INFO] x'), '2024-05-01T17:30:00Z');
  assert.equal(tsOf('2024-05-01T01:00:00+05 [INFO] x'), '2024-04-30T20:00:00Z');
  assert.equal(tsOf('2024-12-31T23:59:60Z [INFO] x'), '2025-01-01T00:00:00Z');
  assert.equal(tsOf('2024-02-29T00:00:00Z [INFO] x'), '2024-02-29T00:00:00Z');
});

test('not timestamps', () => {
  for (const bad of ['2023-02-29T00:00:00Z', '2024-13-01T00:00:00Z', '2024-04-31T00:00:00Z', '2024-05-01T24:00:00Z',
    '2024-05-01T12:60:00Z', '2024-05-01T12:00:61Z', '2024-05-01X12:00:00Z', '2024-05-01T12:00:00.1234567890Z',
    '2024-05-01T12:00:00.Z', '2024-05-01T12:00:00+24:00', '2024-05-01T12:00:00+05:60', '24-05-01T12:00:00Z']) {
    assert.equal(tsOf(`${bad} [INFO] x`), null, bad);
  }
});

test('local times in fixed offsets and IANA zones, across DST', () => {
  assert.equal(tsOf('2024-05-01 12:00:00 [INFO] x', '+05:30'), '2024-05-01T06:30:00Z');
  assert.equal(tsOf('2024-05-01 12:00:00 [INFO] x', '-0800'), '2024-05-01T20:00:00Z');
  // Berlin: CET (+1) until 2024-03-31 01:00Z, then CEST (+2) until 2024-10-27 01:00Z.
  assert.equal(tsOf('2024-03-31 01:59:59 [INFO] x', 'Europe/Berlin'), '2024-03-31T00:59:59Z');
  assert.equal(tsOf('2024-03-31 02:30:00 [INFO] x', 'Europe/Berlin'), '2024-03-31T01:30:00Z'); // gap: offset before
  assert.equal(tsOf('2024-03-31 03:00:00 [INFO] x', 'Europe/Berlin'), '2024-03-31T01:00:00Z');
  assert.equal(tsOf('2024-10-27 02:30:00 [INFO] x', 'Europe/Berlin'), '2024-10-27T00:30:00Z'); // repeated: earlier
  assert.equal(tsOf('2024-10-27 03:00:00 [INFO] x', 'Europe/Berlin'), '2024-10-27T02:00:00Z');
  assert.equal(tsOf('2024-07-01 12:00:00 [INFO] x', 'America/New_York'), '2024-07-01T16:00:00Z');
  assert.equal(tsOf('2024-01-01 12:00:00 [INFO] x', 'America/New_York'), '2024-01-01T17:00:00Z');
  // Lord Howe moves by 30 minutes.
  assert.equal(tsOf('2024-01-15 12:00:00 [INFO] x', 'Australia/Lord_Howe'), '2024-01-15T01:00:00Z');
  assert.equal(tsOf('2024-07-15 12:00:00 [INFO] x', 'Australia/Lord_Howe'), '2024-07-15T01:30:00Z');
  // An explicit offset wins over tz.
  assert.equal(tsOf('2024-07-01 12:00:00Z [INFO] x', 'America/New_York'), '2024-07-01T12:00:00Z');
});

test('a run of lines crossing a DST change is converted line by line', () => {
  const lines = [];
  for (let m = 0; m < 180; m += 7) {
    const h = String(1 + Math.floor(m / 60)).padStart(2, '0');
    const mi = String(m % 60).padStart(2, '0');
    lines.push(`2024-03-31 ${h}:${mi}:00 [INFO] m=${m}`);
  }
  const got = parseBuffer(lines.join('\n'), { format: 'classic', tz: 'Europe/Berlin' }).records().map((r) => r.ts);
  const want = lines.map((l) => {
    const h = Number(l.slice(11, 13));
    const mi = Number(l.slice(14, 16));
    // Before 02:00 local: +1; 02:00–02:59 does not exist: +1 (offset before); from 03:00: +2.
    const off = h < 3 ? 1 : 2;
    return new Date(Date.UTC(2024, 2, 31, h - off, mi)).toISOString().replace('.000Z', 'Z');
  });
  assert.deepEqual(got, want);
});

test('epoch numbers under time keys', () => {
  assert.equal(tsOf('ts=1714521600 msg=x', 'UTC', 'logfmt'), '2024-05-01T00:00:00Z');
  assert.equal(tsOf('ts=1714521600.5 msg=x', 'UTC', 'logfmt'), '2024-05-01T00:00:00.5Z');
  assert.equal(tsOf('ts=1714521600123 msg=x', 'UTC', 'logfmt'), '2024-05-01T00:00:00.123Z');
  assert.equal(tsOf('ts=1714521600123.4 msg=x', 'UTC', 'logfmt'), '2024-05-01T00:00:00.1234Z');
  assert.equal(tsOf('ts=-5 msg=x', 'UTC', 'logfmt'), null);
  assert.equal(tsOf('{"time":1714521600123}', 'UTC', 'json'), '2024-05-01T00:00:00.123Z');
  assert.equal(tsOf('{"time":1.7e9}', 'UTC', 'json'), null);
  assert.equal(tsOf('{"@timestamp":"2024-05-01T00:00:00+01:00"}', 'UTC', 'json'), '2024-04-30T23:00:00Z');
  // The epoch boundary: below 1e11 is seconds.
  assert.equal(tsOf('ts=99999999999', 'UTC', 'logfmt'), '5138-11-16T09:46:39Z');
  assert.equal(tsOf('ts=100000000000', 'UTC', 'logfmt'), '1973-03-03T09:46:40.000Z');
  // Leading zeros do not make a number long (found by the fuzz test).
  assert.equal(tsOf('time=00000000000000001', 'UTC', 'logfmt'), '1970-01-01T00:00:01Z');
  assert.equal(tsOf('ts="00000001714521600"', 'UTC', 'logfmt'), '2024-05-01T00:00:00Z');
  assert.equal(tsOf('ts=00000000000000000000000000.5', 'UTC', 'logfmt'), '1970-01-01T00:00:00.5Z');
  assert.equal(tsOf('ts=0000012345678901234567', 'UTC', 'logfmt'), null);
});

test('levels are normalized; levelRaw keeps the spelling', () => {
  const lines = ['WARNING', 'err', 'Crit', 'NOTICE', 'panic', 'Informational', 'fine', 'TRC'].map((l) => `2024-05-01 00:00:00 [${l}] x`);
  const got = parseBuffer(lines.join('\n'), { format: 'classic', levelRaw: true }).records().map((r) => [r.level, r.levelRaw]);
  assert.deepEqual(got, [['warn', 'WARNING'], ['error', 'err'], ['fatal', 'Crit'], ['info', 'NOTICE'], ['fatal', 'panic'], ['info', 'Informational'], ['debug', 'fine'], ['trace', 'TRC']]);
  const pino = parseBuffer('{"level":50,"msg":"x"}\n{"level":35,"msg":"y"}\n', { format: 'json', levelRaw: true }).records();
  assert.deepEqual(pino.map((r) => [r.level, r.levelRaw, r.fields]), [['error', '50', {}], [null, null, { level: 35 }]]);
});
