// `logwire tail` against a small fake service that speaks docs/service.md:
// the subscribe message for every flag, records as NDJSON exactly as sent,
// notes on stderr, resuming from the last cursor, errors, backpressure, and
// SIGINT and a closed pipe in a real process.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { Writable } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { LogwireError } from '../src/index.js';
import { runTail } from '../src/cli/tail.js';

interface Subscribe {
  op: string;
  id: string;
  source: string;
  from: unknown;
  filter?: unknown;
}

/** What a connection to the fake sent first (the subscribe), and the path it asked for. */
interface Seen {
  msg: Subscribe;
  path: string;
  closeCode: Promise<number>;
}

/**
 * A fake service on 127.0.0.1: `serve(ws, msg, n)` plays connection n (1-based)
 * once its subscribe arrives. Closed, with every client, when the test ends.
 */
async function fakeService(t: TestContext, serve: (ws: WebSocket, msg: Subscribe, n: number) => void): Promise<{ url: string; port: number; seen: Seen[] }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(wss, 'listening');
  const seen: Seen[] = [];
  wss.on('connection', (ws: WebSocket, req: IncomingMessage) => {
    const closeCode = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.once('message', (data) => {
      const msg = JSON.parse(String(data)) as Subscribe;
      seen.push({ msg, path: req.url ?? '', closeCode });
      serve(ws, msg, seen.length);
    });
  });
  t.after(async () => {
    for (const ws of wss.clients) ws.terminate();
    await new Promise((resolve) => wss.close(resolve));
  });
  const { port } = wss.address() as { port: number };
  return { url: `ws://127.0.0.1:${port}`, port, seen };
}

/** A writable that keeps what it is given; `delayMs` makes it slow (with a small buffer). */
function sink(delayMs = 0): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    highWaterMark: delayMs ? 64 : 16384,
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString('utf8'));
      if (delayMs) setTimeout(done, delayMs);
      else done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

const subscribed = (files: Array<{ file: string; offset: number }> = []) => JSON.stringify({ op: 'subscribed', id: 'tail', source: 'app', files });

/** A records frame as the service writes it: the records' NDJSON joined with commas, untouched. */
function recordsFrame(cursor: string, records: string[], file = '/var/log/app.log'): string {
  return `{"op":"records","id":"tail","file":${JSON.stringify(file)},"count":${records.length},"cursor":${JSON.stringify(cursor)},"records":[${records.join(',')}]}`;
}

function record(line: number, msg: string, extra = ''): string {
  return `{"file":"/var/log/app.log","offset":${line * 100},"line":${line},"len":99,"crc":1,"ts":"2024-05-01T00:00:0${line % 10}.000Z","level":"info","msg":${JSON.stringify(msg)},"fields":{${extra}}}`;
}

