import * as T from '@tsgrad/tensor';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectClose, indices, type Layout, layoutArb, makeArray, shapeArb } from './arbitraries.js';

// Reductions, arg-reductions and scans against naive float64 references: every input element
// is dropped into the bucket of its output position, then each bucket is folded on the host.

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const wrap32 = (v: bigint) => Number(BigInt.asIntN(32, v));

/** What storing a float64 value into `dtype` keeps. */
function store(dtype: T.DType, v: number): number {
  if (dtype === 'float64') return v;
  if (dtype === 'float32') return Math.fround(v);
  if (dtype === 'int32') return Number.isNaN(v) ? 0 : wrap32(BigInt(Math.trunc(v)));
  return v !== 0 ? 1 : 0;
}

/**
 * The input layouts of test/arbitraries.ts plus 'offset': a contiguous view that starts inside
 * a larger buffer (a row of a bigger array), which non-strided kernels must not read from 0.
 */
type AnyLayout = Layout | 'offset';
const anyLayoutArb: fc.Arbitrary<AnyLayout> = fc.oneof(layoutArb, fc.constant<AnyLayout>('offset'));

function build(
  values: readonly number[],
  shape: readonly number[],
  dtype: T.DType,
  layout: AnyLayout,
): T.NDArray {
  if (layout !== 'offset') return makeArray(values, shape, dtype, layout);
  const junk = new Array<number>(values.length).fill(7);
  const outer = T.array(Float64Array.from([...junk, ...values, ...junk]), { shape: [3, ...shape], dtype });
  return T.slice(outer, [1]);
}

function valuesArb(shape: readonly number[], dtype: T.DType, { nan = false, ties = false } = {}) {
  const n = sizeOf(shape);
  let element: fc.Arbitrary<number>;
  if (dtype === 'bool') element = fc.constantFrom(0, 1);
  else if (dtype === 'int32' || ties) element = fc.integer({ min: -3, max: 3 });
  else element = fc.double({ min: -3, max: 3, noNaN: true, noDefaultInfinity: true });
  if (nan && (dtype === 'float32' || dtype === 'float64')) {
    element = fc.oneof({ arbitrary: element, weight: 6 }, { arbitrary: fc.constant(Number.NaN), weight: 1 });
  }
  return fc.array(element, { minLength: n, maxLength: n });
}

/** An axis list as a user might write it: any subset, in any order, each maybe negative. */
function axesArb(ndim: number): fc.Arbitrary<number | number[] | undefined> {
  const list = fc
    .shuffledSubarray(
      Array.from({ length: ndim }, (_, i) => i),
      { minLength: 0 },
    )
    .chain((axes) =>
      fc
        .array(fc.boolean(), { minLength: axes.length, maxLength: axes.length })
        .map((negative) => axes.map((a, i) => (negative[i] ? a - ndim : a))),
    );
  const single = ndim > 0 ? [fc.integer({ min: -ndim, max: ndim - 1 })] : [];
  return fc.oneof(fc.constant(undefined), list, ...single);
}

function normalized(axis: number | number[] | undefined, ndim: number): number[] {
  if (axis === undefined) return Array.from({ length: ndim }, (_, i) => i);
  return (typeof axis === 'number' ? [axis] : axis).map((a) => (a < 0 ? a + ndim : a));
}

interface Buckets {
  shape: number[];
  buckets: number[][];
}

/** Groups the elements of `values` by their position after reducing `axes`. */
function bucketize(
  values: readonly number[],
  shape: readonly number[],
  axes: readonly number[],
  keepdims: boolean,
) {
  const outShape = keepdims
    ? shape.map((d, i) => (axes.includes(i) ? 1 : d))
    : shape.filter((_, i) => !axes.includes(i));
  const kept = shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const keptShape = kept.map((i) => shape[i]);
  const buckets: number[][] = Array.from({ length: sizeOf(keptShape) }, () => []);
  let i = 0;
  for (const index of indices(shape)) {
    let at = 0;
    for (const k of kept) at = at * shape[k] + index[k];
    buckets[at].push(values[i++]);
  }
  return { shape: outShape, buckets } satisfies Buckets;
}

