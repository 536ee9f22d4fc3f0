import { checkArray } from '../check.js';
import { runPrimitive } from '../dispatch.js';
import { DTypeError, formatShape, ShapeError } from '../errors.js';
import type { NDArray } from '../ndarray.js';
import { cast, resultType } from './elementwise.js';
import { disposing } from './temporaries.js';
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
  checkArray('matmul', a, 'a');
  checkArray('matmul', b, 'b');
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
  // A 1-D a is [1, k], a 1-D b is [k, 1].
  const aShape = a.ndim === 1 ? [1, ...a.shape] : a.shape;
  const bShape = b.ndim === 1 ? [...b.shape, 1] : b.shape;
  const [m, k] = aShape.slice(-2);
  const [kb, n] = bShape.slice(-2);
  if (k !== kb) {
    throw new ShapeError(
      'matmul',
      `cannot multiply ${formatShape(a.shape)} by ${formatShape(b.shape)} (inner dimensions ${k} ≠ ${kb})`,
    );
  }
  const batch = batchShape(a, b, aShape.slice(0, -2), bShape.slice(0, -2));
  // Cast before broadcasting, so that a broadcast operand is converted once, not per batch.
  const ac = cast(a, dtype);
  const bc = cast(b, dtype);
  const column = b.ndim === 1 ? unsqueeze(bc, 1) : bc;
  const x = broadcastTo(ac, [...batch, m, k]);
  const y = broadcastTo(column, [...batch, k, n]);
  const out = disposing([ac, bc, column, x, y], [a, b], () => {
    return runPrimitive('matmul', [x, y], {}, [{ shape: [...batch, m, n], dtype }])[0];
  });
  const dropped = [...(a.ndim === 1 ? [-2] : []), ...(b.ndim === 1 ? [-1] : [])];
  return dropped.length > 0 ? disposing([out], [], () => squeeze(out, dropped)) : out;
}

/** Outer product of two 1-D arrays: [m] × [n] → [m, n]. */
export function outer(a: NDArray, b: NDArray): NDArray {
  checkArray('outer', a, 'a');
  checkArray('outer', b, 'b');
  if (a.ndim !== 1 || b.ndim !== 1) {
    throw new ShapeError(
      'outer',
      `expects two 1-D arrays, got ${formatShape(a.shape)} and ${formatShape(b.shape)}`,
    );
  }
  const column = unsqueeze(a, 1);
  const row = unsqueeze(b, 0);
  return disposing([column, row], [], () => matmul(column, row));
}
