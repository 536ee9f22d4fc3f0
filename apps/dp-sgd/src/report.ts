import { join } from 'node:path';
import { readMetrics, writeLinePlot } from '@tsgrad/app-kit';

/** Test accuracy against ε (the privacy–utility curve) and the loss against epochs, as PNGs. */
export async function writeCurves(
  outDir: string,
  metricsPath: string,
  stepsPerEpoch: number,
): Promise<string[]> {
  const records = readMetrics(metricsPath);
  const test = records.filter((r) => r.split === 'test');
  const train = records.filter((r) => r.split === 'train');
  const paths = [join(outDir, 'accuracy-vs-epsilon.png'), join(outDir, 'loss.png')];
  await writeLinePlot(paths[0], {
    title: 'DP-SGD on Fashion-MNIST: test accuracy against ε (δ = 1e-5)',
    x: 'ε',
    y: 'test accuracy',
    series: {
      test: {
        x: test.map((r) => Number(r.epsilon ?? Number.NaN)),
        y: test.map((r) => r.accuracy ?? Number.NaN),
      },
    },
  });
  await writeLinePlot(paths[1], {
    title: 'DP-SGD on Fashion-MNIST: loss',
    x: 'epoch',
    y: 'cross-entropy',
    series: {
      train: { x: train.map((r) => r.step / stepsPerEpoch), y: train.map((r) => r.loss ?? Number.NaN) },
      test: { x: test.map((r) => r.step / stepsPerEpoch), y: test.map((r) => r.loss ?? Number.NaN) },
    },
  });
  return paths;
}
