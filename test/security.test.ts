// The service against hostile clients and hostile files, over real sockets:
// tokens (header and ?token=, per source), Origin and Host, TLS, path
// confinement (.., absolute, symlinks in any component, sibling prefixes,
// a client's from.file), malformed and oversized messages, floods of tiny
// frames, thousands of headers, and the limits on subscriptions and connections.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { connect as netConnect, type Socket } from 'node:net';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { loadTokenFile, parseTokenFlag } from '../src/service/config.js';
import { startService, type Service, type ServiceOptions } from '../src/service/server.js';
import { Client, type Frame } from './support/ws-client.js';

const APP_TOKEN = 'app-only-token-0123456789';
const ALL_TOKEN = 'all-sources-token-abcdefghij';
const BIN = fileURLToPath(new URL('../../../bin/logwire.js', import.meta.url));

let root: string;
before(() => { root = mkdtempSync(join(tmpdir(), 'logwire-security-')); });
after(() => rmSync(root, { recursive: true, force: true }));

let dirs = 0;
function freshDir(name = 'logs'): string {
  const d = join(root, `${dirs++}`, name);
  mkdirSync(d, { recursive: true });
  return d;
}

function line(i: number): string {
  return `2024-05-01 12:00:${String(i % 60).padStart(2, '0')} [INFO] event n=${i}\n`;
}

interface Setup {
  svc: Service;
  app: string;
  secret: string;
  warnings: string[];
}

/** A service with sources "app" and "secret" in two directories, each with one file of 3 lines. */
async function serve(extra: Partial<ServiceOptions> = {}): Promise<Setup> {
  const app = freshDir();
  const secret = freshDir('secret');
  writeFileSync(join(app, 'app.log'), line(1) + line(2) + line(3));
  writeFileSync(join(secret, 'secret.log'), line(1));
  const warnings: string[] = [];
  const svc = await startService({
    port: 0,
    pollMs: 50,
    sources: [
      { name: 'app', globs: [join(app, '*.log')], format: 'classic' },
      { name: 'secret', globs: [join(secret, '*.log')], format: 'classic' },
    ],
    warn: (m) => warnings.push(m),
    ...extra,
  });
  return { svc, app, secret, warnings };
}

interface Raw {
  status: number;
  head: string;
  /** The server closed the socket (false: it was still open after the wait). */
  closed: boolean;
}

/**
 * A WebSocket upgrade request (or with `plain`, a GET) written by hand on a
 * plain (or TLS) socket: the status line the server answered and whether it
 * closed the socket.
 */
async function rawUpgrade(url: string, headers: string[] = [], opts: { path?: string; host?: string; waitMs?: number; plain?: boolean } = {}): Promise<Raw> {
  const u = new URL(url);
  const port = Number(u.port);
  const sock: Socket = u.protocol === 'https:' ? tlsConnect({ port, host: u.hostname, rejectUnauthorized: false }) : netConnect(port, u.hostname);
  const request = [
    `GET ${opts.path ?? '/ws'} HTTP/1.1`,
    `Host: ${opts.host ?? u.host}`,
    ...(opts.plain ? ['Connection: close'] : ['Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13']),
    ...headers,
    '',
    '',
  ].join('\r\n');
  return new Promise<Raw>((resolve) => {
    let data = '';
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      const head = data.split('\r\n\r\n')[0];
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), head, closed });
    };
    const timer = setTimeout(() => finish(false), opts.waitMs ?? 3000);
    sock.on('data', (d: Buffer) => { data += d.toString('latin1'); });
    sock.on('close', () => finish(true));
    sock.on('error', () => { /* a reset after the answer: 'close' follows */ });
    sock.write(request);
  });
}

/** The status of a plain GET with these headers (fetch will not set Host). */
function httpStatus(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    httpGet(url, { headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject);
  });
}

async function stats(svc: Service, token = ALL_TOKEN): Promise<{ connections: number; refused: Record<string, number>; sources: { name: string; refusedFiles: string[]; files: { path: string }[] }[] }> {
  const res = await fetch(`${svc.url}/stats`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200);
  return res.json() as never;
}

/** Run `body` on a service (see serve), closed after. */
async function withService(extra: Partial<ServiceOptions>, body: (s: Setup) => Promise<void>): Promise<void> {
  const s = await serve(extra);
  try {
    await body(s);
  } finally {
    await s.svc.close();
  }
}

