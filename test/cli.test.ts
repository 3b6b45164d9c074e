// The logwire command, run as a user runs it (node bin/logwire.js): help,
// version, output equal to the library's, stdin, --stats, and one clear line
// with exit code 2 for every mistake of the user's.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseBuffer } from '../src/index.js';
import { loadNative } from '../src/io/native.js';
import { crc32c, referenceParse } from './support/reference.js';
import { Client } from './support/ws-client.js';

// This file runs as build/js/test/cli.test.js.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(ROOT, 'bin/logwire.js');

/** Every option of `logwire parse`, as the help must show it. */
const PARSE_OPTIONS = ['--format', '--tz', '--workers', '--io', '--output', '--max-record-bytes', '--level-raw', '--stats', '--help'];

function logwire(args: string[], opts: { cwd?: string; input?: Buffer | string; timeout?: number; env?: NodeJS.ProcessEnv } = {}): SpawnSyncReturns<Buffer> {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? ROOT,
    env: opts.env ?? process.env,
    input: opts.input ?? '',
    timeout: opts.timeout ?? 30_000,
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  assert.equal(r.signal, null, `logwire ${args.join(' ')} was killed by ${r.signal} (timeout?): ${r.stderr}`);
  return r;
}

/** A small log in every shape, with a CRLF, an empty line, a level spelled oddly and no final LF. */
const SMALL = Buffer.from([
  '2024-05-01T00:00:00.007Z [INFO] started user=u0 path="/a b"',
  '2024-05-01 00:00:01,5 [Warning] slow k=v\r',
  '',
  'not a classic line at all',
  '2024-05-01T00:00:02+02:00 [ERR] failed code=7',
  'ts=2024-05-01T00:00:03Z level=info msg="logfmt line"',
  '{"level":"info","msg":"json line"}',
  '2024-05-01T00:00:04 [DEBUG] no final LF',
].join('\n'));

let dir = '';
let small = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'logwire-cli-'));
  small = join(dir, 'small.log');
  writeFileSync(small, SMALL);
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

test('--help exits 0 and shows every parse option', () => {
  for (const args of [['--help'], ['-h'], ['parse', '--help']]) {
    const r = logwire(args);
    assert.equal(r.status, 0, `logwire ${args.join(' ')}: ${r.stderr}`);
    const help = r.stdout.toString();
    for (const option of PARSE_OPTIONS) assert.ok(help.includes(option), `logwire ${args.join(' ')} does not mention ${option}`);
    assert.match(help, /logwire parse FILE/);
    assert.match(help, /logwire demo/);
    assert.equal(r.stderr.toString(), '');
  }
});

test('--version prints the package version', () => {
  const r = logwire(['--version']);
  assert.equal(r.status, 0);
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  assert.match(version, /^\d+\.\d+\.\d+/);
  assert.equal(r.stdout.toString(), `${version}\n`);
  assert.equal(r.stderr.toString(), '');
});

