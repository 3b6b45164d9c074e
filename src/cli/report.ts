// `logwire report SOURCE [--out DIR]`: takes the latency interval log of a
// running service (or an .hlog file) and writes it with a percentile plot.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseFlags } from './args.js';
import { createError, ErrorCodes, ioError, LogwireError } from '../errors.js';
import { percentilePlotHtml, readHlog } from '../service/latency.js';

const HELP = `logwire report: latency percentiles of a logwire service as a plot

Usage:
  logwire report SOURCE [--out DIR]

SOURCE is the URL of a running service (http://127.0.0.1:7070: its
/report.hlog is fetched) or the path of an HdrHistogram interval log (.hlog).

Writes DIR/latency.hlog (the log as it came) and DIR/latency.html (a
percentile plot of each tag, e2e and parse for the service, with a table of
p50/p90/p99/p99.9/max), and prints the two paths.

Options:
  --out DIR    where to write (default: the current directory; made if missing)
  -h, --help   this help
`;

/** Tags the service writes, shown first and in this order. */
const SERVICE_TAGS = ['e2e', 'parse'];
/** A service that does not answer in this long is taken as unreachable. */
const FETCH_TIMEOUT_MS = 30_000;

function usage(message: string): never {
  throw createError(ErrorCodes.USAGE, message);
}

async function fetchHlog(base: string): Promise<{ url: string; text: string }> {
  const url = `${base.replace(/\/+$/, '')}/report.hlog`;
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  } catch (err) {
    // fetch hides the reason (ECONNREFUSED, ENOTFOUND, …) in its cause.
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const why = e.name === 'TimeoutError' ? `no answer in ${FETCH_TIMEOUT_MS / 1000} s` : e.cause?.code ?? e.cause?.message ?? e.message;
    throw createError(ErrorCodes.IO, `${url}: cannot reach the service (${why})`, err);
  }
  if (res.status !== 200) {
    await res.body?.cancel();
    throw createError(ErrorCodes.IO, `${url}: HTTP ${res.status}${res.statusText ? ' ' + res.statusText : ''}`);
  }
  return { url, text: await res.text() };
}

export async function runReport(args: string[]): Promise<void> {
  const parsed = parseFlags(args, {
      out: { type: 'string', default: '.' },
      help: { type: 'boolean', short: 'h', default: false },
  }, 'logwire report --help');
  if (parsed.values.help) {
    process.stdout.write(HELP);
    return;
  }
  const [source, ...extra] = parsed.positionals;
  if (source === undefined) usage('report needs a SOURCE: a service URL or an .hlog file; see logwire report --help');
  if (extra.length) usage(`report takes one SOURCE; got ${parsed.positionals.length}: ${parsed.positionals.join(' ')}`);
  const outDir = parsed.values.out!;

  let name: string;
  let text: string;
  if (/^https?:\/\//i.test(source)) {
    ({ url: name, text } = await fetchHlog(source));
  } else {
    name = source;
    try {
      text = readFileSync(source, 'utf8');
    } catch (err) {
      throw ioError(source, err);
    }
  }

  let histograms;
  try {
    histograms = readHlog(text);
  } catch (err) {
    if (err instanceof LogwireError) throw createError(err.code, `${name}: ${err.message}`, err);
    throw err;
  }
  const tags = [...histograms.keys()].sort((a, b) => rank(a) - rank(b));
  const html = percentilePlotHtml(
    tags.map((tag) => ({ name: tag, histogram: histograms.get(tag)! })),
    `logwire latency: ${source}`,
  );

  const hlogPath = join(outDir, 'latency.hlog');
  const htmlPath = join(outDir, 'latency.html');
  try {
    mkdirSync(outDir, { recursive: true });
  } catch (err) {
    throw ioError(outDir, err);
  }
  for (const [path, content] of [[hlogPath, text], [htmlPath, html]] as const) {
    try {
      writeFileSync(path, content);
    } catch (err) {
      throw ioError(path, err);
    }
  }
  if (histograms.size === 0) process.stderr.write(`logwire: ${name} has no intervals yet: the plot is empty\n`);
  process.stdout.write(`${hlogPath}\n${htmlPath}\n`);
}

/** The service's tags first, in their order; other tags after them, as they came. */
function rank(tag: string): number {
  const i = SERVICE_TAGS.indexOf(tag);
  return i === -1 ? SERVICE_TAGS.length : i;
}
