// CRC32C: the RFC 3720 B.4 vectors through the WASM core (both builds) and
// the host, random inputs against the reference, and crc32c_combine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32c, crc32cCombine, parseBuffer } from '../src/index.js';
import { WasmCore } from '../src/wasm/bridge.js';
import { crc32c as refCrc } from './support/reference.js';
import { Rng } from './support/random.js';

const VECTORS: [string, Uint8Array, number][] = [
  ['32 bytes of zeros', new Uint8Array(32), 0x8a9136aa],
  ['32 bytes of 0xFF', new Uint8Array(32).fill(0xff), 0x62a8ab43],
  ['32 incrementing bytes', Uint8Array.from({ length: 32 }, (_, i) => i), 0x46dd794e],
  ['32 decrementing bytes', Uint8Array.from({ length: 32 }, (_, i) => 31 - i), 0x113fdb5c],
  ['"123456789"', new TextEncoder().encode('123456789'), 0xe3069283],
];

for (const flavor of ['simd', 'scalar'] as const) {
  test(`RFC 3720 B.4 vectors in the WASM core (${flavor})`, () => {
    const core = new WasmCore({ inputBytes: 1 << 16, maxRecordBytes: 1 << 16 }, flavor);
    for (const [name, bytes, want] of VECTORS) assert.equal(core.crc32c(bytes), want, name);
  });
}

test('RFC 3720 B.4 vectors on the host', () => {
  for (const [name, bytes, want] of VECTORS) assert.equal(crc32c(bytes), want, name);
});

test('the host crc32c takes a string as its UTF-8 bytes, and refuses what is not bytes', () => {
  assert.equal(crc32c('123456789'), 0xe3069283);
  assert.equal(crc32c('héllo'), crc32c(Buffer.from('héllo', 'utf8')));
  for (const wrong of [123, null, {}, [1, 2]]) {
    assert.throws(() => crc32c(wrong as unknown as string), (err: unknown) => (err as { code?: string }).code === 'LOGWIRE_ERR_INVALID_OPTION', String(wrong));
  }
});

test('a record\'s crc is the CRC32C of its bytes without the line ending', () => {
  const line = new TextEncoder().encode('123456789');
  const [a, b] = parseBuffer('123456789\r\n123456789', { format: 'classic' }).records();
  assert.equal(a.crc, 0xe3069283);
  assert.equal(b.crc, 0xe3069283);
  assert.equal(a.len, line.length);
});

test('WASM core and host agree with the reference on random inputs of every length', () => {
  const r = new Rng(42);
  const core = new WasmCore({ inputBytes: 1 << 16, maxRecordBytes: 1 << 16 });
  for (let len = 0; len < 600; len++) {
    const bytes = Uint8Array.from({ length: len }, () => r.int(256));
    const want = refCrc(bytes);
    assert.equal(core.crc32c(bytes), want, `core, length ${len}`);
    assert.equal(crc32c(bytes), want, `host, length ${len}`);
    // Continuing from a previous result.
    const cut = r.int(len + 1);
    assert.equal(core.crc32c(bytes.subarray(cut), core.crc32c(bytes.subarray(0, cut))), want, `continued at ${cut}`);
  }
});

test('crc32cCombine joins the CRCs of consecutive parts', () => {
  const r = new Rng(7);
  for (let i = 0; i < 200; i++) {
    const a = Uint8Array.from({ length: r.int(3000) }, () => r.int(256));
    const b = Uint8Array.from({ length: r.int(3000) }, () => r.int(256));
    const whole = new Uint8Array(a.length + b.length);
    whole.set(a);
    whole.set(b, a.length);
    assert.equal(crc32cCombine(refCrc(a), refCrc(b), b.length), refCrc(whole));
  }
});