test('parse prints the NDJSON parseBuffer gives, with "file" the path as given', () => {
  const cases: { args: string[]; cwd: string; file: string }[] = [
    { args: ['parse', 'small.log'], cwd: dir, file: 'small.log' },
    { args: ['parse', './small.log', '--workers', '1'], cwd: dir, file: './small.log' },
    { args: ['parse', small, '--workers', '3', '--io', 'pread'], cwd: ROOT, file: small },
    ...(loadNative() ? [{ args: ['parse', '--io', 'mmap', small], cwd: ROOT, file: small }] : []),
  ];
  for (const c of cases) {
    const r = logwire(c.args, { cwd: c.cwd });
    assert.equal(r.status, 0, `${c.args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.toString(), '', c.args.join(' '));
    const want = parseBuffer(SMALL, { fileName: c.file }).ndjson;
    assert.equal(r.stdout.toString(), want.toString(), c.args.join(' '));
    // parseBuffer is the core too: the reference says the same.
    assert.deepEqual(r.stdout.toString().trimEnd().split('\n').map((l) => JSON.parse(l)), referenceParse(SMALL, { file: c.file, format: 'auto' }));
  }
});

test('parse passes --format, --tz, --max-record-bytes and --level-raw through', () => {
  const logfmt = Buffer.from([
    'ts=2024-05-01T10:00:00 level=WARN msg="local time" user=u1',
    `ts=2024-05-01T10:00:01 lvl=err msg="${'long '.repeat(40)}" tail=1`,
    'time=1714521600.5 severity=Notice message=epoch',
  ].join('\n') + '\n');
  const path = join(dir, 'opts.log');
  writeFileSync(path, logfmt);
  const r = logwire(['parse', '--format', 'logfmt', '--tz', '+05:30', '--max-record-bytes', '100', '--level-raw', path]);
  assert.equal(r.status, 0, r.stderr.toString());
  const options = { format: 'logfmt', tz: '+05:30', maxRecordBytes: 100, levelRaw: true } as const;
  assert.equal(r.stdout.toString(), parseBuffer(logfmt, { ...options, fileName: path }).ndjson.toString());
  const records = r.stdout.toString().trimEnd().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(records, referenceParse(logfmt, { file: path, format: 'logfmt', tz: '+05:30', maxRecordBytes: 100, levelRaw: true }));
  // By hand: 10:00 at +05:30 is 04:30Z; the long line is truncated; levelRaw is as written.
  assert.equal(records[0].ts, '2024-05-01T04:30:00Z');
  assert.equal(records[0].levelRaw, 'WARN');
  assert.equal(records[1].truncated, true);
  assert.equal(records[2].level, 'info');
});

test('an empty file prints nothing and exits 0', () => {
  const empty = join(dir, 'empty.log');
  writeFileSync(empty, '');
  const r = logwire(['parse', empty]);
  assert.equal(r.status, 0, r.stderr.toString());
  assert.equal(r.stdout.length, 0);
  assert.equal(r.stderr.toString(), '');
});

test('several files are printed in order', () => {
  const other = join(dir, 'other.log');
  const bytes = Buffer.from('{"msg":"second file","level":30}\n');
  writeFileSync(other, bytes);
  const r = logwire(['parse', small, other, '--workers', '2']);
  assert.equal(r.status, 0, r.stderr.toString());
  const want = Buffer.concat([parseBuffer(SMALL, { fileName: small }).ndjson, parseBuffer(bytes, { fileName: other }).ndjson]);
  assert.equal(r.stdout.toString(), want.toString());
});

test('- reads stdin', () => {
  const r = logwire(['parse', '-'], { input: SMALL });
  assert.equal(r.status, 0, r.stderr.toString());
  assert.equal(r.stderr.toString(), '');
  assert.equal(r.stdout.toString(), parseBuffer(SMALL, { fileName: '-' }).ndjson.toString());
  assert.match(r.stdout.toString(), /^\{"file":"-","offset":0,"line":1,/);
});

test('--output none prints nothing and exits 0', () => {
  for (const args of [['parse', '--output', 'none', small], ['parse', '--output', 'none', '-']]) {
    const r = logwire(args, { input: SMALL });
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout.length, 0, args.join(' '));
    assert.equal(r.stderr.toString(), '', args.join(' '));
  }
});

test('--stats prints totals, the file\'s (or stdin\'s) CRC32C and latency percentiles to stderr', () => {
  const records = referenceParse(SMALL, { file: small, format: 'auto' }).length;
  for (const [output, file] of [['ndjson', small], ['none', small], ['ndjson', '-'], ['none', '-']]) {
    const r = logwire(['parse', '--stats', '--output', output, file], { input: file === '-' ? SMALL : '' });
    assert.equal(r.status, 0, r.stderr.toString());
    assert.equal(r.stdout.toString(), output === 'ndjson' ? parseBuffer(SMALL, { fileName: file }).ndjson.toString() : '');
    const err = r.stderr.toString();
    const number = (label: string): number => {
      const m = new RegExp(`^${label.replace('/', '\\/')}\\s+([0-9.]+)$`, 'm').exec(err);
      assert.ok(m, `no "${label}" line in:\n${err}`);
      return Number(m[1]);
    };
    assert.equal(number('bytes'), SMALL.length, 'bytes');
    assert.equal(number('records'), records, 'records');
    assert.ok(number('MB/s') >= 0, 'MB/s');
    assert.ok(number('records/s') > 0, 'records/s');
    const crc = crc32c(SMALL);
    const crcLine = err.split('\n').find((l) => l.startsWith(`${file}: crc32c`));
    assert.ok(crcLine, `no "${file}: crc32c" line in:\n${err}`);
    const m = /crc32c (\d+) \(0x([0-9a-f]{8})\)/.exec(crcLine);
    assert.ok(m, crcLine);
    assert.equal(Number(m[1]), crc, 'crc32c (decimal)');
    assert.equal(parseInt(m[2]!, 16), crc, 'crc32c (hex)');
    const lat = /latency.*p50 (\d+(?:\.\d+)?)\s+p99 (\d+(?:\.\d+)?)\s+p99\.9 (\d+(?:\.\d+)?)\s+max (\d+(?:\.\d+)?)/.exec(err);
    assert.ok(lat, `no latency line with p50/p99/p99.9/max in:\n${err}`);
    const [p50, p99, p999, max] = lat.slice(1).map(Number) as [number, number, number, number];
    assert.ok(p50 <= p99 && p99 <= p999 && p999 <= max, `percentiles in order: ${lat[0]}`);
    assert.ok(!err.includes('    at '), err);
  }
});

/** A user's mistake: exit 2, nothing on stdout, exactly one line on stderr starting "logwire: ", no stack. */
function assertUserError(r: SpawnSyncReturns<Buffer>, what: string, mentions?: RegExp): string {
  const err = r.stderr.toString();
  assert.equal(r.status, 2, `${what}: exit code (stderr: ${err})`);
  assert.equal(r.stdout.length, 0, `${what}: stdout: ${r.stdout}`);
  assert.ok(!err.includes('    at '), `${what}: a stack trace on stderr:\n${err}`);
  assert.match(err, /^logwire: [^\n]+\n$/, `${what}: stderr is not one line starting "logwire: ":\n${err}`);
  if (mentions) assert.match(err, mentions, `${what}: the message should mention ${mentions}`);
  return err;
}

test('user mistakes: exit 2, one line on stderr, no stack trace, nothing on stdout', () => {
  const sub = join(dir, 'a-directory');
  mkdirSync(sub, { recursive: true });
  const missing = join(dir, 'no-such.log');
  const cases: { args: string[]; mentions?: RegExp }[] = [
    { args: ['parse', missing], mentions: /no-such\.log/ },
    { args: ['parse', sub], mentions: /a-directory/ },
    { args: ['parse', small, missing], mentions: /no-such\.log/ },
    { args: ['parse', '--bogus', small], mentions: /bogus/ },
    { args: ['parse', small, '--format'], mentions: /format/ },
    { args: ['parse', '--format', 'xml', small], mentions: /format/ },
    { args: ['parse', '--io', 'mmapp', small], mentions: /io/ },
    { args: ['parse', '--output', 'csv', small], mentions: /output/ },
    { args: ['parse', '--workers', '0', small], mentions: /workers/ },
    { args: ['parse', '--workers', 'two', small], mentions: /workers/ },
    { args: ['parse', '--workers', '1.5', small], mentions: /workers/ },
    { args: ['parse', '--workers', '-1', small], mentions: /workers/ },
    { args: ['parse', small, '--format', '--tz', 'UTC'], mentions: /format/ },
    { args: ['parse', '--workers', '100000', small], mentions: /workers/ },
    { args: ['parse', '--tz', 'Mars/Olympus_Mons', small], mentions: /tz|zone/ },
    { args: ['parse', '--tz', '+25:00', small], mentions: /tz|zone|offset/ },
    { args: ['parse', '--max-record-bytes', '10', small], mentions: /max-record-bytes|maxRecordBytes/ },
    { args: ['parse'], mentions: /FILE/ },
    { args: ['frobnicate'], mentions: /frobnicate/ },
    { args: ['demo', 'extra'] },
    { args: ['demo', '--parse', '--port', '1'] },
    { args: ['serve'], mentions: /source/ },
    { args: ['serve', '--source', 'app'], mentions: /source/ },
    { args: ['serve', '--source', 'app=/tmp/*.log,format=xml'], mentions: /format/ },
    { args: ['serve', '--source', 'app=/tmp/*.log,format=pattern:%{a:nil,bogus},tz=UTC'], mentions: /sources\[0\]\.format: pattern column 1: unknown field type "bogus"/ },
    { args: ['serve', '--source', 'app=/tmp/*/x.log'], mentions: /last component/ },
    { args: ['serve', '--source', 'app=/tmp/x.log', '--port', 'eighty'], mentions: /--port/ },
    { args: ['serve', '--source', 'app=/tmp/x.log', '--queue-bytes', '1'], mentions: /--queue-bytes/ },
    { args: ['serve', '--config', join(dir, 'no-such.json')], mentions: /no such file/ },
  ];
  for (const c of cases) assertUserError(logwire(c.args), `logwire ${c.args.join(' ')}`, c.mentions);
});

test('--tz takes a negative offset as its value, with or without =', () => {
  const line = '2024-05-01 12:00:00 [INFO] x\n';
  for (const args of [['--tz', '-05:00'], ['--tz', '-0500'], ['--tz=-05:00']]) {
    const r = logwire(['parse', '-', '--format', 'classic', ...args], { input: line });
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(JSON.parse(r.stdout.toString()).ts, '2024-05-01T17:00:00Z', args.join(' '));
  }
});

test('a stdout that cannot be written (a full disk): one line on stderr, exit 1', { skip: !existsSync('/dev/full') && 'no /dev/full here' }, () => {
  const r = spawnSync('bash', ['-c', `"${process.execPath}" "${BIN}" parse "${small}" > /dev/full`], { timeout: 30_000 });
  assert.equal(r.status, 1);
  assert.equal(r.stderr.toString(), 'logwire: cannot write the output: no space left on device\n');
});

test('an option error wins over a missing file', () => {
  const missing = join(dir, 'no-such.log');
  for (const [args, mentions] of [
    [['parse', missing, '--format', 'xml'], /format/],
    [['parse', missing, '--workers', '0'], /workers/],
    [['parse', missing, '--tz', 'Nowhere/Atlantis'], /tz|zone/],
    [['parse', missing, '--output', 'csv'], /output/],
  ] as const) {
    const err = assertUserError(logwire([...args]), `logwire ${args.join(' ')}`, mentions);
    assert.ok(!err.includes('no-such'), `the option error should come first: ${err}`);
  }
});

test('--io mmap without the native addon is an option error, and it too wins over a missing file', () => {
  const missing = join(dir, 'no-such.log');
  // LOGWIRE_ERR_INVALID_OPTION from the library; main.ts: "option errors before file errors".
  const env = { ...process.env, LOGWIRE_NO_NATIVE: '1' };
  assertUserError(logwire(['parse', small, '--io', 'mmap'], { env }), 'LOGWIRE_NO_NATIVE=1 logwire parse FILE --io mmap', /mmap/);
  const err = assertUserError(logwire(['parse', missing, '--io', 'mmap'], { env }), 'LOGWIRE_NO_NATIVE=1 logwire parse MISSING --io mmap', /mmap/);
  assert.ok(!err.includes('no-such'), `the option error should come first: ${err}`);
});

test('logwire parse big | head -1: a closed pipe ends the run quietly', { timeout: 60_000 }, () => {
  const big = join(dir, 'big.log');
  const line = (i: number) => `2024-05-01T00:00:00.${String(i % 1000).padStart(3, '0')}Z [INFO] request ${i} user=u${i % 97} path=/api/v1/items/${i}\n`;
  const parts: string[] = [];
  for (let i = 0; i < 200_000; i++) parts.push(line(i));
  writeFileSync(big, parts.join(''));
  const script = `"${process.execPath}" "${BIN}" parse "${big}" | head -1; echo "status=\${PIPESTATUS[0]}" >&2`;
  const r = spawnSync('bash', ['-c', script], { timeout: 30_000 });
  assert.equal(r.signal, null, 'the pipeline was killed (hung?)');
  assert.equal(r.stderr.toString(), 'status=0\n', 'logwire exits 0 and writes nothing to stderr');
  const first = r.stdout.toString();
  assert.equal(first, parseBuffer(line(0), { fileName: big }).ndjson.toString());
});

test('demo --parse exits 0 and prints records', { timeout: 120_000 }, () => {
  const r = logwire(['demo', '--parse'], { timeout: 100_000 });
  assert.equal(r.status, 0, r.stderr.toString());
  const records = r.stdout.toString().split('\n').filter((l) => l.startsWith('{'));
  assert.ok(records.length >= 1, `no records in:\n${r.stdout}`);
  for (const l of records) {
    const rec = JSON.parse(l) as { offset: number; line: number; level: string | null; msg: string | null; fields: object };
    assert.equal(typeof rec.offset, 'number');
    assert.ok(rec.line >= 1);
    assert.ok(rec.level !== null && rec.msg !== null, l);
  }
  assert.ok(!r.stderr.toString().includes('    at '), r.stderr.toString());
});

test('demo (npm start) runs the service on a live demo log, prints the viewer URL and a tail command, stops on SIGINT', { timeout: 60_000 }, async () => {
  const child = spawn(process.execPath, [BIN, 'demo', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no banner in:\n${out}`)), 20_000);
      child.stdout!.on('data', () => {
        const m = /viewer\s+(http:\/\/\S+)\//.exec(out);
        if (m && /tail ws:\/\/\S+ demo/.test(out)) {
          clearTimeout(t);
          resolve(m[1]);
        }
      });
    });
    const c = await Client.connect(url);
    c.send({ op: 'subscribe', id: 'd', source: 'demo', from: 'end' });
    // The generator appends ~200 lines/s: live records arrive.
    const got = await c.waitRecords('d', 20, 15_000);
    assert.ok(got.every((r) => typeof r.ts === 'string' && r.level !== null), JSON.stringify(got[0]));
    await c.close();
    assert.match(await (await fetch(`${url}/healthz`)).text(), /ok/);
  } finally {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    assert.equal(await exited, 0);
  }
});

