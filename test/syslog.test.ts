// The syslog (RFC 5424 and 3164) and apache_error (2.4 and 2.2) built-in
// formats: the RFC's examples, edge cases, mixed files, auto, and random
// lines checked against the records they were made to give.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBuffer, parseFile, type LogRecord } from '../src/index.js';
import { Rng } from './support/random.js';
import { apache22, apache24, syslog3164, syslog5424, type Sample } from './support/syslog-lines.js';

type Builtin = 'syslog' | 'apache_error';
const BOM = '\uFEFF';
const one = (line: string, format: Builtin, levelRaw = false): LogRecord => parseBuffer(line + '\n', { format, levelRaw }).records()[0];
const slots = (r: LogRecord) => ({ ts: r.ts, level: r.level, msg: r.msg, fields: r.fields });

test('RFC 5424 section 6.5: the four examples', () => {
  assert.deepEqual(slots(one(`<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - ${BOM}'su root' failed for lonvick on /dev/pts/8`, 'syslog')), {
    ts: '2003-10-11T22:14:15.003Z', level: 'fatal', msg: "'su root' failed for lonvick on /dev/pts/8",
    fields: { facility: 'auth', host: 'mymachine.example.com', app: 'su', msgid: 'ID47' },
  });
  assert.deepEqual(slots(one("<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nothing.", 'syslog')), {
    ts: '2003-08-24T12:14:15.000003Z', level: 'info', msg: "%% It's time to make the do-nothing.",
    fields: { facility: 'local4', host: '192.0.2.1', app: 'myproc', pid: 8710 },
  });
  const sd = '[exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"]';
  assert.deepEqual(slots(one(`<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 ${sd} ${BOM}An application event log entry...`, 'syslog')), {
    ts: '2003-10-11T22:14:15.003Z', level: 'info', msg: 'An application event log entry...',
    fields: { facility: 'local4', host: 'mymachine.example.com', app: 'evntslog', msgid: 'ID47', 'exampleSDID@32473': { iut: '3', eventSource: 'Application', eventID: '1011' } },
  });
  assert.deepEqual(slots(one(`<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 ${sd}[examplePriority@32473 class="high"]`, 'syslog')), {
    ts: '2003-10-11T22:14:15.003Z', level: 'info', msg: null,
    fields: {
      facility: 'local4', host: 'mymachine.example.com', app: 'evntslog', msgid: 'ID47',
      'exampleSDID@32473': { iut: '3', eventSource: 'Application', eventID: '1011' }, 'examplePriority@32473': { class: 'high' },
    },
  });
});

test('RFC 5424 edge cases: nil everywhere, messages, escapes, repeated params, empty elements', () => {
  assert.deepEqual(slots(one('<0>1 - - - - - -', 'syslog')), { ts: null, level: 'fatal', msg: null, fields: { facility: 'kern' } });
  // An empty message after the space is "", none at all is null; a BOM starts nothing.
  assert.equal(one('<14>1 - - - - - - ', 'syslog').msg, '');
  assert.equal(one(`<14>1 - - - - - - ${BOM}`, 'syslog').msg, '');
  assert.equal(one(`<14>1 - - - - - - ${BOM}${BOM}x`, 'syslog').msg, `${BOM}x`);
  assert.equal(one('<14>1 - - - - - - - x', 'syslog').msg, '- x');
  // Escapes: \" \\ \] read as the character, any other backslash is kept.
  const r = one(String.raw`<14>1 2024-05-01T12:00:00+02:00 h a p m [x@1 q="say \"hi\"" b="a\\b" c="[1\]" n="\n\t" u="é 😀"] text`, 'syslog');
  assert.deepEqual(r.fields['x@1'], { q: 'say "hi"', b: 'a\\b', c: '[1]', n: '\\n\\t', u: 'é 😀' });
  assert.equal(r.ts, '2024-05-01T10:00:00Z');
  assert.deepEqual(r.fields.pid, 'p');
  // A name given twice in one element: an array of its values, in order (RFC 5424 allows it: origin ip=…).
  assert.deepEqual(one('<14>1 - - - - - [origin ip="192.0.2.1" software="x" ip="192.0.2.129"][meta]', 'syslog').fields, {
    facility: 'user', origin: { ip: ['192.0.2.1', '192.0.2.129'], software: 'x' }, meta: {},
  });
  // Repeats are gathered within groups of 256 params (the work stays linear):
  // across groups a name comes again as a repeated key, every value still there.
  const many = Array.from({ length: 600 }, (_, i) => ` p${i % 100}="${i}"`).join('');
  const row = parseBuffer(`<14>1 - - - - - [m${many}]\n`, { format: 'syslog' }).ndjson.toString();
  assert.ok(row.includes('"p0":["0","100","200"]') && row.includes('"p0":["300","400","500"]') && row.includes('"p99":["99","199"]'), row.slice(0, 300));
  assert.equal(Object.keys((JSON.parse(row) as LogRecord).fields.m as object).length, 100);
  // Fraction digits as written; a lower-case t or z is not RFC 5424's.
  assert.equal(one('<14>1 2024-05-01T12:00:00.1Z - - - - -', 'syslog').ts, '2024-05-01T12:00:00.1Z');
  assert.equal(one('<14>1 2024-05-01T12:00:00.123456Z - - - - -', 'syslog').ts, '2024-05-01T12:00:00.123456Z');
  assert.equal(one('<14>1 2024-05-01t12:00:00Z - - - - -', 'syslog').error, 'no match');
});

