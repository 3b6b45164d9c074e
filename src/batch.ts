// A batch of parsed records: the NDJSON bytes the WASM core wrote, readable
// as record objects on demand (JSON.parse only when you iterate).

/** One record: the NDJSON wire schema (docs/records.md). */
export interface LogRecord {
  file: string;
  offset: number;
  line: number;
  len: number;
  crc: number;
  ts: string | null;
  level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | null;
  /** Only with the option levelRaw: the level as written. */
  levelRaw?: string | null;
  msg: string | null;
  fields: Record<string, unknown>;
  truncated?: true;
  error?: string;
}

export class RecordBatch implements Iterable<LogRecord> {
  /** One record per line, each ending in LF. */
  readonly ndjson: Buffer;
  /** Number of records. */
  readonly count: number;
  /** Input offset after the last whole line read when this batch was cut (progress). */
  readonly through: number;
  /** Set when the file shrank while it was read: records at or after this offset were not read. */
  readonly truncatedAt: number | undefined;

  constructor(ndjson: Buffer, count: number, through: number, truncatedAt?: number) {
    this.ndjson = ndjson;
    this.count = count;
    this.through = through;
    this.truncatedAt = truncatedAt;
  }

  *[Symbol.iterator](): Iterator<LogRecord> {
    const buf = this.ndjson;
    let start = 0;
    while (start < buf.length) {
      const end = buf.indexOf(10, start);
      const stop = end < 0 ? buf.length : end;
      yield JSON.parse(buf.toString('utf8', start, stop)) as LogRecord;
      start = stop + 1;
    }
  }

  /** All records as objects. */
  records(): LogRecord[] {
    return [...this];
  }
}
