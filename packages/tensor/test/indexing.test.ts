import * as T from '@tsgrad/tensor';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  castValue,
  expectClose,
  flatIndex,
  indices,
  type Layout,
  layoutArb,
  makeArray,
  shapeArb,
  valuesArb,
} from './arbitraries.js';
import { expectError } from './expect-error.js';

const RANKED: readonly T.DType[] = ['bool', 'int32', 'float32', 'float64'];
const promote = (a: T.DType, b: T.DType) => (RANKED.indexOf(a) >= RANKED.indexOf(b) ? a : b);

interface Case {
  readonly shape: number[];
  readonly values: number[];
  readonly dtype: T.DType;
  readonly layout: Layout;
}

/** Values of `shape` in `dtype` (integers for int32/bool), in a random memory layout. */
function caseOf(shape: number[], dtypes: readonly T.DType[]): fc.Arbitrary<Case> {
  return fc.record({ dtype: fc.constantFrom(...dtypes), layout: layoutArb }).chain(({ dtype, layout }) =>
    valuesArb(shape, { integer: dtype === 'int32' || dtype === 'bool' }).map((values) => ({
      shape,
      dtype,
      layout,
      values: values.map((v) => castValue(v, dtype)),
    })),
  );
}

/** An int32 index array of `shape` with entries in [0, size), in a random layout. */
function indexOf(shape: number[], size: number): fc.Arbitrary<Case> {
  const count = shape.reduce((a, b) => a * b, 1);
  const values =
    size === 0
      ? fc.constant(new Array<number>(count).fill(0))
      : valuesArb(shape, { min: 0, max: size - 1, integer: true });
  return fc
    .record({ values, layout: layoutArb })
    .map(({ values, layout }) => ({ shape, values, dtype: 'int32', layout }));
}

const build = (c: Case) => makeArray(c.values, c.shape, c.dtype, c.layout);

function expectArray(
  actual: T.NDArray,
  shape: readonly number[],
  dtype: T.DType,
  expected: readonly number[],
  tol = 0,
): void {
  expect(actual.shape).toEqual(shape);
  expect(actual.dtype).toBe(dtype);
  expectClose(actual.toTypedArray(), expected, tol, tol);
}

const DTYPES: readonly T.DType[] = ['float32', 'float64', 'int32', 'bool'];

/** An input shape, an axis, and an index shape no larger than the input off the axis. */
const gatherShapes = fc
  .record({ shape: shapeArb({ minRank: 1, maxRank: 3, maxDim: 3 }), seed: fc.nat() })
  .chain(({ shape, seed }) => {
    const axis = seed % shape.length;
    const dims = shape.map((d, i) =>
      i === axis
        ? d === 0
          ? fc.constant(0)
          : fc.integer({ min: 0, max: 4 })
        : fc.integer({ min: 0, max: d }),
    );
    return fc.record({ shape: fc.constant(shape), axis: fc.constant(axis), indexShape: fc.tuple(...dims) });
  });

describe('gather', () => {
  it('follows torch.gather, with an index smaller than the input off the axis', () => {
    const arb = gatherShapes.chain(({ shape, axis, indexShape }) =>
      fc.record({
        axis: fc.constant(axis),
        negative: fc.boolean(),
        x: caseOf(shape, DTYPES),
        index: indexOf(indexShape, shape[axis]),
      }),
    );
    fc.assert(
      fc.property(arb, ({ axis, negative, x, index }) => {
        const out = T.gather(build(x), negative ? axis - x.shape.length : axis, build(index));
        const expected = [...indices(index.shape)].map((idx, at) => {
          const from = idx.map((j, i) => (i === axis ? index.values[at] : j));
          return x.values[flatIndex(from, x.shape)];
        });
        expectArray(out, index.shape, x.dtype, expected);
      }),
    );
  });

  it('rejects bad indices and shapes', () => {
    const x = T.zeros([2, 3]);
    const idx = (v: number[][]) => T.array(v, { dtype: 'int32' });
    expectError(() => T.gather(x, 1, T.array([[0]])), T.DTypeError, 'gather', ['float32']);
    expectError(() => T.gather(x, 1, idx([[3]])), T.IndexError, 'gather', ['3']);
    expectError(() => T.gather(x, 1, idx([[-1]])), T.IndexError, 'gather', ['-1']);
    expectError(() => T.gather(x, 1, T.array([0], { dtype: 'int32' })), T.ShapeError, 'gather', [
      '[1]',
      '[2,3]',
    ]);
    expectError(() => T.gather(x, 1, idx([[0], [0], [0]])), T.ShapeError, 'gather', ['[3,1]', '[2,3]']);
    expectError(() => T.gather(x, 2, idx([[0]])), T.IndexError, 'gather');
    expectError(() => T.gather(T.scalar(1), 0, T.scalar(0, { dtype: 'int32' })), T.ShapeError, 'gather');
  });
});

