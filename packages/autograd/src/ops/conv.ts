import * as T from '@tsgrad/tensor';
import { checkOptions } from '@tsgrad/tensor';
import { checkTensor } from '../check.js';
import { inLibrary } from '../lifetime.js';
import { defineOp } from '../op.js';
import type { ErrorSample, OpSample } from '../spec.js';
import type { Tensor } from '../tensor.js';
import { add } from './elementwise.js';
import { reshape } from './movement.js';

// Convolutions in NCHW / NCL layout with PyTorch semantics, built from three ops that are each
// other's adjoints. With L(x, w, dy) = ⟨conv(x, w), dy⟩, which is linear in each argument,
//   conv(x, w)          = ∇_dy L,   convInputGrad(dy, w) = ∇_x L,   convWeightGrad(x, dy) = ∇_w L,
// so every VJP is again one of the three: e.g. ⟨gx, convInputGrad(dy, w)⟩ = L(gx, w, dy), whose
// gradients are conv(gx, w) for dy and convWeightGrad(gx, dy) for w. Gradients of any order
// therefore stay inside this family. Each rank has its own three ops, named like the kernels
// (conv2d, conv2dInputGrad, conv2dWeightGrad, and the conv1d ones).

/** Stride, padding, dilation and groups: what a convolution and its two gradients share. */
export type ConvGeometry = T.Conv2dGradOptions;

/** `conv2d` options: the geometry and an optional bias `[O]`. */
export interface Conv2dOptions extends T.Conv2dGradOptions {
  /** Shape `[O]`, added to every output channel. */
  readonly bias?: Tensor;
}

export interface Conv1dOptions extends T.Conv1dGradOptions {
  /** Shape `[O]`, added to every output channel. */
  readonly bias?: Tensor;
}

/** `convTranspose2d` options over x `[N, Cin, H, W]` and w `[Cin, Cout/groups, kh, kw]`. */
export interface ConvTranspose2dOptions {
  /** The step, a number or `[h, w]` (default 1). */
  readonly stride?: T.Size2d;
  /** Trims `padding` rows/columns from each side of the full output. */
  readonly padding?: T.Size2d;
  /** Extra size on the bottom/right of the output; must be smaller than the stride. */
  readonly outputPadding?: T.Size2d;
  /** Spacing between kernel taps (default 1). */
  readonly dilation?: T.Size2d;
  /** Channels are split into `groups` independent convolutions (default 1). */
  readonly groups?: number;
  /** Shape `[Cout]`. */
  readonly bias?: Tensor;
}

/** `convTranspose1d` options over x `[N, Cin, L]` and w `[Cin, Cout/groups, k]`. */
export interface ConvTranspose1dOptions {
  /** The step (default 1). */
  readonly stride?: number;
  /** Trims `padding` positions from each end of the full output (default 0). */
  readonly padding?: number;
  /** Extra length at the end of the output; must be smaller than the stride (default 0). */
  readonly outputPadding?: number;
  /** Spacing between kernel taps (default 1). */
  readonly dilation?: number;
  /** Channels are split into `groups` independent convolutions (default 1). */
  readonly groups?: number;
  /** Shape `[Cout]`. */
  readonly bias?: Tensor;
}

type Spatial = 1 | 2;

/** The raw kernels of one rank, all taking the 2-D geometry type. */
interface ConvKernels {
  conv(x: T.NDArray, w: T.NDArray, geometry: ConvGeometry): T.NDArray;
  inputGrad(dy: T.NDArray, w: T.NDArray, inputShape: T.Shape, geometry: ConvGeometry): T.NDArray;
  weightGrad(x: T.NDArray, dy: T.NDArray, weightShape: T.Shape, geometry: ConvGeometry): T.NDArray;
}

// A 1-D geometry holds plain numbers, which the 2-D type also allows; the kernels check them.
const as1d = (geometry: ConvGeometry) => geometry as T.Conv1dGradOptions;

