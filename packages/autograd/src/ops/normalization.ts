import * as T from '@tsgrad/tensor';
import { checkOptions } from '@tsgrad/tensor';
import { checkList, checkTensor } from '../check.js';
import { inLibrary } from '../lifetime.js';
import type { Tensor } from '../tensor.js';
import { rsqrt } from './activation.js';
import { add, mul, sub } from './elementwise.js';
import { reshape } from './movement.js';
import { mean } from './reduce.js';

// Functional normalization layers (torch.nn.functional.layer_norm / batch_norm / group_norm),
// composed of differentiable ops, so every order of gradient comes from the tape.

function checkFloat(op: string, x: Tensor): void {
  if (!T.isFloat(x.dtype)) throw new T.DTypeError(op, `expected a float input, got ${x.dtype}`);
}

function checkParamShape(op: string, name: string, p: Tensor | undefined, shape: readonly number[]): void {
  if (p !== undefined) checkTensor(op, p, name);
  if (p !== undefined && (p.ndim !== shape.length || p.shape.some((d, i) => d !== shape[i]))) {
    throw new T.ShapeError(
      op,
      `${name} must have shape ${T.formatShape(shape)}, got ${T.formatShape(p.shape)}`,
    );
  }
}

/** Biased mean and variance over `axes` (kept as size-1 dims). */
function moments(x: Tensor, axes: readonly number[]): { mu: Tensor; variance: Tensor } {
  const mu = mean(x, { axis: axes, keepdims: true });
  const centered = sub(x, mu);
  return { mu, variance: mean(mul(centered, centered), { axis: axes, keepdims: true }) };
}

/** (x − mean) / √(var + eps) over `axes`, with the biased variance. */
function standardize(x: Tensor, axes: readonly number[], eps: number): Tensor {
  const { mu, variance } = moments(x, axes);
  return mul(sub(x, mu), rsqrt(add(variance, eps)));
}

/** y·weight + bias, each reshaped to `paramShape` first when given. */
function affine(
  y: Tensor,
  weight: Tensor | undefined,
  bias: Tensor | undefined,
  paramShape?: readonly number[],
): Tensor {
  const fit = (p: Tensor) => (paramShape ? reshape(p, paramShape) : p);
  const scaled = weight ? mul(y, fit(weight)) : y;
  return bias ? add(scaled, fit(bias)) : scaled;
}

/** The shape [1, C, 1, …] that broadcasts a per-channel vector against an (N, C, …) input. */
const channelShape = (x: Tensor) => x.shape.map((d, i) => (i === 1 ? d : 1));

/** The optional affine parameters of a normalization: y = γ · x̂ + β. */
export interface AffineNormOptions {
  /** Elementwise scale (γ). */
  readonly weight?: Tensor;
  /** Elementwise shift (β). */
  readonly bias?: Tensor;
  /** Added to the variance (default 1e-5). */
  readonly eps?: number;
}

/**
 * Layer normalization over the trailing dims `normalizedShape` (biased variance, like
 * PyTorch); weight and bias have shape `normalizedShape`.
 */
export function layerNorm(
  x: Tensor,
  normalizedShape: number | readonly number[],
  options: AffineNormOptions = {},
): Tensor {
  checkTensor('layerNorm', x);
  checkOptions('layerNorm', options);
  if (typeof normalizedShape !== 'number') checkList('layerNorm', normalizedShape, 'normalizedShape');
  return inLibrary(() => {
    checkFloat('layerNorm', x);
    const dims = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    const lead = x.ndim - dims.length;
    if (lead < 0 || dims.some((d, i) => x.shape[lead + i] !== d)) {
      throw new T.ShapeError(
        'layerNorm',
        `input of shape ${T.formatShape(x.shape)} does not end with normalizedShape ${T.formatShape(dims)}`,
      );
    }
    checkParamShape('layerNorm', 'weight', options.weight, dims);
    checkParamShape('layerNorm', 'bias', options.bias, dims);
    const axes = dims.map((_, i) => lead + i);
    return affine(standardize(x, axes, options.eps ?? 1e-5), options.weight, options.bias);
  });
}

/** Options of `batchNorm`: the affine parameters, the running statistics and the mode. */
export interface BatchNormOptions extends AffineNormOptions {
  /** Per-channel running mean (C,). Updated in place (via `assign`) in training mode. */
  readonly runningMean?: Tensor;
  /** Per-channel running variance (C,). Updated in place with the unbiased batch variance. */
  readonly runningVar?: Tensor;
  /** Batch statistics (true) or the running ones (false, the default, as in PyTorch). */
  readonly training?: boolean;
  /** Weight of the new batch statistic in the running averages (default 0.1); an array while traced. */
  readonly momentum?: number | T.NDArray;
}

