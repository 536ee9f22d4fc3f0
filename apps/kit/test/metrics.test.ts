import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MetricsFormatError, MetricsWriter, readMetrics } from '@tsgrad/app-kit';
import { describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'app-kit-metrics-'));

describe('MetricsWriter and readMetrics', () => {
  it('round-trips records, one JSON object per line, each in the file once written', () => {
    const path = join(dir, 'run', 'metrics.jsonl');
    const writer = new MetricsWriter(path);
    writer.write({ step: 100, epoch: 1, split: 'train', loss: 0.5, accuracy: 0.8 });
    expect(readMetrics(path)).toHaveLength(1); // flushed before close
    writer.write({ step: 100, epoch: 1, split: 'val', loss: 0.6, accuracy: 0.75, time: 12.5, lr: 1e-3 });
    writer.write({ step: 200, epoch: 2, split: 'train', loss: Number.NaN });
    writer.close();

    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(JSON.parse(lines[2]).loss).toBeNull();

    const records = readMetrics(path);
    expect(records[0]).toMatchObject({ step: 100, epoch: 1, split: 'train', loss: 0.5, accuracy: 0.8 });
    expect(records[0].time).toBeGreaterThanOrEqual(0);
    expect(records[1]).toEqual({
      step: 100,
      epoch: 1,
      split: 'val',
      loss: 0.6,
      accuracy: 0.75,
      time: 12.5,
      lr: 1e-3,
    });
    expect(records[2].loss).toBeNaN();
  });

  it('starts afresh by default and continues the file and its clock when appending', () => {
    const path = join(dir, 'resume.jsonl');
    using first = new MetricsWriter(path);
    first.write({ step: 1, epoch: 1, split: 'train', loss: 1, time: 40 });
    first.close();

    const resumed = new MetricsWriter(path, { append: true });
    resumed.write({ step: 2, epoch: 2, split: 'train', loss: 0.9 });
    resumed.close();
    const records = readMetrics(path);
    expect(records.map((r) => r.step)).toEqual([1, 2]);
    expect(records[1].time).toBeGreaterThanOrEqual(40);
    expect(records[1].time).toBeLessThan(45);

    new MetricsWriter(path).close();
    expect(readMetrics(path)).toEqual([]);
  });

  it('drops the records after keepUpToStep when a resumed run appends', () => {
    const path = join(dir, 'resume-from-checkpoint.jsonl');
    using first = new MetricsWriter(path);
    for (const step of [1, 2, 3])
      first.write({ step, epoch: step, split: 'train', loss: 1, time: 10 * step });
    first.close();

    const resumed = new MetricsWriter(path, { append: true, keepUpToStep: 2 });
    resumed.write({ step: 3, epoch: 3, split: 'train', loss: 0.5 });
    resumed.close();
    const records = readMetrics(path);
    expect(records.map((r) => [r.step, r.loss])).toEqual([
      [1, 1],
      [2, 1],
      [3, 0.5],
    ]);
    // The clock continues from the last record kept, not from the dropped one.
    expect(records[2].time).toBeGreaterThanOrEqual(20);
    expect(records[2].time).toBeLessThan(25);
  });

  it('refuses writes after close', () => {
    const writer = new MetricsWriter(join(dir, 'closed.jsonl'));
    writer.close();
    expect(() => writer.write({ step: 1, epoch: 1, split: 'train', loss: 1 })).toThrow(/already closed/);
  });

  it('names the file and line of a malformed record', () => {
    const path = join(dir, 'bad.jsonl');
    writeFileSync(path, '{"step":1,"epoch":1,"split":"train","loss":1,"time":0}\n{"step":"two"}\n');
    expect(() => readMetrics(path)).toThrow(MetricsFormatError);
    expect(() => readMetrics(path)).toThrow(`${path}:2: field "step" must be a number, got "two"`);
    writeFileSync(path, 'not json\n');
    expect(() => readMetrics(path)).toThrow(new RegExp(`${path}:1: not JSON`));
  });
});
