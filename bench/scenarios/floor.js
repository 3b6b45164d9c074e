// The floor under the split goal: how fast LFs can be counted over this file at all.
//   native: bench/floor/lf-count.c (built here with `cc -O2 -march=native`), spawned and
//           timed from spawn to exit like wc -l; mmap-touch is the mapping's own cost.
//   wasm:   logwire's SIMD LF count (the pool's line-numbering pre-pass) over 4 MiB
//           windows on the calling thread: no worker, no records.
//   wasm-worker: the same in a worker thread started in the timed run, as a 1-worker
//           parse starts one (bench/floor/count-worker.js).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { loadHooks } from '../hooks.js';

const SOURCE = fileURLToPath(new URL('../floor/lf-count.c', import.meta.url));
const COUNT_WORKER = new URL('../floor/count-worker.js', import.meta.url);

/** null when a C compiler is there to build the native rows, otherwise why not. */
export function missing() {
  const r = spawnSync('cc', ['--version'], { encoding: 'utf8' });
  return r.error || r.status !== 0 ? 'no C compiler (cc) to build bench/floor/lf-count.c' : null;
}

export async function setup({ kind }) {
  if (kind === 'wasm') return { hooks: await loadHooks() };
  if (kind === 'wasm-worker') return {};
  const binary = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'logwire-bench-floor-')), 'lf-count');
  const r = spawnSync('cc', ['-O2', '-march=native', '-o', binary, SOURCE], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cc ${SOURCE} failed: ${(r.stderr || r.error?.message || '').trim().split('\n')[0]}`);
  return { binary };
}

export async function run({ file, kind, io }, ctx) {
  if (kind === 'wasm') {
    const r = ctx.hooks.countLines(file, io);
    return { bytes: r.bytes, lines: r.lines, io: r.io };
  }
  if (kind === 'wasm-worker') {
    const worker = new Worker(COUNT_WORKER, { workerData: { file, io } });
    const [r] = await Promise.race([once(worker, 'message'), once(worker, 'error').then(([err]) => { throw err; })]);
    await worker.terminate();
    return { bytes: r.bytes, lines: r.lines, io: r.io };
  }
  const child = spawn(ctx.binary, [kind, file], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  const [code] = await once(child, 'close');
  if (code !== 0) throw new Error(`lf-count ${kind} exited with code ${code}`);
  // mmap-touch prints a sum of bytes, not a line count.
  return kind === 'mmap-touch' ? { maxRSSKiB: null } : { lines: Number.parseInt(out, 10), maxRSSKiB: null };
}
