// Dissect-style patterns, compiled for the WASM core (assembly/pattern.ts):
//   %{name}            a field, up to where the rest of the pattern can start
//   %{name:int}        an integer field (a JSON number when it is one)
//   %{} or %{?name}    a field that is matched and dropped
//   %{@ts:LAYOUT}      the record's timestamp, read with a strftime-like layout
//                      (%Y %y %m %d %H %M %S %f %b %a %j %z %s %%)
//   %{@level} %{@msg}  the record's level and message
//   %[ … %]            an optional segment (kept when it matches, skipped when not)
//   a space            one or more spaces or tabs
//   %%                 a literal %; anything else is literal text
// The last field takes the rest of the line. Errors name the column.
import { createError, ErrorCodes } from './errors.js';

const OP = { end: 0, lit: 1, ws: 2, field: 3, opt: 4, optEnd: 5 } as const;
const KIND = { string: 0, int: 1, skip: 2, ts: 3, level: 4, msg: 5 } as const;
const LAYOUT_CODES = new Set('YymdHMSfbajzs%');

export interface CompiledPattern {
  /** Four i32 words per op. */
  ops: Int32Array;
  /** Literals, field keys and layouts, addressed by byte offsets from the program's start. */
  blob: Uint8Array;
  /** Field names, in order (for documentation and tests). */
  fields: string[];
}

export const PROGRAM_BYTES = 64 << 10;

/** Formats that are patterns underneath (docs/patterns.md, "Built-in formats"). */
export const BUILTIN_PATTERNS = {
  clf: '%{client} %{ident} %{user} [%{@ts:%d/%b/%Y:%H:%M:%S %z}] "%{method} %{path}%[ %{protocol}%]" %{status:int} %{size:int}',
  combined: '%{client} %{ident} %{user} [%{@ts:%d/%b/%Y:%H:%M:%S %z}] "%{method} %{path}%[ %{protocol}%]" %{status:int} %{size:int} "%{referer}" "%{agent}"',
  apache_error: '[%{@ts:%a %b %d %H:%M:%S %Y}] [%{@level}] %[[client %{client}] %]%{@msg}',
  syslog: '%{@ts:%b %d %H:%M:%S} %{host} %{app}%[[%{pid:int}]%]: %{@msg}',
} as const;
export type BuiltinPattern = keyof typeof BUILTIN_PATTERNS;

function fail(pattern: string, column: number, why: string): never {
  const from = Math.max(0, column - 12);
  const near = pattern.slice(from, column + 12);
  throw createError(ErrorCodes.INVALID_OPTION, `option "format": pattern column ${column + 1}: ${why} (near ${JSON.stringify(near)})`);
}

export function compilePattern(pattern: string): CompiledPattern {
  if (typeof pattern !== 'string' || pattern === '') throw createError(ErrorCodes.INVALID_OPTION, 'option "format": a pattern must be a non-empty string');
  type Op = [number, number, number, number];
  const ops: Op[] = [];
  const pieces: { op: Op; word: number; bytes: Buffer }[] = [];
  const fields: string[] = [];
  const opens: { index: number; column: number }[] = [];
  let literal = '';
  /** What the last op was, to refuse two fields with nothing between them. */
  let lastWasField = false;
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
    if (next === '[') {
      flushLiteral();
      opens.push({ index: ops.length, column: i });
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
      lastWasField = false;
      i += 2;
      continue;
    }
    if (next !== '{') fail(pattern, i, 'a % starts %{field}, %[ optional %], or %% (a literal %)');
    const close = pattern.indexOf('}', i + 2);
    if (close < 0) fail(pattern, i, 'this %{ is not closed with }');
    flushLiteral();
    if (lastWasField) fail(pattern, i, 'two fields need literal text or a space between them');
    const spec = pattern.slice(i + 2, close);
    const colon = spec.indexOf(':');
    const name = colon < 0 ? spec : spec.slice(0, colon);
    const type = colon < 0 ? '' : spec.slice(colon + 1);
    const op: Op = [OP.field, KIND.string, 0, 0];
    if (name === '' || name.startsWith('?')) {
      if (type !== '') fail(pattern, i, 'a skipped field takes no type');
      op[1] = KIND.skip;
    } else if (name === '@ts') {
      if (type === '') fail(pattern, i, '%{@ts:LAYOUT} needs a layout, e.g. %{@ts:%Y-%m-%d %H:%M:%S}');
      for (let k = 0; k < type.length; k++) {
        if (type[k] !== '%') continue;
        if (!LAYOUT_CODES.has(type[k + 1])) fail(pattern, i + 2 + colon + 1 + k, `unknown layout code %${type[k + 1] ?? ''} (known: %Y %y %m %d %H %M %S %f %b %a %j %z %s %%)`);
        k++;
      }
      op[1] = KIND.ts;
      pieces.push({ op, word: 2, bytes: Buffer.from(type, 'utf8') });
    } else if (name === '@level' || name === '@msg') {
      if (type !== '') fail(pattern, i, `${name} takes no type`);
      op[1] = name === '@level' ? KIND.level : KIND.msg;
    } else {
      if (name.startsWith('@')) fail(pattern, i, `unknown slot ${name} (the slots are @ts, @level and @msg)`);
      if (type !== '' && type !== 'int') fail(pattern, i, `unknown field type "${type}" (the one type is int; timestamps are %{@ts:LAYOUT})`);
      if (fields.includes(name)) fail(pattern, i, `the field "${name}" appears twice`);
      fields.push(name);
      op[1] = type === 'int' ? KIND.int : KIND.string;
      pieces.push({ op, word: 2, bytes: Buffer.from(`${JSON.stringify(name)}:`, 'utf8') });
    }
    ops.push(op);
    lastWasField = true;
    i = close + 1;
  }
  flushLiteral();
  if (opens.length) fail(pattern, opens[opens.length - 1].column, 'this %[ is not closed with %]');
  ops.push([OP.end, 0, 0, 0]);
  // Lay the pieces out after the ops.
  let at = ops.length * 16;
  const parts: Buffer[] = [];
  for (const p of pieces) {
    p.op[p.word] = at;
    if (p.word === 2) p.op[3] = p.bytes.length;
    parts.push(p.bytes);
    at += p.bytes.length;
  }
  if (at > PROGRAM_BYTES) throw createError(ErrorCodes.INVALID_OPTION, `option "format": the pattern is too long (${at} bytes compiled; at most ${PROGRAM_BYTES})`);
  return { ops: Int32Array.from(ops.flat()), blob: Buffer.concat(parts), fields };
}

/**
 * The start of a pattern up to its timestamp, when only literal text and
 * spaces come before %{@ts:…}: multiline's "timestamp" rule uses it to know
 * a record's first line in that format. Null when the pattern has none.
 */
export function timestampPrefix(pattern: string): string | null {
  let i = 0;
  while (i < pattern.length) {
    if (pattern[i] !== '%') {
      i++;
      continue;
    }
    if (pattern[i + 1] === '%') {
      i += 2;
      continue;
    }
    if (!pattern.startsWith('%{@ts:', i)) return null;
    const close = pattern.indexOf('}', i);
    return close < 0 ? null : pattern.slice(0, close + 1);
  }
  return null;
}
