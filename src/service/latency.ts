// Latency histograms for the service (end-to-end and parse time): a cumulative
// HdrHistogram for /stats and /report, per-interval ones for /report.hlog, and
// the percentile plot `logwire report` draws from an .hlog.
import {
  build,
  decodeFromCompressedBase64,
  encodeIntoCompressedBase64,
  HistogramLogReader,
  HistogramLogWriter,
  JsHistogram,
  type Histogram,
} from 'hdr-histogram-js';
import { createError, ErrorCodes } from '../errors.js';

export type { Histogram };

/** Cumulative percentiles, in milliseconds. */
export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

export interface LatencyRecorderOptions {
  /** Length of one interval of the .hlog, in ms (default 1000). */
  intervalMs?: number;
  /** Closed intervals kept; older ones are dropped (default 3600: an hour of 1 s intervals). */
  keepIntervals?: number;
  /** Clock in ms since the epoch (default Date.now); tests inject their own. */
  now?: () => number;
}

export const LATENCY_DEFAULTS = { intervalMs: 1000, keepIntervals: 3600 };

/** Values are integer microseconds from 1 µs to one hour: 3 digits over that range is 23,552 counters. */
const LOWEST_US = 1;
const HIGHEST_US = 3_600_000_000;
const US_PER_MS = 1000;
/** Percentile steps per half distance to 100%, as HdrHistogram's own output uses. */
const TICKS_PER_HALF = 5;

/** A closed interval, kept compressed: an Int32 histogram is 94 KB, its encoding a few hundred bytes. */
interface StoredInterval {
  startMs: number;
  endMs: number;
  maxUs: number;
  encoded: string;
}

/** How writeHlog reaches a recorder's compressed intervals without decoding them. */
const encodedIntervals = Symbol('encodedIntervals');

/** The max as HdrHistogram reports it (Java's getMaxValue, a decoded histogram's maxValue): the top of its bucket. */
function maxOf(h: Histogram): number {
  return h.totalCount === 0 ? 0 : (h as JsHistogram).highestEquivalentValue(h.maxValue);
}

function optionError(name: string, must: string, got: unknown): never {
  const shown = typeof got === 'string' ? JSON.stringify(got) : typeof got === 'function' ? 'a function' : String(got);
  throw createError(ErrorCodes.INVALID_OPTION, `option "${name}" must be ${must}; got ${shown}`);
}

function intervalHistogram(): Histogram {
  return build({ lowestDiscernibleValue: LOWEST_US, highestTrackableValue: HIGHEST_US, numberOfSignificantValueDigits: 3, autoResize: false });
}

/** Per-bucket counts can pass 2^31 over an hour at a million records a second: 64-bit counters. */
function cumulativeHistogram(): Histogram {
  return build({ bitBucketSize: 64, lowestDiscernibleValue: LOWEST_US, highestTrackableValue: HIGHEST_US, numberOfSignificantValueDigits: 3, autoResize: false });
}

/**
 * Latency of one kind (say end-to-end), recorded in ms and kept as integer
 * microseconds: cumulative since start or reset, and in intervals of
 * `intervalMs` for the interval log. Memory is bounded: two histograms plus at
 * most `keepIntervals` compressed intervals; intervals without a count are not kept.
 */
export class LatencyRecorder {
  readonly intervalMs: number;
  readonly keepIntervals: number;
  private readonly now: () => number;
  private readonly cumulative = cumulativeHistogram();
  private readonly current = intervalHistogram();
  private currentStartMs: number;
  private closed: StoredInterval[] = [];

  constructor(options: LatencyRecorderOptions = {}) {
    if (options === null || typeof options !== 'object') optionError('options', 'an object', options);
    const intervalMs = options.intervalMs ?? LATENCY_DEFAULTS.intervalMs;
    if (typeof intervalMs !== 'number' || !Number.isInteger(intervalMs) || intervalMs < 1) {
      optionError('intervalMs', 'a positive integer (milliseconds)', intervalMs);
    }
    const keepIntervals = options.keepIntervals ?? LATENCY_DEFAULTS.keepIntervals;
    if (typeof keepIntervals !== 'number' || !Number.isInteger(keepIntervals) || keepIntervals < 1) {
      optionError('keepIntervals', 'a positive integer', keepIntervals);
    }
    const now = options.now ?? Date.now;
    if (typeof now !== 'function') optionError('now', 'a function returning ms since the epoch', now);
    this.intervalMs = intervalMs;
    this.keepIntervals = keepIntervals;
    this.now = now;
    this.currentStartMs = now();
  }

