import { checkArray } from '../check.js';
import { getBackend, runPrimitive } from '../dispatch.js';
import { DTypeError, describe, formatShape, IndexError, ShapeError } from '../errors.js';
import { NDArray } from '../ndarray.js';
import { normalizeAxis } from '../shape.js';
import { checkValues } from '../tracing.js';
import { cast, resultType } from './elementwise.js';
import { disposing } from './temporaries.js';
import { broadcastTo, contiguous, slice } from './views.js';

/** Index arguments: an int32 array, or plain integers. */
export type IndexLike = NDArray | Int32Array | readonly number[];

const INT32_MAX = 2 ** 31 - 1;

function toIndex(op: string, index: IndexLike): NDArray {
  if (index instanceof NDArray) {
    if (index.dtype !== 'int32') throw new DTypeError(op, `indices must be int32, got ${index.dtype}`);
    return index;
  }
  if (!Array.isArray(index) && !ArrayBuffer.isView(index)) {
    throw new IndexError(
      op,
      `indices must be an int32 NDArray or a list of integers, got ${describe(index)}`,
    );
  }
  const values = Array.from(index as ArrayLike<number>);
  const bad = values.find((v) => !Number.isInteger(v));
  if (bad !== undefined) throw new IndexError(op, `index ${describe(bad)} is not an integer`);
  // Checked here because Int32Array would silently wrap it into range.
  const huge = values.find((v) => Math.abs(v) > INT32_MAX);
  if (huge !== undefined) throw new IndexError(op, `index ${huge} is out of the int32 range`);
  return NDArray.fromTyped(getBackend(), 'int32', [values.length], Int32Array.from(values));
}

/** The axis to index along; 0-d arrays have none. */
function indexAxis(op: string, x: NDArray, axis: number): number {
  if (x.ndim === 0) throw new ShapeError(op, 'cannot index along an axis of a 0-d array');
  return normalizeAxis(op, axis, x.ndim);
}

/** Throws unless every index is in [0, size). Reads the indices back to the host. */
export function checkIndexRange(op: string, index: NDArray, size: number): void {
  checkArray('checkIndexRange', index, 'index');
  if (typeof size !== 'number')
    throw new IndexError(op, `the axis size must be a number, got ${describe(size)}`);
  const values = checkValues(() => index.toTypedArray());
  for (let i = 0; i < values.length; i++) {
    if (values[i] < 0 || values[i] >= size) {
      throw new IndexError(op, `index ${values[i]} is out of range for an axis of size ${describe(size)}`);
    }
  }
}

/** `x.index_select(axis, index)`: picks whole slices along `axis` with a 1-D index. */
export function indexSelect(x: NDArray, axis: number, index: IndexLike): NDArray {
  checkArray('indexSelect', x);
  const idx = toIndex('indexSelect', index);
  return disposing([idx], [index], () => {
    if (idx.ndim !== 1) {
      throw new ShapeError('indexSelect', `index must be 1-D, got shape ${formatShape(idx.shape)}`);
    }
    const a = indexAxis('indexSelect', x, axis);
    checkIndexRange('indexSelect', idx, x.shape[a]);
    const shape = x.shape.map((d, i) => (i === a ? idx.size : d));
    return runPrimitive('indexSelect', [x, idx], { axis: a }, [{ shape, dtype: x.dtype }])[0];
  });
}

/** gather after validation, with errors naming `op`. */
function checkedGather(op: string, x: NDArray, axis: number, index: NDArray): NDArray {
  const idx = toIndex(op, index);
  const a = indexAxis(op, x, axis);
  if (idx.ndim !== x.ndim || idx.shape.some((d, i) => i !== a && d > x.shape[i])) {
    throw new ShapeError(
      op,
      `index shape ${formatShape(idx.shape)} does not fit input ${formatShape(x.shape)} (axis ${a})`,
    );
  }
  checkIndexRange(op, idx, x.shape[a]);
  return runPrimitive('gather', [x, idx], { axis: a }, [{ shape: idx.shape, dtype: x.dtype }])[0];
}

/**
 * `torch.gather(x, axis, index)`: out[i][j][k] = x[i][index[i][j][k]][k] for axis 1. The
 * index has x's rank and may be smaller than x on every other axis.
 */
export function gather(x: NDArray, axis: number, index: NDArray): NDArray {
  checkArray('gather', x);
  checkArray('gather', index, 'index');
  return checkedGather('gather', x, axis, index);
}

/** NumPy's `take_along_axis`: like gather, with the index broadcast against x off the axis. */
export function takeAlongAxis(x: NDArray, index: NDArray, axis: number): NDArray {
  checkArray('takeAlongAxis', x);
  checkArray('takeAlongAxis', index, 'index');
  const idx = toIndex('takeAlongAxis', index);
  const a = indexAxis('takeAlongAxis', x, axis);
  if (idx.ndim !== x.ndim) {
    throw new ShapeError('takeAlongAxis', `index rank ${idx.ndim} differs from input rank ${x.ndim}`);
  }
  const shape = x.shape.map((d, i) => {
    const e = idx.shape[i];
    if (i === a || d === e || d === 1) return e;
    if (e === 1) return d;
    throw new ShapeError(
      'takeAlongAxis',
      `index ${formatShape(idx.shape)} and input ${formatShape(x.shape)} cannot be broadcast off axis ${a}`,
    );
  });
  const xShape = shape.map((d, i) => (i === a ? x.shape[a] : d));
  const [xs, indices] = [broadcastTo(x, xShape), broadcastTo(idx, shape)];
  return disposing([xs, indices], [], () => checkedGather('takeAlongAxis', xs, a, indices));
}

/**
 * `base.scatter_add(axis, index, src)`: a copy of `base` where src[i][j][k] is added at
 * [i][index[i][j][k]][k] (axis 1). Repeated indices accumulate; bools add as int32.
 */
export function scatterAdd(base: NDArray, axis: number, index: NDArray, src: NDArray): NDArray {
  checkArray('scatterAdd', base, 'base');
  checkArray('scatterAdd', index, 'index');
  checkArray('scatterAdd', src, 'src');
  const idx = toIndex('scatterAdd', index);
  const a = indexAxis('scatterAdd', base, axis);
  const fits =
    idx.ndim === base.ndim &&
    src.ndim === base.ndim &&
    idx.shape.every((d, i) => d <= src.shape[i] && (i === a || d <= base.shape[i]));
  if (!fits) {
    throw new ShapeError(
      'scatterAdd',
      `index ${formatShape(idx.shape)} must fit src ${formatShape(src.shape)} and, off axis ${a}, base ${formatShape(base.shape)}`,
    );
  }
  checkIndexRange('scatterAdd', idx, base.shape[a]);
  const common = resultType(base, src);
  const dtype = common === 'bool' ? 'int32' : common;
  const converted = cast(src, dtype);
  const used = slice(
    converted,
    idx.shape.map((d) => ({ stop: d })),
  );
  const values = contiguous(used);
  const start = cast(base, dtype);
  return disposing([converted, used, values, start], [src, base], () => {
    return runPrimitive('scatterAdd', [start, idx, values], { axis: a }, [{ shape: base.shape, dtype }])[0];
  });
}
