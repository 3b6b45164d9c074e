// Crash tests: `logwire parse --checkpoint` killed with SIGKILL at random
// moments, 200 times, while a writer appends and rotates; every line must
// come out, and a restart must go on exactly from the last durable checkpoint.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CheckpointStore } from '../src/durability/wal.js';
import { findByIdentity, type FilePosition } from '../src/durability/position.js';
import { Rng } from './support/random.js';

const BIN = fileURLToPath(new URL('../../../bin/logwire.js', import.meta.url));
const KILLS = Number(process.env.LOGWIRE_CRASH_RUNS ?? 200);

let dir: string;
before(() => { dir = mkdtempSync(join(tmpdir(), 'logwire-crash-')); });
after(() => rmSync(dir, { recursive: true, force: true }));

interface Printed { file: string; offset: number; line: number; msg: string }

/** Run the CLI; kill it with SIGKILL after `killMs` (if it has not finished). Whole output lines only. */
function run(args: string[], killMs: number | null): Promise<{ records: Printed[]; killed: boolean; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    // A slow reader (~20 MB/s), so that kills land while output is flowing, not only before it.
    child.stdout.on('data', (d: Buffer) => {
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
  append(20_000);
  const printed: Printed[] = [];
  let checkedStarts = 0;
  for (let i = 0; i <= KILLS; i++) {
    const last = i === KILLS;
    const saved = checkpointOf(cp, log);
    const writer = last ? null : setInterval(() => append(100), 5);
    const r = await run(['parse', log, '--checkpoint', cp, '--checkpoint-ms', '20', '--workers', '1'], last ? null : 100 + rng.int(350));
    if (writer) clearInterval(writer);
    assert.ok(!/internal error|    at /.test(r.stderr), r.stderr);
    const first = r.records[0];
    // A restart goes on exactly where the durable checkpoint says (when what it names has more to read).
    if (saved && first && first.file === saved.path && !/rewritten|gone|changed/.test(r.stderr)) {
      assert.equal(first.offset, saved.offset, `run ${i}: started at ${first.offset} of ${first.file}, checkpoint ${saved.offset}`);
      checkedStarts++;
    }
    if (process.env.LOGWIRE_CRASH_DEBUG) console.log(i, saved?.path, saved?.offset, first?.offset, first?.file === log, r.records.length, r.killed, JSON.stringify(r.stderr));
    for (const rec of r.records) printed.push(rec);
    if (!last && rng.int(20) === 0) {
      // Rotation by rename + create, between runs, at most once between two.
      renameSync(log, join(dir, `app.log.${++rotations}`));
      writeFileSync(log, '');
    }
  }
  assert.ok(rotations >= Math.min(3, KILLS / 20), `rotations: ${rotations}`);
  assert.ok(checkedStarts >= KILLS / 10, `restarts checked against the checkpoint: ${checkedStarts}`);
  const seen = new Map<number, number>();
  for (const r of printed) {
    const s = Number(/seq=(\d+)/.exec(r.msg)![1]);
    seen.set(s, (seen.get(s) ?? 0) + 1);
  }
  const missing: number[] = [];
  for (let s = 0; s < seq; s++) if (!seen.has(s)) missing.push(s);
  assert.deepEqual(missing.slice(0, 10), [], `${missing.length} lines never printed`);
  assert.equal(seen.size, seq);
  assert.ok(existsSync(cp));
});
