// The live viewer (viewer/) in headless Chromium against a real service:
// appended lines become rows with their level classes, the filter and level
// select, pause and resume, latency figures, and a reconnect that resumes from
// the last cursor. Needs Debian's Chromium at /usr/bin/chromium (.ci/run installs it).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startService, type Service, type ServiceOptions } from '../src/service/server.js';

const CHROMIUM = '/usr/bin/chromium';
const WAIT_MS = 5_000;

interface Row { className: string; ts: string; level: string; msg: string; fields: string }

let dir = '';
let log = '';
let options: ServiceOptions;
let service: Service | undefined;
let browser: Browser | undefined;
let page: Page;
const pageErrors: string[] = [];

let second = 0;
/** A classic line, each one a second after the last; `ts` is how the record gives its time. */
function line(level: string, msg: string): { text: string; ts: string } {
  const ts = new Date(Date.UTC(2024, 4, 1, 12, 0, 0, 1) + ++second * 1000).toISOString();
  return { text: `${ts.replace('T', ' ').replace('Z', '')} [${level}] ${msg}\n`, ts };
}

function append(...lines: { text: string }[]): void {
  appendFileSync(log, lines.map((l) => l.text).join(''));
}

async function rows(): Promise<Row[]> {
  return page.$$eval('#records .row.record', (els) =>
    els.map((el) => ({
      className: el.className,
      ts: el.querySelector('.ts')?.textContent ?? '',
      level: el.querySelector('.level')?.textContent ?? '',
      msg: el.querySelector('.msg')?.textContent ?? '',
      fields: el.querySelector('.fields')?.textContent ?? '',
    })),
  );
}

/** Waits for `fn` (run in the page) to return something truthy; on timeout says what it waited for and what the page showed. */
async function waitFor<A, R>(what: string, fn: (arg: A) => R, arg: A): Promise<R> {
  try {
    // The cast: playwright-core does not export the type it wants (PageFunction) for a generic `fn`.
    const handle = await page.waitForFunction(fn as (arg: unknown) => R, arg as unknown, { timeout: WAIT_MS, polling: 50 });
    return (await handle.jsonValue()) as R;
  } catch (err) {
    const shown = await page
      .evaluate(() => ({
        status: document.querySelector('#status')?.textContent,
        held: document.querySelector('#held')?.textContent,
        latency: document.querySelector('#latency')?.textContent,
        rows: Array.from(document.querySelectorAll('#records .row'), (r) => r.textContent).slice(-20),
      }))
      .catch(() => 'page unavailable');
    throw new Error(`viewer: timed out waiting for ${what} (${(err as Error).message.split('\n')[0]}); page shows ${JSON.stringify(shown)}; page errors ${JSON.stringify(pageErrors)}`);
  }
}

async function waitForRows(n: number): Promise<void> {
  await waitFor(`${n} record rows`, (min) => document.querySelectorAll('#records .row.record').length >= min, n);
}

/** Waits until the viewer is connected with a subscription other than `previous`; returns its id. */
async function subscribed(previous = ''): Promise<string> {
  return waitFor(
    `a subscription other than "${previous}"`,
    (prev) => {
      const status = document.querySelector<HTMLElement>('#status');
      const id = status?.dataset.subscribed;
      return status?.textContent === 'connected' && id && id !== prev ? id : '';
    },
    previous,
  );
}

async function currentSubscription(): Promise<string> {
  return page.$eval('#status', (el) => (el as HTMLElement).dataset.subscribed ?? '');
}

before(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: the viewer test drives Debian's Chromium; install it with "apt-get install -y chromium" (.ci/run does)`);
  }
  dir = mkdtempSync(join(tmpdir(), 'logwire-viewer-'));
  log = join(dir, 'app.log');
  writeFileSync(log, line('INFO', 'written before the viewer opened').text);
  options = { port: 0, sources: [{ name: 'app', globs: [join(dir, '*.log')], format: 'classic' }] };
  service = await startService(options);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'], timeout: 15_000 });
  page = await browser.newPage();
  page.on('pageerror', (err) => pageErrors.push(String(err)));
  await page.goto(service.url);
}, { timeout: 25_000 });

after(async () => {
  await browser?.close().catch(() => {});
  await service?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the page lists the sources, connects and subscribes', { timeout: 10_000 }, async () => {
  await subscribed();
  assert.deepEqual(await page.$$eval('#source option', (os) => os.map((o) => (o as HTMLOptionElement).value)), ['app']);
  assert.equal(await page.textContent('#status'), 'connected');
  assert.match((await page.textContent('#latency')) ?? '', /p99/);
});

