import { writeDecisionBoundary, writeLinePlot } from '@tsgrad/app-kit';
import { type data, type nn, tensor } from 'tsgrad';
import { classify } from './model.js';

/** End-of-epoch evaluation on the whole training and held-out sets. */
export interface EpochRecord {
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  testLoss: number;
  testAccuracy: number;
}

/**
 * Loss and accuracy of every epoch on one chart: the cross-entropy of three classes starts at
 * ln 3 ≈ 1.1 and accuracy ends near 1, so both fit one linear axis.
 */
export async function writeCurves(
  path: string,
  history: readonly EpochRecord[],
  title: string,
): Promise<void> {
  const x = history.map((r) => r.epoch);
  const series = (pick: (r: EpochRecord) => number) => ({ x, y: history.map(pick) });
  await writeLinePlot(path, {
    title,
    x: 'epoch',
    y: 'cross-entropy loss / accuracy',
    series: {
      'train loss': series((r) => r.trainLoss),
      'test loss': series((r) => r.testLoss),
      'train accuracy': series((r) => r.trainAccuracy),
      'test accuracy': series((r) => r.testAccuracy),
    },
  });
}

/** The model's predicted class over a grid covering the points, with the points on top. */
export async function writeBoundary(
  path: string,
  model: nn.TensorModule,
  data: data.Classification,
  title: string,
  resolution = 100,
): Promise<void> {
  const coords = data.x.toTypedArray();
  // One range for both axes, so that the square picture keeps the spirals round.
  const line = gridLine(Math.min(...coords), Math.max(...coords), resolution);
  const [xs, ys] = [line, line];
  const cells = new Float32Array(xs.length * ys.length * 2);
  ys.forEach((y, j) => {
    xs.forEach((x, i) => {
      cells.set([x, y], (j * xs.length + i) * 2);
    });
  });
  const classes = classify(model, tensor(cells, { shape: [xs.length * ys.length, 2] }));
  await writeDecisionBoundary(path, {
    title,
    grid: { xs, ys, classes },
    points: {
      x: coords.filter((_, i) => i % 2 === 0),
      y: coords.filter((_, i) => i % 2 === 1),
      label: data.y.toTypedArray(),
    },
    x: 'x₁',
    y: 'x₂',
    width: 420,
    height: 420,
  });
}

/** `count` evenly spaced values from a little below `min` to a little above `max`. */
function gridLine(min: number, max: number, count: number): number[] {
  const margin = 0.08 * (max - min);
  const [lo, hi] = [min - margin, max + margin];
  return Array.from({ length: count }, (_, i) => lo + ((hi - lo) * i) / (count - 1));
}
