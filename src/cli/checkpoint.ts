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
  /** A file rotated away from the input's path, still to be finished. */
  rotated: boolean;
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
   * What to read for one input: files rotated away from its path that are
   * not finished (found by device + inode, from where they were left), then
   * the file at the path: from its checkpoint when it is the same file, from
   * 0 when it is new, truncated or rewritten (and said so). The plan is
   * committed before anything is read, so a kill never loses a rotated file.
   */
  plan(file: string): PlannedRun[] {
    const key = `parse:${resolve(file)}`;
    const dir = dirname(resolve(file));
    const saved = this.store.get(key) as FilePosition | undefined;
    const pending = (this.store.get(`${key}#rotated`) as FilePosition[] | undefined) ?? [];
    const runs: PlannedRun[] = [];
    const finishOld = (pos: FilePosition, name: string) => {
      const old = findByIdentity(dir, pos.dev, pos.ino);
      if (old) {
        const fd = openSync(old, 'r');
        if (checkPosition(fd, fstatSync(fd), pos) === 'same') {
          runs.push({ path: old, start: { offset: pos.offset, line: pos.line }, key, fd, rotated: true });
          return;
        }
        closeSync(fd);
      }
      this.warn(`${name} was rotated away and is gone or changed: lines of it not read before are lost`);
    };
    for (const pos of pending) finishOld(pos, `a file once at ${file}`);
    const current: PlannedRun = { path: file, start: { offset: 0, line: 1 }, key, fd: openSync(file, 'r'), rotated: false };
    if (saved) {
      const verdict = checkPosition(current.fd, fstatSync(current.fd), saved);
      if (verdict === 'same') current.start = { offset: saved.offset, line: saved.line };
      else if (verdict === 'changed') this.warn(`${file} was truncated or rewritten since the checkpoint: reading it from the start`);
      else {
        this.warn(`${file} was rotated since the checkpoint: finishing the old file first`);
        finishOld(saved, file);
      }
    }
    runs.push(current);
    this.store.put(`${key}#rotated`, runs.filter((r) => r.rotated).map((r) => positionOf(r.fd, fstatSync(r.fd), r.start.offset, r.start.line)));
    this.store.put(key, positionOf(current.fd, fstatSync(current.fd), current.start.offset, current.start.line));
    this.store.commit();
    return runs;
  }

  /** Where a run is now (`null`: a rotated file that is finished and leaves the list). */
  private save(run: PlannedRun, pos: FilePosition | null): void {
    if (!run.rotated) {
      if (pos) this.store.put(run.key, pos);
      return;
    }
    const st = fstatSync(run.fd);
    const same = (p: FilePosition) => p.dev === st.dev && p.ino === st.ino;
    const list = (this.store.get(`${run.key}#rotated`) as FilePosition[] | undefined) ?? [];
    this.store.put(`${run.key}#rotated`, pos ? list.map((p) => (same(p) ? pos : p)) : list.filter((p) => !same(p)));
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
    this.save(run, positionOf(run.fd, fstatSync(run.fd), batch.through, line));
  }

  /** The run read everything up to its end (a rotated file is then done with). */
  finished(run: PlannedRun, stats: ParseStats): void {
    const end = run.start.offset + stats.bytes;
    if (run.rotated) this.save(run, null);
    else if (stats.shrunkTo === null) this.save(run, positionOf(run.fd, fstatSync(run.fd), end, run.start.line + stats.lines));
    closeSync(run.fd);
  }

  close(): void {
    this.store.close();
  }
}
