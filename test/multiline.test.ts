// Multiline records: continuation lines joined into the record before them,
// against the plain reference on random inputs, cut at every byte of a
// stream and at every chunk boundary of the worker pool (exactly once).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBuffer, parseFile, parseStream, crc32c, type ParseOptions } from '../src/index.js';
import { WorkerPool } from '../src/pool/pool.js';
import { DEFAULTS } from '../src/options.js';
import { referenceParse, type RefMultiline } from './support/reference.js';
import { randomInput, Rng } from './support/random.js';

const KINDS = ['classic', 'trace', 'trace', 'trace', 'empty', 'garbage', 'logfmt'] as const;

function records(ndjson: Buffer): Record<string, unknown>[] {
  return ndjson.toString('utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
}

function randomRule(r: Rng): RefMultiline {
  return { start: r.pick(['indent', 'timestamp'] as const), maxLines: r.pick([1, 2, 3, 500]), maxBytes: r.pick([64, 100, 300, 4096]) };
}

const JAVA = [
  '2024-05-01 12:00:00.000 [INFO] starting',
  '2024-05-01 12:00:01.000 [ERROR] request failed user=u1',
  'java.lang.IllegalStateException: boom',
  '\tat com.example.Foo.bar(Foo.java:10)',
  '\tat com.example.Main.main(Main.java:5)',
  'Caused by: java.io.IOException: disk full',
  '\tat com.example.Disk.write(Disk.java:3)',
  '\t... 2 more',
  '2024-05-01 12:00:02.000 [INFO] done',
].join('\n') + '\n';

const PYTHON = [
  '2024-05-01 12:00:00,000 [ERROR] handler crashed',
  'Traceback (most recent call last):',
  '  File "app.py", line 10, in <module>',
  '    main()',
  'ValueError: bad input',
  '',
  '2024-05-01 12:00:01,000 [INFO] next',
].join('\r\n');

test('a Java stack trace with its Caused by: chain is one record, under both rules', () => {
  for (const start of ['timestamp', 'indent'] as const) {
    const got = records(parseBuffer(JAVA, { format: 'classic', multiline: start }).ndjson);
    const lines = JAVA.split('\n');
    // "indent" keeps the exception line (not indented) apart from the log line before it.
    const firstTrace = start === 'timestamp' ? 1 : 2;
    assert.equal(got.length, start === 'timestamp' ? 3 : 4, start);
    const trace = got[start === 'timestamp' ? 1 : 2];
    const offset = JAVA.indexOf(lines[firstTrace]);
    const end = JAVA.indexOf('\t... 2 more') + '\t... 2 more'.length;
    assert.equal(trace.offset, offset);
    assert.equal(trace.line, firstTrace + 1);
    assert.equal(trace.len, end - offset);
    assert.equal(trace.crc, crc32c(Buffer.from(JAVA.slice(offset, end))));
    assert.equal(trace.msg, (start === 'timestamp' ? 'request failed user=u1\n' : '') + lines.slice(2, 8).join('\n'));
    assert.equal(trace.truncated, undefined);
    assert.equal(got[got.length - 1].msg, 'done');
  }
});

test('a Python traceback is one record under "timestamp"; CRLF endings and an empty line inside', () => {
  const text = PYTHON.replace('ValueError: bad input\r\n', 'ValueError: bad input\r\n\r\n  during handling\r\n');
  const got = records(parseBuffer(text, { format: 'classic', multiline: 'timestamp' }).ndjson);
  assert.equal(got.length, 2);
  const end = text.indexOf('  during handling') + '  during handling'.length;
  assert.deepEqual(
    { offset: got[0].offset, line: got[0].line, len: got[0].len, crc: got[0].crc, level: got[0].level, ts: got[0].ts },
    { offset: 0, line: 1, len: end, crc: crc32c(Buffer.from(text.slice(0, end))), level: 'error', ts: '2024-05-01T12:00:00.000Z' },
  );
  // Lines are joined with LF (the CRs of CRLF are line endings, not text); the empty line stays.
  assert.equal(got[0].msg, 'handler crashed\nTraceback (most recent call last):\n  File "app.py", line 10, in <module>\n    main()\nValueError: bad input\n\n  during handling');
  assert.equal(got[1].line, 9);
  assert.equal(got[1].msg, 'next');
});

test('empty lines after a record\'s last line are not part of it', () => {
  const got = records(parseBuffer('2024-05-01 00:00:00 [INFO] a\n  b\n\n\n2024-05-01 00:00:01 [INFO] c\n\n', { format: 'classic', multiline: 'indent' }).ndjson);
  assert.deepEqual(got.map((r) => [r.offset, r.line, r.len, r.msg]), [[0, 1, 32, 'a\n  b'], [35, 5, 28, 'c']]);
});

test('maxLines and maxBytes cut the text, not the record: len and crc span every line', () => {
  const lines = ['2024-05-01 00:00:00 [ERROR] x', ...Array.from({ length: 10 }, (_, i) => `\tat frame${i}`)];
  const text = lines.join('\n');
  const byLines = records(parseBuffer(text, { format: 'classic', multiline: { start: 'indent', maxLines: 3 } }).ndjson);
  assert.equal(byLines.length, 1);
  assert.equal(byLines[0].msg, 'x\n\tat frame0\n\tat frame1');
  assert.equal(byLines[0].truncated, true);
  assert.equal(byLines[0].len, text.length);
  assert.equal(byLines[0].crc, crc32c(Buffer.from(text)));
  const byBytes = records(parseBuffer(text, { format: 'classic', multiline: { start: 'indent', maxBytes: 64 } }).ndjson);
  assert.equal(byBytes.length, 1);
  assert.equal(Buffer.byteLength(lines.join('\n').slice(0, 64)), 64);
  assert.equal(byBytes[0].msg, text.slice('2024-05-01 00:00:00 [ERROR] '.length, 64));
  assert.equal(byBytes[0].truncated, true);
  assert.equal(byBytes[0].len, text.length);
});

test('a start pattern, and "timestamp" with a pattern format\'s own timestamp layout', () => {
  const hdfs = [
    '081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 terminating',
    '081109 203807 222 WARN dfs.DataNode$DataXceiver: writeBlock got exception',
    'java.io.IOException: Connection reset by peer',
    '\tat sun.nio.ch.FileDispatcher.read0(Native Method)',
    '081109 204005 35 INFO dfs.FSNamesystem: BLOCK* NameSystem.addStoredBlock',
  ].join('\n');
  const format = { pattern: '%{@ts:%y%m%d %H%M%S} %{pid:int} %{@level} %{component}: %{@msg}' };
  for (const multiline of ['timestamp', { pattern: '%{@ts:%y%m%d %H%M%S} ' }] as const) {
    const got = records(parseBuffer(hdfs, { format, multiline }).ndjson);
    assert.deepEqual(got.map((r) => r.line), [1, 2, 5], JSON.stringify(multiline));
    assert.equal(got[1].msg, 'writeBlock got exception\njava.io.IOException: Connection reset by peer\n\tat sun.nio.ch.FileDispatcher.read0(Native Method)');
    assert.equal(got[1].level, 'warn');
    assert.deepEqual(got[1].fields, { pid: 222, component: 'dfs.DataNode$DataXceiver' });
  }
  // A built-in format: syslog lines whose continuation lines are indented.
  const syslog = 'Jun 14 15:16:01 combo sshd[19939]: error: boom\n  detail one\n  detail two\nJun 14 15:16:02 combo su: ok\n';
  const got = records(parseBuffer(syslog, { format: 'syslog', multiline: 'timestamp' }).ndjson);
  assert.deepEqual(got.map((r) => r.msg), ['error: boom\n  detail one\n  detail two', 'ok']);
  // Each alternative of a format brings its own timestamp: RFC 5424 and RFC 3164 lines in one file.
  const mixed = '<165>1 2003-10-11T22:14:15.003Z mymachine evntslog - ID47 - first\n  more\nJun 14 15:16:02 combo su: second\n\tdetail\n<34>1 - host app - - - third\n';
  assert.deepEqual(records(parseBuffer(mixed, { format: 'syslog', multiline: 'timestamp' }).ndjson).map((r) => r.msg), ['first\n  more', 'second\n\tdetail', 'third']);
  const apache = '[Wed Oct 11 14:32:52.123456 2000] [core:error] [pid 35708:tid 4328636416] AH00124: boom\nstack line\n[Sun Dec 04 04:47:44 2005] [notice] ok\n';
  assert.deepEqual(records(parseBuffer(apache, { format: 'apache_error', multiline: 'timestamp' }).ndjson).map((r) => r.msg), ['AH00124: boom\nstack line', 'ok']);
  // auto looks at records, not lines: the continuation lines don't stop it from seeing syslog.
  for (const multiline of ['timestamp', 'indent'] as const) {
    const run = parseBuffer(syslog, { multiline });
    assert.deepEqual(records(run.ndjson).map((r) => [r.msg, (r.fields as { host?: string }).host]), [['error: boom\n  detail one\n  detail two', 'combo'], ['ok', 'combo']], multiline);
  }
});

for (const flavor of ['simd', 'scalar'] as const) {
  test(`multiline records (${flavor}) match the reference on random inputs`, () => {
    for (let seed = 1; seed <= 1500; seed++) {
      const r = new Rng(seed * 6151);
      const input = randomInput(r, 1 + r.int(16), KINDS);
      const format = r.pick(['classic', 'logfmt', 'json'] as const);
      const maxRecordBytes = r.pick([64, 128, 1 << 20]);
      const m = randomRule(r);
      const multiline = { ...m, maxBytes: Math.min(m.maxBytes, maxRecordBytes) };
      const got = records(parseBuffer(input, { format, maxRecordBytes, multiline, fileName: 'm.log' }, { flavor }).ndjson);
      const want = referenceParse(input, { file: 'm.log', format, maxRecordBytes, multiline });
      assert.deepStrictEqual(got, want, `seed ${seed} ${format} max ${maxRecordBytes} ${JSON.stringify(multiline)}\ninput ${JSON.stringify(input.toString('latin1'))}`);
    }
  });
}

test('split and crc modes count the same multiline records as a full parse', () => {
  for (let seed = 1; seed <= 300; seed++) {
    const r = new Rng(seed * 7001);
    const input = randomInput(r, 1 + r.int(30), KINDS);
    const multiline = randomRule(r);
    const want = referenceParse(input, { file: '-', format: 'classic', multiline }).length;
    for (const mode of ['split', 'crc', 'parse'] as const) {
      assert.equal(parseBuffer(input, { format: 'classic', multiline }, { mode }).count, want, `seed ${seed} ${mode}`);
    }
  }
});

test('a stream cut at every byte gives the same records', async () => {
  for (let seed = 1; seed <= 30; seed++) {
    const r = new Rng(seed * 3571);
    const input = randomInput(r, 2 + r.int(10), KINDS);
    const opts: ParseOptions = { format: 'classic', multiline: randomRule(r), fileName: 's.log' };
    const whole = parseBuffer(input, opts).ndjson;
    for (let cut = 0; cut <= input.length; cut++) {
      const parts: Buffer[] = [];
      for await (const b of parseStream((async function* () { yield input.subarray(0, cut); yield input.subarray(cut); })(), opts)) parts.push(b.ndjson);
      const got = Buffer.concat(parts);
      if (!got.equals(whole)) assert.equal(got.toString(), whole.toString(), `seed ${seed} cut ${cut}`);
    }
  }
});

test('files cut into chunks at every size: each record exactly once, mmap and pread, with the file CRC', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'logwire-multiline-'));
  const pools = new Map<number, WorkerPool>();
  try {
    for (let seed = 1; seed <= 12; seed++) {
      const r = new Rng(seed * 9973);
      // Long runs of continuation lines, so that records cross several chunks.
      const input = randomInput(r, 200 + r.int(200), seed % 3 === 0 ? ['classic', 'trace', 'trace', 'trace', 'trace', 'trace', 'trace', 'empty'] : KINDS);
      const path = join(dir, `f${seed}.log`);
      writeFileSync(path, input);
      const multiline = randomRule(r);
      const opts: ParseOptions = { format: 'classic', multiline, fileName: 'f.log' };
      const want = parseBuffer(input, opts).ndjson;
      assert.deepStrictEqual(records(want), referenceParse(input, { file: 'f.log', format: 'classic', multiline }), `seed ${seed}`);
      for (const chunkBytes of [1, 7, 64, 333, 1000, 4096]) {
        for (const io of ['mmap', 'pread'] as const) {
          const workers = chunkBytes % 2 === 0 ? 2 : 1;
          let pool = pools.get(workers);
          if (!pool) pools.set(workers, (pool = new WorkerPool(workers, { maxRecordBytes: DEFAULTS.maxRecordBytes, windowBytes: 4096, inflightBytes: DEFAULTS.inflightBytes })));
          const run = parseFile(path, { ...opts, workers, io }, { chunkBytes, windowBytes: 4096, pool, fileCrc: true });
          const parts: Buffer[] = [];
          for await (const b of run) parts.push(b.ndjson);
          const got = Buffer.concat(parts);
          if (!got.equals(want)) assert.equal(got.toString(), want.toString(), `seed ${seed} chunk ${chunkBytes} ${io}`);
          assert.equal(run.stats.crc, crc32c(input), `file CRC, seed ${seed} chunk ${chunkBytes} ${io}`);
          assert.equal(run.stats.records, records(want).length);
        }
      }
    }
  } finally {
    for (const p of pools.values()) await p.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a file that starts with more empty lines than a chunk holds: its first record once, whether its first line looks like a start or not', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'logwire-multiline-'));
  const pools = new Map<number, WorkerPool>();
  try {
    const cases = [
      '2024-05-01 12:00:00.000 [INFO] first\n  cont\n2024-05-01 12:00:01.000 [INFO] second\n',
      '  starts indented\n  cont\n2024-05-01 12:00:01.000 [INFO] second\n',
    ];
    for (const [i, body] of cases.entries()) {
      for (const blanks of [100, 5000]) {
        const input = '\n'.repeat(blanks) + body;
        const path = join(dir, `lead-${i}-${blanks}.log`);
        writeFileSync(path, input);
        for (const start of ['indent', 'timestamp'] as const) {
          const multiline = { start, maxLines: 500, maxBytes: 4096 };
          const opts: ParseOptions = { format: 'classic', multiline, fileName: 'f.log' };
          const want = parseBuffer(input, opts).ndjson;
          assert.deepStrictEqual(records(want), referenceParse(Buffer.from(input), { file: 'f.log', format: 'classic', multiline }));
          for (const chunkBytes of [64, 1000, 4096]) {
            for (const workers of [1, 2]) {
              let pool = pools.get(workers);
              if (!pool) pools.set(workers, (pool = new WorkerPool(workers, { maxRecordBytes: DEFAULTS.maxRecordBytes, windowBytes: 4096, inflightBytes: DEFAULTS.inflightBytes })));
              const parts: Buffer[] = [];
              for await (const b of parseFile(path, { ...opts, workers }, { chunkBytes, windowBytes: 4096, pool })) parts.push(b.ndjson);
              assert.equal(Buffer.concat(parts).toString(), want.toString(), `case ${i}, ${blanks} blanks, ${start}, chunk ${chunkBytes}, ${workers} workers`);
            }
          }
        }
      }
    }
  } finally {
    for (const p of pools.values()) await p.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('multiline options are checked, with messages that name them', () => {
  const bad = (multiline: unknown, re: RegExp) => assert.throws(() => parseBuffer('x', { multiline } as ParseOptions), (e: Error & { code?: string }) => e.code === 'LOGWIRE_ERR_INVALID_OPTION' && re.test(e.message), String(multiline));
  bad('lines', /option "multiline.start" must be "indent", "timestamp"/);
  bad({ start: 'indent', maxLines: 0 }, /option "multiline.maxLines" must be an integer from 1/);
  bad({ start: 'indent', maxBytes: 2 << 20 }, /option "multiline.maxBytes" must be an integer from 64 to maxRecordBytes \(1048576\)/);
  bad({ start: 'indent', max: 3 }, /option "multiline.max" must be one of start, maxLines, maxBytes/);
  bad({ pattern: '%{a' }, /option "multiline": pattern column 1: this %\{ is not closed/);
  bad(42, /option "multiline" must be/);
});
