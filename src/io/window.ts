// File bytes into the core's reserved input region, one window at a time:
// mapped straight from the page cache (mmap, the native addon) or copied in
// with pread. Both give the core the same bytes at the same place.
import { fstatSync, readSync } from 'node:fs';
import { createError, ErrorCodes } from '../errors.js';
import type { WasmCore } from '../wasm/bridge.js';
import { loadNative, nativeLoadError, type NativeMapper } from './native.js';

export type IoMode = 'mmap' | 'pread';

/** The io mode to use: what was asked, else mmap where the addon loaded, else pread. */
export function resolveIo(requested: IoMode | undefined): IoMode {
  if (requested === 'pread') return 'pread';
  const native = loadNative();
  if (requested === 'mmap' && !native) {
    throw createError(ErrorCodes.INVALID_OPTION, `option "io" is "mmap" but the native mapping addon is not available (${nativeLoadError()}); use "pread"`);
  }
  return native ? 'mmap' : 'pread';
}

export interface Window {
  /** Address in wasm memory of the byte at the requested offset. */
  ptr: number;
  /** Bytes available from ptr. */
  len: number;
}

export class WindowReader {
  private readonly core: WasmCore;
  private readonly fd: number;
  private readonly io: IoMode;
  private readonly native: NativeMapper | null;
  private readonly windowBytes: number;
  private slot = -1;
  /** Set when the file was found shorter than expected (truncated while read). */
  shrunkTo: number | undefined;

  constructor(core: WasmCore, fd: number, io: IoMode, windowBytes: number) {
    this.core = core;
    this.fd = fd;
    this.io = io;
    this.native = io === 'mmap' ? loadNative() : null;
    this.windowBytes = Math.min(windowBytes, core.inputSize);
  }

  /** Bring in up to one window of bytes starting at `offset`, not past `size`. */
  load(offset: number, size: number): Window {
    this.release();
    const now = fstatSync(this.fd).size;
    if (now < size) {
      this.shrunkTo = now;
      size = now;
    }
    if (offset >= size) return { ptr: this.core.inputPtr, len: 0 };
    if (this.native) {
      const page = this.native.pageSize;
      const start = offset - (offset % page);
      const len = Math.min(this.windowBytes + (offset - start), size - start, this.core.inputSize);
      this.slot = this.native.mapWindow(this.core.memoryBuffer, this.core.inputPtr, this.fd, start, len);
      return { ptr: this.core.inputPtr + (offset - start), len: len - (offset - start) };
    }
    const len = Math.min(this.windowBytes, size - offset);
    let got = 0;
    const bytes = this.core.bytes;
    while (got < len) {
      const n = readSync(this.fd, bytes, this.core.inputPtr + got, len - got, offset + got);
      if (n === 0) {
        this.shrunkTo = offset + got;
        break;
      }
      got += n;
    }
    return { ptr: this.core.inputPtr, len: got };
  }

  /** Unmap the current window; true if the file was cut short under it (SIGBUS caught). */
  release(): boolean {
    if (this.slot < 0 || !this.native) return false;
    const faulted = this.native.unmapWindow(this.slot);
    this.slot = -1;
    // The size now, even if a smaller one was seen before: an earlier, larger shrunkTo would let
    // records the fault zeroed (between that size and this one) through.
    if (faulted) {
      const now = fstatSync(this.fd).size;
      this.shrunkTo = this.shrunkTo === undefined ? now : Math.min(this.shrunkTo, now);
    }
    return faulted;
  }

  /** Whether a page of the current window faulted (the file shrank under the mapping). */
  faulted(): boolean {
    return this.slot >= 0 && !!this.native && this.native.windowFaulted(this.slot);
  }
}
