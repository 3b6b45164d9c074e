// Crash tests: `logwire parse --checkpoint` and `logwire serve` with a durable
// subscriber, killed with SIGKILL at random moments, 200 times each, while a
// writer appends and rotates: every line must come out, and nothing acknowledged
// durably (the parse's checkpoint, the subscriber's ack) may come again.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CheckpointStore } from '../src/durability/wal.js';
import { findByIdentity, type FilePosition } from '../src/durability/position.js';
import { Rng } from './support/random.js';
import { serveProcess } from './support/serve-process.js';
import { Client } from './support/ws-client.js';

const BIN = fileURLToPath(new URL('../../../bin/logwire.js', import.meta.url));
const KILLS = Number(process.env.LOGWIRE_CRASH_RUNS ?? 200);

let dir: string;
before(() => { dir = mkdtempSync(join(tmpdir(), 'logwire-crash-')); });
after(() => rmSync(dir, { recursive: true, force: true }));

interface Printed { file: string; offset: number; line: number; msg: string }

/** Run the CLI; kill it with SIGKILL after `killMs` (if it has not finished). Whole output lines only. */
function run(args: string[], killMs: number | null, onOutput: () => void = () => {}): Promise<{ records: Printed[]; killed: boolean; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    // A slow reader (~20 MB/s), so that kills land while output is flowing, not only before it.
    child.stdout.on('data', (d: Buffer) => {
      onOutput();
      out.push(d);
      child.stdout.pause();
      setTimeout(() => child.stdout.resume(), Math.ceil(d.length / 20_000));
    });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    let killed = false;
    const t = killMs === null ? null : setTimeout(() => { killed = true; child.kill('SIGKILL'); }, killMs);
    child.on('close', () => {
      if (t) clearTimeout(t);
      const text = Buffer.concat(out).toString('utf8');
      // A write cut by the kill leaves a partial last line: it was never checkpointed.
      const whole = text.slice(0, text.lastIndexOf('\n') + 1);
      const records = whole.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Printed);
      done({ records, killed: killed && child.exitCode === null, stderr });
    });
  });
}

/** Where the next run must start: the first rotated file still to finish, else the file at the path. */
function checkpointOf(cp: string, file: string): { path: string; offset: number } | undefined {
  const s = CheckpointStore.open(cp, { syncMs: 0 });
  try {
    const key = `parse:${resolve(file)}`;
    const rotated = (s.get(`${key}#rotated`) as FilePosition[] | undefined) ?? [];
    const pos = rotated[0] ?? (s.get(key) as FilePosition | undefined);
    if (!pos) return undefined;
    const path = rotated[0] ? findByIdentity(dirname(resolve(file)), pos.dev, pos.ino) : resolve(file);
    return path === null ? undefined : { path, offset: pos.offset };
  } finally {
    s.close();
  }
}

test(`parse --checkpoint killed ${KILLS} times while a writer appends and rotates: every line once, repeats only after the last checkpoint`, { timeout: 600_000 }, async () => {
  const rng = new Rng(20261126);
  const log = join(dir, 'app.log');
  const cp = join(dir, 'parse.checkpoint');
  writeFileSync(log, '');
  let seq = 0;
  let rotations = 0;
  const append = (n: number) => {
    let s = '';
    for (let i = 0; i < n; i++, seq++) s += `2024-05-01 12:00:00.000 [INFO] event seq=${seq} pad=${'x'.repeat(seq % 50)}\n`;
    appendFileSync(log, s);
  };
  const rotate = () => {
    renameSync(log, join(dir, `app.log.${++rotations}`));
    writeFileSync(log, '');
  };
  append(20_000);
  const seen = new Map<number, number>();
  let checkedStarts = 0;
  let repeats = 0;
  for (let i = 0; i <= KILLS; i++) {
    const last = i === KILLS;
    const saved = checkpointOf(cp, log);
    // Rotation by rename + create: now and then while the parse prints (its plan is committed by then),
    // at most once between two checkpoints: two rotations before anything is committed is the documented limit.
    let rotated = false;
    let printing = false;
    const writer = last ? null : setInterval(() => {
      append(100);
      if (printing && !rotated && rng.int(100) === 0) {
        rotate();
        rotated = true;
      }
    }, 5);
    const r = await run(['parse', log, '--checkpoint', cp, '--checkpoint-ms', '20', '--workers', '1'], last ? null : 100 + rng.int(350), () => { printing = true; });
    if (writer) clearInterval(writer);
    assert.ok(!/internal error|    at /.test(r.stderr), r.stderr);
    const first = r.records[0];
    // A restart goes on exactly where the durable checkpoint says (when what it names has more to read).
    if (saved && first && first.file === saved.path && !/rewritten|gone|changed/.test(r.stderr)) {
      assert.equal(first.offset, saved.offset, `run ${i}: started at ${first.offset} of ${first.file}, checkpoint ${saved.offset}`);
      checkedStarts++;
    }
    if (process.env.LOGWIRE_CRASH_DEBUG) console.log(i, saved?.path, saved?.offset, first?.offset, first?.file === log, r.records.length, r.killed, JSON.stringify(r.stderr));
    const lastOffset = new Map<string, number>();
    for (const rec of r.records) {
      const s = Number(/seq=(\d+)/.exec(rec.msg)![1]);
      if (seen.has(s)) {
        // Printed before: allowed only after the checkpoint this run started from.
        repeats++;
        assert.ok(!(saved && rec.file === saved.path && rec.offset < saved.offset), `run ${i}: seq ${s} at ${rec.offset} of ${rec.file} again, before the checkpoint ${saved?.offset}`);
      }
      seen.set(s, (seen.get(s) ?? 0) + 1);
      // In file order within a run.
      assert.ok((lastOffset.get(rec.file) ?? -1) < rec.offset, `run ${i}: ${rec.file} out of order at ${rec.offset}`);
      lastOffset.set(rec.file, rec.offset);
    }
    if (!last && !rotated && printing && rng.int(20) === 0) rotate();
  }
  assert.ok(rotations >= Math.min(3, KILLS / 20), `rotations: ${rotations}`);
  assert.ok(checkedStarts >= KILLS / 10, `restarts checked against the checkpoint: ${checkedStarts}`);
  const missing: number[] = [];
  for (let s = 0; s < seq; s++) if (!seen.has(s)) missing.push(s);
  assert.deepEqual(missing.slice(0, 10), [], `${missing.length} lines never printed`);
  assert.equal(seen.size, seq);
  assert.ok(repeats < seq, `${repeats} repeats`);
  assert.ok(existsSync(cp));
});