const kernels: Record<Spatial, ConvKernels> = {
  1: {
    conv: (x, w, geometry) => T.conv1d(x, w, as1d(geometry)),
    inputGrad: (dy, w, inputShape, geometry) => T.conv1dInputGrad(dy, w, inputShape, as1d(geometry)),
    weightGrad: (x, dy, weightShape, geometry) => T.conv1dWeightGrad(x, dy, weightShape, as1d(geometry)),
  },
  2: { conv: T.conv2d, inputGrad: T.conv2dInputGrad, weightGrad: T.conv2dWeightGrad },
};

/** The three differentiable ops of one rank. */
interface ConvFamily {
  conv(x: Tensor, w: Tensor, geometry: ConvGeometry): Tensor;
  inputGrad(dy: Tensor, w: Tensor, inputShape: T.Shape, geometry: ConvGeometry): Tensor;
  weightGrad(x: Tensor, dy: Tensor, weightShape: T.Shape, geometry: ConvGeometry): Tensor;
}

interface InputGradParams {
  readonly geometry: ConvGeometry;
  readonly inputShape: readonly number[];
}

interface WeightGradParams {
  readonly geometry: ConvGeometry;
  readonly weightShape: readonly number[];
}

/** Defines `conv{1,2}d`, `conv{1,2}dInputGrad` and `conv{1,2}dWeightGrad`, whose VJPs call each other. */
function convFamily(spatial: Spatial): ConvFamily {
  const name = `conv${spatial}d`;
  const kernel = kernels[spatial];
  const ofRank = <S extends { readonly shapes: readonly T.Shape[] }>(samples: readonly S[]) =>
    samples.filter((s) => s.shapes[0].length === spatial + 2);
  const family: ConvFamily = {
    conv: (x, w, geometry) => convOp.apply([x, w], geometry)[0],
    inputGrad: (dy, w, inputShape, geometry) =>
      inputGradOp.apply([dy, w], { geometry, inputShape: [...inputShape] })[0],
    weightGrad: (x, dy, weightShape, geometry) =>
      weightGradOp.apply([x, dy], { geometry, weightShape: [...weightShape] })[0],
  };
  const { conv, inputGrad, weightGrad } = family;

  const convOp = defineOp<ConvGeometry>({
    name,
    forward: ([x, w], geometry) => kernel.conv(x, w, geometry),
    vjp: ({ inputs: [x, w], params, needsInputGrad }, [g]) => [
      needsInputGrad[0] ? inputGrad(g, w, x.shape, params) : null,
      needsInputGrad[1] ? weightGrad(x, g, w.shape, params) : null,
    ],
    jvp: ({ inputs: [x, w], params }, [tx, tw]) => [add(conv(tx, w, params), conv(x, tw, params))],
    spec: {
      inputs: [{}, {}],
      samples: ofRank(convSamples),
      reference: ([x, w], [xShape, wShape], geometry) => {
        const taps = convTaps(xShape, wShape, geometry);
        const y = new Float64Array(T.sizeOf(taps.outShape));
        taps.visit((yAt, xAt, wAt) => {
          y[yAt] += x[xAt] * w[wAt];
        });
        return [y];
      },
      errors: ofRank(convErrors),
    },
  });

  const inputGradOp = defineOp<InputGradParams>({
    name: `${name}InputGrad`,
    forward: ([dy, w], { geometry, inputShape }) => kernel.inputGrad(dy, w, inputShape, geometry),
    vjp: ({ inputs: [dy, w], params: { geometry }, needsInputGrad }, [gx]) => [
      needsInputGrad[0] ? conv(gx, w, geometry) : null,
      needsInputGrad[1] ? weightGrad(gx, dy, w.shape, geometry) : null,
    ],
    jvp: ({ inputs: [dy, w], params: { geometry, inputShape } }, [tdy, tw]) => [
      add(inputGrad(tdy, w, inputShape, geometry), inputGrad(dy, tw, inputShape, geometry)),
    ],
    spec: {
      inputs: [{}, {}],
      samples: ofRank(inputGradSamples),
      reference: ([dy, w], [, wShape], { geometry, inputShape }) => {
        const dx = new Float64Array(T.sizeOf(inputShape));
        convTaps(inputShape, wShape, geometry).visit((yAt, xAt, wAt) => {
          dx[xAt] += dy[yAt] * w[wAt];
        });
        return [dx];
      },
      errors: ofRank(inputGradErrors),
    },
  });

  const weightGradOp = defineOp<WeightGradParams>({
    name: `${name}WeightGrad`,
    forward: ([x, dy], { geometry, weightShape }) => kernel.weightGrad(x, dy, weightShape, geometry),
    vjp: ({ inputs: [x, dy], params: { geometry }, needsInputGrad }, [gw]) => [
      needsInputGrad[0] ? inputGrad(dy, gw, x.shape, geometry) : null,
      needsInputGrad[1] ? conv(x, gw, geometry) : null,
    ],
    jvp: ({ inputs: [x, dy], params: { geometry, weightShape } }, [tx, tdy]) => [
      add(weightGrad(tx, dy, weightShape, geometry), weightGrad(x, tdy, weightShape, geometry)),
    ],
    spec: {
      inputs: [{}, {}],
      samples: ofRank(weightGradSamples),
      reference: ([x, dy], [xShape], { geometry, weightShape }) => {
        const dw = new Float64Array(T.sizeOf(weightShape));
        convTaps(xShape, weightShape, geometry).visit((yAt, xAt, wAt) => {
          dw[wAt] += x[xAt] * dy[yAt];
        });
        return [dw];
      },
      errors: ofRank(weightGradErrors),
    },
  });

  return family;
}