test('RFC 5424: a bad PRI, version or structured data is "no match" with the line as msg, never a crash or bad JSON', () => {
  const bad = [
    '<192>1 - - - - - -', '<01>1 - - - - - -', '<>1 - - - - - -', '<1000>1 - - - - - -', '<a>1 - - - - - -', '<1>2 - - - - - -',
    '<1>1 - - - - - [', '<1>1 - - - - - [a', '<1>1 - - - - - [a x="1"', '<1>1 - - - - - [a x="1', '<1>1 - - - - - [a x="1\\"]',
    '<1>1 - - - - - [a ]', '<1>1 - - - - - [ a]', '<1>1 - - - - - [a x=1]', '<1>1 - - - - - [a x ="1"]', '<1>1 - - - - - [a="1"]',
    '<1>1 - - - - - [a x="1"]x', '<1>1 - - - - - [a x="1"]]', `<1>1 - - - - - [${'n'.repeat(33)}]`, '<1>1 - - - - - [a]]',
    '<1>1 - - - - -', '<1>1 2024-05-01 12:00:00Z - - - - -', '<1>1 2024-13-01T12:00:00Z - - - - -',
  ];
  const out = parseBuffer(bad.join('\n') + '\n', { format: 'syslog' });
  const rows = out.ndjson.toString().trim().split('\n');
  assert.equal(rows.length, bad.length);
  rows.forEach((row, i) => {
    const r = JSON.parse(row) as LogRecord;
    assert.deepEqual([r.error, r.msg, r.ts, r.level, r.fields], ['no match', bad[i], null, null, {}], bad[i]);
  });
  // The longest SD-ID (32 bytes) is fine.
  assert.deepEqual(one(`<1>1 - - - - - [${'n'.repeat(32)}]`, 'syslog').fields, { facility: 'kern', ['n'.repeat(32)]: {} });
});

test('syslog PRI: every value gives its severity as level and its facility; levelRaw is the PRI as written', () => {
  const severity = ['fatal', 'fatal', 'fatal', 'error', 'warn', 'info', 'info', 'debug'];
  const facility = ['kern', 'user', 'mail', 'daemon', 'auth', 'syslog', 'lpr', 'news', 'uucp', 'cron', 'authpriv', 'ftp', 'ntp', 'audit', 'alert', 'clock',
    'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7'];
  const lines = Array.from({ length: 192 }, (_, v) => `<${v}>1 - - - - - -`);
  const records = parseBuffer(lines.join('\n'), { format: 'syslog' }).records();
  records.forEach((r, v) => assert.deepEqual([r.level, r.fields.facility], [severity[v & 7], facility[v >> 3]], lines[v]));
  const raw = one('<165>Oct 11 22:14:15 mymachine su: x', 'syslog', true);
  assert.deepEqual([raw.level, raw.levelRaw], ['info', '165']);
});

