// The benchmark's WebSocket subscribers, forked by bench/service.js so that they run in
// a process of their own beside the service: one connection per subscriber, `records`
// frames counted from their head (never JSON.parse'd whole), and in the follow run the
// writer's lines checked (every one, once, in order) and timed writer -> client.
//   in:  { cmd: 'start', url, source, mode: 'replay' | 'live', subs: [{ id, from, stall }], idleMs }
//        { cmd: 'expect', lines, graceMs }   live: the writer is done, wait for its lines
//   out: { ev: 'ready' }                     every reader caught up (live: start writing)
//        { ev: 'progress', records }         about once a second
//        { ev: 'done', subs, cpuMs, hung, latency }   then it waits to be killed, so that
//                                            a stalled subscriber stays connected meanwhile

import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import hdr from 'hdr-histogram-js';
import { eachWriterLine, isRecordsFrame, monotonicMicros, recordsHead } from './wire.js';

process.on('disconnect', () => process.exit(0));

function connect(url) {
  return new Promise((resolve, reject) => {
    // The service offers no compression; skipping UTF-8 validation keeps this process's
    // cost per byte to the socket reads and ws's frame assembly.
    const ws = new WebSocket(url, { perMessageDeflate: false, skipUTF8Validation: true });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function summary(h) {
  const at = (p) => h.getValueAtPercentile(p) / 1000;
  return { count: h.totalCount, p50: at(50), p90: at(90), p99: at(99), p999: at(99.9), max: h.maxValue / 1000 };
}

async function run(spec) {
  const live = spec.mode === 'live';
  const cpu0 = process.cpuUsage();
  // µs, 1 µs to 1 h, 3 digits: the same shape as the service's own histograms.
  const histogram = () => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });
  // Per line, and per frame (its oldest line): the service's own e2e histogram has one value a frame.
  const hist = live ? histogram() : null;
  const frameHist = live ? histogram() : null;
  let oldest = Infinity;
  const order = { next: 1, missing: 0, repeated: 0, countMismatch: 0 };
  let lastFrameAt = performance.now();
  let finished = false;
  let expect = null;
  let readySent = false;

  const subs = spec.subs.map((s) => ({
    id: s.id, from: s.from, stall: !!s.stall, ws: null, records: 0, frames: 0, bytes: 0,
    tSubscribe: null, tFirst: null, tCaughtUp: null, failed: null, closed: null, gaps: 0, rotations: 0, errors: [],
  }));
  const readers = subs.filter((s) => !s.stall);
  const done = (s) => s.tCaughtUp !== null || s.failed !== null || s.closed !== null;

  const visit = (now) => (seq, wt) => {
    hist.recordValue(Math.max(1, now - wt));
    if (wt < oldest) oldest = wt;
    if (seq === order.next) order.next++;
    else if (seq > order.next) {
      order.missing += seq - order.next;
      order.next = seq + 1;
    } else order.repeated++;
  };

  function onMessage(s, data) {
    lastFrameAt = performance.now();
    s.bytes += data.length;
    if (isRecordsFrame(data)) {
      let head;
      try {
        head = recordsHead(data);
      } catch (err) {
        if (s.errors.length < 10) s.errors.push(err.message);
        return;
      }
      if (head.id !== s.id) {
        if (s.errors.length < 10) s.errors.push(`a records frame for id ${JSON.stringify(head.id)}`);
        return;
      }
      s.tFirst ??= lastFrameAt;
      s.records += head.count;
      s.frames++;
      if (live) {
        const now = monotonicMicros();
        oldest = Infinity;
        const seen = eachWriterLine(data, head.recordsAt, visit(now));
        if (seen > 0) frameHist.recordValue(Math.max(1, now - oldest));
        if (seen !== head.count) order.countMismatch++;
        if (expect && s.records >= expect.lines) finish(false);
      }
      return;
    }
    let msg;
    try {
      msg = JSON.parse(data.toString('utf8'));
    } catch {
      s.errors.push(`a frame that is not JSON: ${data.toString('utf8', 0, 80)}`);
      return;
    }
    if (msg.op === 'caught_up' && msg.id === s.id) {
      s.tCaughtUp ??= performance.now();
      check();
    } else if (msg.op === 'error') {
      s.errors.push(`error frame ${msg.code}: ${msg.message}`);
      if (msg.id === s.id || msg.id === null) {
        s.failed = `${msg.code}: ${msg.message}`;
        check();
      }
    } else if (msg.op === 'gap') s.gaps++;
    else if (msg.op === 'rotated') s.rotations++;
  }

  function check() {
    if (finished) return;
    if (!readers.every(done)) return;
    if (!live) finish(false);
    else if (!readySent) {
      readySent = true;
      process.send({ ev: 'ready' });
    }
  }

  function finish(hung) {
    if (finished) return;
    finished = true;
    clearInterval(ticker);
    const cpu = process.cpuUsage(cpu0);
    process.send({
      ev: 'done',
      hung,
      cpuMs: (cpu.user + cpu.system) / 1000,
      subs: subs.map((s) => ({
        id: s.id, stall: s.stall, records: s.records, frames: s.frames, bytes: s.bytes,
        tSubscribe: s.tSubscribe, tFirst: s.tFirst, tCaughtUp: s.tCaughtUp,
        seconds: s.tCaughtUp !== null ? (s.tCaughtUp - s.tSubscribe) / 1000 : null,
        caughtUp: s.tCaughtUp !== null, failed: s.failed, closed: s.closed, gaps: s.gaps, rotations: s.rotations, errors: s.errors,
      })),
      latency: live ? { client: summary(hist), clientFrames: summary(frameHist), order: { ...order, next: undefined, lastSeq: order.next - 1 } } : null,
    });
  }

  for (const s of subs) {
    s.ws = await connect(spec.url);
    s.ws.on('message', (data) => onMessage(s, data));
    s.ws.on('close', (code, reason) => {
      if (finished) return;
      s.closed = { code, reason: reason.toString() };
      check();
    });
    s.ws.on('error', (err) => { s.errors.push(`socket: ${err.message}`); });
  }
  // Every connection is up before the first subscribe: the subscribers start together.
  for (const s of subs) {
    s.tSubscribe = performance.now();
    s.ws.send(JSON.stringify({ op: 'subscribe', id: s.id, source: spec.source, from: s.from }));
    // Never read again: the service's queue for it fills, then the kernel's buffers.
    if (s.stall) s.ws.pause();
  }

  const ticker = setInterval(() => {
    process.send({ ev: 'progress', records: readers.reduce((n, s) => n + s.records, 0) });
    const idle = performance.now() - lastFrameAt;
    if (expect && performance.now() - expect.at > expect.graceMs) finish(false);
    else if (!expect && idle > spec.idleMs) finish(true);
  }, 1000);

  process.on('message', (m) => {
    if (m.cmd !== 'expect') return;
    expect = { lines: m.lines, graceMs: m.graceMs, at: performance.now() };
    if (readers[0].records >= m.lines) finish(false);
  });
}

process.once('message', (spec) => {
  run(spec).catch((err) => {
    process.send({ ev: 'error', message: String(err?.message ?? err) });
  });
});
