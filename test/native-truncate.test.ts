// Crash tests for the SIGBUS guard in native/logwire_map.c: a file truncated
// under a window must read as zeros instead of killing the process, and a
// SIGBUS from anywhere else must still kill it.
import { test, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { loadNative, nativeLoadError, type NativeMapper } from '../src/io/native.js';
import { byteSum, wasmSum } from './support/wasm-sum.js';

const MiB = 1024 * 1024;
const NATIVE_URL = new URL('../src/io/native.js', import.meta.url).href;
const ADDON_PATH = fileURLToPath(new URL('../../../native/build/Release/logwire_map.node', import.meta.url));

/** The addon; a missing one fails the test, only LOGWIRE_NO_NATIVE=1 may turn it off. */
function addon(): NativeMapper {
  const native = loadNative();
  if (native === null) assert.fail(`native addon did not load: ${nativeLoadError()}`);
  return native;
}

/** Bytes 1..251 (never 0, so zeros show where the file is not). */
function pattern(size: number): Buffer {
  const data = Buffer.alloc(size);
  for (let i = 0; i < size; i++) data[i] = 1 + (i % 251);
  return data;
}

function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}




/**
 * Maps a 4 MiB file, reads it all, truncates it to each cut in turn and reads
 * again: bytes before the cut are the file's, bytes after are zeros, and the
 * window reports a fault exactly when whole pages were cut off.
 */
function truncateCycles(native: NativeMapper, path: string): number {
  const page = native.pageSize;
  const size = 4 * MiB + 1234;
  const mapped = roundUp(size, page);
  const data = pattern(size);
  const memory = new WebAssembly.Memory({ initial: 128 });
  const sum = wasmSum(memory);
  const at = 2 * MiB;
  let faults = 0;
  const cuts = [0, 1, page - 1, page, MiB + 777, 3 * MiB, size - 1];
  cuts.forEach((cut, cycle) => {
    writeFileSync(path, data);
    const fd = openSync(path, 'r');
    try {
      const slot = native.mapWindow(memory.buffer, at, fd, 0, size);
      assert.equal(sum(at, mapped), byteSum(data), 'every page is read in before the cut');
      truncateSync(path, cut);
      const view = new Uint8Array(memory.buffer, at, mapped);
      // Alternate which reader meets the missing pages first: wasm or JS.
      if (cycle % 2 === 0) {
        assert.equal(sum(at, mapped), byteSum(data.subarray(0, cut)), `wasm sum after a cut at ${cut}`);
      } else {
        let touched = 0;
        let expected = 0;
        for (let i = 0; i < mapped; i += page) {
          touched += view[i]!;
          if (i < cut) expected += data[i]!;
        }
        assert.equal(touched, expected, `JS reads one byte a page after a cut at ${cut}`);
      }
      assert.ok(Buffer.from(view.buffer, at, cut).equals(data.subarray(0, cut)), `bytes before a cut at ${cut}`);
      assert.ok(view.subarray(cut).every((b) => b === 0), `zeros after a cut at ${cut}`);
      assert.equal(sum(at, mapped), byteSum(data.subarray(0, cut)));
      // Inside the last page the kernel zeroes the tail itself: no SIGBUS.
      const faulted = roundUp(cut, page) < mapped;
      assert.equal(native.windowFaulted(slot), faulted, `windowFaulted after a cut at ${cut}`);
      assert.equal(native.unmapWindow(slot), faulted, `unmapWindow after a cut at ${cut}`);
      assert.ok(view.every((b) => b === 0), 'zeros after unmapWindow');
      if (faulted) faults++;
    } finally {
      closeSync(fd);
    }
  });
  return faults;
}

interface ReaderJob {
  role: 'reader';
  nativeUrl: string;
  path: string;
}

interface TruncatorJob {
  role: 'truncator';
  path: string;
  size: number;
  /** [0]: set to 1 to stop; [1]: truncations done so far. */
  control: Int32Array;
}

