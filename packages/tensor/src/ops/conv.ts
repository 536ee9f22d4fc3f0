import { checkArray, checkOptions } from '../check.js';
import { runPrimitive } from '../dispatch.js';
import { describe, formatShape, ShapeError, ValueError } from '../errors.js';
import type { NDArray } from '../ndarray.js';
import type { Conv2dParams, ConvTranspose2dParams } from '../primitives.js';
import { checkShape, type Shape, shapesEqual } from '../shape.js';
import { add, cast } from './elementwise.js';
import {
  as4d,
  checkRank,
  floatDType,
  lift2d,
  type PerAxis,
  perAxis,
  planesOf,
  slidingOutSize,
} from './spatial.js';
import { disposeTemporaries } from './temporaries.js';
import { reshape } from './views.js';

// Convolutions in NCHW (and NCL) layout with PyTorch semantics. 1-D ops run as 2-D ones
// with a height of 1.

/** A size for both spatial axes, or `[h, w]`. */
export type Size2d = number | readonly [number, number];

/** Options of `conv2d` over x `[N, C, H, W]` and w `[O, C/groups, kh, kw]`. */
export interface Conv2dOptions {
  /** Default 1. */
  readonly stride?: Size2d;
  /**
   * Zero padding on both sides of each axis: a number, `[h, w]`, `'valid'` (none) or `'same'`
   * (output size = input size; stride 1 only; an odd total puts the extra row/column at the
   * bottom/right, like PyTorch). Default 0.
   */
  readonly padding?: Size2d | 'valid' | 'same';
  /** Default 1. */
  readonly dilation?: Size2d;
  /** Channels are split into `groups` independent convolutions. Default 1. */
  readonly groups?: number;
  /** Shape `[O]`, added to every output channel. */
  readonly bias?: NDArray;
}
/** The options of conv2d's gradient kernels: conv2d's, without the bias. */
export type Conv2dGradOptions = Omit<Conv2dOptions, 'bias'>;

/** Options of `conv1d` over x `[N, C, L]` and w `[O, C/groups, k]`; as for `conv2d`, on one axis. */
export interface Conv1dOptions {
  /** Default 1. */
  readonly stride?: number;
  /**
   * Zero padding on both ends: a number, `'valid'` (none) or `'same'` (output length = input length; stride 1
   * only). Default 0.
   */
  readonly padding?: number | 'valid' | 'same';
  /** Spacing between kernel taps. Default 1. */
  readonly dilation?: number;
  /** Channels are split into `groups` independent convolutions. Default 1. */
  readonly groups?: number;
  /** Shape `[O]`, added to every output channel. */
  readonly bias?: NDArray;
}
/** The options of conv1d's gradient kernels: conv1d's, without the bias. */
export type Conv1dGradOptions = Omit<Conv1dOptions, 'bias'>;

/**
 * Options of `convTranspose2d` over x `[N, Cin, H, W]` and w `[Cin, Cout/groups, kh, kw]` (PyTorch's layout).
 */
export interface ConvTranspose2dOptions {
  /** Default 1. */
  readonly stride?: Size2d;
  /** PyTorch's `padding`: trims `padding` rows/columns from each side of the full output. Default 0. */
  readonly padding?: Size2d;
  /** Extra size added to one side of the output; smaller than stride or dilation. Default 0. */
  readonly outputPadding?: Size2d;
  /** Spacing between kernel taps. Default 1. */
  readonly dilation?: Size2d;
  /** Channels are split into `groups` independent convolutions. Default 1. */
  readonly groups?: number;
  /** Shape `[Cout]`. */
  readonly bias?: NDArray;
}

/** Options of `convTranspose1d`; as for `convTranspose2d`, on one axis. */
export interface ConvTranspose1dOptions {
  /** Default 1. */
  readonly stride?: number;
  /** Trims `padding` positions from each end of the full output. Default 0. */
  readonly padding?: number;
  /** Extra length added to one end of the output; smaller than stride or dilation. Default 0. */
  readonly outputPadding?: number;
  /** Spacing between kernel taps. Default 1. */
  readonly dilation?: number;
  /** Channels are split into `groups` independent convolutions. Default 1. */
  readonly groups?: number;
  /** Shape `[Cout]`. */
  readonly bias?: NDArray;
}

