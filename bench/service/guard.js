// Loaded with `node --import` into the service under test: when the benchmark runner's
// pipe on stdin closes (the runner died without cleaning up), the service exits too.

import { isMainThread } from 'node:worker_threads';

if (isMainThread) {
  process.stdin.on('end', () => process.exit(70));
  process.stdin.on('error', () => process.exit(70));
  process.stdin.resume();
  // Reading stdin must not keep the service alive once it has closed after SIGTERM.
  process.stdin.unref();
}
