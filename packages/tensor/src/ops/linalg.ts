import { runPrimitive } from '../dispatch.js';
import { DTypeError, formatShape, ShapeError } from '../errors.js';
import type { NDArray } from '../ndarray.js';
import { cast, resultType } from './elementwise.js';
import { broadcastTo, squeeze, unsqueeze } from './views.js';

/** The broadcast batch shape, with an error that names both full operand shapes. */
function batchShape(a: NDArray, b: NDArray, aBatch: readonly number[], bBatch: readonly number[]): number[] {
  const rank = Math.max(aBatch.length, bBatch.length);
  const pad = (s: readonly number[]) => [...new Array<number>(rank - s.length).fill(1), ...s];
  const [x, y] = [pad(aBatch), pad(bBatch)];
  return x.map((d, i) => {
    if (d === y[i] || y[i] === 1) return d;
    if (d === 1) return y[i];
    throw new ShapeError(
      'matmul',
      `batch dimensions of ${formatShape(a.shape)} and ${formatShape(b.shape)} cannot be broadcast together (${d} vs ${y[i]})`,
    );
  });
}

/**
 * Matrix product with NumPy/PyTorch semantics: [..., m, k] × [..., k, n] → [..., m, n] with the
 * batch axes broadcast. A 1-D `a` is a row vector and a 1-D `b` a column vector whose axis is
 * dropped from the result. Dtypes promote as in `add`; int32 wraps like int32 arithmetic and
 * float32 accumulates in float64 (one rounding per output element) on the CPU backend.
 */
export function matmul(a: NDArray, b: NDArray): NDArray {
  if (a.ndim === 0 || b.ndim === 0) {
    throw new ShapeError(
      'matmul',
      `operands must have at least one dimension, got ${formatShape(a.shape)} and ${formatShape(b.shape)}`,
    );
  }
  if (a.dtype === 'bool' || b.dtype === 'bool') {
    throw new DTypeError('matmul', `not defined for bool arrays (got ${a.dtype} and ${b.dtype})`);
  }
  const dtype = resultType(a, b);
  const a2 = a.ndim === 1 ? unsqueeze(a, 0) : a;
  const b2 = b.ndim === 1 ? unsqueeze(b, 1) : b;
  const [m, k] = a2.shape.slice(-2);
  const [kb, n] = b2.shape.slice(-2);
  if (k !== kb) {
    throw new ShapeError(
      'matmul',
      `cannot multiply ${formatShape(a.shape)} by ${formatShape(b.shape)} (inner dimensions ${k} ≠ ${kb})`,
    );
  }
  const batch = batchShape(a, b, a2.shape.slice(0, -2), b2.shape.slice(0, -2));
  // Cast before broadcasting, so that a broadcast operand is converted once, not per batch.
  const x = broadcastTo(cast(a2, dtype), [...batch, m, k]);
  const y = broadcastTo(cast(b2, dtype), [...batch, k, n]);
  const out = runPrimitive('matmul', [x, y], {}, [{ shape: [...batch, m, n], dtype }])[0];
  const dropped = [...(a.ndim === 1 ? [-2] : []), ...(b.ndim === 1 ? [-1] : [])];
  return dropped.length > 0 ? squeeze(out, dropped) : out;
}

/** Outer product of two 1-D arrays: [m] × [n] → [m, n]. */
export function outer(a: NDArray, b: NDArray): NDArray {
  if (a.ndim !== 1 || b.ndim !== 1) {
    throw new ShapeError(
      'outer',
      `expects two 1-D arrays, got ${formatShape(a.shape)} and ${formatShape(b.shape)}`,
    );
  }
  return matmul(unsqueeze(a, 1), unsqueeze(b, 0));
}