function isCode(code: string, text?: string) {
  return (err: unknown) => {
    assert.ok(err instanceof LogwireError, `not a LogwireError: ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.ok(!err.message.includes('\n'), 'one line');
    if (text) assert.ok(err.message.includes(text), `"${err.message}" should mention ${text}`);
    return true;
  };
}

test('the subscribe message for every --from, --level, --contains and --match form', { timeout: 20_000 }, async (t) => {
  const svc = await fakeService(t, (ws) => {
    ws.send(subscribed());
    ws.close(1000);
  });
  const cases: Array<[string[], Omit<Subscribe, 'op' | 'id' | 'source'>]> = [
    [[], { from: 'end' }],
    [['--from', 'end'], { from: 'end' }],
    [['--from', 'start'], { from: 'start' }],
    [['--from', '2024-05-01T12:00:00Z'], { from: { time: '2024-05-01T12:00:00.000Z' } }],
    [['--from', '2024-05-01 12:00:00.5+02:00'], { from: { time: '2024-05-01T10:00:00.500Z' } }],
    [['--from', '2024-05-01T12:00'], { from: { time: '2024-05-01T12:00:00.000Z' } }],
    [['--from', '2024-05-01'], { from: { time: '2024-05-01T00:00:00.000Z' } }],
    [['--from', '1234:/var/log/app.log'], { from: { offset: 1234, file: '/var/log/app.log' } }],
    [['--from', '0:/tmp/a:b.log'], { from: { offset: 0, file: '/tmp/a:b.log' } }],
    [['--from', 'cursor:WyJhcHAiLFtdXQ=='], { from: { cursor: 'WyJhcHAiLFtdXQ==' } }],
    [['--level', 'WARN'], { from: 'end', filter: { level: 'warn' } }],
    [['--contains', 'time out'], { from: 'end', filter: { contains: 'time out' } }],
    [['--match', 'user=u1', '--match', 'msg=a=b', '--match', 'empty='], { from: 'end', filter: { match: { user: 'u1', msg: 'a=b', empty: '' } } }],
    [['--level', 'error', '--contains', 'x', '--match', 'k=v', '--from', 'start'], { from: 'start', filter: { level: 'error', contains: 'x', match: { k: 'v' } } }],
  ];
  for (const [flags, want] of cases) {
    const out = sink();
    await runTail([svc.url, 'app', '--no-reconnect', ...flags], out.stream, sink().stream);
    const got = svc.seen.at(-1)!;
    assert.deepEqual(got.msg, { op: 'subscribe', id: 'tail', source: 'app', ...want }, flags.join(' '));
    assert.equal(got.path, '/ws');
    assert.equal(out.text(), '');
  }
  // http:// becomes ws://, with the path /ws; a path given is kept.
  await runTail([svc.url.replace('ws:', 'http:'), 'app', '--no-reconnect'], sink().stream, sink().stream);
  assert.equal(svc.seen.at(-1)!.path, '/ws');
  await runTail([`${svc.url}/other`, 'app', '--no-reconnect'], sink().stream, sink().stream);
  assert.equal(svc.seen.at(-1)!.path, '/other');
});

test('records are printed as NDJSON, in order and byte for byte; notes go to stderr', { timeout: 10_000 }, async (t) => {
  // A big integer, escapes and non-ASCII text: re-serialising would change them.
  const r3 = '{"file":"/var/log/app.log","offset":300,"line":3,"msg":"caf\\u00e9 \\"q\\" é","fields":{"id":12345678901234567890,"x":1.50,"nested":{"a":[1,{"b":"]}"}]}}}';
  const svc = await fakeService(t, (ws) => {
    ws.send(subscribed([{ file: '/var/log/app.log', offset: 0 }]));
    ws.send(recordsFrame('c1', [record(1, 'first', '"user":"u1"'), record(2, 'second, with a comma }')]));
    ws.send(JSON.stringify({ op: 'caught_up', id: 'tail' }));
    ws.send(JSON.stringify({ op: 'rotated', id: 'tail', file: '/var/log/app.log', reason: 'renamed' }));
    ws.send(recordsFrame('c2', [r3]));
    ws.send(JSON.stringify({ op: 'gap', id: 'tail', file: '/var/log/app.log', from: 100, to: 2000, reason: 'slow_consumer' }));
    ws.send(recordsFrame('c3', []));
    ws.send(JSON.stringify({ op: 'records', id: 'other', file: '/x', count: 1, cursor: 'z', records: [{ not: 'ours' }] }));
    ws.send(JSON.stringify({ op: 'future_op', id: 'tail' }));
    ws.send(recordsFrame('c4', [record(4, 'fourth')], '/var/log/app.log.1'));
    ws.close(1000);
  });
  const out = sink();
  const err = sink();
  await runTail([svc.url, 'app', '--from', 'start', '--no-reconnect'], out.stream, err.stream);
  assert.equal(out.text(), [record(1, 'first', '"user":"u1"'), record(2, 'second, with a comma }'), r3, record(4, 'fourth')].join('\n') + '\n');
  for (const line of out.text().trimEnd().split('\n')) JSON.parse(line);
  assert.deepEqual(err.text().trimEnd().split('\n'), [
    'logwire tail: caught up',
    'logwire tail: rotated /var/log/app.log (renamed)',
    'logwire tail: gap in /var/log/app.log [100, 2000) slow_consumer',
  ]);
});

test('a dropped connection is resumed from the last cursor: nothing lost, nothing repeated', { timeout: 20_000 }, async (t) => {
  const svc = await fakeService(t, (ws, _msg, n) => {
    ws.send(subscribed());
    if (n === 1) {
      // Dropped before any record: the next subscribe asks for the same start again.
      ws.close(1011, 'restarting');
    } else if (n === 2) {
      ws.send(recordsFrame('c1', [record(1, 'one'), record(2, 'two')]));
      ws.send(recordsFrame('c2', [record(3, 'three')]));
      ws.close(1012);
    } else if (n === 3) {
      ws.send(recordsFrame('c3', [record(4, 'four')]));
      // An abrupt drop (no close frame) once the frame is out.
      ws.send(JSON.stringify({ op: 'caught_up', id: 'tail' }), () => ws.terminate());
    } else {
      ws.send(JSON.stringify({ op: 'error', id: 'tail', code: 'not_found', message: 'the cursor names a file\nthat is not followed' }));
    }
  });
  const out = sink();
  const err = sink();
  await assert.rejects(runTail([svc.url, 'app', '--from', 'start', '--level', 'warn'], out.stream, err.stream), isCode('LOGWIRE_ERR_SERVICE', 'not_found'));
  const froms = svc.seen.map((s) => s.msg.from);
  assert.deepEqual(froms, ['start', 'start', { cursor: 'c2' }, { cursor: 'c3' }]);
  for (const s of svc.seen) assert.deepEqual(s.msg.filter, { level: 'warn' }, 'the filter is sent again');
  assert.equal(out.text(), [record(1, 'one'), record(2, 'two'), record(3, 'three'), record(4, 'four')].join('\n') + '\n');
  assert.match(err.text(), /^logwire tail: connection lost \(code 1011: restarting\); reconnecting$/m);
  assert.match(err.text(), /^logwire tail: reconnected; resuming after the last record$/m);
  assert.equal(await svc.seen[3].closeCode, 1000, 'the client closes politely on an error');
});

test('error frames: bad_request and unknown_source are usage errors, the others are not', { timeout: 20_000 }, async (t) => {
  let reply: object = {};
  const svc = await fakeService(t, (ws) => ws.send(JSON.stringify(reply)));
  const cases: Array<[object, string]> = [
    [{ op: 'error', id: 'tail', code: 'unknown_source', message: 'no source "app"' }, 'LOGWIRE_ERR_USAGE'],
    [{ op: 'error', id: 'tail', code: 'bad_request', message: '"from.offset" must be a number' }, 'LOGWIRE_ERR_USAGE'],
    [{ op: 'error', id: 'tail', code: 'internal', message: 'boom' }, 'LOGWIRE_ERR_SERVICE'],
    [{ op: 'error', id: null, code: 'bad_message', message: 'unknown op' }, 'LOGWIRE_ERR_SERVICE'],
  ];
  for (const [frame, code] of cases) {
    reply = frame;
    for (const mode of [[], ['--no-reconnect']]) {
      await assert.rejects(runTail([svc.url, 'app', ...mode], sink().stream, sink().stream), isCode(code, (frame as { code: string }).code));
    }
  }
});

test('with --no-reconnect, a slow_consumer disconnect (4008) is an error; a close with 1000 ends quietly', { timeout: 10_000 }, async (t) => {
  const svc = await fakeService(t, (ws, _msg, n) => {
    ws.send(subscribed());
    if (n === 1) {
      ws.send(JSON.stringify({ op: 'error', id: 'tail', code: 'slow_consumer', message: 'queue full' }));
      ws.close(4008);
    } else {
      ws.close(1000);
    }
  });
  await assert.rejects(runTail([svc.url, 'app', '--no-reconnect'], sink().stream, sink().stream), isCode('LOGWIRE_ERR_SERVICE', 'slow_consumer'));
  const err = sink();
  await runTail([svc.url, 'app', '--no-reconnect'], sink().stream, err.stream);
  assert.equal(err.text(), '');
});

test('a slow stdout is waited for, and every record still comes out in order', { timeout: 30_000 }, async (t) => {
  const frames = 40;
  const per = 25;
  const svc = await fakeService(t, (ws) => {
    ws.send(subscribed());
    for (let f = 0; f < frames; f++) {
      ws.send(recordsFrame(`c${f}`, Array.from({ length: per }, (_, i) => record(f * per + i, `r${f * per + i}`))));
    }
    ws.close(1000);
  });
  const out = sink(1);
  const started = Date.now();
  await runTail([svc.url, 'app', '--no-reconnect'], out.stream, sink().stream);
  const lines = out.text().trimEnd().split('\n');
  assert.equal(lines.length, frames * per);
  lines.forEach((l, i) => assert.equal((JSON.parse(l) as { msg: string }).msg, `r${i}`));
  // Each frame is one write and the sink takes 1 ms a write: runTail waited for it.
  assert.ok(Date.now() - started >= frames, 'runTail returned before stdout took everything');
});

test('an unreachable service is an IO error, with or without reconnecting', { timeout: 20_000 }, async (t) => {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(wss, 'listening');
  const { port } = wss.address() as { port: number };
  await new Promise((resolve) => wss.close(resolve));
  for (const mode of [[], ['--no-reconnect']]) {
    await assert.rejects(runTail([`http://127.0.0.1:${port}`, 'app', ...mode], sink().stream, sink().stream), isCode('LOGWIRE_ERR_IO', `ws://127.0.0.1:${port}/ws`));
  }
  t.diagnostic(`port ${port} was closed`);
});