/** The options of any convolution, for 1 or 2 spatial axes. */
interface ConvArgs {
  readonly stride?: PerAxis;
  readonly padding?: PerAxis | 'valid' | 'same';
  readonly dilation?: PerAxis;
  readonly groups?: number;
}

interface ConvTransposeArgs {
  readonly stride?: PerAxis;
  readonly padding?: PerAxis;
  readonly outputPadding?: PerAxis;
  readonly dilation?: PerAxis;
  readonly groups?: number;
}

const inputLayout = (spatial: number) => (spatial === 2 ? '[N, C, H, W]' : '[N, C, L]');
const weightLayout = (spatial: number) => (spatial === 2 ? '[O, C/groups, kh, kw]' : '[O, C/groups, k]');

function checkGroups(op: string, groups: number): number {
  if (!Number.isInteger(groups) || groups < 1)
    throw new ValueError(op, `groups must be a positive integer, got ${describe(groups)}`);
  return groups;
}

function checkKernel(op: string, wShape: Shape): number[] {
  const kernel = wShape.slice(2);
  if (kernel.some((k) => k < 1))
    throw new ShapeError(op, `weight ${formatShape(wShape)} has an empty kernel`);
  return kernel;
}

/** Padding before and after each spatial axis. */
function resolvePadding(
  op: string,
  padding: PerAxis | 'valid' | 'same',
  kernel: readonly number[],
  stride: readonly number[],
  dilation: readonly number[],
): [number[], number[]] {
  const rank = kernel.length;
  if (padding === 'valid') return [new Array<number>(rank).fill(0), new Array<number>(rank).fill(0)];
  if (padding === 'same') {
    if (stride.some((s) => s !== 1)) {
      throw new ValueError(op, `padding 'same' needs stride 1, got stride [${stride.join(',')}]`);
    }
    const total = kernel.map((k, a) => dilation[a] * (k - 1));
    const before = total.map((t) => Math.floor(t / 2));
    return [before, total.map((t, a) => t - before[a])];
  }
  if (typeof padding === 'string') throw new ValueError(op, `unknown padding mode '${padding}'`);
  const pad = perAxis(op, 'padding', padding, rank, 0);
  return [pad, pad];
}

interface ConvPlan {
  /** The 2-D primitive parameters. */
  readonly params: Conv2dParams;
  /** The output shape in the op's own rank. */
  readonly outShape: number[];
}

/** Validates a convolution of input `xShape` by weight `wShape` and infers its output. */
function planConv(op: string, xShape: Shape, wShape: Shape, args: ConvArgs, spatial: number): ConvPlan {
  checkRank(op, 'input', xShape, [spatial + 2], inputLayout(spatial));
  checkRank(op, 'weight', wShape, [spatial + 2], weightLayout(spatial));
  const groups = checkGroups(op, args.groups ?? 1);
  const [batch, channels, ...size] = xShape;
  const [outChannels, groupChannels] = wShape;
  if (channels % groups !== 0) {
    throw new ShapeError(
      op,
      `groups=${groups} does not divide the ${channels} channels of input ${formatShape(xShape)}`,
    );
  }
  if (outChannels % groups !== 0) {
    throw new ShapeError(
      op,
      `groups=${groups} does not divide the ${outChannels} output channels of weight ${formatShape(wShape)}`,
    );
  }
  if (groupChannels * groups !== channels) {
    throw new ShapeError(
      op,
      `input ${formatShape(xShape)} has ${channels} channels but weight ${formatShape(wShape)} expects ${groupChannels * groups} (${groupChannels} per group × groups=${groups})`,
    );
  }
  const kernel = checkKernel(op, wShape);
  const stride = perAxis(op, 'stride', args.stride ?? 1, spatial, 1);
  const dilation = perAxis(op, 'dilation', args.dilation ?? 1, spatial, 1);
  const [before, after] = resolvePadding(op, args.padding ?? 0, kernel, stride, dilation);
  const outSize = size.map((n, a) =>
    slidingOutSize(n, before[a], after[a], kernel[a], stride[a], dilation[a]),
  );
  if (outSize.some((o) => o < 1)) {
    throw new ShapeError(
      op,
      `input ${formatShape(xShape)} padded by [${before.join(',')}]/[${after.join(',')}] is smaller than the kernel of weight ${formatShape(wShape)} dilated by [${dilation.join(',')}] (output size would be [${outSize.join(',')}])`,
    );
  }
  const [top, left] = lift2d(before, 0);
  const [bottom, right] = lift2d(after, 0);
  return {
    params: {
      stride: lift2d(stride, 1),
      padding: [top, bottom, left, right],
      dilation: lift2d(dilation, 1),
      groups,
    },
    outShape: [batch, outChannels, ...outSize],
  };
}

