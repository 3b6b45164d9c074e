// The service over real sockets: replay and follow, every `from`, filters,
// rotation, resume by cursor, slow and never-reading clients, bad messages,
// and the HTTP endpoints.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, closeSync, copyFileSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, statSync, truncateSync, unlinkSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBuffer } from '../src/index.js';
import { startService, type Service, type ServiceOptions } from '../src/service/server.js';
import { parseSourceFlag, resolveService } from '../src/service/config.js';
import { Client } from './support/ws-client.js';
import { serveProcess } from './support/serve-process.js';

let root: string;
before(() => { root = mkdtempSync(join(tmpdir(), 'logwire-service-')); });
after(() => rmSync(root, { recursive: true, force: true }));

const LEVELS = ['INFO', 'DEBUG', 'WARN', 'ERROR', 'INFO'];
const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);

/** Classic lines numbered from `first`; line i is at T0 + i seconds. */
function lines(first: number, n: number, tag = 'x'): string {
  let s = '';
  for (let i = first; i < first + n; i++) {
    const ts = new Date(T0 + i * 1000).toISOString().replace('T', ' ').replace('Z', '');
    s += `${ts} [${LEVELS[i % LEVELS.length]}] event ${tag} n=${i} user=u${i % 7}${i % 11 === 0 ? ' note="request timeout"' : ''}\n`;
  }
  return s;
}

let dirs = 0;
function freshDir(): string {
  const d = join(root, `d${dirs++}`);
  mkdtempSync(d + '-');
  return mkdtempSync(join(root, `s${dirs}-`));
}

async function serve(dir: string, extra: Partial<ServiceOptions> = {}, policy?: 'block' | 'drop' | 'disconnect'): Promise<Service> {
  return startService({ port: 0, pollMs: 50, sources: [{ name: 'app', globs: [join(dir, '*.log')], format: 'classic', policy }], ...extra });
}

/** A service on a folder holding app.log with `text`, and a connected client; both closed after `body`. */
async function withFile(text: string, extra: Partial<ServiceOptions>, body: (t: { dir: string; path: string; svc: Service; c: Client }) => Promise<void>): Promise<void> {
  const dir = freshDir();
  const path = join(dir, 'app.log');
  writeFileSync(path, text);
  const svc = await serve(dir, extra);
  const c = await Client.connect(svc.url);
  try {
    await body({ dir, path, svc, c });
  } finally {
    await c.close();
    await svc.close();
  }
}

/** Write `block` over and over to 40 MiB, past the 32 MiB that sends a backlog to the pool; returns the copies. */
function writeCopies(path: string, block: string): number {
  const bytes = Buffer.from(block);
  const copies = Math.ceil((40 << 20) / bytes.length);
  const fd = openSync(path, 'w');
  for (let i = 0; i < copies; i++) writeSync(fd, bytes);
  closeSync(fd);
  return copies;
}

/** What `logwire parse` gives for these bytes of this file, from this offset and line. */
function expected(path: string, bytes: string, offset = 0, line = 1): Record<string, unknown>[] {
  const batch = parseBuffer(bytes, { format: 'classic', fileName: path });
  return batch.records().map((r) => ({ ...r, offset: r.offset + offset, line: r.line + line - 1 })) as unknown as Record<string, unknown>[];
}

test('replays from the start, says caught_up, then follows appended lines', () => {
  const first = lines(0, 3000);
  return withFile(first, { batchBytes: 16 << 10 }, async ({ path, c }) => {
    c.send({ op: 'subscribe', id: 's', source: 'app', from: 'start' });
    await c.until((f) => f.some((x) => x.op === 'caught_up'), 'caught_up');
    const sub = c.of('s', 'subscribed')[0];
    assert.deepEqual(sub.files, [{ file: path, offset: 0 }]);
    assert.ok(c.of('s', 'records').length > 5, 'small batchBytes gives several frames');
    for (const f of c.of('s', 'records')) assert.equal(f.count, (f.records as unknown[]).length);
    assert.deepEqual(c.records('s'), expected(path, first));
    const more = lines(3000, 50);
    appendFileSync(path, more);
    const all = await c.waitRecords('s', 3050);
    assert.deepEqual(all.slice(3000), expected(path, more, first.length, 3001));
    assert.equal(all.length, 3050);
  });
});

test('from end gives only new lines, with exact line numbers', () => {
  const first = lines(0, 500);
  return withFile(first, {}, async ({ path, c }) => {
    c.send({ op: 'subscribe', id: 'e', source: 'app', from: 'end' });
    await c.until(() => c.of('e', 'subscribed').length > 0, 'subscribed');
    assert.deepEqual(c.of('e', 'subscribed')[0].files, [{ file: path, offset: first.length }]);
    const more = lines(500, 20);
    appendFileSync(path, more);
    const got = await c.waitRecords('e', 20);
    assert.deepEqual(got, expected(path, more, first.length, 501));
  });
});

test('from an offset: a line start as given, a mid-line offset skips to the next line', async () => {
  const dir = freshDir();
  const path = join(dir, 'app.log');
  const text = lines(0, 400);
  writeFileSync(path, text);
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0 && i < text.length - 1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  const svc = await serve(dir);
  const c = await Client.connect(svc.url);
  try {
    c.send({ op: 'subscribe', id: 'a', source: 'app', from: { offset: starts[123], file: path } });
    c.send({ op: 'subscribe', id: 'b', source: 'app', from: { offset: starts[200] + 5, file: path } });
    await c.until(() => c.of('a', 'caught_up').length > 0 && c.of('b', 'caught_up').length > 0, 'both caught up');
    const all = expected(path, text);
    assert.deepEqual(c.records('a'), all.slice(123));
    assert.deepEqual(c.records('b'), all.slice(201));
    c.send({ op: 'subscribe', id: 'z', source: 'app', from: { offset: 0, file: join(dir, 'other.log') } });
    await c.until(() => c.of('z', 'error').length > 0, 'an error for an unknown file');
    assert.equal(c.of('z', 'error')[0].code, 'not_found');
  } finally {
    await c.close();
    await svc.close();
  }
});