test('appended lines appear at the bottom with their level classes, as text', { timeout: 10_000 }, async () => {
  const lines = [
    line('INFO', 'request done user=u1 status=200'),
    line('WARN', 'slow request ms=950'),
    line('ERROR', 'request failed code=7'),
    line('DEBUG', 'cache miss key=k1'),
  ];
  append(...lines.slice(0, 2));
  append(...lines.slice(2));
  const fatal = line('FATAL', 'out of memory');
  const trace = line('TRACE', '<img src=x onerror="window.__xss=1"> path="/a b"');
  append(fatal, trace);
  await waitForRows(6);
  const shown = await rows();
  assert.equal(shown.length, 6, `rows: ${JSON.stringify(shown)}`);
  const expected = [
    ['info', 'request done user=u1 status=200', 'user=u1 status=200'],
    ['warn', 'slow request ms=950', 'ms=950'],
    ['error', 'request failed code=7', 'code=7'],
    ['debug', 'cache miss key=k1', 'key=k1'],
    ['fatal', 'out of memory', ''],
    ['trace', '<img src=x onerror="window.__xss=1"> path="/a b"', 'src=x onerror=window.__xss=1 path="/a b"'],
  ];
  const all = [...lines, fatal, trace];
  expected.forEach(([level, msg, fields], i) => {
    assert.ok(shown[i].className.split(' ').includes(`level-${level}`), `row ${i} has class "${shown[i].className}", not level-${level}`);
    assert.equal(shown[i].level, level);
    assert.equal(shown[i].msg, msg);
    assert.equal(shown[i].fields, fields);
    assert.equal(shown[i].ts, all[i].ts);
  });
  assert.equal(await page.$$eval('#records img', (imgs) => imgs.length), 0, 'record text was parsed as HTML');
  assert.equal(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss), undefined);
});

test('the filter box and level select show only the new lines that match', { timeout: 10_000 }, async () => {
  let start = (await rows()).length;
  let sub = await currentSubscription();
  await page.fill('#filter', 'needle');
  sub = await subscribed(sub);
  // Matching lines last: a line that wrongly passed would arrive before them.
  append(line('INFO', 'hay one'), line('INFO', 'needle one'), line('ERROR', 'hay two'), line('WARN', 'found it who=needle'));
  await waitForRows(start + 2);
  let fresh = (await rows()).slice(start);
  assert.deepEqual(fresh.map((r) => r.msg), ['needle one', 'found it who=needle']);

  start += 2;
  await page.selectOption('#level', 'warn');
  sub = await subscribed(sub);
  append(line('INFO', 'needle quiet'), line('ERROR', 'other loud'), line('WARN', 'needle warned'), line('ERROR', 'needle failed'));
  await waitForRows(start + 2);
  fresh = (await rows()).slice(start);
  assert.deepEqual(fresh.map((r) => [r.level, r.msg]), [['warn', 'needle warned'], ['error', 'needle failed']]);

  await page.selectOption('#level', '');
  sub = await subscribed(sub);
  await page.fill('#filter', '');
  await subscribed(sub);
});

test('pause holds new rows and counts them; resume shows them', { timeout: 10_000 }, async () => {
  const start = (await rows()).length;
  await page.click('#pause');
  assert.equal(await page.textContent('#pause'), 'Resume');
  assert.equal(await page.textContent('#held'), '0 held');
  append(line('INFO', 'held one'), line('WARN', 'held two'));
  append(line('INFO', 'held three'));
  await waitFor('"3 held"', () => document.querySelector('#held')?.textContent === '3 held', undefined);
  assert.equal((await rows()).length, start, 'rows were rendered while paused');
  await page.click('#pause');
  await waitForRows(start + 3);
  assert.deepEqual((await rows()).slice(start).map((r) => r.msg), ['held one', 'held two', 'held three']);
  assert.equal(await page.textContent('#held'), '');
  assert.equal(await page.textContent('#pause'), 'Pause');
});

test('latency shows end-to-end percentiles in ms once records flowed', { timeout: 10_000 }, async () => {
  const text = await waitFor(
    'latency figures',
    () => {
      const t = document.querySelector('#latency')?.textContent ?? '';
      return /p50 [\d.]+ ms/.test(t) && /p99 [\d.]+ ms/.test(t) && /p99\.9 [\d.]+ ms/.test(t) && /max [\d.]+ ms/.test(t) ? t : '';
    },
    undefined,
  );
  const [p50, p99, max] = ['p50', 'p99', 'max'].map((k) => Number(new RegExp(`${k} ([\\d.]+) ms`).exec(text)?.[1]));
  assert.ok(p50 <= p99 && p99 <= max, `percentiles out of order: ${text}`);
});

test('after a reconnect the stream resumes from the last cursor: nothing lost, nothing repeated', { timeout: 15_000 }, async () => {
  const start = (await rows()).length;
  const sub = await currentSubscription();
  const port = service!.port;
  await service!.close();
  service = undefined;
  await waitFor('"disconnected"', () => document.querySelector('#status')?.textContent === 'disconnected', undefined);
  append(line('INFO', 'written while down'), line('ERROR', 'also written while down'));
  service = await startService({ ...options, port });
  await subscribed(sub);
  append(line('INFO', 'written after the reconnect'));
  await waitForRows(start + 3);
  const shown = await rows();
  assert.deepEqual(shown.slice(start).map((r) => r.msg), ['written while down', 'also written while down', 'written after the reconnect']);
  const msgs = shown.map((r) => r.msg);
  assert.equal(new Set(msgs).size, msgs.length, `a record was shown twice: ${JSON.stringify(msgs)}`);
  assert.ok(!msgs.includes('written before the viewer opened'), 'a line from before the subscription ("from": "end") was shown');
});

test('the page threw no errors', () => {
  assert.deepEqual(pageErrors, []);
});
