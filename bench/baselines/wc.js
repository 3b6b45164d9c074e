// Baseline: `wc -l FILE`, spawned and timed from spawn to exit (LC_ALL=C).

import { spawn } from 'node:child_process';
import { once } from 'node:events';

export async function run({ file }) {
  const child = spawn('wc', ['-l', file], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, LC_ALL: 'C' } });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  const [code] = await once(child, 'close');
  if (code !== 0) throw new Error(`wc -l exited with code ${code}`);
  // wc's own peak RSS is not visible from here; the runner shows none rather than node's.
  return { lines: Number.parseInt(out, 10), maxRSSKiB: null };
}
