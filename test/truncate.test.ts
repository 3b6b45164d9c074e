// parseFile on a file that shrinks while it is read (mapped windows, many of
// them): the process lives, the run ends or reports stats.shrunkTo, and no
// record it gives reaches past what the file had.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker, isMainThread, workerData } from 'node:worker_threads';
import { parseBuffer, parseFile, type ParseRun } from '../src/index.js';
import { loadNative } from '../src/io/native.js';
import { prng } from './support/prng.js';

const MiB = 1024 * 1024;


/** About `size` bytes of classic lines of varied length, each ending in LF. */
function logBytes(seed: number, size: number): Buffer {
  const r = prng(seed);
  const levels = ['INFO', 'WARN', 'ERROR', 'DEBUG'];
  const parts: string[] = [];
  let n = 0;
  for (let i = 0; n < size; i++) {
    const pad = 'x'.repeat(Math.floor(r() * 120));
    const l = `2024-05-01T12:00:${String(i % 60).padStart(2, '0')}.${String(i % 1000).padStart(3, '0')}Z [${levels[i % 4]}] line ${i} user=u${Math.floor(r() * 1000)} pad=${pad}\n`;
    parts.push(l);
    n += l.length;
  }
  return Buffer.from(parts.join(''));
}

interface TruncatorJob {
  path: string;
  seed: number;
  /** The file's original bytes: it is cut to a random length and these are appended back. */
  data: Uint8Array;
  /** Longest pause in ms between one regrowth and the next cut (some rounds may then finish unharmed). */
  idleMs: number;
  /** Append the cut bytes back after each cut; otherwise the file only ever gets shorter. */
  regrow: boolean;
  /** [0]: 1 = stop; [1]: truncations done. */
  control: Int32Array;
}

/**
 * Cuts the file to a random smaller size, waits up to 2 ms, appends the rest
 * back (or, without regrow, keeps cutting it shorter), idles; until told to stop.
 */
function truncator(job: TruncatorJob): void {
  const r = prng(job.seed);
  const data = Buffer.from(job.data.buffer, job.data.byteOffset, job.data.length);
  let size = data.length;
  while (Atomics.load(job.control, 0) === 0) {
    const cut = job.regrow ? Math.floor(r() * data.length) : Math.floor(size * (0.5 + r() / 2));
    truncateSync(job.path, cut);
    size = cut;
    Atomics.wait(job.control, 0, 0, Math.floor(r() * 3));
    if (job.regrow) appendFileSync(job.path, data.subarray(cut));
    Atomics.add(job.control, 1, 1);
    Atomics.wait(job.control, 0, 0, Math.floor(r() * job.idleMs));
  }
}

