// The live viewer's logic (docs/service.md): one subscription over /ws that
// resumes from the last cursor after a disconnect, records rendered with
// textContent only, and end-to-end latency polled from /stats.
'use strict';
(() => {
  const MAX_ROWS = 2000; // rows kept in the DOM; the oldest go first
  const MAX_HELD = MAX_ROWS - 1; // items kept while paused, shown on resume under one notice of what was dropped
  const FILTER_DEBOUNCE_MS = 300;
  const STATS_PERIOD_MS = 1000;
  const RECONNECT_MIN_MS = 250;
  const RECONNECT_MAX_MS = 5000;
  const LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal']);
  // A token in the page's URL (?token=…) goes with every request: a browser cannot set headers on a WebSocket.
  const TOKEN = new URLSearchParams(location.search).get('token');
  const withToken = (path) => (TOKEN ? `${path}?token=${encodeURIComponent(TOKEN)}` : path);

  const $ = (id) => document.getElementById(id);
  const ui = {
    source: $('source'), from: $('from'), filter: $('filter'), level: $('level'), pause: $('pause'),
    held: $('held'), status: $('status'), latency: $('latency'), records: $('records'),
  };

  let ws = null;
  let wasConnected = false;
  let reconnectDelay = RECONNECT_MIN_MS;
  let seq = 0;
  let subId = null; // the subscription whose frames are shown; frames of older ones are ignored
  let subFrom = null; // the `from` it was started with
  let subFiles = []; // its `subscribed` frame's files
  let cursor = null; // from its last `records` frame: where a reconnect resumes
  let awaitingSource = false; // connected before /stats named any source
  let appliedFilter = '';

  let paused = false;
  let held = []; // items received while paused, oldest first
  let heldCount = 0; // records received while paused
  let heldDropped = 0; // of those, records that fell out of `held`
  let pending = []; // items waiting for the next animation frame
  let frameRequested = false;

  // Items are { record } or { notice, bad }.
  function notice(text, bad = false) {
    show([{ notice: text, bad }]);
  }

  // Drops all but the last MAX_HELD held items, counting the records among them.
  function trimHeld() {
    const cut = held.length - MAX_HELD;
    if (cut <= 0) return;
    for (let i = 0; i < cut; i++) if (held[i].record) heldDropped++;
    held = held.slice(cut);
  }

  function show(items) {
    if (paused) {
      held.push(...items);
      for (const item of items) if (item.record) heldCount++;
      // Trimmed in steps, not per item, so a fast stream costs one copy per MAX_HELD items.
      if (held.length > MAX_HELD * 1.5) trimHeld();
      showHeld();
      return;
    }
    pending.push(...items);
    // Rows beyond MAX_ROWS would be removed as soon as they were added (also when a
    // background tab gets no animation frames for a while).
    if (pending.length > MAX_ROWS * 1.5) pending = pending.slice(pending.length - MAX_ROWS);
    if (!frameRequested) {
      frameRequested = true;
      requestAnimationFrame(render);
    }
  }

  function render() {
    frameRequested = false;
    const items = pending.length > MAX_ROWS ? pending.slice(pending.length - MAX_ROWS) : pending;
    pending = [];
    const box = ui.records;
    const fragment = document.createDocumentFragment();
    for (const item of items) fragment.append(item.record ? recordRow(item.record) : noticeRow(item));
    box.append(fragment);
    for (let excess = box.childElementCount - MAX_ROWS; excess > 0; excess--) box.firstElementChild.remove();
    if (following) box.scrollTop = box.scrollHeight;
  }

  // The view follows new rows while it is scrolled to the bottom, also when the
  // header rewraps (the latency text changes length) and shrinks it.
  let following = true;
  ui.records.addEventListener('scroll', () => {
    const box = ui.records;
    following = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  });
  new ResizeObserver(() => {
    if (following) ui.records.scrollTop = ui.records.scrollHeight;
  }).observe(ui.records);

  function cell(row, className, text) {
    const span = document.createElement('span');
    span.className = className;
    span.textContent = text;
    row.append(span);
  }

  function recordRow(r) {
    const row = document.createElement('div');
    const level = LEVELS.has(r.level) ? r.level : 'none';
    row.className = `row record level-${level}`;
    row.title = `${r.file}:${r.line}`;
    cell(row, 'ts', typeof r.ts === 'string' ? r.ts : '');
    cell(row, 'level', level === 'none' ? '' : level);
    cell(row, 'msg', (typeof r.msg === 'string' ? r.msg : '') + (r.truncated ? ' …' : ''));
    cell(row, 'fields', formatFields(r.fields) + (r.error ? ` (${r.error})` : ''));
    return row;
  }

  function formatFields(fields) {
    if (!fields || typeof fields !== 'object') return '';
    return Object.entries(fields)
      .map(([k, v]) => `${k}=${typeof v === 'string' && v !== '' && !/[\s"]/.test(v) ? v : JSON.stringify(v)}`)
      .join(' ');
  }

  function noticeRow(item) {
    const row = document.createElement('div');
    row.className = item.bad ? 'row notice bad' : 'row notice';
    row.textContent = item.notice;
    return row;
  }

  function showHeld() {
    ui.held.textContent = paused ? `${heldCount} held${heldCount > MAX_HELD ? ` (only the last ${MAX_HELD} will be shown)` : ''}` : '';
  }

  ui.pause.addEventListener('click', () => {
    paused = !paused;
    ui.pause.textContent = paused ? 'Resume' : 'Pause';
    ui.pause.setAttribute('aria-pressed', String(paused));
    if (!paused) {
      trimHeld();
      const items = held;
      if (heldDropped) items.unshift({ notice: `${heldDropped} records received while paused are not shown (only the last ${MAX_HELD} were kept)`, bad: true });
      held = [];
      heldCount = 0;
      heldDropped = 0;
      show(items);
    }
    showHeld();
  });

  // --- the connection ---

  function setStatus(connected) {
    ui.status.textContent = connected ? 'connected' : 'disconnected';
    ui.status.className = connected ? 'connected' : 'disconnected';
    if (!connected) delete ui.status.dataset.subscribed;
  }

  function send(message) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
  }

  function currentFilter() {
    const filter = {};
    if (appliedFilter) filter.contains = appliedFilter;
    if (ui.level.value) filter.level = ui.level.value;
    return Object.keys(filter).length ? filter : undefined;
  }

  function subscribe(from) {
    if (!ws || ws.readyState !== WebSocket.OPEN || !ui.source.value) return;
    if (subId) send({ op: 'unsubscribe', id: subId });
    subId = `v${++seq}`;
    subFrom = from;
    subFiles = [];
    delete ui.status.dataset.subscribed;
    const message = { op: 'subscribe', id: subId, source: ui.source.value, from };
    const filter = currentFilter();
    if (filter) message.filter = filter;
    send(message);
  }

  // A new source, filter or level: what was shown so far stays, under a separator.
  function restart(from) {
    cursor = null;
    subFrom = from;
    subFiles = [];
    const parts = [ui.source.value];
    if (appliedFilter) parts.push(`contains ${JSON.stringify(appliedFilter)}`);
    if (ui.level.value) parts.push(`level ${ui.level.value}+`);
    parts.push(from === 'start' ? 'from the start' : 'from now');
    notice(`— ${parts.join(', ')} —`);
    subscribe(from);
  }

  // Where a new connection picks up: after the last record received, or, before
  // any record came, where a one-file subscription started reading.
  function resumeFrom() {
    if (cursor !== null) return { cursor };
    if (subFiles.length === 1 && subFrom !== 'start') return { offset: subFiles[0].offset, file: subFiles[0].file };
    return subFrom ?? ui.from.value;
  }

  function connect() {
    const socket = new WebSocket(`${location.protocol === 'https:' ? 'wss://' : 'ws://'}${location.host}${withToken('/ws')}`);
    ws = socket;
    socket.addEventListener('open', () => {
      reconnectDelay = RECONNECT_MIN_MS;
      setStatus(true);
      if (wasConnected) notice('reconnected; resuming where the stream stopped');
      wasConnected = true;
      subId = null; // the old subscription ended with the old connection
      awaitingSource = !ui.source.value;
      subscribe(resumeFrom());
    });
    socket.addEventListener('message', (event) => {
      if (socket === ws) onFrame(event.data);
    });
    socket.addEventListener('close', () => {
      if (socket !== ws) return;
      ws = null;
      setStatus(false);
      setTimeout(connect, reconnectDelay);
      reconnectDelay = Math.min(reconnectDelay * 2, RECONNECT_MAX_MS);
    });
  }

  function onFrame(data) {
    let f;
    try {
      f = JSON.parse(data);
    } catch {
      return;
    }
    if (!f || typeof f !== 'object') return;
    if (f.id != null && f.id !== subId) return;
    switch (f.op) {
      case 'subscribed':
        subFiles = Array.isArray(f.files) ? f.files : [];
        ui.status.dataset.subscribed = f.id;
        ui.status.title = `${f.source}: ${subFiles.length} file${subFiles.length === 1 ? '' : 's'}`;
        break;
      case 'records':
        if (f.cursor != null) cursor = f.cursor;
        if (Array.isArray(f.records)) show(f.records.map((record) => ({ record })));
        break;
      case 'caught_up':
        // A subscription from the end is caught up from the start; only a replay's end is news.
        if (subFrom !== 'end') notice('caught up; following new lines');
        break;
      case 'rotated':
        notice(`${f.file}: ${ROTATED[f.reason] ?? f.reason}`);
        break;
      case 'gap':
        notice(`${f.file}: bytes ${f.from}–${f.to} skipped (${GAP[f.reason] ?? f.reason})`, true);
        break;
      case 'error':
        notice(`error ${f.code}: ${f.message}`, true);
        if (f.id != null && f.code !== 'slow_consumer') onSubscriptionFailed(f);
        break;
    }
  }

  const ROTATED = { renamed: 'rotated away', truncated: 'truncated, read again from the start', deleted: 'deleted', created: 'new file' };
  const GAP = { slow_consumer: 'this viewer could not keep up', file_gone: 'the file is gone', truncated: 'the file was truncated' };

  // A slow_consumer error is not here: the close that follows it reconnects from the cursor.
  function onSubscriptionFailed(f) {
    subId = null;
    // A cursor or offset the server no longer knows (the file went away between
    // connections): follow from the end rather than show nothing.
    if (subFrom && typeof subFrom === 'object' && (f.code === 'not_found' || f.code === 'bad_request')) {
      cursor = null;
      notice('could not resume; following new lines from now', true);
      subscribe('end');
    }
  }

  let filterTimer = 0;
  function applyFilter() {
    clearTimeout(filterTimer);
    if (ui.filter.value === appliedFilter) return;
    appliedFilter = ui.filter.value;
    restart('end');
  }
  ui.filter.addEventListener('input', () => {
    clearTimeout(filterTimer);
    filterTimer = setTimeout(applyFilter, FILTER_DEBOUNCE_MS);
  });
  ui.filter.addEventListener('change', applyFilter);
  ui.level.addEventListener('change', () => restart('end'));
  ui.source.addEventListener('change', () => restart(ui.from.value));
  ui.from.addEventListener('change', () => restart(ui.from.value));

  // --- /stats: the source list and latency ---

  function fillSources(sources) {
    if (!Array.isArray(sources)) return;
    const known = new Set(Array.from(ui.source.options, (o) => o.value));
    for (const s of sources) {
      const name = typeof s === 'string' ? s : s && s.name;
      if (typeof name !== 'string' || known.has(name)) continue;
      known.add(name);
      ui.source.append(new Option(name, name));
    }
    if (awaitingSource && ui.source.value) {
      awaitingSource = false;
      subscribe(resumeFrom());
    }
  }

  function ms(v) {
    if (typeof v !== 'number' || !Number.isFinite(v)) return '–';
    return `${v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : Math.round(v)} ms`;
  }

  function showLatency(h) {
    const has = h && h.count > 0;
    const v = (key) => (has ? ms(h[key]) : '–');
    ui.latency.textContent = `e2e latency p50 ${v('p50')} · p99 ${v('p99')} · p99.9 ${v('p999')} · max ${v('max')}${has ? ` (n=${h.count})` : ''}`;
  }

  async function pollStats() {
    try {
      const res = await fetch(withToken('/stats'), { cache: 'no-store' });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const stats = await res.json();
      fillSources(stats.sources);
      showLatency(stats.latency && stats.latency.e2e);
      ui.latency.title = '';
    } catch (err) {
      ui.latency.title = `/stats unavailable: ${err.message}`;
    } finally {
      setTimeout(pollStats, STATS_PERIOD_MS);
    }
  }

  pollStats();
  connect();
})();