const anyNaN = (xs: readonly number[]) => xs.some(Number.isNaN);
const FOLDS = {
  sum: (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0),
  prod: (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1),
  max: (xs: readonly number[]) => (anyNaN(xs) ? Number.NaN : Math.max(...xs)),
  min: (xs: readonly number[]) => (anyNaN(xs) ? Number.NaN : Math.min(...xs)),
};
type ReduceName = keyof typeof FOLDS;
const intProd = (xs: readonly number[]) => xs.reduce((a, b) => wrap32(BigInt(a) * BigInt(b)), 1);
const OPS: Record<ReduceName, typeof T.sum> = { sum: T.sum, prod: T.prod, max: T.max, min: T.min };

function expectValues(actual: T.NDArray, expected: readonly number[]): void {
  const got = Array.from(actual.toTypedArray());
  if (actual.dtype === 'float32') expectClose(got, expected, 1e-6, 1e-5);
  else if (actual.dtype === 'float64') expectClose(got, expected, 1e-12, 1e-12);
  else expect(got).toEqual(expected);
}

const DTYPES: readonly T.DType[] = ['bool', 'int32', 'float32', 'float64'];

const caseArb = (opts: { nan?: boolean; ties?: boolean } = {}) =>
  fc
    .record({
      shape: shapeArb({ maxRank: 4, maxDim: 3 }),
      dtype: fc.constantFrom(...DTYPES),
      layout: anyLayoutArb,
      keepdims: fc.boolean(),
    })
    .chain((c) =>
      fc
        .tuple(valuesArb(c.shape, c.dtype, opts), axesArb(c.shape.length))
        .map(([values, axis]) => ({ ...c, values, axis })),
    );

