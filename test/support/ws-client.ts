// A test client for the service's WebSocket protocol: sends JSON, keeps
// every frame it gets, and waits for the one a test is after.
import WebSocket from 'ws';

export interface Frame {
  op: string;
  id?: string | null;
  [k: string]: unknown;
}

export class Client {
  readonly ws: WebSocket;
  readonly frames: Frame[] = [];
  private waiters: (() => void)[] = [];
  closed: { code: number; reason: string } | null = null;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data) => {
      this.frames.push(JSON.parse(data.toString()) as Frame);
      this.notify();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.notify();
    });
  }

  static async connect(url: string, options?: WebSocket.ClientOptions): Promise<Client> {
    const ws = new WebSocket(url.replace(/^http/, 'ws') + '/ws', options);
    const c = new Client(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return c;
  }

  private notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  send(msg: unknown): void {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  /** Wait until `pred` holds over the frames so far. */
  async until(pred: (frames: Frame[]) => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred(this.frames)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; last frames: ${JSON.stringify(this.frames.slice(-3)).slice(0, 800)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
  }

  /** Frames of subscription `id` with this op. */
  of(id: string, op: string): Frame[] {
    return this.frames.filter((f) => f.id === id && f.op === op);
  }

  /** Records of subscription `id`, in the order they came. */
  records(id: string): Record<string, unknown>[] {
    return this.of(id, 'records').flatMap((f) => f.records as Record<string, unknown>[]);
  }

  async waitRecords(id: string, n: number, timeoutMs = 10_000): Promise<Record<string, unknown>[]> {
    await this.until(() => this.records(id).length >= n, `${n} records for ${id} (have ${this.records(id).length})`, timeoutMs);
    return this.records(id);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    const done = new Promise<void>((resolve) => this.ws.once('close', () => resolve()));
    this.ws.terminate();
    await done;
  }
}
