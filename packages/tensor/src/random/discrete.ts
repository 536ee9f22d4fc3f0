import { checkArray } from '../check.js';
import { getBackend, runPrimitive } from '../dispatch.js';
import { describe, formatShape, ShapeError, ValueError } from '../errors.js';
import { NDArray } from '../ndarray.js';
import { broadcastTo } from '../ops/views.js';
import { broadcastShapes, checkAllocation, checkShape, type Shape, shapesEqual, sizeOf } from '../shape.js';
import { checkCount, checkKey, type PRNGKey, randomBits, WordStream } from './key.js';
import { traceKeyed } from './traced.js';

const INT32_MIN = -(2 ** 31);
const INT32_LIMIT = 2 ** 31;

function checkProbability(p: number): void {
  if (typeof p !== 'number' || !(p >= 0 && p <= 1))
    throw new ValueError('bernoulli', `p must lie in [0, 1], got ${describe(p)}`);
}

/** The probabilities of `p` broadcast to `dims`, in row-major order. */
function probabilitiesFor(p: NDArray, dims: number[]): ArrayLike<number> {
  checkArray('bernoulli', p, 'p');
  const joint = broadcastShapes('bernoulli', dims, p.shape);
  if (!shapesEqual(joint, dims)) {
    throw new ShapeError(
      'bernoulli',
      `p of shape ${formatShape(p.shape)} cannot broadcast to shape ${formatShape(dims)}`,
    );
  }
  const view = broadcastTo(p, dims);
  const values = view.toTypedArray();
  view.dispose();
  for (const v of values) checkProbability(v);
  return values;
}

/**
 * Booleans that are true with probability `p` (a number, or an array broadcast to `shape`).
 * `shape` defaults to p's shape. Sample i is `bits_i / 2³² < p_i`, so p = 0 and p = 1 are exact.
 */
export function bernoulli(k: PRNGKey, p: number | NDArray = 0.5, shape?: Shape): NDArray {
  const traced = traceKeyed([k], ([key]) => bernoulli(key, p, shape));
  if (traced !== undefined) return traced;
  checkKey('bernoulli', k);
  let dims: number[];
  let probabilities: ArrayLike<number> | number;
  if (typeof p === 'number') {
    checkProbability(p);
    dims = checkShape('bernoulli', shape ?? []);
    checkAllocation('bernoulli', dims, 'float64');
    probabilities = p;
  } else {
    checkArray('bernoulli', p, 'p');
    dims = checkShape('bernoulli', shape ?? p.shape);
    checkAllocation('bernoulli', dims, 'float64');
    probabilities = probabilitiesFor(p, dims);
  }
  const n = sizeOf(dims);
  const bits = randomBits(k, n);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const pi = typeof probabilities === 'number' ? probabilities : probabilities[i];
    out[i] = bits[i] * 2 ** -32 < pi ? 1 : 0;
  }
  const backend = typeof p === 'number' ? getBackend() : p.backend;
  return NDArray.fromTyped(backend, 'bool', dims, out);
}

/**
 * int32 integers uniform in [low, high), by rejection sampling on 32-bit words (no modulo
 * bias). Needs integers with -2³¹ ≤ low < high ≤ 2³¹.
 */
export function randint(k: PRNGKey, shape: Shape, low: number, high: number): NDArray {
  const traced = traceKeyed([k], ([key]) => randint(key, shape, low, high));
  if (traced !== undefined) return traced;
  checkKey('randint', k);
  const dims = checkShape('randint', shape);
  checkAllocation('randint', dims, 'float64');
  if (!Number.isInteger(low) || !Number.isInteger(high) || low < INT32_MIN || high > INT32_LIMIT) {
    throw new ValueError(
      'randint',
      `low and high must be integers in the int32 range, got low=${low}, high=${high}`,
    );
  }
  if (high <= low) throw new ValueError('randint', `needs low < high, got low=${low}, high=${high}`);
  const n = sizeOf(dims);
  const stream = new WordStream(k);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = low + stream.below(high - low);
  return NDArray.fromTyped(getBackend(), 'int32', dims, out);
}

/** A uniformly random ordering of 0…n-1 (Fisher–Yates driven by the key). */
function shuffledRange(k: PRNGKey, n: number): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const stream = new WordStream(k);
  for (let i = n - 1; i > 0; i--) {
    const j = stream.below(i + 1);
    const held = order[i];
    order[i] = order[j];
    order[j] = held;
  }
  return order;
}

/**
 * A random permutation: of 0…n-1 as int32 for an integer `n`, or of an array's rows (along
 * axis 0) for an array.
 */
export function permutation(k: PRNGKey, x: number | NDArray): NDArray {
  const traced = traceKeyed([k], ([key]) => permutation(key, x));
  if (traced !== undefined) return traced;
  checkKey('permutation', k);
  if (typeof x === 'number') {
    checkCount('permutation', 'n', x);
    if (x > INT32_LIMIT) throw new ValueError('permutation', `n must fit int32 indices, got ${describe(x)}`);
    checkAllocation('permutation', [x], 'int32');
    return NDArray.fromTyped(getBackend(), 'int32', [x], shuffledRange(k, x));
  }
  checkArray('permutation', x);
  if (x.ndim === 0) throw new ShapeError('permutation', 'cannot permute a 0-d array; it needs an axis 0');
  const index = NDArray.fromTyped(x.backend, 'int32', [x.shape[0]], shuffledRange(k, x.shape[0]));
  const [out] = runPrimitive('indexSelect', [x, index], { axis: 0 }, [{ shape: x.shape, dtype: x.dtype }]);
  index.dispose();
  return out;
}
