// A live demo log for the service: appends realistic classic-format lines to
// DIR/demo.log at a steady rate and rotates it by rename, as logrotate does.
import { appendFileSync, mkdirSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createError, ErrorCodes, ioError } from '../errors.js';

export interface DemoSourceOptions {
  /** Folder of demo.log and its rotated copies (created if missing). */
  dir: string;
  /** Lines appended per second (default 200). */
  linesPerSecond?: number;
  /** demo.log is rotated before a line would make it larger than this (default 1 MiB). */
  rotateBytes?: number;
  /** Rotated files kept: demo.log.1 … demo.log.KEEP (default 2; 0 deletes demo.log instead). */
  keep?: number;
}

export interface DemoSource {
  /** DIR/demo.log. */
  readonly path: string;
  /** Stops writing; rejects with the error that stopped the writer early, if one did. */
  stop(): Promise<void>;
  /** Lines written so far. */
  readonly written: number;
  /** Rotations so far. */
  readonly rotations: number;
}

const DEMO_DEFAULTS = { linesPerSecond: 200, rotateBytes: 1 << 20, keep: 2 };

/** 20 ms: small batches, so a follower sees a steady stream rather than bursts. */
const TICK_MS = 20;

type Level = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

/** Mostly INFO, as in a healthy service. */
const LEVEL_WEIGHTS: Array<[Level, number]> = [['INFO', 70], ['DEBUG', 15], ['WARN', 10], ['ERROR', 5]];

const PATHS = ['/api/v1/orders', '/api/v1/users', '/api/v1/search', '/api/v1/checkout', '/api/v1/carts'];
const METHODS = ['GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE'];

/** Message makers by level; `r(n)` is a random integer in [0, n). */
const MESSAGES: Record<Level, Array<(r: (n: number) => number) => string>> = {
  INFO: [
    (r) => `request completed method=${METHODS[r(METHODS.length)]} path=${PATHS[r(PATHS.length)]}/${r(9973)} status=200 duration_ms=${r(120)} user=u${r(1013)}`,
    (r) => `payment authorized transaction_id=${100000 + r(900000)} user=u${r(1013)} amount=${r(500)}.${String(r(100)).padStart(2, '0')} currency=EUR`,
    (r) => `user login user=u${r(1013)} ip=10.0.${r(256)}.${r(256)} agent="Mozilla/5.0 (X11; Linux x86_64)"`,
    (r) => `job finished job=reindex-${r(50)} items=${r(20000)} elapsed_ms=${r(9000)}`,
  ],
  DEBUG: [
    (r) => `cache miss key=session:${r(0x7fffffff).toString(16)} msg="refilled from db" ttl=300`,
    (r) => `db query table=orders rows=${r(40)} query_ms=${r(30)}.${r(10)} sql="SELECT * FROM orders WHERE user_id = $1"`,
  ],
  WARN: [
    (r) => `slow request method=GET path=/api/v1/search status=200 duration_ms=${1000 + r(4000)} threshold_ms=1000`,
    (r) => `retrying upstream=billing attempt=${1 + r(3)} error="connection reset by peer"`,
  ],
  ERROR: [
    (r) => `request failed method=POST path=/api/v1/checkout status=502 error="upstream timed out after 5000 ms" request_id=${r(0x7fffffff).toString(16)}`,
    (r) => `bad payload user=u${r(1013)} error="unexpected token \\"}\\" at position ${r(400)}"`,
  ],
};