// ---- spec samples (both ranks; each family keeps its own) --------------------------------------

/** A sample of a two-input op. */
const pair = <P>(a: T.Shape, b: T.Shape, params: P) => ({ shapes: [a, b], params });

const convSamples: readonly OpSample<ConvGeometry>[] = [
  pair([1, 2, 4, 4], [2, 2, 2, 2], {}),
  pair([1, 1, 5, 5], [1, 1, 3, 3], { stride: 2, padding: 1 }),
  pair([1, 2, 4, 4], [2, 2, 2, 2], { padding: 'same' }),
  pair([1, 1, 5, 5], [2, 1, 2, 2], { dilation: 2, padding: [1, 0] }),
  pair([1, 3, 3, 3], [3, 1, 2, 2], { groups: 3 }),
  pair([2, 1, 3, 3], [2, 1, 2, 2], { stride: [1, 2] }),
  pair([2, 2, 5], [3, 2, 3], { stride: 2, padding: 1 }),
  pair([1, 2, 6], [2, 2, 3], { padding: 'same', dilation: 2 }),
  pair([1, 4, 4], [2, 2, 2], { groups: 2 }),
];

const convErrors: readonly ErrorSample<ConvGeometry>[] = [
  { ...pair([1, 3, 4, 4], [2, 2, 2, 2], {}), throws: T.ShapeError },
  { ...pair([1, 3, 4, 4], [2, 1, 2, 2], { groups: 2 }), throws: T.ShapeError },
  { ...pair([1, 1, 2, 2], [1, 1, 3, 3], {}), throws: T.ShapeError },
  { ...pair([1, 1, 4, 4], [1, 1, 2, 2], { stride: 2, padding: 'same' }), throws: T.ValueError },
  { ...pair([1, 1, 4, 4], [1, 1, 2, 2], {}), dtypes: ['bool'], throws: T.DTypeError },
  { ...pair([1, 3, 5], [2, 2, 3], {}), throws: T.ShapeError },
  { ...pair([1, 2, 5], [2, 2, 3], {}), dtypes: [undefined, 'int32'], throws: T.DTypeError },
];

