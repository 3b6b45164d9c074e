// `logwire demo` (what `npm start` runs): writes a realistic classic-format
// log to a temporary file, parses it with every core and prints a few
// records and the stats, so a new user sees the whole path work.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFile } from '../index.js';
import { createError, ErrorCodes } from '../errors.js';

const LEVELS = ['INFO', 'INFO', 'INFO', 'INFO', 'DEBUG', 'DEBUG', 'WARN', 'ERROR'];
const MESSAGES = [
  (i: number) => `request completed method=GET path=/api/v1/orders/${i % 9973} status=200 duration_ms=${i % 211}`,
  (i: number) => `payment ok transaction_id=${i * 7919} user=u${i % 1013} amount=${(i % 500) + 0.99}`,
  (i: number) => `cache miss key=session:${(i * 2654435761 >>> 0).toString(16)} msg="refilled from db" ttl=300`,
  (i: number) => `retrying upstream=billing attempt=${(i % 3) + 1} error="connection reset by peer"`,
];

/** A demo log of `lines` lines, deterministic, ~100 bytes a line. */
export function demoLog(lines: number): string {
  const out: string[] = [];
  let t = Date.UTC(2024, 4, 1, 12, 0, 0);
  for (let i = 0; i < lines; i++) {
    t += 3 + (i % 5);
    const ts = new Date(t).toISOString().replace('T', ' ').replace('Z', '');
    out.push(`${ts} [${LEVELS[i % LEVELS.length]}] ${MESSAGES[i % MESSAGES.length](i)}`);
  }
  return out.join('\n') + '\n';
}

export async function runDemo(args: string[]): Promise<void> {
  if (args.length) throw createError(ErrorCodes.USAGE, 'demo takes no arguments; see logwire --help');
  const dir = mkdtempSync(join(tmpdir(), 'logwire-demo-'));
  const path = join(dir, 'demo.log');
  try {
    const lines = 500_000;
    writeFileSync(path, demoLog(lines));
    process.stdout.write(`logwire demo: wrote ${lines} lines to ${path}\n\nThe first records:\n`);
    const run = parseFile(path);
    let shown = 0;
    let records = 0;
    const t0 = performance.now();
    for await (const batch of run) {
      records += batch.count;
      for (const r of batch) {
        if (shown++ >= 3) break;
        process.stdout.write(JSON.stringify(r) + '\n');
      }
    }
    const secs = (performance.now() - t0) / 1000;
    process.stdout.write(
      `\nParsed ${records} records (${(run.stats.bytes / 1e6).toFixed(1)} MB, format ${run.stats.format}) ` +
      `in ${secs.toFixed(2)} s with ${run.stats.workers} workers (io: ${run.stats.io}): ` +
      `${(run.stats.bytes / secs / 1e6).toFixed(0)} MB/s, including worker start-up.\n` +
      `Next: node bin/logwire.js parse YOUR.log --stats > /dev/null   (or --help)\n`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
