// Seeded random syslog (RFC 5424 and 3164) and Apache error (2.4 and 2.2)
// lines, each with the record the built-in format must give for it, or
// null for a line made not to match. test/syslog.test.ts checks the core
// against these; the fuzz test mutates the lines.
import { Rng } from './random.js';

export interface Expected {
  /** undefined: not checked (RFC 3164 has no year: it is inferred). */
  ts?: string | null;
  level: string | null;
  msg: string | null;
  fields: Record<string, unknown>;
}
export interface Sample {
  line: string;
  /** null: the line must give "error":"no match". */
  want: Expected | null;
}

const SEVERITY_LEVEL = ['fatal', 'fatal', 'fatal', 'error', 'warn', 'info', 'info', 'debug'];
const FACILITY = ['kern', 'user', 'mail', 'daemon', 'auth', 'syslog', 'lpr', 'news', 'uucp', 'cron', 'authpriv', 'ftp', 'ntp', 'audit', 'alert', 'clock',
  'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const TOKENS = ['mymachine.example.com', '192.0.2.1', 'su', 'evntslog', 'ID47', 'sshd', 'kernel', '8710', 'a1b2', 'x', 'é', '-x', 'x-', '--'];
const TEXT = ["'su root' failed for lonvick", 'An application event log entry', 'k=v "q" [x] \\ é 😀', '', ' leading', 'AH00124: Request exceeded', 'a: b', '-', '[a x="1"]'];

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** A PRI and what it gives: level and facility, or null for a bad one. */
function pri(r: Rng): { text: string; level: string; facility: string } | { text: string; level: null; facility: null } {
  if (r.chance(0.1)) return { text: r.pick(['192', '999', '01', '007', '', 'a', '-1', '1000']), level: null, facility: null };
  const v = r.chance(0.2) ? r.pick([0, 7, 8, 191, 165, 34]) : r.int(192);
  return { text: String(v), level: SEVERITY_LEVEL[v & 7], facility: FACILITY[v >> 3] };
}

/** An RFC 3339 time as 5424 has it, and its UTC form; or NILVALUE. */
function time3339(r: Rng): { text: string; ts: string | null } {
  if (r.chance(0.15)) return { text: '-', ts: null };
  const t = Date.UTC(1990 + r.int(40), r.int(12), 1 + r.int(28), r.int(24), r.int(60), r.int(60));
  const digits = r.int(7);
  const frac = digits ? String(r.int(10 ** digits)).padStart(digits, '0') : '';
  const off = r.chance(0.5) ? 0 : (r.int(27) - 13) * 60 + r.pick([0, 30, 45]) * (r.chance(0.5) ? 1 : -1);
  const local = new Date(t + off * 60000).toISOString().slice(0, 19);
  const zone = off === 0 && r.chance(0.7) ? 'Z' : `${off < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
  return { text: `${local}${frac ? '.' + frac : ''}${zone}`, ts: new Date(t).toISOString().slice(0, 19) + (frac ? '.' + frac : '') + 'Z' };
}

/** A header field: NILVALUE (left out) or a token. */
function header(r: Rng): string {
  return r.chance(0.25) ? '-' : r.pick(TOKENS);
}

/** A param value with escapes: its text in the line and what it reads as. */
function paramValue(r: Rng): [string, string] {
  let text = '';
  let value = '';
  for (let n = r.int(5); n > 0; n--) {
    const k = r.int(8);
    if (k === 0) { text += '\\"'; value += '"'; }
    else if (k === 1) { text += '\\\\'; value += '\\'; }
    else if (k === 2) { text += '\\]'; value += ']'; }
    else if (k === 3) { text += '\\n'; value += '\\n'; } // other escapes stay as written
    else { const w = r.pick(['3', 'Application', 'é 😀', '[', '=', ' ', "'"]); text += w; value += w; }
  }
  return [text, value];
}

/** Structured data: "-" or elements; the fields they give (a repeated name gives an array). */
function structuredData(r: Rng): { text: string; fields: Record<string, unknown> } {
  if (r.chance(0.3)) return { text: '-', fields: {} };
  let text = '';
  const fields: Record<string, unknown> = {};
  const ids = ['exampleSDID@32473', 'examplePriority@32473', 'origin', 'meta', 'timeQuality', 'a'];
  for (let e = 1 + r.int(3); e > 0; e--) {
    let id = r.pick(ids);
    while (id in fields) id += 'x';
    const params: Record<string, unknown> = {};
    text += `[${id}`;
    for (let p = r.int(4); p > 0; p--) {
      const name = r.pick(['iut', 'eventSource', 'class', 'ip', 'x']);
      const [t, v] = paramValue(r);
      text += ` ${name}="${t}"`;
      const had = params[name];
      params[name] = had === undefined ? v : Array.isArray(had) ? [...had, v] : [had, v];
    }
    text += ']';
    fields[id] = params;
  }
  return { text, fields };
}

/** Ways to break structured data (the line then does not match). */
const BAD_SD = ['[', '[a', '[a ]', '[a x="1"', '[a x=1]', '[a x="1]', '[ a]', '[a x ="1"]', '[a x="1"]x', `[${'n'.repeat(33)}]`, '[a="1"]', '[a x="1"]]'];

export function syslog5424(r: Rng): Sample {
  const p = pri(r);
  const t = time3339(r);
  const [host, app, procid, msgid] = [header(r), header(r), r.chance(0.5) ? String(r.int(70000)) : header(r), header(r)];
  const bad = r.chance(0.1);
  const sd = bad ? { text: r.pick(BAD_SD), fields: {} } : structuredData(r);
  const msgKind = r.int(4); // none, plain, BOM + text, empty after the space
  const text = r.pick(TEXT);
  const msg = msgKind === 0 ? '' : msgKind === 1 ? ' ' + text : msgKind === 2 ? ' \uFEFF' + text : ' ';
  const line = `<${p.text}>1 ${t.text} ${host} ${app} ${procid} ${msgid} ${sd.text}${msg}`;
  if (p.level === null || bad) return { line, want: null };
  const fields: Record<string, unknown> = { facility: p.facility };
  if (host !== '-') fields.host = host;
  if (app !== '-') fields.app = app;
  if (procid !== '-') fields.pid = /^-?\d+$/.test(procid) ? Number(procid) : procid;
  if (msgid !== '-') fields.msgid = msgid;
  Object.assign(fields, sd.fields);
  // A space in the pattern takes a run of blanks: a message loses its leading ones.
  const got = msgKind === 0 ? null : msgKind === 3 ? '' : msgKind === 1 ? text.replace(/^[ \t]+/, '') : text;
  return { line, want: { ts: t.ts, level: p.level, msg: got, fields } };
}

/** An RFC 3164 line, with a <PRI> now and then. */
export function syslog3164(r: Rng): Sample {
  const p = r.chance(0.4) ? pri(r) : null;
  const month = r.int(12);
  const day = 1 + r.int(28);
  const time = `${pad(r.int(24))}:${pad(r.int(60))}:${pad(r.int(60))}`;
  const host = r.pick(['combo', 'mymachine', 'dn228/dn228']);
  const app = r.pick(['su', 'sshd(pam_unix)', 'kernel', 'crond']);
  const pid = r.chance(0.5) ? r.int(70000) : null;
  const text = r.pick(TEXT.filter((t) => t !== '' && !t.startsWith(' ')));
  const line = `${p ? `<${p.text}>` : ''}${MONTHS[month]} ${String(day).padStart(2, ' ')} ${time} ${host} ${app}${pid === null ? '' : `[${pid}]`}: ${text}`;
  if (p && p.level === null) return { line, want: null };
  const fields: Record<string, unknown> = {};
  if (p) fields.facility = p.facility;
  Object.assign(fields, { host, app });
  if (pid !== null) fields.pid = pid;
  return { line, want: { level: p ? p.level : null, msg: text, fields } };
}

const APACHE_LEVELS: [string, string | null][] = [['emerg', 'fatal'], ['alert', 'fatal'], ['crit', 'fatal'], ['error', 'error'], ['warn', 'warn'], ['notice', 'info'], ['info', 'info'], ['debug', 'debug'], ['trace3', null]];

function apacheTime(r: Rng, micro: boolean): { text: string; ts: string } {
  const d = new Date(Date.UTC(1995 + r.int(35), r.int(12), 1 + r.int(28), r.int(24), r.int(60), r.int(60)));
  const us = micro ? '.' + pad(r.int(1000000), 6) : '';
  const text = `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${pad(d.getUTCDate())} ${d.toISOString().slice(11, 19)}${us} ${d.getUTCFullYear()}`;
  return { text, ts: d.toISOString().slice(0, 19) + us + 'Z' };
}

export function apache24(r: Rng): Sample {
  const t = apacheTime(r, r.chance(0.9));
  const [lv, level] = r.pick(APACHE_LEVELS);
  const module = r.pick(['core', 'proxy', 'mpm_event', 'ssl', '-', 'proxy_fcgi']);
  const pid = r.chance(0.9) ? r.int(100000) : null;
  const tid = pid !== null && r.chance(0.6) ? 100000 + r.int(2 ** 31) : null;
  const client = r.chance(0.5) ? r.pick(['72.15.99.187:52104', '::1:58619', '10.0.0.1']) : null;
  const text = r.pick(['AH00124: Request exceeded the limit of 10 internal redirects', '(111)Connection refused: AH00957: HTTP: attempt failed', 'File does not exist: /x [y] z', 'x']);
  const line = `[${t.text}] [${module}:${lv}] ${pid === null ? '' : `[pid ${pid}${tid === null ? '' : `:tid ${tid}`}] `}${client === null ? '' : `[client ${client}] `}${text}`;
  const fields: Record<string, unknown> = {};
  if (module !== '-') fields.module = module;
  if (pid !== null) fields.pid = pid;
  if (tid !== null) fields.tid = tid;
  if (client !== null) fields.client = client;
  return { line, want: { ts: t.ts, level, msg: text, fields } };
}

export function apache22(r: Rng): Sample {
  const t = apacheTime(r, false);
  const [lv, level] = r.pick(APACHE_LEVELS.slice(0, 8));
  const client = r.chance(0.5) ? r.pick(['1.2.3.4', '192.168.0.10']) : null;
  const text = r.pick(['File does not exist: /var/www/favicon.ico', 'workerEnv.init() ok /etc/httpd/conf/workers2.properties', 'a:b] c', 'x']);
  const line = `[${t.text}] [${lv}] ${client === null ? '' : `[client ${client}] `}${text}`;
  return { line, want: { ts: t.ts, level, msg: text, fields: client === null ? {} : { client } } };
}
