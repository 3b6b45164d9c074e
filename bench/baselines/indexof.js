// Baseline: line splitting in plain Node, 1 MiB fs.readSync chunks and buf.indexOf(10).

import fs from 'node:fs';

const CHUNK = 1 << 20;

export function run({ file }) {
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.allocUnsafe(CHUNK);
  let bytes = 0;
  let lines = 0;
  try {
    let n;
    while ((n = fs.readSync(fd, buf, 0, CHUNK, null)) > 0) {
      const view = n === CHUNK ? buf : buf.subarray(0, n);
      bytes += n;
      for (let p = view.indexOf(10); p !== -1; p = view.indexOf(10, p + 1)) lines++;
    }
  } finally {
    fs.closeSync(fd);
  }
  return { bytes, lines };
}
