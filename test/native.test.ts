// Contract tests for the native window mapper (native/logwire_map.c through
// src/io/native.ts): what wasm and JS see through a window, argument checks,
// memory.grow, slots, worker threads. Truncation lives in native-truncate.test.ts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { loadNative, nativeLoadError, type NativeMapper } from '../src/io/native.js';
import { byteSum, wasmSum } from './support/wasm-sum.js';

const MiB = 1024 * 1024;
const WASM_PAGE = 65536;
const NATIVE_URL = new URL('../src/io/native.js', import.meta.url).href;

/** The addon; a missing one fails the test, only LOGWIRE_NO_NATIVE=1 may turn it off. */
function addon(): NativeMapper {
  const native = loadNative();
  if (native === null) assert.fail(`native addon did not load: ${nativeLoadError()}`);
  return native;
}

/** Bytes 1..251 (never 0, so zeros show where the file is not). */
function pattern(size: number, seed = 0): Buffer {
  const data = Buffer.alloc(size);
  for (let i = 0; i < size; i++) data[i] = 1 + ((i + seed) % 251);
  return data;
}

function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

function allEqual(bytes: Uint8Array, value: number): boolean {
  return bytes.every((b) => b === value);
}




interface MapperJob {
  nativeUrl: string;
  path: string;
  size: number;
  /** Exit with the window still mapped, to check the slot is given back. */
  leaveMapped: boolean;
  /** A window of the main thread, which this worker may query but not unmap. */
  foreignSlot: number;
}

/** Worker side: map the file into this thread's own memory and check it. */
async function mapperWorker(job: MapperJob): Promise<void> {
  const { loadNative: load } = (await import(job.nativeUrl)) as typeof import('../src/io/native.js');
  const native = load();
  if (native === null) throw new Error('addon did not load in the worker');
  const memory = new WebAssembly.Memory({ initial: 64 });
  const fd = openSync(job.path, 'r');
  const slot = native.mapWindow(memory.buffer, MiB, fd, 0, job.size);
  closeSync(fd); // the mapping keeps its own reference to the file
  const seen = Buffer.from(memory.buffer, MiB, job.size);
  const same = seen.equals(pattern(job.size)) && wasmSum(memory)(MiB, job.size) === byteSum(seen);
  let foreign = '';
  try {
    native.unmapWindow(job.foreignSlot);
  } catch (err) {
    foreign = `${native.windowFaulted(job.foreignSlot)} ${(err as { code?: string }).code}`;
  }
  const faulted = job.leaveMapped ? false : native.unmapWindow(slot);
  parentPort!.postMessage({ same, faulted, foreign });
}