test('from a time: binary search finds the first line at or after it', async () => {
  const dir = freshDir();
  const path = join(dir, 'app.log');
  const text = lines(0, 20_000); // ~1.4 MB: many probes of the search
  writeFileSync(path, text);
  const svc = await serve(dir);
  const c = await Client.connect(svc.url);
  try {
    const all = expected(path, text);
    for (const [id, i, exact] of [['t1', 12_345, true], ['t2', 0, true], ['t3', 777, false]] as const) {
      // Half a second after line i-1 when not exact: the answer is line i.
      const t = new Date(T0 + i * 1000 - (exact ? 0 : 500)).toISOString();
      c.send({ op: 'subscribe', id, source: 'app', from: { time: t } });
      await c.until(() => c.of(id, 'caught_up').length > 0, `${id} caught up`);
      const got = c.records(id);
      assert.equal(got.length, all.length - i, id);
      assert.deepEqual(got[0], all[i], id);
    }
    c.send({ op: 'subscribe', id: 'late', source: 'app', from: { time: '2030-01-01T00:00:00Z' } });
    await c.until(() => c.of('late', 'caught_up').length > 0, 'late caught up');
    assert.equal(c.records('late').length, 0);
    c.send({ op: 'subscribe', id: 'bad', source: 'app', from: { time: 'yesterday' } });
    await c.until(() => c.of('bad', 'error').length > 0, 'error for a bad time');
    assert.equal(c.of('bad', 'error')[0].code, 'bad_request');
  } finally {
    await c.close();
    await svc.close();
  }
});

test('filters: level and above, field match, contains, combined', () => {
  const text = lines(0, 300);
  return withFile(text, {}, async ({ path, c }) => {
    const all = expected(path, text) as { level: string; fields: Record<string, string>; msg: string }[];
    const cases: [string, object, (r: (typeof all)[number]) => boolean][] = [
      ['lv', { level: 'warn' }, (r) => r.level === 'warn' || r.level === 'error'],
      ['m', { match: { user: 'u3' } }, (r) => r.fields.user === 'u3'],
      ['ct', { contains: 'timeout' }, (r) => r.msg.includes('timeout')],
      ['both', { level: 'error', match: { user: 'u1' }, contains: 'event' }, (r) => r.level === 'error' && r.fields.user === 'u1'],
    ];
    for (const [id, filter] of cases) c.send({ op: 'subscribe', id, source: 'app', from: 'start', filter });
    await c.until(() => cases.every(([id]) => c.of(id, 'caught_up').length > 0), 'all caught up');
    for (const [id, , keep] of cases) {
      const want = all.filter(keep);
      assert.ok(want.length > 0 && want.length < all.length, id);
      assert.deepEqual(c.records(id), want, id);
    }
    c.send({ op: 'subscribe', id: 'bad', source: 'app', filter: { level: 'loud' } });
    await c.until(() => c.of('bad', 'error').length > 0, 'bad filter refused');
    assert.equal(c.of('bad', 'error')[0].code, 'bad_request');
  });
});

test('resume by cursor after a reconnect: nothing lost, nothing repeated', async () => {
  const dir = freshDir();
  const path = join(dir, 'app.log');
  writeFileSync(path, lines(0, 2000));
  const svc = await serve(dir, { batchBytes: 8 << 10 });
  try {
    const c1 = await Client.connect(svc.url);
    c1.send({ op: 'subscribe', id: 'r', source: 'app', from: 'start' });
    await c1.until(() => c1.of('r', 'records').length >= 4, 'a few frames');
    await c1.close();
    const frames = c1.of('r', 'records');
    const kept = frames.slice(0, 3);
    const seen = kept.flatMap((f) => f.records as Record<string, unknown>[]);
    // Lines written while disconnected are not lost either.
    appendFileSync(path, lines(2000, 100));
    const c2 = await Client.connect(svc.url);
    c2.send({ op: 'subscribe', id: 'r2', source: 'app', from: { cursor: kept[2].cursor } });
    const rest = await c2.waitRecords('r2', 2100 - seen.length);
    await c2.close();
    const all = expected(path, readFileSync(path, 'utf8'));
    assert.deepEqual([...seen, ...rest], all);
    // A cursor that was not made by the service is refused.
    const c3 = await Client.connect(svc.url);
    c3.send({ op: 'subscribe', id: 'x', source: 'app', from: { cursor: 'bm9wZQ' } });
    await c3.until(() => c3.of('x', 'error').length > 0, 'bad cursor refused');
    assert.equal(c3.of('x', 'error')[0].code, 'bad_request');
    await c3.close();
  } finally {
    await svc.close();
  }
});

test('a cursor into a file that is gone gives a file_gone gap, even if a new file got its inode', async () => {
  const dir = freshDir();
  const path = join(dir, 'app.log');
  writeFileSync(path, lines(0, 40));
  const svc = await serve(dir, { batchBytes: 1024 });
  try {
    const c1 = await Client.connect(svc.url);
    c1.send({ op: 'subscribe', id: 'a', source: 'app', from: 'start' });
    await c1.until(() => c1.of('a', 'caught_up').length > 0, 'caught up');
    const cursor = c1.of('a', 'records')[1].cursor;
    await c1.close();
    const before = statSync(path).ino;
    unlinkSync(path);
    await new Promise((r) => setTimeout(r, 200)); // the service lets the deleted file go
    // Another file at the same path; on ext4 and tmpfs it often gets the freed inode back.
    const fresh = lines(500, 40, 'fresh');
    writeFileSync(path, fresh);
    const reused = statSync(path).ino === before;
    const c2 = await Client.connect(svc.url);
    c2.send({ op: 'subscribe', id: 'b', source: 'app', from: { cursor } });
    const got = await c2.waitRecords('b', 40);
    await c2.close();
    const gap = c2.of('b', 'gap')[0];
    assert.ok(gap, `a gap frame (inode reused: ${reused})`);
    assert.equal(gap.reason, 'file_gone');
    assert.equal(gap.to, null);
    assert.deepEqual(got, expected(path, fresh), 'the new file from its start, not from the old offset');
  } finally {
    await svc.close();
  }
});

