// Baseline: what a Node user writes today to parse the classic format: readline over a
// read stream, one RegExp for the line shape, a global RegExp for key=value pairs, an
// object per line. No output. It does less than logwire (no CRC, no timestamp
// normalisation, no byte offsets), which makes the ratios against it conservative.

import fs from 'node:fs';
import readline from 'node:readline';
import { once } from 'node:events';

const LINE = /^(\S+ \S+) \[(\w+)\] (.*)$/;
const PAIR = /([\w.@/-]+)=("(?:[^"\\]|\\.)*"|\S*)/g;
const ESCAPE = /\\(.)/g;

export function parseClassicLine(line) {
  const m = LINE.exec(line);
  const rec = m
    ? { ts: m[1], level: m[2].toLowerCase(), msg: m[3], fields: {} }
    : { ts: null, level: null, msg: line, fields: {} };
  for (const [, key, raw] of rec.msg.matchAll(PAIR)) {
    rec.fields[key] = raw.startsWith('"') ? raw.slice(1, -1).replace(ESCAPE, '$1') : raw;
  }
  return rec;
}

export async function run({ file }) {
  const rl = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
  let lines = 0;
  let records = 0;
  let levels = 0;
  rl.on('line', (line) => {
    lines++;
    if (line.length === 0) return;
    const rec = parseClassicLine(line);
    records++;
    // use the object, so that the parse cannot be optimised away
    if (rec.level !== null) levels++;
  });
  await once(rl, 'close');
  return { records, lines, parsedLevels: levels };
}
