import { ConcatDataset, type Dataset, mapDataset, randomSplit, Subset, TensorDataset } from '@tsgrad/data';
import * as T from '@tsgrad/tensor';
import { describe, expect, it } from 'vitest';
import { values } from './helpers.js';

const range = (n: number): Dataset<number> => ({ length: n, get: (i) => i });

describe('TensorDataset', () => {
  it('indexes every array along axis 0 and returns tuples of rows', () => {
    const x = T.reshape(T.arange(6, undefined, 1, { dtype: 'float32' }), [3, 2]);
    const y = T.array(Int32Array.from([7, 8, 9]));
    const ds = new TensorDataset(x, y);
    expect(ds.length).toBe(3);
    const [row, label] = ds.get(1);
    expect(row.toArray()).toEqual([2, 3]);
    expect(label.item()).toBe(8);
    const [rows, labels] = ds.getBatch([2, 0]);
    expect(rows.toArray()).toEqual([
      [4, 5],
      [0, 1],
    ]);
    expect(values(labels)).toEqual([9, 7]);
  });

  it('rejects arrays of different lengths and indices out of range', () => {
    expect(() => new TensorDataset(T.zeros([3, 2]), T.zeros([4]))).toThrow(
      /same size along axis 0.*\[3,2\], \[4\]/,
    );
    expect(() => new TensorDataset()).toThrow(/at least one array/);
    expect(() => new TensorDataset(T.zeros([2])).get(2)).toThrow(
      /index 2 is out of range for a dataset of length 2/,
    );
  });
});

describe('Subset, ConcatDataset, mapDataset', () => {
  it('Subset reads the chosen indices in order and keeps a getBatch fast path', () => {
    const sub = new Subset(range(10), [9, 3, 5]);
    expect(sub.length).toBe(3);
    expect([0, 1, 2].map((i) => sub.get(i))).toEqual([9, 3, 5]);
    expect(() => new Subset(range(3), [3])).toThrow(/out of range/);
    const tensors = new Subset(new TensorDataset(T.arange(10, undefined, 1, { dtype: 'float32' })), [4, 1]);
    expect(values((tensors.getBatch!([1, 0]) as T.NDArray[])[0])).toEqual([1, 4]);
    expect(new Subset(range(3), [0]).getBatch).toBeUndefined();
  });

  it('ConcatDataset chains datasets and finds the right one for each index', () => {
    const all = new ConcatDataset([range(2), range(0), range(3)]);
    expect(all.length).toBe(5);
    expect(Array.from({ length: 5 }, (_, i) => all.get(i))).toEqual([0, 1, 0, 1, 2]);
    expect(() => all.get(5)).toThrow(/out of range/);
  });

  it('mapDataset applies a function to each item, after awaiting async items', async () => {
    const doubled = mapDataset(range(3), (v, i) => `${i}:${2 * v}`);
    expect(doubled.get(2)).toBe('2:4');
    const slow = mapDataset({ length: 1, get: async () => 5 } as Dataset<number>, (v) => v + 1);
    expect(await slow.get(0)).toBe(6);
  });
});

describe('randomSplit', () => {
  it('splits into disjoint subsets covering the dataset, reproducibly from the seed', () => {
    const [a, b, c] = randomSplit(range(10), [5, 3, 2], { seed: 1 });
    const items = (s: Subset<number>) => Array.from({ length: s.length }, (_, i) => s.get(i) as number);
    expect([a.length, b.length, c.length]).toEqual([5, 3, 2]);
    const all = [...items(a), ...items(b), ...items(c)];
    expect([...all].sort((p, q) => p - q)).toEqual(Array.from({ length: 10 }, (_, i) => i));
    const again = randomSplit(range(10), [5, 3, 2], { seed: 1 });
    expect(again.map(items)).toEqual([a, b, c].map(items));
    const other = randomSplit(range(10), [5, 3, 2], { seed: 2 });
    expect(other.map(items)).not.toEqual([a, b, c].map(items));
    expect(randomSplit(range(10), [5, 5], { key: T.random.key(1) }).map(items)).toEqual(
      randomSplit(range(10), [5, 5], { seed: 1 }).map(items),
    );
  });

  it('accepts fractions, handing the rounding remainder to the first subsets', () => {
    expect(randomSplit(range(10), [0.8, 0.2]).map((s) => s.length)).toEqual([8, 2]);
    expect(randomSplit(range(11), [1 / 3, 1 / 3, 1 / 3]).map((s) => s.length)).toEqual([4, 4, 3]);
    expect(randomSplit(range(5), [0.5, 0.5]).map((s) => s.length)).toEqual([3, 2]);
  });

  it('rejects lengths that do not add up', () => {
    expect(() => randomSplit(range(10), [5, 4])).toThrow(/adding up to the dataset's length 10/);
    expect(() => randomSplit(range(10), [0.5, 0.6])).toThrow(/fractions adding up to 1/);
    expect(() => randomSplit(range(10), [-1, 11])).toThrow(/non-negative/);
  });
});
