import { add, batchNorm, groupNorm, inLibrary, layerNorm, mean, mul, rsqrt, Tensor } from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';
import { Module, markBuiltIn, Parameter } from '../module.js';
import { checkTensor, integerList } from '../validate.js';

/** Options every normalization layer takes. */
export interface NormLayerOptions {
  /** Parameter and running-statistics dtype (float32 by default). */
  readonly dtype?: 'float32' | 'float64';
  /** Added to the variance (default 1e-5). */
  readonly eps?: number;
}

const filled = (shape: readonly number[], value: number, dtype: T.DType) =>
  new Parameter(T.full(shape, value, { dtype }));

const shapeText = (shape: readonly number[]) => `[${shape.join(', ')}]`;

function normalizedDims(name: string, normalizedShape: number | readonly number[]): number[] {
  const dims = integerList(name, 'normalizedShape', normalizedShape);
  if (dims.some((d) => d <= 0)) {
    throw new T.ValueError(name, `normalizedShape must hold positive integers, got ${shapeText(dims)}`);
  }
  return dims;
}

/** Options of `BatchNorm1d`, `BatchNorm2d` and `BatchNorm3d`. */
export interface BatchNormLayerOptions extends NormLayerOptions {
  /**
   * Weight of each new batch statistic in the running averages (default 0.1); `null` gives a
   * cumulative (equal-weight) average over all batches seen, as in PyTorch.
   */
  readonly momentum?: number | null;
  /** Learn a per-channel scale `weight` and shift `bias` (default true). */
  readonly affine?: boolean;
  /**
   * Keep running statistics (default true) and use them in eval mode; without them batch
   * statistics are used in both modes and the buffers are absent from the state dict.
   */
  readonly trackRunningStats?: boolean;
}

/**
 * Batch normalization over the channel axis 1 (PyTorch's `_BatchNorm`). The buffers are
 * registered under PyTorch's own names — `running_mean`, `running_var`, `num_batches_tracked`
 * (int32 here, int64 in PyTorch) — so state dicts match a PyTorch model's key for key; the
 * camelCase getters `runningMean`, `runningVar` and `numBatchesTracked` read the same tensors.
 */
abstract class BatchNorm extends Module {
  readonly weight: Parameter | null;
  readonly bias: Parameter | null;
  declare readonly running_mean: Tensor | null;
  declare readonly running_var: Tensor | null;
  declare readonly num_batches_tracked: Tensor | null;
  readonly eps: number;
  readonly momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;

  constructor(
    readonly numFeatures: number,
    options: BatchNormLayerOptions = {},
  ) {
    super();
    T.checkOptions(new.target.name, options);
    const dtype = options.dtype ?? 'float32';
    this.eps = options.eps ?? 1e-5;
    this.momentum = options.momentum === undefined ? 0.1 : options.momentum;
    this.affine = options.affine ?? true;
    this.trackRunningStats = options.trackRunningStats ?? true;
    if (!Number.isInteger(numFeatures) || numFeatures <= 0) {
      throw new T.ValueError(
        new.target.name,
        `numFeatures must be a positive integer, got ${T.describe(numFeatures)}`,
      );
    }
    this.weight = this.affine ? filled([numFeatures], 1, dtype) : null;
    this.bias = this.affine ? filled([numFeatures], 0, dtype) : null;
    const tracked = this.trackRunningStats;
    this.registerBuffer('running_mean', tracked ? new Tensor(T.zeros([numFeatures], { dtype })) : null);
    this.registerBuffer('running_var', tracked ? new Tensor(T.ones([numFeatures], { dtype })) : null);
    this.registerBuffer('num_batches_tracked', tracked ? new Tensor(T.zeros([], { dtype: 'int32' })) : null);
  }

  get runningMean(): Tensor | null {
    return this.running_mean;
  }

  get runningVar(): Tensor | null {
    return this.running_var;
  }

  get numBatchesTracked(): Tensor | null {
    return this.num_batches_tracked;
  }

  /** The input ranks this layer accepts (e.g. 4 for BatchNorm2d). */
  protected abstract readonly ranks: readonly number[];

  /** Resets the running mean to 0, the variance to 1 and the batch count to 0. */
  resetRunningStats(): void {
    this.running_mean?.assign(T.zerosLike(this.running_mean.peekValue()));
    this.running_var?.assign(T.onesLike(this.running_var.peekValue()));
    this.num_batches_tracked?.assign(T.zeros([], { dtype: 'int32' }));
  }