test('rotation by rename + create: the old file is read to its end, then the new one from 0', () => withFile(lines(0, 100), {}, async ({ dir, path, c }) => {
  c.send({ op: 'subscribe', id: 'f', source: 'app', from: 'end' });
  await c.until(() => c.of('f', 'caught_up').length > 0, 'caught up');
  // The last lines land in the old file just before the rename.
  const tail = lines(100, 30);
  appendFileSync(path, tail);
  renameSync(path, join(dir, 'app.log.1'));
  const fresh = lines(130, 40);
  writeFileSync(path, fresh);
  const got = await c.waitRecords('f', 70);
  const oldOnes = got.filter((r) => (r.line as number) > 100);
  assert.deepEqual(oldOnes, expected(path, tail, lines(0, 100).length, 101));
  assert.deepEqual(got.filter((r) => (r.line as number) <= 40), expected(path, fresh));
  const reasons = c.of('f', 'rotated').map((f) => f.reason);
  assert.ok(reasons.includes('renamed') && reasons.includes('created'), JSON.stringify(reasons));
  assert.equal(c.of('f', 'rotated').find((f) => f.reason === 'renamed')!.to, join(dir, 'app.log.1'));
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(c.records('f').length, 70, 'nothing repeated');
  // The old file to its end before the new one, even with a backlog in the old one.
  const backlog = lines(1000, 20_000, 'old');
  appendFileSync(path, backlog);
  renameSync(path, join(dir, 'app.log.2'));
  writeFileSync(path, lines(0, 10, 'newer'));
  const all = await c.waitRecords('f', 70 + 20_010, 30_000);
  const lastOld = all.map((r) => String(r.msg)).lastIndexOf(all.find((r) => String(r.msg).includes('event old n=20999'))!.msg as string);
  const firstNew = all.findIndex((r) => String(r.msg).includes('newer'));
  assert.ok(lastOld >= 0 && firstNew > lastOld, `old file's last record at ${lastOld}, new file's first at ${firstNew}`);
}));

test('a replay big enough for the worker pool numbers lines exactly; appended lines and later subscribers continue the count', { timeout: 120_000 }, async () => {
  const dir = freshDir();
  const path = join(dir, 'app.log');
  const copies = writeCopies(path, lines(0, 10_000));
  const total = 10_000 * copies;
  const svc = await serve(dir, { workers: 2 });
  const c = await Client.connect(svc.url);
  try {
    let next = 1;
    let bad = '';
    c.send({ op: 'subscribe', id: 'p', source: 'app', from: 'start' });
    await c.until((frames) => {
      for (const f of frames.splice(0)) {
        if (f.op === 'caught_up') next = -next;
        if (f.op !== 'records') continue;
        for (const r of f.records as { line: number }[]) {
          if (r.line !== next && !bad) bad = `expected line ${next}, got ${r.line}`;
          next++;
        }
      }
      return next < 0 || bad !== '';
    }, 'caught up', 100_000);
    assert.equal(bad, '');
    assert.equal(-next - 1, total);
    appendFileSync(path, lines(0, 3, 'tail'));
    await c.until(() => c.records('p').length >= 3, 'appended lines');
    assert.deepEqual(c.records('p').map((r) => r.line), [total + 1, total + 2, total + 3]);
    c.send({ op: 'subscribe', id: 'e', source: 'app', from: 'end' });
    await c.until(() => c.of('e', 'caught_up').length > 0, 'e caught up');
    appendFileSync(path, lines(0, 1, 'later'));
    await c.until(() => c.records('e').length >= 1, 'a record for e');
    assert.equal(c.records('e')[0].line, total + 4);
  } finally {
    await c.close();
    await svc.close();
  }
});

test('after unsubscribed, no more records come for that id', () => withFile(lines(0, 200_000), { queueBytes: 1 << 30, batchBytes: 4096 }, async ({ c }) => {
  c.send({ op: 'subscribe', id: 'u', source: 'app', from: 'start' });
  await c.until(() => c.of('u', 'records').length > 0, 'records');
  c.send({ op: 'unsubscribe', id: 'u' });
  await c.until(() => c.of('u', 'unsubscribed').length > 0, 'unsubscribed');
  const at = c.frames.findIndex((f) => f.op === 'unsubscribed');
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(c.frames.slice(at).filter((f) => f.op === 'records').length, 0);
}));

test('lines written to a renamed file before its writer reopens are still read; a cursor into it resumes under its new name', async () => {
  const dir = freshDir();
  const path = join(dir, 'app.log');
  writeFileSync(path, lines(0, 5));
  // Only app.log matches: the rotated file leaves the glob.
  const svc = await startService({ port: 0, pollMs: 50, rotateWaitMs: 2000, sources: [{ name: 'app', globs: [path], format: 'classic' }] });
  try {
    const c = await Client.connect(svc.url);
    c.send({ op: 'subscribe', id: 'g', source: 'app', from: 'start' });
    await c.waitRecords('g', 5);
    renameSync(path, join(dir, 'app.log.1'));
    writeFileSync(path, '');
    await c.until(() => c.of('g', 'rotated').some((f) => f.reason === 'renamed'), 'renamed');
    await new Promise((r) => setTimeout(r, 300));
    // The application still has the old file open and writes one more line before it reopens.
    appendFileSync(join(dir, 'app.log.1'), lines(5, 1, 'late'));
    const got = await c.waitRecords('g', 6);
    assert.match(String(got[5].msg), /late/);
    const cursor = c.of('g', 'records').at(-1)!.cursor;
    await c.close();
    // While no one is connected: more lines in the rotated file, and in the new one.
    appendFileSync(join(dir, 'app.log.1'), lines(6, 2, 'away'));
    appendFileSync(path, lines(0, 3, 'new'));
    const c2 = await Client.connect(svc.url);
    c2.send({ op: 'subscribe', id: 'h', source: 'app', from: { cursor } });
    const rest = await c2.waitRecords('h', 5);
    await c2.close();
    assert.equal(c2.of('h', 'gap').length, 0, JSON.stringify(c2.of('h', 'gap')));
    assert.deepEqual(rest.filter((r) => String(r.msg).includes('away')).map((r) => r.line), [7, 8]);
    assert.equal(rest.filter((r) => String(r.msg).includes('new')).length, 3);
  } finally {
    await svc.close();
  }
});

