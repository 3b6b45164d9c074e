// Who may connect and what they may read: bearer tokens, each allowed some
// sources, compared in constant time; and the Origin and Host of a request
// checked against the service's own origin and an allow-list.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIPv4, isIPv6 } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import type { ResolvedToken } from './config.js';

/** What a request may read. */
export interface Grant {
  /** null: every source. */
  readonly sources: ReadonlySet<string> | null;
  /** Who holds it (a prefix of the token's digest; '' when the service is open): durable names belong to one. */
  readonly holder: string;
}

const EVERYTHING: Grant = { sources: null, holder: '' };

export function mayRead(grant: Grant, source: string): boolean {
  return grant.sources === null || grant.sources.has(source);
}

/** Tokens are kept and compared as SHA-256 digests: fixed length, whatever was sent. */
export function tokenDigest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

export class Tokens {
  private readonly table: { digest: Buffer; grant: Grant }[];

  constructor(tokens: readonly ResolvedToken[]) {
    this.table = tokens.map((t) => ({ digest: t.digest, grant: { sources: t.sources === null ? null : new Set(t.sources), holder: t.digest.subarray(0, 8).toString('hex') } }));
  }

  /** No tokens configured: anyone who reaches the port may read every source. */
  get open(): boolean {
    return this.table.length === 0;
  }

  /**
   * What a presented token may read: every source when the service is open,
   * null when the token is missing or matches none. Every configured token
   * is compared, without stopping at a match, so the time taken says nothing
   * about which token matched or how much of one was right.
   */
  grant(presented: string | null): Grant | null {
    if (this.open) return EVERYTHING;
    if (presented === null) return null;
    const digest = tokenDigest(presented);
    let found: Grant | null = null;
    for (const t of this.table) if (timingSafeEqual(digest, t.digest) && found === null) found = t.grant;
    return found;
  }
}

/**
 * The token a request carries: `Authorization: Bearer …`, else `?token=`
 * (a browser cannot set headers on a WebSocket). A header of another scheme
 * counts as a wrong token, not as none.
 */
export function presentedToken(req: IncomingMessage): string | null {
  const auth = req.headers.authorization;
  if (auth !== undefined) return /^Bearer +([^ ]+) *$/i.exec(auth)?.[1] ?? '';
  const url = req.url ?? '';
  const q = url.indexOf('?');
  return q < 0 ? null : new URLSearchParams(url.slice(q + 1)).get('token');
}

export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, '$1');
  return h === 'localhost' || h === '::1' || (isIPv4(h) && h.startsWith('127.'));
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]';
}

/** A host as it stands in a URL: IPv6 addresses in brackets, lower case. */
function urlHost(host: string): string {
  return (isIPv6(host) ? `[${host}]` : host).toLowerCase();
}

/** The name part of a Host header (`[::1]:7070` → `[::1]`). */
function hostName(header: string): string {
  const h = header.toLowerCase();
  return h.startsWith('[') ? h.slice(0, h.indexOf(']') + 1) : h.replace(/:\d*$/, '');
}

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

/**
 * Origin and Host checks. A request without Origin is not from a browser
 * page and passes; a browser page must come from the service's own origin
 * (its address and port, with localhost's names on a loopback or wildcard
 * bind) or a listed one. On a loopback bind the Host header must name the
 * service too: a page whose DNS name was rebound to 127.0.0.1 sends its own
 * name there, and is refused before it can read anything.
 */
export class OriginPolicy {
  private readonly origins: Set<string>;
  private readonly hosts: Set<string> | null;

  constructor(bindHost: string, port: number, scheme: 'http' | 'https', listed: readonly string[]) {
    const own = new Set<string>([urlHost(bindHost)]);
    if (isLoopback(bindHost) || isWildcard(bindHost)) for (const n of LOOPBACK_NAMES) own.add(n);
    if (isWildcard(bindHost)) {
      own.add(hostname().toLowerCase());
      for (const addrs of Object.values(networkInterfaces())) for (const a of addrs ?? []) own.add(urlHost(a.address));
    }
    const defaultPort = (scheme === 'http' && port === 80) || (scheme === 'https' && port === 443);
    this.origins = new Set([...own].map((h) => `${scheme}://${h}${defaultPort ? '' : `:${port}`}`));
    for (const o of listed) this.origins.add(o.toLowerCase());
    this.hosts = isLoopback(bindHost) ? new Set([...own, ...listed.map((o) => new URL(o).hostname.toLowerCase())]) : null;
  }

  originAllowed(origin: string | undefined): boolean {
    return origin === undefined || this.origins.has(origin.toLowerCase());
  }

  hostAllowed(host: string | undefined): boolean {
    return host === undefined || this.hosts === null || this.hosts.has(hostName(host));
  }
}
