// Messages between the pool (main thread) and its workers.
import type { ConcreteFormat, Multiline } from '../options.js';
import type { Mode } from '../wasm/bridge.js';
import type { Flavor } from '../wasm/bridge.js';
import type { Zone } from '../tz.js';
import type { IoMode } from '../io/window.js';

export interface WorkerInit {
  maxRecordBytes: number;
  windowBytes: number;
  inflightBytes: number;
  flavor?: Flavor;
}

export type ToWorker =
  | {
      type: 'chunk';
      id: number;
      path: string;
      fileName: string;
      size: number;
      start: number;
      end: number;
      /** Known line number of the first line, or null: count and wait for a 'base'. */
      line: number | null;
      /** `start` is known to begin a line (the first chunk of a run); otherwise check the byte before it. */
      lineStart: boolean;
      /** Count this chunk's LFs first and post them, so later chunks can start numbering. */
      countFirst: boolean;
      format: ConcreteFormat;
      mode: Mode;
      zone: Zone;
      io: IoMode;
      levelRaw: boolean;
      chunkCrc: boolean;
      multiline: Multiline | null;
      /** Reference time (ms) for timestamps without a year; null: now. */
      clock: number | null;
      /** The file goes on after `size`: hold the last record back (the last chunk of an open run). */
      open: boolean;
    }
  | { type: 'base'; id: number; line: number }
  /** The consumer took a batch; `buffer` (if recycling) comes back for reuse. */
  | { type: 'ack'; bytes: number; buffer?: ArrayBuffer };

export type FromWorker =
  | { type: 'count'; id: number; newlines: number }
  | { type: 'batch'; id: number; buffer: ArrayBuffer; length: number; records: number; through: number; parseMs: number }
  | {
      type: 'done';
      id: number;
      records: number;
      newlines: number;
      crc: number;
      crcLength: number;
      shrunkTo: number | null;
      held: { offset: number; line: number };
    }
  | { type: 'error'; id: number; code: string; message: string };