test('a directory created after the start is watched once it exists (not left to polling)', async () => {
  const base = freshDir();
  const dir = join(base, 'later');
  const svc = await startService({ port: 0, pollMs: 1500, sources: [{ name: 'app', globs: [join(dir, '*.log')], format: 'classic', roots: [base] }] });
  const c = await Client.connect(svc.url);
  try {
    c.send({ op: 'subscribe', id: 'w', source: 'app', from: 'end' });
    await c.until(() => c.of('w', 'caught_up').length > 0, 'caught up');
    mkdirSync(dir);
    writeFileSync(join(dir, 'app.log'), lines(0, 1));
    await c.waitRecords('w', 1, 5000);
    const t0 = Date.now();
    appendFileSync(join(dir, 'app.log'), lines(1, 1));
    await c.waitRecords('w', 2, 5000);
    assert.ok(Date.now() - t0 < 1000, `took ${Date.now() - t0} ms: inotify, not the 1.5 s poll`);
  } finally {
    await c.close();
    await svc.close();
  }
});

test('copytruncate: a file that shrinks is read again from 0', () => withFile(lines(0, 50), {}, async ({ dir, path, c }) => {
  c.send({ op: 'subscribe', id: 'k', source: 'app', from: 'start' });
  await c.waitRecords('k', 50);
  copyFileSync(path, join(dir, 'app.log.1.bak'));
  truncateSync(path, 0);
  await c.until(() => c.of('k', 'rotated').some((f) => f.reason === 'truncated'), 'rotated: truncated');
  const after = lines(1000, 10, 'new');
  appendFileSync(path, after);
  const got = await c.waitRecords('k', 60);
  assert.deepEqual(got.slice(50), expected(path, after));
  // Cut and at once written past the old size: the fingerprint of the first bytes tells.
  const bigger = lines(5000, 200, 'again');
  truncateSync(path, 0);
  appendFileSync(path, bigger);
  const again = await c.waitRecords('k', 260);
  assert.deepEqual(again.slice(60), expected(path, bigger));
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(c.records('k').length, 260, 'nothing read twice');
}));

test('deletion: lines written before the unlink arrive, then a rotated/deleted frame; new files are picked up', () => withFile(lines(0, 10), {}, async ({ dir, path, c }) => {
  c.send({ op: 'subscribe', id: 'd', source: 'app', from: 'end' });
  await c.until(() => c.of('d', 'caught_up').length > 0, 'caught up');
  appendFileSync(path, lines(10, 5));
  unlinkSync(path);
  await c.until(() => c.of('d', 'rotated').some((f) => f.reason === 'deleted'), 'rotated: deleted');
  assert.equal((await c.waitRecords('d', 5)).length, 5);
  const other = join(dir, 'other.log');
  writeFileSync(other, lines(0, 7, 'other'));
  const got = await c.waitRecords('d', 12);
  assert.deepEqual(got.slice(5), expected(other, lines(0, 7, 'other')));
  assert.ok(c.of('d', 'rotated').some((f) => f.reason === 'created' && f.file === other));
}));

test('a last line without LF waits for its newline, and is flushed after partialFlushMs', () => withFile('', { partialFlushMs: 600 }, async ({ path, c }) => {
  c.send({ op: 'subscribe', id: 'p', source: 'app', from: 'end' });
  await c.until(() => c.of('p', 'caught_up').length > 0, 'caught up');
  const one = lines(0, 1);
  appendFileSync(path, one.slice(0, 20));
  await new Promise((r) => setTimeout(r, 150));
  appendFileSync(path, one.slice(20));
  const got = await c.waitRecords('p', 1);
  assert.deepEqual(got, expected(path, one), 'completed within the timeout: one whole record');
  const two = lines(1, 1).trimEnd();
  appendFileSync(path, two);
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(c.records('p').length, 1, 'not sent before the timeout');
  const flushed = await c.waitRecords('p', 2, 5000);
  assert.ok(Date.now() - t0 >= 500, 'sent after the flush timeout');
  assert.equal(flushed[1].msg, expected(path, two + '\n')[0].msg);
}));

test('bad messages get error frames; the connection and the server stay up', async () => {
  const dir = freshDir();
  writeFileSync(join(dir, 'app.log'), lines(0, 3));
  const svc = await serve(dir);
  const c = await Client.connect(svc.url);
  try {
    const bad: [unknown, string][] = [
      ['not json', 'bad_message'],
      ['[1,2]', 'bad_message'],
      [{ op: 'launch' }, 'bad_message'],
      [{ op: 'subscribe', id: 'a' }, 'bad_request'],
      [{ op: 'subscribe', id: 'a', source: 'nope' }, 'unknown_source'],
      [{ op: 'subscribe', source: 'app' }, 'bad_request'],
      [{ op: 'subscribe', id: 'a', source: 'app', from: 'yesterday' }, 'bad_request'],
      [{ op: 'subscribe', id: 'a', source: 'app', from: { offset: -1, file: 'x' } }, 'bad_request'],
      [{ op: 'unsubscribe', id: 'zz' }, 'unknown_id'],
    ];
    for (const [msg] of bad) c.send(msg);
    await c.until((f) => f.filter((x) => x.op === 'error').length >= bad.length, 'an error per bad message');
    assert.deepEqual(c.frames.filter((x) => x.op === 'error').map((x) => x.code), bad.map(([, code]) => code));
    c.send({ op: 'subscribe', id: 'ok', source: 'app', from: 'start' });
    c.send({ op: 'subscribe', id: 'ok', source: 'app', from: 'start' });
    await c.waitRecords('ok', 3);
    await c.until(() => c.of('ok', 'error').length > 0, 'duplicate id refused');
    assert.equal(c.of('ok', 'error')[0].code, 'duplicate_id');
    c.send({ op: 'unsubscribe', id: 'ok' });
    await c.until(() => c.of('ok', 'unsubscribed').length > 0, 'unsubscribed');
    assert.equal(c.closed, null);
    assert.equal(await (await fetch(`${svc.url}/healthz`)).text(), 'ok\n');
  } finally {
    await c.close();
    await svc.close();
  }
});

