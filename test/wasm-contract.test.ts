// The contract between the host and the two WASM builds: every export the
// bridge needs, with the right kind and arity; no imports but env.abort and
// env.zoneOffset; the scalar build free of SIMD and equal to the SIMD one in
// what it outputs; an AssemblyScript abort decoded into a LogwireError.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogwireError, parseBuffer, parseFile } from '../src/index.js';
import { CORE_EXPORTS, WasmCore, type CoreExports, type Flavor } from '../src/wasm/bridge.js';
import { crc32c, referenceParse } from './support/reference.js';
import { prng } from './support/prng.js';

const FLAVORS: readonly Flavor[] = ['simd', 'scalar'];

function wasmBytes(flavor: Flavor): Uint8Array<ArrayBuffer> {
  // This file runs as build/js/test/wasm-contract.test.js; the builds are in build/wasm/.
  return new Uint8Array(readFileSync(new URL(`../../wasm/logwire.${flavor}.wasm`, import.meta.url)));
}

/**
 * Parameter counts, from the CoreExports interface in src/wasm/bridge.ts.
 * Typed loosely on purpose: a new export fails the test below, not the build.
 */
const ARITY: Record<string, number> = {
  init: 3, inputPtr: 0, inputSize: 0, outputPtr: 0, outputSize: 0, prefixPtr: 0, prefixSize: 0,
  configure: 4, setZone: 2, begin: 4, feed: 3, consumedBytes: 0, outputLength: 0, resetOutput: 0,
  setOutputLimit: 1, recordCount: 0, newlineCount: 0, position: 0, nextLine: 0, committedOffset: 0, heldOffset: 0, heldLine: 0, isDone: 0,
  chunkCrc: 0, chunkLength: 0, countLines: 2, crc32c: 3, detect: 3, patternPtr: 0, patternSize: 0, setClock: 2,
  startPatternPtr: 0, setMultiline: 4,
};

test('every function in CORE_EXPORTS has its parameter count in this test', () => {
  const functions = CORE_EXPORTS.filter((name: keyof CoreExports) => name !== 'memory');
  assert.deepEqual(functions.filter((name) => !(name in ARITY)), [], 'add these to ARITY (from CoreExports)');
});

for (const flavor of FLAVORS) {
  test(`${flavor} build: exports every CORE_EXPORTS name with the right kind and arity`, () => {
    const module = new WebAssembly.Module(wasmBytes(flavor));
    const kinds = new Map(WebAssembly.Module.exports(module).map((e) => [e.name, e.kind]));
    for (const name of CORE_EXPORTS) {
      assert.ok(kinds.has(name), `${flavor}: export "${name}" is missing`);
      assert.equal(kinds.get(name), name === 'memory' ? 'memory' : 'function', `${flavor}: kind of "${name}"`);
    }
    const instance = new WebAssembly.Instance(module, { env: { abort() { throw new Error('abort'); }, zoneOffset: () => 0 } });
    const exports = instance.exports as Record<string, unknown>;
    for (const [name, arity] of Object.entries(ARITY)) {
      if (!(CORE_EXPORTS as readonly string[]).includes(name)) continue;
      assert.equal((exports[name] as (...args: unknown[]) => unknown).length, arity, `${flavor}: parameters of "${name}"`);
    }
  });

  test(`${flavor} build: imports only env.abort and env.zoneOffset, both functions`, () => {
    const imports = WebAssembly.Module.imports(new WebAssembly.Module(wasmBytes(flavor)));
    const shown = imports.map((i) => `${i.module}.${i.name}:${i.kind}`).sort();
    assert.deepEqual(shown, ['env.abort:function', 'env.zoneOffset:function']);
  });
}

// ---- A small WebAssembly binary reader: finds SIMD instructions and v128 types.

class Reader {
  pos = 0;
  constructor(readonly bytes: Uint8Array, readonly end = bytes.length) {}
  byte(): number {
    if (this.pos >= this.end) throw new Error(`read past the end at ${this.pos}`);
    return this.bytes[this.pos++]!;
  }
  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 35) throw new Error(`LEB128 too long at ${this.pos}`);
    }
  }
  /** A signed LEB128 (s32, s33, s64): skipped, only its length matters here. */
  sleb(): void {
    for (let n = 0; ; n++) {
      if ((this.byte() & 0x80) === 0) return;
      if (n > 10) throw new Error(`signed LEB128 too long at ${this.pos}`);
    }
  }
  skip(n: number): void {
    this.pos += n;
    if (this.pos > this.end) throw new Error('skip past the end');
  }
}

