// Baseline for the NDJSON rows: the readline + RegExp parser of readline-regex.js, plus
// JSON.stringify of each record written to /dev/null through a write stream (with
// backpressure, as a careful user writes it).

import fs from 'node:fs';
import readline from 'node:readline';
import { once } from 'node:events';
import { parseClassicLine } from './readline-regex.js';

export async function run({ file }) {
  const out = fs.createWriteStream('/dev/null');
  const rl = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
  let lines = 0;
  let records = 0;
  let waiting = false;
  const resume = () => {
    waiting = false;
    rl.resume();
  };
  rl.on('line', (line) => {
    lines++;
    if (line.length === 0) return;
    const { ts, level, msg, fields } = parseClassicLine(line);
    records++;
    const row = JSON.stringify({ file, line: lines, ts, level, msg, fields }) + '\n';
    // pause() stops the input, but the lines of the chunk already read still arrive
    if (!out.write(row) && !waiting) {
      waiting = true;
      rl.pause();
      out.once('drain', resume);
    }
  });
  await once(rl, 'close');
  out.end();
  await once(out, 'finish');
  return { records, lines };
}
