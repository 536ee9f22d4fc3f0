import * as T from '@tsgrad/tensor';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { indices, type Layout, makeArray } from './arbitraries.js';

type NumericDType = 'float32' | 'float64' | 'int32';
/** makeArray's layouts, plus a transposed view of a contiguous array and a stride-0 expanded axis. */
type InputLayout = Layout | 'transposed' | 'expanded';

/** Cheap deterministic values (fast-check picks the seed), so 70×70 operands stay fast to generate. */
function seededValues(size: number, seed: number, integer: boolean): number[] {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  return Array.from({ length: size }, () => (integer ? Math.floor(next() * 21) - 10 : next() * 4 - 2));
}

const sizeOf = (shape: readonly number[]) => shape.reduce((x, y) => x * y, 1);

/** An array of `shape` laid out as `layout`; the reference reads its logical contents back. */
function buildInput(shape: number[], dtype: NumericDType, layout: InputLayout, seed: number): T.NDArray {
  const rank = shape.length;
  if (layout === 'expanded' && rank >= 1) {
    const one = [1, ...shape.slice(1)];
    const base = T.array(Float64Array.from(seededValues(sizeOf(one), seed, dtype === 'int32')), {
      shape: one,
      dtype,
    });
    return T.broadcastTo(base, shape);
  }
  const values = seededValues(sizeOf(shape), seed, dtype === 'int32');
  if (layout === 'transposed' && rank >= 2) {
    const swapped = [...shape.slice(0, -2), shape[rank - 1], shape[rank - 2]];
    return T.transpose(T.array(Float64Array.from(values), { shape: swapped, dtype }));
  }
  return makeArray(
    values,
    shape,
    dtype,
    layout === 'transposed' || layout === 'expanded' ? 'contiguous' : layout,
  );
}

interface Reference {
  readonly shape: number[];
  readonly values: Float64Array;
  /** Σ|a·b| per output element, the scale of its rounding error. */
  readonly scale: Float64Array;
}

/** Textbook matmul on logical contents, with 1-D promotion and batch broadcasting spelled out. */
function referenceMatmul(a: T.NDArray, b: T.NDArray, wrapInt32: boolean): Reference {
  const aData = Array.from(a.toTypedArray(), Number);
  const bData = Array.from(b.toTypedArray(), Number);
  const aShape = a.ndim === 1 ? [1, a.shape[0]] : [...a.shape];
  const bShape = b.ndim === 1 ? [b.shape[0], 1] : [...b.shape];
  const [m, k] = aShape.slice(-2);
  const n = bShape[bShape.length - 1];
  const rank = Math.max(aShape.length, bShape.length) - 2;
  const padBatch = (s: number[]) => [...new Array<number>(rank - (s.length - 2)).fill(1), ...s.slice(0, -2)];
  const aBatch = padBatch(aShape);
  const bBatch = padBatch(bShape);
  const batch = aBatch.map((d, i) => (d === 1 ? bBatch[i] : d));
  const values = new Float64Array(sizeOf(batch) * m * n);
  const scale = new Float64Array(values.length);
  const flat = (index: number[], shape: number[]) =>
    index.reduce((at, x, i) => at * shape[i] + (shape[i] === 1 ? 0 : x), 0);
  let out = 0;
  for (const index of indices(batch)) {
    const aBase = flat(index, aBatch) * m * k;
    const bBase = flat(index, bBatch) * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++, out++) {
        let sum = 0;
        let abs = 0;
        for (let p = 0; p < k; p++) {
          const x = aData[aBase + i * k + p];
          const y = bData[bBase + p * n + j];
          sum = wrapInt32 ? (sum + Math.imul(x, y)) | 0 : sum + x * y;
          abs += Math.abs(x * y);
        }
        values[out] = sum;
        scale[out] = abs;
      }
    }
  }
  const shape = [...batch, ...(a.ndim === 1 ? [] : [m]), ...(b.ndim === 1 ? [] : [n])];
  return { shape, values, scale };
}

