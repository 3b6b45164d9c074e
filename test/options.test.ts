// Option checking (src/options.ts): every wrong type or value, and every
// unknown name, is LOGWIRE_ERR_INVALID_OPTION naming the option, from every
// entry point and before any I/O; the defaults do what docs/records.md says.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { LogwireError, parseBuffer, parseFile, parseStream, type ParseOptions } from '../src/index.js';
import { loadNative } from '../src/io/native.js';
import { referenceParse } from './support/reference.js';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'logwire-options-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Wrong values for each option (as the untyped JavaScript caller may pass them). */
const WRONG: Record<string, unknown[]> = {
  format: ['xml', 'JSON', 'Auto', '', 1, true, {}, ['json'], { pattern: 5 }, { pattern: '%{a}', extra: 1 }],
  tz: ['', 'Mars/Olympus_Mons', '+25:00', '+05:60', '+5:30', 'UTC+', 'local', 5, true, {}],
  workers: [0, -1, 1.5, 257, NaN, Infinity, '2', true, {}, 2n],
  io: ['MMAP', 'read', 'stream', '', 1, true, {}],
  maxRecordBytes: [63, 0, -1, 64.5, (64 << 20) + 1, '1024', NaN, Infinity, true],
  levelRaw: ['true', 'false', 1, 0, {}],
  fileName: [1, {}, true, Buffer.from('a.log'), ['a.log']],
  signal: [{}, 'x', true, new AbortController(), { aborted: false, addEventListener() {}, removeEventListener() {} }],
};

function show(v: unknown): string {
  return typeof v === 'bigint' ? `${v}n` : typeof v === 'string' ? JSON.stringify(v) : Array.isArray(v) ? `[${v.map(show).join(',')}]` : String(v);
}

/** Calls fn and checks it throws LOGWIRE_ERR_INVALID_OPTION naming `name`, synchronously. */
function assertInvalid(fn: () => unknown, name: string, what: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  assert.ok(thrown !== undefined, `${what}: did not throw`);
  assert.ok(thrown instanceof LogwireError, `${what}: threw ${String(thrown)}, not a LogwireError`);
  assert.equal(thrown.code, 'LOGWIRE_ERR_INVALID_OPTION', `${what}: code (message: ${thrown.message})`);
  assert.ok(thrown.message.includes(`"${name}"`), `${what}: the message does not name "${name}": ${thrown.message}`);
}

/** Every entry point, each must reject the options before reading anything. */
function entryPoints(): { name: string; call: (o: ParseOptions) => unknown }[] {
  const missing = join(dir, 'does-not-exist.log');
  return [
    { name: 'parseBuffer', call: (o) => parseBuffer('2024-05-01T00:00:00Z [INFO] x\n', o) },
    { name: 'parseStream', call: (o) => parseStream(Readable.from([]), o) },
    // A missing file: an option error must come first, synchronously.
    { name: 'parseFile', call: (o) => parseFile(missing, o) },
  ];
}

for (const [name, values] of Object.entries(WRONG)) {
  test(`option "${name}": wrong types and values are LOGWIRE_ERR_INVALID_OPTION naming it`, () => {
    for (const value of values) {
      for (const entry of entryPoints()) {
        assertInvalid(() => entry.call({ [name]: value } as ParseOptions), name, `${entry.name}({ ${name}: ${show(value)} })`);
      }
    }
  });
}

test('messages show what was given: a plain object as its JSON, any other object by its class', () => {
  const message = (o: ParseOptions) => {
    try {
      parseBuffer('x', o);
    } catch (err) {
      return (err as Error).message;
    }
    return assert.fail('did not throw');
  };
  assert.match(message({ workers: { n: 2 } as unknown as number }), /got \{"n":2\}$/);
  assert.match(message({ tz: new Date(0) as unknown as string }), /got an instance of Date$/);
  assert.match(message({ format: { pattern: '%{a}', extra: 1 } as unknown as { pattern: string } }), /no other key.*got \{"pattern":"%\{a\}","extra":1\}$/);
});

test('a fileName with a lone surrogate is written with U+FFFD in its place', () => {
  const [r] = parseBuffer('x\n', { fileName: 'a\uD800b\uDC00c\uD83D\uDE00.log', format: 'classic' });
  assert.equal(r.file, 'a\uFFFDb\uFFFDc\uD83D\uDE00.log');
  assert.ok(!parseBuffer('x\n', { fileName: 'a\uD800', format: 'classic' }).ndjson.toString().includes('\\ud800'));
});

