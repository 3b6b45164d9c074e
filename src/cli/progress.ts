// A progress line on stderr, only when stderr is a terminal and the input is
// large enough for it to matter.
const MIN_BYTES = 64 << 20;

export class Progress {
  private readonly name: string;
  private readonly size: number;
  private readonly on: boolean;
  private readonly t0 = performance.now();
  private last = 0;

  constructor(name: string, size: number) {
    this.name = name;
    this.size = size;
    this.on = !!process.stderr.isTTY && size >= MIN_BYTES;
  }

  /** `through`: the input offset read so far. */
  update(through: number): void {
    if (!this.on) return;
    const now = performance.now();
    if (now - this.last < 200) return;
    this.last = now;
    const done = Math.min(this.size, through);
    const frac = this.size ? done / this.size : 0;
    const width = 30;
    const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, ' ');
    const mbs = done / ((now - this.t0) / 1000) / 1e6;
    process.stderr.write(`\r${this.name} [${bar}] ${(frac * 100).toFixed(0).padStart(3)}% ${mbs.toFixed(0)} MB/s`);
  }

  finish(): void {
    if (this.on && this.last) process.stderr.write('\r\x1b[2K');
  }
}
