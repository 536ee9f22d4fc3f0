import { checkArray, checkOptions } from '../check.js';
import { runPrimitive } from '../dispatch.js';
import { DTypeError, formatShape, ShapeError, ValueError } from '../errors.js';
import type { NDArray } from '../ndarray.js';
import type { Pool2dParams } from '../primitives.js';
import { checkShape, type Shape, shapesEqual, sizeOf } from '../shape.js';
import { zeros } from './creation.js';
import { as4d, checkRank, floatDType, lift2d, type PerAxis, perAxis, planesOf } from './spatial.js';
import { disposeTemporaries } from './temporaries.js';
import { reshape } from './views.js';

// Max and average pooling over NCHW (or unbatched CHW) arrays, and over NCL / CL for the
// 1-D versions, with PyTorch semantics.

/** A size for both spatial axes, or `[h, w]`. */
export type PoolSize2d = number | readonly [number, number];

/** Options of `maxPool2d` over x `[N, C, H, W]` (or `[C, H, W]`). */
export interface MaxPool2dOptions {
  /** The window size: a number for both axes, or `[h, w]`. */
  readonly kernelSize: PoolSize2d;
  /** Default: kernelSize. */
  readonly stride?: PoolSize2d;
  /** Implicit -Infinity padding on both sides, at most half the kernel size. Default 0. */
  readonly padding?: PoolSize2d;
  /** Default 1. */
  readonly dilation?: PoolSize2d;
  /** Round the output size up (a last window that starts inside the input or the left padding). */
  readonly ceilMode?: boolean;
}

/** Options of `avgPool2d` over x `[N, C, H, W]` (or `[C, H, W]`). */
export interface AvgPool2dOptions {
  /** The window size: a number for both axes, or `[h, w]`. */
  readonly kernelSize: PoolSize2d;
  /** Default: kernelSize. */
  readonly stride?: PoolSize2d;
  /** Implicit zero padding on both sides, at most half the kernel size. Default 0. */
  readonly padding?: PoolSize2d;
  /** Round the output size up (a last window that starts inside the input or the left padding). */
  readonly ceilMode?: boolean;
  /** Divide by the whole window including padding (default) or by the input elements only. */
  readonly countIncludePad?: boolean;
}

/** Options of `maxPool1d` over x `[N, C, L]` (or `[C, L]`); as for `maxPool2d`, on one axis. */
export interface MaxPool1dOptions {
  /** The window length. */
  readonly kernelSize: number;
  /** Default: kernelSize. */
  readonly stride?: number;
  /** Implicit -Infinity padding on both ends, at most half the kernel size. Default 0. */
  readonly padding?: number;
  /** Spacing between window taps. Default 1. */
  readonly dilation?: number;
  /** Round the output length up. */
  readonly ceilMode?: boolean;
}

/** Options of `avgPool1d` over x `[N, C, L]` (or `[C, L]`); as for `avgPool2d`, on one axis. */
export interface AvgPool1dOptions {
  /** The window length. */
  readonly kernelSize: number;
  /** Default: kernelSize. */
  readonly stride?: number;
  /** Implicit zero padding on both ends, at most half the kernel size. Default 0. */
  readonly padding?: number;
  /** Round the output length up. */
  readonly ceilMode?: boolean;
  /** Divide by the whole window including padding (default) or by the input elements only. */
  readonly countIncludePad?: boolean;
}

/** What max pooling returns: the maxima and where they were. */
export interface MaxPoolResult {
  /** The maxima, `[N, C, Ho, Wo]` (or `[N, C, Lo]`). */
  readonly values: NDArray;
  /** int32 flat positions `h * W + w` (or `l`) of each maximum within its input plane. */
  readonly indices: NDArray;
}

interface PoolArgs {
  readonly kernelSize: PerAxis;
  readonly stride?: PerAxis;
  readonly padding?: PerAxis;
  readonly dilation?: PerAxis;
  readonly ceilMode?: boolean;
}

