// Baseline for the pattern rows: what a Node user writes today for the HDFS or Zookeeper
// layout: readline over a read stream, one RegExp with capture groups, the timestamp parsed
// to epoch ms, an object per line with the same fields as logwire's pattern gives. With
// output "ndjson", JSON.stringify of each record (ts as ISO text, as logwire writes it) to
// /dev/null through a write stream with backpressure. logwire also computes a CRC32C and
// byte offsets per record, which this does not: the ratios against it are conservative.
// test/bench.test.ts checks that both give the same ts and fields on generated lines.

import fs from 'node:fs';
import readline from 'node:readline';
import { once } from 'node:events';
import { linesToDevNull } from './readline-json.js';

/**
 * Per layout: the logwire pattern (the one test/pattern.test.ts checks against every CSV
 * cell of the loghub sample, with Date and Time read as the record's timestamp) and the
 * same layout as one RegExp, parsed the way a script would.
 */
export const LAYOUTS = {
  hdfs: {
    pattern: '%{@ts:%y%m%d %H%M%S} %{Pid} %{Level} %{Component}: %{Content}',
    // 081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block …
    regex: /^(\d{6}) (\d{6}) (\d+) (\w+) ([^:]+): (.*)$/,
    record(m) {
      const d = m[1];
      const t = m[2];
      const ts = Date.UTC(2000 + Number(d.slice(0, 2)), Number(d.slice(2, 4)) - 1, Number(d.slice(4, 6)),
        Number(t.slice(0, 2)), Number(t.slice(2, 4)), Number(t.slice(4, 6)));
      return { ts, fields: { Pid: m[3], Level: m[4], Component: m[5], Content: m[6] } };
    },
  },
  zookeeper: {
    pattern: '%{@ts:%Y-%m-%d %H:%M:%S,%f} - %{Level} [%{Node}:%{Component}@%{Id}] - %{Content}',
    // 2015-07-29 17:41:44,747 - INFO  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:FastLeaderElection@774] - Notification …
    regex: /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d),(\d{3}) - (\w+)\s+\[([^:]*):([^@]*)@(\d+)\] - (.*)$/,
    record(m) {
      const ts = Date.parse(`${m[1]}T${m[2]}.${m[3]}Z`);
      return { ts, fields: { Level: m[4], Node: m[5], Component: m[6], Id: m[7], Content: m[8] } };
    },
  },
};

/** One line of `layout` as a record: { ts (epoch ms), fields } or { ts: null, error, msg }. */
export function parseLine(layout, line) {
  const m = layout.regex.exec(line);
  return m === null ? { ts: null, fields: {}, error: 'no match', msg: line } : layout.record(m);
}

export async function run({ file, layout: name, output }) {
  const layout = LAYOUTS[name];
  if (!layout) throw new Error(`layout must be one of ${Object.keys(LAYOUTS).join(', ')}, got ${JSON.stringify(name)}`);
  let records = 0;
  let unmatched = 0;
  const parse = (line) => {
    const rec = parseLine(layout, line);
    records++;
    // use the record, so that the parse cannot be optimised away
    if (rec.ts === null) unmatched++;
    return rec;
  };
  let lines = 0;
  if (output === 'ndjson') {
    lines = await linesToDevNull(file, (line, n) => {
      if (line.length === 0) return null;
      const rec = parse(line);
      const ts = rec.ts === null ? null : new Date(rec.ts).toISOString();
      return JSON.stringify({ file, line: n, ts, error: rec.error, msg: rec.msg, fields: rec.fields }) + '\n';
    });
  } else {
    const rl = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
    rl.on('line', (line) => {
      lines++;
      if (line.length > 0) parse(line);
    });
    await once(rl, 'close');
  }
  if (unmatched > 0) throw new Error(`${unmatched} of ${records} lines did not match the ${name} RegExp`);
  return { records, lines };
}
