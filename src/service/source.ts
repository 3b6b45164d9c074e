// A source's files, followed like `tail -F`: globs expanded, each file known
// by device + inode + a CRC32C of its first bytes, changes seen through
// inotify (fs.watch) with polling beside it. Subscriptions read the bytes;
// this module only says what exists, how large it is and what happened.
import { EventEmitter } from 'node:events';
import { closeSync, fstatSync, readdirSync, statSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { findByIdentity, fingerprint, FINGERPRINT_BYTES } from '../durability/position.js';
import type { ConcreteFormat } from '../options.js';
import type { ResolvedSource } from './config.js';
import { Confinement, followedPath } from './paths.js';


export type RotateReason = 'renamed' | 'truncated' | 'deleted' | 'created';

export interface TrackedFile {
  /** Order of discovery within the source. */
  readonly seq: number;
  path: string;
  readonly dev: number;
  readonly ino: number;
  /** Open for as long as the file is tracked, so a renamed or deleted file can be read to its end. */
  readonly fd: number;
  /** Size at the last check. */
  size: number;
  /** Modification time (ms) at the last check: syslog times without a year are read against it. */
  mtimeMs: number;
  /** CRC32C of the first fpLength bytes. */
  fp: number;
  fpLength: number;
  /** Still at a path the globs match; false once renamed away or deleted. */
  live: boolean;
  /** Bumped when the file is truncated: readers restart at 0. */
  generation: number;
  /** performance.now() when growth was last seen. */
  grewAt: number;
  /** Format chosen for the file (auto resolved on first read). */
  format: ConcreteFormat | null;
  /** Where a renamed file went (null if deleted or unknown). */
  movedTo: string | null;
  /** performance.now() when it stopped being live (renamed away or deleted). */
  goneAt: number;
  /** The size it had when it was last found truncated (readers short of it have lost bytes). */
  truncatedFrom: number;
  /** Subscription readers on this file: a file no longer live is closed when none is left. */
  readers: number;
  /** A known (offset, line) pair, the furthest any reader got: counting lines restarts here. */
  known: { offset: number; line: number };
}

export interface SourceEvents {
  /** A file grew (or was first seen). */
  grow: (file: TrackedFile) => void;
  /** A file was created, renamed away, truncated or deleted. */
  rotate: (file: TrackedFile, reason: RotateReason) => void;
}

function globRegex(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const close = pattern.indexOf(']', i + 1);
      if (close < 0) re += '\\[';
      else {
        const body = pattern.slice(i + 1, close).replace(/\\/g, '\\\\');
        re += `[${body.startsWith('!') ? '^' + body.slice(1) : body}]`;
        i = close;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

export class Source extends EventEmitter {
  readonly config: ResolvedSource;
  /** Only files really under the source's roots are opened (docs/service.md, "Security"). */
  readonly confinement: Confinement;
  /** Tracked files by seq, oldest first (Map keeps insertion order). */
  readonly files = new Map<number, TrackedFile>();
  private readonly patterns: { dir: string; re: RegExp }[];
  private readonly watchers = new Map<string, FSWatcher>();
  private timer: NodeJS.Timeout | null = null;
  private checkQueued = false;
  private fullCheck = false;
  private readonly changed = new Set<TrackedFile>();
  private nextSeq = 0;
  private closed = false;
  /** Bytes and records parsed for this source's subscribers (metrics). */
  bytesParsed = 0;
  recordsParsed = 0;

  constructor(config: ResolvedSource, pollMs: number, onRefuse?: (path: string, real: string) => void) {
    super();
    this.config = config;
    this.confinement = new Confinement(config.roots, onRefuse);
    this.patterns = config.globs.map((g) => ({ dir: dirname(g), re: globRegex(basename(g)) }));
    // Every subscription listens: there is no sensible maximum.
    this.setMaxListeners(0);
    this.check();
    this.timer = setInterval(() => this.check(), pollMs);
    this.timer.unref();
  }

  /** inotify on each directory of the globs; one that does not exist yet is tried again at every poll. */
  private watchDirs(): void {
    for (const dir of new Set(this.patterns.map((p) => p.dir))) {
      if (this.watchers.has(dir)) continue;
      try {
        const w = watch(dir, { persistent: false }, (event, name) => this.queueCheck(event === 'change' && name ? join(dir, name) : null));
        w.on('error', () => {
          // The directory went away: polling keeps looking, and watches it again once it is back.
          w.close();
          this.watchers.delete(dir);
        });
        this.watchers.set(dir, w);
      } catch {
        // No such directory yet, or no inotify: polling covers it meanwhile.
      }
    }
  }

  override on<E extends keyof SourceEvents>(event: E, listener: SourceEvents[E]): this {
    return super.on(event, listener);
  }

  /** Files a new subscription reads: those still at a matching path, oldest first. */
  liveFiles(): TrackedFile[] {
    return [...this.files.values()].filter((f) => f.live);
  }

  find(dev: number, ino: number): TrackedFile | undefined {
    for (const f of this.files.values()) if (f.dev === dev && f.ino === ino) return f;
    return undefined;
  }

  /**
   * Look soon (a burst of inotify events gives one look): at one file when
   * only its content changed, else at everything (a name appeared or went).
   */
  private queueCheck(changed: string | null): void {
    if (this.closed) return;
    const f = changed === null ? undefined : this.liveFiles().find((x) => x.path === changed);
    if (f) this.changed.add(f);
    else this.fullCheck = true;
    if (this.checkQueued) return;
    this.checkQueued = true;
    setImmediate(() => {
      this.checkQueued = false;
      const full = this.fullCheck;
      const files = [...this.changed];
      this.fullCheck = false;
      this.changed.clear();
      if (full) this.check();
      else {
        const now = performance.now();
        for (const x of files) if (this.files.has(x.seq)) this.look(x, now);
      }
    });
  }

  private matches(): string[] {
    const out: string[] = [];
    for (const { dir, re } of this.patterns) {
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        continue;
      }
      for (const n of names.sort()) if (re.test(n)) out.push(join(dir, n));
    }
    return [...new Set(out)];
  }

  /** Look at the files: new ones, growth, truncation, renames and deletions. */
  check(): void {
    if (this.closed) return;
    if (this.watchers.size < new Set(this.patterns.map((p) => p.dir)).size) this.watchDirs();
    const now = performance.now();
    const seen = new Set<TrackedFile>();
    const fresh: TrackedFile[] = [];
    for (const path of this.matches()) {
      let st;
      try {
        st = statSync(path);
      } catch {
        continue;
      }
      if (!st.isFile()) continue;
      let f = this.find(st.dev, st.ino);
      if (!f) {
        const fd = this.confinement.open(path);
        if (fd === null) continue;
        f = this.track(path, fd, now);
        fresh.push(f);
      }
      f.path = path;
      seen.add(f);
    }
    for (const f of this.files.values()) {
      if (fresh.includes(f)) continue;
      const gone = this.look(f, now);
      if (f.live && !seen.has(f)) {
        // Renamed away or deleted: still readable through its descriptor until every reader is done.
        f.live = false;
        f.goneAt = now;
        f.movedTo = gone ? null : followedPath(f.fd);
        this.emit('rotate', f, gone ? 'deleted' : 'renamed');
        this.release(f);
      }
    }
    // After the old files' news, so a subscriber hears "renamed" before "created".
    for (const f of fresh) {
      this.emit('rotate', f, 'created');
      this.emit('grow', f);
    }
  }

  /** Growth or truncation of one file; true if it has been unlinked. */
  private look(f: TrackedFile, now: number): boolean {
    let st;
    try {
      st = fstatSync(f.fd);
    } catch {
      return false;
    }
    f.mtimeMs = st.mtimeMs;
    if (st.size < f.size) this.truncated(f, now);
    else this.verify(f, st.size);
    if (st.size > f.size) {
      f.size = st.size;
      f.grewAt = now;
      this.emit('grow', f);
    }
    return st.nlink === 0;
  }

  /**
   * Check that a file still starts with the bytes it was fingerprinted on
   * (else it was cut and written again: truncated), and fingerprint more of
   * it while it is shorter than FINGERPRINT_BYTES. False if it was truncated.
   */
  verify(f: TrackedFile, size = fstatSync(f.fd).size): boolean {
    if (f.fpLength > 0 && (size < f.fpLength || fingerprint(f.fd, f.fpLength).fp !== f.fp)) {
      this.truncated(f);
      return false;
    }
    if (f.fpLength < FINGERPRINT_BYTES && size > f.fpLength) Object.assign(f, fingerprint(f.fd, size));
    return true;
  }

  /** A file was found shorter than what was read of it: every reader starts it again at 0. */
  truncated(f: TrackedFile, now = performance.now()): void {
    f.truncatedFrom = f.size;
    f.generation++;
    f.size = fstatSync(f.fd).size;
    Object.assign(f, fingerprint(f.fd, f.size));
    f.known = { offset: 0, line: 1 };
    f.grewAt = now;
    this.emit('rotate', f, 'truncated');
  }

  private track(path: string, fd: number, now: number): TrackedFile {
    const real = fstatSync(fd);
    const f: TrackedFile = {
      seq: this.nextSeq++, path, dev: real.dev, ino: real.ino, fd, size: real.size, mtimeMs: real.mtimeMs, ...fingerprint(fd, real.size),
      live: true, generation: 0, grewAt: now, format: null, movedTo: null, goneAt: 0, truncatedFrom: 0, readers: 0, known: { offset: 0, line: 1 },
    };
    this.files.set(f.seq, f);
    return f;
  }

  /**
   * A file this source no longer follows (rotated to a name its globs do not
   * match), found again by device + inode in the globs' directories, so that
   * a cursor into it can be finished. Tracked as not live; undefined if gone.
   */
  adopt(dev: number, ino: number): TrackedFile | undefined {
    const known = this.find(dev, ino);
    if (known) return known;
    for (const dir of new Set(this.patterns.map((p) => p.dir))) {
      const path = findByIdentity(dir, dev, ino);
      if (path === null) continue;
      const fd = this.confinement.open(path);
      if (fd === null) continue;
      const now = performance.now();
      const f = this.track(path, fd, now);
      if (f.dev !== dev || f.ino !== ino) {
        this.files.delete(f.seq);
        closeSync(fd);
        continue;
      }
      f.live = false;
      f.goneAt = now;
      return f;
    }
    return undefined;
  }

  /** A file no longer live that no subscription still reads: close it. */
  release(f: TrackedFile): void {
    if (f.live || f.readers > 0 || !this.files.has(f.seq)) return;
    this.files.delete(f.seq);
    try {
      closeSync(f.fd);
    } catch {
      // already closed
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    for (const w of this.watchers.values()) w.close();
    for (const f of this.files.values()) {
      try {
        closeSync(f.fd);
      } catch {
        // already closed
      }
    }
    this.files.clear();
  }
}
