// Latency histograms of the service (src/service/latency.ts) and `logwire
// report` (src/cli/report.ts): percentiles against known values, interval
// rotation on an injected clock, the .hlog round trip, the plot's axes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build, HistogramLogReader, JsHistogram, type Histogram } from 'hdr-histogram-js';
import { LatencyRecorder, percentilePlotHtml, readHlog, writeHlog } from '../src/service/latency.js';
import { runReport } from '../src/cli/report.js';
import { ErrorCodes, LogwireError } from '../src/errors.js';

const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);

/** A clock the test moves by hand. */
function fakeClock(start = T0): { now: () => number; set: (ms: number) => void } {
  let t = start;
  return { now: () => t, set: (ms) => { t = ms; } };
}

/** HdrHistogram with 3 significant digits: a value is reported within 0.1% above or below. */
function near(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= expected * 0.001 + 0.001, `${what}: ${actual} is not within 0.1% of ${expected}`);
}

function totalCounts(recorder: LatencyRecorder): number {
  return recorder.intervals().reduce((n, i) => n + i.histogram.totalCount, 0);
}

/** Two recorders over several intervals, as the service keeps them. */
function serviceRecorders(): { e2e: LatencyRecorder; parse: LatencyRecorder; clock: ReturnType<typeof fakeClock> } {
  const clock = fakeClock();
  const e2e = new LatencyRecorder({ now: clock.now });
  const parse = new LatencyRecorder({ now: clock.now });
  for (let i = 0; i < 5000; i++) {
    clock.set(T0 + i); // five 1 s intervals
    e2e.record(1 + (i % 97) * 0.5 + (i % 1000 === 999 ? 250 : 0));
    parse.record(0.05 + (i % 13) * 0.01);
  }
  clock.set(T0 + 5100); // the sixth interval is still open at 5200
  e2e.record(3);
  parse.record(0.1);
  clock.set(T0 + 5200);
  return { e2e, parse, clock };
}

async function expectLogwireError(p: Promise<unknown> | (() => unknown), codes: string[], what: string): Promise<LogwireError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    assert.ok(err instanceof LogwireError, `${what}: threw ${String(err)}, not a LogwireError`);
    assert.ok(codes.includes(err.code), `${what}: code ${err.code}, wanted ${codes.join(' or ')}`);
    assert.ok(!err.message.includes('\n'), `${what}: the message is one line: ${err.message}`);
    return err;
  }
  assert.fail(`${what}: did not throw`);
}

const execFileAsync = promisify(execFile);
const REPORT_JS = new URL('../src/cli/report.js', import.meta.url).href;

/** `runReport(args)` in a child process: what it prints on stdout (node:test reports on this one's). */
async function reportStdout(args: string[]): Promise<string> {
  const script = `import { runReport } from ${JSON.stringify(REPORT_JS)}; await runReport(JSON.parse(process.argv[1]));`;
  const { stdout } = await execFileAsync(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(args)], { timeout: 30_000 });
  return stdout;
}

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'logwire-latency-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

test('percentiles of 1..1000 ms are the known values, in ms', () => {
  const r = new LatencyRecorder();
  for (let ms = 1; ms <= 1000; ms++) r.record(ms);
  const s = r.summary();
  assert.equal(s.count, 1000);
  near(s.p50, 500, 'p50');
  near(s.p90, 900, 'p90');
  near(s.p99, 990, 'p99');
  near(s.p999, 999, 'p99.9');
  near(s.max, 1000, 'max');
  const text = r.distribution();
  assert.match(text, /Value\s+Percentile\s+TotalCount\s+1\/\(1-Percentile\)/);
  const max = /#\[Max\s+=\s+([\d.]+), Total count\s+=\s+(\d+)\]/.exec(text);
  assert.ok(max, 'the distribution ends with the Max / Total count line');
  near(Number(max[1]), 1000, 'distribution max (ms)');
  assert.equal(Number(max[2]), 1000);
});