const V128 = 0x7b;
const VALTYPES = new Set([0x7f, 0x7e, 0x7d, 0x7c, V128, 0x70, 0x6f]);

interface SimdScan {
  /** 0xFD-prefixed instructions. */
  simdOps: number;
  /** Places a v128 type appears (function types, globals, locals, block types). */
  v128Types: number;
  functions: number;
}

function memarg(r: Reader): void {
  const align = r.u32();
  if (align & 0x40) r.u32(); // multi-memory index
  r.u32();
}

function blockType(r: Reader, scan: SimdScan): void {
  const b = r.bytes[r.pos]!;
  if (b === 0x40 || VALTYPES.has(b)) {
    if (b === V128) scan.v128Types++;
    r.pos++;
  } else {
    r.sleb(); // a type index (s33)
  }
}

/** Skips one instruction's immediates; counts SIMD. Throws on an opcode it does not know. */
function instruction(r: Reader, scan: SimdScan): void {
  const op = r.byte();
  if (op === 0x02 || op === 0x03 || op === 0x04) return blockType(r, scan);
  if (op === 0x0c || op === 0x0d) return void r.u32();
  if (op === 0x0e) {
    const n = r.u32();
    for (let i = 0; i <= n; i++) r.u32();
    return;
  }
  if (op === 0x10) return void r.u32();
  if (op === 0x11) return void (r.u32(), r.u32());
  if (op === 0x1c) {
    const n = r.u32();
    for (let i = 0; i < n; i++) if (r.byte() === V128) scan.v128Types++;
    return;
  }
  if (op >= 0x20 && op <= 0x26) return void r.u32();
  if (op >= 0x28 && op <= 0x3e) return memarg(r);
  if (op === 0x3f || op === 0x40) return void r.byte();
  if (op === 0x41 || op === 0x42) return r.sleb();
  if (op === 0x43) return r.skip(4);
  if (op === 0x44) return r.skip(8);
  if (op <= 0x01 || op === 0x05 || op === 0x0b || op === 0x0f || op === 0x1a || op === 0x1b) return;
  if (op >= 0x45 && op <= 0xc4) return;
  if (op === 0xd0) return void r.byte();
  if (op === 0xd1) return;
  if (op === 0xd2) return void r.u32();
  if (op === 0xfc) {
    const sub = r.u32();
    if (sub <= 7) return;
    if (sub === 8) return void (r.u32(), r.byte());
    if (sub === 9 || sub === 13 || (sub >= 15 && sub <= 17)) return void r.u32();
    if (sub === 10) return void (r.byte(), r.byte());
    if (sub === 11) return void r.byte();
    if (sub === 12 || sub === 14) return void (r.u32(), r.u32());
    throw new Error(`unknown 0xFC ${sub} at ${r.pos}`);
  }
  if (op === 0xfd) {
    scan.simdOps++;
    const sub = r.u32();
    if (sub <= 11 || sub === 92 || sub === 93) return memarg(r);
    if (sub === 12 || sub === 13) return r.skip(16); // v128.const, i8x16.shuffle
    if (sub >= 21 && sub <= 34) return void r.byte(); // extract/replace lane
    if (sub >= 84 && sub <= 91) return void (memarg(r), r.byte()); // load/store lane
    return; // every other SIMD instruction has no immediates
  }
  throw new Error(`unknown opcode 0x${op.toString(16)} at ${r.pos - 1}`);
}

function scanSimd(bytes: Uint8Array): SimdScan {
  const scan: SimdScan = { simdOps: 0, v128Types: 0, functions: 0 };
  const r = new Reader(bytes);
  assert.deepEqual([...bytes.subarray(0, 8)], [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], 'wasm magic and version');
  r.pos = 8;
  while (r.pos < bytes.length) {
    const id = r.byte();
    const size = r.u32();
    const end = r.pos + size;
    const s = new Reader(bytes, end);
    s.pos = r.pos;
    if (id === 1) {
      // Types: func (params) (results).
      const n = s.u32();
      for (let i = 0; i < n; i++) {
        assert.equal(s.byte(), 0x60, 'a function type');
        for (let k = 0; k < 2; k++) {
          const m = s.u32();
          for (let j = 0; j < m; j++) if (s.byte() === V128) scan.v128Types++;
        }
      }
    } else if (id === 6) {
      // Globals: type, mutability, init expression up to its end.
      const n = s.u32();
      for (let i = 0; i < n; i++) {
        if (s.byte() === V128) scan.v128Types++;
        s.byte();
        let depth = 1;
        while (depth > 0) {
          const op = s.bytes[s.pos]!;
          instruction(s, scan);
          if (op === 0x0b) depth--;
        }
      }
    } else if (id === 10) {
      // Code: each body is locals then instructions, walked to its exact end.
      const n = s.u32();
      for (let i = 0; i < n; i++) {
        const bodySize = s.u32();
        const bodyEnd = s.pos + bodySize;
        const b = new Reader(bytes, bodyEnd);
        b.pos = s.pos;
        const groups = b.u32();
        for (let g = 0; g < groups; g++) {
          b.u32();
          if (b.byte() === V128) scan.v128Types++;
        }
        while (b.pos < bodyEnd) instruction(b, scan);
        assert.equal(b.pos, bodyEnd, `function ${i}: instructions end where the body does`);
        assert.equal(bytes[bodyEnd - 1], 0x0b, `function ${i}: the body ends with "end"`);
        s.pos = bodyEnd;
        scan.functions++;
      }
      assert.equal(s.pos, end, 'the code section is read to its end');
    }
    r.pos = end;
  }
  return scan;
}