if (!isMainThread) {
  await mapperWorker(workerData as MapperJob);
} else {
  const skip = process.env.LOGWIRE_NO_NATIVE === '1' ? 'LOGWIRE_NO_NATIVE=1: the native addon is turned off' : false;
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'logwire-native-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** Writes a file of `size` pattern bytes and opens it read-only. */
  function fixture(name: string, size: number): { path: string; data: Buffer; fd: number } {
    const path = join(dir, name);
    const data = pattern(size);
    writeFileSync(path, data);
    return { path, data, fd: openSync(path, 'r') };
  }

  test('LOGWIRE_NO_NATIVE=1 turns the addon off', () => {
    const script = `import { loadNative, nativeLoadError } from ${JSON.stringify(NATIVE_URL)};
      console.log(JSON.stringify([loadNative(), nativeLoadError()]));`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, LOGWIRE_NO_NATIVE: '1' },
      encoding: 'utf8',
    });
    assert.equal(child.status, 0, child.stderr);
    assert.deepEqual(JSON.parse(child.stdout), [null, 'disabled by LOGWIRE_NO_NATIVE=1']);
  });

  test('the addon loads and reports the page size', { skip }, () => {
    const { pageSize } = addon();
    assert.equal(nativeLoadError(), null);
    assert.ok(pageSize >= 4096 && (pageSize & (pageSize - 1)) === 0, `page size ${pageSize}`);
    assert.equal(loadNative(), loadNative(), 'cached');
  });

  test('a window shows the file, zeros after its end, and leaves its neighbours alone', { skip }, () => {
    const native = addon();
    const page = native.pageSize;
    const size = 3 * page + 123;
    const { data, fd } = fixture('window.log', size);
    const memory = new WebAssembly.Memory({ initial: 256 });
    const view = new Uint8Array(memory.buffer);
    const at = MiB;
    view.fill(0xaa, at - page, at);
    view.fill(0xcc, at, at + 4 * page);
    view.fill(0xbb, at + 4 * page, at + 5 * page);
    try {
      const slot = native.mapWindow(memory.buffer, at, fd, 0, size);
      assert.ok(Buffer.from(memory.buffer, at, size).equals(data), 'JS sees the file');
      assert.equal(wasmSum(memory)(at, size), byteSum(data), 'wasm sees the file');
      assert.ok(allEqual(view.subarray(at + size, at + 4 * page), 0), 'the last page is zero past the end');
      assert.ok(allEqual(view.subarray(at - page, at), 0xaa), 'page before untouched');
      assert.ok(allEqual(view.subarray(at + 4 * page, at + 5 * page), 0xbb), 'page after untouched');
      assert.equal(native.windowFaulted(slot), false);

      assert.equal(native.unmapWindow(slot), false);
      assert.ok(allEqual(view.subarray(at, at + 4 * page), 0), 'zeros after unmapWindow');
      view.fill(0x55, at, at + 4 * page);
      assert.ok(allEqual(view.subarray(at, at + 4 * page), 0x55), 'writable after unmapWindow');
      assert.ok(allEqual(view.subarray(at + 4 * page, at + 5 * page), 0xbb));
    } finally {
      closeSync(fd);
    }
  });

  test('fileOffset selects pages from inside the file, and the window follows file writes', { skip }, () => {
    const native = addon();
    const page = native.pageSize;
    const { path, data, fd } = fixture('offset.log', 5 * page);
    const memory = new WebAssembly.Memory({ initial: 64 });
    const writer = openSync(path, 'r+');
    try {
      const slot = native.mapWindow(memory.buffer, 0, fd, 2 * page, 2 * page);
      assert.ok(Buffer.from(memory.buffer, 0, 2 * page).equals(data.subarray(2 * page, 4 * page)));
      // MAP_SHARED: a write to the file shows through the window at once.
      writeSync(writer, Buffer.from('fresh'), 0, 5, 2 * page + 10);
      assert.equal(Buffer.from(memory.buffer, 10, 5).toString(), 'fresh');
      assert.equal(native.unmapWindow(slot), false);
    } finally {
      closeSync(writer);
      closeSync(fd);
    }
  });

  test('memory.grow keeps windows in place (views refreshed)', { skip }, () => {
    const native = addon();
    const page = native.pageSize;
    const size = 10 * page + 7;
    const { path, data, fd } = fixture('grow.log', size);
    const memory = new WebAssembly.Memory({ initial: 32 });
    const writer = openSync(path, 'r+');
    try {
      const old = memory.buffer;
      const slot = native.mapWindow(old, WASM_PAGE, fd, 0, size);
      // V8 makes [base, new size) read-write on grow, windows included: this
      // used to abort the process while windows were MAP_SHARED.
      memory.grow(64);
      assert.equal(old.byteLength, 0, 'grow detaches the old buffer');
      assert.ok(Buffer.from(memory.buffer, WASM_PAGE, size).equals(data), 'same bytes at the same offset');
      // Still the live mapping, not a copy made by grow.
      writeSync(writer, Buffer.from('after grow'), 0, 10, 3 * page);
      assert.equal(Buffer.from(memory.buffer, WASM_PAGE + 3 * page, 10).toString(), 'after grow');

      // Now writable, but privately: a stray write never reaches the file.
      new Uint8Array(memory.buffer)[WASM_PAGE] = 0;
      assert.equal(readFileSync(path)[0], data[0]);

      assert.throws(() => native.mapWindow(old, 0, fd, 0, page), { name: 'TypeError', message: /detached/ });
      const grown = 64 * WASM_PAGE; // inside the pages grow added
      const second = native.mapWindow(memory.buffer, grown, fd, 0, page);
      assert.equal(wasmSum(memory)(grown, page), byteSum(Buffer.from(memory.buffer, grown, page)));
      assert.equal(native.unmapWindow(second), false);
      assert.equal(native.unmapWindow(slot), false);
    } finally {
      closeSync(writer);
      closeSync(fd);
    }
  });

  test('bad arguments throw clear errors and leave memory as it was', { skip }, () => {
    const native = addon();
    const page = native.pageSize;
    const { fd } = fixture('args.log', 2 * page);
    const memory = new WebAssembly.Memory({ initial: 16 });
    const buffer = memory.buffer;
    const end = buffer.byteLength;
    const view = new Uint8Array(buffer);
    view.fill(0x5a);
    const dirFd = openSync(dir, 'r');
    const writeOnlyFd = openSync(join(dir, 'args.log'), 'a');
    // Last, so no other open takes its number back.
    const closedFd = openSync(join(dir, 'args.log'), 'r');
    closeSync(closedFd);
    const map = (...args: unknown[]) => () =>
      (native.mapWindow as (...a: unknown[]) => number)(...args);
    const shared = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }).buffer;
    try {
      const cases: [() => unknown, RegExp, string, string][] = [
        [map({}, 0, fd, 0, page), /memory must be an ArrayBuffer/, 'TypeError', 'ERR_INVALID_ARG_TYPE'],
        [map(shared, 0, fd, 0, page), /memory must be an ArrayBuffer/, 'TypeError', 'ERR_INVALID_ARG_TYPE'],
        [map(buffer, 0, fd, 0), /takes 5 arguments/, 'TypeError', 'ERR_MISSING_ARGS'],
        [map(buffer, page + 1, fd, 0, page), /regionOffset .*page boundary/, 'RangeError', 'ERR_OUT_OF_RANGE'],
        [map(buffer, -page, fd, 0, page), /regionOffset must be an integer/, 'RangeError', 'ERR_OUT_OF_RANGE'],
        [map(buffer, 0.5, fd, 0, page), /regionOffset must be an integer/, 'RangeError', 'ERR_OUT_OF_RANGE'],
        [map(buffer, '0', fd, 0, page), /regionOffset must be a number/, 'TypeError', 'ERR_INVALID_ARG_TYPE'],
        [map(buffer, end + page, fd, 0, page), /regionOffset .*past the end/, 'RangeError', 'ERR_OUT_OF_RANGE'],
        [map(buffer, 0, fd, 100, page), /fileOffset 100 is not a multiple/, 'RangeError', 'ERR_OUT_OF_RANGE'],
        [map(buffer, 0, fd, 0, 0), /length must be an integer/, 'RangeError', 'ERR_OUT_OF_RANGE'],
        [map(buffer, end - page, fd, 0, page + 1), /length .*past the end of memory/, 'RangeError', 'ERR_OUT_OF_RANGE'],
        [map(buffer, 0, fd, 0, 2 ** 52), /length .*past the end of memory/, 'RangeError', 'ERR_OUT_OF_RANGE'],
        [map(buffer, 0, -1, 0, page), /fd must be an integer/, 'RangeError', 'ERR_OUT_OF_RANGE'],
        [map(buffer, 0, closedFd, 0, page), /fd \d+: Bad file descriptor/, 'Error', 'EBADF'],
        [map(buffer, 0, dirFd, 0, page), /fd \d+ is not a regular file/, 'Error', 'ENODEV'],
        [map(buffer, 0, writeOnlyFd, 0, page), /fd \d+ is not open for reading/, 'Error', 'EACCES'],
        [() => native.unmapWindow(123456), /slot 123456 is not a mapped window/, 'RangeError', 'ERR_OUT_OF_RANGE'],
        [() => native.unmapWindow(-1), /slot must be an integer/, 'RangeError', 'ERR_OUT_OF_RANGE'],
        [() => native.windowFaulted('1' as unknown as number), /slot must be a number/, 'TypeError', 'ERR_INVALID_ARG_TYPE'],
      ];
      for (const [call, message, name, code] of cases) {
        assert.throws(call, (err: Error & { code?: string }) => {
          assert.equal(err.name, name, err.message);
          assert.equal(err.code, code, err.message);
          assert.match(err.message, message);
          return true;
        });
      }
      assert.ok(allEqual(view, 0x5a), 'no rejected call touched the memory');

      const slot = native.mapWindow(buffer, page, fd, 0, 2 * page);
      assert.throws(() => native.mapWindow(buffer, 2 * page, fd, 0, page), {
        name: 'RangeError',
        message: new RegExp(`overlaps the mapped window slot ${slot}`),
      });
      assert.equal(native.unmapWindow(slot), false);
      assert.throws(() => native.unmapWindow(slot), { name: 'RangeError', message: /already unmapped/ });
      assert.throws(() => native.windowFaulted(slot), { name: 'RangeError', message: /already unmapped/ });
    } finally {
      closeSync(writeOnlyFd);
      closeSync(dirFd);
      closeSync(fd);
    }
  });

  test('slots are limited, given back, and never mistaken for older ones', { skip }, () => {
    const native = addon();
    const page = native.pageSize;
    const { fd } = fixture('slots.log', page);
    const memory = new WebAssembly.Memory({ initial: 64 });
    try {
      const slots: number[] = [];
      for (let i = 0; i < 256; i++) slots.push(native.mapWindow(memory.buffer, i * page, fd, 0, page));
      assert.equal(new Set(slots).size, 256);
      assert.throws(() => native.mapWindow(memory.buffer, 256 * page, fd, 0, page), {
        code: 'LOGWIRE_ERR_NATIVE_WINDOWS',
        message: /all 256 window slots are in use/,
      });
      for (const slot of slots) assert.equal(native.unmapWindow(slot), false);
      for (let i = 0; i < 1000; i++) {
        const slot = native.mapWindow(memory.buffer, 0, fd, 0, page);
        assert.ok(!slots.includes(slot), 'a reused slot gets a new id');
        assert.equal(native.unmapWindow(slot), false);
      }
    } finally {
      closeSync(fd);
    }
  });

  test('worker threads load the addon and map their own memories', { skip, timeout: 20_000 }, async () => {
    const native = addon();
    const size = 40 * native.pageSize + 99;
    const { path, data, fd } = fixture('workers.log', size);
    const memory = new WebAssembly.Memory({ initial: 64 });
    try {
      // A window of the main thread stays mapped meanwhile.
      const slot = native.mapWindow(memory.buffer, 0, fd, 0, size);
      const run = async (leaveMapped: boolean) => {
        const job: MapperJob = { nativeUrl: NATIVE_URL, path, size, leaveMapped, foreignSlot: slot };
        const worker = new Worker(new URL(import.meta.url), { workerData: job });
        const [message] = (await once(worker, 'message')) as [{ same: boolean; faulted: boolean; foreign: string }];
        await once(worker, 'exit');
        return message;
      };
      const results = await Promise.all([run(false), run(false), run(true)]);
      const expected = { same: true, faulted: false, foreign: 'false LOGWIRE_ERR_NATIVE_THREAD' };
      assert.deepEqual(results, [expected, expected, expected]);
      assert.ok(Buffer.from(memory.buffer, 0, size).equals(data));
      assert.equal(native.unmapWindow(slot), false);
      // The worker that exited with its window mapped gave the slot back.
      const page = native.pageSize;
      const slots: number[] = [];
      for (let i = 0; i < 256; i++) slots.push(native.mapWindow(memory.buffer, i * page, fd, 0, page));
      for (const s of slots) native.unmapWindow(s);
    } finally {
      closeSync(fd);
    }
  });
}