/** What a durable subscription's checkpoint holds: for each file (by inode), the offset acknowledged durably. */
function durableAcked(cp: string): Map<number, number> {
  const s = CheckpointStore.open(cp, { syncMs: 0 });
  try {
    const state = s.get('durable:app:d') as { positions: FilePosition[] } | undefined;
    return new Map((state?.positions ?? []).map((p) => [p.ino, p.offset]));
  } finally {
    s.close();
  }
}

test(`serve with a durable subscriber, killed ${KILLS} times while a writer appends and rotates: every line delivered, none again before the last durable ack`, { timeout: 900_000 }, async () => {
  const rng = new Rng(7070);
  const sdir = mkdtempSync(join(dir, 'serve-'));
  const log = join(sdir, 'app.log');
  const cp = join(sdir, 'service.checkpoint');
  writeFileSync(log, '');
  // Where every line went (its file's inode and its offset), by sequence number.
  const where: { ino: number; offset: number }[] = [];
  let ino = statSync(log).ino;
  let size = 0;
  let seq = 0;
  let rotations = 0;
  const append = (n: number) => {
    let s = '';
    for (let i = 0; i < n; i++, seq++) {
      where.push({ ino, offset: size + s.length });
      s += `2024-05-01 12:00:00.000 [INFO] event seq=${seq} pad=${'y'.repeat(seq % 40)}\n`;
    }
    appendFileSync(log, s);
    size += s.length;
  };
  append(2000);
  const received = new Map<number, number>();
  let early = 0;
  let again = 0;
  let resumed = 0;
  for (let i = 0; i <= KILLS; i++) {
    const last = i === KILLS;
    const acked = durableAcked(cp);
    const svc = await serveProcess(['--source', `app=${log},format=classic`, '--checkpoint', cp, '--checkpoint-ms', '20', '--workers', '1', '--poll-ms', '50', '--rotate-wait-ms', '100']);
    const writer = last ? null : setInterval(() => append(50), 5);
    let c: Client | null = null;
    try {
      c = await Client.connect(svc.url);
      const client = c;
      c.ws.on('message', (data) => {
        const f = JSON.parse(data.toString()) as { op: string; cursor?: string; records?: { msg: string }[] };
        if (f.op !== 'records') return;
        for (const r of f.records!) {
          const s = Number(/seq=(\d+)/.exec(r.msg)![1]);
          const w = where[s];
          // Acknowledged durably before this run: it must not come again.
          if (acked.has(w.ino) && w.offset < acked.get(w.ino)!) early++;
          if (received.has(s)) again++;
          received.set(s, (received.get(s) ?? 0) + 1);
        }
        client.send({ op: 'ack', id: 'd', cursor: f.cursor });
      });
      c.send({ op: 'subscribe', id: 'd', source: 'app', from: 'start', durable: 'd' });
      await c.until(() => c!.of('d', 'subscribed').length > 0, 'subscribed');
      if (c.of('d', 'subscribed')[0].resumed === true) resumed++;
      if (last) {
        await c.until(() => received.size >= seq, `all ${seq} lines (have ${received.size})`, 60_000);
      } else {
        await new Promise((r) => setTimeout(r, 150 + rng.int(400)));
      }
    } finally {
      if (writer) clearInterval(writer);
      // A kill for every run but the last; and whatever happened, no process or socket is left behind.
      await svc.stop(last ? 'SIGTERM' : 'SIGKILL');
      await c?.close();
    }
    assert.equal(early, 0, `run ${i}: lines acknowledged before it came again`);
    if (!last && rng.int(10) === 0) {
      // Rotation by rename + create while the service is down.
      renameSync(log, join(sdir, `app.log.${++rotations}`));
      writeFileSync(log, '');
      ino = statSync(log).ino;
      size = 0;
    }
  }
  assert.ok(rotations >= Math.min(3, KILLS / 20), `rotations: ${rotations}`);
  const missing: number[] = [];
  for (let s = 0; s < seq; s++) if (!received.has(s)) missing.push(s);
  assert.deepEqual(missing.slice(0, 10), [], `${missing.length} of ${seq} lines never delivered`);
  assert.equal(early, 0);
  // Restarts go on from the acks: every one after the first resumes, and few lines come twice.
  assert.equal(resumed, KILLS);
  assert.ok(again < seq / 4, `${again} of ${seq} lines delivered again`);
});