const inputGradSamples: readonly OpSample<InputGradParams>[] = [
  pair([1, 2, 3, 3], [2, 2, 2, 2], { geometry: {}, inputShape: [1, 2, 4, 4] }),
  pair([1, 1, 3, 3], [1, 1, 3, 3], { geometry: { stride: 2, padding: 1 }, inputShape: [1, 1, 5, 5] }),
  // The last row and column of the input are never read, so their gradient is zero.
  pair([1, 1, 2, 2], [1, 1, 2, 2], { geometry: { stride: 2 }, inputShape: [1, 1, 5, 5] }),
  pair([1, 1, 4, 4], [1, 1, 2, 2], { geometry: { padding: 'same' }, inputShape: [1, 1, 4, 4] }),
  pair([1, 2, 5, 3], [2, 1, 2, 2], { geometry: { dilation: 2, padding: [1, 0] }, inputShape: [1, 1, 5, 5] }),
  pair([1, 3, 2, 2], [3, 1, 2, 2], { geometry: { groups: 3 }, inputShape: [1, 3, 3, 3] }),
  pair([2, 3, 3], [3, 2, 3], { geometry: { stride: 2, padding: 1 }, inputShape: [2, 2, 5] }),
  pair([1, 2, 3], [2, 2, 2], { geometry: { groups: 2 }, inputShape: [1, 4, 4] }),
];

const inputGradErrors: readonly ErrorSample<InputGradParams>[] = [
  { ...pair([1, 2, 2, 2], [2, 2, 2, 2], { geometry: {}, inputShape: [1, 2, 4, 4] }), throws: T.ShapeError },
  {
    ...pair([1, 2, 3, 3], [2, 2, 2, 2], { geometry: {}, inputShape: [1, 2, 4, 4] }),
    dtypes: ['bool'],
    throws: T.DTypeError,
  },
  { ...pair([1, 2, 2], [2, 2, 2], { geometry: {}, inputShape: [1, 2, 4] }), throws: T.ShapeError },
];

const weightGradSamples: readonly OpSample<WeightGradParams>[] = [
  pair([1, 2, 4, 4], [1, 2, 3, 3], { geometry: {}, weightShape: [2, 2, 2, 2] }),
  pair([1, 1, 5, 5], [1, 1, 2, 2], { geometry: { stride: 2 }, weightShape: [1, 1, 2, 2] }),
  pair([1, 1, 4, 4], [1, 1, 4, 4], { geometry: { padding: 'same' }, weightShape: [1, 1, 2, 2] }),
  pair([1, 1, 5, 5], [1, 2, 5, 3], { geometry: { dilation: 2, padding: [1, 0] }, weightShape: [2, 1, 2, 2] }),
  pair([1, 3, 3, 3], [1, 3, 2, 2], { geometry: { groups: 3 }, weightShape: [3, 1, 2, 2] }),
  pair([2, 2, 5], [2, 3, 3], { geometry: { stride: 2, padding: 1 }, weightShape: [3, 2, 3] }),
  pair([1, 2, 6], [1, 2, 6], { geometry: { padding: 'same', dilation: 2 }, weightShape: [2, 2, 3] }),
];

const weightGradErrors: readonly ErrorSample<WeightGradParams>[] = [
  { ...pair([1, 2, 4, 4], [1, 2, 2, 2], { geometry: {}, weightShape: [2, 2, 2, 2] }), throws: T.ShapeError },
  {
    ...pair([1, 2, 4, 4], [1, 2, 3, 3], { geometry: {}, weightShape: [2, 2, 2, 2] }),
    dtypes: ['bool'],
    throws: T.DTypeError,
  },
  { ...pair([1, 2, 5], [1, 2, 4], { geometry: {}, weightShape: [2, 2, 3] }), throws: T.ShapeError },
];

const conv1dFamily = convFamily(1);
const conv2dFamily = convFamily(2);
const families: Record<Spatial, ConvFamily> = { 1: conv1dFamily, 2: conv2dFamily };

// ---- float64 reference for the specs -----------------------------------------------------------

