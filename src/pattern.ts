// Dissect-style patterns, compiled for the WASM core (assembly/pattern.ts):
//   %{name}            a field, up to where the rest of the pattern can start
//   %{name:int}        an integer field (a JSON number when it is one)
//   %{name:word}       a field without blanks (the alternative fails where it would hold one)
//   %{name:nil}        a field that is left out when its text is exactly "-" (types combine: nil,int)
//   %{name:trim}       a field without the spaces and tabs its text starts or ends with
//   %{name:num}        an integer field that must be one: the alternative fails where it is not (nil,num: or "-")
//   %{} or %{?name}    a field that is matched and dropped
//   %{@ts:LAYOUT}      the record's timestamp, read with a strftime-like layout
//                      (%Y %y %m %d %H %M %S %f %.f %b %a %j %z %s %%); %{@ts:nil,LAYOUT}: "-" is no time
//   %{@level} %{@msg}  the record's level and message
//   %{@pri}            a syslog priority (1-3 digits): level from its severity, a facility field
//   %{@sd}             RFC 5424 structured data: one field per element
//   %[ … %]            an optional segment (kept when it matches, skipped when not)
//   … %| …             alternatives for the whole line, tried in order
//   a space            one or more spaces or tabs
//   %%                 a literal %; anything else is literal text
// The last field takes the rest of the line. Errors name the column.
import { createError, ErrorCodes } from './errors.js';

const OP = { end: 0, lit: 1, ws: 2, field: 3, opt: 4, optEnd: 5 } as const;
const KIND = { string: 0, int: 1, skip: 2, ts: 3, level: 4, msg: 5, pri: 6, sd: 7 } as const;
/** Or-ed into a field's kind (assembly/pattern.ts: FLAG_NIL, FLAG_WORD, FLAG_TRIM, FLAG_NUM). */
const FLAG = { nil: 0x100, word: 0x200, trim: 0x400, num: 0x800 } as const;
const LAYOUT_CODES = new Set('YymdHMSfbajzs%');
const FIELD_TYPES = ['int', 'nil', 'word', 'trim', 'num'];
/** The core's limits (assembly/pattern.ts: MAX_CAPS, and MAX_DEPTH less the segment each alternative but the last is wrapped in). */
const MAX_FIELDS = 64;
const MAX_NESTING = 16;

export interface CompiledPattern {
  /** Four i32 words per op. */
  ops: Int32Array;
  /** Literals, field keys and layouts, addressed by byte offsets from the program's start. */
  blob: Uint8Array;
  /** Field names, in order (for documentation and tests). */
  fields: string[];
  /**
   * The pattern cut after its timestamp, alternative by alternative (only
   * alternatives with a %{@ts:…} outside %[ %]), or null: multiline's
   * "timestamp" rule uses it to know a record's first line in this format.
   */
  timestampPrefix: string | null;
}

export const PROGRAM_BYTES = 64 << 10;

/** RFC 5424 and RFC 3164 (with or without the <PRI> a network sender puts first), in that order. */
const SYSLOG_5424 = '<%{@pri}>1 %{@ts:nil,%Y-%m-%dT%H:%M:%S%.f%z} %{host:nil} %{app:nil} %{pid:nil,int} %{msgid:nil} %{@sd}%[ %[\uFEFF%]%{@msg}%]';
const SYSLOG_3164_TIME = '%[<%{@pri}>%]%{@ts:%b %d %H:%M:%S} ';
/** A tag is one word, the program and an optional [pid], then ":"; the message after it may be empty. */
const SYSLOG_3164_TAG = '%{app:word}%[[%{pid:word,int}]%]:%[ %{@msg}%]';
/**
 * RFC 3164, in this order: a tag right after the time (no host: a first word
 * ending in ":" is a tag), a host and a tag, a host and a message without a tag.
 */
const SYSLOG_3164 = [SYSLOG_3164_TAG, `%{host:word} ${SYSLOG_3164_TAG}`, '%{host:word}%[ %{@msg}%]'].map((rest) => SYSLOG_3164_TIME + rest).join('%|');
/**
 * Apache 2.4 (module, pid, microseconds) and 2.2 in one pattern, the time read once: a 2.2
 * line never has a blank-free "module:" in its first brackets.
 */
