import * as T from '@tsgrad/tensor';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  expectClose,
  flatIndex,
  indices,
  type Layout,
  layoutArb,
  makeArray,
  shapeArb,
} from './arbitraries.js';
import { expectError } from './expect-error.js';

interface Case {
  readonly shape: number[];
  readonly values: number[];
  readonly dtype: T.DType;
  readonly layout: Layout;
  readonly axis: number;
}

/** Few distinct values, so that ties are common; floats also get ±0, ±Infinity and NaN. */
const FLOAT_POOL = [-2, -1, -0, 0, 0.5, 1, 2, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN];
const INT_POOL = [-2, -1, 0, 1, 2];

const caseArb: fc.Arbitrary<Case> = fc
  .record({
    shape: shapeArb({ minRank: 1, maxRank: 3, maxDim: 5 }),
    dtype: fc.constantFrom<T.DType>('float32', 'float64', 'int32'),
    layout: layoutArb,
    seed: fc.nat(),
  })
  .chain(({ shape, dtype, layout, seed }) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const pool = dtype === 'int32' ? INT_POOL : FLOAT_POOL;
    return fc
      .array(fc.constantFrom(...pool), { minLength: size, maxLength: size })
      .map((values) => ({ shape, dtype, layout, values, axis: seed % shape.length }));
  });

const build = (c: Case) => makeArray(c.values, c.shape, c.dtype, c.layout);

/** True when `a` must come strictly before `b` (NaN is the largest value). */
function strictlyBefore(a: number, b: number, descending: boolean): boolean {
  if (descending) return (Number.isNaN(a) && !Number.isNaN(b)) || a > b;
  return (!Number.isNaN(a) && Number.isNaN(b)) || a < b;
}

/** A stable insertion sort of every line along `axis`: the sorted values and original positions. */
function referenceSort(c: Case, descending: boolean): { values: number[]; indices: number[] } {
  const values = new Array<number>(c.values.length);
  const order = new Array<number>(c.values.length);
  const n = c.shape[c.axis];
  for (const start of indices(c.shape.map((d, i) => (i === c.axis ? 1 : d)))) {
    const at = (k: number) =>
      flatIndex(
        start.map((j, i) => (i === c.axis ? k : j)),
        c.shape,
      );
    const line = Array.from({ length: n }, (_, k) => c.values[at(k)]);
    const sorted: number[] = [];
    for (let k = 0; k < n; k++) {
      let j = sorted.length;
      while (j > 0 && strictlyBefore(line[k], line[sorted[j - 1]], descending)) j--;
      sorted.splice(j, 0, k);
    }
    sorted.forEach((k, p) => {
      values[at(p)] = line[k];
      order[at(p)] = k;
    });
  }
  return { values, indices: order };
}

/** The first `k` positions along `axis` of a row-major array of `shape`. */
function prefix(data: readonly number[], shape: readonly number[], axis: number, k: number): number[] {
  const kept = shape.map((d, i) => (i === axis ? k : d));
  return [...indices(kept)].map((idx) => data[flatIndex(idx, shape)]);
}

