// Loaded with `node --import` into the logwire CLI by scenarios/cli.js: reports the CLI
// process's peak RSS on fd 3 when it exits (the CLI is a grandchild of the runner).

import { writeSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

if (isMainThread) {
  process.on('exit', () => {
    try {
      writeSync(3, JSON.stringify({ maxRSSKiB: process.resourceUsage().maxRSS }));
    } catch {
      // fd 3 is not ours when run by hand: nothing to report to
    }
  });
}