  /** One latency in ms; clamped to [1 µs, 1 hour], NaN ignored (a caller's bug must not stop the service). */
  record(ms: number): void {
    const us = Math.min(HIGHEST_US, Math.max(LOWEST_US, Math.round(ms * US_PER_MS)));
    if (Number.isNaN(us)) return;
    this.roll(this.now());
    this.cumulative.recordValue(us);
    this.current.recordValue(us);
  }

  summary(): LatencySummary {
    const h = this.cumulative;
    const at = (p: number): number => (h.totalCount === 0 ? 0 : h.getValueAtPercentile(p) / US_PER_MS);
    return { count: h.totalCount, p50: at(50), p90: at(90), p99: at(99), p999: at(99.9), max: maxOf(h) / US_PER_MS };
  }

  /** HdrHistogram's percentile distribution text of the cumulative histogram, values in ms. */
  distribution(): string {
    return this.cumulative.outputPercentileDistribution(TICKS_PER_HALF, US_PER_MS);
  }

  /**
   * The kept closed intervals, oldest first, then the current one if it has
   * counts (ending now). Each histogram (µs) is decoded afresh: about 0.1 ms
   * and 94 KB apiece, so writeHlog does not go through here.
   */
  intervals(): { startMs: number; endMs: number; histogram: Histogram }[] {
    return this[encodedIntervals]().map(({ startMs, endMs, encoded }) => {
      const histogram = decodeFromCompressedBase64(encoded);
      histogram.startTimeStampMsec = startMs;
      histogram.endTimeStampMsec = endMs;
      return { startMs, endMs, histogram };
    });
  }

  reset(): void {
    this.cumulative.reset();
    this.current.reset();
    this.closed = [];
    this.currentStartMs = this.now();
  }

  /** @internal The intervals as intervals() lists them, still compressed. */
  [encodedIntervals](): StoredInterval[] {
    const nowMs = this.now();
    this.roll(nowMs);
    const list = this.closed.slice();
    if (this.current.totalCount > 0) {
      list.push({ startMs: this.currentStartMs, endMs: Math.max(nowMs, this.currentStartMs), maxUs: maxOf(this.current), encoded: encodeIntoCompressedBase64(this.current) });
    }
    return list;
  }

  /** Closes the current interval once `nowMs` is past its end; interval starts stay on the grid of the first. */
  private roll(nowMs: number): void {
    const elapsed = nowMs - this.currentStartMs;
    if (elapsed < this.intervalMs) return; // also a clock that went back: keep filling the current interval
    if (this.current.totalCount > 0) {
      this.closed.push({
        startMs: this.currentStartMs,
        endMs: this.currentStartMs + this.intervalMs,
        maxUs: maxOf(this.current),
        encoded: encodeIntoCompressedBase64(this.current),
      });
      if (this.closed.length > this.keepIntervals) this.closed.splice(0, this.closed.length - this.keepIntervals);
      this.current.reset();
    }
    this.currentStartMs += Math.floor(elapsed / this.intervalMs) * this.intervalMs;
  }
}

/** Seconds with 3 decimals, as HdrHistogram's Java writer prints them (%.3f). */
function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

/**
 * An HdrHistogram interval log of the series' intervals, in time order, one
 * `Tag=` line per interval per series. Values are µs and Interval_Max is in ms,
 * so HistogramLogProcessor wants `-outputValueUnitRatio 1000` for ms output.
 * Timestamps are relative to `startTimeMs`, given as both StartTime and BaseTime.
 */
export function writeHlog(series: { tag: string; recorder: LatencyRecorder }[], startTimeMs: number): string {
  if (!Number.isFinite(startTimeMs)) optionError('startTimeMs', 'a time in ms since the epoch', startTimeMs);
  const lines: { startMs: number; text: string }[] = [];
  for (const { tag, recorder } of series) {
    // The Java reader splits lines on spaces and commas.
    if (typeof tag !== 'string' || !/^[^\s,]+$/.test(tag)) optionError('tag', 'a non-empty string without spaces or commas', tag);
    for (const i of recorder[encodedIntervals]()) {
      lines.push({
        startMs: i.startMs,
        text: `Tag=${tag},${seconds(i.startMs - startTimeMs)},${seconds(i.endMs - i.startMs)},${(i.maxUs / US_PER_MS).toFixed(3)},${i.encoded}\n`,
      });
    }
  }
  lines.sort((a, b) => a.startMs - b.startMs); // stable: series order within the same start

  let out = '';
  const writer = new HistogramLogWriter((s) => {
    out += s;
  });
  writer.outputComment('[Logged with logwire: latency in microseconds, Interval_Max in milliseconds]');
  writer.outputLogFormatVersion();
  // Written here rather than by outputStartTime, which adds a blank line the Java scanner does not expect.
  out += `#[StartTime: ${seconds(startTimeMs)} (seconds since epoch), ${new Date(startTimeMs).toISOString()}]\n`;
  out += `#[BaseTime: ${seconds(startTimeMs)} (seconds since epoch)]\n`;
  writer.outputLegend();
  for (const line of lines) out += line.text;
  return out;
}