/** Pause a client's socket: the server's writes pile up in the kernel, then in its send queue. */
function stopReading(c: Client): void {
  (c.ws as unknown as { _socket: { pause(): void } })._socket.pause();
}
function resumeReading(c: Client): void {
  (c.ws as unknown as { _socket: { resume(): void } })._socket.resume();
}

test('a never-reading client: its queue stays bounded, memory does not grow with the file, others go on', { timeout: 180_000 }, async () => {
  const dir = freshDir();
  const path = join(dir, 'app.log');
  // ~128 MB of lines: their NDJSON is ~400 MB, which a service that buffered for the stuck client would hold.
  const block = Buffer.from(lines(0, 10_000));
  const copies = Math.ceil((128 << 20) / block.length);
  const fd = openSync(path, 'w');
  for (let i = 0; i < copies; i++) writeSync(fd, block);
  closeSync(fd);
  const svc = await serveProcess(['--source', `app=${dir}/*.log,format=classic`, '--queue-bytes', String(1 << 20)]);
  const stuck = await Client.connect(svc.url);
  const fine = await Client.connect(svc.url);
  try {
    stopReading(stuck);
    stuck.send({ op: 'subscribe', id: 'stuck', source: 'app', from: 'start' });
    fine.send({ op: 'subscribe', id: 'fine', source: 'app', from: 'start' });
    // Only count records, to keep this process's memory flat.
    let count = 0;
    let done = false;
    const keep = fine.frames;
    await fine.until(() => {
      for (const f of keep.splice(0)) {
        if (f.op === 'records') count += f.count as number;
        if (f.op === 'caught_up') done = true;
      }
      return done;
    }, 'the reading client caught up', 150_000);
    assert.equal(count, 10_000 * copies);
    const stats = (await (await fetch(`${svc.url}/stats`)).json()) as { subscribers: { id: string; queueBytes: number; lagBytes: number }[] };
    const s = stats.subscribers.find((x) => x.id === 'stuck')!;
    assert.ok(s.queueBytes <= (1 << 20) + (2 << 20), `queue ${s.queueBytes}`);
    assert.ok(s.lagBytes > 100 << 20, `the stuck reader is paused (lag ${s.lagBytes})`);
    const peak = svc.peakRss();
    assert.ok(peak < 250e6, `the service's peak RSS was ${(peak / 1e6).toFixed(0)} MB`);
  } finally {
    await stuck.close();
    await fine.close();
    await svc.stop();
  }
});

test('slow live subscribers: block loses nothing, drop sends a gap, disconnect closes with 4008', async () => {
  for (const policy of ['block', 'drop', 'disconnect'] as const) {
    const dir = freshDir();
    const path = join(dir, 'app.log');
    writeFileSync(path, '');
    const svc = await serve(dir, { queueBytes: 64 << 10, batchBytes: 16 << 10 }, policy);
    const c = await Client.connect(svc.url);
    try {
      c.send({ op: 'subscribe', id: 'l', source: 'app', from: 'end' });
      await c.until(() => c.of('l', 'caught_up').length > 0, 'caught up');
      stopReading(c);
      const n = 40_000; // ~3.6 MB, far more than the socket buffers and the queue
      for (let i = 0; i < n; i += 2000) {
        appendFileSync(path, lines(i, 2000));
        await new Promise((r) => setTimeout(r, 20));
      }
      await new Promise((r) => setTimeout(r, 300));
      resumeReading(c);
      if (policy === 'block') {
        const got = await c.waitRecords('l', n, 30_000);
        assert.deepEqual(got.map((r) => r.line), Array.from({ length: n }, (_, i) => i + 1));
        assert.equal(c.of('l', 'gap').length, 0);
      } else if (policy === 'drop') {
        await c.until(() => c.of('l', 'gap').length > 0, 'a gap frame', 30_000);
        const gap = c.of('l', 'gap')[0];
        assert.equal(gap.reason, 'slow_consumer');
        assert.ok((gap.to as number) > (gap.from as number));
        appendFileSync(path, lines(n, 5, 'after'));
        await c.until(() => c.records('l').some((r) => String(r.msg).includes('after') && r.line === n + 5), 'records after the gap', 30_000);
        // What came is in order and the gap accounts for what did not.
        const got = c.records('l').map((r) => r.line as number);
        for (let i = 1; i < got.length; i++) assert.ok(got[i] > got[i - 1]);
        assert.ok(got.length < n + 5);
      } else {
        await c.until(() => c.closed !== null, 'closed', 30_000);
        assert.equal(c.closed!.code, 4008);
      }
    } finally {
      await c.close();
      await svc.close();
    }
  }
});

test('a connection that does not answer pings is dropped', async () => {
  const dir = freshDir();
  writeFileSync(join(dir, 'app.log'), '');
  const svc = await serve(dir, { pingMs: 100 });
  const c = await Client.connect(svc.url, { autoPong: false });
  try {
    await c.until(() => c.closed !== null, 'dropped', 5000);
  } finally {
    await c.close();
    await svc.close();
  }
});