/** Expands a per-axis option to one value per spatial axis. */
function perAxis(value: number | readonly number[] | undefined, rank: number, fallback: number): number[] {
  if (value === undefined) return new Array<number>(rank).fill(fallback);
  return typeof value === 'number' ? new Array<number>(rank).fill(value) : [...value];
}

/**
 * Every multiply of a direct convolution loop, as flat (output, input, weight) positions;
 * 1-D shapes run as 2-D ones of height 1. The three references accumulate different products.
 */
function convTaps(xShape: T.Shape, wShape: T.Shape, geometry: ConvGeometry) {
  const spatial = xShape.length - 2;
  const [batch, channels, ...size] = xShape;
  const [outChannels, groupChannels, ...kernel] = wShape;
  const groups = geometry.groups ?? 1;
  const stride = perAxis(geometry.stride, spatial, 1);
  const dilation = perAxis(geometry.dilation, spatial, 1);
  const padding = geometry.padding ?? 0;
  const total = kernel.map((k, a) => (padding === 'same' ? dilation[a] * (k - 1) : 0));
  const before =
    padding === 'same'
      ? total.map((t) => Math.floor(t / 2))
      : perAxis(padding === 'valid' ? 0 : padding, spatial, 0);
  const after = padding === 'same' ? total.map((t, a) => t - before[a]) : before;
  const outSize = size.map(
    (n, a) => Math.floor((n + before[a] + after[a] - dilation[a] * (kernel[a] - 1) - 1) / stride[a]) + 1,
  );
  const lift = (values: readonly number[], fill: number) => (spatial === 1 ? [fill, ...values] : [...values]);
  const [H, W] = lift(size, 1);
  const [kh, kw] = lift(kernel, 1);
  const [sh, sw] = lift(stride, 1);
  const [dh, dw] = lift(dilation, 1);
  const [ph, pw] = lift(before, 0);
  const [Ho, Wo] = lift(outSize, 1);
  const perGroup = outChannels / groups;
  const visit = (add: (yAt: number, xAt: number, wAt: number) => void) => {
    for (let n = 0; n < batch; n++)
      for (let o = 0; o < outChannels; o++)
        for (let oh = 0; oh < Ho; oh++)
          for (let ow = 0; ow < Wo; ow++)
            for (let ci = 0; ci < groupChannels; ci++)
              for (let i = 0; i < kh; i++)
                for (let j = 0; j < kw; j++) {
                  const ih = oh * sh - ph + i * dh;
                  const iw = ow * sw - pw + j * dw;
                  if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                  const c = Math.floor(o / perGroup) * groupChannels + ci;
                  add(
                    ((n * outChannels + o) * Ho + oh) * Wo + ow,
                    ((n * channels + c) * H + ih) * W + iw,
                    ((o * groupChannels + ci) * kh + i) * kw + j,
                  );
                }
  };
  return { outShape: [batch, outChannels, ...outSize], visit };
}

// ---- public functions -----------------------------------------------------------------------------

/** Both operands must have `spatial` axes after batch and channels; `layout` names them. */
function checkRanks(op: string, a: Tensor, b: Tensor, spatial: number, layout: string): void {
  if (a.ndim !== spatial + 2 || b.ndim !== spatial + 2) {
    throw new T.ShapeError(op, `expects ${layout}, got [${a.shape.join(',')}] and [${b.shape.join(',')}]`);
  }
}

/** Adds a per-channel bias `[C]` to `[N, C, ...spatial]`. */
function withBias(op: string, y: Tensor, bias: Tensor | undefined): Tensor {
  if (bias === undefined) return y;
  const channels = y.shape[1];
  if (bias.ndim !== 1 || bias.shape[0] !== channels) {
    throw new T.ShapeError(
      op,
      `bias must have shape [${channels}] (one per output channel), got [${bias.shape.join(',')}]`,
    );
  }
  return add(y, reshape(bias, [channels, ...y.shape.slice(2).map(() => 1)]));
}

