// Baseline for the NDJSON rows: the readline + RegExp parser of readline-regex.js, plus
// JSON.stringify of each record written to /dev/null through a write stream (with
// backpressure, as a careful user writes it).

import fs from 'node:fs';
import readline from 'node:readline';
import { once } from 'node:events';
import { parseClassicLine } from './readline-regex.js';

/**
 * readline over `file`; rowOf(line, lineNumber) gives the text to write to /dev/null, or
 * null for none. Resolves to the number of lines.
 */
export async function linesToDevNull(file, rowOf) {
  const out = fs.createWriteStream('/dev/null');
  const rl = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
  let lines = 0;
  let waiting = false;
  const resume = () => {
    waiting = false;
    rl.resume();
  };
  rl.on('line', (line) => {
    lines++;
    const row = rowOf(line, lines);
    // pause() stops the input, but the lines of the chunk already read still arrive
    if (row !== null && !out.write(row) && !waiting) {
      waiting = true;
      rl.pause();
      out.once('drain', resume);
    }
  });
  await once(rl, 'close');
  out.end();
  await once(out, 'finish');
  return lines;
}

export async function run({ file }) {
  let records = 0;
  const lines = await linesToDevNull(file, (line, n) => {
    if (line.length === 0) return null;
    const { ts, level, msg, fields } = parseClassicLine(line);
    records++;
    return JSON.stringify({ file, line: n, ts, level, msg, fields }) + '\n';
  });
  return { records, lines };
}