test('a slow reader on a pipe gets the same bytes as a file: batch buffers are reused only once written', { timeout: 120_000 }, () => {
  // Many small files: batches under 16 KiB, which a full pipe queues while write() still returns true.
  const files: string[] = [];
  const many = join(dir, 'many');
  mkdirSync(many, { recursive: true });
  for (let f = 0; f < 150; f++) {
    const lines: string[] = [];
    for (let i = 0; i < 40; i++) lines.push(`2024-05-01T00:00:${String(i % 60).padStart(2, '0')}Z [INFO] file ${f} line ${i} user=u${(f * 40 + i) % 97} pad=${'x'.repeat(40)}`);
    const file = join(many, `f${String(f).padStart(3, "0")}.log`);
    writeFileSync(file, lines.join('\n') + '\n');
    files.push(file);
  }
  const expected = logwire(['parse', ...files]).stdout;
  // The reader sleeps before it reads anything: the pipe fills, and writes queue in node.
  const args = files.map((f) => `"${f}"`).join(' ');
  const script = `"${process.execPath}" "${BIN}" parse ${args} | (sleep 1; cat)`;
  const r = spawnSync('bash', ['-c', script], { timeout: 60_000, maxBuffer: 64 << 20 });
  assert.equal(r.signal, null, 'the pipeline was killed (hung?)');
  assert.equal(r.stderr.toString(), '');
  assert.equal(r.stdout.length, expected.length);
  assert.ok(r.stdout.equals(expected), 'the piped output differs from the output to a file');
});