/** Run `body` on a service and one client connected to it, both closed after. */
function withClient(extra: Partial<ServiceOptions>, body: (s: Setup & { c: Client }) => Promise<void>, options?: WebSocket.ClientOptions): Promise<void> {
  return withService(extra, async (s) => {
    const c = await Client.connect(s.svc.url, options);
    try {
      await body({ ...s, c });
    } finally {
      await c.close();
    }
  });
}

const TOKENS: ServiceOptions['tokens'] = [{ token: APP_TOKEN, sources: ['app'] }, { token: ALL_TOKEN, sources: '*' }];

test('tokens: a missing or wrong token gets 401 and a closed socket before any WebSocket exists', () => withService({ tokens: TOKENS }, async ({ svc }) => {
  for (const headers of [[], ['Authorization: Bearer wrong-token-000000000000'], ['Authorization: Basic YTpi']]) {
    const r = await rawUpgrade(svc.url, headers);
    assert.equal(r.status, 401, r.head);
    assert.match(r.head, /WWW-Authenticate: Bearer/i);
    assert.ok(r.closed, 'the server closed the socket');
  }
  assert.equal((await rawUpgrade(svc.url, [], { path: '/ws?token=nope-nope-nope-nope' })).status, 401);
  // A right token upgrades (101) and the socket stays open.
  const ok = await rawUpgrade(svc.url, [`Authorization: Bearer ${APP_TOKEN}`], { waitMs: 300 });
  assert.equal(ok.status, 101);
  assert.equal(ok.closed, false);
  const s = await stats(svc);
  assert.equal(s.refused.unauthorized, 4);
  // ws's own client sees the refusal too.
  await assert.rejects(Client.connect(svc.url), /401/);
}));

test('tokens: a token reads its sources only (forbidden otherwise, whether the source exists or not); ?token= works for browsers', () => withClient({ tokens: TOKENS }, async ({ svc, c }) => {
  c.send({ op: 'subscribe', id: 's', source: 'secret', from: 'start' });
  c.send({ op: 'subscribe', id: 'n', source: 'nonexistent', from: 'start' });
  c.send({ op: 'subscribe', id: 'a', source: 'app', from: 'start' });
  await c.waitRecords('a', 3);
  await c.until(() => c.of('n', 'error').length > 0, 'the second refusal');
  assert.equal(c.of('s', 'error')[0].code, 'forbidden');
  assert.equal(c.of('n', 'error')[0].code, 'forbidden');
  assert.equal(c.records('s').length, 0);
  // /stats and /metrics show it only what it may read.
  const mine = await stats(svc, APP_TOKEN);
  assert.deepEqual(mine.sources.map((s) => s.name), ['app']);
  const metrics = await (await fetch(`${svc.url}/metrics?token=${APP_TOKEN}`)).text();
  assert.ok(metrics.includes('source="app"') && !metrics.includes('source="secret"'));
  assert.deepEqual((await stats(svc, ALL_TOKEN)).sources.map((s) => s.name), ['app', 'secret']);

  // ?token= on the WebSocket URL, as the viewer sends it.
  const ws = new WebSocket(`${svc.url.replace(/^http/, 'ws')}/ws?token=${ALL_TOKEN}`);
  const frames: Frame[] = [];
  ws.on('message', (d) => frames.push(JSON.parse(d.toString()) as Frame));
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  ws.send(JSON.stringify({ op: 'subscribe', id: 'q', source: 'secret', from: 'start' }));
  const deadline = Date.now() + 5000;
  while (!frames.some((f) => f.op === 'records') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.ok(frames.some((f) => f.op === 'records'), JSON.stringify(frames));
  ws.terminate();
}, { headers: { authorization: `Bearer ${APP_TOKEN}` } }));

test('tokens on HTTP: /stats, /metrics and /report need one; /healthz and the viewer files do not', () => withService({ tokens: TOKENS }, async ({ svc }) => {
  for (const path of ['/stats', '/metrics', '/report', '/report.hlog', '/nope']) {
    const res = await fetch(svc.url + path);
    assert.equal(res.status, 401, path);
    assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/);
    assert.equal((await fetch(svc.url + path, { headers: { authorization: 'Bearer wrong-token-000000000000' } })).status, 401, path);
  }
  for (const path of ['/stats', '/metrics', '/report', '/report.hlog']) {
    assert.equal((await fetch(svc.url + path, { headers: { authorization: `Bearer ${ALL_TOKEN}` } })).status, 200, path);
    assert.equal((await fetch(`${svc.url}${path}?token=${APP_TOKEN}`)).status, 200, path);
  }
  for (const path of ['/healthz', '/', '/viewer.js']) {
    const res = await fetch(svc.url + path);
    assert.equal(res.status, 200, path);
    assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
  }
}));