test('HTTP: /healthz, /stats, /metrics, /report, /report.hlog and 404', () => withFile(lines(0, 100), {}, async ({ path, svc, c }) => {
  c.send({ op: 'subscribe', id: 'm', source: 'app', from: 'end' });
  await c.until(() => c.of('m', 'caught_up').length > 0, 'caught up');
  appendFileSync(path, lines(100, 10));
  await c.waitRecords('m', 10);
  const stats = (await (await fetch(`${svc.url}/stats`)).json()) as {
    sources: { name: string; files: { path: string; size: number }[]; recordsParsed: number }[];
    subscribers: { id: string }[]; latency: { e2e: { count: number; p99: number } }; memory: { rss: number };
  };
  assert.equal(stats.sources[0].name, 'app');
  assert.equal(stats.sources[0].files[0].path, path);
  assert.ok(stats.sources[0].recordsParsed >= 10);
  assert.equal(stats.subscribers[0].id, 'm');
  assert.ok(stats.latency.e2e.count >= 1 && stats.latency.e2e.p99 > 0);
  const metrics = await (await fetch(`${svc.url}/metrics`)).text();
  for (const name of ['logwire_source_bytes_parsed_total{source="app"}', 'logwire_source_records_parsed_total', 'logwire_file_lag_bytes', 'logwire_subscriber_queue_bytes', 'logwire_worker_busy_ratio', 'logwire_delivery_latency_seconds{quantile="0.99"}', 'logwire_parse_latency_seconds_count']) {
    assert.ok(metrics.includes(name), name);
  }
  for (const l of metrics.split('\n').filter((x) => x && !x.startsWith('#'))) assert.match(l, /^[a-z_]+(\{[^}]*\})? [-0-9.e+]+$/, l);
  const report = await (await fetch(`${svc.url}/report`)).text();
  assert.match(report, /Percentile/);
  const hlog = await (await fetch(`${svc.url}/report.hlog`)).text();
  assert.match(hlog, /Tag=e2e,/);
  assert.equal((await fetch(`${svc.url}/nope`)).status, 404);
  assert.match(await (await fetch(`${svc.url}/`)).text(), /<html/i);
}));

test('service options are checked with messages that name the setting', async () => {
  const cases: [unknown, RegExp][] = [
    [{ sources: [] }, /sources/],
    [{ sources: [{ name: 'a b', globs: ['/x'] }] }, /name/],
    [{ sources: [{ name: 'a', globs: [] }] }, /globs/],
    [{ sources: [{ name: 'a', globs: ['/x'], format: 'xml' }] }, /format/],
    [{ sources: [{ name: 'a', globs: ['/x'], policy: 'ignore' }] }, /policy/],
    [{ sources: [{ name: 'a', globs: ['/x'], tz: 'Mars/Base' }] }, /tz/],
    [{ sources: [{ name: 'a', globs: ['/x'] }, { name: 'a', globs: ['/y'] }] }, /different names/],
    [{ sources: [{ name: 'a', globs: ['/x'] }], port: 70000 }, /port/],
    [{ sources: [{ name: 'a', globs: ['/x'] }], queueBytes: 'big' }, /queueBytes/],
    [{ sources: [{ name: 'a', globs: ['/x'] }], colour: 'blue' }, /colour/],
  ];
  for (const [options, re] of cases) {
    await assert.rejects(startService(options as ServiceOptions), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'LOGWIRE_ERR_INVALID_OPTION');
      assert.match(err.message, re);
      return true;
    });
  }
});

test('durable subscriptions: after a restart the same name goes on after its last ack; one at a time; content replaced while down starts at 0', async () => {
  const dir = freshDir();
  const path = join(dir, 'app.log');
  const text = lines(0, 3000);
  writeFileSync(path, text);
  const checkpoint = join(dir, 'service.checkpoint');
  const all = expected(path, text);
  let svc = await serve(dir, { checkpoint, batchBytes: 16 << 10 });
  let c = await Client.connect(svc.url);
  try {
    c.send({ op: 'subscribe', id: 'a', source: 'app', from: 'start', durable: 'billing' });
    await c.until(() => c.of('a', 'caught_up').length > 0, 'caught up');
    const frames = c.of('a', 'records');
    assert.ok(frames.length > 4);
    const upTo = frames.slice(0, 3).reduce((n, f) => n + (f.count as number), 0);
    c.send({ op: 'ack', id: 'a', cursor: frames[2].cursor });
    // The same durable name twice at once is refused; ack is only for durable subscriptions.
    c.send({ op: 'subscribe', id: 'b', source: 'app', durable: 'billing' });
    c.send({ op: 'subscribe', id: 'n', source: 'app' });
    c.send({ op: 'ack', id: 'n', cursor: frames[2].cursor });
    await c.until(() => c.of('b', 'error').length > 0 && c.of('n', 'error').length > 0, 'refusals');
    assert.equal(c.of('b', 'error')[0].code, 'durable_in_use');
    assert.equal(c.of('n', 'error')[0].code, 'bad_request');
    // The source's checkpoint: where every durable subscriber has acked to.
    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    assert.ok(metrics.includes(`logwire_checkpoint_offset_bytes{source="app",file="${path}"} ${all[upTo].offset}`), metrics.split('\n').filter((l) => l.includes('checkpoint')).join('\n'));
    await c.close();
    await svc.close();
    appendFileSync(path, lines(3000, 10));
    svc = await serve(dir, { checkpoint });
    c = await Client.connect(svc.url);
    // `from` is ignored for a durable name seen before.
    c.send({ op: 'subscribe', id: 'a2', source: 'app', from: 'end', durable: 'billing' });
    const rest = await c.waitRecords('a2', 3010 - upTo);
    assert.equal(c.of('a2', 'subscribed')[0].resumed, true);
    assert.deepEqual([...all.slice(0, upTo), ...rest], expected(path, readFileSync(path, 'utf8')));
    c.send({ op: 'ack', id: 'a2', cursor: c.of('a2', 'records').at(-1)!.cursor });
    await new Promise((r) => setTimeout(r, 50));
    await c.close();
    await svc.close();
    // Replaced while the service was down (same inode, new content): from 0, with a gap that says so.
    const fresh = lines(0, 5, 'replaced');
    truncateSync(path, 0);
    appendFileSync(path, fresh);
    svc = await serve(dir, { checkpoint });
    c = await Client.connect(svc.url);
    c.send({ op: 'subscribe', id: 'a3', source: 'app', durable: 'billing' });
    const got = await c.waitRecords('a3', 5);
    assert.deepEqual(got, expected(path, fresh));
    assert.equal(c.of('a3', 'gap')[0]?.reason, 'truncated');
    c.send({ op: 'subscribe', id: 'x', source: 'app', durable: 'bad name!' });
    await c.until(() => c.of('x', 'error').length > 0, 'bad durable name refused');
  } finally {
    await c.close();
    await svc.close();
  }
  const open = await serve(dir);
  const c2 = await Client.connect(open.url);
  try {
    c2.send({ op: 'subscribe', id: 'd', source: 'app', durable: 'billing' });
    await c2.until(() => c2.of('d', 'error').length > 0, 'no checkpoint: refused');
    assert.match(String(c2.of('d', 'error')[0].message), /--checkpoint/);
  } finally {
    await c2.close();
    await open.close();
  }
});

