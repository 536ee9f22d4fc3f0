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

interface Case {
  readonly shape: number[];
  readonly values: number[];
  readonly dtype: T.DType;
  readonly layout: Layout;
}

const ALL_DTYPES: readonly T.DType[] = ['float32', 'float64', 'int32', 'bool'];

function caseOf(shape: fc.Arbitrary<number[]>, dtypes: readonly T.DType[] = ALL_DTYPES): fc.Arbitrary<Case> {
  return fc
    .record({ shape, dtype: fc.constantFrom(...dtypes), layout: layoutArb })
    .chain(({ shape, dtype, layout }) =>
      valuesArb(shape, { integer: dtype === 'int32' || dtype === 'bool' }).map((values) => ({
        shape,
        dtype,
        layout,
        values: values.map((v) => castValue(v, dtype)),
      })),
    );
}

const build = (c: Case) => makeArray(c.values, c.shape, c.dtype, c.layout);

/** Exact comparison of contents, shape and dtype. */
function expectArray(
  actual: T.NDArray,
  shape: readonly number[],
  dtype: T.DType,
  expected: readonly number[],
): void {
  expect(actual.shape).toEqual(shape);
  expect(actual.dtype).toBe(dtype);
  expectClose(actual.toTypedArray(), expected, 0, 0);
}

const promote = (a: T.DType, b: T.DType) =>
  ALL_DTYPES_BY_RANK.indexOf(a) >= ALL_DTYPES_BY_RANK.indexOf(b) ? a : b;
const ALL_DTYPES_BY_RANK: readonly T.DType[] = ['bool', 'int32', 'float32', 'float64'];

const widthArb = fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }));

/** Small shapes, or shapes whose last axis is long enough to be copied by whole rows. */
const blockShapeArb = (minRank: number) =>
  fc.oneof(
    shapeArb({ minRank, maxRank: 3, maxDim: 3 }),
    fc
      .tuple(shapeArb({ maxRank: 2, maxDim: 3 }), fc.integer({ min: 8, max: 11 }))
      .map(([outer, last]) => [...outer, last]),
  );

describe('pad (constant)', () => {
  it('matches a reference for any value, dtype and width, on every layout', () => {
    const arb = caseOf(blockShapeArb(0)).chain((c) =>
      fc.record({
        c: fc.constant(c),
        widths: fc.array(widthArb, { maxLength: c.shape.length }),
        value: fc.constantFrom(0, 1, -2.5, 7, 0.1, Number.NaN),
      }),
    );
    fc.assert(
      fc.property(arb, ({ c, widths, value }) => {
        if (c.dtype === 'bool' && Number.isNaN(value)) return;
        const out = T.pad(build(c), widths, { value });
        const full = c.shape.map((_, i) => widths[i] ?? [0, 0]);
        const shape = c.shape.map((d, i) => d + full[i][0] + full[i][1]);
        const fill = castValue(value, c.dtype);
        const expected: number[] = [];
        for (const idx of indices(shape)) {
          const src = idx.map((j, i) => j - full[i][0]);
          const inside = src.every((j, i) => j >= 0 && j < c.shape[i]);
          expected.push(inside ? c.values[flatIndex(src, c.shape)] : fill);
        }
        expectArray(out, shape, c.dtype, expected);
      }),
    );
  });

  it('pads with zero by default, and zero widths copy', () => {
    expect(T.pad(T.array([1, 2]), [[1, 2]]).toArray()).toEqual([0, 1, 2, 0, 0]);
    expect(
      T.pad(T.array([[1, 2]]), [
        [0, 0],
        [0, 0],
      ]).toArray(),
    ).toEqual([[1, 2]]);
    expect(T.pad(T.scalar(3), []).toArray()).toEqual(3);
    expect(T.pad(T.zeros([0, 2]), [[1, 0]], { value: 5 }).toArray()).toEqual([[5, 5]]);
  });

  it('stores a bool pad value as true/false', () => {
    const out = T.pad(T.array([true, false]), [[1, 1]], { value: 5 });
    expect(out.dtype).toBe('bool');
    expect(Array.from(out.toTypedArray())).toEqual([1, 1, 0, 1]);
    expect(T.pad(T.array([true]), [[1, 0]]).toArray()).toEqual([false, true]);
  });
});