/** Every interval of an .hlog summed per tag (untagged lines under "NO TAG"); values as logged (µs for logwire's). */
export function readHlog(text: string): Map<string, Histogram> {
  const reader = new HistogramLogReader(text);
  const sums = new Map<string, Histogram>();
  for (;;) {
    let h: Histogram | null;
    try {
      h = reader.nextIntervalHistogram();
      if (h !== null && !(Number.isFinite(h.startTimeStampMsec) && Number.isFinite(h.endTimeStampMsec))) throw new Error('bad timestamp');
    } catch (err) {
      throw createError(ErrorCodes.IO, `not an HdrHistogram interval log: line ${reader.currentLineIndex} is not a valid interval (${(err as Error).message})`, err);
    }
    if (h === null) break;
    let sum = sums.get(h.tag);
    if (sum === undefined) {
      // Same layout as the intervals, so add() takes its fast path; 64-bit counters for the sum.
      const first = h as JsHistogram;
      sum = build({
        bitBucketSize: 64,
        lowestDiscernibleValue: first.lowestDiscernibleValue,
        highestTrackableValue: first.highestTrackableValue,
        numberOfSignificantValueDigits: first.numberOfSignificantValueDigits as 1 | 2 | 3 | 4 | 5,
      });
      sum.tag = h.tag;
      sums.set(h.tag, sum);
    }
    sum.add(h);
  }
  if (sums.size === 0 && !/^"StartTimestamp"|^#\[Histogram log format version/m.test(text)) {
    throw createError(ErrorCodes.IO, 'not an HdrHistogram interval log: no legend, no version line and no intervals');
  }
  return sums;
}

// ---- The percentile plot ----

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];
const SVG_W = 860;
const SVG_H = 460;
const PLOT = { left: 70, right: 44, top: 20, bottom: 60 }; // right: room for the last percent label

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Points of the percentile curve: (1/(1-p), value in ms), without the final 100% (at infinity). */
function percentileCurve(histogram: Histogram): { x: number; ms: number }[] {
  if (!(histogram instanceof JsHistogram)) {
    throw createError(ErrorCodes.INVALID_OPTION, 'percentilePlotHtml needs JS histograms (not WebAssembly ones)');
  }
  const points: { x: number; ms: number }[] = [];
  const it = histogram.percentileIterator;
  it.reset(TICKS_PER_HALF);
  while (it.hasNext()) {
    const v = it.next();
    if (v.percentileLevelIteratedTo >= 100) continue;
    points.push({ x: 1 / (1 - v.percentileLevelIteratedTo / 100), ms: v.valueIteratedTo / US_PER_MS });
  }
  return points;
}

/** 0%, 90%, 99%, 99.9%, … for 1/(1-p) = 10^decade. */
function percentLabel(decade: number): string {
  if (decade === 0) return '0%';
  if (decade === 1) return '90%';
  return `99${decade > 2 ? '.' + '9'.repeat(decade - 2) : ''}%`;
}

/** A round step (1, 2 or 5 times a power of ten) giving about five ticks up to `max`. */
function niceStep(max: number): number {
  const raw = max / 5;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const m = raw / pow;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * pow;
}

function fmt(n: number): string {
  return Number(n.toFixed(2)).toString();
}

function ms(n: number): string {
  return n.toFixed(3);
}

/**
 * A standalone HTML page (inline SVG, no scripts, no external assets) with the
 * percentile plot HdrHistogram's plotter draws: x is 1/(1-p) on a log scale,
 * y the latency in ms; then a table of p50/p90/p99/p99.9/max. Histograms in µs.
 */