interface PoolPlan {
  readonly params: Pool2dParams;
  readonly outShape: number[];
}

const layout = (spatial: number) => (spatial === 2 ? '[N, C, H, W] or [C, H, W]' : '[N, C, L] or [C, L]');

/** PyTorch's pooling output size; with ceilMode the last window must start inside the input or left padding. */
function pooledSize(
  size: number,
  kernel: number,
  stride: number,
  pad: number,
  dilation: number,
  ceilMode: boolean,
): number {
  const span = size + 2 * pad - dilation * (kernel - 1) - 1;
  let out = Math.floor((span + (ceilMode ? stride - 1 : 0)) / stride) + 1;
  if (ceilMode && (out - 1) * stride >= size + pad) out--;
  return out;
}

/** True when some window holds padding only (possible with dilation), which has no maximum. */
function hasEmptyWindow(
  size: number,
  out: number,
  kernel: number,
  stride: number,
  pad: number,
  dilation: number,
): boolean {
  for (let o = 0; o < out; o++) {
    const start = o * stride - pad;
    const firstInside = Math.max(0, Math.ceil(-start / dilation));
    if (firstInside >= kernel || start + firstInside * dilation >= size) return true;
  }
  return false;
}

/** Validates pooling an input of shape `xShape` and infers the output shape. */
function planPool(op: string, xShape: Shape, args: PoolArgs, spatial: number): PoolPlan {
  args = checkOptions(op, args);
  checkRank(op, 'input', xShape, [spatial + 1, spatial + 2], layout(spatial));
  const size = xShape.slice(-spatial);
  const kernel = perAxis(op, 'kernelSize', args.kernelSize, spatial, 1);
  const stride = perAxis(op, 'stride', args.stride ?? args.kernelSize, spatial, 1);
  const padding = perAxis(op, 'padding', args.padding ?? 0, spatial, 0);
  const dilation = perAxis(op, 'dilation', args.dilation ?? 1, spatial, 1);
  const ceilMode = args.ceilMode ?? false;
  if (padding.some((p, a) => p > kernel[a] / 2)) {
    throw new ValueError(
      op,
      `padding [${padding.join(',')}] must be at most half of kernelSize [${kernel.join(',')}]`,
    );
  }
  const outSize = size.map((n, a) => pooledSize(n, kernel[a], stride[a], padding[a], dilation[a], ceilMode));
  if (outSize.some((o) => o < 1)) {
    throw new ShapeError(
      op,
      `input ${formatShape(xShape)} is too small for kernelSize [${kernel.join(',')}] with padding [${padding.join(',')}] and dilation [${dilation.join(',')}] (output size would be [${outSize.join(',')}])`,
    );
  }
  if (size.some((n, a) => hasEmptyWindow(n, outSize[a], kernel[a], stride[a], padding[a], dilation[a]))) {
    throw new ValueError(
      op,
      `a window of kernelSize [${kernel.join(',')}] dilated by [${dilation.join(',')}] falls entirely in the padding of input ${formatShape(xShape)}`,
    );
  }
  return {
    params: {
      kernelSize: lift2d(kernel, 1),
      stride: lift2d(stride, 1),
      padding: lift2d(padding, 0),
      dilation: lift2d(dilation, 1),
      ceilMode,
    },
    outShape: [...xShape.slice(0, -spatial), ...outSize],
  };
}

function maxPoolWithIndices(op: string, x: NDArray, args: PoolArgs, spatial: number): MaxPoolResult {
  const plan = planPool(op, x.shape, args, spatial);
  if (x.dtype === 'bool')
    throw new DTypeError(op, `not defined for bool arrays (shape ${formatShape(x.shape)})`);
  const planes = planesOf(x, x.dtype, spatial);
  const shape4 = as4d(plan.outShape, spatial);
  const outputs = runPrimitive('maxPool2d', [planes], plan.params, [
    { shape: shape4, dtype: x.dtype },
    { shape: shape4, dtype: 'int32' },
  ]);
  const [values, indices] = outputs.map((o) => reshape(o, plan.outShape));
  disposeTemporaries([planes, ...outputs], []);
  return { values, indices };
}

