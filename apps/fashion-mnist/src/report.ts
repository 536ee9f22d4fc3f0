import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MetricsWriter, readMetrics, type Series, writeLinePlot } from '@tsgrad/app-kit';

/**
 * The run's metrics.jsonl. A resumed run keeps the records up to the checkpoint's step and drops
 * any written after it (by epochs that were interrupted before their checkpoint), then appends.
 */
export function openMetrics(path: string, resumeStep?: number): MetricsWriter {
  if (resumeStep === undefined || !existsSync(path)) return new MetricsWriter(path);
  const kept = readMetrics(path).filter((record) => record.step <= resumeStep);
  writeFileSync(path, kept.map((record) => `${JSON.stringify(record)}\n`).join(''));
  return new MetricsWriter(path, { append: true });
}

/** Loss and accuracy curves (train and test, against epochs) from metrics.jsonl, as PNGs. */
export async function writeCurves(
  outDir: string,
  metricsPath: string,
  title: string,
  stepsPerEpoch: number,
): Promise<string[]> {
  const records = readMetrics(metricsPath);
  const curve = (split: string, field: 'loss' | 'accuracy'): Series => {
    const rows = records.filter((record) => record.split === split);
    return {
      x: rows.map((record) => record.step / stepsPerEpoch),
      y: rows.map((record) => record[field] ?? Number.NaN),
    };
  };
  const paths = [join(outDir, 'loss.png'), join(outDir, 'accuracy.png')];
  await writeLinePlot(paths[0], {
    title: `${title}: loss`,
    x: 'epoch',
    y: 'cross-entropy',
    series: { train: curve('train', 'loss'), test: curve('test', 'loss') },
  });
  await writeLinePlot(paths[1], {
    title: `${title}: accuracy`,
    x: 'epoch',
    y: 'accuracy',
    series: { train: curve('train', 'accuracy'), test: curve('test', 'accuracy') },
  });
  return paths;
}