/**
 * Batch normalization of an (N, C, …) input per channel C, like torch.nn.functional.batch_norm.
 *
 * Training mode normalizes with the batch mean and biased variance (over every axis but 1) and,
 * when running stats are passed, replaces their values in place (`Tensor.assign`, outside the
 * graph): running ← (1 − momentum)·running + momentum·batch, using the unbiased variance
 * (n/(n − 1)·biased) for `runningVar`, exactly as PyTorch. Eval mode normalizes with the
 * running stats, which it requires.
 */
export function batchNorm(x: Tensor, options: BatchNormOptions = {}): Tensor {
  checkTensor('batchNorm', x);
  checkOptions('batchNorm', options);
  return inLibrary(() => {
    const { runningMean, runningVar, weight, bias } = options;
    const eps = options.eps ?? 1e-5;
    checkFloat('batchNorm', x);
    if (x.ndim < 2)
      throw new T.ShapeError('batchNorm', `expected an (N, C, …) input, got shape ${T.formatShape(x.shape)}`);
    const channels = [x.shape[1]];
    for (const [name, p] of [
      ['runningMean', runningMean],
      ['runningVar', runningVar],
      ['weight', weight],
      ['bias', bias],
    ] as const) {
      checkParamShape('batchNorm', name, p, channels);
    }
    const paramShape = channelShape(x);
    if (!(options.training ?? false)) {
      if (runningMean === undefined || runningVar === undefined) {
        throw new T.ValueError('batchNorm', 'eval mode (training: false) needs runningMean and runningVar');
      }
      const normalized = mul(
        sub(x, reshape(runningMean, paramShape)),
        rsqrt(add(reshape(runningVar, paramShape), eps)),
      );
      return affine(normalized, weight, bias, paramShape);
    }
    const axes = x.shape.flatMap((_, i) => (i === 1 ? [] : [i]));
    const count = x.size / x.shape[1];
    if (count <= 1) {
      throw new T.ValueError(
        'batchNorm',
        `expected more than 1 value per channel when training, got input ${T.formatShape(x.shape)}`,
      );
    }
    const { mu, variance } = moments(x, axes);
    const momentum = options.momentum ?? 0.1;
    updateRunning(runningMean, mu.peekValue(), momentum);
    updateRunning(runningVar, T.mul(variance.peekValue(), count / (count - 1)), momentum);
    const normalized = mul(sub(x, mu), rsqrt(add(variance, eps)));
    return affine(normalized, weight, bias, paramShape);
  });
}

function updateRunning(running: Tensor | undefined, batch: T.NDArray, momentum: number | T.NDArray): void {
  if (running === undefined) return;
  const fresh = T.cast(T.reshape(batch, running.shape), running.dtype);
  const keep = typeof momentum === 'number' ? 1 - momentum : T.sub(1, momentum);
  running.assign(T.add(T.mul(running.peekValue(), keep), T.mul(fresh, momentum)));
}

/**
 * Group normalization of an (N, C, …) input: the C channels are split into `numGroups` groups
 * and each (sample, group) is normalized over its channels and positions (biased variance).
 * weight and bias are per channel (C,).
 */
export function groupNorm(x: Tensor, numGroups: number, options: AffineNormOptions = {}): Tensor {
  checkTensor('groupNorm', x);
  checkOptions('groupNorm', options);
  return inLibrary(() => {
    checkFloat('groupNorm', x);
    if (x.ndim < 2)
      throw new T.ShapeError('groupNorm', `expected an (N, C, …) input, got shape ${T.formatShape(x.shape)}`);
    const channels = x.shape[1];
    if (!Number.isInteger(numGroups) || numGroups <= 0 || channels % numGroups !== 0) {
      throw new T.ValueError(
        'groupNorm',
        `numGroups must be a positive divisor of the ${channels} channels, got ${T.describe(numGroups)}`,
      );
    }
    checkParamShape('groupNorm', 'weight', options.weight, [channels]);
    checkParamShape('groupNorm', 'bias', options.bias, [channels]);
    const perGroup = (channels / numGroups) * x.shape.slice(2).reduce((a, b) => a * b, 1);
    const grouped = reshape(x, [x.shape[0], numGroups, perGroup]);
    const normalized = reshape(standardize(grouped, [2], options.eps ?? 1e-5), x.shape);
    return affine(normalized, options.weight, options.bias, channelShape(x));
  });
}