test('cursors are signed: a changed one is refused; a durable name belongs to the token that made it', async () => {
  const dir = freshDir();
  const path = join(dir, 'app.log');
  writeFileSync(path, lines(0, 50));
  const checkpoint = join(dir, 'service.checkpoint');
  const A = 'token-a-0123456789abcdef';
  const B = 'token-b-0123456789abcdef';
  const svc = await serve(dir, { checkpoint, tokens: [{ token: A, sources: '*' }, { token: B, sources: '*' }] });
  const as = (token: string) => Client.connect(svc.url, { headers: { authorization: `Bearer ${token}` } });
  try {
    const a = await as(A);
    a.send({ op: 'subscribe', id: 's', source: 'app', from: 'start', durable: 'mine' });
    await a.until(() => a.of('s', 'caught_up').length > 0, 'caught up');
    const cursor = String(a.of('s', 'records')[0].cursor);
    const [body, mac] = cursor.split('.');
    const parsed = JSON.parse(Buffer.from(body, 'base64url').toString()) as [string, (string | number)[][]];
    parsed[1][0][5] = 0; // move the offset back to 0
    const forged = `${Buffer.from(JSON.stringify(parsed)).toString('base64url')}.${mac}`;
    a.send({ op: 'subscribe', id: 'f', source: 'app', from: { cursor: forged } });
    a.send({ op: 'ack', id: 's', cursor: forged });
    await a.until(() => a.of('f', 'error').length > 0 && a.of('s', 'error').length > 0, 'refusals');
    assert.equal(a.of('f', 'error')[0].code, 'bad_request');
    assert.equal(a.of('s', 'error')[0].code, 'bad_request');
    a.send({ op: 'ack', id: 's', cursor });
    await new Promise((r) => setTimeout(r, 100));
    await a.close();
    const b = await as(B);
    b.send({ op: 'subscribe', id: 't', source: 'app', durable: 'mine' });
    await b.until(() => b.of('t', 'error').length > 0, 'refused');
    assert.equal(b.of('t', 'error')[0].code, 'forbidden');
    await b.close();
    const a2 = await as(A);
    a2.send({ op: 'subscribe', id: 's', source: 'app', durable: 'mine' });
    await a2.until(() => a2.of('s', 'subscribed').length > 0, 'resumed');
    assert.equal(a2.of('s', 'subscribed')[0].resumed, true);
    await a2.close();
  } finally {
    await svc.close();
  }
});

/** A Java-style error record: a classic line, then an exception and its frames. */
function traceRecord(i: number, frames: number): string {
  let s = lines(i, 1).replace(/\n$/, ` trace=${i}\n`) + `java.lang.IllegalStateException: failure ${i}\n`;
  for (let k = 0; k < frames; k++) s += `\tat com.example.Layer${k}.call(Layer${k}.java:${i % 97})\n`;
  return s;
}

test('multiline sources: a record is held until the next one starts, or the file is quiet for flushMs; replay matches parse', async () => {
  const dir = freshDir();
  const path = join(dir, 'app.log');
  const first = lines(0, 5) + traceRecord(5, 3) + lines(6, 2) + traceRecord(8, 4);
  writeFileSync(path, first);
  const multiline = { start: 'timestamp', flushMs: 700 } as const;
  const svc = await startService({ port: 0, pollMs: 50, sources: [{ name: 'app', globs: [join(dir, '*.log')], format: 'classic', multiline }] });
  const c = await Client.connect(svc.url);
  const want = (text: string, offset = 0, line = 1) => parseBuffer(text, { format: 'classic', fileName: path, multiline: 'timestamp' }).records()
    .map((r) => ({ ...r, offset: r.offset + offset, line: r.line + line - 1 })) as unknown as Record<string, unknown>[];
  try {
    c.send({ op: 'subscribe', id: 'm', source: 'app', from: 'start' });
    await c.until(() => c.of('m', 'caught_up').length > 0, 'caught up');
    // Caught up with the file quiet since before the subscription: the last record went out too.
    let got = await c.waitRecords('m', 9, 5000);
    assert.deepEqual(got, want(first));
    // A record written in pieces: nothing goes out while its continuation lines come.
    const next = traceRecord(9, 5);
    const cut = next.indexOf('\tat');
    appendFileSync(path, next.slice(0, cut));
    await new Promise((r) => setTimeout(r, 250));
    appendFileSync(path, next.slice(cut));
    await new Promise((r) => setTimeout(r, 250));
    assert.equal(c.records('m').length, 9, 'held while the file is written');
    // The next record's first line releases it at once, whole.
    const t0 = Date.now();
    const after = lines(10, 1);
    appendFileSync(path, after);
    got = await c.waitRecords('m', 10, 5000);
    assert.ok(Date.now() - t0 < 650, `released by the next record (${Date.now() - t0} ms), not by the quiet time`);
    assert.deepEqual(got[9], want(next, first.length, 1 + first.split('\n').length - 1)[0]);
    assert.equal((got[9].msg as string).split('\n').length, 7);
    // The last one waits for the quiet time.
    const t1 = Date.now();
    got = await c.waitRecords('m', 11, 5000);
    assert.ok(Date.now() - t1 >= 500, 'flushed after flushMs of quiet');
    assert.equal(got[10].msg, want(after)[0].msg);
    // A backlog with a cursor in the middle: resume gives the same records after it.
    const frames = c.of('m', 'records');
    const cursor = frames[0].cursor as string;
    c.send({ op: 'subscribe', id: 'r', source: 'app', from: { cursor } });
    await c.until(() => c.of('r', 'caught_up').length > 0, 'r caught up');
    const resumed = await c.waitRecords('r', 11 - (frames[0].records as unknown[]).length, 5000);
    assert.deepEqual(resumed, got.slice((frames[0].records as unknown[]).length));
  } finally {
    await c.close();
    await svc.close();
  }
});

