// Baseline for the access rows: goaccess (the Debian package) over the same combined log,
// timed from spawn to exit. Its fastest invocation that still reads every line: a static
// JSON report (no terminal UI, no real-time server, no on-disk database), TZ=UTC (without
// TZ, glibc stat()s /etc/localtime for every timestamp), no global config, and with
// `panels: false` every panel ignored, so that what is left is goaccess's line parser
// with its per-line work: the date via strptime, IP validation, the browser and OS lookup
// of the agent (crawler detection), and the totals of the report's "general" section.
// That report's request counts are checked against the file's lines.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';

export const INSTALL_HINT = 'apt-get install goaccess';
export const PANELS = ['VISITORS', 'REQUESTS', 'REQUESTS_STATIC', 'NOT_FOUND', 'HOSTS', 'OS', 'BROWSERS', 'VISIT_TIMES',
  'VIRTUAL_HOSTS', 'REFERRERS', 'REFERRING_SITES', 'KEYPHRASES', 'STATUS_CODES', 'REMOTE_USER', 'CACHE_STATUS',
  'GEO_LOCATION', 'MIME_TYPE', 'TLS_TYPE'];

/** null when goaccess runs here, otherwise why not. */
export function missing() {
  const r = spawnSync('goaccess', ['--version'], { encoding: 'utf8' });
  if (r.error) return `goaccess not installed (${INSTALL_HINT})`;
  return r.status === 0 ? null : `goaccess --version exited with code ${r.status} (${INSTALL_HINT})`;
}

/** The command line, for the report and BENCHMARKS.md. */
export function goaccessArgs(file, report, panels) {
  return [file, '--log-format=COMBINED', '--no-global-config', '--no-parsing-spinner', '-o', report,
    ...(panels ? [] : PANELS.map((p) => `--ignore-panel=${p}`))];
}

export function setup() {
  const why = missing();
  if (why) throw new Error(why);
  return { dir: fs.mkdtempSync(path.join(os.tmpdir(), 'logwire-bench-goaccess-')) };
}

// goaccess is a grandchild: its peak RSS is VmHWM (monotonic), sampled until it exits.
function highWaterKiB(pid) {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

export async function run({ file, panels }, { dir }) {
  const report = path.join(dir, 'report.json');
  const t0 = performance.now();
  const child = spawn('goaccess', goaccessArgs(file, report, panels), {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, TZ: 'UTC' },
  });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4096); });
  let hwm = 0;
  const sampler = setInterval(() => { hwm = Math.max(hwm, highWaterKiB(child.pid)); }, 20);
  const [code, signal] = await once(child, 'close');
  // timed to goaccess's exit: reading its report below is the benchmark's work, not goaccess's
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  if (code !== 0) throw new Error(`goaccess exited with ${signal ?? `code ${code}`}: ${stderr.trim().split('\n').pop() || '(no stderr)'}`);
  try {
    const { general } = JSON.parse(fs.readFileSync(report, 'utf8'));
    // total_requests counts every line read, valid_requests the ones that parsed
    return { seconds, lines: general.total_requests, records: general.valid_requests, failed: general.failed_requests, maxRSSKiB: hwm || null };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