  forward(x: Tensor): Tensor {
    const name = this.constructor.name;
    checkTensor(name, 'the input', x);
    if (!this.ranks.includes(x.ndim)) {
      const expected = this.ranks.map((r) => `${r}-D`).join(' or ');
      throw new T.ShapeError(name, `expected a ${expected} input, got [${x.shape.join(',')}]`);
    }
    if (x.shape[1] !== this.numFeatures) {
      throw new T.ShapeError(
        name,
        `expected ${this.numFeatures} channels on axis 1, got input [${x.shape.join(',')}]`,
      );
    }
    let momentum: number | T.NDArray = this.momentum ?? 0;
    const counter = this.num_batches_tracked;
    if (this.training && counter !== null) {
      inLibrary(() => counter.assign(T.add(counter.peekValue(), 1)));
      // A traced counter (under jit) has no value yet: the momentum stays an array.
      if (this.momentum === null && T.isTraced(counter.peekValue()))
        momentum = T.reciprocal(T.cast(counter.peekValue(), x.dtype));
      else if (this.momentum === null) momentum = 1 / Number(counter.item());
    }
    return batchNorm(x, {
      runningMean: this.running_mean ?? undefined,
      runningVar: this.running_var ?? undefined,
      weight: this.weight ?? undefined,
      bias: this.bias ?? undefined,
      eps: this.eps,
      momentum,
      // Without running statistics, eval mode normalizes with the batch's own, as PyTorch.
      training: this.training || this.running_mean === null,
    });
  }