test('values are whole microseconds clamped to [1 µs, 1 hour]; NaN is ignored', () => {
  const r = new LatencyRecorder();
  assert.deepEqual(r.summary(), { count: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 });
  r.record(0);
  r.record(-5);
  r.record(0.0004);
  assert.equal(r.summary().max, 0.001);
  r.record(NaN);
  assert.equal(r.summary().count, 3);
  r.record(Infinity);
  r.record(10 * 3_600_000);
  assert.equal(r.summary().count, 5);
  near(r.summary().max, 3_600_000, 'max clamped to one hour');
  const clock = fakeClock();
  const small = new LatencyRecorder({ now: clock.now });
  small.record(0.0126); // 12.6 µs rounds to 13 µs, exact below 2048 µs
  assert.equal(small.intervals()[0]!.histogram.maxValue, 13);
  assert.equal(small.summary().max, 0.013);
});

test('options are checked, naming the option', async () => {
  for (const [options, name] of [
    [{ intervalMs: 0 }, 'intervalMs'],
    [{ intervalMs: 1.5 }, 'intervalMs'],
    [{ keepIntervals: 0 }, 'keepIntervals'],
    [{ keepIntervals: '10' }, 'keepIntervals'],
    [{ now: 5 }, 'now'],
  ] as [Record<string, unknown>, string][]) {
    const err = await expectLogwireError(() => new LatencyRecorder(options as never), [ErrorCodes.INVALID_OPTION], name);
    assert.match(err.message, new RegExp(`"${name}"`));
  }
});

test('intervals rotate on the clock; empty ones are not kept; keepIntervals bounds them', () => {
  const clock = fakeClock();
  const r = new LatencyRecorder({ intervalMs: 1000, keepIntervals: 3, now: clock.now });
  assert.deepEqual(r.intervals(), [], 'nothing recorded: no intervals, not even the current one');
  r.record(1);
  clock.set(T0 + 999);
  r.record(2);
  clock.set(T0 + 1000);
  r.record(3);
  clock.set(T0 + 2500);
  r.record(4);
  r.record(5);
  clock.set(T0 + 4200); // [3000, 4000) stays empty
  r.record(6);
  clock.set(T0 + 4300);
  let list = r.intervals();
  assert.deepEqual(
    list.map((i) => [i.startMs - T0, i.endMs - T0, i.histogram.totalCount]),
    [[0, 1000, 2], [1000, 2000, 1], [2000, 3000, 2], [4000, 4300, 1]],
  );
  assert.equal(list[0]!.histogram.maxValue, 2000, 'the histograms hold microseconds');
  assert.equal(list[2]!.histogram.startTimeStampMsec, T0 + 2000);

  // Three more closed intervals: only the newest three closed ones are kept.
  for (const at of [5000, 6000, 7000]) {
    clock.set(T0 + at);
    r.record(7);
  }
  clock.set(T0 + 7100);
  list = r.intervals();
  assert.deepEqual(list.map((i) => i.startMs - T0), [4000, 5000, 6000, 7000]);
  assert.equal(r.summary().count, 9, 'the cumulative histogram keeps everything');

  // Reading the intervals closes the current one once its time is past, with no record() call.
  clock.set(T0 + 8000);
  assert.deepEqual(r.intervals().map((i) => i.startMs - T0), [5000, 6000, 7000]);

  r.reset();
  assert.deepEqual(r.intervals(), []);
  assert.equal(r.summary().count, 0);
  r.record(1);
  assert.equal(r.intervals()[0]!.startMs, T0 + 8000, 'a reset starts the interval grid at now');
});

test('memory stays bounded over a long run: at most keepIntervals kept', () => {
  const clock = fakeClock();
  const r = new LatencyRecorder({ intervalMs: 10, keepIntervals: 50, now: clock.now });
  for (let i = 0; i < 2000; i++) {
    clock.set(T0 + i * 10);
    r.record(1 + (i % 7));
  }
  const list = r.intervals();
  assert.equal(list.length, 51, '50 closed plus the current one');
  assert.equal(list[0]!.startMs, T0 + 1949 * 10);
  assert.equal(r.summary().count, 2000);
});