describe('sum, prod, max, min', () => {
  for (const name of Object.keys(FOLDS) as ReduceName[]) {
    it(`${name} over random axis sets (negative, unordered, keepdims, every layout) matches the reference`, () => {
      fc.assert(
        fc.property(caseArb({ nan: name === 'max' || name === 'min' }), (c) => {
          const x = build(c.values, c.shape, c.dtype, c.layout);
          const axes = normalized(c.axis, c.shape.length);
          const run = () => OPS[name](x, { axis: c.axis, keepdims: c.keepdims });
          const emptyAxis = axes.some((a) => c.shape[a] === 0);
          if ((name === 'max' || name === 'min') && emptyAxis) {
            expect(run).toThrow(T.ValueError);
            expect(run).toThrow(new RegExp(`^${name}: cannot reduce an empty axis`));
            return;
          }
          const out = run();
          const accumulates = name === 'sum' || name === 'prod';
          const dtype = accumulates && (c.dtype === 'bool' || c.dtype === 'int32') ? 'int32' : c.dtype;
          expect(out.dtype).toBe(dtype);
          const { shape, buckets } = bucketize(
            c.values.map((v) => store(c.dtype, v)),
            c.shape,
            axes,
            c.keepdims,
          );
          expect(out.shape).toEqual(shape);
          // int32 products wrap: fold them exactly, not through float64.
          const fold = name === 'prod' && dtype === 'int32' ? intProd : FOLDS[name];
          expectValues(
            out,
            buckets.map((b) => store(dtype, fold(b))),
          );
        }),
      );
    });
  }

  it('the sum of nothing is 0 and the product is 1; max/min of nothing throw naming the op', () => {
    for (const dtype of DTYPES) {
      const x = T.zeros([2, 0, 3], { dtype });
      expect(T.sum(x).item()).toBe(0);
      expect(T.prod(x).item()).toBe(1);
      expect(T.sum(x, { axis: 1 }).toArray()).toEqual([
        [0, 0, 0],
        [0, 0, 0],
      ]);
      expect(T.prod(x, { axis: [0, 1], keepdims: true }).shape).toEqual([1, 1, 3]);
      expect(() => T.max(x)).toThrow(T.ValueError);
      expect(() => T.min(x, { axis: -2 })).toThrow(/^min: cannot reduce an empty axis of \[2,0,3\]/);
      // Reducing only non-empty axes of an empty array is fine: the result is empty.
      expect(T.max(x, { axis: 2 }).shape).toEqual([2, 0]);
    }
  });

  it('sums bool as int32; int32 sum and prod throw on overflow instead of wrapping', () => {
    expect(T.sum(T.array([true, true, false, true])).toArray()).toBe(3);
    expect(T.sum(T.array([true, true])).dtype).toBe('int32');
    const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
    const fits = (v: bigint) => v >= -(2n ** 31n) && v < 2n ** 31n;
    fc.assert(
      fc.property(fc.array(int32, { minLength: 0, maxLength: 12 }), (xs) => {
        const x = T.array(Int32Array.from(xs));
        const total = xs.reduce((acc, v) => acc + BigInt(v), 0n);
        if (fits(total)) expect(T.sum(x).item()).toBe(Number(total));
        else expect(() => T.sum(x)).toThrow(T.ArithmeticError);
        // Every partial product fits, or prod throws.
        let partial = 1n;
        const partialsFit = xs.every((v) => {
          partial *= BigInt(v);
          return fits(partial);
        });
        if (partialsFit) expect(T.prod(x).item()).toBe(Number(partial));
        else expect(() => T.prod(x)).toThrow(T.ArithmeticError);
      }),
    );
    expect(() => T.sum(T.array(Int32Array.of(2 ** 31 - 1, 1)))).toThrow(
      /^sum: 2147483648 is not representable as int32/,
    );
    expect(() => T.sum(T.array(Int32Array.of(2 ** 30, 2 ** 30, 2 ** 30)), { axis: 0 })).toThrow(
      T.ArithmeticError,
    );
    expect(T.sum(T.array(Int32Array.of(2 ** 31 - 1, 1, -1))).item()).toBe(2 ** 31 - 1);
    expect(T.mean(T.array(Int32Array.of(2 ** 31 - 1, 2 ** 31 - 1))).item()).toBeCloseTo(2 ** 31, -3);
  });

  it('max and min propagate NaN', () => {
    const x = T.array(
      [
        [1, Number.NaN, 3],
        [4, 5, 6],
      ],
      { dtype: 'float64' },
    );
    expect(T.max(x, { axis: 1 }).toArray()).toEqual([Number.NaN, 6]);
    expect(T.min(x, { axis: 0 }).toArray()).toEqual([1, Number.NaN, 3]);
    expect(T.max(x).item()).toBeNaN();
  });

  it('a 0-d array reduces to itself; axes out of range throw an IndexError naming the op', () => {
    const s = T.scalar(5, { dtype: 'int32' });
    for (const name of Object.keys(OPS) as ReduceName[]) {
      expect(OPS[name](s).item()).toBe(5);
      expect(OPS[name](s, { axis: 0 }).item()).toBe(5);
      expect(OPS[name](s, { axis: [] }).shape).toEqual([]);
      const x = T.zeros([2, 3]);
      expect(() => OPS[name](x, { axis: 2 })).toThrow(T.IndexError);
      expect(() => OPS[name](x, { axis: -3 })).toThrow(new RegExp(`^${name}: axis -3 is out of range`));
      expect(() => OPS[name](x, { axis: [0, -2] })).toThrow(
        new RegExp(`^${name}: axis 0 appears more than once`),
      );
      expect(() => OPS[name](x, { axis: 0.5 })).toThrow(T.IndexError);
    }
    expect(() => T.mean(T.zeros([2]), { axis: 1 })).toThrow(/^mean: axis 1/);
  });

  it('throws on a disposed input, naming the op', () => {
    const x = T.ones([2]);
    x.dispose();
    expect(() => T.sum(x)).toThrow(/^sum: .*disposed/);
    expect(() => T.argmax(x)).toThrow(/^argmax: .*disposed/);
    expect(() => T.cumsum(x, 0)).toThrow(/^cumsum: .*disposed/);
  });
});