if (!isMainThread) {
  truncator(workerData as TruncatorJob);
} else {
  const skipMmap = loadNative() === null ? 'the native addon is not loaded (io "mmap" unavailable)' : false;
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'logwire-truncate-parse-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** Offset → the NDJSON line parseBuffer gives for the original bytes. */
  function recordsByOffset(data: Buffer, fileName: string): Map<number, string> {
    const map = new Map<number, string>();
    for (const l of parseBuffer(data, { format: 'classic', fileName }).ndjson.toString('utf8').split('\n')) {
      if (l) map.set((JSON.parse(l) as { offset: number }).offset, l);
    }
    return map;
  }

  interface RoundResult {
    round: number;
    error: unknown;
    shrunkTo: number | null;
    /** Bytes read: the file's size when the parse began, or less if it shrank. */
    bytes: number;
    lines: string[];
    truncatedAt: number | undefined;
  }

  async function drain(run: ParseRun): Promise<{ lines: string[]; truncatedAt: number | undefined }> {
    const lines: string[] = [];
    let truncatedAt: number | undefined;
    for await (const batch of run) {
      const text = batch.ndjson.toString('utf8');
      if (text) lines.push(...text.slice(0, -1).split('\n'));
      truncatedAt ??= batch.truncatedAt;
    }
    return { lines, truncatedAt };
  }

  // Each race runs once per test: cut and regrown (content changes under the reader), or cut only.
  const SIZE = 6 * MiB;
  type Race = { data: Buffer; path: string; results: RoundResult[]; truncations: number };
  async function runRace(regrow: boolean): Promise<Race> {
    const race: Race = { data: Buffer.alloc(0), path: '', results: [], truncations: 0 };
    race.data = logBytes(7, SIZE);
    race.path = join(dir, regrow ? 'race.log' : 'shrink.log');
    const deadline = Date.now() + 15_000;
    for (let round = 0; round < 20 && Date.now() < deadline; round++) {
      writeFileSync(race.path, race.data);
      const control = new Int32Array(new SharedArrayBuffer(8));
      const worker = new Worker(new URL(import.meta.url), {
        workerData: { path: race.path, seed: 1000 + round, data: race.data, idleMs: [3, 30, 100, 300][round % 4]!, control, regrow } satisfies TruncatorJob,
      });
      const exited = new Promise<void>((resolve, reject) => {
        worker.on('error', reject);
        worker.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`truncator exited with ${code}`))));
      });
      // Let the truncator start before the parse does.
      while (Atomics.load(control, 1) === 0) await new Promise((resolve) => setTimeout(resolve, 1));
      const run = parseFile(race.path, { workers: 2, io: 'mmap', format: 'classic' }, { chunkBytes: MiB, windowBytes: 65536 });
      let result: RoundResult;
      try {
        const { lines, truncatedAt } = await drain(run);
        result = { round, error: null, shrunkTo: run.stats.shrunkTo, bytes: run.stats.bytes, lines, truncatedAt };
      } catch (err) {
        result = { round, error: err, shrunkTo: run.stats.shrunkTo, bytes: run.stats.bytes, lines: [], truncatedAt: undefined };
      } finally {
        Atomics.store(control, 0, 1);
        Atomics.notify(control, 0);
        await exited;
      }
      race.truncations += Atomics.load(control, 1);
      race.results.push(result);
    }
    return race;
  }

  test('a file cut and regrown while it is mapped: the run ends, records stay within the file', { skip: skipMmap, timeout: 60_000 }, async (t) => {
    const race = await runRace(true);
    const { data, results } = race;
    let shrunk = 0;
    let records = 0;
    for (const r of results) {
      assert.equal(r.error, null, `round ${r.round}: the iteration threw ${String(r.error)}`);
      if (r.shrunkTo !== null) {
        shrunk++;
        assert.ok(Number.isInteger(r.shrunkTo) && r.shrunkTo >= 0 && r.shrunkTo <= data.length, `round ${r.round}: shrunkTo ${r.shrunkTo}`);
        assert.equal(r.truncatedAt, r.shrunkTo, `round ${r.round}: a batch carries truncatedAt = shrunkTo`);
      }
      const limit = r.shrunkTo ?? data.length;
      for (const l of r.lines) {
        let rec: { offset: number; len: number };
        try {
          rec = JSON.parse(l) as { offset: number; len: number };
        } catch {
          assert.fail(`round ${r.round}: an output line is not JSON: ${JSON.stringify(l.slice(0, 200))}`);
        }
        records++;
        assert.ok(rec.offset + rec.len <= data.length, `round ${r.round}: record at ${rec.offset} (len ${rec.len}) ends past the file's largest size ${data.length}`);
        if (rec.offset + rec.len > limit) assert.fail(`round ${r.round}: record at ${rec.offset} (len ${rec.len}) ends after shrunkTo ${limit}`);
      }
    }
    t.diagnostic(`${results.length} rounds, ${race.truncations} truncations, ${shrunk} rounds reported shrunkTo, ${records} records checked`);
    assert.ok(results.length >= 5, 'enough rounds ran');
  });

  // With regrowth the content changes under the reader (bytes a truncation zeroed can be read
  // before the file grows back), so only a file that keeps shrinking has a truth to compare with.
  test('a file cut shorter and shorter while it is mapped: every record given is the file\'s record at that offset', { skip: skipMmap, timeout: 60_000 }, async () => {
    const { data, results, path } = await runRace(false);
    const truth = recordsByOffset(data, path);
    const wrong: string[] = [];
    for (const r of results) {
      for (const l of r.lines) {
        const offset = (JSON.parse(l) as { offset: number }).offset;
        const want = truth.get(offset);
        if (want === l) continue;
        // The file is always a prefix of `data`: the only record allowed to differ is the
        // line cut by a shrink, ending exactly where reading stopped (shrunkTo, or the size
        // the file already had when the parse began).
        const rec = JSON.parse(l) as { offset: number; len: number };
        if (rec.offset + rec.len === (r.shrunkTo ?? r.bytes) && want !== undefined) continue;
        wrong.push(`round ${r.round} (shrunkTo ${r.shrunkTo}): got ${l}\n  want ${want ?? "(no record at that offset)"}`);
      }
    }
    assert.deepEqual(wrong.slice(0, 5), [], `${wrong.length} records differ from the file's (first 5 shown)`);
  });

  for (const io of ['mmap', 'pread'] as const) {
    test(`cut at a known line boundary after the first batch (${io}): shrunkTo is the cut, every record before it is there, none after`, { skip: io === 'mmap' && skipMmap, timeout: 30_000 }, async () => {
      const data = logBytes(11, 10 * MiB);
      const path = join(dir, `known-${io}.log`);
      writeFileSync(path, data);
      // A line boundary near 6.5 MiB: chunks 0 and 1 (1 MiB each) at most are read before the cut.
      const cut = data.indexOf(10, Math.floor(6.5 * MiB)) + 1;
      const want = parseBuffer(data.subarray(0, cut), { format: 'classic', fileName: path }).ndjson.toString('utf8');
      const run = parseFile(path, { workers: 1, io, format: 'classic' }, { chunkBytes: MiB, windowBytes: 65536 });
      const lines: string[] = [];
      let batches = 0;
      let truncatedAt: number | undefined;
      for await (const batch of run) {
        if (batches++ === 0) truncateSync(path, cut);
        const text = batch.ndjson.toString('utf8');
        if (text) lines.push(...text.slice(0, -1).split('\n'));
        truncatedAt ??= batch.truncatedAt;
      }
      assert.equal(run.stats.shrunkTo, cut, 'stats.shrunkTo');
      assert.equal(truncatedAt, cut, 'a batch carries truncatedAt');
      for (const l of lines) {
        const rec = JSON.parse(l) as { offset: number; len: number };
        if (rec.offset + rec.len > cut) assert.fail(`record at ${rec.offset} (len ${rec.len}) ends after the cut at ${cut}`);
      }
      const wantLines = want.slice(0, -1).split('\n');
      const lastOffset = lines.length ? (JSON.parse(lines[lines.length - 1]!) as { offset: number }).offset : -1;
      assert.equal(lines.length, wantLines.length, `records before the cut: got ${lines.length} (the last at offset ${lastOffset}), want ${wantLines.length} (cut at ${cut})`);
      assert.ok(lines.join('\n') === wantLines.join('\n'), 'the records before the cut are the file\'s');
      assert.equal(run.stats.records, wantLines.length, 'stats.records');
      assert.equal(run.stats.bytes, cut, 'stats.bytes');
    });
  }
}
