// Where the benchmarks meet logwire: the bench hooks module (compiled by `npm install`)
// and the CLI. Scenario files load logwire only through here.

import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../', import.meta.url));
export const HOOKS_URL = new URL('../build/js/src/internal/bench-hooks.js', import.meta.url);
export const HOOKS_PATH = fileURLToPath(HOOKS_URL);
/** countLines alone, with a pool worker's imports (the floor's worker row loads it in a worker). */
export const COUNT_LINES_URL = new URL('../build/js/src/internal/count-lines.js', import.meta.url);
export const CLI_PATH = fileURLToPath(new URL('../bin/logwire.js', import.meta.url));

/** Imports the bench hooks; throws one clear line when they are not built or incomplete. */
export async function loadHooks() {
  if (!fs.existsSync(HOOKS_PATH)) {
    throw new Error(`${HOOKS_PATH} not found: run \`npm install\` (it builds the TypeScript and the wasm)`);
  }
  let hooks;
  try {
    hooks = await import(HOOKS_URL);
  } catch (err) {
    throw new Error(`importing ${HOOKS_PATH} failed: ${err?.message ?? err}`);
  }
  const missing = ['runCore', 'crc32cThroughput'].filter((name) => typeof hooks[name] !== 'function');
  if (missing.length > 0) throw new Error(`${HOOKS_PATH} does not export ${missing.join(' and ')} as a function`);
  return hooks;
}

// The runner's availability probe, run in a child like every scenario.
export async function run() {
  await loadHooks();
  return {};
}