test('bad flags are usage errors, found before connecting', async () => {
  const url = 'ws://127.0.0.1:9';
  const cases: Array<[string[], string]> = [
    [[], 'URL and a SOURCE'],
    [[url], 'URL and a SOURCE'],
    [[url, 'app', 'extra'], 'URL and a SOURCE'],
    [[url, ''], 'SOURCE'],
    [['localhost:7070', 'app'], 'URL'],
    [['ftp://host:21', 'app'], 'URL'],
    [['not a url', 'app'], 'URL'],
    [['ws://host:1/ws#frag', 'app'], 'URL'],
    [[url, 'app', '--level', 'loud'], '--level'],
    [[url, 'app', '--level'], '--level'],
    [[url, 'app', '--match', 'novalue'], '--match'],
    [[url, 'app', '--match', '=v'], '--match'],
    [[url, 'app', '--match', 'k=1', '--match', 'k=2'], '--match'],
    [[url, 'app', '--contains', ''], '--contains'],
    [[url, 'app', '--from', 'yesterday'], '--from'],
    [[url, 'app', '--from', '2024-13-45T00:00:00Z'], '--from'],
    [[url, 'app', '--from', '2024-02-30'], '--from'],
    [[url, 'app', '--from', '2024-05-01T25:00:00Z'], '--from'],
    [[url, 'app', '--from', 'cursor:'], '--from'],
    [[url, 'app', '--from', ':/var/log/a.log'], '--from'],
    [[url, 'app', '--from', '99999999999999999999:/a'], '--from'],
    [[url, 'app', '--follow'], '--follow'],
  ];
  for (const [args, text] of cases) {
    await assert.rejects(runTail(args, sink().stream, sink().stream), isCode('LOGWIRE_ERR_USAGE', text), args.join(' '));
  }
});