/** NumPy 'reflect' on one line: mirror without repeating the edge, built outwards. */
function reflectLine(line: readonly number[], before: number, after: number): number[] {
  const left: number[] = [];
  for (let k = before; k >= 1; k--) left.push(line[k]);
  const right: number[] = [];
  for (let k = 1; k <= after; k++) right.push(line[line.length - 1 - k]);
  return [...left, ...line, ...right];
}

/** Applies `reflectLine` along `axis` of row-major `values`. */
function reflectAxis(values: number[], shape: number[], axis: number, [before, after]: [number, number]) {
  const outShape = shape.map((d, i) => (i === axis ? d + before + after : d));
  const out = new Array<number>(outShape.reduce((a, b) => a * b, 1));
  const lineShape = shape.map((d, i) => (i === axis ? 1 : d));
  for (const start of indices(lineShape)) {
    const line = Array.from({ length: shape[axis] }, (_, k) => {
      const at = [...start];
      at[axis] = k;
      return values[flatIndex(at, shape)];
    });
    reflectLine(line, before, after).forEach((v, k) => {
      const at = [...start];
      at[axis] = k;
      out[flatIndex(at, outShape)] = v;
    });
  }
  return { values: out, shape: outShape };
}

describe('pad (reflect)', () => {
  it('matches NumPy reflect on every axis', () => {
    const arb = caseOf(shapeArb({ minRank: 1, maxRank: 3, minDim: 1, maxDim: 4 })).chain((c) =>
      fc.record({
        c: fc.constant(c),
        widths: fc.tuple(
          ...c.shape.map((d) =>
            fc.tuple(fc.integer({ min: 0, max: d - 1 }), fc.integer({ min: 0, max: d - 1 })),
          ),
        ),
      }),
    );
    fc.assert(
      fc.property(arb, ({ c, widths }) => {
        const out = T.pad(build(c), widths, { mode: 'reflect' });
        let ref = { values: c.values, shape: c.shape };
        widths.forEach((w, axis) => {
          ref = reflectAxis(ref.values, ref.shape, axis, w);
        });
        expectArray(out, ref.shape, c.dtype, ref.values);
      }),
    );
  });

  it('gives the NumPy example', () => {
    expect(T.pad(T.array([1, 2, 3, 4]), [[2, 3]], { mode: 'reflect' }).toArray()).toEqual([
      3, 2, 1, 2, 3, 4, 3, 2, 1,
    ]);
  });

  it('rejects widths that reach the axis size', () => {
    expectError(() => T.pad(T.zeros([3]), [[3, 0]], { mode: 'reflect' }), T.ValueError, 'pad');
    expectError(
      () =>
        T.pad(
          T.zeros([2, 3]),
          [
            [0, 0],
            [0, 3],
          ],
          { mode: 'reflect' },
        ),
      T.ValueError,
      'pad',
    );
    expectError(() => T.pad(T.zeros([1]), [[0, 1]], { mode: 'reflect' }), T.ValueError, 'pad');
    expectError(() => T.pad(T.zeros([0, 2]), [[1, 0]], { mode: 'reflect' }), T.ValueError, 'pad');
  });
});

describe('pad errors', () => {
  it('rejects negative, non-integer and too many widths, and unknown modes', () => {
    for (const mode of ['constant', 'reflect'] as const) {
      expectError(() => T.pad(T.zeros([3]), [[-1, 0]], { mode }), T.ValueError, 'pad', ['-1']);
      expectError(() => T.pad(T.zeros([3]), [[0, 1.5]], { mode }), T.ValueError, 'pad', ['1.5']);
      expectError(() => T.pad(T.zeros([3]), [[0, Number.NaN]], { mode }), T.ValueError, 'pad');
      expectError(
        () =>
          T.pad(
            T.zeros([3]),
            [
              [0, 0],
              [0, 0],
            ],
            { mode },
          ),
        T.ValueError,
        'pad',
      );
    }
    expectError(() => T.pad(T.zeros([3]), [[1, 1]], { mode: 'edge' as T.PadMode }), T.ValueError, 'pad', [
      'edge',
    ]);
  });
});

