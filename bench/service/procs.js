// The processes of bench/service.js: the service under test (RSS and CPU read from
// /proc), the forked clients and writer, the parse baseline. Every child is tracked so
// that a normal end, an error or Ctrl-C kills them all and removes the temp dirs.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fork, spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { CLI_PATH } from '../hooks.js';

const GUARD_URL = new URL('guard.js', import.meta.url).href;
const PRELOAD_RSS_URL = new URL('../preload-rss.js', import.meta.url).href;
const BANNER = /listening on (http:\/\/\S+) \(WebSocket (ws:\/\/\S+)\)/;
// USER_HZ: 100 on every Linux that Node runs on.
const TICKS_PER_SECOND = 100;

const children = new Set();
const tempDirs = new Set();

function track(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function killAll(signal) {
  for (const c of children) {
    try {
      c.kill(signal);
    } catch {
      // already gone
    }
  }
}

function removeTempDirs() {
  for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
  tempDirs.clear();
}

/** Kills every child still running (SIGTERM, then SIGKILL after graceMs) and removes the temp dirs. */
export async function cleanup(graceMs = 3000) {
  killAll('SIGTERM');
  const until = performance.now() + graceMs;
  while (children.size > 0 && performance.now() < until) await new Promise((r) => setTimeout(r, 50));
  killAll('SIGKILL');
  removeTempDirs();
}

// Last resort on any exit path: synchronous, so SIGKILL.
process.on('exit', () => {
  killAll('SIGKILL');
  removeTempDirs();
});

export function makeTempDir() {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'logwire-bench-service-'));
  tempDirs.add(d);
  return d;
}

export function dropTempDir(d) {
  fs.rmSync(d, { recursive: true, force: true });
  tempDirs.delete(d);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** VmRSS and VmHWM (peak) of a live process, in bytes; null once it is gone. */
export function procMemory(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(s)?.[1] ?? NaN) * 1024;
    return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
  } catch {
    return null;
  }
}

