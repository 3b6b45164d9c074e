// The worker of the floor's "LF count (wasm, in a new worker)" row: a pool worker's
// imports and core, logwire's SIMD LF count over the file, the result posted back.

import { parentPort, workerData } from 'node:worker_threads';
import { COUNT_LINES_URL } from '../hooks.js';

const { countLines } = await import(COUNT_LINES_URL);
parentPort.postMessage(countLines(workerData.file, workerData.io));
