// The service's demo source: whole classic lines at a steady rate, rotation by
// rename at rotateBytes keeping `keep` files, and nothing written after stop().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LogwireError, parseBuffer } from '../src/index.js';
import { startDemoSource, type DemoSource } from '../src/service/demo-source.js';

const LINE = /^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}) \[(DEBUG|INFO|WARN|ERROR)\] \S.*[^\s]$/;

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'logwire-demo-source-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Stop the source when the test ends, even a failed one. */
function started(t: { after: (fn: () => Promise<void>) => void }, ...args: Parameters<typeof startDemoSource>): DemoSource {
  const src = startDemoSource(...args);
  t.after(() => src.stop());
  return src;
}

async function until(what: string, ok: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Every line well formed and parsed as classic with ts, level and fields; the timestamps in order. */
function checkLines(text: string, startMs: number, endMs: number): string[] {
  assert.ok(text.endsWith('\n'), 'the last line is whole');
  const lines = text.slice(0, -1).split('\n');
  let last = '';
  for (const l of lines) {
    const m = LINE.exec(l);
    assert.ok(m, `malformed line ${JSON.stringify(l)}`);
    assert.ok(m[1] >= last, `timestamp went backwards: ${m[1]} after ${last}`);
    last = m[1];
  }
  const first = Date.parse(lines[0].slice(0, 23).replace(' ', 'T') + 'Z');
  assert.ok(first >= startMs - 1000 && Date.parse(last.replace(' ', 'T') + 'Z') <= endMs + 1000, 'timestamps are the time of writing, UTC');
  const records = parseBuffer(text, { format: 'classic' }).records();
  assert.equal(records.length, lines.length);
  for (const r of records) {
    assert.ok(r.ts !== null && r.level !== null, `not a classic record: ${JSON.stringify(r)}`);
    assert.ok(Object.keys(r.fields).length >= 2, `too few fields: ${r.msg}`);
  }
  return lines;
}

test('rotates by rename at rotateBytes, keeps `keep` files, whole ordered lines in all of them', async (t) => {
  const dir = tempDir(t);
  const rotateBytes = 8192;
  const t0 = Date.now();
  const src = started(t, { dir, linesPerSecond: 2000, rotateBytes, keep: 2 });
  assert.equal(src.path, join(dir, 'demo.log'));
  await until('3 rotations', () => src.rotations >= 3);
  await src.stop();
  const t1 = Date.now();
  assert.ok(existsSync(`${src.path}.1`) && existsSync(`${src.path}.2`));
  assert.ok(!existsSync(`${src.path}.3`), 'only `keep` rotated files are kept');
  for (const f of [`${src.path}.2`, `${src.path}.1`]) {
    const size = statSync(f).size;
    // Rotated before the line that would pass rotateBytes: within one line of it.
    assert.ok(size <= rotateBytes && size > rotateBytes - 300, `${f}: ${size} bytes`);
  }
  const all = [`${src.path}.2`, `${src.path}.1`, src.path].map((f) => readFileSync(f, 'utf8')).join('');
  const lines = checkLines(all, t0, t1);
  const levels = new Set(lines.map((l) => LINE.exec(l)![2]));
  assert.deepEqual([...levels].sort(), ['DEBUG', 'ERROR', 'INFO', 'WARN']);
  const info = lines.filter((l) => l.includes('[INFO]')).length;
  assert.ok(info > lines.length / 2, `mostly INFO: ${info} of ${lines.length}`);
  assert.ok(lines.some((l) => /="[^"]* [^"]*"/.test(l)), 'some values are quoted');
});

test('keep 0 deletes the old file; a rotation creates the new one at once', async (t) => {
  const dir = tempDir(t);
  const src = started(t, { dir, linesPerSecond: 1000, rotateBytes: 2048, keep: 0 });
  await until('2 rotations', () => src.rotations >= 2);
  await src.stop();
  assert.ok(!existsSync(`${src.path}.1`));
  assert.ok(existsSync(src.path));
});

test('the rate is roughly respected and every line written is in the file', async (t) => {
  const dir = tempDir(t);
  const t0 = Date.now();
  const src = started(t, { dir, linesPerSecond: 400 });
  await sleep(1500);
  const written = src.written;
  await src.stop();
  const secs = (Date.now() - t0) / 1000;
  // Generous bounds: this machine is shared and noisy.
  assert.ok(written >= 400 * secs * 0.5 && written <= 400 * secs * 1.1 + 20, `${written} lines in ${secs.toFixed(2)} s at 400/s`);
  assert.equal(src.rotations, 0);
  const lines = checkLines(readFileSync(src.path, 'utf8'), t0, Date.now());
  assert.equal(lines.length, src.written);
});

test('stop() stops writing, and can be called again', async (t) => {
  const dir = tempDir(t);
  const src = started(t, { dir, linesPerSecond: 1000 });
  await until('some lines', () => src.written > 20);
  await src.stop();
  const written = src.written;
  const size = statSync(src.path).size;
  await sleep(200);
  assert.equal(src.written, written);
  assert.equal(statSync(src.path).size, size);
  await src.stop();
});

test('appends to an existing demo.log and creates a missing folder', async (t) => {
  const dir = tempDir(t);
  const nested = join(dir, 'a', 'b');
  const one = started(t, { dir: nested, linesPerSecond: 1000 });
  await until('some lines', () => one.written > 5);
  await one.stop();
  const before = statSync(one.path).size;
  const two = started(t, { dir: nested, linesPerSecond: 1000 });
  await until('some lines', () => two.written > 5);
  await two.stop();
  const lines = checkLines(readFileSync(two.path, 'utf8'), Date.now() - 10_000, Date.now());
  assert.equal(lines.length, one.written + two.written);
  assert.ok(statSync(two.path).size > before);
});

test('bad options throw LOGWIRE_ERR_INVALID_OPTION naming the option', () => {
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ dir: '' }, 'dir'],
    [{ dir: '/tmp', linesPerSecond: 0 }, 'linesPerSecond'],
    [{ dir: '/tmp', linesPerSecond: Number.NaN }, 'linesPerSecond'],
    [{ dir: '/tmp', linesPerSecond: Infinity }, 'linesPerSecond'],
    [{ dir: '/tmp', rotateBytes: 0 }, 'rotateBytes'],
    [{ dir: '/tmp', rotateBytes: 1.5 }, 'rotateBytes'],
    [{ dir: '/tmp', keep: -1 }, 'keep'],
  ];
  for (const [options, name] of cases) {
    assert.throws(
      () => startDemoSource(options as never),
      (err: unknown) => err instanceof LogwireError && err.code === 'LOGWIRE_ERR_INVALID_OPTION' && err.message.includes(`"${name}"`),
      JSON.stringify(options),
    );
  }
});

test('an unwritable folder is an IO error at start', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'file');
  writeFileSync(file, '');
  assert.throws(
    () => startDemoSource({ dir: join(file, 'x') }),
    (err: unknown) => err instanceof LogwireError && err.code === 'LOGWIRE_ERR_IO',
  );
});
