#!/usr/bin/env node
// The install step: compiles the AssemblyScript core (SIMD and scalar builds),
// the optional native mapping addon and the TypeScript host into build/.
// Nothing it writes is committed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const only = process.argv[2]; // 'wasm' | 'native' | 'ts' | undefined (all)

function run(label, cmd, args, { optional = false } = {}) {
  process.stderr.write(`logwire build: ${label}\n`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    if (optional) {
      process.stderr.write(`logwire build: ${label} failed; continuing without it\n`);
      return false;
    }
    process.stderr.write(`logwire build: ${label} failed\n`);
    process.exit(r.status ?? 1);
  }
  return true;
}

function wasm() {
  mkdirSync(join(root, 'build/wasm'), { recursive: true });
  const asc = join(dirname(require.resolve('assemblyscript/package.json')), 'bin/asc.js');
  const common = ['assembly/index.ts', '--runtime', 'stub', '-O3', '--noAssert', '--converge'];
  run('wasm core (SIMD)', process.execPath, [asc, ...common, '--enable', 'simd', '-o', 'build/wasm/logwire.simd.wasm']);
  run('wasm core (scalar)', process.execPath, [asc, ...common, '--disable', 'simd', '-o', 'build/wasm/logwire.scalar.wasm']);
}

function native() {
  if (process.env.LOGWIRE_NO_NATIVE === '1') {
    process.stderr.write('logwire build: LOGWIRE_NO_NATIVE=1, skipping the native addon (pread only)\n');
    return;
  }
  if (!existsSync(join(root, 'native/binding.gyp'))) return;
  // npm tells lifecycle scripts where its node-gyp is; otherwise look for npm's copy.
  let gyp = process.env.npm_config_node_gyp;
  if (!gyp || !existsSync(gyp)) {
    const npmRoot = spawnSync('npm', ['root', '-g'], { encoding: 'utf8' }).stdout?.trim();
    const guess = npmRoot && join(npmRoot, 'npm/node_modules/node-gyp/bin/node-gyp.js');
    gyp = guess && existsSync(guess) ? guess : undefined;
  }
  if (!gyp) {
    process.stderr.write('logwire build: node-gyp not found; the native addon is skipped (pread only)\n');
    return;
  }
  // node-gyp would download Node's headers; use the ones that come with this Node when present.
  const args = [gyp, 'rebuild', '--directory', 'native'];
  const nodedir = process.env.npm_config_nodedir || dirname(dirname(process.execPath));
  if (existsSync(join(nodedir, 'include/node/node_api.h'))) args.push(`--nodedir=${nodedir}`);
  run('native mapping addon', process.execPath, args, { optional: true });
}

function typescript() {
  const tsc = join(dirname(require.resolve('typescript/package.json')), 'bin/tsc');
  run('TypeScript', process.execPath, [tsc, '-p', 'tsconfig.json']);
}

if (!only || only === 'wasm') wasm();
if (!only || only === 'native') native();
if (!only || only === 'ts') typescript();