test('Origin: browsers only from the service\'s own origin or a listed one; Host must name the service on loopback', () => withService({ origins: ['https://logs.example.com'] }, async ({ svc }) => {
  const own = svc.url;
  const port = svc.port;
  assert.equal((await rawUpgrade(own, [], { waitMs: 300 })).status, 101, 'no Origin: not a browser');
  assert.equal((await rawUpgrade(own, [`Origin: ${own}`], { waitMs: 300 })).status, 101);
  assert.equal((await rawUpgrade(own, [`Origin: http://localhost:${port}`], { waitMs: 300 })).status, 101);
  assert.equal((await rawUpgrade(own, ['Origin: https://logs.example.com'], { waitMs: 300 })).status, 101);
  for (const origin of ['http://evil.example', `http://127.0.0.1:${port + 1}`, `https://127.0.0.1:${port}`, 'null', 'https://logs.example.com.evil.example']) {
    const r = await rawUpgrade(own, [`Origin: ${origin}`]);
    assert.equal(r.status, 403, origin);
    assert.ok(r.closed, origin);
  }
  // DNS rebinding: a page at evil.example resolved to 127.0.0.1 sends its own name as Host.
  const rebound = await rawUpgrade(own, [`Origin: http://evil.example:${port}`], { host: `evil.example:${port}` });
  assert.equal(rebound.status, 403);
  assert.equal((await rawUpgrade(own, [], { host: `evil.example:${port}` })).status, 403);
  assert.equal(await httpStatus(`${own}/stats`, { host: `evil.example:${port}` }), 403);
  assert.equal((await rawUpgrade(own, [], { host: `logs.example.com:${port}`, waitMs: 300 })).status, 101, 'a listed origin\'s host');
  const s = await stats(svc);
  assert.equal(s.refused.origin, 5);
  assert.equal(s.refused.host, 3);
}));

test('TLS: https and wss with --tls-cert/--tls-key, tokens on top', async () => {
  const dir = freshDir('tls');
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  const { svc } = await serve({ tls: { cert, key }, tokens: TOKENS });
  try {
    assert.match(svc.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const body = await new Promise<string>((resolve, reject) => {
      httpsGet(`${svc.url}/healthz`, { rejectUnauthorized: false }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => { text += d.toString(); });
        res.on('end', () => resolve(text));
      }).on('error', reject);
    });
    assert.equal(body, 'ok\n');
    assert.equal((await rawUpgrade(svc.url)).status, 401, 'tokens are checked over TLS too');
    const c = await Client.connect(svc.url, { rejectUnauthorized: false, headers: { authorization: `Bearer ${APP_TOKEN}` } });
    try {
      c.send({ op: 'subscribe', id: 't', source: 'app', from: 'start' });
      assert.equal((await c.waitRecords('t', 3)).length, 3);
    } finally {
      await c.close();
    }
    // A plain-text client gets nothing.
    assert.notEqual((await rawUpgrade(svc.url.replace(/^https/, 'http'), [`Authorization: Bearer ${APP_TOKEN}`], { waitMs: 1000 })).status, 101);
  } finally {
    await svc.close();
  }
  await assert.rejects(serve({ tls: { cert: join(dir, 'nope.pem'), key } }), /tls\.cert .*no such file/);
  await assert.rejects(serve({ tls: { cert: key, key: cert } }), /tls: the certificate or key cannot be used/);
});

