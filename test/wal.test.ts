// The checkpoint store: group commit, recovery from a log cut at every byte,
// flipped bits and bad lengths, compaction, and injected ENOSPC / EIO.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckpointStore, encodeRecord, HEADER_BYTES, maskCrc, readRecords, realIo, RecordType, unmaskCrc, type StoreIo } from '../src/durability/wal.js';

let root: string;
let n = 0;
before(() => { root = mkdtempSync(join(tmpdir(), 'logwire-wal-')); });
after(() => rmSync(root, { recursive: true, force: true }));
const fresh = () => join(mkdtempSync(join(root, `w${n++}-`)), 'checkpoint.wal');

const state = (s: CheckpointStore) => Object.fromEntries(s.keys().sort().map((k) => [k, s.get(k)]));

/** A log of `count` commits of one change each; returns the log and the state after each commit. */
function history(path: string, count: number): { states: Record<string, unknown>[]; ends: number[] } {
  const s = CheckpointStore.open(path, { syncMs: 0, compactBytes: 1 << 30 });
  const states: Record<string, unknown>[] = [{}];
  const ends: number[] = [0];
  for (let i = 0; i < count; i++) {
    if (i % 5 === 4) s.delete(`k${i % 3}`);
    else s.put(`k${i % 3}`, { offset: i * 100, line: i + 1, note: 'x'.repeat(i % 7) });
    assert.ok(s.commit());
    states.push(state(s));
    ends.push(statSync(path).size);
  }
  s.close();
  return { states, ends };
}

test('masking is LevelDB\'s and round-trips', () => {
  for (const crc of [0, 1, 0xffffffff, 0x12345678, 0xa282ead8]) assert.equal(unmaskCrc(maskCrc(crc)), crc);
  assert.equal(maskCrc(0), 0xa282ead8);
  assert.notEqual(maskCrc(0x12345678), 0x12345678);
});

test('put, delete, commit, close and reopen', () => {
  const path = fresh();
  const s = CheckpointStore.open(path, { syncMs: 0 });
  s.put('a', { offset: 1 });
  s.put('b', [1, 2, 3]);
  s.delete('a');
  s.put('c', 'text');
  s.close();
  const t = CheckpointStore.open(path, { syncMs: 0 });
  assert.deepEqual(state(t), { b: [1, 2, 3], c: 'text' });
  assert.deepEqual(t.recovery, { records: 3, corrupt: 0, tornBytes: 0, messages: [] });
  t.close();
});

test('group commit: what a crash leaves is the last commit, nothing after it', () => {
  const path = fresh();
  const s = CheckpointStore.open(path, { syncMs: 0 });
  s.put('a', 1);
  s.commit();
  s.put('a', 2);
  s.put('b', 3);
  assert.equal(s.get('a'), 2);
  assert.equal(s.getDurable('a'), 1);
  // Another process opening the log now (the first one was killed) sees the commit only.
  const seen = CheckpointStore.open(path, { syncMs: 0 });
  assert.deepEqual(state(seen), { a: 1 });
  seen.close();
  s.close();
});

test('a log cut at every byte of its last records recovers the last whole record, as a torn tail', () => {
  const path = fresh();
  const { states, ends } = history(path, 40);
  const full = readFileSync(path);
  const from = ends[ends.length - 6];
  for (let cut = from; cut < full.length; cut++) {
    const p = fresh();
    writeFileSync(p, full.subarray(0, cut));
    const s = CheckpointStore.open(p, { syncMs: 0 });
    const whole = ends.filter((e) => e <= cut).length - 1;
    assert.deepEqual(state(s), states[whole], `cut at ${cut}`);
    assert.equal(s.recovery.corrupt, 0, `cut at ${cut}: ${s.recovery.messages}`);
    assert.equal(s.recovery.tornBytes, cut - ends[whole], `cut at ${cut}`);
    // The torn tail is gone from the file: what comes next is readable again.
    s.put('after', cut);
    s.close();
    const t = CheckpointStore.open(p, { syncMs: 0 });
    assert.deepEqual(state(t), { ...states[whole], after: cut });
    assert.equal(t.recovery.tornBytes + t.recovery.corrupt, 0);
    t.close();
  }
});

