import * as T from '@tsgrad/tensor';
import fc from 'fast-check';

/** A shape with dimensions in [minDim, maxDim]; size-0 and size-1 dims included by default. */
export function shapeArb({ minRank = 0, maxRank = 4, minDim = 0, maxDim = 4 } = {}): fc.Arbitrary<number[]> {
  return fc.array(fc.integer({ min: minDim, max: maxDim }), { minLength: minRank, maxLength: maxRank });
}

/** Host data for a shape: plain float64 values (integers when `integer`). */
export function valuesArb(
  shape: readonly number[],
  { min = -3, max = 3, integer = false } = {},
): fc.Arbitrary<number[]> {
  const size = shape.reduce((a, b) => a * b, 1);
  const element = integer
    ? fc.integer({ min: Math.ceil(min), max: Math.floor(max) })
    : fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
  return fc.array(element, { minLength: size, maxLength: size });
}

/**
 * How an input array is laid out in memory when handed to an op. 'offset' is a contiguous view
 * that starts inside a larger buffer, with junk before and after it.
 */
export type Layout = 'contiguous' | 'permuted' | 'sliced' | 'flipped' | 'offset';
export const layoutArb: fc.Arbitrary<Layout> = fc.constantFrom(
  'contiguous',
  'permuted',
  'sliced',
  'flipped',
  'offset',
);

/**
 * An NDArray with the given logical contents (row-major `values` of `shape`) whose memory
 * layout is non-contiguous unless `layout` is 'contiguous': it is built as a permuted copy,
 * as a strided slice of a larger array, or as a flipped view, then viewed back.
 */
export function makeArray(
  values: readonly number[],
  shape: readonly number[],
  dtype: T.DType,
  layout: Layout,
): T.NDArray {
  const base = T.array(Float64Array.from(values), { shape, dtype });
  if (layout === 'contiguous' || shape.length === 0) return base;
  if (layout === 'flipped') return T.flip(T.contiguous(T.flip(base)));
  if (layout === 'offset') {
    const junk = new Array<number>(shape.slice(1).reduce((n, d) => n * d, 1)).fill(-999);
    const padded = T.array(Float64Array.from([...junk, ...values, ...junk]), {
      shape: [shape[0] + 2, ...shape.slice(1)],
      dtype,
    });
    return T.slice(padded, [{ start: 1, stop: shape[0] + 1 }]);
  }
  if (layout === 'permuted') {
    const order = shape.map((_, i) => shape.length - 1 - i);
    return T.permute(T.contiguous(T.permute(base, order)), order);
  }
  // sliced: interleave with junk along the last axis and take every other element.
  const last = shape.length - 1;
  const wideShape = shape.map((d, i) => (i === last ? 2 * d : d));
  const wide = new Float64Array(values.length * 2).fill(-999);
  values.forEach((v, i) => {
    wide[2 * i] = v;
  });
  const strided = T.array(wide, { shape: wideShape, dtype });
  return T.slice(
    strided,
    shape.map((_, i) => (i === last ? { step: 2 } : null)),
  );
}

/** The row-major position of a multi-index. */
export function flatIndex(index: readonly number[], shape: readonly number[]): number {
  let at = 0;
  for (let i = 0; i < shape.length; i++) at = at * shape[i] + index[i];
  return at;
}

/** Every multi-index of a shape, in row-major order. */
export function* indices(shape: readonly number[]): Generator<number[]> {
  const size = shape.reduce((a, b) => a * b, 1);
  const index = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < size; i++) {
    yield [...index];
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
}

/** Asserts elementwise closeness with a readable message (NaN equals NaN). */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  rtol = 1e-6,
  atol = 1e-6,
): void {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} ≠ ${expected.length}`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    if (a === e) continue;
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) {
      throw new Error(`element ${i}: got ${a}, expected ${e} (rtol ${rtol}, atol ${atol})`);
    }
  }
}

/** A JS number as an element of `dtype` holds it. */
export function castValue(v: number, dtype: T.DType): number {
  if (dtype === 'float32') return Math.fround(v);
  if (dtype === 'int32') return v | 0;
  if (dtype === 'bool') return v !== 0 ? 1 : 0;
  return v;
}
