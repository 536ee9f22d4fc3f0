import * as D from '@tsgrad/data';
import * as T from '@tsgrad/tensor';
import { describe, expect, it } from 'vitest';

// Wrong arguments at the public boundary are TsgradErrors naming the function (each of these
// was a TypeError from deep inside before).

const untyped = (value: unknown) => value as never;

const calls: [string, () => unknown, RegExp][] = [
  ['defaultCollate()', () => D.defaultCollate(untyped(undefined)), /^defaultCollate: items must be a list/],
  [
    'TensorDataset(null)',
    () => new D.TensorDataset(untyped(null)),
    /^TensorDataset: array 0 must be an NDArray/,
  ],
  ['Subset()', () => new D.Subset(untyped(undefined), [0]), /^Subset: expected a map-style dataset/],
  [
    'ConcatDataset()',
    () => new D.ConcatDataset(untyped(undefined)),
    /^ConcatDataset: datasets must be a list/,
  ],
  [
    'randomSplit()',
    () => D.randomSplit(untyped(undefined), [1]),
    /^randomSplit: expected a map-style dataset/,
  ],
  ['parseIdx()', () => D.parseIdx(untyped(undefined)), /^parseIdx: expected the bytes as a Uint8Array/],
  ['parseNpy(5)', () => D.parseNpy(untyped(5)), /^parseNpy: expected the bytes/],
  ['parseCsv()', () => D.parseCsv(untyped(undefined)), /^parseCsv: expected the bytes/],
  ['spirals(null)', () => D.spirals(untyped(null)), /^spirals: options must be an object/],
  ['compose(null)', () => D.compose(untyped(null)), /^compose: transform 0 must be a function/],
  ['normalize()', () => D.normalize(untyped(undefined), 1), /^normalize: mean must be a list/],
  ['oneHot(3)(5)', () => D.oneHot(3)(untyped(5)), /^oneHot: x must be an NDArray/],
  ['randomCrop()', () => D.randomCrop(untyped(undefined)), /^randomCrop: size must be a list/],
  [
    'DataLoader(d, null)',
    () => new D.DataLoader(new D.TensorDataset(T.zeros([2])), untyped(null)),
    /^DataLoader: options/,
  ],
  ['encodeIdx(x, null)', () => D.encodeIdx(T.zeros([2]), untyped(null)), /^encodeIdx: options/],
  [
    'isMapDataset(null) is false',
    () => D.isMapDataset(untyped(null)) || D.defaultCollate(untyped(null)),
    /^defaultCollate/,
  ],
];

describe('public boundary checks', () => {
  for (const [name, call, message] of calls) {
    it(name, () => {
      let error: unknown;
      try {
        call();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(T.TsgradError);
      expect((error as Error).message).toMatch(message);
    });
  }
});
