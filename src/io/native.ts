// Loads the optional C addon (native/logwire_map.c) that maps file pages into
// WebAssembly memory. Callers use the pread path when loadNative() is null.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export interface NativeMapper {
  /** sysconf(_SC_PAGESIZE): offsets and window starts must be multiples of it. */
  pageSize: number;
  /**
   * Maps `length` bytes (rounded up to whole pages) of `fd` from `fileOffset`
   * at byte `regionOffset` of `memory` (a WebAssembly.Memory's buffer),
   * read-only and private: a JS write there crashes, a wasm one traps, and
   * after memory.grow() (which makes it writable) writes stay in memory and
   * never reach the file. Returns a slot id for unmapWindow/windowFaulted.
   * Throws RangeError/TypeError for bad arguments and an Error whose `code`
   * is the errno name (EBADF, ENODEV, EACCES…) when the system refuses. The
   * Memory must stay alive until the window is unmapped.
   */
  mapWindow(memory: ArrayBuffer, regionOffset: number, fd: number, fileOffset: number, length: number): number;
  /**
   * Puts zeroed read-write memory back over the window and frees the slot.
   * Returns whether a read past the file's end (truncated while mapped) was
   * turned into zeros in that window. Must run on the thread that mapped it.
   */
  unmapWindow(slot: number): boolean;
  /** Whether a read past the file's end has hit this window so far. */
  windowFaulted(slot: number): boolean;
}

interface Addon {
  pageSize(): number;
  mapWindow: NativeMapper['mapWindow'];
  unmapWindow: NativeMapper['unmapWindow'];
  windowFaulted: NativeMapper['windowFaulted'];
}

// This file runs as build/js/src/io/native.js; the addon is built in native/.
const ADDON_PATH = fileURLToPath(new URL('../../../../native/build/Release/logwire_map.node', import.meta.url));
const EXPORTS = ['pageSize', 'mapWindow', 'unmapWindow', 'windowFaulted'] as const;

let loaded: NativeMapper | null | undefined;
let loadError: string | null = null;

/** The addon, or null when it is missing, fails to load, or LOGWIRE_NO_NATIVE=1 is set. Cached. */
export function loadNative(): NativeMapper | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  if (process.env.LOGWIRE_NO_NATIVE === '1') {
    loadError = 'disabled by LOGWIRE_NO_NATIVE=1';
    return null;
  }
  if (!existsSync(ADDON_PATH)) {
    loadError = `${ADDON_PATH} is not built (npm run build builds it)`;
    return null;
  }
  let addon: Addon;
  try {
    addon = createRequire(import.meta.url)(ADDON_PATH) as Addon;
  } catch (err) {
    loadError = `cannot load ${ADDON_PATH}: ${err instanceof Error ? err.message : String(err)}`;
    return null;
  }
  // A stale build from an older source would fail later in confusing ways.
  const missing = EXPORTS.filter((name) => typeof addon[name] !== 'function');
  if (missing.length > 0) {
    loadError = `${ADDON_PATH} lacks ${missing.join(', ')}: rebuild it (npm run build)`;
    return null;
  }
  loaded = {
    pageSize: addon.pageSize(),
    mapWindow: addon.mapWindow,
    unmapWindow: addon.unmapWindow,
    windowFaulted: addon.windowFaulted,
  };
  return loaded;
}

/** Why loadNative() returned null (message), or null if it loaded. */
export function nativeLoadError(): string | null {
  loadNative();
  return loadError;
}