describe('mean', () => {
  it('is the float mean over the axes (float32 for int and bool inputs)', () => {
    fc.assert(
      fc.property(caseArb(), (c) => {
        const out = T.mean(build(c.values, c.shape, c.dtype, c.layout), {
          axis: c.axis,
          keepdims: c.keepdims,
        });
        const dtype = c.dtype === 'float64' ? 'float64' : 'float32';
        expect(out.dtype).toBe(dtype);
        const axes = normalized(c.axis, c.shape.length);
        const { shape, buckets } = bucketize(
          c.values.map((v) => store(c.dtype, v)),
          c.shape,
          axes,
          c.keepdims,
        );
        expect(out.shape).toEqual(shape);
        expectValues(
          out,
          buckets.map((b) => store(dtype, FOLDS.sum(b) / b.length)),
        );
      }),
    );
    expect(T.mean(T.zeros([0])).item()).toBeNaN();
  });
});

describe('argmax and argmin', () => {
  /** The first index of the extreme value; the first NaN wins over everything. */
  function refArg(xs: readonly number[], better: (a: number, b: number) => boolean): number {
    const nanAt = xs.findIndex(Number.isNaN);
    if (nanAt >= 0) return nanAt;
    let best = 0;
    for (let i = 1; i < xs.length; i++) if (better(xs[i], xs[best])) best = i;
    return best;
  }
  const ARGS = {
    argmax: { fn: T.argmax, better: (a: number, b: number) => a > b },
    argmin: { fn: T.argmin, better: (a: number, b: number) => a < b },
  };

  const argCaseArb = fc
    .record({
      shape: shapeArb({ maxRank: 3, maxDim: 4 }),
      dtype: fc.constantFrom<T.DType>('int32', 'float32', 'float64'),
      layout: anyLayoutArb,
      keepdims: fc.boolean(),
      flat: fc.boolean(),
      pick: fc.nat(),
      negative: fc.boolean(),
    })
    .chain((c) => valuesArb(c.shape, c.dtype, { nan: true, ties: true }).map((values) => ({ ...c, values })));

  for (const [name, { fn, better }] of Object.entries(ARGS)) {
    it(`${name} finds the first extreme (NaN counts as extreme) along an axis or the flattened array`, () => {
      fc.assert(
        fc.property(argCaseArb, (c) => {
          const x = build(c.values, c.shape, c.dtype, c.layout);
          const ndim = c.shape.length;
          const axis = c.flat || ndim === 0 ? undefined : (c.pick % ndim) - (c.negative ? ndim : 0);
          const reduced = axis === undefined ? c.shape.map((_, i) => i) : [axis < 0 ? axis + ndim : axis];
          const run = () => fn(x, { axis, keepdims: c.keepdims });
          if (reduced.some((a) => c.shape[a] === 0)) {
            expect(run).toThrow(T.ValueError);
            expect(run).toThrow(new RegExp(`^${name}: cannot take ${name} of an empty axis`));
            return;
          }
          const out = run();
          expect(out.dtype).toBe('int32');
          const stored = c.values.map((v) => store(c.dtype, v));
          if (axis === undefined) {
            expect(out.shape).toEqual(c.keepdims ? c.shape.map(() => 1) : []);
            expect(out.toTypedArray()[0]).toBe(refArg(stored, better));
            return;
          }
          // The reduced axis holds one bucket per kept position, in axis order.
          const { shape, buckets } = bucketize(stored, c.shape, reduced, c.keepdims);
          expect(out.shape).toEqual(shape);
          expect(Array.from(out.toTypedArray())).toEqual(buckets.map((b) => refArg(b, better)));
        }),
      );
    });
  }

  it('rejects bool, empty axes and out-of-range axes naming the op', () => {
    expect(() => T.argmax(T.array([true]))).toThrow(T.DTypeError);
    expect(() => T.argmin(T.array([true]))).toThrow(/^argmin: /);
    expect(() => T.argmax(T.zeros([0]))).toThrow(T.ValueError);
    expect(() => T.argmax(T.zeros([2, 3]), { axis: 2 })).toThrow(T.IndexError);
    expect(() => T.argmin(T.zeros([2, 3]), { axis: -3 })).toThrow(/^argmin: axis -3 is out of range/);
    expect(T.argmax(T.scalar(3)).item()).toBe(0);
    expect(
      T.argmax(
        T.array([
          [1, 9],
          [9, 2],
        ]),
        { axis: 0, keepdims: true },
      ).toArray(),
    ).toEqual([[1, 0]]);
  });
});

