// The printed report of bench/service.js: one table per section (printed as each one
// finishes), then the goals with PASS/FAIL and a block ready to paste into BENCHMARKS.md.

import { table } from '../report.js';

const MB = 1e6;

const fixed = (n, digits) => n.toFixed(digits);

export function fmtCount(n) {
  if (n == null) return '-';
  return n >= 1e6 ? `${fixed(n / 1e6, 2)} M` : n >= 1e3 ? `${fixed(n / 1e3, 1)} k` : fixed(n, 0);
}

function fmtRate(n) {
  if (n == null) return '-';
  return n >= 100 ? fixed(n, 0) : n >= 10 ? fixed(n, 1) : fixed(n, 2);
}

function fmtRatio(n) {
  return n == null ? '-' : `${fixed(n, n >= 10 ? 1 : n >= 0.1 ? 2 : 3)}x`;
}

function fmtMs(n) {
  if (n == null) return '-';
  return n >= 100 ? fixed(n, 0) : n >= 10 ? fixed(n, 1) : fixed(n, 2);
}

const fmtMB = (bytes) => (bytes == null ? '-' : fixed(bytes / MB, 0));
const fmtPct = (n) => (n == null ? '-' : `${fixed(n, 0)}%`);
const fmtSecs = (n) => (n == null ? '-' : fixed(n, n >= 100 ? 0 : 2));
const quad = (l) => (l ? [l.p50, l.p99, l.p999, l.max].map(fmtMs).join(' / ') : '-');


/** Section 1: parse baseline, 1 subscriber, N subscribers (aggregate and per subscriber). */
export function replayText(sec) {
  const header = ['run', 'subs', 'records', 'seconds', 'records/s', 'MB/s', 'x parse', 'per sub rec/s min / median / max', 'peak RSS MB', 'service CPU', 'client CPU', 'others CPU', '!'];
  const numeric = [false, true, true, true, true, true, true, true, true, true, true, true, false];
  const parse = sec.rows.find((r) => r.kind === 'parse' && r.ok);
  const lines = sec.rows.map((r) => {
    if (!r.ok) return [r.label, String(r.subscribers ?? '-'), 'FAILED', '-', '-', '-', '-', '-', '-', '-', '-', '-', '!'];
    const per = r.perSub ? [r.perSub.min, r.perSub.median, r.perSub.max].map(fmtCount).join(' / ') : '-';
    return [
      r.label, r.kind === 'parse' ? '-' : String(r.subscribers), fmtCount(r.records), fmtSecs(r.seconds), fmtCount(r.recordsPerSec),
      fmtRate(r.mbPerSec), fmtRatio(parse ? r.recordsPerSec / parse.recordsPerSec : null), per, fmtMB(r.peakRss),
      fmtPct(r.serviceCpuPct), fmtPct(r.clientCpuPct), fmtPct(r.othersCpuPct), r.problems.length ? '!' : '',
    ];
  });
  const out = [`1. Replay throughput: ${sec.dataText}; subscribers from "start" until "caught_up"`, table(header, lines, numeric)];
  out.push('records/s: records delivered (summed over the subscribers) / seconds from the first subscribe to the last');
  out.push('"caught_up"; parse: the file\'s records / the whole `logwire parse` process. MB/s: file bytes read for the');
  out.push('subscribers / seconds. Peak RSS: the service\'s VmHWM (parse: its own maxRSS). CPU: % of one core over the run;');
  out.push('others: every other process on the machine (not the benchmark\'s): noise when it is not ~0.');
  return out.join('\n');
}