export function percentilePlotHtml(series: { name: string; histogram: Histogram }[], title: string): string {
  const curves = series.map((s) => percentileCurve(s.histogram));
  const maxX = Math.max(1, ...curves.flat().map((p) => p.x));
  const maxMs = Math.max(0, ...series.map((s) => maxOf(s.histogram) / US_PER_MS));
  const decades = Math.max(5, Math.ceil(Math.log10(maxX) - 1e-9));
  const yStep = maxMs > 0 ? niceStep(maxMs) : 1;
  const yMax = Math.max(yStep, Math.ceil(maxMs / yStep - 1e-9) * yStep);
  const plotW = SVG_W - PLOT.left - PLOT.right;
  const plotH = SVG_H - PLOT.top - PLOT.bottom;
  const xOf = (x: number): number => PLOT.left + (Math.log10(x) / decades) * plotW;
  const yOf = (v: number): number => PLOT.top + plotH - (v / yMax) * plotH;
  const bottom = PLOT.top + plotH;

  const svg: string[] = [];
  svg.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${SVG_W}" height="${SVG_H}" viewBox="0 0 ${SVG_W} ${SVG_H}" role="img" aria-label="${escapeHtml(title)}">`);
  svg.push(`<rect class="plot-area" x="${PLOT.left}" y="${PLOT.top}" width="${plotW}" height="${plotH}" fill="#fff" stroke="#999"/>`);
  for (let d = 0; d <= decades; d++) {
    const x = fmt(xOf(10 ** d));
    svg.push(`<line x1="${x}" y1="${PLOT.top}" x2="${x}" y2="${bottom}" stroke="#e4e4e4"/>`);
    svg.push(`<text class="x-tick" x="${x}" y="${bottom + 18}" text-anchor="middle">${percentLabel(d)}</text>`);
  }
  const yDecimals = Math.max(0, -Math.floor(Math.log10(yStep)));
  for (let k = 0; k * yStep <= yMax + yStep / 2; k++) {
    const y = fmt(yOf(k * yStep));
    svg.push(`<line x1="${PLOT.left}" y1="${y}" x2="${PLOT.left + plotW}" y2="${y}" stroke="#e4e4e4"/>`);
    svg.push(`<text class="y-tick" x="${PLOT.left - 8}" y="${y}" text-anchor="end" dominant-baseline="middle">${(k * yStep).toFixed(yDecimals)}</text>`);
  }
  svg.push(`<text x="${PLOT.left + plotW / 2}" y="${SVG_H - 12}" text-anchor="middle">Percentile</text>`);
  svg.push(`<text x="16" y="${PLOT.top + plotH / 2}" text-anchor="middle" transform="rotate(-90 16 ${PLOT.top + plotH / 2})">Latency (ms)</text>`);
  curves.forEach((curve, i) => {
    let points = curve.map((p) => `${fmt(xOf(p.x))},${fmt(yOf(p.ms))}`);
    if (points.length === 1) points = [points[0]!, points[0]!]; // a single value: a dot (round cap)
    const color = PALETTE[i % PALETTE.length];
    svg.push(`<polyline class="series" data-series="${escapeHtml(series[i]!.name)}" fill="none" stroke="${color}" stroke-width="2" stroke-linejoin="round" stroke-linecap="round" points="${points.join(' ')}"/>`);
  });
  series.forEach((s, i) => {
    const y = PLOT.top + 16 + i * 20;
    const x = PLOT.left + 14;
    svg.push(`<g class="legend"><line x1="${x}" y1="${y}" x2="${x + 24}" y2="${y}" stroke="${PALETTE[i % PALETTE.length]}" stroke-width="3"/><text x="${x + 32}" y="${y}" dominant-baseline="middle">${escapeHtml(s.name)}${s.histogram.totalCount === 0 ? ' (no data)' : ''}</text></g>`);
  });
  svg.push('</svg>');

  const rows = series.map(({ name, histogram: h }) => {
    const at = (p: number): string => ms(h.totalCount === 0 ? 0 : h.getValueAtPercentile(p) / US_PER_MS);
    return `<tr><td>${escapeHtml(name)}</td><td>${h.totalCount}</td><td>${at(50)}</td><td>${at(90)}</td><td>${at(99)}</td><td>${at(99.9)}</td><td>${ms(maxOf(h) / US_PER_MS)}</td></tr>`;
  });

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 24px; color: #222; }
svg text { font: 12px system-ui, sans-serif; fill: #333; }
table { border-collapse: collapse; margin-top: 16px; }
th, td { border: 1px solid #ccc; padding: 4px 10px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
${svg.join('\n')}
<table>
<thead><tr><th>series</th><th>count</th><th>p50 (ms)</th><th>p90 (ms)</th><th>p99 (ms)</th><th>p99.9 (ms)</th><th>max (ms)</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>
</body>
</html>
`;
}