test('parseBuffer with an aborted signal throws LOGWIRE_ERR_ABORTED', () => {
  assert.throws(() => parseBuffer('x\n', { signal: AbortSignal.abort() }), (err: unknown) => err instanceof LogwireError && err.code === 'LOGWIRE_ERR_ABORTED');
});

test('unknown option names are LOGWIRE_ERR_INVALID_OPTION naming them', () => {
  for (const name of ['formats', 'worker', 'maxRecordSize', 'tZ', 'timezone', 'level_raw', 'file', 'abortSignal', 'constructor', '']) {
    for (const entry of entryPoints()) {
      assertInvalid(() => entry.call({ [name]: 'x' } as ParseOptions), name, `${entry.name}({ ${JSON.stringify(name)}: "x" })`);
    }
  }
  // Alongside good options, too.
  assertInvalid(() => parseBuffer('x', { format: 'json', colour: true } as ParseOptions), 'colour', 'a known and an unknown option');
});

test('options that are not an object are LOGWIRE_ERR_INVALID_OPTION', () => {
  for (const value of [null, 'json', 5, true]) {
    for (const entry of entryPoints()) {
      assertInvalid(() => entry.call(value as unknown as ParseOptions), 'options', `${entry.name}(${show(value)})`);
    }
  }
});

test('null is not a value of any option (it is neither a value nor "not given")', () => {
  // io, fileName and signal reject null; the others should as well, not silently take the default.
  const accepted: string[] = [];
  for (const name of Object.keys(WRONG)) {
    try {
      parseBuffer('x\n', { [name]: null } as unknown as ParseOptions);
      accepted.push(name);
    } catch (err) {
      assert.ok(err instanceof LogwireError && err.code === 'LOGWIRE_ERR_INVALID_OPTION', `${name}: null threw ${String(err)}`);
      assert.ok(err.message.includes(`"${name}"`), err.message);
    }
  }
  assert.deepEqual(accepted, [], 'options that accept null silently');
});

test('the inputs themselves are checked: path, readable, buf', () => {
  for (const path of ['', 5, null, undefined, {}]) {
    assertInvalid(() => parseFile(path as unknown as string), 'path', `parseFile(${show(path)})`);
  }
  for (const readable of [null, 5, 'text', {}, Buffer.from('x')]) {
    assertInvalid(() => parseStream(readable as unknown as Readable), 'readable', `parseStream(${show(readable)})`);
  }
  for (const buf of [null, 5, {}, [1, 2, 3], new ArrayBuffer(4)]) {
    assertInvalid(() => parseBuffer(buf as unknown as Uint8Array), 'buf', `parseBuffer(${show(buf)})`);
  }
});

test('valid values of every option are accepted', () => {
  const VALID: Record<string, unknown[]> = {
    format: ['auto', 'classic', 'logfmt', 'json', undefined],
    tz: ['UTC', 'utc', 'GMT', 'Z', '+05:30', '-0800', '+05', '-23:59', 'Europe/Berlin', 'America/New_York', undefined],
    workers: [1, 2, 256, undefined],
    io: ['pread', undefined, ...(loadNative() ? ['mmap'] : [])],
    maxRecordBytes: [64, 1000, 1 << 20, 64 << 20, undefined],
    levelRaw: [true, false, undefined],
    fileName: ['', 'a.log', 'dir/ü "quoted".log', undefined],
    signal: [new AbortController().signal, AbortSignal.timeout(60_000), undefined],
  };
  for (const [name, values] of Object.entries(VALID)) {
    for (const value of values) {
      const o = { [name]: value } as ParseOptions;
      assert.doesNotThrow(() => parseBuffer('2024-05-01T00:00:00Z [INFO] x\n', o), `parseBuffer({ ${name}: ${show(value)} })`);
      assert.doesNotThrow(() => parseStream(Readable.from([]), o), `parseStream({ ${name}: ${show(value)} })`);
      assert.doesNotThrow(() => parseFile(join(dir, 'x.log'), o), `parseFile({ ${name}: ${show(value)} })`);
    }
  }
});