test('multiline: a backlog big enough for the worker pool gives each record once, in order, with exact lines', { timeout: 120_000 }, async () => {
  const dir = freshDir();
  const path = join(dir, 'app.log');
  let block = '';
  for (let i = 0; i < 2000; i++) block += i % 3 === 0 ? traceRecord(i, 1 + (i % 9)) : lines(i, 1);
  const copies = writeCopies(path, block);
  const perBlock = parseBuffer(block, { format: 'classic', multiline: 'timestamp' }).records();
  const svc = await startService({ port: 0, pollMs: 50, workers: 2, sources: [{ name: 'app', globs: [join(dir, '*.log')], format: 'classic', multiline: 'timestamp' }] });
  const c = await Client.connect(svc.url);
  try {
    let n = 0;
    let bad = '';
    c.send({ op: 'subscribe', id: 'p', source: 'app', from: 'start' });
    await c.until((frames) => {
      for (const f of frames.splice(0)) {
        if (f.op !== 'records') continue;
        for (const r of f.records as { offset: number; line: number; len: number }[]) {
          const k = n % perBlock.length;
          const copy = Math.floor(n / perBlock.length);
          const w = perBlock[k];
          const off = w.offset + copy * Buffer.byteLength(block);
          if (!bad && (r.offset !== off || r.len !== w.len || r.line !== w.line + copy * (block.split('\n').length - 1))) bad = `record ${n}: got ${JSON.stringify(r)}, want offset ${off} len ${w.len}`;
          n++;
        }
      }
      return bad !== '' || n >= perBlock.length * copies;
    }, 'every record', 100_000);
    assert.equal(bad, '');
    assert.equal(n, perBlock.length * copies);
  } finally {
    await c.close();
    await svc.close();
  }
});

test('--source: a format=pattern: or multiline=pattern: value keeps its commas up to the next setting', () => {
  const tsPattern = '%{@ts:%Y-%m-%d %H:%M:%S,%f} %{@msg}';
  assert.deepEqual(parseSourceFlag(`app=/var/log/a.log,/var/log/b.log,format=pattern:${tsPattern}`), { name: 'app', globs: ['/var/log/a.log', '/var/log/b.log'], format: `pattern:${tsPattern}` });
  assert.deepEqual(parseSourceFlag('app=/x/*.log,format=pattern:%{a} %{b:nil,int},tz=+02:00,root=/x,multiline=pattern:%{@ts:%Y-%m-%d %H:%M:%S,%f} ,policy=drop'), {
    name: 'app', globs: ['/x/*.log'], format: 'pattern:%{a} %{b:nil,int}', tz: '+02:00', roots: ['/x'], multiline: 'pattern:%{@ts:%Y-%m-%d %H:%M:%S,%f} ', policy: 'drop',
  });
  // Outside a pattern a comma still separates globs and settings.
  assert.deepEqual(parseSourceFlag('app=/x/a.log,format=json,/x/b.log'), { name: 'app', globs: ['/x/a.log', '/x/b.log'], format: 'json' });
  // The flag's pattern reads like the config file's.
  const o = resolveService({ sources: [parseSourceFlag(`app=${tmpdir()}/a.log,format=pattern:${tsPattern}`)] });
  assert.equal(o.sources[0].format, `pattern:${tsPattern}`);
  const records = parseBuffer('2024-05-01 12:00:00,123 hello\n', { format: o.sources[0].format }).records();
  assert.deepEqual([records[0].ts, records[0].msg], ['2024-05-01T12:00:00.123Z', 'hello']);
});

test('a source reads RFC 3164 years against its file\'s modification time, in replays and in from.time seeks', async () => {
  const dir = freshDir();
  const path = join(dir, 'messages');
  const text = 'Dec 31 23:59:59 host app: old year\nJan  1 00:00:01 host app: new year\n';
  writeFileSync(path, text);
  utimesSync(path, new Date('2024-01-01T00:10:00Z'), new Date('2024-01-01T00:10:00Z'));
  const svc = await startService({ port: 0, pollMs: 50, workers: 1, sources: [{ name: 'sys', globs: [join(dir, 'messages')], format: 'syslog' }] });
  const c = await Client.connect(svc.url);
  try {
    c.send({ op: 'subscribe', id: 'all', source: 'sys', from: 'start' });
    assert.deepEqual((await c.waitRecords('all', 2)).map((r) => r.ts), ['2023-12-31T23:59:59Z', '2024-01-01T00:00:01Z']);
    c.send({ op: 'subscribe', id: 'new', source: 'sys', from: { time: '2024-01-01T00:00:00Z' } });
    assert.deepEqual((await c.waitRecords('new', 1)).map((r) => r.msg), ['new year']);
  } finally {
    await c.close();
    await svc.close();
  }
});