/** Section 2: per writer rate. */
export function followText(sec) {
  const header = ['rate lines/s', 'written', 'achieved/s', 'delivered', 'frames', 'service e2e ms p50 / p99 / p99.9 / max', 'writer->client, per frame', 'writer->client, per line', 'service CPU', 'others CPU', 'peak RSS MB', '!'];
  const numeric = [true, true, true, true, true, true, true, true, true, true, true, false];
  const lines = sec.rows.map((r) => {
    if (!r.ok && !r.written) return [fmtCount(r.rate), 'FAILED', '-', '-', '-', '-', '-', '-', '-', '-', '-', '!'];
    return [
      fmtCount(r.rate), fmtCount(r.written), fmtCount(r.achieved), fmtCount(r.delivered), fmtCount(r.e2e?.count), quad(r.e2e),
      quad(r.clientFrames), quad(r.client), fmtPct(r.serviceCpuPct), fmtPct(r.othersCpuPct), fmtMB(r.peakRss), r.problems.length ? '!' : '',
    ];
  });
  const out = [`2. Follow latency: one live subscriber (from "end"), a writer appending ~100-byte lines every ~1 ms for ${sec.seconds} s per rate,`, '   a fresh service per rate', table(header, lines, numeric)];
  out.push('frames: records frames the service sent. service e2e: GET /stats latency.e2e (a line seen by the service -> its');
  out.push('frame handed to the socket; one value a frame). writer->client (ms, p50 / p99 / p99.9 / max): the writer\'s clock');
  out.push('before its append -> the client\'s on receiving the frame (CLOCK_MONOTONIC); per frame: its oldest line, one value');
  out.push('a frame like the service\'s; per line: every line, so a late frame of many lines weighs as many.');
  return out.join('\n');
}

/** Section 3: memory with a subscriber that never reads. */
export function memoryText(sec) {
  const r = sec.row;
  const header = ['subscribers', 'readers caught up after s', 'records per reader', 'peak RSS MB', 'max sampled RSS MB', 'samples', 'stalled: queue MB / lag MB at end', 'service CPU', 'others CPU', '!'];
  const numeric = [false, true, true, true, true, true, true, true, true, false];
  const stalled = r.stalled ? `${fmtMB(r.stalled.queueBytes)} / ${fmtMB(r.stalled.lagBytes)}` : '-';
  const line = r.ok || r.peakRss
    ? [`${r.readers} reading + 1 never reading`, fmtSecs(r.seconds), fmtCount(r.recordsPerReader), fmtMB(r.peakRss), fmtMB(r.maxSampledRss), String(r.samples ?? '-'), stalled, fmtPct(r.serviceCpuPct), fmtPct(r.othersCpuPct), r.problems.length ? '!' : '']
    : [`${r.readers} reading + 1 never reading`, 'FAILED', '-', '-', '-', '-', '-', '-', '-', '!'];
  const out = [`3. Memory: ${sec.dataText} replayed from "start" by ${r.readers + 1} subscribers at once, one of which never reads`, table(header, [line], numeric)];
  out.push(`Peak RSS: the service's VmHWM when the readers were caught up; VmRSS sampled every ${sec.sampleMs} ms beside it. The service ran`);
  out.push(`with ${sec.pingNote}. The stalled subscriber's queue and lag: GET /stats at the end.`);
  return out.join('\n');
}

/** Goals and checks: [text, measured | undefined, op, target, unit, why-not-measured]. */
export function goalsText(goals) {
  const out = [];
  const show = (g) => (g.unit === 'x' ? fmtRatio(g.measured) : g.unit === 'records/s' ? `${fmtCount(g.measured)} records/s` : `${fixed(g.measured, g.unit === 'MB' ? 0 : 2)} ${g.unit}`);
  for (const g of goals) {
    const status = g.measured == null ? 'n/a' : g.pass ? 'PASS' : 'FAIL';
    const tail = g.measured == null ? g.note : `${show(g)}${g.note ? ` (${g.note})` : ''}`;
    out.push(`  ${status.padEnd(4)}  ${g.text}: ${tail}`);
  }
  return out.join('\n');
}

export function checksText(checks) {
  return checks.map((c) => `  ${(c.ok ? 'OK' : 'WRONG').padEnd(5)} ${c.text}${c.detail ? `: ${c.detail}` : ''}`).join('\n');
}