describe('takeAlongAxis', () => {
  /** Off the axis each dim is shared, or 1 on one side (either side), or 0 against 1. */
  const arb = fc
    .record({ rank: fc.integer({ min: 1, max: 3 }), seed: fc.nat() })
    .chain(({ rank, seed }) => {
      const axis = seed % rank;
      const pair = (i: number) =>
        i === axis
          ? fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }))
          : fc
              .integer({ min: 0, max: 3 })
              .chain((d) => fc.constantFrom<[number, number]>([d, d], [1, d], [d, 1]));
      return fc.record({
        axis: fc.constant(axis),
        pairs: fc.tuple(...Array.from({ length: rank }, (_, i) => pair(i))),
      });
    })
    .chain(({ axis, pairs }) => {
      const xShape = pairs.map(([d]) => d);
      const indexShape = pairs.map(([d, e], i) => (i === axis && d === 0 ? 0 : e));
      return fc.record({
        axis: fc.constant(axis),
        x: caseOf(xShape, DTYPES),
        index: indexOf(indexShape, xShape[axis]),
      });
    });

  it('follows NumPy take_along_axis, broadcasting index and input off the axis', () => {
    fc.assert(
      fc.property(arb, ({ axis, x, index }) => {
        const out = T.takeAlongAxis(build(x), build(index), axis);
        const shape = x.shape.map((d, i) => (i === axis ? index.shape[i] : d === 1 ? index.shape[i] : d));
        const expected = [...indices(shape)].map((idx) => {
          const at = idx.map((j, i) => (index.shape[i] === 1 ? 0 : j));
          const k = index.values[flatIndex(at, index.shape)];
          const from = idx.map((j, i) => (i === axis ? k : x.shape[i] === 1 ? 0 : j));
          return x.values[flatIndex(from, x.shape)];
        });
        expectArray(out, shape, x.dtype, expected);
      }),
    );
  });

  it('rejects non-int32 indices, wrong ranks and shapes that do not broadcast', () => {
    const x = T.zeros([2, 3]);
    expectError(() => T.takeAlongAxis(x, T.zeros([2, 1]), 1), T.DTypeError, 'takeAlongAxis', ['float32']);
    expectError(() => T.takeAlongAxis(x, T.zeros([2], { dtype: 'int32' }), 1), T.ShapeError, 'takeAlongAxis');
    expectError(
      () => T.takeAlongAxis(x, T.zeros([3, 1], { dtype: 'int32' }), 1),
      T.ShapeError,
      'takeAlongAxis',
      ['[3,1]', '[2,3]'],
    );
    expectError(
      () => T.takeAlongAxis(x, T.full([2, 1], 3, { dtype: 'int32' }), 1),
      T.IndexError,
      'takeAlongAxis',
      ['3'],
    );
  });
});

describe('indexSelect', () => {
  const arb = fc
    .record({
      shape: shapeArb({ minRank: 1, maxRank: 3, maxDim: 3 }),
      seed: fc.nat(),
      length: fc.integer({ min: 0, max: 5 }),
    })
    .chain(({ shape, seed, length }) => {
      const axis = seed % shape.length;
      return fc.record({
        axis: fc.constant(axis),
        x: caseOf(shape, DTYPES),
        index: indexOf([shape[axis] === 0 ? 0 : length], shape[axis]),
        form: fc.constantFrom('ndarray', 'array', 'int32array'),
      });
    });

  it('picks whole slices, with repeats and empty indices, from an NDArray or plain list', () => {
    fc.assert(
      fc.property(arb, ({ axis, x, index, form }) => {
        const given =
          form === 'ndarray' ? build(index) : form === 'array' ? index.values : Int32Array.from(index.values);
        const out = T.indexSelect(build(x), axis, given);
        const shape = x.shape.map((d, i) => (i === axis ? index.values.length : d));
        const expected = [...indices(shape)].map((idx) => {
          const from = idx.map((j, i) => (i === axis ? index.values[j] : j));
          return x.values[flatIndex(from, x.shape)];
        });
        expectArray(out, shape, x.dtype, expected);
      }),
    );
  });

  it('rejects bad indices', () => {
    const x = T.zeros([2, 3]);
    expectError(() => T.indexSelect(x, 0, T.array([0])), T.DTypeError, 'indexSelect', ['float32']);
    expectError(() => T.indexSelect(x, 0, [0.5]), T.IndexError, 'indexSelect', ['0.5']);
    expectError(() => T.indexSelect(x, 0, [Number.NaN]), T.IndexError, 'indexSelect');
    expectError(() => T.indexSelect(x, 0, [2]), T.IndexError, 'indexSelect', ['2']);
    expectError(() => T.indexSelect(x, 1, [-1]), T.IndexError, 'indexSelect', ['-1']);
    expectError(() => T.indexSelect(x, 1, [2 ** 32 + 1]), T.IndexError, 'indexSelect');
    expectError(() => T.indexSelect(x, 0, T.zeros([1, 1], { dtype: 'int32' })), T.ShapeError, 'indexSelect', [
      '[1,1]',
    ]);
    expectError(() => T.indexSelect(x, 2, [0]), T.IndexError, 'indexSelect');
    expectError(() => T.indexSelect(T.scalar(1), 0, [0]), T.ShapeError, 'indexSelect');
  });
});