function maxPoolValues(op: string, x: NDArray, args: PoolArgs, spatial: number): NDArray {
  const { values, indices } = maxPoolWithIndices(op, x, args, spatial);
  indices.dispose();
  return values;
}

/** Max pooling over `[N, C, H, W]` (or `[C, H, W]`); padding counts as -Infinity and NaN propagates. */
export function maxPool2d(x: NDArray, options: MaxPool2dOptions): NDArray {
  checkArray('maxPool2d', x);
  return maxPoolValues('maxPool2d', x, options, 2);
}

/** Max pooling that also returns the int32 flat index `h * W + w` of each maximum (the first on ties). */
export function maxPool2dWithIndices(x: NDArray, options: MaxPool2dOptions): MaxPoolResult {
  checkArray('maxPool2dWithIndices', x);
  return maxPoolWithIndices('maxPool2dWithIndices', x, options, 2);
}

/** Max pooling over `[N, C, L]` (or `[C, L]`). */
export function maxPool1d(x: NDArray, options: MaxPool1dOptions): NDArray {
  checkArray('maxPool1d', x);
  return maxPoolValues('maxPool1d', x, options, 1);
}

/** 1-D max pooling that also returns the int32 position of each maximum within its row. */
export function maxPool1dWithIndices(x: NDArray, options: MaxPool1dOptions): MaxPoolResult {
  checkArray('maxPool1dWithIndices', x);
  return maxPoolWithIndices('maxPool1dWithIndices', x, options, 1);
}

/**
 * Routes each output gradient to the input position its maximum came from: a scatterAdd of
 * `dy` into zeros over flattened planes.
 */
function maxPoolGrad(op: string, dy: NDArray, indices: NDArray, inputShape: Shape, spatial: number): NDArray {
  const input = checkShape(op, inputShape);
  checkRank(op, 'inputShape', input, [spatial + 1, spatial + 2], layout(spatial));
  const lead = input.length - spatial;
  if (dy.ndim !== input.length || !shapesEqual(dy.shape.slice(0, lead), input.slice(0, lead))) {
    throw new ShapeError(
      op,
      `dy ${formatShape(dy.shape)} does not match the batch and channel axes of input ${formatShape(input)}`,
    );
  }
  if (!shapesEqual(indices.shape, dy.shape)) {
    throw new ShapeError(
      op,
      `indices ${formatShape(indices.shape)} must have the shape of dy ${formatShape(dy.shape)}`,
    );
  }
  if (indices.dtype !== 'int32') throw new DTypeError(op, `indices must be int32, got ${indices.dtype}`);
  if (dy.dtype === 'bool')
    throw new DTypeError(op, `dy must be numeric, got bool (shape ${formatShape(dy.shape)})`);
  const lanes = input.slice(0, lead);
  const flatIn = [...lanes, sizeOf(input.slice(lead))];
  const flatOut = [...lanes, sizeOf(dy.shape.slice(lead))];
  const base = zeros(flatIn, { dtype: dy.dtype });
  const index = reshape(indices, flatOut);
  const grad = reshape(dy, flatOut);
  const [flatDx] = runPrimitive('scatterAdd', [base, index, grad], { axis: lead }, [
    { shape: flatIn, dtype: dy.dtype },
  ]);
  const dx = reshape(flatDx, input);
  disposeTemporaries([base, index, grad, flatDx], []);
  return dx;
}

/**
 * The gradient of max pooling with respect to its input of shape `inputShape`, from the
 * output gradient `dy` and the `indices` returned by `maxPool2dWithIndices` (which must be
 * in range; they are not checked).
 */