test('writeHlog then readHlog gives the same counts and percentiles per tag', () => {
  const { e2e, parse } = serviceRecorders();
  const text = writeHlog([{ tag: 'e2e', recorder: e2e }, { tag: 'parse', recorder: parse }], T0);
  const back = readHlog(text);
  assert.deepEqual([...back.keys()].sort(), ['e2e', 'parse']);
  for (const [tag, recorder] of [['e2e', e2e], ['parse', parse]] as const) {
    const h = back.get(tag)!;
    const s = recorder.summary();
    assert.equal(h.totalCount, s.count, `${tag} count`);
    assert.equal(h.totalCount, totalCounts(recorder), `${tag} count of the intervals`);
    assert.equal(h.getValueAtPercentile(50) / 1000, s.p50, `${tag} p50`);
    assert.equal(h.getValueAtPercentile(90) / 1000, s.p90, `${tag} p90`);
    assert.equal(h.getValueAtPercentile(99) / 1000, s.p99, `${tag} p99`);
    assert.equal(h.getValueAtPercentile(99.9) / 1000, s.p999, `${tag} p99.9`);
    assert.equal(h.maxValue / 1000, s.max, `${tag} max (the highest value of its bucket, as HdrHistogram reports it)`);
  }
});

test('the .hlog has the header, the legend and one Tag= line per interval, readable by HistogramLogReader', () => {
  const { e2e, parse } = serviceRecorders();
  const text = writeHlog([{ tag: 'e2e', recorder: e2e }, { tag: 'parse', recorder: parse }], T0);
  const lines = text.split('\n');
  assert.equal(lines.at(-1), '', 'ends with a newline');
  assert.ok(!lines.slice(0, -1).includes(''), 'no blank lines (the Java scanner reads a blank line as a field)');
  assert.ok(lines.includes('#[Histogram log format version 1.3]'));
  assert.ok(lines.some((l) => l.startsWith(`#[StartTime: ${(T0 / 1000).toFixed(3)} (seconds since epoch), `)), 'StartTime line');
  assert.ok(lines.includes(`#[BaseTime: ${(T0 / 1000).toFixed(3)} (seconds since epoch)]`), 'BaseTime line');
  const legend = lines.indexOf('"StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"');
  assert.ok(legend > 0, 'legend line');
  const intervals = lines.slice(legend + 1, -1);
  assert.equal(intervals.length, 12, 'six intervals (five closed, one open) for each of two tags');
  assert.deepEqual(intervals.slice(0, 2).map((l) => l.split(',').slice(0, 3).join(',')), ['Tag=e2e,0.000,1.000', 'Tag=parse,0.000,1.000']);
  assert.deepEqual(intervals.slice(-2).map((l) => l.split(',').slice(0, 3).join(',')), ['Tag=e2e,5.000,0.200', 'Tag=parse,5.000,0.200']);

  const reader = new HistogramLogReader(text);
  const e2eIntervals = e2e.intervals();
  let seen = 0;
  for (let h = reader.nextIntervalHistogram(); h !== null; h = reader.nextIntervalHistogram()) {
    const line = intervals[seen++]!.split(',');
    assert.equal(h.tag, line[0]!.slice('Tag='.length));
    assert.equal(line.length, 5, 'Tag, start, length, max, histogram');
    assert.equal(Number(line[3]), Number((h.maxValue / 1000).toFixed(3)), 'Interval_Max is the max in ms');
    if (h.tag === 'e2e') {
      const mine = e2eIntervals.shift()!;
      assert.equal(h.startTimeStampMsec, mine.startMs, 'timestamps are relative to BaseTime');
      assert.equal(h.totalCount, mine.histogram.totalCount);
    }
  }
  assert.equal(seen, 12);
  assert.throws(() => writeHlog([{ tag: 'two words', recorder: e2e }], T0), (err: unknown) => err instanceof LogwireError && err.code === ErrorCodes.INVALID_OPTION);
});

test('readHlog refuses what is not an interval log', async () => {
  await expectLogwireError(() => readHlog('2024-05-01 [INFO] a log line, not a histogram\n'), [ErrorCodes.IO], 'a log line with a comma');
  await expectLogwireError(() => readHlog('hello\nworld\n'), [ErrorCodes.IO], 'text without a legend');
  await expectLogwireError(() => readHlog('"StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"\nTag=e2e,0.000,1.000,1.0,AAAA\n'), [ErrorCodes.IO], 'a broken histogram');
  const empty = writeHlog([{ tag: 'e2e', recorder: new LatencyRecorder() }], T0);
  assert.equal(readHlog(empty).size, 0, 'a log without intervals yet is valid and empty');
});