describe('cumsum and cumprod', () => {
  const scanCaseArb = fc
    .record({
      shape: shapeArb({ minRank: 1, maxRank: 3, maxDim: 4 }),
      dtype: fc.constantFrom(...DTYPES),
      layout: anyLayoutArb,
    })
    .chain((c) => valuesArb(c.shape, c.dtype).map((values) => ({ ...c, values })));

  /** The running fold along `axis`, walking each line of the row-major array. */
  function refScan(
    values: readonly number[],
    shape: readonly number[],
    axis: number,
    step: (a: number, b: number) => number,
  ) {
    const out = new Array<number>(values.length);
    const stride = sizeOf(shape.slice(axis + 1));
    for (let i = 0; i < values.length; i++) {
      const position = Math.floor(i / stride) % shape[axis];
      out[i] = position === 0 ? values[i] : step(out[i - stride], values[i]);
    }
    return out;
  }

  const SCANS = {
    cumsum: {
      fn: T.cumsum,
      step: (a: number, b: number) => a + b,
      intStep: (a: number, b: number) => a + b,
    },
    cumprod: {
      fn: T.cumprod,
      step: (a: number, b: number) => a * b,
      intStep: (a: number, b: number) => a * b,
    },
  };

  for (const [name, { fn, step, intStep }] of Object.entries(SCANS)) {
    it(`${name} along every axis (positive and negative) matches the reference`, () => {
      fc.assert(
        fc.property(scanCaseArb, (c) => {
          const x = build(c.values, c.shape, c.dtype, c.layout);
          const dtype = c.dtype === 'bool' ? 'int32' : c.dtype;
          const stored = c.values.map((v) => store(c.dtype, v));
          const ndim = c.shape.length;
          for (let axis = -ndim; axis < ndim; axis++) {
            const out = fn(x, axis);
            expect(out.dtype).toBe(dtype);
            expect(out.shape).toEqual(c.shape);
            const ref = refScan(
              stored,
              c.shape,
              axis < 0 ? axis + ndim : axis,
              dtype === 'int32' ? intStep : step,
            );
            expectValues(
              out,
              ref.map((v) => store(dtype, v)),
            );
          }
        }),
        { numRuns: 40 },
      );
    });
  }

  it('int32 cumsum/cumprod throw on overflow, 0-d arrays scan to themselves, bad axes throw', () => {
    expect(() => T.cumprod(T.array(Int32Array.of(65537, 65537, 65537, 65537)), 0)).toThrow(
      /^cumprod: 4295098369 is not representable as int32/,
    );
    expect(() => T.cumsum(T.array(Int32Array.of(2 ** 31 - 1, 1)), 0)).toThrow(T.ArithmeticError);
    expect(T.cumsum(T.array(Int32Array.of(2 ** 31 - 1, -1)), 0).toArray()).toEqual([
      2 ** 31 - 1,
      2 ** 31 - 2,
    ]);
    expect(T.cumsum(T.scalar(4), 0).toArray()).toBe(4);
    expect(() => T.cumsum(T.zeros([2]), 1)).toThrow(T.IndexError);
    expect(() => T.cumprod(T.zeros([2]), -2)).toThrow(/^cumprod: axis -2 is out of range/);
    expect(() => T.cumsum(T.scalar(1), 3)).toThrow(/^cumsum: axis 3/);
  });
});