test('files: globs with "..", outside their roots, or through a symlinked directory outside are config errors', async () => {
  const logs = freshDir();
  const outside = freshDir('outside');
  symlinkSync(outside, join(logs, 'link'));
  const cases: [Partial<ServiceOptions['sources'][number]>, RegExp][] = [
    [{ globs: [`${logs}/../outside/*.log`] }, /globs must be paths without "\.\." components/],
    [{ globs: [join(outside, '*.log')], roots: [logs] }, /globs must be paths under the source's roots/],
    [{ globs: [`${logs}-secret/*.log`], roots: [logs] }, /globs must be paths under the source's roots/],
    [{ globs: [join(logs, 'link', '*.log')], roots: [logs] }, /through a symlink/],
    [{ globs: [join(logs, '*.log')], roots: [] }, /roots must be a non-empty array/],
  ];
  for (const [src, re] of cases) {
    await assert.rejects(startService({ port: 0, sources: [{ name: 'a', globs: [], ...src }] }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'LOGWIRE_ERR_INVALID_OPTION');
      assert.match(err.message, re);
      return true;
    });
  }
});

test('files: symlinks leading outside the roots, in the last or a middle component or to a sibling-prefix directory, are never opened', async () => {
  const logs = freshDir();
  const outside = freshDir('outside');
  const sibling = `${logs}-secret`;
  mkdirSync(sibling);
  mkdirSync(join(logs, 'data'));
  writeFileSync(join(outside, 'secret.log'), 'SECRET outside\n');
  writeFileSync(join(sibling, 'secret.log'), 'SECRET sibling\n');
  writeFileSync(join(logs, 'data', 'inner.txt'), line(7));
  writeFileSync(join(logs, 'app.log'), line(1));
  symlinkSync(join(outside, 'secret.log'), join(logs, 'last.log')); // last component
  symlinkSync(join(sibling, 'secret.log'), join(logs, 'prefix.log')); // /x/logs-secret is not under /x/logs
  symlinkSync(join(logs, 'data', 'inner.txt'), join(logs, 'inside.log')); // stays under the root: fine
  const warnings: string[] = [];
  // sub/ does not exist yet: the config check cannot see where it leads, the open must.
  const svc = await startService({
    port: 0, pollMs: 50, warn: (m) => warnings.push(m),
    sources: [{ name: 'app', globs: [join(logs, '*.log'), join(logs, 'sub', '*.log')], roots: [logs], format: 'classic' }],
  });
  const c = await Client.connect(svc.url);
  try {
    symlinkSync(outside, join(logs, 'sub')); // a middle component leading outside
    await new Promise((r) => setTimeout(r, 300)); // several polls
    c.send({ op: 'subscribe', id: 'a', source: 'app', from: 'start' });
    await c.until(() => c.of('a', 'caught_up').length > 0, 'caught up');
    const files = (c.of('a', 'subscribed')[0].files as { file: string }[]).map((f) => f.file).sort();
    assert.deepEqual(files, [join(logs, 'app.log'), join(logs, 'inside.log')]);
    assert.ok(!JSON.stringify(c.frames).includes('SECRET'));
    const s = await stats(svc);
    assert.deepEqual(s.sources[0].refusedFiles.sort(), [join(logs, 'last.log'), join(logs, 'prefix.log'), join(logs, 'sub', 'secret.log')]);
    // Each refused path is reported once, not at every poll.
    assert.equal(warnings.length, 3, warnings.join('\n'));
    assert.match(warnings.join('\n'), /leads outside the source's roots/);
  } finally {
    await c.close();
    await svc.close();
  }
});

test('files: a client\'s from.file must name a followed file; "..", absolute paths outside and sibling prefixes are forbidden', () => withClient({}, async ({ app, secret, c }) => {
  const cases: [string, string][] = [
    [`${app}/../..${secret.slice(root.length)}/secret.log`, 'forbidden'], // another source's file, through ..
    [`${app}/../logs/app.log`, 'forbidden'], // even when it would land on a followed file
    ['/etc/passwd', 'forbidden'],
    [join(secret, 'secret.log'), 'forbidden'], // another source's file
    [`${app}-secret/app.log`, 'forbidden'],
    ['app.log', 'forbidden'],
    [join(app, 'not-followed.log'), 'not_found'],
    [`${app}/app.log/../x`, 'forbidden'],
  ];
  for (const [i, [file]] of cases.entries()) c.send({ op: 'subscribe', id: `p${i}`, source: 'app', from: { offset: 0, file } });
  await c.until(() => c.frames.filter((f) => f.op === 'error').length >= cases.length, 'an error per path');
  for (const [i, [file, code]] of cases.entries()) assert.equal(c.of(`p${i}`, 'error')[0]?.code, code, file);
  c.send({ op: 'subscribe', id: 'ok', source: 'app', from: { offset: 0, file: `${app}//./app.log` } });
  assert.equal((await c.waitRecords('ok', 3)).length, 3, 'a followed file, however it is spelled without ..');
}));

test('10k malformed messages: each gets an error frame; the connection, the server and other clients stay up', () => withClient({ messageRate: 1_000_000 }, async ({ c }) => {
  const bad = ['not json', '[1,2]', '{"op":"launch"}', '{"op":"subscribe"}', '"x"', '{', '{"op":"unsubscribe","id":7}', 'null'];
  const n = 10_000;
  for (let i = 0; i < n; i++) c.send(bad[i % bad.length]);
  c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
  await c.until((f) => f.filter((x) => x.op === 'error').length >= n + 1, `${n + 1} error frames`, 30_000);
  assert.ok(c.frames.every((f) => f.op === 'error' && ['bad_message', 'bad_request', 'unknown_id'].includes(f.code as string)));
  assert.equal(c.closed, null);
  c.send({ op: 'subscribe', id: 'ok', source: 'app', from: 'start' });
  assert.equal((await c.waitRecords('ok', 3)).length, 3);
}));

test('malformed frames: oversized (1009) and invalid UTF-8 (1007) close that connection only', () => withService({}, async ({ svc }) => {
  const big = await Client.connect(svc.url);
  big.send('x'.repeat(65 << 10));
  await big.until(() => big.closed !== null, 'closed');
  assert.equal(big.closed!.code, 1009);
  const utf = await Client.connect(svc.url);
  utf.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
  await utf.until(() => utf.closed !== null, 'closed');
  assert.equal(utf.closed!.code, 1007);
  assert.equal(await (await fetch(`${svc.url}/healthz`)).text(), 'ok\n');
}));

test('a flood of messages past the rate: one rate_limited frame, then close 1008; the server serves others', async () => {
  const { svc } = await serve(); // the default 100 messages/s, bursts of 200
  const c = await Client.connect(svc.url);
  const fine = await Client.connect(svc.url);
  try {
    for (let i = 0; i < 10_000 && c.ws.readyState === WebSocket.OPEN; i++) c.send('{"op":"nope"}');
    await c.until(() => c.closed !== null, 'closed', 10_000);
    assert.equal(c.closed!.code, 1008);
    const errors = c.frames.filter((f) => f.op === 'error');
    assert.ok(errors.filter((f) => f.code === 'bad_message').length >= 200, 'the first burst is answered');
    assert.equal(errors.filter((f) => f.code === 'rate_limited').length, 1, 'told once');
    assert.equal(await (await fetch(`${svc.url}/healthz`)).text(), 'ok\n');
    fine.send({ op: 'subscribe', id: 'f', source: 'app', from: 'start' });
    assert.equal((await fine.waitRecords('f', 3)).length, 3);
    const late = await Client.connect(svc.url);
    late.send({ op: 'subscribe', id: 'l', source: 'app', from: 'start' });
    assert.equal((await late.waitRecords('l', 3)).length, 3);
    await late.close();
  } finally {
    await c.close();
    await fine.close();
    await svc.close();
  }
});

test('a flood of tiny frames (pings, empty messages) hits the same rate limit', () => withService({ messageRate: 50, messageBurst: 50 }, async ({ svc }) => {
  const pinger = await Client.connect(svc.url);
  for (let i = 0; i < 5000 && pinger.ws.readyState === WebSocket.OPEN; i++) pinger.ws.ping();
  await pinger.until(() => pinger.closed !== null, 'closed', 10_000);
  assert.equal(pinger.closed!.code, 1008);
  const empty = await Client.connect(svc.url);
  for (let i = 0; i < 5000 && empty.ws.readyState === WebSocket.OPEN; i++) empty.ws.send('');
  await empty.until(() => empty.closed !== null, 'closed', 10_000);
  assert.equal(empty.closed!.code, 1008);
  const s = await (await fetch(`${svc.url}/stats`)).json() as { refused: { rate_limited: number }; connections: number };
  assert.ok(s.refused.rate_limited >= 100);
  assert.equal(await (await fetch(`${svc.url}/healthz`)).text(), 'ok\n');
}));

test('thousands of headers: refused with 431 (cheaply, before any WebSocket); the server stays up', () => withService({}, async ({ svc }) => {
  // Small headers that fit in 16 KiB: Node keeps the first 101, and that is already too many.
  const small = Array.from({ length: 2000 }, (_, i) => `x${i}: y`);
  const r = await rawUpgrade(svc.url, small);
  assert.equal(r.status, 431, r.head);
  assert.ok(r.closed);
  // Larger ones: Node's parser stops at 16 KiB and answers 431 itself (or resets a client still writing).
  const large = Array.from({ length: 5000 }, (_, i) => `x-header-${i}: ${'v'.repeat(20)}`);
  const l = await rawUpgrade(svc.url, large);
  assert.ok(l.closed, 'closed');
  assert.ok(l.status === 431 || l.status === 0, `status ${l.status}`);
  // Plain HTTP requests too. (Node's own client puts Host last, so Node drops it with the extra headers and answers 400.)
  assert.equal((await rawUpgrade(svc.url, small.slice(0, 150), { path: '/healthz', plain: true })).status, 431);
  assert.equal(await (await fetch(`${svc.url}/healthz`)).text(), 'ok\n');
  assert.equal((await (await fetch(`${svc.url}/stats`)).json() as { connections: number }).connections, 0);
}));

test('too many subscriptions on a connection: too_many_subscriptions, and room again after an unsubscribe', () => withClient({ maxSubscriptions: 3 }, async ({ c }) => {
  for (const id of ['a', 'b', 'c', 'd']) c.send({ op: 'subscribe', id, source: 'app', from: 'end' });
  await c.until(() => c.of('d', 'error').length > 0, 'the fourth refused');
  assert.equal(c.of('d', 'error')[0].code, 'too_many_subscriptions');
  assert.equal(c.frames.filter((f) => f.op === 'subscribed').length, 3);
  c.send({ op: 'unsubscribe', id: 'a' });
  c.send({ op: 'subscribe', id: 'd', source: 'app', from: 'end' });
  await c.until(() => c.of('d', 'subscribed').length > 0, 'the fourth, now');
}));

test('too many connections: 503 in the upgrade; room again once one closes', async () => {
  const { svc } = await serve({ maxConnections: 2 });
  const a = await Client.connect(svc.url);
  const b = await Client.connect(svc.url);
  try {
    const r = await rawUpgrade(svc.url);
    assert.equal(r.status, 503);
    assert.ok(r.closed);
    await a.close();
    const deadline = Date.now() + 5000;
    while ((await (await fetch(`${svc.url}/stats`)).json() as { connections: number }).connections > 1 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
    const c = await Client.connect(svc.url);
    await c.close();
  } finally {
    await b.close();
    await svc.close();
  }
});

test('permessage-deflate is off unless configured', async () => {
  const off = await serve();
  const on = await serve({ perMessageDeflate: true });
  try {
    const c1 = await Client.connect(off.svc.url);
    assert.equal(c1.ws.extensions, '');
    await c1.close();
    const c2 = await Client.connect(on.svc.url);
    assert.match(c2.ws.extensions, /permessage-deflate/);
    await c2.close();
  } finally {
    await off.svc.close();
    await on.svc.close();
  }
});

test('a non-loopback bind without tokens warns at start', async () => {
  const open = await serve({ host: '0.0.0.0' });
  const closed = await serve();
  try {
    assert.match(open.warnings.join('\n'), /without tokens: anyone who can reach port/);
    assert.deepEqual(closed.warnings, []);
  } finally {
    await open.svc.close();
    await closed.svc.close();
  }
});

test('security options are checked with messages that name the setting', async () => {
  const src = [{ name: 'a', globs: ['/tmp/x/*.log'] }];
  const cases: [unknown, RegExp][] = [
    [{ tokens: 'abc' }, /^tokens must be an array/],
    [{ tokens: [{ token: 'short', sources: '*' }] }, /^tokens\[0\]\.token must be a token of 16 to 4096 .*got 5 characters/],
    [{ tokens: [{ token: 'has spaces in it 0123', sources: '*' }] }, /tokens\[0\]\.token .*got a character outside that set/],
    [{ tokens: [{ token: APP_TOKEN }] }, /tokens\[0\]\.sources must be "\*" or a non-empty array/],
    [{ tokens: [{ token: APP_TOKEN, sources: ['b'] }] }, /tokens\[0\]\.sources must be names of configured sources \(a\)/],
    [{ tokens: [{ token: APP_TOKEN, sources: '*' }, { token: APP_TOKEN, sources: '*' }] }, /tokens\[1\]\.token must be different/],
    [{ tokens: [{ token: APP_TOKEN, sources: '*', admin: true }] }, /tokens\[0\]\.admin/],
    [{ origins: ['http://a.example/path'] }, /^origins\[0\] must be an origin/],
    [{ origins: ['ftp://a.example'] }, /^origins\[0\] must be an origin/],
    [{ tls: { cert: '/x.pem' } }, /^tls\.key must be/],
    [{ maxConnections: 0 }, /^maxConnections must be an integer from 1/],
    [{ maxSubscriptions: 1.5 }, /^maxSubscriptions/],
    [{ messageRate: 'fast' }, /^messageRate/],
    [{ messageBurst: -1 }, /^messageBurst/],
    [{ perMessageDeflate: 'yes' }, /^perMessageDeflate must be true or false/],
    [{ warn: 'stderr' }, /^warn must be a function/],
  ];
  for (const [extra, re] of cases) {
    await assert.rejects(startService({ sources: src, ...(extra as object) } as ServiceOptions), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'LOGWIRE_ERR_INVALID_OPTION');
      assert.match(err.message, re);
      assert.ok(!err.message.includes(APP_TOKEN), 'a message never shows a token');
      return true;
    });
  }
});

test('--token and --token-file: TOKEN[:SOURCE,…], comments and blank lines skipped, mistakes named', () => {
  assert.deepEqual(parseTokenFlag(APP_TOKEN), { token: APP_TOKEN, sources: '*' });
  assert.deepEqual(parseTokenFlag(`${APP_TOKEN}:app,api`), { token: APP_TOKEN, sources: ['app', 'api'] });
  assert.throws(() => parseTokenFlag(`${APP_TOKEN}:`), /--token must be TOKEN or TOKEN:SOURCE/);
  assert.throws(() => parseTokenFlag('short:app'), (err: Error & { code?: string }) => err.code === 'LOGWIRE_ERR_USAGE' && /--token must be a token/.test(err.message));
  const file = join(freshDir('tokens'), 'tokens');
  writeFileSync(file, `# readers\n${APP_TOKEN}:app\n\n${ALL_TOKEN}\nshort\n`);
  assert.throws(() => loadTokenFile(file), new RegExp(`${file}:5 must be a token`));
  writeFileSync(file, `# readers\n${APP_TOKEN}:app\n\n  ${ALL_TOKEN}  \n`);
  assert.deepEqual(loadTokenFile(file), [{ token: APP_TOKEN, sources: ['app'] }, { token: ALL_TOKEN, sources: '*' }]);
});

test('logwire serve --help lists the security flags; flag mistakes are one-line usage errors', () => {
  const help = spawnSync(process.execPath, [BIN, 'serve', '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0);
  for (const flag of ['--token TOKEN', '--token-file FILE', '--origin ORIGIN', '--tls-cert FILE', '--tls-key FILE', '--max-connections N', '--max-subscriptions N', '--message-rate N', '--message-burst N', '--per-message-deflate', 'root=DIR', '"roots"']) {
    assert.ok(help.stdout.includes(flag), flag);
  }
  const cases: [string[], RegExp][] = [
    [['--token', 'short'], /--token must be a token of 16/],
    [['--tls-cert', '/x.pem'], /--tls-cert and --tls-key go together/],
    [['--origin', 'http://a.example/x'], /--origin must be an origin/],
    [['--max-connections', '0'], /--max-connections must be/],
    [['--token', `${APP_TOKEN}:nope`], /tokens\[0\]\.sources must be names of configured sources/],
  ];
  for (const [args, re] of cases) {
    const r = spawnSync(process.execPath, [BIN, 'serve', '--source', 'app=/tmp/nope/*.log', '--port', '0', ...args], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});