const APACHE_ERROR = '[%{@ts:%a %b %d %H:%M:%S%.f %Y}] [%[%{module:nil,word}:%]%{@level}] %[[pid %{pid:int}%[:tid %{tid:int}%]] %]%[[client %{client}] %]%{@msg}';

/**
 * Access logs: the request is METHOD PATH [PROTOCOL], or METHOD PATH PROTOCOL with
 * blanks in the path; any other request ("-", "", a TLS handshake's bytes) is kept
 * whole as `request`.
 */
const ACCESS_REQUESTS = ['%{method:word} %{path:word}%[ %{protocol:word}%]', '%{method:word} %{path} %{protocol:word}', '%{request}'];
// status and size must be numbers (size may be "-"): a request that ends at a later quote fails there.
const accessLog = (tail: string) => ACCESS_REQUESTS.map((request) => `%{client} %{ident} %{user} [%{@ts:%d/%b/%Y:%H:%M:%S %z}] "${request}" %{status:num} %{size:nil,num}${tail}`).join('%|');

/** Formats that are patterns underneath (docs/patterns.md, "Built-in formats"). */
export const BUILTIN_PATTERNS = {
  // clf reads the common fields of a line and drops what follows the size (combined's referer and agent, say).
  clf: accessLog('%[ %{}%]'),
  // First with what follows the agent dropped (nginx's default "main" format adds "$http_x_forwarded_for"),
  // then with the agent running to the line's last quote (an agent holding \" ).
  combined: [' "%{referer}" "%{agent}"%[ %{}%]', ' "%{referer}" "%{agent}"'].map(accessLog).join('%|'),
  apache_error: APACHE_ERROR,
  syslog: `${SYSLOG_5424}%|${SYSLOG_3164}`,
} as const;
export type BuiltinPattern = keyof typeof BUILTIN_PATTERNS;

/** `column` is a UTF-16 index into the pattern; the message counts characters (code points). */
function fail(pattern: string, column: number, why: string): never {
  const chars = Array.from(pattern);
  const at = Array.from(pattern.slice(0, column)).length;
  const near = chars.slice(Math.max(0, at - 12), at + 12).join('');
  throw createError(ErrorCodes.INVALID_OPTION, `option "format": pattern column ${at + 1}: ${why} (near ${JSON.stringify(near)})`);
}

type Op = [number, number, number, number];

/** Check a timestamp layout; `at` is its column in the pattern. */
function checkLayout(pattern: string, layout: string, at: number): void {
  for (let k = 0; k < layout.length; k++) {
    if (layout[k] !== '%') continue;
    const code = layout[k + 1] === '.' && layout[k + 2] === 'f' ? '.f' : layout[k + 1];
    if (code !== '.f' && !LAYOUT_CODES.has(code)) fail(pattern, at + k, `unknown layout code %${code ?? ''} (known: %Y %y %m %d %H %M %S %f %.f %b %a %j %z %s %%)`);
    k += code.length;
  }
}