/** User + system CPU seconds of a live process, all threads; null once it is gone. */
export function procCpuSeconds(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

/** CPU seconds the machine (every core, every process) has spent in user and system mode since boot. */
export function machineBusySeconds() {
  try {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    // user, nice, system (guest time is already in user); not irq/softirq, where loopback
    // traffic of the benchmark itself may be counted.
    const busy = f[0] + f[1] + f[2];
    return busy / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

/** A forked helper (client or writer) with a queue of its messages. */
export class Kid {
  constructor(module, name) {
    this.name = name;
    this.messages = [];
    this.waiters = [];
    this.onProgress = null;
    this.stderr = '';
    this.exit = null;
    this.child = track(fork(fileURLToPath(new URL(module, import.meta.url)), [], { stdio: ['ignore', 'inherit', 'pipe', 'ipc'] }));
    this.child.stderr.on('data', (d) => { this.stderr = (this.stderr + d).slice(-8192); });
    this.child.on('message', (m) => {
      if (m.ev === 'progress') return this.onProgress?.(m);
      this.messages.push(m);
      this.flush();
    });
    this.child.on('exit', (code, signal) => {
      this.exit = { code, signal };
      this.flush();
    });
  }

  send(m) {
    this.child.send(m);
  }

  flush() {
    for (const w of [...this.waiters]) {
      const i = this.messages.findIndex((m) => m.ev === w.ev || m.ev === 'error');
      if (i >= 0) {
        const [m] = this.messages.splice(i, 1);
        this.waiters.splice(this.waiters.indexOf(w), 1);
        clearTimeout(w.timer);
        if (m.ev === 'error') w.reject(new Error(`${this.name}: ${m.message}`));
        else w.resolve(m);
      } else if (this.exit) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        clearTimeout(w.timer);
        const tail = this.stderr.trim().split('\n').pop();
        w.reject(new Error(`${this.name} exited (${this.exit.signal ?? `code ${this.exit.code}`}) before "${w.ev}"${tail ? `: ${tail}` : ''}`));
      }
    }
  }

  /** The next message `ev` (an `error` message or the child's exit rejects). */
  wait(ev, timeoutMs) {
    return new Promise((resolve, reject) => {
      const w = { ev, resolve, reject };
      w.timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`${this.name}: no "${ev}" within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      this.waiters.push(w);
      this.flush();
    });
  }

  kill() {
    if (!this.exit) this.child.kill('SIGKILL');
  }
}

/**
 * `logwire serve` on one file as source `name`, in its own process. Resolves once it
 * printed its address. The returned object samples the service's RSS every
 * `sampleMs` until stop(), which sends SIGTERM and reports how it ended.
 */
export async function startService({ name, file, args = [], sampleMs = 200, timeoutMs = 30_000 }) {
  if (file.includes(',')) throw new Error(`${file}: a path with a comma cannot be given to --source`);
  const argv = ['--import', GUARD_URL, CLI_PATH, 'serve', '--source', `${name}=${file},format=classic`, '--port', '0', ...args];
  const command = `node bin/logwire.js serve --source ${name}=${file},format=classic --port 0${args.length ? ` ${args.join(' ')}` : ''}`;
  const child = track(spawn(process.execPath, argv, { stdio: ['pipe', 'pipe', 'pipe'] }));
  const svc = {
    pid: child.pid, command, url: null, wsUrl: null, exit: null, stderr: '', maxRss: 0, samples: 0, problems: [],
  };
  let stdout = '';
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => {
    svc.exit = { code, signal };
    resolve(svc.exit);
  }));
  child.stderr.on('data', (d) => { svc.stderr = (svc.stderr + d).slice(-16384); });
  svc.stderrTail = () => svc.stderr.trim().split('\n').slice(-3).join(' | ');
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the service printed no address within ${timeoutMs / 1000} s (stderr: ${svc.stderrTail() || 'empty'})`)), timeoutMs);
    child.stdout.on('data', (d) => {
      if (svc.url) return;
      stdout += d;
      const m = BANNER.exec(stdout);
      if (m) {
        clearTimeout(timer);
        svc.url = m[1];
        svc.wsUrl = m[2];
        resolve();
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the service exited (${signal ?? `code ${code}`}) before printing its address: ${svc.stderrTail() || 'no stderr'}`));
    });
  }).catch(async (err) => {
    child.kill('SIGKILL');
    await exited;
    throw err;
  });

  const sample = () => {
    const m = procMemory(svc.pid);
    if (!m) return;
    svc.samples++;
    svc.maxRss = Math.max(svc.maxRss, m.rss);
    svc.hwm = m.hwm;
  };
  sample();
  const sampler = setInterval(sample, sampleMs);

  svc.alive = () => svc.exit === null;
  svc.cpuSeconds = () => procCpuSeconds(svc.pid);
  svc.stats = async () => {
    const res = await fetch(`${svc.url}/stats`, { signal: AbortSignal.timeout(10_000) });
    if (!res.ok) throw new Error(`GET /stats: HTTP ${res.status}`);
    return res.json();
  };
  /** SIGTERM; SIGKILL if it has not exited after graceMs. Returns { peakRss, maxSampledRss, problems }. */
  svc.stop = async (graceMs = 10_000) => {
    sample();
    clearInterval(sampler);
    if (svc.exit) {
      svc.problems.push(`the service had exited (${svc.exit.signal ?? `code ${svc.exit.code}`}) before the end: ${svc.stderrTail() || 'no stderr'}`);
    } else {
      child.kill('SIGTERM');
      const how = await Promise.race([exited, sleep(graceMs).then(() => null)]);
      if (how === null) {
        svc.problems.push(`the service did not exit within ${graceMs / 1000} s of SIGTERM; killed`);
        child.kill('SIGKILL');
        await exited;
      } else if (how.code !== 0) {
        svc.problems.push(`the service exited with ${how.signal ?? `code ${how.code}`} after SIGTERM: ${svc.stderrTail() || 'no stderr'}`);
      }
    }
    return { peakRss: Math.max(svc.hwm ?? 0, svc.maxRss), maxSampledRss: svc.maxRss, problems: svc.problems };
  };
  return svc;
}

/**
 * `logwire parse FILE --output ndjson > /dev/null`, the whole process timed from spawn
 * to exit. Returns { seconds, maxRss } (bytes, reported by preload-rss.js).
 */
export async function runParse(file, workers) {
  const devNull = fs.openSync('/dev/null', 'w');
  const args = ['--import', PRELOAD_RSS_URL, CLI_PATH, 'parse', file, '--output', 'ndjson', ...(workers ? ['--workers', String(workers)] : [])];
  try {
    const t0 = performance.now();
    const child = track(spawn(process.execPath, args, { stdio: ['ignore', devNull, 'pipe', 'pipe'] }));
    let stderr = '';
    let report = '';
    child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4096); });
    child.stdio[3].on('data', (d) => { report += d; });
    const [code, signal] = await new Promise((resolve) => child.once('close', (c, s) => resolve([c, s])));
    const seconds = (performance.now() - t0) / 1000;
    if (code !== 0) throw new Error(`logwire parse exited with ${signal ?? `code ${code}`}: ${stderr.trim().split('\n').pop() || '(no stderr)'}`);
    return { seconds, maxRss: report ? JSON.parse(report).maxRSSKiB * 1024 : null };
  } finally {
    fs.closeSync(devNull);
  }
}
