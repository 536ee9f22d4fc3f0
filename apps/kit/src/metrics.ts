/**
 * Metrics as JSON lines: one `{step, epoch, split, loss, accuracy, time, ...}` object per line.
 *
 * No library: `JSON.stringify` and a synchronous file write are the whole format. Each record is
 * written with `writeSync`, so it is in the file as soon as `write` returns, and a crashed or
 * interrupted run keeps every record written before it.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** A record to write; `time` defaults to the seconds since the writer was opened (plus any offset). */
export interface MetricsInput {
  step: number;
  epoch: number;
  /** `train`, `val`, `test`, … */
  split: string;
  /** Written as null when not finite, and read back as NaN. */
  loss: number;
  accuracy?: number;
  time?: number;
  /** Any further numbers or labels a trainer records, e.g. `lr` or `bitsPerChar`. */
  [extra: string]: number | string | undefined;
}

export interface MetricsRecord extends MetricsInput {
  /** Seconds of the run so far (continuing across resumed runs when the file is appended to). */
  time: number;
}

export interface MetricsWriterOptions {
  /** Keep the records already in the file (a resumed run) instead of starting a new file. */
  append?: boolean;
  /**
   * With `append`: keep only the records up to this step, dropping those written after it (by
   * epochs interrupted before their checkpoint), so that a resumed run continues from its checkpoint.
   */
  keepUpToStep?: number;
}

/** Thrown by `readMetrics` for a line that is not a metrics record; names the file and the line. */
export class MetricsFormatError extends Error {
  override name = 'MetricsFormatError';
}

export class MetricsWriter implements Disposable {
  private fd: number | undefined;
  private readonly openedAt = performance.now();
  private readonly timeOffset: number;

  constructor(
    readonly path: string,
    options: MetricsWriterOptions = {},
  ) {
    const append = options.append === true && existsSync(path);
    let kept = append ? readMetrics(path) : [];
    const { keepUpToStep } = options;
    if (keepUpToStep !== undefined && kept.some((r) => r.step > keepUpToStep)) {
      kept = kept.filter((r) => r.step <= keepUpToStep);
      writeFileSync(path, kept.map((r) => `${JSON.stringify(r)}\n`).join(''));
    }
    this.timeOffset = kept.at(-1)?.time ?? 0;
    mkdirSync(dirname(path), { recursive: true });
    this.fd = openSync(path, append ? 'a' : 'w');
  }

  write(record: MetricsInput): void {
    if (this.fd === undefined) throw new Error(`MetricsWriter.write: ${this.path} is already closed`);
    const time = record.time ?? this.timeOffset + (performance.now() - this.openedAt) / 1000;
    // JSON has no NaN or Infinity: JSON.stringify writes them as null, and readMetrics reads NaN back.
    writeSync(this.fd, `${JSON.stringify({ ...record, time })}\n`);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** Reads every record of a JSON-lines metrics file. */
export function readMetrics(path: string): MetricsRecord[] {
  const lines = readFileSync(path, 'utf8').split('\n');
  const records: MetricsRecord[] = [];
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    const where = `${path}:${index + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new MetricsFormatError(`${where}: not JSON (${(error as Error).message})`);
    }
    records.push(toRecord(value, where));
  });
  return records;
}

function toRecord(value: unknown, where: string): MetricsRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new MetricsFormatError(`${where}: expected an object, got ${JSON.stringify(value)}`);
  }
  const record: Record<string, unknown> = { ...value };
  for (const key of ['loss', 'accuracy']) {
    if (record[key] === null) record[key] = Number.NaN;
  }
  for (const key of ['step', 'epoch', 'loss', 'time']) {
    if (typeof record[key] !== 'number') {
      throw new MetricsFormatError(
        `${where}: field "${key}" must be a number, got ${JSON.stringify(record[key])}`,
      );
    }
  }
  if (typeof record.split !== 'string') {
    throw new MetricsFormatError(
      `${where}: field "split" must be a string, got ${JSON.stringify(record.split)}`,
    );
  }
  for (const [key, field] of Object.entries(record)) {
    if (typeof field !== 'number' && typeof field !== 'string') {
      throw new MetricsFormatError(`${where}: field "${key}" must be a number or a string`);
    }
  }
  return record as MetricsRecord;
}