test('flipped bits: recovery stops at the damaged record; damage before the end is reported', () => {
  const path = fresh();
  const { states, ends } = history(path, 30);
  const full = readFileSync(path);
  for (let rec = 20; rec < 30; rec++) {
    for (let at = ends[rec]; at < ends[rec + 1]; at += 3) {
      for (const bit of [0, 5]) {
        const damaged = Buffer.from(full);
        damaged[at] ^= 1 << bit;
        const p = fresh();
        writeFileSync(p, damaged);
        const s = CheckpointStore.open(p, { syncMs: 0 });
        const where = `record ${rec}, byte ${at - ends[rec]}, bit ${bit}`;
        // A flipped length can point past the end (torn) or at the wrong place (bad CRC): either way it stops here.
        assert.deepEqual(state(s), states[rec], where);
        if (rec < 29 && at - ends[rec] >= 8) assert.equal(s.recovery.corrupt, 1, where);
        s.close();
        // Started clean: reopening finds nothing wrong.
        const t = CheckpointStore.open(p, { syncMs: 0 });
        assert.deepEqual(state(t), states[rec], where);
        assert.equal(t.recovery.corrupt + t.recovery.tornBytes, 0, where);
        t.close();
      }
    }
  }
});

test('a corrupt length in the middle is reported, the rest skipped, and the store never refuses to start', () => {
  const path = fresh();
  const { states, ends } = history(path, 10);
  for (const len of [0xffffffff, 1 << 25, 3]) {
    const damaged = Buffer.from(readFileSync(path));
    damaged.writeUInt32LE(len, ends[4]);
    const p = fresh();
    writeFileSync(p, damaged);
    const s = CheckpointStore.open(p, { syncMs: 0 });
    assert.deepEqual(state(s), states[4]);
    assert.equal(s.recovery.corrupt, 1, String(len));
    assert.match(s.recovery.messages[0], /offset/);
    s.close();
  }
  // Garbage from the first byte: an empty store, not an error.
  const p = fresh();
  writeFileSync(p, Buffer.from('this is not a checkpoint log at all, but some other file\n'.repeat(5)));
  const s = CheckpointStore.open(p, { syncMs: 0 });
  assert.deepEqual(state(s), {});
  assert.equal(s.recovery.corrupt, 1);
  s.close();
});

test('compaction: snapshot by temp + fsync + rename, the log emptied; a crash between the two loses nothing', () => {
  const path = fresh();
  const s = CheckpointStore.open(path, { syncMs: 0, compactBytes: 2000 });
  let oldLog: Buffer | null = null;
  for (let i = 0; i < 200; i++) {
    s.put(`f${i % 10}`, { offset: i });
    if (statSync(path).size > 1500 && !oldLog) oldLog = readFileSync(path);
    s.commit();
  }
  assert.ok(existsSync(`${path}.snap`));
  assert.ok(statSync(path).size <= 2000 + 200);
  const want = state(s);
  s.close();
  const t = CheckpointStore.open(path, { syncMs: 0 });
  assert.deepEqual(state(t), want);
  t.close();
  // The snapshot renamed in, the log not yet emptied: its old records do not undo newer state.
  const p2 = fresh();
  copyFileSync(`${path}.snap`, `${p2}.snap`);
  writeFileSync(p2, Buffer.concat([oldLog!, readFileSync(path)]));
  const u = CheckpointStore.open(p2, { syncMs: 0 });
  assert.deepEqual(state(u), want);
  u.close();
});

/** Real file operations, with write failures switched on from outside. */
function faulty(): { io: StoreIo; fail: { code: string | null; after: number; fsync: string | null; truncate: string | null } } {
  const fail = { code: null as string | null, after: 0, fsync: null as string | null, truncate: null as string | null };
  const io: StoreIo = {
    ...realIo,
    ftruncateSync: (fd, len) => {
      if (fail.truncate) throw Object.assign(new Error(`${fail.truncate}: injected`), { code: fail.truncate });
      realIo.ftruncateSync(fd, len);
    },
    writeSync: (fd, buf) => {
      if (fail.code) {
        // A short write, then the error: as a full disk does.
        const part = Math.min(fail.after, buf.length);
        if (part > 0) realIo.writeSync(fd, buf.subarray(0, part));
        throw Object.assign(new Error(`${fail.code}: injected`), { code: fail.code });
      }
      return realIo.writeSync(fd, buf);
    },
    fsyncSync: (fd) => {
      if (fail.fsync) throw Object.assign(new Error(`${fail.fsync}: injected`), { code: fail.fsync });
      realIo.fsyncSync(fd);
    },
  };
  return { io, fail };
}