/** Shortens the file to a random length, holds it a moment, writes it back, until told to stop. */
function truncator(job: TruncatorJob): void {
  const data = pattern(job.size);
  const fd = openSync(job.path, 'r+');
  let seed = 12345;
  try {
    while (Atomics.load(job.control, 0) === 0) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const cut = seed % job.size;
      ftruncateSync(fd, cut);
      Atomics.wait(job.control, 0, 0, 1);
      writeSync(fd, data, cut, job.size - cut, cut);
      Atomics.add(job.control, 1, 1);
    }
  } finally {
    closeSync(fd);
  }
}

if (!isMainThread) {
  const job = workerData as ReaderJob | TruncatorJob;
  if (job.role === 'truncator') {
    truncator(job);
  } else {
    const { loadNative: load } = (await import(job.nativeUrl)) as typeof import('../src/io/native.js');
    const native = load();
    if (native === null) throw new Error('addon did not load in the worker');
    parentPort!.postMessage(truncateCycles(native, job.path));
  }
} else {
  const skip = process.env.LOGWIRE_NO_NATIVE === '1' ? 'LOGWIRE_NO_NATIVE=1: the native addon is turned off' : false;
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'logwire-truncate-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** Resolves with the worker's first message; rejects if it throws or exits first. */
  function workerResult<T>(job: ReaderJob | TruncatorJob): { worker: Worker; result: Promise<T | undefined> } {
    const worker = new Worker(new URL(import.meta.url), { workerData: job });
    const result = new Promise<T | undefined>((resolve, reject) => {
      let message: T | undefined;
      worker.on('message', (value: T) => (message = value));
      worker.on('error', reject);
      worker.on('exit', (code) => (code === 0 ? resolve(message) : reject(new Error(`worker exited with ${code}`))));
    });
    return { worker, result };
  }

  interface ChildResult {
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
  }

  /** Runs an ES module script in a child node without core dumps; `onReady` when it prints "ready". */
  async function runChild(script: string, onReady?: (pid: number) => void): Promise<ChildResult> {
    const child = spawn('sh', ['-c', 'ulimit -c 0; exec "$@"', 'sh', process.execPath, '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (onReady && /^ready$/m.test(stdout)) {
        onReady(child.pid!);
        onReady = undefined;
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
    return { code, signal, stdout, stderr };
  }

  test('reads past a truncated end give zeros and mark the window (main thread and a worker at once)', { skip, timeout: 20_000 }, async () => {
    const native = addon();
    const { result } = workerResult<number>({ role: 'reader', nativeUrl: NATIVE_URL, path: join(dir, 'worker.log') });
    const faults = truncateCycles(native, join(dir, 'main.log'));
    assert.equal(faults, 6, 'every cut but the one inside the last page faults');
    assert.equal(await result, 6, 'the worker saw the same faults');
  });

  test('the process survives a file truncated and rewritten while it is read', { skip, timeout: 30_000 }, async (t: TestContext) => {
    const native = addon();
    const page = native.pageSize;
    const size = 4 * MiB + 1234;
    const mapped = roundUp(size, page);
    const data = pattern(size);
    const path = join(dir, 'race.log');
    writeFileSync(path, data);
    const control = new Int32Array(new SharedArrayBuffer(8));
    const { result } = workerResult<void>({ role: 'truncator', path, size, control });
    const memory = new WebAssembly.Memory({ initial: 128 });
    const sum = wasmSum(memory);
    const at = MiB;
    const full = byteSum(data);
    let rounds = 0;
    let faulted = 0;
    try {
      while (Atomics.load(control, 1) === 0) await sleep(1);
      const deadline = Date.now() + 5000;
      while (rounds < 300 && Date.now() < deadline) {
        const fd = openSync(path, 'r');
        try {
          const slot = native.mapWindow(memory.buffer, at, fd, 0, size);
          assert.ok(sum(at, mapped) <= full);
          const view = new Uint8Array(memory.buffer, at, mapped);
          for (let i = 0; i < mapped; i++) {
            const b = view[i]!;
            if (b !== 0 && b !== data[i]) assert.fail(`byte ${i} is ${b}: neither the file's ${data[i]} nor 0`);
          }
          const seen = native.windowFaulted(slot);
          assert.equal(native.unmapWindow(slot), seen);
          if (seen) faulted++;
        } finally {
          closeSync(fd);
        }
        rounds++;
      }
    } finally {
      Atomics.store(control, 0, 1);
      await result;
    }
    t.diagnostic(`${rounds} windows read, ${faulted} faulted, ${Atomics.load(control, 1)} truncations`);
    assert.ok(faulted > 0, `no window faulted in ${rounds} rounds`);
  });

  test('a SIGBUS sent to a process that loaded the addon still kills it', { skip, timeout: 20_000 }, async () => {
    addon();
    const file = join(dir, 'kill.log');
    writeFileSync(file, pattern(8192));
    const result = await runChild(
      `import { openSync, readFileSync } from 'node:fs';
      import { loadNative } from ${JSON.stringify(NATIVE_URL)};
      const native = loadNative();
      const memory = new WebAssembly.Memory({ initial: 2 });
      native.mapWindow(memory.buffer, 0, openSync(${JSON.stringify(file)}, 'r'), 0, 8192);
      const caught = BigInt('0x' + /SigCgt:\\s*(\\w+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
      console.log((caught >> 6n) & 1n ? 'ready' : 'no SIGBUS handler');
      setInterval(() => {}, 1000);`,
      (pid) => process.kill(pid, 'SIGBUS'),
    );
    assert.match(result.stdout, /^ready$/m, result.stderr);
    assert.equal(result.signal, 'SIGBUS', result.stderr);
  });

  test('a fault outside every window still kills the process', { skip, timeout: 20_000 }, async (t: TestContext) => {
    const native = addon();
    // A shared object cut after its first page: the dynamic loader's reads of
    // the rest fault in a file mapping that is no window of ours.
    const victim = join(dir, 'victim.node');
    const result = await runChild(
      `import { copyFileSync, truncateSync } from 'node:fs';
      import { loadNative } from ${JSON.stringify(NATIVE_URL)};
      if (loadNative() === null) throw new Error('no addon');
      copyFileSync(${JSON.stringify(ADDON_PATH)}, ${JSON.stringify(victim)});
      truncateSync(${JSON.stringify(victim)}, ${native.pageSize});
      console.log('loading');
      try {
        process.dlopen({ exports: {} }, ${JSON.stringify(victim)});
        console.log('dlopen returned');
      } catch (err) {
        console.log('dlopen threw: ' + err.message);
      }`,
    );
    const threw = /dlopen threw: (.*)/.exec(result.stdout);
    if (threw) {
      t.skip(`this dynamic loader rejects a truncated object instead of faulting: ${threw[1]}`);
      return;
    }
    assert.match(result.stdout, /^loading$/m, result.stderr);
    assert.equal(result.signal, 'SIGBUS', `stdout: ${result.stdout}\nstderr: ${result.stderr}`);
  });

  test('a fault the addon does not own goes to the handler installed before it', { skip, timeout: 20_000 }, async () => {
    addon();
    // A second copy of the addon is a separate library with its own handler
    // and windows; loaded first, it is the handler ours must pass faults to.
    const earlierPath = join(dir, 'earlier.node');
    const file = join(dir, 'earlier.log');
    const result = await runChild(
      `import { copyFileSync, openSync, truncateSync, writeFileSync } from 'node:fs';
      const earlier = { exports: {} };
      copyFileSync(${JSON.stringify(ADDON_PATH)}, ${JSON.stringify(earlierPath)});
      process.dlopen(earlier, ${JSON.stringify(earlierPath)});
      const { loadNative } = await import(${JSON.stringify(NATIVE_URL)});
      if (loadNative() === null) throw new Error('no addon');
      const size = 16 * earlier.exports.pageSize();
      writeFileSync(${JSON.stringify(file)}, Buffer.alloc(size, 7));
      const memory = new WebAssembly.Memory({ initial: 2 });
      const slot = earlier.exports.mapWindow(memory.buffer, 0, openSync(${JSON.stringify(file)}, 'r'), 0, size);
      truncateSync(${JSON.stringify(file)}, 100);
      let sum = 0;
      for (const b of new Uint8Array(memory.buffer, 0, size)) sum += b;
      console.log(JSON.stringify({ sum, faulted: earlier.exports.unmapWindow(slot) }));`,
    );
    assert.equal(result.signal, null, result.stderr);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), { sum: 700, faulted: true });
  });
}
