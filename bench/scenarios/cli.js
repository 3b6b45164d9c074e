// The CLI as a user runs it: `logwire parse FILE [--format F] --output ndjson|none --workers N > /dev/null`,
// timed from spawn to exit; peak RSS is the CLI process's own (reported by preload-rss.js).

import fs from 'node:fs';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { CLI_PATH } from '../hooks.js';

const PRELOAD_URL = new URL('../preload-rss.js', import.meta.url).href;

/** The arguments after `logwire`. No `formatFlag`: no --format, the CLI's default (auto). */
export function cliArgs({ file, workers, formatFlag = null, output = 'ndjson' }) {
  return ['parse', file, ...(formatFlag ? ['--format', formatFlag] : []), '--output', output, '--workers', String(workers)];
}

export function setup() {
  if (!fs.existsSync(CLI_PATH)) throw new Error(`${CLI_PATH} not found`);
  return { devNull: fs.openSync('/dev/null', 'w') };
}

export async function run(params, { devNull }) {
  const child = spawn(process.execPath, ['--import', PRELOAD_URL, CLI_PATH, ...cliArgs(params)],
    { stdio: ['ignore', devNull, 'pipe', 'pipe'] });
  let stderr = '';
  let report = '';
  child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4096); });
  child.stdio[3].on('data', (d) => { report += d; });
  const [code, signal] = await once(child, 'close');
  if (code !== 0) {
    const why = stderr.trim().split('\n').pop() || '(no stderr)';
    throw new Error(`logwire CLI exited with ${signal ?? `code ${code}`}: ${why}`);
  }
  return { maxRSSKiB: report ? JSON.parse(report).maxRSSKiB : null };
}