export function maxPool2dGrad(dy: NDArray, indices: NDArray, inputShape: Shape): NDArray {
  checkArray('maxPool2dGrad', dy, 'dy');
  checkArray('maxPool2dGrad', indices, 'indices');
  return maxPoolGrad('maxPool2dGrad', dy, indices, inputShape, 2);
}

/** The gradient of 1-D max pooling, from `maxPool1dWithIndices`' indices. */
export function maxPool1dGrad(dy: NDArray, indices: NDArray, inputShape: Shape): NDArray {
  checkArray('maxPool1dGrad', dy, 'dy');
  checkArray('maxPool1dGrad', indices, 'indices');
  return maxPoolGrad('maxPool1dGrad', dy, indices, inputShape, 1);
}

interface AvgPoolArgs extends PoolArgs {
  readonly countIncludePad?: boolean;
}

function avgPool(op: string, x: NDArray, args: AvgPoolArgs, spatial: number): NDArray {
  const plan = planPool(op, x.shape, { ...args, dilation: 1 }, spatial);
  const dtype = floatDType(op, [['input', x]]);
  const planes = planesOf(x, dtype, spatial);
  const params = { ...plan.params, countIncludePad: args.countIncludePad ?? true };
  const [out4] = runPrimitive('avgPool2d', [planes], params, [
    { shape: as4d(plan.outShape, spatial), dtype },
  ]);
  const out = reshape(out4, plan.outShape);
  disposeTemporaries([planes, out4], []);
  return out;
}

/** Average pooling over `[N, C, H, W]` (or `[C, H, W]`) with zero padding. */
export function avgPool2d(x: NDArray, options: AvgPool2dOptions): NDArray {
  checkArray('avgPool2d', x);
  return avgPool('avgPool2d', x, options, 2);
}

/** Average pooling over `[N, C, L]` (or `[C, L]`). */
export function avgPool1d(x: NDArray, options: AvgPool1dOptions): NDArray {
  checkArray('avgPool1d', x);
  return avgPool('avgPool1d', x, options, 1);
}

function avgPoolGrad(
  op: string,
  dy: NDArray,
  inputShape: Shape,
  args: AvgPoolArgs,
  spatial: number,
): NDArray {
  const input = checkShape(op, inputShape);
  const plan = planPool(op, input, { ...args, dilation: 1 }, spatial);
  if (!shapesEqual(dy.shape, plan.outShape)) {
    throw new ShapeError(
      op,
      `dy ${formatShape(dy.shape)} does not match the output ${formatShape(plan.outShape)} of pooling input ${formatShape(input)}`,
    );
  }
  const dtype = floatDType(op, [['dy', dy]]);
  const grad = planesOf(dy, dtype, spatial);
  const shape4 = as4d(input, spatial);
  const params = {
    ...plan.params,
    countIncludePad: args.countIncludePad ?? true,
    inputSize: [shape4[2], shape4[3]] as const,
  };
  const [dx4] = runPrimitive('avgPool2dGrad', [grad], params, [{ shape: shape4, dtype }]);
  const dx = reshape(dx4, input);
  disposeTemporaries([grad, dx4], []);
  return dx;
}

/** The gradient of `avgPool2d(x, options)` with respect to x (of shape `inputShape`). */
export function avgPool2dGrad(dy: NDArray, inputShape: Shape, options: AvgPool2dOptions): NDArray {
  checkArray('avgPool2dGrad', dy, 'dy');
  return avgPoolGrad('avgPool2dGrad', dy, inputShape, options, 2);
}

/** The gradient of `avgPool1d(x, options)` with respect to x (of shape `inputShape`). */
export function avgPool1dGrad(dy: NDArray, inputShape: Shape, options: AvgPool1dOptions): NDArray {
  checkArray('avgPool1dGrad', dy, 'dy');
  return avgPoolGrad('avgPool1dGrad', dy, inputShape, options, 1);
}