test('--help prints every option', async () => {
  const out = sink();
  await runTail(['--help'], out.stream, sink().stream);
  for (const flag of ['--from', '--level', '--contains', '--match', '--no-reconnect', '--help']) assert.ok(out.text().includes(flag), flag);
});

/** `logwire tail` in a process of its own, as the CLI runs it. */
function tailProcess(args: string[]) {
  const tail = new URL('../src/cli/tail.js', import.meta.url).href;
  const script = `import { runTail } from ${JSON.stringify(tail)}; await runTail(process.argv.slice(1));`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exit = once(child, 'exit') as Promise<[number | null, string | null]>;
  return { child, exit, stderr: () => stderr };
}

/** A service that streams records until the connection closes. */
async function streamingService(t: TestContext, perTick: number) {
  return fakeService(t, (ws) => {
    ws.send(subscribed());
    let n = 0;
    const timer = setInterval(() => {
      ws.send(recordsFrame(`c${n}`, Array.from({ length: perTick }, () => record(n, `r${n++}`))));
    }, 5);
    ws.once('close', () => clearInterval(timer));
  });
}

test('SIGINT stops cleanly: exit code 0, the socket closed with 1000', { timeout: 20_000 }, async (t) => {
  const svc = await streamingService(t, 1);
  const p = tailProcess([svc.url, 'app']);
  t.after(() => p.child.kill('SIGKILL'));
  await once(p.child.stdout, 'data');
  p.child.kill('SIGINT');
  p.child.stdout.resume();
  const [code, signal] = await p.exit;
  assert.deepEqual([code, signal], [0, null], p.stderr());
  assert.equal(p.stderr(), '');
  assert.equal(await svc.seen[0].closeCode, 1000);
});

test('a closed stdout (| head) ends the run quietly', { timeout: 20_000 }, async (t) => {
  const svc = await streamingService(t, 200);
  const p = tailProcess([svc.url, 'app']);
  t.after(() => p.child.kill('SIGKILL'));
  await once(p.child.stdout, 'data');
  p.child.stdout.destroy();
  const [code, signal] = await p.exit;
  assert.deepEqual([code, signal], [0, null], p.stderr());
  assert.equal(p.stderr(), '');
});