test('RFC 3164 lines keep working, with or without a <PRI> first', () => {
  const r = one("<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8", 'syslog');
  assert.deepEqual([r.level, r.msg, r.fields], ['fatal', "'su root' failed for lonvick on /dev/pts/8", { facility: 'auth', host: 'mymachine', app: 'su' }]);
  assert.match(r.ts!, /^\d{4}-10-11T22:14:15Z$/);
  const plain = one('Jun  4 15:16:01 combo sshd(pam_unix)[19939]: check pass; user unknown', 'syslog');
  assert.deepEqual([plain.level, plain.msg, plain.fields], [null, 'check pass; user unknown', { host: 'combo', app: 'sshd(pam_unix)', pid: 19939 }]);
  assert.equal(one('<999>Oct 11 22:14:15 mymachine su: x', 'syslog').error, 'no match');
});

test('RFC 3164 lines without a tag, without a host or with an empty message: a tag is one word ending in ":", the message kept whole without one', () => {
  const syslog = (line: string) => {
    const r = one(line, 'syslog');
    return [r.error ?? null, r.level, r.msg, r.fields];
  };
  // RFC 3164, section 5.4: no tag, the host an address.
  assert.deepEqual(syslog('<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!'), [null, 'info', 'Use the BFG!', { facility: 'user', host: '10.0.0.99' }]);
  assert.deepEqual(syslog('Jun 14 15:16:01 host -- MARK --'), [null, null, '-- MARK --', { host: 'host' }]);
  // A first word that ends in ":" (or "[pid]:") is a tag: no host.
  assert.deepEqual(syslog('Jun 14 15:16:01 prog[123]: no host'), [null, null, 'no host', { app: 'prog', pid: 123 }]);
  assert.deepEqual(syslog('Jun 14 15:16:01 prog: msg: x'), [null, null, 'msg: x', { app: 'prog' }]);
  // An empty message: null without the space, "" with it.
  assert.deepEqual(syslog('Jun 14 15:16:01 host prog:'), [null, null, null, { host: 'host', app: 'prog' }]);
  assert.deepEqual(syslog('Jun 14 15:16:01 host prog[7]: '), [null, null, '', { host: 'host', app: 'prog', pid: 7 }]);
  assert.deepEqual(syslog('Jun 14 15:16:01 host'), [null, null, null, { host: 'host' }]);
  // A tag is one word: "my prog[1]:" is message text.
  assert.deepEqual(syslog('Jun 14 15:16:01 host my prog[1]: x'), [null, null, 'my prog[1]: x', { host: 'host' }]);
  assert.deepEqual(syslog('Jun 14 15:16:01 host a:b c'), [null, null, 'a:b c', { host: 'host' }]);
  // A host with colons (IPv6) before a tag.
  assert.deepEqual(syslog('Jun 14 15:16:01 fe80::1 sshd[1]: x'), [null, null, 'x', { host: 'fe80::1', app: 'sshd', pid: 1 }]);
  assert.equal(one('Jun 14 15:16:01', 'syslog').error, 'no match');
});

