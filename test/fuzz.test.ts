// Hostile input for a time budget: random bytes, invalid UTF-8, huge lines,
// deep JSON, huge numbers, escapes, through parseBuffer, parseStream and
// parseFile (test/support/fuzz-run.ts). Nothing throws or hangs, and the
// output is valid NDJSON whose records describe the input's lines.
//   LOGWIRE_FUZZ_SECONDS  the budget (default 20)
//   LOGWIRE_FUZZ_SEED     repeat a run (the seed is printed)
//   LOGWIRE_FUZZ_PATH     replay one failing case (the path is printed)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { FuzzJob, FuzzMessage } from './support/fuzz-run.js';

const seconds = Number(process.env.LOGWIRE_FUZZ_SECONDS ?? 20);
const seed = process.env.LOGWIRE_FUZZ_SEED !== undefined ? Number(process.env.LOGWIRE_FUZZ_SEED) : (Date.now() ^ (Math.random() * 0x100000000)) | 0;
const path = process.env.LOGWIRE_FUZZ_PATH || undefined;
/** A single case that runs this long is a hang (the slowest take a few seconds on a busy machine). */
const HANG_SECONDS = 60;
const SHRINK_SECONDS = 120;

test(`fuzz: hostile input for ${seconds} s`, { timeout: (seconds + SHRINK_SECONDS + 2 * HANG_SECONDS) * 1000 }, async (t) => {
  assert.ok(seconds > 0, `LOGWIRE_FUZZ_SECONDS must be a positive number; got ${process.env.LOGWIRE_FUZZ_SECONDS}`);
  assert.ok(Number.isInteger(seed), `LOGWIRE_FUZZ_SEED must be an integer; got ${process.env.LOGWIRE_FUZZ_SEED}`);
  t.diagnostic(`seed ${seed} (LOGWIRE_FUZZ_SEED=${seed} repeats this run)`);
  const dir = mkdtempSync(join(tmpdir(), 'logwire-fuzz-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const job: FuzzJob = { seed, seconds, shrinkSeconds: SHRINK_SECONDS, path, dir };
  const worker = new Worker(new URL('./support/fuzz-run.js', import.meta.url), { workerData: job });
  let last: Extract<FuzzMessage, { type: 'case' }> | null = null;
  let lastAt = Date.now();
  const done = await new Promise<Extract<FuzzMessage, { type: 'done' }>>((resolve, reject) => {
    const watchdog = setInterval(() => {
      if (Date.now() - lastAt < HANG_SECONDS * 1000) return;
      const run = last?.run ?? 0;
      const which = last?.phase === 'shrink' ? `a case tried while shrinking a failure of seed ${seed}` : `case ${run} (LOGWIRE_FUZZ_SEED=${seed} LOGWIRE_FUZZ_PATH=${run} repeats it)`;
      reject(new Error(`fuzz: ${which} ran for more than ${HANG_SECONDS} s: a hang`));
      void worker.terminate();
    }, 1000);
    worker.on('message', (m: FuzzMessage) => {
      if (m.type === 'case') {
        last = m;
        lastAt = Date.now();
      } else resolve(m);
    });
    worker.on('error', reject);
    worker.on('exit', (code) => reject(new Error(`fuzz worker exited with code ${code} before reporting`)));
    const stop = () => clearInterval(watchdog);
    worker.on('exit', stop);
  });
  t.diagnostic(path ? `replayed seed ${seed} path ${path}` : `${done.runs} cases in ${done.seconds.toFixed(1)} s, seed ${seed}`);
  await worker.terminate();
  if (done.failure) assert.fail(done.failure);
});