function addBias(op: string, out: NDArray, bias: NDArray | undefined): NDArray {
  if (bias === undefined) return out;
  const channels = out.shape[1];
  if (bias.ndim !== 1 || bias.shape[0] !== channels) {
    throw new ShapeError(
      op,
      `bias must have shape [${channels}] (one per output channel), got ${formatShape(bias.shape)}`,
    );
  }
  const converted = cast(bias, out.dtype);
  const column = reshape(converted, [channels, ...out.shape.slice(2).map(() => 1)]);
  const result = add(out, column);
  disposeTemporaries([converted, column, out], [bias]);
  return result;
}

function convForward(
  op: string,
  x: NDArray,
  w: NDArray,
  args: ConvArgs & { readonly bias?: NDArray },
  spatial: number,
): NDArray {
  const plan = planConv(op, x.shape, w.shape, args, spatial);
  const bias = args.bias;
  const dtype = floatDType(op, [['input', x], ['weight', w], ...(bias ? [['bias', bias] as const] : [])]);
  const xs = planesOf(x, dtype, spatial);
  const ws = planesOf(w, dtype, spatial);
  const [out4] = runPrimitive('conv2d', [xs, ws], plan.params, [
    { shape: as4d(plan.outShape, spatial), dtype },
  ]);
  const out = reshape(out4, plan.outShape);
  disposeTemporaries([xs, ws, out4], []);
  return addBias(op, out, bias);
}

/** 2-D convolution (cross-correlation, like PyTorch): x `[N, C, H, W]`, w `[O, C/groups, kh, kw]` → `[N, O, Ho, Wo]`. */
export function conv2d(x: NDArray, w: NDArray, options: Conv2dOptions = {}): NDArray {
  checkArray('conv2d', x);
  checkArray('conv2d', w, 'w');
  checkOptions('conv2d', options);
  return convForward('conv2d', x, w, options, 2);
}

/** 1-D convolution: x `[N, C, L]`, w `[O, C/groups, k]` → `[N, O, Lo]`. */
export function conv1d(x: NDArray, w: NDArray, options: Conv1dOptions = {}): NDArray {
  checkArray('conv1d', x);
  checkArray('conv1d', w, 'w');
  checkOptions('conv1d', options);
  return convForward('conv1d', x, w, options, 1);
}

function convInputGrad(
  op: string,
  dy: NDArray,
  w: NDArray,
  inputShape: Shape,
  args: ConvArgs,
  spatial: number,
): NDArray {
  const input = checkShape(op, inputShape);
  const plan = planConv(op, input, w.shape, args, spatial);
  if (!shapesEqual(dy.shape, plan.outShape)) {
    throw new ShapeError(
      op,
      `dy ${formatShape(dy.shape)} does not match the output ${formatShape(plan.outShape)} of input ${formatShape(input)} convolved with weight ${formatShape(w.shape)}`,
    );
  }
  const dtype = floatDType(op, [
    ['dy', dy],
    ['weight', w],
  ]);
  const dys = planesOf(dy, dtype, spatial);
  const ws = planesOf(w, dtype, spatial);
  const shape4 = as4d(input, spatial);
  const params = { ...plan.params, outSize: [shape4[2], shape4[3]] as const };
  const [dx4] = runPrimitive('convTranspose2d', [dys, ws], params, [{ shape: shape4, dtype }]);
  const dx = reshape(dx4, input);
  disposeTemporaries([dys, ws, dx4], []);
  return dx;
}