describe('scatterAdd', () => {
  const NUMERIC: readonly T.DType[] = ['float32', 'float64', 'int32'];
  const arb = gatherShapes
    .chain(({ shape, axis, indexShape }) =>
      fc.record({
        axis: fc.constant(axis),
        base: caseOf(shape, NUMERIC),
        index: indexOf(indexShape, shape[axis]),
        srcShape: fc.tuple(...indexShape.map((d) => fc.integer({ min: d, max: d + 1 }))),
      }),
    )
    .chain((r) => fc.record({ r: fc.constant(r), src: caseOf(r.srcShape, NUMERIC) }));

  it('returns base plus src added at the indices (repeats accumulate, src may be larger)', () => {
    fc.assert(
      fc.property(arb, ({ r: { axis, base, index }, src }) => {
        const out = T.scatterAdd(build(base), axis, build(index), build(src));
        const dtype = promote(base.dtype, src.dtype);
        const acc = [...base.values];
        [...indices(index.shape)].forEach((idx, at) => {
          const to = idx.map((j, i) => (i === axis ? index.values[at] : j));
          acc[flatIndex(to, base.shape)] += src.values[flatIndex(idx, src.shape)];
        });
        const tol = dtype === 'float32' ? 1e-6 : 1e-12;
        expectArray(
          out,
          base.shape,
          dtype,
          acc.map((v) => castValue(v, dtype)),
          tol,
        );
      }),
    );
  });

  it('counts repeated indices', () => {
    const out = T.scatterAdd(
      T.zeros([3], { dtype: 'int32' }),
      0,
      T.array([0, 2, 0, 0], { dtype: 'int32' }),
      T.ones([4], { dtype: 'int32' }),
    );
    expect(out.toArray()).toEqual([3, 0, 1]);
  });

  it('adds bool values as integers, like add', () => {
    const t = T.array([true, true]);
    const out = T.scatterAdd(T.array([true, false]), 0, T.array([0, 0], { dtype: 'int32' }), t);
    expect(out.dtype).toBe('int32');
    expect(out.toArray()).toEqual([3, 0]);
  });

  it('rejects bad indices and shapes', () => {
    const base = T.zeros([2, 3]);
    const src = T.ones([2, 3]);
    const idx = (v: number[][]) => T.array(v, { dtype: 'int32' });
    expectError(() => T.scatterAdd(base, 1, T.array([[0]]), src), T.DTypeError, 'scatterAdd', ['float32']);
    expectError(() => T.scatterAdd(base, 1, idx([[3]]), src), T.IndexError, 'scatterAdd', ['3']);
    expectError(() => T.scatterAdd(base, 1, idx([[-1]]), src), T.IndexError, 'scatterAdd', ['-1']);
    expectError(
      () => T.scatterAdd(base, 1, T.array([0], { dtype: 'int32' }), src),
      T.ShapeError,
      'scatterAdd',
    );
    expectError(() => T.scatterAdd(base, 1, idx([[0, 0, 0, 0]]), src), T.ShapeError, 'scatterAdd', [
      '[1,4]',
      '[2,3]',
    ]);
    expectError(
      () => T.scatterAdd(base, 1, idx([[0], [0], [0]]), T.ones([3, 1])),
      T.ShapeError,
      'scatterAdd',
      ['[3,1]', '[2,3]'],
    );
    expectError(
      () => T.scatterAdd(T.scalar(0), 0, T.scalar(0, { dtype: 'int32' }), T.scalar(1)),
      T.ShapeError,
      'scatterAdd',
    );
  });
});
