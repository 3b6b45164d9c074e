// Runs one measurement in a fresh node process, so that peak RSS is this scenario's own:
//   node bench/child.js '{"module":"scenarios/core.js","params":{...}}'
// The module's optional setup(params) runs untimed (imports, wasm compile); run(params, ctx)
// is timed wall-clock. The result goes to fd 3 as JSON, leaving stdout/stderr to the scenario.

import { writeSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const spec = JSON.parse(process.argv[2]);
let result;
try {
  const scenario = await import(new URL(spec.module, import.meta.url));
  const ctx = scenario.setup ? await scenario.setup(spec.params) : undefined;
  const t0 = performance.now();
  const r = await scenario.run(spec.params, ctx);
  const seconds = (performance.now() - t0) / 1000;
  // r may override seconds (a self-timed kernel) or maxRSSKiB (work done in a grandchild).
  result = { seconds, maxRSSKiB: process.resourceUsage().maxRSS, ...r };
} catch (err) {
  const message = String(err?.message ?? err).split('\n')[0];
  result = { error: err?.code && !message.includes(err.code) ? `${err.code}: ${message}` : message, stack: String(err?.stack ?? err) };
}
writeSync(3, JSON.stringify(result));
// Exit explicitly: a worker pool or open handle left behind must not keep the child alive.
process.exit(result.error ? 1 : 0);