test('the scalar build has no SIMD instruction and no v128 type; the SIMD build does use SIMD', (t) => {
  const simd = scanSimd(wasmBytes('simd'));
  const scalar = scanSimd(wasmBytes('scalar'));
  // The reader is trusted only if it walks the SIMD build, SIMD and all, to the end.
  assert.ok(simd.functions > 10, `functions read in the SIMD build: ${simd.functions}`);
  assert.ok(simd.simdOps > 0, 'the SIMD build has SIMD instructions');
  assert.ok(scalar.functions > 10, `functions read in the scalar build: ${scalar.functions}`);
  assert.equal(scalar.simdOps, 0, 'SIMD instructions in the scalar build');
  assert.equal(scalar.v128Types, 0, 'v128 types in the scalar build');
  assert.equal(WebAssembly.validate(wasmBytes('scalar')), true, 'the scalar build validates');
  t.diagnostic(`simd build: ${simd.functions} functions, ${simd.simdOps} SIMD instructions, ${simd.v128Types} v128 types; scalar build: ${scalar.functions} functions`);
});


/** Lines of every shape, with random bytes and quoting mixed in: what a SIMD/scalar difference would show in. */
function corpus(seed: number, lines: number): Buffer {
  const r = prng(seed);
  const int = (n: number) => Math.floor(r() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const text = (n: number) => {
    const alphabet = ['a', 'Z', '9', ' ', '\t', '=', '"', '\\', '[', ']', '{', '}', ',', ':', 'é', '✓', '\u0001', '\r', '.', '-'];
    let s = '';
    for (let i = 0; i < n; i++) s += pick(alphabet);
    return s;
  };
  const parts: Buffer[] = [];
  for (let i = 0; i < lines; i++) {
    const shape = int(8);
    let l: string;
    if (shape === 0) l = `2024-0${1 + int(9)}-1${int(10)}T0${int(10)}:${10 + int(50)}:${10 + int(50)}.${int(1000)}Z [${pick(['INFO', 'warn', 'Err', 'fatal', 'x'])}] ${text(int(60))} k=${text(int(10))}`;
    else if (shape === 1) l = `ts=${1714521600 + int(1e6)}.${int(1000)} level=${pick(['info', 'WARNING', 'crit', '30'])} msg="${text(int(40))}" ${text(int(20))}`;
    else if (shape === 2) l = JSON.stringify({ time: 1714521600123 + int(1e6), level: pick([10, 20, 30, 40, 50, 60, 'info', 35]), msg: text(int(50)), nested: { a: [text(5), int(100), null, true] } });
    else if (shape === 3) l = `{"msg":"${text(int(30))}`;
    else if (shape === 4) l = text(int(200));
    else if (shape === 5) l = '';
    else if (shape === 6) l = `${' '.repeat(int(70))}key${int(9)}=${'v'.repeat(int(90))} "quoted \\" value" x=`;
    else l = 'x'.repeat(int(600)); // past maxRecordBytes below
    const raw = Buffer.from(l);
    // Now and then a byte that is not UTF-8.
    if (r() < 0.1 && raw.length) raw[int(raw.length)] = pick([0xff, 0x80, 0xc3, 0xed]);
    parts.push(raw, Buffer.from(r() < 0.2 ? '\r\n' : '\n'));
  }
  return Buffer.concat(parts);
}

test('the scalar and SIMD builds give the same output on a random corpus', { timeout: 60_000 }, () => {
  for (let seed = 1; seed <= 6; seed++) {
    const bytes = corpus(seed, 1500);
    for (const format of ['auto', 'classic', 'logfmt', 'json'] as const) {
      for (const windowBytes of [undefined, 4096]) {
        const options = { format, maxRecordBytes: 512, levelRaw: seed % 2 === 0, tz: seed % 3 === 0 ? 'Europe/Berlin' : 'UTC', fileName: `seed-${seed}.log` };
        const label = `seed ${seed}, ${format}, window ${windowBytes ?? 'default'}`;
        const simd = parseBuffer(bytes, options, { flavor: 'simd', windowBytes });
        const scalar = parseBuffer(bytes, options, { flavor: 'scalar', windowBytes });
        assert.equal(simd.count, scalar.count, `${label}: record counts`);
        if (!simd.ndjson.equals(scalar.ndjson)) {
          const a = simd.ndjson.toString().split('\n');
          const b = scalar.ndjson.toString().split('\n');
          const i = a.findIndex((l, k) => l !== b[k]);
          assert.fail(`${label}: first difference at record ${i}:\n simd   ${a[i]}\n scalar ${b[i]}`);
        }
        if (format !== 'auto' && windowBytes === undefined) {
          // And both are right: the reference agrees.
          const reference = referenceParse(bytes, { file: options.fileName, format, maxRecordBytes: 512, levelRaw: options.levelRaw, tz: options.tz });
          assert.deepEqual(scalar.records(), reference, `${label}: scalar vs reference`);
        }
      }
    }
  }
});

test('the scalar and SIMD builds agree on countLines, crc32c and detect, and are right', () => {
  const r = prng(99);
  const cores = FLAVORS.map((f) => new WasmCore({ inputBytes: 1 << 16, maxRecordBytes: 1024 }, f));
  for (let i = 0; i < 300; i++) {
    const len = Math.floor(r() * (i < 100 ? 80 : 20000));
    const bytes = new Uint8Array(len);
    for (let k = 0; k < len; k++) bytes[k] = r() < 0.05 ? 10 : Math.floor(r() * 256);
    // Unaligned starts: the SIMD loops' heads and tails.
    const at = Math.floor(r() * 32);
    let lf = 0;
    for (const b of bytes) if (b === 10) lf++;
    for (const core of cores) {
      core.bytes.set(bytes, core.inputPtr + at);
      assert.equal(core.exports.countLines(core.inputPtr + at, len), lf, `${core.flavor}: countLines of ${len} bytes at +${at}`);
      assert.equal(core.exports.crc32c(core.inputPtr + at, len, 0) >>> 0, crc32c(bytes), `${core.flavor}: crc32c of ${len} bytes at +${at}`);
    }
  }
  for (let seed = 1; seed <= 10; seed++) {
    const sample = corpus(seed * 7, 30);
    const detected = cores.map((core) => core.detect(sample, true));
    assert.equal(detected[0], detected[1], `detect, seed ${seed}`);
  }
});

test('an AssemblyScript abort in the core becomes LOGWIRE_ERR_WASM_ABORT with its message decoded', () => {
  // An input region of 1 GiB is more than the core's allocator hands out: it aborts
  // with "Allocation too large" (AssemblyScript's stub runtime).
  for (const flavor of FLAVORS) {
    assert.throws(() => new WasmCore({ inputBytes: 1 << 30, maxRecordBytes: 64 }, flavor), (err: unknown) => {
      assert.ok(err instanceof LogwireError, `${flavor}: a LogwireError, got ${String(err)}`);
      assert.equal(err.code, 'LOGWIRE_ERR_WASM_ABORT');
      assert.match(err.message, /^WASM core aborted: Allocation too large at ~lib\/rt\/stub\.ts:\d+:\d+$/);
      return true;
    });
  }
  // The same through the library on the calling thread.
  assert.throws(() => parseBuffer('x\n', {}, { windowBytes: 1 << 30 }), { code: 'LOGWIRE_ERR_WASM_ABORT', message: /Allocation too large/ });
  // The core still works afterwards.
  assert.equal(parseBuffer('x\n', { format: 'classic' }).count, 1);
});

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'logwire-wasm-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

test('an abort in a pool worker\'s core is LOGWIRE_ERR_WASM_ABORT too', { timeout: 30_000 }, async () => {
  const path = join(dir, 'a.log');
  writeFileSync(path, 'a\nb\n');
  await assert.rejects(
    (async () => {
      for await (const batch of parseFile(path, { workers: 1 }, { windowBytes: 1 << 30 })) assert.ok(batch);
    })(),
    (err: unknown) => {
      assert.ok(err instanceof LogwireError, `a LogwireError, got ${String(err)}`);
      assert.match(err.message, /Allocation too large/);
      assert.equal(err.code, 'LOGWIRE_ERR_WASM_ABORT', `code of "${err.message}"`);
      return true;
    },
  );
});
