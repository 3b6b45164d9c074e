// Time zones for timestamps written without an offset: a fixed offset, or an
// IANA zone whose rules come from Intl (the WASM core asks through an import).
import { createError, describeValue, ErrorCodes } from './errors.js';

export type Zone = { kind: 'fixed'; offsetSeconds: number; name: string } | { kind: 'iana'; name: string };

const FIXED = /^(?:UTC|GMT|Z)?([+-])(\d{2}):?(\d{2})?$/i;

/** Parse the `tz` option: 'UTC', '+05:30', '-0800', '+05' or an IANA name. */
export function parseZone(tz: string): Zone {
  if (typeof tz !== 'string' || tz === '') {
    throw createError(ErrorCodes.INVALID_OPTION, `option "tz" must be "UTC", a fixed offset like "+05:30", or an IANA zone name; got ${describeValue(tz)}`);
  }
  if (/^(utc|gmt|z)$/i.test(tz)) return { kind: 'fixed', offsetSeconds: 0, name: 'UTC' };
  const m = FIXED.exec(tz);
  if (m) {
    const h = Number(m[2]);
    const mi = Number(m[3] ?? '0');
    if (h > 23 || mi > 59) throw createError(ErrorCodes.INVALID_OPTION, `option "tz": offset ${tz} is out of range (at most ±23:59)`);
    return { kind: 'fixed', offsetSeconds: (m[1] === '-' ? -1 : 1) * (h * 3600 + mi * 60), name: tz };
  }
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
  } catch {
    throw createError(ErrorCodes.INVALID_OPTION, `option "tz": unknown time zone ${JSON.stringify(tz)} (use an IANA name like "Europe/Berlin" or an offset like "+02:00")`);
  }
  return { kind: 'iana', name: tz };
}

const formats = new Map<string, Intl.DateTimeFormat>();

/** UTC offset in seconds of an IANA zone at the instant `utcSeconds`. */
export function offsetAt(zone: string, utcSeconds: number): number {
  let f = formats.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone, hourCycle: 'h23', era: 'short',
      year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formats.set(zone, f);
  }
  const parts: Record<string, string> = {};
  for (const p of f.formatToParts(new Date(utcSeconds * 1000))) parts[p.type] = p.value;
  let year = Number(parts.year);
  if (parts.era === 'BC' || parts.era === 'B') year = 1 - year;
  // setUTCFullYear, unlike Date.UTC, does not map years 0–99 to 1900–1999.
  const d = new Date(0);
  d.setUTCFullYear(year, Number(parts.month) - 1, Number(parts.day));
  d.setUTCHours(Number(parts.hour), Number(parts.minute), Number(parts.second), 0);
  return d.getTime() / 1000 - Math.floor(utcSeconds);
}

/**
 * Offset to subtract from a local time (seconds since the epoch, read as if
 * UTC) to get UTC. A repeated local time takes the earlier instant; a skipped
 * one takes the offset in force before the change.
 */
export function offsetForLocal(zone: string, local: number): number {
  const before = offsetAt(zone, local - 86400);
  const after = offsetAt(zone, local + 86400);
  const tBefore = local - before;
  const tAfter = local - after;
  const okBefore = offsetAt(zone, tBefore) === before;
  const okAfter = offsetAt(zone, tAfter) === after;
  if (okBefore && okAfter) return tBefore <= tAfter ? before : after;
  if (okBefore) return before;
  if (okAfter) return after;
  return before;
}