describe('concat', () => {
  const arb = fc
    .record({
      shape: blockShapeArb(1),
      count: fc.integer({ min: 1, max: 3 }),
      axisSeed: fc.nat(),
      negative: fc.boolean(),
    })
    .chain(({ shape, count, axisSeed, negative }) => {
      const axis = axisSeed % shape.length;
      const parts = Array.from({ length: count }, () =>
        fc
          .integer({ min: 0, max: 3 })
          .chain((n) => caseOf(fc.constant(shape.map((d, i) => (i === axis ? n : d))))),
      );
      return fc.record({
        axis: fc.constant(axis),
        given: fc.constant(negative ? axis - shape.length : axis),
        parts: fc.tuple(...parts),
      });
    });

  it('joins mixed dtypes along any axis (negative too), promoting the dtype', () => {
    fc.assert(
      fc.property(arb, ({ axis, given, parts }) => {
        const out = T.concat(parts.map(build), given);
        const dtype = parts.map((p) => p.dtype).reduce(promote);
        const shape = parts[0].shape.map((d, i) =>
          i === axis ? parts.reduce((s, p) => s + p.shape[axis], 0) : d,
        );
        const expected: number[] = [];
        for (const idx of indices(shape)) {
          let k = idx[axis];
          let part = 0;
          while (k >= parts[part].shape[axis]) k -= parts[part++].shape[axis];
          const at = idx.map((j, i) => (i === axis ? k : j));
          expected.push(castValue(parts[part].values[flatIndex(at, parts[part].shape)], dtype));
        }
        expectArray(out, shape, dtype, expected);
      }),
    );
  });

  it('rejects mismatched shapes naming both, ranks, empty lists, 0-d arrays and bad axes', () => {
    expectError(() => T.concat([T.zeros([2, 3]), T.zeros([2, 4])], 0), T.ShapeError, 'concat', [
      '[2,3]',
      '[2,4]',
    ]);
    expectError(() => T.concat([T.zeros([2, 3]), T.zeros([2, 3, 1])], 0), T.ShapeError, 'concat', [
      '[2,3]',
      '[2,3,1]',
    ]);
    expectError(() => T.concat([]), T.ValueError, 'concat');
    expectError(() => T.concat([T.scalar(1), T.scalar(2)]), T.ShapeError, 'concat');
    expectError(() => T.concat([T.zeros([2]), T.zeros([2])], 1), T.IndexError, 'concat');
    expectError(() => T.concat([T.zeros([2]), T.zeros([2])], -2), T.IndexError, 'concat');
  });
});

describe('stack', () => {
  it('inserts the new axis at every position', () => {
    const arb = fc
      .record({
        shape: shapeArb({ maxRank: 3, maxDim: 3 }),
        count: fc.integer({ min: 1, max: 3 }),
        seed: fc.nat(),
      })
      .chain(({ shape, count, seed }) => {
        const positions = shape.length + 1;
        const axis = (seed % (2 * positions)) - positions; // every value in [-(r+1), r]
        return fc.record({
          axis: fc.constant(axis),
          dtype: fc.constantFrom(...ALL_DTYPES),
          parts: fc.tuple(...Array.from({ length: count }, () => caseOf(fc.constant(shape)))),
        });
      });
    fc.assert(
      fc.property(arb, ({ axis, parts }) => {
        const out = T.stack(parts.map(build), axis);
        const shape = parts[0].shape;
        const a = axis < 0 ? axis + shape.length + 1 : axis;
        const outShape = [...shape.slice(0, a), parts.length, ...shape.slice(a)];
        const dtype = parts.map((p) => p.dtype).reduce(promote);
        const expected: number[] = [];
        for (const idx of indices(outShape)) {
          const part = parts[idx[a]];
          const at = idx.filter((_, i) => i !== a);
          expected.push(castValue(part.values[flatIndex(at, shape)], dtype));
        }
        expectArray(out, outShape, dtype, expected);
      }),
    );
  });

  it('rejects different shapes, empty lists and bad axes', () => {
    expectError(() => T.stack([T.zeros([2]), T.zeros([3])]), T.ShapeError, 'stack', ['[2]', '[3]']);
    expectError(() => T.stack([]), T.ValueError, 'stack');
    expectError(() => T.stack([T.zeros([2])], 2), T.IndexError, 'stack');
    expectError(() => T.stack([T.zeros([2])], -3), T.IndexError, 'stack');
  });
});

