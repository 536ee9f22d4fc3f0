import { join } from 'node:path';
import { readMetrics, type Series, writeLinePlot } from '@tsgrad/app-kit';

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