/** The gradient of `conv2d(x, w, options)` with respect to x (of shape `inputShape`), given the output gradient `dy`. */
export function conv2dInputGrad(
  dy: NDArray,
  w: NDArray,
  inputShape: Shape,
  options: Conv2dGradOptions = {},
): NDArray {
  checkArray('conv2dInputGrad', dy, 'dy');
  checkArray('conv2dInputGrad', w, 'w');
  checkOptions('conv2dInputGrad', options);
  return convInputGrad('conv2dInputGrad', dy, w, inputShape, options, 2);
}

/** The gradient of `conv1d(x, w, options)` with respect to x (of shape `inputShape`). */
export function conv1dInputGrad(
  dy: NDArray,
  w: NDArray,
  inputShape: Shape,
  options: Conv1dGradOptions = {},
): NDArray {
  checkArray('conv1dInputGrad', dy, 'dy');
  checkArray('conv1dInputGrad', w, 'w');
  checkOptions('conv1dInputGrad', options);
  return convInputGrad('conv1dInputGrad', dy, w, inputShape, options, 1);
}

function convWeightGrad(
  op: string,
  x: NDArray,
  dy: NDArray,
  weightShape: Shape,
  args: ConvArgs,
  spatial: number,
): NDArray {
  const weight = checkShape(op, weightShape);
  const plan = planConv(op, x.shape, weight, args, spatial);
  if (!shapesEqual(dy.shape, plan.outShape)) {
    throw new ShapeError(
      op,
      `dy ${formatShape(dy.shape)} does not match the output ${formatShape(plan.outShape)} of input ${formatShape(x.shape)} convolved with a weight of shape ${formatShape(weight)}`,
    );
  }
  const dtype = floatDType(op, [
    ['input', x],
    ['dy', dy],
  ]);
  const xs = planesOf(x, dtype, spatial);
  const dys = planesOf(dy, dtype, spatial);
  const shape4 = as4d(weight, spatial);
  const params = { ...plan.params, kernelSize: [shape4[2], shape4[3]] as const };
  const [dw4] = runPrimitive('conv2dWeightGrad', [xs, dys], params, [{ shape: shape4, dtype }]);
  const dw = reshape(dw4, weight);
  disposeTemporaries([xs, dys, dw4], []);
  return dw;
}

/** The gradient of `conv2d(x, w, options)` with respect to w (of shape `weightShape`), given the output gradient `dy`. */
export function conv2dWeightGrad(
  x: NDArray,
  dy: NDArray,
  weightShape: Shape,
  options: Conv2dGradOptions = {},
): NDArray {
  checkArray('conv2dWeightGrad', x);
  checkArray('conv2dWeightGrad', dy, 'dy');
  checkOptions('conv2dWeightGrad', options);
  return convWeightGrad('conv2dWeightGrad', x, dy, weightShape, options, 2);
}

/** The gradient of `conv1d(x, w, options)` with respect to w (of shape `weightShape`). */
export function conv1dWeightGrad(
  x: NDArray,
  dy: NDArray,
  weightShape: Shape,
  options: Conv1dGradOptions = {},
): NDArray {
  checkArray('conv1dWeightGrad', x);
  checkArray('conv1dWeightGrad', dy, 'dy');
  checkOptions('conv1dWeightGrad', options);
  return convWeightGrad('conv1dWeightGrad', x, dy, weightShape, options, 1);
}

interface ConvTransposePlan {
  readonly params: ConvTranspose2dParams;
  readonly outShape: number[];
}