test('ENOSPC and EIO on writes: a clear error, the checkpoint does not move, and it goes on once the disk does', () => {
  for (const [code, after, fsyncCode] of [['ENOSPC', 7, null], ['EIO', 0, null], [null, 0, 'EIO']] as const) {
    const path = fresh();
    const { io, fail } = faulty();
    const errors: Error[] = [];
    const s = CheckpointStore.open(path, { syncMs: 0, io, onError: (e) => errors.push(e) });
    s.put('pos', 100);
    assert.ok(s.commit());
    const good = statSync(path).size;
    fail.code = code;
    fail.after = after;
    fail.fsync = fsyncCode;
    s.put('pos', 200);
    assert.equal(s.commit(), false);
    const what = code ?? fsyncCode!;
    assert.equal(errors.length, 1);
    assert.match(errors[0].message, new RegExp(what));
    assert.equal((errors[0] as Error & { code: string }).code, 'LOGWIRE_ERR_IO');
    assert.equal(s.getDurable('pos'), 100, 'not advanced past what was written');
    assert.equal(s.failures, 1);
    // No half record was left in the log (its bytes, not a recovery that would repair them).
    assert.equal(statSync(path).size, good, 'the log is back to its last good length');
    // A crash now: the log holds the old checkpoint.
    const seen = CheckpointStore.open(path, { syncMs: 0 });
    assert.equal(seen.get('pos'), 100);
    seen.close();
    fail.code = null;
    fail.fsync = null;
    assert.ok(s.commit(), 'the pending change is written once the disk is back');
    assert.equal(s.getDurable('pos'), 200);
    assert.equal(s.lastError, null);
    s.close();
    const t = CheckpointStore.open(path, { syncMs: 0 });
    assert.equal(t.get('pos'), 200);
    assert.equal(t.recovery.corrupt, 0);
    t.close();
  }
});

test('readRecords: the frame layout is [length][masked crc][type][seq][payload]', () => {
  const rec = encodeRecord(RecordType.put, 42n, Buffer.from('{"k":"a","v":1}'));
  assert.equal(rec.readUInt32LE(0), 15);
  assert.equal(rec[8], RecordType.put);
  assert.equal(rec.readBigUInt64LE(9), 42n);
  assert.equal(rec.length, HEADER_BYTES + 15);
  const r = readRecords(Buffer.concat([rec, rec]));
  assert.equal(r.records.length, 2);
  assert.equal(r.goodBytes, rec.length * 2);
});

test('a half record that cannot be cut away at once is cut before the next write; nothing after it is lost', () => {
  const path = fresh();
  const { io, fail } = faulty();
  const s = CheckpointStore.open(path, { syncMs: 0, io });
  s.put('pos', 1);
  assert.ok(s.commit());
  const good = statSync(path).size;
  fail.code = 'ENOSPC';
  fail.after = 9;
  fail.truncate = 'EIO';
  s.put('pos', 2);
  assert.equal(s.commit(), false);
  assert.ok(statSync(path).size > good, 'the half record is still there');
  // The disk is still failing truncation: no write goes after the half record.
  fail.code = null;
  s.put('pos', 3);
  assert.equal(s.commit(), false);
  fail.truncate = null;
  assert.ok(s.commit());
  s.close();
  const t = CheckpointStore.open(path, { syncMs: 0 });
  assert.equal(t.get('pos'), 3);
  assert.equal(t.recovery.corrupt + t.recovery.tornBytes, 0);
  t.close();
});

test('a damaged log on a full disk still opens (the bad tail is cut later), and a zero-filled tail is a torn tail', () => {
  const path = fresh();
  const { states, ends } = history(path, 6);
  const damaged = Buffer.from(readFileSync(path));
  damaged[ends[3] + 20] ^= 0xff;
  writeFileSync(path, damaged);
  const { io, fail } = faulty();
  fail.code = 'ENOSPC';
  fail.truncate = 'ENOSPC';
  const s = CheckpointStore.open(path, { syncMs: 0, io });
  assert.deepEqual(state(s), states[3]);
  assert.equal(s.recovery.corrupt, 1);
  assert.ok(s.recovery.messages.some((m) => /ENOSPC/.test(m)));
  fail.code = null;
  fail.truncate = null;
  s.put('new', true);
  assert.ok(s.commit());
  s.close();
  const t = CheckpointStore.open(path, { syncMs: 0 });
  assert.deepEqual(state(t), { ...states[3], new: true });
  t.close();
  // Power loss: the file grew but its end is zeros.
  const p2 = fresh();
  const h = history(p2, 4);
  writeFileSync(p2, Buffer.concat([readFileSync(p2), Buffer.alloc(4096)]));
  const u = CheckpointStore.open(p2, { syncMs: 0 });
  assert.deepEqual(state(u), h.states[4]);
  assert.equal(u.recovery.corrupt, 0);
  assert.equal(u.recovery.tornBytes, 4096);
  u.close();
});