/** A random partition of `n` into non-negative sizes. */
const sizesArb = (n: number) =>
  fc.array(fc.integer({ min: 0, max: n }), { minLength: 0, maxLength: 3 }).map((cuts) => {
    const points = [0, ...cuts.sort((a, b) => a - b), n];
    return points.slice(1).map((p, i) => p - points[i]);
  });

describe('split', () => {
  const arb = caseOf(shapeArb({ minRank: 1, maxRank: 3, maxDim: 4 })).chain((c) =>
    fc.nat({ max: c.shape.length - 1 }).chain((axis) =>
      fc.record({
        c: fc.constant(c),
        axis: fc.constant(axis),
        sizes: sizesArb(c.shape[axis]),
        negative: fc.boolean(),
      }),
    ),
  );

  it('splits into the given sizes, and concat(split(x)) == x', () => {
    fc.assert(
      fc.property(arb, ({ c, axis, sizes, negative }) => {
        const x = build(c);
        const pieces = T.split(x, sizes, negative ? axis - c.shape.length : axis);
        expect(pieces.length).toBe(sizes.length);
        let start = 0;
        pieces.forEach((piece, p) => {
          const shape = c.shape.map((d, i) => (i === axis ? sizes[p] : d));
          const expected = [...indices(shape)].map((idx) => {
            const at = idx.map((j, i) => (i === axis ? j + start : j));
            return c.values[flatIndex(at, c.shape)];
          });
          expectArray(piece, shape, c.dtype, expected);
          start += sizes[p];
        });
        expectArray(T.concat(pieces, axis), c.shape, c.dtype, c.values);
      }),
    );
  });

  it('splits into equal sections', () => {
    fc.assert(
      fc.property(arb, fc.integer({ min: 1, max: 4 }), ({ c, axis }, sections) => {
        const n = c.shape[axis];
        if (n % sections !== 0) {
          expectError(() => T.split(build(c), sections, axis), T.ValueError, 'split');
          return;
        }
        const pieces = T.split(build(c), sections, axis);
        expect(pieces.length).toBe(sections);
        for (const piece of pieces) expect(piece.shape[axis]).toBe(n / sections);
        expectArray(T.concat(pieces, axis), c.shape, c.dtype, c.values);
      }),
    );
  });

  it('rejects bad sizes and sections', () => {
    const x = T.zeros([4, 2]);
    expectError(() => T.split(x, [1, 2]), T.ValueError, 'split', ['[1,2]', '4']);
    expectError(() => T.split(x, [5, -1]), T.ValueError, 'split');
    expectError(() => T.split(x, [1.5, 2.5]), T.ValueError, 'split');
    expectError(() => T.split(x, 3), T.ValueError, 'split', ['3']);
    expectError(() => T.split(x, 0), T.ValueError, 'split');
    expectError(() => T.split(x, 2.5), T.ValueError, 'split');
    expectError(() => T.split(x, 2, 2), T.IndexError, 'split');
    expectError(() => T.split(T.scalar(1), 1), T.ShapeError, 'split');
  });
});