/** The x (or y) of the axis labels, by label text. */
function tickPositions(html: string, cls: 'x-tick' | 'y-tick'): Map<string, { x: number; y: number }> {
  const ticks = new Map<string, { x: number; y: number }>();
  for (const m of html.matchAll(new RegExp(`<text class="${cls}" x="([\\d.]+)" y="([\\d.]+)"[^>]*>([^<]+)</text>`, 'g'))) {
    ticks.set(m[3]!, { x: Number(m[1]), y: Number(m[2]) });
  }
  return ticks;
}

function polylines(html: string): { name: string; points: [number, number][] }[] {
  return [...html.matchAll(/<polyline class="series" data-series="([^"]*)"[^>]* points="([^"]*)"/g)].map((m) => ({
    name: m[1]!,
    points: m[2]!.split(' ').filter(Boolean).map((p) => p.split(',').map(Number) as [number, number]),
  }));
}

/** The percentile iteration the plot must follow: (percentile, value in µs), without 100%. */
function iteration(h: Histogram): [number, number][] {
  const it = (h as JsHistogram).percentileIterator;
  it.reset(5);
  const out: [number, number][] = [];
  while (it.hasNext()) {
    const v = it.next();
    if (v.percentileLevelIteratedTo < 100) out.push([v.percentileLevelIteratedTo / 100, v.valueIteratedTo]);
  }
  return out;
}

test('the plot: x is log10(1/(1-p)) from 0% to 99.999%, y is linear in ms, one polyline per series', () => {
  const a = build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000 });
  const b = build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000 });
  for (let ms = 1; ms <= 1000; ms++) a.recordValue(ms * 1000);
  for (let i = 0; i < 20_000; i++) b.recordValue(200 + (i % 500) * 7);
  const html = percentilePlotHtml([{ name: 'e2e <fast> & "slow"', histogram: a }, { name: 'parse', histogram: b }], 'Latency <of> logwire');

  assert.match(html, /^<!DOCTYPE html>/);
  assert.equal(html.match(/<svg[\s>]/g)?.length, 1, 'one inline svg');
  assert.doesNotMatch(html, /<script|<link|src=|href=/, 'standalone: no scripts, no external assets');
  assert.ok(html.includes('<title>Latency &#60;of&#62; logwire</title>'), 'the title is escaped');
  assert.ok(html.includes('e2e &#60;fast&#62; &#38; &#34;slow&#34;'), 'names are escaped');
  assert.ok(!html.includes('<fast>'));

  const x = tickPositions(html, 'x-tick');
  assert.deepEqual([...x.keys()], ['0%', '90%', '99%', '99.9%', '99.99%', '99.999%']);
  const x0 = x.get('0%')!.x;
  const decade = x.get('90%')!.x - x0;
  assert.ok(decade > 0);
  assert.ok(Math.abs(x.get('99%')!.x - x0 - 2 * decade) < 0.02, 'the 99% tick is twice as far from the origin as 90%');
  assert.ok(Math.abs(x.get('99.999%')!.x - x0 - 5 * decade) < 0.02, 'the 99.999% tick is five decades out');

  const y = tickPositions(html, 'y-tick');
  const y0 = y.get('0')!.y;
  const [label1, tick1] = [...y.entries()].find(([label]) => label !== '0')!;
  const pxPerMs = (y0 - tick1.y) / Number(label1);
  assert.ok(pxPerMs > 0);

  assert.ok(iteration(a).some(([p]) => p >= 0.999), 'series 0 reaches 99.9%');
  const lines = polylines(html);
  assert.equal(lines.length, 2, 'one polyline per series');
  assert.equal(lines[1]!.name, 'parse');
  for (const [i, h] of [a, b].entries()) {
    const want = iteration(h);
    const got = lines[i]!.points;
    assert.equal(got.length, want.length, `series ${i}: one point per percentile step`);
    for (const [k, [p, us]] of want.entries()) {
      assert.ok(Math.abs(got[k]![0] - (x0 + Math.log10(1 / (1 - p)) * decade)) < 0.02, `series ${i} point ${k}: x at log10(1/(1-${p}))`);
      assert.ok(Math.abs(got[k]![1] - (y0 - (us / 1000) * pxPerMs)) < 0.02, `series ${i} point ${k}: y at ${us / 1000} ms`);
    }
  }

  const rows = [...html.matchAll(/<tr><td>([^<]*)<\/td>((?:<td>[^<]*<\/td>)+)<\/tr>/g)].map((m) => [m[1], ...[...m[2]!.matchAll(/<td>([^<]*)<\/td>/g)].map((c) => c[1])]);
  assert.equal(rows.length, 2, 'a table row per series');
  const [, count, p50, p90, p99, p999, max] = rows[0]!.map(Number);
  assert.equal(count, 1000);
  near(p50!, 500, 'table p50');
  near(p90!, 900, 'table p90');
  near(p99!, 990, 'table p99');
  near(p999!, 999, 'table p99.9');
  near(max!, 1000, 'table max');
});

