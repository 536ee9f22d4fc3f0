import type { Backend } from '../backend.js';
import { checkArray, checkOptions } from '../check.js';
import { getBackend } from '../dispatch.js';
import {
  allocTyped,
  checkDType,
  type DType,
  dtypeOfTyped,
  isFloat,
  type TypedArray,
  toElement,
} from '../dtype.js';
import { DTypeError, describe, ValueError } from '../errors.js';
import { NDArray, type NestedArray } from '../ndarray.js';
import { checkAllocation, checkShape, MAX_NDIM, type Shape, sizeOf } from '../shape.js';

/** Options of the creation functions. */
export interface CreateOptions {
  /** The dtype of the new array (default float32, or what the function says). */
  readonly dtype?: DType;
}

/** `options.dtype` (checked) or `fallback`. */
function dtypeOption(op: string, options: CreateOptions, fallback: DType): DType {
  return options.dtype === undefined ? fallback : checkDType(op, options.dtype);
}

/** The current backend, checked to store `dtype` (so the error names the creating op). */
function backendFor(op: string, dtype: DType): Backend {
  const backend = getBackend();
  if (!backend.dtypes.includes(dtype)) {
    throw new DTypeError(op, `the ${backend.name} backend does not support ${dtype}`);
  }
  return backend;
}

function inferShape(values: NestedArray): number[] {
  const shape: number[] = [];
  let level: NestedArray = values;
  while (Array.isArray(level)) {
    // Also stops a self-containing array.
    if (shape.length === MAX_NDIM) {
      throw new ValueError(
        'array',
        `nested arrays deeper than ${MAX_NDIM} levels (the most dimensions an array may have)`,
      );
    }
    shape.push(level.length);
    if (level.length === 0) break;
    level = level[0];
  }
  return shape;
}

function flatten(values: NestedArray, shape: readonly number[], out: (number | boolean)[], depth = 0): void {
  if (depth === shape.length) {
    if (Array.isArray(values)) {
      throw new ValueError('array', `ragged nested array: expected a scalar at depth ${depth}`);
    }
    if (typeof values !== 'number' && typeof values !== 'boolean') {
      throw new ValueError('array', `expected numbers or booleans, got ${typeof values}`);
    }
    out.push(values);
    return;
  }
  if (!Array.isArray(values) || values.length !== shape[depth]) {
    throw new ValueError(
      'array',
      `ragged nested array: expected ${shape[depth]} elements at depth ${depth}, got ${Array.isArray(values) ? values.length : 'a scalar'}`,
    );
  }
  for (const v of values) flatten(v, shape, out, depth + 1);
}

/**
 * An array from nested JS arrays, a typed array or a scalar. Numbers give float32 and
 * booleans give bool unless `dtype` says otherwise; a typed array keeps its own dtype
 * (Uint8Array means bool) and `shape` defaults to 1-D.
 */
export function array(
  values: NestedArray | TypedArray,
  options: CreateOptions & { shape?: Shape } = {},
): NDArray {
  checkOptions('array', options);
  if (ArrayBuffer.isView(values)) {
    const own = dtypeOfTyped(values);
    const shape = checkShape('array', options.shape ?? [values.length]);
    if (sizeOf(shape) !== values.length) {
      throw new ValueError('array', `${values.length} values cannot fill shape [${shape.join(',')}]`);
    }
    const dtype = dtypeOption('array', options, own);
    // A Uint8Array may hold bytes other than 0 and 1; bool storage must not.
    const data = dtype === own && dtype !== 'bool' ? values : convertTyped(values, dtype);
    return NDArray.fromTyped(backendFor('array', dtype), dtype, shape, data);
  }
  const shape = inferShape(values);
  const flat: (number | boolean)[] = [];
  flatten(values, shape, flat);
  const allBool = flat.length > 0 && flat.every((v) => typeof v === 'boolean');
  const dtype = dtypeOption('array', options, allBool ? 'bool' : 'float32');
  const data = allocTyped(dtype, flat.length);
  for (let i = 0; i < flat.length; i++) data[i] = toElement('array', flat[i], dtype);
  if (options.shape !== undefined) {
    throw new ValueError(
      'array',
      'shape is only accepted with a typed array; nested arrays carry their own shape',
    );
  }
  return NDArray.fromTyped(backendFor('array', dtype), dtype, shape, data);
}

function convertTyped(values: TypedArray, dtype: DType): TypedArray {
  const out = allocTyped(dtype, values.length);
  for (let i = 0; i < values.length; i++) out[i] = toElement('array', values[i], dtype);
  return out;
}

/** A 0-d array. */
export function scalar(value: number | boolean, options: CreateOptions = {}): NDArray {
  checkOptions('scalar', options);
  return full([], value, options);
}

/** An array of `shape` filled with `value` (float32 unless `options.dtype` says otherwise). */
export function full(shape: Shape, value: number | boolean, options: CreateOptions = {}): NDArray {
  checkOptions('full', options);
  const dims = checkShape('full', shape);
  if (typeof value !== 'number' && typeof value !== 'boolean') {
    throw new ValueError('full', `the fill value must be a number or a boolean, got ${typeof value}`);
  }
  const dtype = dtypeOption('full', options, typeof value === 'boolean' ? 'bool' : 'float32');
  const element = toElement('full', value, dtype);
  checkAllocation('full', dims, dtype);
  const data = allocTyped(dtype, sizeOf(dims));
  data.fill(element);
  return NDArray.fromTyped(backendFor('full', dtype), dtype, dims, data);
}

