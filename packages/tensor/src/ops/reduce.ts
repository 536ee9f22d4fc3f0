import { checkArray, checkOptions } from '../check.js';
import { runPrimitive } from '../dispatch.js';
import { type DType, isFloat } from '../dtype.js';
import { DTypeError, formatShape, ValueError } from '../errors.js';
import type { NDArray } from '../ndarray.js';
import type { ReducePrimitive } from '../primitives.js';
import { normalizeAxes, normalizeAxis, sizeOf } from '../shape.js';
import { zeros } from './creation.js';
import { cast, div } from './elementwise.js';
import { disposing } from './temporaries.js';
import { reshape } from './views.js';

/** Options of the reductions (`sum`, `mean`, `max`…). */
export interface ReduceOptions {
  /** Axes to reduce; all of them when omitted. */
  readonly axis?: number | readonly number[];
  /** Keep each reduced axis with size 1, so the result broadcasts against the input. Default false. */
  readonly keepdims?: boolean;
}

function keptShape(shape: readonly number[], axes: readonly number[], keepdims: boolean): number[] {
  return keepdims
    ? shape.map((d, i) => (axes.includes(i) ? 1 : d))
    : shape.filter((_, i) => !axes.includes(i));
}

/** The sorted axes to reduce. A 0-d array accepts axis 0 (like PyTorch), which reduces nothing. */
function reducedAxes(op: string, x: NDArray, options: ReduceOptions): number[] {
  checkArray(op, x);
  checkOptions(op, options);
  return normalizeAxes(op, options.axis, x.ndim).filter((a) => a < x.ndim);
}

function reduce(
  op: ReducePrimitive,
  x: NDArray,
  options: ReduceOptions,
  dtypeOf: (input: DType) => DType,
): NDArray {
  const axes = reducedAxes(op, x, options);
  const dtype = dtypeOf(x.dtype);
  if ((op === 'max' || op === 'min') && axes.some((a) => x.shape[a] === 0)) {
    throw new ValueError(op, `cannot reduce an empty axis of ${formatShape(x.shape)} (no identity)`);
  }
  const input = cast(x, dtype);
  const out = disposing([input], [x], () => {
    return runPrimitive(op, [input], { axes }, [{ shape: keptShape(x.shape, axes, false), dtype }])[0];
  });
  return options.keepdims ? reshapeTemporary(out, keptShape(x.shape, axes, true)) : out;
}

/** A view of the op's own `out` reshaped to `shape`; `out` is disposed (the view keeps its buffer). */
function reshapeTemporary(out: NDArray, shape: readonly number[]): NDArray {
  return disposing([out], [], () => reshape(out, shape));
}

/** The accumulation dtype of sum/prod: bool and int32 sum in int32, floats in their own type. */
const accumulated = (dtype: DType): DType => (isFloat(dtype) ? dtype : 'int32');

const own = (dtype: DType) => dtype;

/** Sum over axes (int32 and bool sum to int32). */
export const sum = (x: NDArray, options: ReduceOptions = {}) => reduce('sum', x, options, accumulated);
/** Product over axes (int32 and bool multiply to int32). */
export const prod = (x: NDArray, options: ReduceOptions = {}) => reduce('prod', x, options, accumulated);
/** Maximum over axes; NaN propagates. */
export const max = (x: NDArray, options: ReduceOptions = {}) => reduce('max', x, options, own);
/** Minimum over axes; NaN propagates. */
export const min = (x: NDArray, options: ReduceOptions = {}) => reduce('min', x, options, own);

/** Arithmetic mean (a float result even for int inputs). */
export function mean(x: NDArray, options: ReduceOptions = {}): NDArray {
  checkArray('mean', x);
  checkOptions('mean', options);
  const axes = reducedAxes('mean', x, options);
  const count = sizeOf(axes.map((a) => x.shape[a]));
  const dtype = isFloat(x.dtype) ? x.dtype : 'float32';
  const total = reduce('sum', x, options, () => dtype);
  return disposing([total], [], () => div(total, count));
}

/** Options of `argmax` and `argmin`. */
export interface ArgOptions {
  /** The axis to search; the flattened array when omitted. */
  readonly axis?: number;
  /** Keep the searched axis with size 1. Default false. */
  readonly keepdims?: boolean;
}

function argReduce(op: 'argmax' | 'argmin', x: NDArray, options: ArgOptions): NDArray {
  checkArray(op, x);
  checkOptions(op, options);
  if (x.dtype === 'bool') throw new DTypeError(op, 'not defined for bool arrays');
  // Without an axis, the flattened array's only axis.
  const axis = options.axis === undefined ? 0 : normalizeAxis(op, options.axis, x.ndim);
  const input = options.axis === undefined ? reshape(x, [x.size]) : x;
  const out = disposing([input], [x], () => {
    if (input.ndim > 0 && input.shape[axis] === 0) {
      throw new ValueError(op, `cannot take ${op} of an empty axis of ${formatShape(x.shape)}`);
    }
    if (input.ndim === 0) return zeros([], { dtype: 'int32' });
    return runPrimitive(op, [input], { axis }, [
      { shape: keptShape(input.shape, [axis], false), dtype: 'int32' },
    ])[0];
  });
  if (!options.keepdims) return out;
  return reshapeTemporary(
    out,
    options.axis === undefined ? x.shape.map(() => 1) : keptShape(x.shape, [axis], true),
  );
}

/** Index of the first maximum (NaN counts as maximal), as int32. */
export const argmax = (x: NDArray, options: ArgOptions = {}) => argReduce('argmax', x, options);
/** The int32 index of the first minimum along an axis (or in the flattened array). */
export const argmin = (x: NDArray, options: ArgOptions = {}) => argReduce('argmin', x, options);

function scan(op: 'cumsum' | 'cumprod', x: NDArray, axis: number): NDArray {
  checkArray(op, x);
  const a = normalizeAxis(op, axis, x.ndim);
  if (x.ndim === 0) {
    const row = reshape(x, [1]);
    const scanned = disposing([row], [], () => scan(op, row, 0));
    return reshapeTemporary(scanned, []);
  }
  const dtype = accumulated(x.dtype);
  const input = cast(x, dtype);
  return disposing(
    [input],
    [x],
    () => runPrimitive(op, [input], { axis: a }, [{ shape: x.shape, dtype }])[0],
  );
}

/** Running sum along `axis` (negative counts from the end); the shape is kept. */
export const cumsum = (x: NDArray, axis: number) => scan('cumsum', x, axis);
/** Running product along `axis` (negative counts from the end); the shape is kept. */
export const cumprod = (x: NDArray, axis: number) => scan('cumprod', x, axis);