describe('tril / triu', () => {
  it('keep j − i ≤ k (tril) or ≥ k (triu) over batch dims, keeping the dtype', () => {
    const arb = fc.record({
      c: caseOf(shapeArb({ minRank: 2, maxRank: 4, maxDim: 4 })),
      k: fc.integer({ min: -5, max: 5 }),
      upper: fc.boolean(),
    });
    fc.assert(
      fc.property(arb, ({ c, k, upper }) => {
        const out = upper ? T.triu(build(c), k) : T.tril(build(c), k);
        const expected = [...indices(c.shape)].map((idx, at) => {
          const offset = idx[idx.length - 1] - idx[idx.length - 2];
          return (upper ? offset >= k : offset <= k) ? c.values[at] : 0;
        });
        expectArray(out, c.shape, c.dtype, expected);
      }),
    );
  });

  it('handles offsets far outside the matrix', () => {
    const x = T.ones([2, 3], { dtype: 'int32' });
    expect(T.tril(x, 2 ** 40).toArray()).toEqual([
      [1, 1, 1],
      [1, 1, 1],
    ]);
    expect(T.triu(x, 2 ** 40).toArray()).toEqual([
      [0, 0, 0],
      [0, 0, 0],
    ]);
    expect(T.tril(x, -(2 ** 40)).toArray()).toEqual([
      [0, 0, 0],
      [0, 0, 0],
    ]);
    expect(T.triu(x, -(2 ** 40)).toArray()).toEqual([
      [1, 1, 1],
      [1, 1, 1],
    ]);
  });

  it('rejects rank < 2 and non-integer offsets', () => {
    expectError(() => T.tril(T.zeros([3])), T.ShapeError, 'tril', ['[3]']);
    expectError(() => T.triu(T.scalar(1)), T.ShapeError, 'triu');
    expectError(() => T.tril(T.zeros([2, 2]), 0.5), T.ValueError, 'tril', ['0.5']);
  });
});

describe('oneHot', () => {
  it('encodes classes along a new last axis in the requested dtype', () => {
    const arb = fc
      .record({
        shape: shapeArb({ maxRank: 2, maxDim: 3 }),
        numClasses: fc.integer({ min: 0, max: 4 }),
        dtype: fc.constantFrom(undefined, 'float32', 'float64', 'int32') as fc.Arbitrary<
          'float32' | 'float64' | 'int32' | undefined
        >,
        layout: layoutArb,
      })
      .chain((r) =>
        fc.record({
          r: fc.constant(r),
          values:
            r.numClasses === 0
              ? fc.constant(null)
              : valuesArb(r.shape, { min: 0, max: r.numClasses - 1, integer: true }),
        }),
      );
    fc.assert(
      fc.property(arb, ({ r, values }) => {
        const size = r.shape.reduce((a, b) => a * b, 1);
        if (values === null && size > 0) return;
        const classes = values ?? [];
        const out = T.oneHot(makeArray(classes, r.shape, 'int32', r.layout), r.numClasses, {
          dtype: r.dtype,
        });
        const shape = [...r.shape, r.numClasses];
        const expected = [...indices(shape)].map((idx) => {
          const at = flatIndex(idx.slice(0, -1), r.shape);
          return classes[at] === idx[idx.length - 1] ? 1 : 0;
        });
        expectArray(out, shape, r.dtype ?? 'float32', expected);
      }),
    );
  });

  it('rejects out-of-range classes, non-int32 indices and bad class counts', () => {
    const idx = (v: number[]) => T.array(Int32Array.from(v));
    expectError(() => T.oneHot(idx([0, 3]), 3), T.IndexError, 'oneHot', ['3']);
    expectError(() => T.oneHot(idx([-1]), 3), T.IndexError, 'oneHot', ['-1']);
    expectError(() => T.oneHot(T.array([1, 2]), 3), T.DTypeError, 'oneHot', ['float32']);
    expectError(() => T.oneHot(idx([0]), 1.5), T.ValueError, 'oneHot');
    expectError(() => T.oneHot(idx([0]), -1), T.ValueError, 'oneHot');
  });
});
