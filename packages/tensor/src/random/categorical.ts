import { checkArray, checkOptions } from '../check.js';
import { isFloat } from '../dtype.js';
import { DTypeError, describe, formatShape, ShapeError, ValueError } from '../errors.js';
import { NDArray } from '../ndarray.js';
import { permute } from '../ops/views.js';
import {
  broadcastShapes,
  checkAllocation,
  checkShape,
  contiguousStrides,
  normalizeAxis,
  type Shape,
  shapesEqual,
  sizeOf,
} from '../shape.js';
import { unitFrom64 } from './continuous.js';
import { checkKey, type PRNGKey, randomWordPairs } from './key.js';
import { traceKeyed } from './traced.js';

/** Options of `random.categorical`. */
export interface CategoricalOptions {
  /** The class axis of the logits. */
  readonly axis?: number;
  /** The sample shape; the logits' batch shape (logits without `axis`) must broadcast to it. */
  readonly shape?: Shape;
}

/**
 * Unnormalized cumulative probabilities, one row of `classes` per batch element: row b is the
 * running sum of exp(logit − max). -Infinity logits add exactly 0, so they can never be drawn.
 */
function cumulativeRows(logits: NDArray, axis: number): Float64Array {
  const order = [...logits.shape.keys()].filter((a) => a !== axis);
  const view = permute(logits, [...order, axis]);
  const rows = Float64Array.from(view.toTypedArray());
  view.dispose();
  const classes = logits.shape[axis];
  for (let start = 0; start < rows.length; start += classes) {
    let top = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < classes; c++) {
      const v = rows[start + c];
      if (Number.isNaN(v) || v === Number.POSITIVE_INFINITY) {
        throw new ValueError('categorical', `logits must not be NaN or +Infinity, got ${describe(v)}`);
      }
      top = Math.max(top, v);
    }
    if (top === Number.NEGATIVE_INFINITY) {
      throw new ValueError('categorical', 'every logit of a row is -Infinity, so no class can be drawn');
    }
    let total = 0;
    for (let c = 0; c < classes; c++) {
      total += Math.exp(rows[start + c] - top);
      rows[start + c] = total;
    }
  }
  return rows;
}

/** The first class whose cumulative weight exceeds `target`, searching one row. */
function searchRow(cumulative: Float64Array, start: number, classes: number, target: number): number {
  let lo = 0;
  let hi = classes - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cumulative[start + mid] > target) hi = mid;
    else lo = mid + 1;
  }
  // If rounding put target at the total, step back to the last class with positive weight.
  let c = lo;
  while (c > 0 && cumulative[start + c] === cumulative[start + c - 1]) c--;
  return c;
}

/**
 * int32 class indices drawn with probabilities softmax(logits) along `axis` (inverse CDF with
 * one 53-bit uniform per sample). The result has `shape`, by default the batch shape.
 */
export function categorical(k: PRNGKey, logits: NDArray, options: CategoricalOptions = {}): NDArray {
  const traced = traceKeyed([k], ([key]) => categorical(key, logits, options));
  if (traced !== undefined) return traced;
  checkArray('categorical', logits, 'logits');
  checkOptions('categorical', options);
  checkKey('categorical', k);
  if (!isFloat(logits.dtype)) {
    throw new DTypeError('categorical', `logits must be float32 or float64, got ${logits.dtype}`);
  }
  const axis = normalizeAxis('categorical', options.axis ?? -1, logits.ndim);
  const batchShape = logits.shape.filter((_, a) => a !== axis);
  const dims = checkShape('categorical', options.shape ?? batchShape);
  checkAllocation('categorical', dims, 'float64');
  if (!shapesEqual(broadcastShapes('categorical', dims, batchShape), dims)) {
    throw new ShapeError(
      'categorical',
      `the batch shape ${formatShape(batchShape)} of logits ${formatShape(logits.shape)} cannot broadcast to shape ${formatShape(dims)}`,
    );
  }
  const n = sizeOf(dims);
  const out = new Int32Array(n);
  if (n > 0) {
    const classes = logits.shape[axis];
    if (classes === 0) {
      throw new ValueError('categorical', `cannot draw from 0 classes (logits ${formatShape(logits.shape)})`);
    }
    const cumulative = cumulativeRows(logits, axis);
    const rowOf = batchRowIndexer(dims, batchShape);
    const words = randomWordPairs(k, n);
    for (let i = 0; i < n; i++) {
      const start = rowOf(i) * classes;
      const target = unitFrom64(words[2 * i], words[2 * i + 1]) * cumulative[start + classes - 1];
      out[i] = searchRow(cumulative, start, classes, target);
    }
  }
  return NDArray.fromTyped(logits.backend, 'int32', dims, out);
}

/** Maps a row-major position in `dims` to the row of `batchShape` it broadcasts from. */
function batchRowIndexer(dims: readonly number[], batchShape: readonly number[]): (i: number) => number {
  const lead = dims.length - batchShape.length;
  const batchStrides = contiguousStrides(batchShape);
  // Per output axis: the batch stride, or 0 for leading and broadcast (size-1) axes.
  const strides = dims.map((_, a) => (a < lead || batchShape[a - lead] === 1 ? 0 : batchStrides[a - lead]));
  return (i) => {
    let row = 0;
    for (let a = dims.length - 1; a >= 0; a--) {
      row += (i % dims[a]) * strides[a];
      i = Math.floor(i / dims[a]);
    }
    return row;
  };
}