/** mulberry32: a small seeded PRNG, so the content is the same from run to run. */
function randomInts(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

function optionError(name: string, must: string, got: unknown): never {
  throw createError(ErrorCodes.INVALID_OPTION, `startDemoSource: option "${name}" must be ${must}; got ${JSON.stringify(got) ?? String(got)}`);
}

function resolveDemoOptions(options: DemoSourceOptions): Required<DemoSourceOptions> {
  const o = { ...DEMO_DEFAULTS, ...options };
  if (typeof o.dir !== 'string' || o.dir === '') optionError('dir', 'a folder path', o.dir);
  if (typeof o.linesPerSecond !== 'number' || !(o.linesPerSecond > 0) || !Number.isFinite(o.linesPerSecond)) {
    optionError('linesPerSecond', 'a positive number', o.linesPerSecond);
  }
  if (!Number.isSafeInteger(o.rotateBytes) || o.rotateBytes < 1) optionError('rotateBytes', 'a positive integer', o.rotateBytes);
  if (!Number.isSafeInteger(o.keep) || o.keep < 0) optionError('keep', 'an integer >= 0', o.keep);
  return o;
}

/** `YYYY-MM-DD HH:MM:SS.mmm`, UTC. */
function stamp(ms: number): string {
  return new Date(ms).toISOString().slice(0, 23).replace('T', ' ');
}

/** Rename `from` to `to` (replacing it), unless `from` is not there. */
function renameIfPresent(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

export function startDemoSource(options: DemoSourceOptions): DemoSource {
  const { dir, linesPerSecond, rotateBytes, keep } = resolveDemoOptions(options);
  const path = join(dir, 'demo.log');
  let size: number;
  try {
    mkdirSync(dir, { recursive: true });
    appendFileSync(path, '');
    size = statSync(path).size;
  } catch (err) {
    throw ioError(path, err);
  }

  const rand = randomInts(0x10c817e);
  const totalWeight = LEVEL_WEIGHTS.reduce((s, [, w]) => s + w, 0);
  function line(ms: number): string {
    let pick = rand(totalWeight);
    let level: Level = 'INFO';
    for (const [l, w] of LEVEL_WEIGHTS) {
      if (pick < w) {
        level = l;
        break;
      }
      pick -= w;
    }
    const makers = MESSAGES[level];
    return `${stamp(ms)} [${level}] ${makers[rand(makers.length)](rand)}\n`;
  }

  function rotate(): void {
    if (keep === 0) {
      unlinkSync(path);
    } else {
      for (let i = keep - 1; i >= 1; i--) renameIfPresent(`${path}.${i}`, `${path}.${i + 1}`);
      renameSync(path, `${path}.1`);
    }
    // Create the new file at once, as logrotate's `create` does, so followers see it.
    writeFileSync(path, '');
    size = 0;
    rotations++;
  }

  let written = 0;
  let rotations = 0;
  let failure: unknown = null;
  const t0 = performance.now();
  // Lines not written after a stall longer than a second (a suspended laptop):
  // they are skipped rather than written as one burst.
  let skipped = 0;
  let lastMs = Date.now();

  function tick(): void {
    let due = Math.floor(((performance.now() - t0) * linesPerSecond) / 1000) - skipped - written;
    if (due <= 0) return;
    const most = Math.max(1, Math.ceil(linesPerSecond));
    if (due > most) {
      skipped += due - most;
      due = most;
    }
    // Spread the batch's timestamps over the time since the last batch; never backwards.
    const now = Math.max(Date.now(), lastMs);
    let chunk = '';
    let lines = 0;
    const flush = () => {
      if (lines) appendFileSync(path, chunk);
      written += lines;
      chunk = '';
      lines = 0;
    };
    for (let i = 1; i <= due; i++) {
      const text = line(lastMs + Math.floor(((now - lastMs) * i) / due));
      const bytes = Buffer.byteLength(text);
      // Rotate before a line that would pass rotateBytes: whole lines only, one write a piece.
      if (size + bytes > rotateBytes && size > 0) {
        flush();
        rotate();
      }
      chunk += text;
      lines++;
      size += bytes;
    }
    flush();
    lastMs = now;
  }

  const timer = setInterval(() => {
    try {
      tick();
    } catch (err) {
      failure = ioError(path, err);
      clearInterval(timer);
    }
  }, TICK_MS);

  let stopped = false;
  return {
    path,
    get written() {
      return written;
    },
    get rotations() {
      return rotations;
    },
    async stop() {
      if (!stopped) {
        stopped = true;
        // Writes are synchronous inside the tick, so none is under way here.
        clearInterval(timer);
      }
      if (failure) throw failure;
    },
  };
}