/** Checks T.matmul(a, b) against the reference: shape, dtype, contiguity and values. */
function checkMatmul(a: T.NDArray, b: T.NDArray): void {
  const dtype = T.promoteTypes(a.dtype, b.dtype);
  const got = T.matmul(a, b);
  const ref = referenceMatmul(a, b, dtype === 'int32');
  expect(got.shape).toEqual(ref.shape);
  expect(got.dtype).toBe(dtype);
  expect(got.isContiguous).toBe(true);
  const values = got.toTypedArray();
  const rtol = dtype === 'float64' ? 1e-13 : dtype === 'float32' ? 1e-6 : 0;
  for (let i = 0; i < values.length; i++) {
    const error = Math.abs(values[i] - ref.values[i]);
    if (!(error <= rtol * ref.scale[i])) {
      throw new Error(
        `element ${i}: got ${values[i]}, expected ${ref.values[i]} (${dtype}, shape [${ref.shape}])`,
      );
    }
  }
}

/** Mostly tiny sizes (0 and 1 included), sometimes up to 70 to cross the 4×4 tile and the 64-row block. */
const dimArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 6 }) },
  { weight: 1, arbitrary: fc.integer({ min: 7, max: 70 }) },
);
const dtypeArb = fc.constantFrom<NumericDType>('float32', 'float64', 'int32');
const layoutArb = fc.constantFrom<InputLayout>(
  'contiguous',
  'permuted',
  'sliced',
  'flipped',
  'transposed',
  'expanded',
);

/** How an operand's batch axes derive from the common batch shape: drop leading ones, set some to 1. */
const rarely = fc.integer({ min: 0, max: 4 }).map((x) => x === 0);
const batchViewArb = fc.record({
  drop: fc.oneof(
    { weight: 3, arbitrary: fc.constant(0) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 2 }) },
  ),
  ones: fc.array(rarely, { minLength: 2, maxLength: 2 }),
});
const deriveBatch = (batch: number[], view: { drop: number; ones: boolean[] }) =>
  batch.slice(Math.min(view.drop, batch.length)).map((d, i) => (view.ones[i] ? 1 : d));
/** Batch sizes: mostly 1..3, sometimes 0. */
const batchDimArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 3 }) },
  { weight: 1, arbitrary: fc.constant(0) },
);

const caseArb = fc.record({
  batch: fc.array(batchDimArb, { maxLength: 2 }),
  aBatch: batchViewArb,
  bBatch: batchViewArb,
  m: dimArb,
  k: dimArb,
  n: dimArb,
  aVector: rarely,
  bVector: rarely,
  aDtype: dtypeArb,
  bDtype: dtypeArb,
  aLayout: layoutArb,
  bLayout: layoutArb,
  seed: fc.integer(),
});