/** An array of `shape` filled with zeros (float32 by default). */
export function zeros(shape: Shape, options: CreateOptions = {}): NDArray {
  checkOptions('zeros', options);
  const dims = checkShape('zeros', shape);
  const dtype = dtypeOption('zeros', options, 'float32');
  return NDArray.empty(backendFor('zeros', dtype), dtype, dims, 'zeros');
}

/** An array of `shape` filled with ones (float32 by default). */
export function ones(shape: Shape, options: CreateOptions = {}): NDArray {
  checkOptions('ones', options);
  return full(checkShape('ones', shape), 1, options);
}

/** Zeros with the shape (and, unless `options.dtype` says otherwise, the dtype) of `x`. */
export function zerosLike(x: NDArray, options: CreateOptions = {}): NDArray {
  checkArray('zerosLike', x);
  checkOptions('zerosLike', options);
  return zeros(x.shape, { dtype: options.dtype ?? x.dtype });
}

/** Ones with the shape (and, unless `options.dtype` says otherwise, the dtype) of `x`. */
export function onesLike(x: NDArray, options: CreateOptions = {}): NDArray {
  checkArray('onesLike', x);
  checkOptions('onesLike', options);
  return ones(x.shape, { dtype: options.dtype ?? x.dtype });
}

/** `value` everywhere, with the shape (and, unless `options.dtype` says otherwise, the dtype) of `x`. */
export function fullLike(x: NDArray, value: number | boolean, options: CreateOptions = {}): NDArray {
  checkArray('fullLike', x);
  checkOptions('fullLike', options);
  return full(x.shape, value, { dtype: options.dtype ?? x.dtype });
}

/**
 * Values from `start` up to (not including) `stop` by `step`, like `np.arange`. With one
 * argument it counts from 0. The dtype is int32 when every argument is an integer.
 */
export function arange(start: number, stop?: number, step = 1, options: CreateOptions = {}): NDArray {
  checkOptions('arange', options);
  if (stop === undefined) [start, stop] = [0, start];
  if (!Number.isFinite(start) || !Number.isFinite(stop)) {
    throw new ValueError(
      'arange',
      `start and stop must be finite, got ${describe(start)} and ${describe(stop)}`,
    );
  }
  if (step === 0 || !Number.isFinite(step)) {
    throw new ValueError('arange', `step must be finite and non-zero, got ${describe(step)}`);
  }
  const allInt = [start, stop, step].every(Number.isInteger);
  const dtype = dtypeOption('arange', options, allInt ? 'int32' : 'float32');
  const n = Math.max(0, Math.ceil((stop - start) / step));
  checkAllocation('arange', [n], dtype);
  if (dtype === 'int32' && n > 0) {
    toElement('arange', start, dtype);
    toElement('arange', start + (n - 1) * step, dtype);
  }
  const data = allocTyped(dtype, n);
  for (let i = 0; i < n; i++) data[i] = start + i * step;
  return NDArray.fromTyped(backendFor('arange', dtype), dtype, [n], data);
}

/** `num` evenly spaced values from `start` to `stop`, both included. */
export function linspace(start: number, stop: number, num: number, options: CreateOptions = {}): NDArray {
  checkOptions('linspace', options);
  for (const [name, v] of [
    ['start', start],
    ['stop', stop],
  ] as const) {
    if (typeof v !== 'number')
      throw new ValueError('linspace', `${name} must be a number, got ${describe(v)}`);
  }
  if (!Number.isInteger(num) || num < 0) {
    throw new ValueError('linspace', `num must be a non-negative integer, got ${describe(num)}`);
  }
  const dtype = dtypeOption('linspace', options, 'float32');
  if (!isFloat(dtype)) throw new DTypeError('linspace', `dtype must be float32 or float64, got ${dtype}`);
  checkAllocation('linspace', [num], dtype);
  const data = allocTyped(dtype, num);
  const step = num > 1 ? (stop - start) / (num - 1) : 0;
  for (let i = 0; i < num; i++) data[i] = start + i * step;
  // Both endpoints exactly as given (even -0, which start + 0 · step would turn into 0).
  if (num > 0) data[0] = start;
  if (num > 1) data[num - 1] = stop;
  return NDArray.fromTyped(backendFor('linspace', dtype), dtype, [num], data);
}

/** An `n × m` matrix with ones on the diagonal `k` (0 main, > 0 above, < 0 below). */
export function eye(n: number, m = n, k = 0, options: CreateOptions = {}): NDArray {
  checkOptions('eye', options);
  const [rows, cols] = checkShape('eye', [n, m]);
  if (!Number.isInteger(k))
    throw new ValueError('eye', `diagonal offset k must be an integer, got ${describe(k)}`);
  const dtype = dtypeOption('eye', options, 'float32');
  checkAllocation('eye', [rows, cols], dtype);
  const data = allocTyped(dtype, rows * cols);
  for (let i = 0; i < rows; i++) {
    const j = i + k;
    if (j >= 0 && j < cols) data[i * cols + j] = 1;
  }
  return NDArray.fromTyped(backendFor('eye', dtype), dtype, [rows, cols], data);
}
