import { BYTES_PER_ELEMENT, type DType } from './dtype.js';
import { describe, formatShape, IndexError, OutOfMemoryError, ShapeError, ValueError } from './errors.js';

/** The size of each axis, outermost first; `[]` is a scalar. */
export type Shape = readonly number[];

/** The number of elements of an array of this shape (1 for `[]`). */
export function sizeOf(shape: Shape): number {
  if (!Array.isArray(shape))
    throw new ValueError('sizeOf', `a shape must be an array of sizes, got ${describe(shape)}`);
  let size = 1;
  for (const d of shape) {
    if (typeof d !== 'number') throw new ValueError('sizeOf', `sizes must be numbers, got ${describe(d)}`);
    size *= d;
  }
  return size;
}

/** Row-major (C-order) strides, in elements. */
export function contiguousStrides(shape: Shape): number[] {
  if (!Array.isArray(shape)) {
    throw new ValueError('contiguousStrides', `a shape must be an array of sizes, got ${describe(shape)}`);
  }
  const strides = new Array<number>(shape.length);
  let stride = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (typeof shape[i] !== 'number') {
      throw new ValueError('contiguousStrides', `sizes must be numbers, got ${describe(shape[i])}`);
    }
    strides[i] = stride;
    stride *= shape[i];
  }
  return strides;
}

/** True when a view with these strides walks its elements in row-major order without gaps. */
export function isContiguous(shape: Shape, strides: readonly number[]): boolean {
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && strides[i] !== expected) return false;
    expected *= shape[i];
  }
  return true;
}

/** The most dimensions an array may have (as in PyTorch). */
export const MAX_NDIM = 64;
/**
 * The largest array tsgrad allocates, in bytes (2 GiB; a wasm memory holds at most 4 GiB and
 * browsers refuse larger ArrayBuffers). A larger request is refused before allocating.
 */
export const MAX_ARRAY_BYTES = 2 ** 31;

/**
 * Validates a shape given to `op` (non-negative integer sizes, a total within the size limit) and returns a
 * copy; throws a `ValueError` or `OutOfMemoryError` naming `op`.
 */
export function checkShape(op: string, shape: Shape): number[] {
  if (!Array.isArray(shape))
    throw new ValueError(op, `a shape must be an array of sizes, got ${describe(shape)}`);
  if (shape.length > MAX_NDIM) {
    throw new ValueError(op, `an array may have at most ${MAX_NDIM} dimensions, got ${shape.length}`);
  }
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new ValueError(op, `invalid shape ${formatShape(shape)}: sizes must be non-negative integers`);
    }
  }
  return [...shape];
}

/**
 * Refuses, before allocating, an array of `shape` and `dtype` over MAX_ARRAY_BYTES; returns its
 * number of elements.
 */
export function checkAllocation(op: string, shape: Shape, dtype: DType): number {
  const size = sizeOf(shape);
  const bytes = size * BYTES_PER_ELEMENT[dtype];
  if (bytes > MAX_ARRAY_BYTES) {
    throw new OutOfMemoryError(
      op,
      `an array of shape ${formatShape(shape)} and dtype ${dtype} needs ${bytes.toExponential(2)} bytes, over the limit of ${MAX_ARRAY_BYTES} (2 GiB)`,
    );
  }
  return size;
}

/** NumPy broadcasting of any number of shapes. */
export function broadcastShapes(op: string, ...shapes: Shape[]): number[] {
  for (const shape of shapes) checkShape(op, shape);
  const ndim = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(ndim).fill(1);
  for (const shape of shapes) {
    for (let i = 0; i < shape.length; i++) {
      const j = ndim - shape.length + i;
      const d = shape[i];
      if (d === out[j] || d === 1) continue;
      if (out[j] !== 1) {
        throw new ShapeError(
          op,
          `shapes ${shapes.map(formatShape).join(' and ')} cannot be broadcast together (axis ${j - ndim}: ${out[j]} vs ${d})`,
        );
      }
      out[j] = d;
    }
  }
  return out;
}

/** Resolves a possibly negative axis against `ndim`, with an error naming the op. */
export function normalizeAxis(op: string, axis: number, ndim: number): number {
  if (!Number.isInteger(ndim)) throw new ValueError(op, `the rank must be an integer, got ${describe(ndim)}`);
  if (!Number.isInteger(axis) || axis < -ndim || axis >= Math.max(ndim, 1)) {
    throw new IndexError(op, `axis ${describe(axis)} is out of range for an array of rank ${describe(ndim)}`);
  }
  return axis < 0 ? axis + ndim : axis;
}

/** Normalizes, sorts and checks for duplicates; `undefined` means every axis. */
export function normalizeAxes(
  op: string,
  axes: number | readonly number[] | undefined,
  ndim: number,
): number[] {
  if (!Number.isInteger(ndim)) throw new ValueError(op, `the rank must be an integer, got ${describe(ndim)}`);
  if (axes === undefined) return Array.from({ length: ndim }, (_, i) => i);
  const list = typeof axes === 'number' ? [axes] : axes;
  if (!Array.isArray(list)) {
    throw new IndexError(op, `axes must be a number or a list of numbers, got ${describe(axes)}`);
  }
  const out = list.map((a) => normalizeAxis(op, a, ndim)).sort((a, b) => a - b);
  for (let i = 1; i < out.length; i++) {
    if (out[i] === out[i - 1]) throw new IndexError(op, `axis ${out[i]} appears more than once`);
  }
  return out;
}

export function shapesEqual(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
