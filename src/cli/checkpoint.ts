// `logwire parse --checkpoint FILE`: where each input file was when its last
// batch was written out, kept in a checkpoint store, so a killed parse goes on
// from there. At-least-once: records after the last commit may be printed again.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { RecordBatch } from '../batch.js';
import { checkPosition, findByIdentity, positionOf, type FilePosition } from '../durability/position.js';
import { CheckpointStore } from '../durability/wal.js';
import type { ParseStats } from '../index.js';
import { recordPosition } from '../service/frames.js';

export interface PlannedRun {
  /** The file to read (a rotated input is found under its new name). */
  path: string;
  start: { offset: number; line: number };
  key: string;
  fd: number;
}

export class ParseCheckpoint {
  private readonly store: CheckpointStore;
  private readonly warn: (line: string) => void;

  constructor(path: string, syncMs: number | undefined, warn: (line: string) => void) {
    this.warn = warn;
    this.store = CheckpointStore.open(path, { syncMs, onError: (err) => warn(err.message) });
    for (const m of this.store.recovery.messages) warn(m);
  }

  /**
   * What to read for one input: from its checkpoint when it is the same file;
   * a rotated one is first finished under its new name; a truncated or
   * rewritten one is read again from 0 (and said so).
   */
  plan(file: string): PlannedRun[] {
    const key = `parse:${resolve(file)}`;
    const saved = this.store.get(key) as FilePosition | undefined;
    const open = (path: string, start: { offset: number; line: number }): PlannedRun => ({ path, start, key, fd: openSync(path, 'r') });
    if (!saved) return [open(file, { offset: 0, line: 1 })];
    const run = open(file, { offset: 0, line: 1 });
    const verdict = checkPosition(run.fd, fstatSync(run.fd), saved);
    if (verdict === 'same') {
      run.start = { offset: saved.offset, line: saved.line };
      return [run];
    }
    if (verdict === 'changed') {
      this.warn(`${file} was truncated or rewritten since the checkpoint: reading it from the start`);
      return [run];
    }
    // Another file at this path: the checkpointed one was rotated away (or deleted).
    const old = findByIdentity(dirname(resolve(file)), saved.dev, saved.ino);
    if (old) {
      const first = open(old, { offset: saved.offset, line: saved.line });
      if (checkPosition(first.fd, fstatSync(first.fd), saved) === 'same') {
        this.warn(`${file} was rotated since the checkpoint: finishing ${old} first`);
        return [first, run];
      }
      closeSync(first.fd);
    }
    this.warn(`${file} is a new file since the checkpoint and the old one is gone: lines of it not read before are lost`);
    return [run];
  }

  /** A batch of this run was written out: the run is past its last record. */
  written(run: PlannedRun, batch: RecordBatch): void {
    if (batch.count === 0) return;
    const nd = batch.ndjson;
    const last = recordPosition(nd, nd.lastIndexOf(10, nd.length - 2) + 1);
    // The line number at `through`: the last record's, plus the LFs from it to there.
    const span = Buffer.alloc(batch.through - last.offset);
    readSync(run.fd, span, 0, span.length, last.offset);
    let line = last.line;
    for (let i = span.indexOf(10); i >= 0; i = span.indexOf(10, i + 1)) line++;
    this.store.put(run.key, positionOf(run.fd, fstatSync(run.fd), batch.through, line));
  }

  /** The run read everything up to its end. */
  finished(run: PlannedRun, stats: ParseStats): void {
    const end = run.start.offset + stats.bytes;
    if (stats.shrunkTo === null) this.store.put(run.key, positionOf(run.fd, fstatSync(run.fd), end, run.start.line + stats.lines));
    closeSync(run.fd);
  }

  close(): void {
    this.store.close();
  }
}
