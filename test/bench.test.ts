// The benchmark's data and baselines (bench/): the generated HDFS- and Zookeeper-shaped lines
// give the same timestamp and fields through logwire's pattern as through the readline +
// RegExp baseline of the same layout (so the ratios compare the same work), the access log
// parses as combined on every line, and the generator is deterministic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseBuffer } from '../src/index.js';

// bench/ is plain JavaScript beside the repository's TypeScript (build/js/test -> the repository root).
const bench = (file: string) => import(new URL(`../../../bench/${file}`, import.meta.url).href);

async function generate(format: string, bytes: number): Promise<{ buf: Buffer; lines: number }> {
  const { generateFile } = await bench('generate.js');
  const dir = mkdtempSync(join(tmpdir(), 'logwire-bench-test-'));
  try {
    const file = join(dir, `${format}.log`);
    const counts = generateFile(file, format, bytes);
    const buf = readFileSync(file);
    assert.equal(buf.length, bytes);
    return { buf, lines: counts.lines };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const layout of ['hdfs', 'zookeeper']) {
  test(`bench ${layout}: the pattern and the readline + RegExp baseline give the same ts and fields on every line`, async () => {
    const { LAYOUTS, parseLine } = await bench('baselines/readline-pattern.js');
    const { buf, lines } = await generate(layout, 512 << 10);
    const records = parseBuffer(buf, { format: { pattern: LAYOUTS[layout].pattern } }).records();
    const text = buf.toString('utf8').split('\n');
    assert.equal(text.pop(), '');
    assert.equal(records.length, lines);
    assert.equal(text.length, lines);
    const shapes = new Set<string>();
    for (let i = 0; i < lines; i++) {
      const r = records[i];
      const b = parseLine(LAYOUTS[layout], text[i]);
      assert.equal(r.error, undefined, `line ${i + 1}: ${text[i]}`);
      assert.equal(b.error, undefined, `line ${i + 1}: ${text[i]}`);
      assert.equal(Date.parse(r.ts as string), b.ts, `line ${i + 1}`);
      assert.deepEqual(r.fields, b.fields, `line ${i + 1}`);
      shapes.add(`${r.fields.Level} ${r.fields.Component}`);
    }
    // varied data, not one repeated line
    assert.ok(shapes.size >= 5, `only ${shapes.size} level/component shapes`);
  });
}

test('bench combined: every generated access-log line parses as combined', async () => {
  const { buf, lines } = await generate('combined', 512 << 10);
  const records = parseBuffer(buf, { format: 'combined' }).records();
  assert.equal(records.length, lines);
  for (const r of records) assert.equal(r.error, undefined, String(r.msg));
  const statuses = new Set(records.map((r) => r.fields.status));
  const clients = new Set(records.map((r) => r.fields.client));
  assert.ok(statuses.size >= 8 && clients.size >= 100, `${statuses.size} statuses, ${clients.size} clients`);
});

test('bench generator: the same bytes every time', async () => {
  for (const format of ['hdfs', 'zookeeper', 'combined']) {
    const a = await generate(format, 64 << 10);
    const b = await generate(format, 64 << 10);
    assert.ok(a.buf.equals(b.buf), format);
  }
});

test('bench floor: the native and the wasm LF counts give the file\'s line count', async (t) => {
  const floor = await bench('scenarios/floor.js');
  const { buf, lines } = await generate('combined', 9 << 20); // more than two 4 MiB windows
  const dir = mkdtempSync(join(tmpdir(), 'logwire-bench-test-'));
  try {
    const file = join(dir, 'combined.log');
    writeFileSync(file, buf);
    for (const [kind, io] of [['wasm', 'mmap'], ['wasm', 'pread'], ['wasm-worker', 'mmap']]) {
      const ctx = await floor.setup({ kind });
      const r = await floor.run({ file, kind, io }, ctx);
      assert.equal(r.lines, lines, `${kind} ${io}`);
      assert.equal(r.bytes, buf.length, `${kind} ${io}`);
    }
    if (floor.missing()) {
      t.diagnostic(`native rows not checked: ${floor.missing()}`);
      return;
    }
    const ctx = await floor.setup({ kind: 'mmap-count' });
    try {
      for (const kind of ['mmap-count', 'pread-count']) {
        assert.equal((await floor.run({ file, kind }, ctx)).lines, lines, kind);
      }
    } finally {
      rmSync(dirname(ctx.binary), { recursive: true, force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