test('defaults: auto format, UTC, 1 MiB records, no levelRaw, file "-" for buffers and streams', async () => {
  const text = [
    '2024-05-01 10:00:00 [WARN] no zone given k=v',
    '2024-05-01T10:00:00.5+02:00 [info] with a zone',
  ].join('\n') + '\n';
  const batch = parseBuffer(text);
  const records = batch.records();
  assert.deepEqual(records, referenceParse(Buffer.from(text), { file: '-', format: 'auto' }));
  // By hand: classic chosen, local time read as UTC, no levelRaw key, file "-".
  assert.equal(records[0]!.file, '-');
  assert.equal(records[0]!.ts, '2024-05-01T10:00:00Z');
  assert.equal(records[0]!.level, 'warn');
  assert.deepEqual(records[0]!.fields, { k: 'v' });
  assert.equal(records[1]!.ts, '2024-05-01T08:00:00.5Z');
  assert.ok(!('levelRaw' in records[0]!), 'no levelRaw by default');
  assert.deepEqual(Object.keys(records[0]!), ['file', 'offset', 'line', 'len', 'crc', 'ts', 'level', 'msg', 'fields']);

  // maxRecordBytes defaults to 1 MiB: a line of exactly 1 MiB is whole, one byte more is truncated.
  const MiB = 1 << 20;
  const exact = Buffer.alloc(MiB, 'a');
  const over = Buffer.alloc(MiB + 1, 'a');
  const [whole, cut] = parseBuffer(Buffer.concat([exact, Buffer.from('\n'), over, Buffer.from('\n')])).records();
  assert.equal(whole!.len, MiB);
  assert.equal(whole!.truncated, undefined);
  assert.equal(whole!.msg!.length, MiB);
  assert.equal(cut!.len, MiB + 1);
  assert.equal(cut!.truncated, true);
  assert.equal(cut!.msg!.length, MiB);

  // Streams name their input "-" too.
  const chunks: Buffer[] = [];
  for await (const b of parseStream(Readable.from([Buffer.from(text)]))) chunks.push(b.ndjson);
  assert.equal(Buffer.concat(chunks).toString(), batch.ndjson.toString());
});

test('defaults for files: the path as given, one worker per core, mmap where the addon loaded', async () => {
  const path = join(dir, 'defaults.log');
  const text = '2024-05-01 10:00:00 [WARN] file\n';
  writeFileSync(path, text);
  const run = parseFile(path);
  const out: Buffer[] = [];
  for await (const b of run) out.push(b.ndjson);
  assert.equal(Buffer.concat(out).toString(), parseBuffer(text, { fileName: path }).ndjson.toString());
  assert.equal(run.stats.workers, availableParallelism());
  assert.equal(run.stats.io, loadNative() ? 'mmap' : 'pread');
  assert.equal(run.stats.format, 'classic');
});

test('option values take effect: tz, levelRaw, format, maxRecordBytes, fileName', () => {
  const line = '2024-05-01T10:00:00 [Warning] hello';
  const ts = (tz: string) => parseBuffer(line, { tz }).records()[0]!.ts;
  // By hand: 10:00 local.
  assert.equal(ts('+05:30'), '2024-05-01T04:30:00Z');
  assert.equal(ts('-0800'), '2024-05-01T18:00:00Z');
  assert.equal(ts('+05'), '2024-05-01T05:00:00Z');
  assert.equal(ts('Europe/Berlin'), '2024-05-01T08:00:00Z');
  assert.equal(ts('UTC'), '2024-05-01T10:00:00Z');
  const raw = parseBuffer(line, { levelRaw: true }).records()[0]!;
  assert.deepEqual(Object.keys(raw).slice(5, 9), ['ts', 'level', 'levelRaw', 'msg']);
  assert.equal(raw.levelRaw, 'Warning');
  assert.equal(raw.level, 'warn');
  assert.equal(parseBuffer(line, { format: 'json' }).records()[0]!.error, 'invalid json');
  const short = parseBuffer(`${line} ${'x'.repeat(100)}`, { maxRecordBytes: 64 }).records()[0]!;
  assert.equal(short.truncated, true);
  assert.equal(parseBuffer(line, { fileName: 'dir/ü "q".log' }).records()[0]!.file, 'dir/ü "q".log');
});