export function compilePattern(pattern: string): CompiledPattern {
  if (typeof pattern !== 'string' || pattern === '') throw createError(ErrorCodes.INVALID_OPTION, 'option "format": a pattern must be a non-empty string');
  // Each alternative is compiled on its own (jumps relative to its start), then laid out in order.
  const alternatives: Op[][] = [];
  let ops: Op[] = [];
  const pieces: { op: Op; word: number; bytes: Buffer }[] = [];
  const fields: string[] = [];
  /** Field names of the alternative being compiled (the same name may serve several alternatives). */
  let names = new Set<string>();
  const opens: { index: number; column: number }[] = [];
  let literal = '';
  /**
   * Whether some way through the optional segments so far (each kept or
   * skipped) ends with a field, to refuse two fields with nothing between them.
   */
  let lastWasField = false;
  /** lastWasField before each open %[ (a skipped segment leaves it as it was). */
  const fieldBefore: boolean[] = [];
  /** Fields of the alternative being compiled (the core captures at most MAX_FIELDS). */
  let fieldCount = 0;
  /** Where the alternative being compiled starts, and the column after its first top-level timestamp. */
  let altFrom = 0;
  let tsEnd = -1;
  const prefixes: string[] = [];
  const endAlternative = (at: number) => {
    if (tsEnd >= 0) prefixes.push(pattern.slice(altFrom, tsEnd));
    altFrom = at + 2;
    tsEnd = -1;
  };
  const name = (n: string, column: number) => {
    if (names.has(n)) fail(pattern, column, `the field "${n}" appears twice`);
    names.add(n);
    if (!fields.includes(n)) fields.push(n);
  };
  /** The record's slots (@ts, @level, @msg, @pri, @sd): one of each per alternative. */
  const slot = (n: string, column: number) => {
    if (names.has(n)) fail(pattern, column, `the slot ${n} appears twice`);
    names.add(n);
  };
  const flushLiteral = () => {
    if (literal === '') return;
    const op: Op = [OP.lit, 0, 0, 0];
    const bytes = Buffer.from(literal, 'utf8');
    op[2] = bytes.length;
    pieces.push({ op, word: 1, bytes });
    ops.push(op);
    literal = '';
    lastWasField = false;
  };
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i];
    if (c === ' ' || c === '\t') {
      flushLiteral();
      while (i < pattern.length && (pattern[i] === ' ' || pattern[i] === '\t')) i++;
      ops.push([OP.ws, 0, 0, 0]);
      lastWasField = false;
      continue;
    }
    if (c !== '%') {
      literal += c;
      i++;
      continue;
    }
    const next = pattern[i + 1];
    if (next === '%') {
      literal += '%';
      i += 2;
      continue;
    }
    if (next === '|') {
      flushLiteral();
      if (opens.length) fail(pattern, i, '%| separates alternatives of the whole pattern, not inside %[ %]');
      if (ops.length === 0) fail(pattern, i, 'an empty alternative');
      alternatives.push(ops);
      endAlternative(i);
      ops = [];
      names = new Set();
      fieldCount = 0;
      lastWasField = false;
      i += 2;
      continue;
    }
    if (next === '[') {
      flushLiteral();
      if (opens.length === MAX_NESTING) fail(pattern, i, `optional segments nest at most ${MAX_NESTING} deep`);
      opens.push({ index: ops.length, column: i });
      fieldBefore.push(lastWasField);
      ops.push([OP.opt, 0, 0, 0]);
      i += 2;
      continue;
    }
    if (next === ']') {
      flushLiteral();
      const open = opens.pop();
      if (!open) fail(pattern, i, '%] closes no optional segment');
      if (open.index === ops.length - 1) fail(pattern, open.column, 'an empty optional segment');
      ops.push([OP.optEnd, 0, 0, 0]);
      ops[open.index][1] = ops.length; // the op after the segment
      lastWasField = (fieldBefore.pop() as boolean) || lastWasField;
      i += 2;
      continue;
    }
    if (next !== '{') fail(pattern, i, 'a % starts %{field}, %[ optional %], %| (an alternative) or %% (a literal %)');
    const close = pattern.indexOf('}', i + 2);
    if (close < 0) fail(pattern, i, 'this %{ is not closed with }');
    if (pattern.slice(i + 2, close).includes('%{')) fail(pattern, i, 'this %{ is not closed with } before the next %{ (a field name cannot hold "%{")');
    flushLiteral();
    if (lastWasField) fail(pattern, i, 'two fields need literal text or a space between them (here, or where an optional segment is skipped)');
    if (++fieldCount > MAX_FIELDS) fail(pattern, i, `an alternative holds at most ${MAX_FIELDS} fields`);
    const spec = pattern.slice(i + 2, close);
    const colon = spec.indexOf(':');
    const fieldName = colon < 0 ? spec : spec.slice(0, colon);
    const type = colon < 0 ? '' : spec.slice(colon + 1);
    const typeColumn = i + 2 + colon + 1;
    const op: Op = [OP.field, KIND.string, 0, 0];
    if (fieldName === '' || fieldName.startsWith('?')) {
      if (type !== '') fail(pattern, i, 'a skipped field takes no type');
      op[1] = KIND.skip;
    } else if (fieldName === '@ts') {
      const nil = type.startsWith('nil,');
      const layout = nil ? type.slice(4) : type;
      if (layout === '') fail(pattern, i, '%{@ts:LAYOUT} needs a layout, e.g. %{@ts:%Y-%m-%d %H:%M:%S}');
      slot(fieldName, i);
      checkLayout(pattern, layout, typeColumn + (nil ? 4 : 0));
      if (tsEnd < 0 && opens.length === 0) tsEnd = close + 1;
      op[1] = KIND.ts | (nil ? FLAG.nil : 0);
      pieces.push({ op, word: 2, bytes: Buffer.from(layout, 'utf8') });
    } else if (fieldName === '@level' || fieldName === '@msg' || fieldName === '@sd' || fieldName === '@pri') {
      if (type !== '') fail(pattern, i, `${fieldName} takes no type`);
      slot(fieldName, i);
      op[1] = { '@level': KIND.level, '@msg': KIND.msg, '@sd': KIND.sd, '@pri': KIND.pri }[fieldName];
      // The priority writes a facility field.
      if (fieldName === '@pri') name('facility', i);
    } else {
      if (fieldName.startsWith('@')) fail(pattern, i, `unknown slot ${fieldName} (the slots are @ts, @level, @msg, @pri and @sd)`);
      const types = type === '' ? [] : type.split(',');
      for (const t of types) {
        if (!FIELD_TYPES.includes(t)) fail(pattern, i, `unknown field type "${t}" (the types are int, num, nil, word and trim, e.g. %{pid:nil,int}; timestamps are %{@ts:LAYOUT})`);
      }
      name(fieldName, i);
      const num = types.includes('num');
      op[1] = (types.includes('int') || num ? KIND.int : KIND.string) | (types.includes('nil') ? FLAG.nil : 0) | (types.includes('word') ? FLAG.word : 0) |
        (types.includes('trim') ? FLAG.trim : 0) | (num ? FLAG.num : 0);
      pieces.push({ op, word: 2, bytes: Buffer.from(`${JSON.stringify(fieldName)}:`, 'utf8') });
    }
    ops.push(op);
    lastWasField = true;
    i = close + 1;
  }
  flushLiteral();
  if (opens.length) fail(pattern, opens[opens.length - 1].column, 'this %[ is not closed with %]');
  if (ops.length === 0) fail(pattern, pattern.length - 2, 'an empty alternative');
  alternatives.push(ops);
  endAlternative(pattern.length);
  // Every alternative but the last is an optional segment that ends the line
  // (its OP_END): when it fails the core goes on with the next one.
  const program: Op[] = [];
  alternatives.forEach((alt, k) => {
    const last = k === alternatives.length - 1;
    const wrap: Op | null = last ? null : [OP.opt, 0, 0, 0];
    if (wrap) program.push(wrap);
    const base = program.length;
    for (const o of alt) {
      if (o[0] === OP.opt) o[1] += base;
      program.push(o);
    }
    program.push([OP.end, 0, 0, 0]);
    if (wrap) {
      program.push([OP.optEnd, 0, 0, 0]);
      wrap[1] = program.length;
    }
  });
  // Lay the pieces out after the ops.
  let at = program.length * 16;
  const parts: Buffer[] = [];
  for (const p of pieces) {
    p.op[p.word] = at;
    if (p.word === 2) p.op[3] = p.bytes.length;
    parts.push(p.bytes);
    at += p.bytes.length;
  }
  if (at > PROGRAM_BYTES) throw createError(ErrorCodes.INVALID_OPTION, `option "format": the pattern is too long (${at} bytes compiled; at most ${PROGRAM_BYTES})`);
  return { ops: Int32Array.from(program.flat()), blob: Buffer.concat(parts), fields, timestampPrefix: prefixes.length ? prefixes.join('%|') : null };
}