/**
 * 2-D convolution (cross-correlation, as in PyTorch): x `[N, C, H, W]`, weight
 * `[O, C/groups, kh, kw]`, optional bias `[O]` → `[N, O, Ho, Wo]`. Padding may be 'same'
 * (stride 1; an odd total pads the bottom/right more) or 'valid'.
 */
export function conv2d(x: Tensor, weight: Tensor, options: Conv2dOptions = {}): Tensor {
  checkTensor('conv2d', x);
  checkTensor('conv2d', weight, 'weight');
  checkOptions('conv2d', options);
  const { bias, ...geometry } = options;
  checkRanks('conv2d', x, weight, 2, 'input [N, C, H, W] and weight [O, C/groups, kh, kw]');
  return inLibrary(() => withBias('conv2d', conv2dFamily.conv(x, weight, geometry), bias));
}

/** 1-D convolution: x `[N, C, L]`, weight `[O, C/groups, k]`, optional bias `[O]` → `[N, O, Lo]`. */
export function conv1d(x: Tensor, weight: Tensor, options: Conv1dOptions = {}): Tensor {
  checkTensor('conv1d', x);
  checkTensor('conv1d', weight, 'weight');
  checkOptions('conv1d', options);
  const { bias, ...geometry } = options;
  checkRanks('conv1d', x, weight, 1, 'input [N, C, L] and weight [O, C/groups, k]');
  return inLibrary(() => withBias('conv1d', conv1dFamily.conv(x, weight, geometry), bias));
}

/** The gradient of `conv2d(x, weight, options)` with respect to x (shape `inputShape`), differentiable in dy and weight. */
export function conv2dInputGrad(
  dy: Tensor,
  weight: Tensor,
  inputShape: T.Shape,
  options: T.Conv2dGradOptions = {},
): Tensor {
  checkTensor('conv2dInputGrad', dy, 'dy');
  checkTensor('conv2dInputGrad', weight, 'weight');
  checkRanks('conv2dInputGrad', dy, weight, 2, 'dy [N, O, Ho, Wo] and weight [O, C/groups, kh, kw]');
  return conv2dFamily.inputGrad(dy, weight, T.checkShape('conv2dInputGrad', inputShape), options);
}

/**
 * The gradient of `conv1d(x, w, options)` with respect to x (shape `inputShape`), differentiable in dy and w.
 */
export function conv1dInputGrad(
  dy: Tensor,
  weight: Tensor,
  inputShape: T.Shape,
  options: T.Conv1dGradOptions = {},
): Tensor {
  checkTensor('conv1dInputGrad', dy, 'dy');
  checkTensor('conv1dInputGrad', weight, 'weight');
  checkRanks('conv1dInputGrad', dy, weight, 1, 'dy [N, O, Lo] and weight [O, C/groups, k]');
  return conv1dFamily.inputGrad(dy, weight, T.checkShape('conv1dInputGrad', inputShape), options);
}

/** The gradient of `conv2d(x, w, options)` with respect to w (shape `weightShape`), differentiable in x and dy. */
export function conv2dWeightGrad(
  x: Tensor,
  dy: Tensor,
  weightShape: T.Shape,
  options: T.Conv2dGradOptions = {},
): Tensor {
  checkTensor('conv2dWeightGrad', x);
  checkTensor('conv2dWeightGrad', dy, 'dy');
  checkRanks('conv2dWeightGrad', x, dy, 2, 'input [N, C, H, W] and dy [N, O, Ho, Wo]');
  return conv2dFamily.weightGrad(x, dy, T.checkShape('conv2dWeightGrad', weightShape), options);
}

/**
 * The gradient of `conv1d(x, w, options)` with respect to w (shape `weightShape`), differentiable in x and
 * dy.
 */
export function conv1dWeightGrad(
  x: Tensor,
  dy: Tensor,
  weightShape: T.Shape,
  options: T.Conv1dGradOptions = {},
): Tensor {
  checkTensor('conv1dWeightGrad', x);
  checkTensor('conv1dWeightGrad', dy, 'dy');
  checkRanks('conv1dWeightGrad', x, dy, 1, 'input [N, C, L] and dy [N, O, Lo]');
  return conv1dFamily.weightGrad(x, dy, T.checkShape('conv1dWeightGrad', weightShape), options);
}