/** Validates a transposed convolution of input `xShape` by weight `wShape` and infers its output. */
function planConvTranspose(
  op: string,
  xShape: Shape,
  wShape: Shape,
  args: ConvTransposeArgs,
  spatial: number,
): ConvTransposePlan {
  checkRank(op, 'input', xShape, [spatial + 2], spatial === 2 ? '[N, Cin, H, W]' : '[N, Cin, L]');
  const layout = spatial === 2 ? '[Cin, Cout/groups, kh, kw]' : '[Cin, Cout/groups, k]';
  checkRank(op, 'weight', wShape, [spatial + 2], layout);
  const groups = checkGroups(op, args.groups ?? 1);
  const [batch, inChannels, ...size] = xShape;
  const [weightIn, groupOut] = wShape;
  if (inChannels % groups !== 0) {
    throw new ShapeError(
      op,
      `groups=${groups} does not divide the ${inChannels} channels of input ${formatShape(xShape)}`,
    );
  }
  if (weightIn !== inChannels) {
    throw new ShapeError(
      op,
      `input ${formatShape(xShape)} has ${inChannels} channels but weight ${formatShape(wShape)} expects ${weightIn} (its first axis)`,
    );
  }
  const kernel = checkKernel(op, wShape);
  const stride = perAxis(op, 'stride', args.stride ?? 1, spatial, 1);
  const dilation = perAxis(op, 'dilation', args.dilation ?? 1, spatial, 1);
  const padding = perAxis(op, 'padding', args.padding ?? 0, spatial, 0);
  const outputPadding = perAxis(op, 'outputPadding', args.outputPadding ?? 0, spatial, 0);
  if (outputPadding.some((p, a) => p >= Math.max(stride[a], dilation[a]))) {
    throw new ValueError(
      op,
      `outputPadding [${outputPadding.join(',')}] must be smaller than stride [${stride.join(',')}] or dilation [${dilation.join(',')}]`,
    );
  }
  const outSize = size.map(
    (n, a) => (n - 1) * stride[a] - 2 * padding[a] + dilation[a] * (kernel[a] - 1) + outputPadding[a] + 1,
  );
  if (outSize.some((o) => o < 1)) {
    throw new ShapeError(
      op,
      `input ${formatShape(xShape)} with weight ${formatShape(wShape)} and padding [${padding.join(',')}] gives output size [${outSize.join(',')}]`,
    );
  }
  const [padH, padW] = lift2d(padding, 0);
  return {
    params: {
      stride: lift2d(stride, 1),
      // The kernel reads only the top and left padding; outSize fixes the rest.
      padding: [padH, padH, padW, padW],
      dilation: lift2d(dilation, 1),
      groups,
      outSize: lift2d(outSize, 1),
    },
    outShape: [batch, groupOut * groups, ...outSize],
  };
}

function convTranspose(
  op: string,
  x: NDArray,
  w: NDArray,
  args: ConvTransposeArgs & { readonly bias?: NDArray },
  spatial: number,
): NDArray {
  const plan = planConvTranspose(op, x.shape, w.shape, args, spatial);
  const bias = args.bias;
  const dtype = floatDType(op, [['input', x], ['weight', w], ...(bias ? [['bias', bias] as const] : [])]);
  const xs = planesOf(x, dtype, spatial);
  const ws = planesOf(w, dtype, spatial);
  const [out4] = runPrimitive('convTranspose2d', [xs, ws], plan.params, [
    { shape: as4d(plan.outShape, spatial), dtype },
  ]);
  const out = reshape(out4, plan.outShape);
  disposeTemporaries([xs, ws, out4], []);
  return addBias(op, out, bias);
}

/**
 * Transposed 2-D convolution (PyTorch's conv_transpose2d): x `[N, Cin, H, W]`, w
 * `[Cin, Cout/groups, kh, kw]` → `[N, Cout, (H - 1)·s - 2p + d·(kh - 1) + outputPadding + 1, …]`.
 */
export function convTranspose2d(x: NDArray, w: NDArray, options: ConvTranspose2dOptions = {}): NDArray {
  checkArray('convTranspose2d', x);
  checkArray('convTranspose2d', w, 'w');
  checkOptions('convTranspose2d', options);
  return convTranspose('convTranspose2d', x, w, options, 2);
}

/** Transposed 1-D convolution: x `[N, Cin, L]`, w `[Cin, Cout/groups, k]` → `[N, Cout, Lo]`. */
export function convTranspose1d(x: NDArray, w: NDArray, options: ConvTranspose1dOptions = {}): NDArray {
  checkArray('convTranspose1d', x);
  checkArray('convTranspose1d', w, 'w');
  checkOptions('convTranspose1d', options);
  return convTranspose('convTranspose1d', x, w, options, 1);
}
