#!/usr/bin/env node
// The logwire command: runs the compiled CLI (npm install builds it into build/).
import { existsSync } from 'node:fs';

const entry = new URL('../build/js/src/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('logwire: not built yet; run "npm install" (or "npm run build") in the logwire folder\n');
  process.exit(1);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
