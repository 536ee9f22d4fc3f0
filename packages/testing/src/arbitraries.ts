import { Tensor } from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';
import fc from 'fast-check';

// fast-check arbitraries for shapes, raw arrays and autograd tensors, so users can property-test
// their code the way tsgrad tests itself.

/** Options of `shape` and `broadcastableShapes`. */
export interface ShapeOptions {
  /** Default 0 (a scalar). */
  readonly minRank?: number;
  /** Default 4. */
  readonly maxRank?: number;
  /** Default 1; 0 allows empty arrays. */
  readonly minDim?: number;
  /** Default 5. */
  readonly maxDim?: number;
}

/** Array shapes with `minRank..maxRank` dimensions, each of size `minDim..maxDim`. */
export function shape(options: ShapeOptions = {}): fc.Arbitrary<number[]> {
  const { minRank = 0, maxRank = 4, minDim = 1, maxDim = 5 } = options;
  if (minRank < 0 || maxRank < minRank || minDim < 0 || maxDim < minDim) {
    throw new T.ValueError(
      'shape',
      `needs 0 ≤ minRank ≤ maxRank and 0 ≤ minDim ≤ maxDim, got ${minRank}..${maxRank}, ${minDim}..${maxDim}`,
    );
  }
  return fc.array(fc.integer({ min: minDim, max: maxDim }), { minLength: minRank, maxLength: maxRank });
}

/**
 * `count` shapes that broadcast together (NumPy rules): each is a suffix of a common shape drawn
 * with `options` (so ranks may differ), with some dims replaced by 1.
 */
export function broadcastableShapes(count: number, options: ShapeOptions = {}): fc.Arbitrary<number[][]> {
  if (!Number.isInteger(count) || count < 1)
    throw new T.ValueError('broadcastableShapes', `count must be an integer ≥ 1, got ${T.describe(count)}`);
  return shape(options).chain((full) => {
    const one = fc.record({
      dropped: fc.integer({ min: 0, max: full.length }),
      ones: fc.array(fc.boolean(), { minLength: full.length, maxLength: full.length }),
    });
    return fc
      .array(one, { minLength: count, maxLength: count })
      .map((picks) => picks.map(({ dropped, ones }) => full.map((d, i) => (ones[i] ? 1 : d)).slice(dropped)));
  });
}

/** The range of the values the arbitraries draw. */
export interface ValueOptions {
  /** Lower bound of float and int values (default −10). */
  readonly min?: number;
  /** Upper bound of float and int values (default 10). */
  readonly max?: number;
}

/** Options of the `ndarray` arbitrary. */
export interface NDArrayOptions extends ValueOptions {
  /** Default 'float32'. */
  readonly dtype?: T.DType;
  /** A fixed shape or an arbitrary of shapes (default `shape()`). */
  readonly shape?: T.Shape | fc.Arbitrary<T.Shape>;
}

/** Options of the `tensor` arbitrary. */
export interface TensorOptions extends NDArrayOptions {
  /** Make the tensor a leaf that requires grad (float dtypes only). */
  readonly requiresGrad?: boolean;
}

/** `length` finite float64 values in [min, max] (no NaN, no infinities). */
export function float64Values(length: number, options: ValueOptions = {}): fc.Arbitrary<Float64Array> {
  const { min = -10, max = 10 } = options;
  return fc
    .array(fc.double({ min, max, noNaN: true }), { minLength: length, maxLength: length })
    .map((values) => Float64Array.from(values));
}

function valuesOf(dtype: T.DType, min: number, max: number): fc.Arbitrary<number> {
  switch (dtype) {
    case 'float64':
      return fc.double({ min, max, noNaN: true });
    case 'float32':
      return fc.float({ min: Math.fround(min), max: Math.fround(max), noNaN: true });
    case 'int32':
      return fc.integer({ min: Math.ceil(min), max: Math.floor(max) });
    case 'bool':
      return fc.boolean().map(Number);
  }
}

function shapeArbitrary(given: NDArrayOptions['shape']): fc.Arbitrary<T.Shape> {
  if (given === undefined) return shape();
  return given instanceof fc.Arbitrary ? given : fc.constant(given);
}

/** Raw arrays (`NDArray`) of one dtype with values in [min, max] (0/1 for bool). */
export function ndarray(options: NDArrayOptions = {}): fc.Arbitrary<T.NDArray> {
  const { dtype = 'float32', min = -10, max = 10 } = options;
  if (!(min <= max))
    throw new T.ValueError('ndarray', `min ${T.describe(min)} is above max ${T.describe(max)}`);
  return shapeArbitrary(options.shape).chain((dims) => {
    const size = T.sizeOf(dims);
    return fc.array(valuesOf(dtype, min, max), { minLength: size, maxLength: size }).map((values) => {
      const data = T.allocTyped(dtype, size);
      values.forEach((v, i) => {
        data[i] = v;
      });
      return T.array(data, { shape: dims, dtype });
    });
  });
}

/** Autograd tensors: `ndarray(options)` wrapped, as leaves requiring grad if asked. */
export function tensor(options: TensorOptions = {}): fc.Arbitrary<Tensor> {
  const requiresGrad = options.requiresGrad ?? false;
  if (requiresGrad && !T.isFloat(options.dtype ?? 'float32')) {
    throw new T.DTypeError('tensor', `only floating-point tensors can require grad, got ${options.dtype}`);
  }
  return ndarray(options).map((value) => new Tensor(value, { requiresGrad }));
}
