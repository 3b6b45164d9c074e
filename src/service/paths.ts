// Path confinement: a source reads only files that really are under its
// roots (symlinks resolved in every component, compared component by
// component), and a client's `from.file` only names a file already followed.
import { closeSync, constants, fstatSync, openSync, readlinkSync, realpathSync } from 'node:fs';
import { isAbsolute, normalize, relative } from 'node:path';

/** `path` is `root` or below it; both absolute. `/srv/logs-secret` is not under `/srv/logs`. */
export function isUnder(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (rel !== '..' && !rel.startsWith('../') && !isAbsolute(rel));
}

export function hasDotDot(path: string): boolean {
  return path.split('/').includes('..');
}

export function realpathOrNull(path: string): string | null {
  try {
    return realpathSync(path);
  } catch {
    return null;
  }
}

// O_NONBLOCK: a FIFO swapped in for a log file must not hang the service in open().
// O_NOFOLLOW: the path opened is already resolved; a symlink put there since is refused.
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW;

/** Where a source may read: its roots, resolved once they exist (the roots themselves are the operator's). */
export class Confinement {
  private readonly roots: { given: string; real: string | null }[];
  /** Paths refused because they lead outside the roots (the first 1000; each reported once). */
  readonly refused = new Set<string>();

  constructor(roots: readonly string[], private readonly onRefuse: (path: string, real: string) => void = () => {}) {
    this.roots = roots.map((given) => ({ given, real: null }));
  }

  /** The roots resolved; a root that does not exist yet is resolved when it appears, then kept. */
  private real(): string[] {
    const out: string[] = [];
    for (const r of this.roots) {
      r.real ??= realpathOrNull(r.given);
      if (r.real !== null) out.push(r.real);
    }
    return out;
  }

  private inside(real: string): boolean {
    return this.real().some((root) => isUnder(real, root));
  }

  /**
   * A client's `from.file`, checked by its text alone (no file is looked
   * at): absolute, no `..`, under a root as given or as resolved. Returns
   * the normalized path, or why it is refused.
   */
  checkClientPath(file: string): { path: string } | { refused: string } {
    if (!isAbsolute(file)) return { refused: 'must be an absolute path' };
    if (hasDotDot(file)) return { refused: 'may not contain ".."' };
    const path = normalize(file);
    const roots = [...this.roots.map((r) => r.given), ...this.real()];
    if (!roots.some((r) => isUnder(path, r))) return { refused: 'is outside the source\'s roots' };
    return { path };
  }

  /**
   * Open the regular file at `path` read-only if it really is under a root;
   * null if it is not (reported once per path), is gone or is not a regular
   * file. Checked before the open (nothing outside is opened) and again on
   * the descriptor (a symlink swapped in meanwhile is caught).
   */
  open(path: string): number | null {
    const real = realpathOrNull(path);
    if (real === null) return null;
    if (!this.inside(real)) return this.refuse(path, real);
    let fd: number;
    try {
      fd = openSync(real, OPEN_FLAGS);
    } catch {
      return null;
    }
    const opened = followedPath(fd) ?? real;
    if (this.inside(opened) && fstatSync(fd).isFile()) return fd;
    closeSync(fd);
    return this.inside(opened) ? null : this.refuse(path, opened);
  }

  private refuse(path: string, real: string): null {
    if (!this.refused.has(path) && this.refused.size < 1000) {
      this.refused.add(path);
      this.onRefuse(path, real);
    }
    return null;
  }
}

/** The resolved path a descriptor's file has now (Linux /proc); null if it was deleted or /proc cannot say. */
export function followedPath(fd: number): string | null {
  try {
    const p = readlinkSync(`/proc/self/fd/${fd}`);
    return p.endsWith(' (deleted)') ? null : p;
  } catch {
    return null;
  }
}
