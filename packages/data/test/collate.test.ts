import { defaultCollate } from '@tsgrad/data';
import * as T from '@tsgrad/tensor';
import { describe, expect, it } from 'vitest';

describe('defaultCollate', () => {
  it('stacks NDArrays along a new axis 0', () => {
    const batch = defaultCollate([T.array([1, 2]), T.array([3, 4]), T.array([5, 6])]);
    expect(batch.shape).toEqual([3, 2]);
    expect(batch.toArray()).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
  });

  it('turns integers into int32, other numbers into float32 and booleans into bool', () => {
    expect(defaultCollate([1, 2, 3]).dtype).toBe('int32');
    const floats = defaultCollate([1, 2.5]);
    expect(floats.dtype).toBe('float32');
    expect(floats.toArray()).toEqual([1, 2.5]);
    expect(defaultCollate([true, false]).toArray()).toEqual([true, false]);
    expect(defaultCollate([new Float32Array([1, 2]), new Float32Array([3, 4])]).shape).toEqual([2, 2]);
  });

  it('collates tuples position by position (a batch of (x, y) is an (X, Y) pair)', () => {
    const items: [T.NDArray, number][] = [
      [T.array([1, 2]), 0],
      [T.array([3, 4]), 1],
    ];
    const [x, y] = defaultCollate(items);
    expect(x.shape).toEqual([2, 2]);
    expect(y.dtype).toBe('int32');
    expect(y.toArray()).toEqual([0, 1]);
  });

  it('collates objects key by key, recursively, and keeps strings as lists', () => {
    const items = [
      { image: T.zeros([1, 2, 2]), meta: { label: 3, name: 'a' } },
      { image: T.ones([1, 2, 2]), meta: { label: 4, name: 'b' } },
    ];
    const batch = defaultCollate(items);
    expect(batch.image.shape).toEqual([2, 1, 2, 2]);
    expect(batch.meta.label.toArray()).toEqual([3, 4]);
    expect(batch.meta.name).toEqual(['a', 'b']);
  });

  it('names the path of items that do not fit together', () => {
    expect(() => defaultCollate([{ x: T.zeros([2]) }, { x: T.zeros([3]) }])).toThrow(
      /collate: at x: .*stack/,
    );
    expect(() => defaultCollate([[1, 2], [3]])).toThrow(/same length/);
    expect(() => defaultCollate([{ a: 1 }, { b: 1 }] as { a?: number; b?: number }[])).toThrow(
      /item 1 has no key 'a'/,
    );
    expect(() => defaultCollate([1, 'x'] as unknown[])).toThrow(/item 1 is string, but item 0 is a number/);
    expect(() => defaultCollate([])).toThrow(/empty batch/);
    expect(() => defaultCollate([new Map()])).toThrow(/cannot collate Map items/);
  });
});
