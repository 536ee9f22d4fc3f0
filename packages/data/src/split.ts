import { formatShape, ValueError } from '@tsgrad/tensor';
import { checkDataset, type Dataset, Subset } from './dataset.js';
import { keyFrom, permutationOf, type SeedOptions } from './seed.js';
import { checkList } from './validate.js';

/** Whole lengths from fractions that sum to 1, PyTorch's way: floor, then hand out the rest. */
function lengthsFromFractions(fractions: readonly number[], total: number): number[] {
  const lengths = fractions.map((f) => Math.floor(total * f));
  let rest = total - lengths.reduce((s, l) => s + l, 0);
  for (let i = 0; rest > 0; i = (i + 1) % lengths.length, rest--) lengths[i]++;
  return lengths;
}

/**
 * Splits a dataset into non-overlapping random subsets (PyTorch's `random_split`). `lengths`
 * are item counts adding up to the dataset's length, or fractions adding up to 1 (the
 * remainder after flooring goes to the first subsets, one item each). The permutation comes
 * from `seed` / `key`, so the same seed always gives the same split.
 */
export function randomSplit<T>(
  dataset: Dataset<T>,
  lengths: readonly number[],
  options: SeedOptions = {},
): Subset<T>[] {
  checkDataset('randomSplit', dataset);
  checkList('randomSplit', 'lengths', lengths);
  const key = keyFrom('randomSplit', options);
  const total = dataset.length;
  if (lengths.length === 0 || lengths.some((l) => !Number.isFinite(l) || l < 0)) {
    throw new ValueError('randomSplit', `lengths must be non-negative numbers, got ${formatShape(lengths)}`);
  }
  const sum = lengths.reduce((s, l) => s + l, 0);
  const fractional = Math.abs(sum - 1) < 1e-9;
  const counts = fractional ? lengthsFromFractions(lengths, total) : [...lengths];
  if (counts.some((c) => !Number.isInteger(c)) || counts.reduce((s, c) => s + c, 0) !== total) {
    throw new ValueError(
      'randomSplit',
      `lengths [${lengths.join(', ')}] must be integers adding up to the dataset's length ${total}, or fractions adding up to 1`,
    );
  }
  const order = permutationOf(key, total);
  let start = 0;
  return counts.map((count) => {
    const subset = new Subset(dataset, order.slice(start, start + count));
    start += count;
    return subset;
  });
}