test('runReport on an .hlog file writes latency.hlog and latency.html and prints their paths', async () => {
  const { e2e, parse } = serviceRecorders();
  const text = writeHlog([{ tag: 'parse', recorder: parse }, { tag: 'e2e', recorder: e2e }], T0);
  const src = join(dir, 'in.hlog');
  writeFileSync(src, text);
  const out = join(dir, 'made', 'by', 'report');
  const printed = await reportStdout([src, '--out', out]);
  assert.equal(printed, `${join(out, 'latency.hlog')}\n${join(out, 'latency.html')}\n`);
  assert.equal(readFileSync(join(out, 'latency.hlog'), 'utf8'), text, 'the log as read');
  const html = readFileSync(join(out, 'latency.html'), 'utf8');
  assert.deepEqual(polylines(html).map((l) => l.name), ['e2e', 'parse'], 'the service tags, e2e first');
});

test('runReport fetches SOURCE/report.hlog from a service URL', async () => {
  const { e2e, parse } = serviceRecorders();
  const text = writeHlog([{ tag: 'e2e', recorder: e2e }, { tag: 'parse', recorder: parse }], T0);
  const paths: string[] = [];
  const server: Server = createServer((req, res) => {
    paths.push(req.url ?? '');
    if (req.url === '/report.hlog') res.end(text);
    else res.writeHead(404).end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const out = join(dir, 'from-url');
    await reportStdout([`${base}/`, '--out', out]);
    assert.deepEqual(paths, ['/report.hlog'], 'the trailing slash is stripped');
    assert.equal(readFileSync(join(out, 'latency.hlog'), 'utf8'), text);
    assert.ok(existsSync(join(out, 'latency.html')));

    const err = await expectLogwireError(runReport([`${base}/nothing-here`, '--out', join(dir, 'no')]), [ErrorCodes.IO], 'HTTP 404');
    assert.match(err.message, /404/);
    assert.ok(!existsSync(join(dir, 'no')), 'nothing written for a failed report');
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
  // Port 1 on loopback: nothing listens there.
  await expectLogwireError(runReport(['http://127.0.0.1:1', '--out', join(dir, 'no')]), [ErrorCodes.IO], 'unreachable service');
});

test('runReport: a user\'s mistake is a LogwireError with one clear line', async () => {
  const missing = join(dir, 'no-such.hlog');
  const err = await expectLogwireError(runReport([missing]), [ErrorCodes.IO, ErrorCodes.USAGE], 'missing file');
  assert.match(err.message, /no such file/);
  await expectLogwireError(runReport([]), [ErrorCodes.USAGE], 'no SOURCE');
  await expectLogwireError(runReport(['a.hlog', 'b.hlog']), [ErrorCodes.USAGE], 'two SOURCEs');
  await expectLogwireError(runReport(['a.hlog', '--bogus']), [ErrorCodes.USAGE], 'an unknown option');
  const notHlog = join(dir, 'app.log');
  writeFileSync(notHlog, '2024-05-01 [INFO] started, user=u1\n');
  const bad = await expectLogwireError(runReport([notHlog, '--out', join(dir, 'no')]), [ErrorCodes.IO, ErrorCodes.USAGE], 'not an hlog');
  assert.ok(bad.message.startsWith(`${notHlog}: `), 'the message names the file');
  const help = await reportStdout(['--help']);
  assert.match(help, /logwire report SOURCE \[--out DIR\]/);
});