describe('matmul', () => {
  it('matches a float64 triple loop over random shapes, layouts and dtypes', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        // Keep the reference cheap: big m, k and n together only without batch axes.
        const batch = c.m * c.k * c.n > 20000 ? [] : c.batch;
        const aShape = c.aVector ? [c.k] : [...deriveBatch(batch, c.aBatch), c.m, c.k];
        const bShape = c.bVector ? [c.k] : [...deriveBatch(batch, c.bBatch), c.k, c.n];
        const a = buildInput(aShape, c.aDtype, c.aLayout, c.seed);
        const b = buildInput(bShape, c.bDtype, c.bLayout, c.seed + 1);
        checkMatmul(a, b);
      }),
      { numRuns: 60 },
    );
  });

  it('agrees with the reference across layout pairs with a rank-2 batch', () => {
    const shapesArb = fc.record({ m: dimArb, n: dimArb, shareB: fc.boolean() });
    fc.assert(
      fc.property(
        dtypeArb,
        layoutArb,
        layoutArb,
        shapesArb,
        fc.integer(),
        (dtype, la, lb, { m, n, shareB }, seed) => {
          // [2,3,m,5] × [3,5,n] walks the batch with a stride-0 axis in b; × [5,n] folds it into rows.
          const a = buildInput([2, 3, m, 5], dtype, la, seed);
          const b = buildInput(shareB ? [5, n] : [3, 5, n], dtype, lb, seed + 1);
          checkMatmul(a, b);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('crosses the k, row and column block boundaries (k > 256, m > 64, n > 512)', () => {
    const a = buildInput([70, 300], 'float64', 'contiguous', 1);
    const bT = buildInput([530, 300], 'float64', 'contiguous', 2);
    checkMatmul(a, T.transpose(bT));
    checkMatmul(
      buildInput([3, 261], 'float32', 'sliced', 3),
      buildInput([261, 517], 'float32', 'flipped', 4),
    );
    checkMatmul(
      buildInput([5, 260], 'int32', 'contiguous', 5),
      buildInput([2, 260, 9], 'int32', 'permuted', 6),
    );
  });

  it('computes a small product by hand', () => {
    const a = T.array([
      [1, 2],
      [3, 4],
    ]);
    const b = T.array([
      [5, 6],
      [7, 8],
    ]);
    expect(T.matmul(a, b).toArray()).toEqual([
      [19, 22],
      [43, 50],
    ]);
  });

  it('promotes 1-D operands and drops their axis, like NumPy', () => {
    const v = T.array([1, 2, 3]);
    const m = T.reshape(T.arange(6), [2, 3]);
    const batched = T.reshape(T.arange(24), [2, 4, 3]);
    expect(T.matmul(v, v).shape).toEqual([]);
    expect(T.matmul(v, v).item()).toBe(14);
    expect(T.matmul(m, v).toArray()).toEqual([8, 26]);
    expect(T.matmul(v, T.transpose(m)).toArray()).toEqual([8, 26]);
    expect(T.matmul(batched, v).shape).toEqual([2, 4]);
    expect(T.matmul(T.array([1, 1, 1, 1]), batched).shape).toEqual([2, 3]);
    expect(T.matmul(T.array([1, 1, 1, 1]), batched).toArray()).toEqual([
      [18, 22, 26],
      [66, 70, 74],
    ]);
  });

  it('broadcasts batch axes, including a matrix against a batch', () => {
    expect(T.matmul(T.zeros([2, 1, 3, 4]), T.zeros([5, 4, 2])).shape).toEqual([2, 5, 3, 2]);
    const x = buildInput([3, 4, 5], 'float32', 'contiguous', 7);
    const w = buildInput([5, 6], 'float32', 'contiguous', 8);
    checkMatmul(x, w); // the batch folds into rows: w is packed once
    checkMatmul(T.permute(T.contiguous(T.permute(x, [1, 0, 2])), [1, 0, 2]), w); // batch does not fold
    checkMatmul(T.transpose(w), T.transpose(x, 1, 2)); // [6,5] × [3,5,4]
  });

  it('handles empty and size-1 dimensions', () => {
    const zeroK = T.matmul(T.ones([2, 0]), T.ones([0, 3]));
    expect(zeroK.toArray()).toEqual([
      [0, 0, 0],
      [0, 0, 0],
    ]);
    expect(T.matmul(T.ones([0, 4]), T.ones([4, 3])).shape).toEqual([0, 3]);
    expect(T.matmul(T.ones([0, 2, 4]), T.ones([4, 3])).shape).toEqual([0, 2, 3]);
    expect(T.matmul(T.ones([1, 1]), T.full([1, 1], 3)).toArray()).toEqual([[3]]);
    expect(T.matmul(T.ones([0]), T.ones([0])).item()).toBe(0);
  });

  it('propagates NaN and infinities like the textbook sum', () => {
    const a = T.array([
      [Number.NaN, 1],
      [1, 1],
      [0, 1],
    ]);
    const b = T.array([
      [1, Number.POSITIVE_INFINITY],
      [1, 1],
    ]);
    expect(T.matmul(a, b).toArray()).toEqual([
      [Number.NaN, Number.NaN],
      [2, Number.POSITIVE_INFINITY],
      [1, Number.NaN],
    ]);
  });

  it('promotes dtypes like the elementwise ops', () => {
    const i = T.array([[1, 2]], { dtype: 'int32' });
    const f = T.array([[1], [2]], { dtype: 'float32' });
    const d = T.array([[1], [2]], { dtype: 'float64' });
    expect(T.matmul(i, T.array([[3], [4]], { dtype: 'int32' })).dtype).toBe('int32');
    expect(T.matmul(i, f).dtype).toBe('float32');
    expect(T.matmul(T.cast(i, 'float32'), d).dtype).toBe('float64');
    expect(T.matmul(i, d).toArray()).toEqual([[5]]);
  });

  it('wraps int32 products and sums like int32 arithmetic', () => {
    const big = T.array([[65536, 46341]], { dtype: 'int32' });
    const out = T.matmul(big, T.array([[65536], [46341]], { dtype: 'int32' }));
    expect(out.toArray()).toEqual([[(Math.imul(65536, 65536) + Math.imul(46341, 46341)) | 0]]);
    // 5×3 × 3×5 fills every position of a 4×4 tile and of the edge tiles.
    fc.assert(
      fc.property(fc.array(fc.integer(), { minLength: 30, maxLength: 30 }), (values) => {
        const a = T.array(Int32Array.from(values.slice(0, 15)), { shape: [5, 3] });
        const b = T.array(Int32Array.from(values.slice(15)), { shape: [3, 5] });
        checkMatmul(a, b);
      }),
      { numRuns: 30 },
    );
  });

  it('accumulates float32 in float64 and rounds once', () => {
    // Each 2⁻²⁴ term is lost when added to 1 in float32; in float64 all four survive: 1 + 2⁻²².
    // They sit far apart, so any float32 rounding between blocks of k would also lose them.
    const k = 1000;
    const a = new Float32Array(k);
    a[0] = 1;
    for (const p of [1, 300, 600, 900]) a[p] = 2 ** -24;
    const got = T.matmul(T.array(a, { shape: [1, k] }), T.ones([k, 1]));
    expect(got.item()).toBe(1 + 2 ** -22);
  });

  it('outer multiplies two vectors', () => {
    expect(T.outer(T.array([1, 2]), T.array([3, 4, 5])).toArray()).toEqual([
      [3, 4, 5],
      [6, 8, 10],
    ]);
    expect(() => T.outer(T.ones([2, 1]), T.ones([2]))).toThrow(/^outer: /);
  });

  it('rejects bad inputs with typed errors naming the op', () => {
    expect(() => T.matmul(T.ones([4, 3]), T.ones([5, 6]))).toThrow(
      new T.ShapeError('matmul', 'cannot multiply [4,3] by [5,6] (inner dimensions 3 ≠ 5)'),
    );
    expect(() => T.matmul(T.ones([4, 3]), T.ones([5, 6]))).toThrow(T.ShapeError);
    expect(() => T.matmul(T.ones([3]), T.ones([4]))).toThrow(/^matmul: cannot multiply \[3\] by \[4\]/);
    expect(() => T.matmul(T.ones([2, 4, 3]), T.ones([3, 3, 5]))).toThrow(T.ShapeError);
    expect(() => T.matmul(T.ones([2, 4, 3]), T.ones([3, 3, 5]))).toThrow(/^matmul: .*\[2,4,3\].*\[3,3,5\]/);
    expect(() => T.matmul(T.scalar(2), T.ones([2]))).toThrow(T.ShapeError);
    expect(() => T.matmul(T.ones([2]), T.scalar(2))).toThrow(/^matmul: /);
    const mask = T.array([[true, false]]);
    expect(() => T.matmul(mask, T.ones([2, 1]))).toThrow(T.DTypeError);
    expect(() => T.matmul(T.ones([1, 2]), T.array([[true], [false]]))).toThrow(/^matmul: .*bool/);
  });
});
