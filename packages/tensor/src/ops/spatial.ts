import { type DType, isFloat, promoteTypes } from '../dtype.js';
import { DTypeError, describe, formatShape, ShapeError, ValueError } from '../errors.js';
import type { NDArray } from '../ndarray.js';
import type { Shape } from '../shape.js';
import { cast } from './elementwise.js';
import { reshape } from './views.js';

// Argument handling shared by the convolution and pooling frontends (internal, not exported
// from the package). Ops of 1 spatial axis run as 2-D ones with a leading axis of size 1.

/** One size per spatial axis, or a single size for all of them. */
export type PerAxis = number | readonly number[];

/** Expands a per-axis argument to `rank` integers, each at least `min`. */
export function perAxis(op: string, name: string, value: PerAxis, rank: number, min: number): number[] {
  if (typeof value !== 'number' && !Array.isArray(value)) {
    throw new ValueError(op, `${name} must be a number or a list of numbers, got ${describe(value)}`);
  }
  const values = typeof value === 'number' ? new Array<number>(rank).fill(value) : [...value];
  if (values.length !== rank) {
    const expected = rank === 1 ? 'a number' : `a number or ${rank} numbers`;
    throw new ValueError(op, `${name} must be ${expected}, got ${formatShape(values)}`);
  }
  for (const v of values) {
    if (!Number.isInteger(v) || v < min) {
      const what = min === 0 ? 'non-negative' : min === 1 ? 'positive' : `at least ${min}`;
      throw new ValueError(
        op,
        `${name} must be ${what} integers, got ${typeof value === 'number' ? value : formatShape(values)}`,
      );
    }
  }
  return values;
}

/** Lifts per-axis values of a 1- or 2-D op to the two axes of the 2-D primitives. */
export function lift2d(values: readonly number[], fill: number): [number, number] {
  return values.length === 1 ? [fill, values[0]] : [values[0], values[1]];
}

/** Checks that a shape has one of the `ranks`; `layout` names the expected axes for the message. */
export function checkRank(
  op: string,
  name: string,
  shape: Shape,
  ranks: readonly number[],
  layout: string,
): void {
  if (!ranks.includes(shape.length)) {
    throw new ShapeError(op, `${name} must be ${layout}, got shape ${formatShape(shape)}`);
  }
}

/** The common float dtype of `inputs`; int32 and bool inputs are rejected. */
export function floatDType(op: string, inputs: readonly (readonly [string, NDArray])[]): DType {
  for (const [name, x] of inputs) {
    if (!isFloat(x.dtype)) {
      throw new DTypeError(
        op,
        `${name} must be float32 or float64, got ${x.dtype} (shape ${formatShape(x.shape)})`,
      );
    }
  }
  return inputs.map(([, x]) => x.dtype).reduce(promoteTypes);
}

/** The output size of a sliding window (PyTorch's formula, floor mode). */
export function slidingOutSize(
  size: number,
  before: number,
  after: number,
  kernel: number,
  stride: number,
  dilation: number,
): number {
  return Math.floor((size + before + after - dilation * (kernel - 1) - 1) / stride) + 1;
}

/**
 * The `[N, C, H, W]` shape the 2-D primitives see for `[N, C, ...spatial]`, or for an unbatched
 * `[C, ...spatial]` (given `spatial + 1` axes): a missing batch axis and, for 1-D ops, the
 * height become 1.
 */
export function as4d(shape: Shape, spatial: number): number[] {
  const batched = shape.length === spatial + 2 ? [...shape] : [1, ...shape];
  return spatial === 1 ? [batched[0], batched[1], 1, batched[2]] : batched;
}

/** `x` cast to `dtype` and viewed as `[N, C, H, W]` (see `as4d`); dispose it after use. */
export function planesOf(x: NDArray, dtype: DType, spatial: number): NDArray {
  const converted = cast(x, dtype);
  const planes = reshape(converted, as4d(x.shape, spatial));
  if (converted !== x) converted.dispose();
  return planes;
}
