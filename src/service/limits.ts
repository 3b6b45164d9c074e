// What one client may cost the service: a message rate per connection, a
// cap on request headers, and refusals written to the raw socket of an
// upgrade request, before any WebSocket exists.
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

/** Header lines a request may have (a browser sends about 20); more are refused with 431. */
export const MAX_HEADERS = 100;
/** Header bytes a request may have (Node's default, stated): more are refused with 431 by the parser. */
export const MAX_HEADER_BYTES = 16 << 10;
/** A request's headers must all be in within this time... */
export const HEADERS_TIMEOUT_MS = 10_000;
/** ...and the whole request (bodies are not read here: every endpoint is a GET). */
export const REQUEST_TIMEOUT_MS = 30_000;

/**
 * Node keeps at most maxHeadersCount headers and drops the rest silently;
 * keeping one more than allowed shows that there were too many.
 */
export const HEADERS_KEPT = MAX_HEADERS + 1;

export function tooManyHeaders(rawHeaders: string[]): boolean {
  return rawHeaders.length / 2 > MAX_HEADERS;
}

/** A token bucket: `rate` per second on average, `burst` at once. */
export class RateLimit {
  private tokens: number;
  private last = performance.now();

  constructor(private readonly rate: number, private readonly burst: number) {
    this.tokens = burst;
  }

  take(): boolean {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.rate) / 1000);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** Answer an upgrade request with an HTTP error and close its socket. */
export function refuseUpgrade(socket: Duplex, status: number, message: string, headers: Record<string, string> = {}): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = `${message}\n`;
  const head = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}`,
    'Connection: close',
    'Content-Type: text/plain; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.once('finish', () => socket.destroy());
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
}
