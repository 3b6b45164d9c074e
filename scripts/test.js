#!/usr/bin/env node
// `npm test`: runs every compiled test file (build/js/test/*.test.js) with
// node:test, one file at a time (the crash and mmap tests want the machine).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(root, 'build/js/test');
const only = process.argv.slice(2);
let files;
try {
  files = readdirSync(dir).filter((f) => f.endsWith('.test.js')).sort();
} catch {
  process.stderr.write('no compiled tests in build/js/test: run "npm install" first\n');
  process.exit(1);
}
if (only.length) files = files.filter((f) => only.some((o) => f.includes(o)));
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...files.map((f) => join(dir, f))], { stdio: 'inherit', cwd: root });
process.exit(r.status ?? 1);