  override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}, affine=${this.affine}, trackRunningStats=${this.trackRunningStats}`;
  }
}

/** PyTorch's `nn.BatchNorm1d` over `[N, C]` or `[N, C, L]`. */
export class BatchNorm1d extends BatchNorm {
  protected readonly ranks = [2, 3];
}

/** PyTorch's `nn.BatchNorm2d` over `[N, C, H, W]`. */
export class BatchNorm2d extends BatchNorm {
  protected readonly ranks = [4];
}

/** PyTorch's `nn.BatchNorm3d` over `[N, C, D, H, W]`. */
export class BatchNorm3d extends BatchNorm {
  protected readonly ranks = [5];
}

/** Options of `LayerNorm`. */
export interface LayerNormLayerOptions extends NormLayerOptions {
  /** Learn `weight` (and `bias`) of shape normalizedShape (default true). */
  readonly elementwiseAffine?: boolean;
  /** With elementwiseAffine, also learn the shift `bias` (default true). */
  readonly bias?: boolean;
}

/** PyTorch's `nn.LayerNorm`: normalizes over the trailing `normalizedShape` dims of its input. */
export class LayerNorm extends Module {
  /** The trailing dims normalized over. */
  readonly normalizedShape: readonly number[];
  /** The scale γ of shape normalizedShape (ones at first), or null without elementwiseAffine. */
  readonly weight: Parameter | null;
  /** The shift β of shape normalizedShape (zeros at first), or null. */
  readonly bias: Parameter | null;
  /** Added to the variance. */
  readonly eps: number;
  /** Whether `weight` (and `bias`) are learned. */
  readonly elementwiseAffine: boolean;

  constructor(normalizedShape: number | readonly number[], options: LayerNormLayerOptions = {}) {
    super();
    T.checkOptions('LayerNorm', options);
    const dtype = options.dtype ?? 'float32';
    this.normalizedShape = normalizedDims('LayerNorm', normalizedShape);
    this.eps = options.eps ?? 1e-5;
    this.elementwiseAffine = options.elementwiseAffine ?? true;
    this.weight = this.elementwiseAffine ? filled(this.normalizedShape, 1, dtype) : null;
    const bias = this.elementwiseAffine && (options.bias ?? true);
    this.bias = bias ? filled(this.normalizedShape, 0, dtype) : null;
  }

  forward(x: Tensor): Tensor {
    return layerNorm(x, this.normalizedShape, {
      weight: this.weight ?? undefined,
      bias: this.bias ?? undefined,
      eps: this.eps,
    });
  }

  override extraRepr(): string {
    return `${shapeText(this.normalizedShape)}, eps=${this.eps}, elementwiseAffine=${this.elementwiseAffine}`;
  }
}

/** Options of `RMSNorm`. */
export interface RMSNormOptions {
  /** Parameter dtype (float32 by default). */
  readonly dtype?: 'float32' | 'float64';
  /** Added to the mean square; `null` (default) uses the input dtype's machine epsilon, as PyTorch. */
  readonly eps?: number | null;
  /** Learn a scale `weight` of shape normalizedShape (default true). */
  readonly elementwiseAffine?: boolean;
}

/** The gap between 1 and the next float (`torch.finfo(dtype).eps`). */
const machineEpsilon = (dtype: T.DType) => (dtype === 'float64' ? Number.EPSILON : 2 ** -23);

/**
 * PyTorch's `nn.RMSNorm`: x / √(mean(x²) + eps) · weight, the mean taken over the trailing
 * `normalizedShape` dims (no centering, no bias).
 */
export class RMSNorm extends Module {
  /** The trailing dims normalized over. */
  readonly normalizedShape: readonly number[];
  /** The scale of shape normalizedShape (ones at first), or null without elementwiseAffine. */
  readonly weight: Parameter | null;
  /** Added to the mean square; null for the input dtype's machine epsilon. */
  readonly eps: number | null;
  /** Whether `weight` is learned. */
  readonly elementwiseAffine: boolean;

  constructor(normalizedShape: number | readonly number[], options: RMSNormOptions = {}) {
    super();
    T.checkOptions('RMSNorm', options);
    this.normalizedShape = normalizedDims('RMSNorm', normalizedShape);
    this.eps = options.eps ?? null;
    this.elementwiseAffine = options.elementwiseAffine ?? true;
    this.weight = this.elementwiseAffine ? filled(this.normalizedShape, 1, options.dtype ?? 'float32') : null;
  }

  forward(x: Tensor): Tensor {
    checkTensor('RMSNorm', 'the input', x);
    const dims = this.normalizedShape;
    const lead = x.ndim - dims.length;
    if (lead < 0 || dims.some((d, i) => x.shape[lead + i] !== d)) {
      throw new T.ShapeError(
        'RMSNorm',
        `input [${x.shape.join(',')}] does not end with normalizedShape [${dims.join(',')}]`,
      );
    }
    if (!T.isFloat(x.dtype)) throw new T.DTypeError('RMSNorm', `expected a float input, got ${x.dtype}`);
    const axes = dims.map((_, i) => lead + i);
    return inLibrary(() => {
      const meanSquare = mean(mul(x, x), { axis: axes, keepdims: true });
      const normalized = mul(x, rsqrt(add(meanSquare, this.eps ?? machineEpsilon(x.dtype))));
      return this.weight ? mul(normalized, this.weight) : normalized;
    });
  }

  override extraRepr(): string {
    return `${shapeText(this.normalizedShape)}, eps=${this.eps}, elementwiseAffine=${this.elementwiseAffine}`;
  }
}

/** Options of `GroupNorm`. */
export interface GroupNormLayerOptions extends NormLayerOptions {
  /** Learn a per-channel `weight` and `bias` (default true). */
  readonly affine?: boolean;
}

/** PyTorch's `nn.GroupNorm`: normalizes each group of numChannels/numGroups channels of `[N, C, …]`. */
export class GroupNorm extends Module {
  /** The per-channel scale [numChannels] (ones at first), or null without affine. */
  readonly weight: Parameter | null;
  /** The per-channel shift [numChannels] (zeros at first), or null without affine. */
  readonly bias: Parameter | null;
  /** Added to the variance. */
  readonly eps: number;
  /** Whether `weight` and `bias` are learned. */
  readonly affine: boolean;

  constructor(
    /** The number of channel groups; divides numChannels. */
    readonly numGroups: number,
    /** C, the size of the input's axis 1. */
    readonly numChannels: number,
    options: GroupNormLayerOptions = {},
  ) {
    super();
    T.checkOptions('GroupNorm', options);
    if (
      !Number.isInteger(numGroups) ||
      numGroups <= 0 ||
      !Number.isInteger(numChannels) ||
      numChannels % numGroups !== 0
    ) {
      throw new T.ValueError(
        'GroupNorm',
        `numChannels (${T.describe(numChannels)}) must be divisible by numGroups (${T.describe(numGroups)})`,
      );
    }
    const dtype = options.dtype ?? 'float32';
    this.eps = options.eps ?? 1e-5;
    this.affine = options.affine ?? true;
    this.weight = this.affine ? filled([numChannels], 1, dtype) : null;
    this.bias = this.affine ? filled([numChannels], 0, dtype) : null;
  }

  forward(x: Tensor): Tensor {
    checkTensor('GroupNorm', 'the input', x);
    if (x.ndim < 2 || x.shape[1] !== this.numChannels) {
      throw new T.ShapeError(
        'GroupNorm',
        `expected an [N, ${this.numChannels}, …] input, got [${x.shape.join(',')}]`,
      );
    }
    return groupNorm(x, this.numGroups, {
      weight: this.weight ?? undefined,
      bias: this.bias ?? undefined,
      eps: this.eps,
    });
  }

  override extraRepr(): string {
    return `${this.numGroups}, ${this.numChannels}, eps=${this.eps}, affine=${this.affine}`;
  }
}

markBuiltIn(BatchNorm1d, BatchNorm2d, BatchNorm3d, LayerNorm, RMSNorm, GroupNorm);