test('RFC 3164 years in a file are read against its modification time (a line over a day ahead of it is from the year before); streams and buffers against now', async () => {
  const text = 'Dec 31 23:59:59 host app: old year\nJan  1 00:00:01 host app: new year\n';
  const dir = mkdtempSync(join(tmpdir(), 'logwire-syslog-year-'));
  try {
    const path = join(dir, 'messages');
    writeFileSync(path, text.repeat(3000));
    utimesSync(path, new Date('2024-01-01T00:10:00Z'), new Date('2024-01-01T00:10:00Z'));
    for (const workers of [1, 2]) {
      const got: string[] = [];
      for await (const b of parseFile(path, { format: 'syslog', workers }, { chunkBytes: 64 << 10 })) got.push(b.ndjson.toString());
      const ts = got.join('').trim().split('\n').map((row) => (JSON.parse(row) as LogRecord).ts);
      assert.equal(ts.length, 6000);
      ts.forEach((t, i) => assert.equal(t, i % 2 ? '2024-01-01T00:00:01Z' : '2023-12-31T23:59:59Z', `workers ${workers}, record ${i}`));
    }
    // auto finds syslog and reads the same years.
    const auto = parseFile(path, { workers: 1 });
    const rows: string[] = [];
    for await (const b of auto) rows.push(b.ndjson.toString());
    assert.equal(auto.stats.format, 'syslog');
    assert.equal((JSON.parse(rows.join('').split('\n')[0]) as LogRecord).ts, '2023-12-31T23:59:59Z');
    // East of UTC a file's new year starts before UTC's.
    writeFileSync(path, 'Jan  1 05:00:00 host app: new year in Sydney\n');
    utimesSync(path, new Date('2023-12-31T20:00:00Z'), new Date('2023-12-31T20:00:00Z'));
    const east: string[] = [];
    for await (const b of parseFile(path, { format: 'syslog', tz: '+10:00', workers: 1 })) east.push(b.ndjson.toString());
    assert.equal((JSON.parse(east.join('')) as LogRecord).ts, '2023-12-31T19:00:00Z');
    // A buffer has no file time: now.
    const year = new Date().getUTCFullYear();
    assert.match(parseBuffer(text, { format: 'syslog' }).records()[1].ts!, new RegExp(`^(${year}|${year + 1})-01-01T00:00:01Z$`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a syslog file may mix RFC 5424 and RFC 3164 lines; files in the worker pool give the same records', async () => {
  const lines = [
    '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3"] An application event',
    'Jun 14 15:16:01 combo sshd(pam_unix)[19939]: check pass; user unknown',
    '<13>Jun 14 15:16:02 combo kernel: Linux version 2.6.5',
    '<14>1 - - - - - - plain',
  ];
  const text = lines.join('\n') + '\n';
  const records = parseBuffer(text, { format: 'syslog' }).records();
  assert.deepEqual(records.map((r) => [r.error ?? null, r.msg]), [[null, 'An application event'], [null, 'check pass; user unknown'], [null, 'Linux version 2.6.5'], [null, 'plain']]);
  const dir = mkdtempSync(join(tmpdir(), 'logwire-syslog-'));
  try {
    const path = join(dir, 'mixed.log');
    writeFileSync(path, text.repeat(2000));
    const got: Buffer[] = [];
    for await (const b of parseFile(path, { format: 'syslog', workers: 2, fileName: 'mixed.log' }, { chunkBytes: 64 << 10 })) got.push(b.ndjson);
    assert.ok(Buffer.concat(got).equals(parseBuffer(text.repeat(2000), { format: 'syslog', fileName: 'mixed.log' }).ndjson));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Apache 2.4 error lines: module, pid, tid, client, microseconds; 2.2 lines as before', () => {
  assert.deepEqual(slots(one('[Wed Oct 11 14:32:52.123456 2000] [core:error] [pid 35708:tid 4328636416] [client 72.15.99.187:52104] AH00124: Request exceeded the limit of 10 internal redirects', 'apache_error')), {
    ts: '2000-10-11T14:32:52.123456Z', level: 'error', msg: 'AH00124: Request exceeded the limit of 10 internal redirects',
    fields: { module: 'core', pid: 35708, tid: 4328636416, client: '72.15.99.187:52104' },
  });
  assert.deepEqual(slots(one('[Sun Mar 18 11:49:54.456789 2012] [proxy:error] [pid 10001] (111)Connection refused: AH00957: HTTP: attempt to connect to 127.0.0.1:8080 (localhost) failed', 'apache_error')), {
    ts: '2012-03-18T11:49:54.456789Z', level: 'error', msg: '(111)Connection refused: AH00957: HTTP: attempt to connect to 127.0.0.1:8080 (localhost) failed',
    fields: { module: 'proxy', pid: 10001 },
  });
  // An unknown module ("-") is left out; no pid, no fraction.
  assert.deepEqual(slots(one('[Wed Oct 11 14:32:52 2000] [-:warn] x: y', 'apache_error')), { ts: '2000-10-11T14:32:52Z', level: 'warn', msg: 'x: y', fields: {} });
  // Apache's local time is read in the tz option's zone.
  assert.equal(parseBuffer('[Wed Oct 11 14:32:52.5 2000] [core:notice] [pid 1] x\n', { format: 'apache_error', tz: '+02:00' }).records()[0].ts, '2000-10-11T12:32:52.5Z');
  // A 2.2 line with a colon further on is still a 2.2 line (a module holds no blank).
  assert.deepEqual(slots(one('[Sun Dec 04 04:47:44 2005] [error] [client 1.2.3.4] Directory index forbidden by rule: /var/www/html/', 'apache_error')), {
    ts: '2005-12-04T04:47:44Z', level: 'error', msg: 'Directory index forbidden by rule: /var/www/html/', fields: { client: '1.2.3.4' },
  });
  assert.deepEqual(slots(one('[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok', 'apache_error')), { ts: '2005-12-04T04:47:44Z', level: 'info', msg: 'workerEnv.init() ok', fields: {} });
  assert.equal(one('[Sun Dec 04 04:47:44 2005] x', 'apache_error').error, 'no match');
});

/** Every line parsed, every output row JSON, and each matches what its generator says. */
function checkSamples(samples: Sample[], format: Builtin): void {
  const out = parseBuffer(samples.map((s) => s.line).join('\n') + '\n', { format });
  const rows = out.ndjson.toString().trim().split('\n');
  assert.equal(rows.length, samples.length);
  rows.forEach((row, i) => {
    const r = JSON.parse(row) as LogRecord;
    const { line, want } = samples[i];
    if (want === null) {
      assert.deepEqual([r.error, r.msg], ['no match', line], line);
      return;
    }
    assert.equal(r.error, undefined, line);
    const got = slots(r);
    if (want.ts === undefined) delete (got as Partial<typeof got>).ts;
    assert.deepEqual(got, want, line);
  });
}

test('random syslog and Apache lines give the records they were made to give', () => {
  const r = new Rng(0x5151);
  const many = (make: (r: Rng) => Sample) => Array.from({ length: 3000 }, () => make(r));
  checkSamples(many((x) => (x.chance(0.7) ? syslog5424(x) : syslog3164(x))), 'syslog');
  checkSamples(many((x) => (x.chance(0.7) ? apache24(x) : apache22(x))), 'apache_error');
});

test('auto picks syslog for RFC 5424 (alone or mixed with 3164) and apache_error for 2.4 lines, and not when a line is of another kind', async () => {
  const r = new Rng(7);
  const good = (make: (r: Rng) => Sample, n: number) => {
    const out: string[] = [];
    while (out.length < n) {
      const s = make(r);
      if (s.want) out.push(s.line);
    }
    return out;
  };
  const cases: [string, string[]][] = [
    ['syslog', good(syslog5424, 20)],
    ['syslog', [...good(syslog5424, 5), ...good(syslog3164, 5), ...good(syslog5424, 5)]],
    ['apache_error', good(apache24, 20)],
    ['apache_error', [...good(apache22, 3), ...good(apache24, 3)]],
    // One line of another kind: the classic/logfmt/json rule decides.
    ['classic', [...good(syslog5424, 3), '2024-05-01 12:00:00.000 [INFO] started', ...good(syslog5424, 3)]],
    ['classic', [...good(apache24, 3), '2024-05-01 12:00:00.000 [INFO] started']],
    ['json', ['{"msg":"x"}', ...good(apache24, 1)]],
    ['classic', ['<14>1 - - - - - [a x="1"', ...good(syslog5424, 3)]],
    ['combined', ['1.2.3.4 - - [01/May/2024:12:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8"']],
  ];
  const dir = mkdtempSync(join(tmpdir(), 'logwire-auto-syslog-'));
  try {
    for (const [i, [want, lines]] of cases.entries()) {
      const path = join(dir, `${i}.log`);
      writeFileSync(path, lines.join('\n') + '\n');
      const run = parseFile(path, { workers: 1 });
      for await (const b of run) void b;
      assert.equal(run.stats.format, want, lines.join('\n'));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