describe('sort', () => {
  it('is stable in both directions, puts NaN last ascending and first descending, on any axis', () => {
    fc.assert(
      fc.property(caseArb, fc.boolean(), fc.boolean(), (c, descending, negativeAxis) => {
        const axis = negativeAxis ? c.axis - c.shape.length : c.axis;
        const { values, indices: order } = T.sort(build(c), { axis, descending });
        const ref = referenceSort(c, descending);
        expect(values.shape).toEqual(c.shape);
        expect(values.dtype).toBe(c.dtype);
        expect(order.dtype).toBe('int32');
        expect(order.shape).toEqual(c.shape);
        expectClose(values.toTypedArray(), ref.values, 0, 0);
        expect(Array.from(order.toTypedArray())).toEqual(ref.indices);
      }),
    );
  });

  it('sorts the last axis ascending by default', () => {
    const { values, indices: order } = T.sort(
      T.array([
        [3, 1, 2],
        [0, Number.NaN, -1],
      ]),
    );
    expect(values.toArray()).toEqual([
      [1, 2, 3],
      [-1, 0, Number.NaN],
    ]);
    expect(order.toArray()).toEqual([
      [1, 2, 0],
      [2, 0, 1],
    ]);
  });

  it('keeps ties in their original order in both directions', () => {
    const x = T.array([1, 2, 1, 2, 1], { dtype: 'int32' });
    expect(T.argsort(x).toArray()).toEqual([0, 2, 4, 1, 3]);
    expect(T.argsort(x, { descending: true }).toArray()).toEqual([1, 3, 0, 2, 4]);
  });

  it('treats equal infinities and signed zeros as ties', () => {
    const inf = Number.POSITIVE_INFINITY;
    const x = T.array([inf, -0, 1, inf, 0, -inf, -inf], { dtype: 'float64' });
    expect(T.argsort(x).toArray()).toEqual([5, 6, 1, 4, 2, 0, 3]);
    expect(T.argsort(x, { descending: true }).toArray()).toEqual([0, 3, 2, 1, 4, 5, 6]);
  });

  it('argsort agrees with sort, and gathering with it gives the sorted values', () => {
    fc.assert(
      fc.property(caseArb, fc.boolean(), (c, descending) => {
        const x = build(c);
        const sorted = T.sort(x, { axis: c.axis, descending });
        const order = T.argsort(x, { axis: c.axis, descending });
        expect(Array.from(order.toTypedArray())).toEqual(Array.from(sorted.indices.toTypedArray()));
        expectClose(T.gather(x, c.axis, order).toTypedArray(), sorted.values.toTypedArray(), 0, 0);
        expectClose(T.takeAlongAxis(x, order, c.axis).toTypedArray(), sorted.values.toTypedArray(), 0, 0);
      }),
    );
  });

  it('returns a 0-d array unchanged with index 0', () => {
    const { values, indices: order } = T.sort(T.scalar(4));
    expect(values.toArray()).toEqual(4);
    expect(order.dtype).toBe('int32');
    expect(order.toArray()).toEqual(0);
  });

  it('rejects bool arrays and bad axes', () => {
    expectError(() => T.sort(T.array([true, false])), T.DTypeError, 'sort', ['bool']);
    expectError(() => T.sort(T.zeros([2, 2]), { axis: 2 }), T.IndexError, 'sort');
    expectError(() => T.argsort(T.zeros([2, 2]), { axis: -3 }), T.IndexError, 'sort');
  });
});

describe('topk', () => {
  const arb = caseArb.chain((c) =>
    fc.record({ c: fc.constant(c), k: fc.integer({ min: 0, max: c.shape[c.axis] }), largest: fc.boolean() }),
  );

  it('returns the k largest or smallest, sorted, ties lower index first', () => {
    fc.assert(
      fc.property(arb, ({ c, k, largest }) => {
        const { values, indices: order } = T.topk(build(c), k, { axis: c.axis, largest });
        const ref = referenceSort(c, largest);
        const shape = c.shape.map((d, i) => (i === c.axis ? k : d));
        expect(values.shape).toEqual(shape);
        expect(values.dtype).toBe(c.dtype);
        expect(order.shape).toEqual(shape);
        expect(order.dtype).toBe('int32');
        expectClose(values.toTypedArray(), prefix(ref.values, c.shape, c.axis, k), 0, 0);
        expect(Array.from(order.toTypedArray())).toEqual(prefix(ref.indices, c.shape, c.axis, k));
      }),
    );
  });

  it('defaults to the largest along the last axis', () => {
    const { values, indices: order } = T.topk(T.array([[1, 5, 5, 2]]), 2);
    expect(values.toArray()).toEqual([[5, 5]]);
    expect(order.toArray()).toEqual([[1, 2]]);
  });

  it('rejects k out of range, bool arrays and bad axes', () => {
    const x = T.zeros([2, 3]);
    expectError(() => T.topk(x, 4), T.ValueError, 'topk', ['4', '3']);
    expectError(() => T.topk(x, -1), T.ValueError, 'topk', ['-1']);
    expectError(() => T.topk(x, 1.5), T.ValueError, 'topk', ['1.5']);
    expectError(() => T.topk(x, 3, { axis: 0 }), T.ValueError, 'topk', ['3', '2']);
    expectError(() => T.topk(x, 1, { axis: 2 }), T.IndexError, 'topk');
    expectError(() => T.topk(T.array([true, false]), 1), T.DTypeError, 'topk', ['bool']);
  });
});
