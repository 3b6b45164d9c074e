// The follow-latency writer, forked by bench/service.js: appends classic lines to a file
// at a steady rate (small appends on a ~1 ms timer, the lines due by then), each line
// carrying its number and its write time, so that the client can check and time them.
//   message in:  { file, rate, seconds }
//   message out: { ev: 'done', lines, bytes, writes, seconds, rate, maxLateMs, cpuMs } or { ev: 'error', message }

import fs from 'node:fs';
import { monotonicMicros } from './wire.js';

process.on('disconnect', () => process.exit(0));

const USERS = Array.from({ length: 64 }, (_, i) => `u${10007 + i * 7919}`);

// ~100 bytes, like the replay data: `seq` and `wt` come first among the fields.
function line(seq, wt, now) {
  return `${now} [INFO] follow bench seq=${seq} wt=${wt} user=${USERS[seq & 63]} path=/api/v1/orders/${seq % 99991} status=200\n`;
}

function classicNow() {
  const iso = new Date().toISOString(); // 2024-05-01T12:00:00.123Z
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
}

function run({ file, rate, seconds }) {
  const fd = fs.openSync(file, 'a');
  const total = Math.round(rate * seconds);
  const cpu0 = process.cpuUsage();
  const t0 = monotonicMicros();
  let seq = 0;
  let bytes = 0;
  let writes = 0;
  let maxLateMs = 0;
  const tick = () => {
    const now = monotonicMicros();
    const due = Math.min(total, Math.floor(((now - t0) / 1e6) * rate));
    if (due > seq) {
      // How far behind its schedule the oldest line of this append is.
      maxLateMs = Math.max(maxLateMs, (now - t0) / 1000 - ((seq + 1) / rate) * 1000);
      const stamp = classicNow();
      let text = '';
      for (; seq < due; ) text += line(++seq, now, stamp);
      const buf = Buffer.from(text);
      for (let off = 0; off < buf.length; ) off += fs.writeSync(fd, buf, off);
      bytes += buf.length;
      writes++;
    }
    if (seq < total) {
      setTimeout(tick, 1);
      return;
    }
    fs.closeSync(fd);
    const secs = (monotonicMicros() - t0) / 1e6;
    const cpu = process.cpuUsage(cpu0);
    process.send({ ev: 'done', lines: seq, bytes, writes, seconds: secs, rate: seq / secs, maxLateMs, cpuMs: (cpu.user + cpu.system) / 1000 });
  };
  tick();
}

process.once('message', (spec) => {
  try {
    run(spec);
  } catch (err) {
    process.send({ ev: 'error', message: String(err?.message ?? err) });
  }
});