type TransposeOptions = ConvTranspose2dOptions | ConvTranspose1dOptions;

/** The output shape of a transposed convolution (PyTorch's formula). */
function transposedShape(
  op: string,
  x: Tensor,
  w: Tensor,
  options: TransposeOptions,
  spatial: Spatial,
): number[] {
  const groups = options.groups ?? 1;
  if (x.shape[1] % groups !== 0) {
    throw new T.ShapeError(
      op,
      `groups=${groups} does not divide the ${x.shape[1]} channels of input [${x.shape.join(',')}]`,
    );
  }
  if (w.shape[0] !== x.shape[1]) {
    throw new T.ShapeError(
      op,
      `input [${x.shape.join(',')}] has ${x.shape[1]} channels but weight [${w.shape.join(',')}] expects ${w.shape[0]} (its first axis)`,
    );
  }
  const stride = perAxis(options.stride, spatial, 1);
  const padding = perAxis(options.padding, spatial, 0);
  const dilation = perAxis(options.dilation, spatial, 1);
  const outputPadding = perAxis(options.outputPadding, spatial, 0);
  if (outputPadding.some((p, a) => p < 0 || p >= stride[a])) {
    throw new T.ValueError(
      op,
      `outputPadding ${T.formatShape(outputPadding)} must be non-negative and smaller than stride ${T.formatShape(stride)}`,
    );
  }
  const kernel = w.shape.slice(2);
  const size = x.shape
    .slice(2)
    .map(
      (n, a) => (n - 1) * stride[a] - 2 * padding[a] + dilation[a] * (kernel[a] - 1) + outputPadding[a] + 1,
    );
  return [x.shape[0], w.shape[1] * groups, ...size];
}

/** A transposed convolution is the input gradient of the convolution that maps its output back to x. */
function convTranspose(
  op: string,
  x: Tensor,
  w: Tensor,
  options: TransposeOptions,
  spatial: Spatial,
): Tensor {
  const { stride, padding, dilation, groups, bias } = options;
  const geometry: ConvGeometry = { stride, padding, dilation, groups };
  const outShape = transposedShape(op, x, w, options, spatial);
  return inLibrary(() => withBias(op, families[spatial].inputGrad(x, w, outShape, geometry), bias));
}

/**
 * PyTorch's `conv_transpose2d`: x `[N, Cin, H, W]`, weight `[Cin, Cout/groups, kh, kw]` →
 * `[N, Cout, (H − 1)·stride − 2·padding + dilation·(kh − 1) + outputPadding + 1, …]`.
 * outputPadding must be smaller than the stride (PyTorch also allows it below the dilation).
 */
export function convTranspose2d(x: Tensor, weight: Tensor, options: ConvTranspose2dOptions = {}): Tensor {
  checkTensor('convTranspose2d', x);
  checkTensor('convTranspose2d', weight, 'weight');
  checkOptions('convTranspose2d', options);
  checkRanks('convTranspose2d', x, weight, 2, 'input [N, Cin, H, W] and weight [Cin, Cout/groups, kh, kw]');
  return convTranspose('convTranspose2d', x, weight, options, 2);
}

/** PyTorch's `conv_transpose1d`: x `[N, Cin, L]`, weight `[Cin, Cout/groups, k]` → `[N, Cout, Lo]`. */
export function convTranspose1d(x: Tensor, weight: Tensor, options: ConvTranspose1dOptions = {}): Tensor {
  checkTensor('convTranspose1d', x);
  checkTensor('convTranspose1d', weight, 'weight');
  checkOptions('convTranspose1d', options);
  checkRanks('convTranspose1d', x, weight, 1, 'input [N, Cin, L] and weight [Cin, Cout/groups, k]');
  return convTranspose('convTranspose1d', x, weight, options, 1);
}
