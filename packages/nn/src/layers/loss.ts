import {
  binaryCrossEntropy,
  binaryCrossEntropyWithLogits,
  constant,
  crossEntropy,
  div,
  exp,
  huberLoss,
  inLibrary,
  l1Loss,
  log,
  mean,
  mseLoss,
  mul,
  nllLoss,
  type Reduction,
  smoothL1Loss,
  sub,
  sum,
  Tensor,
  type TensorLike,
  toTensor,
  where,
} from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';
import { Module, markBuiltIn } from '../module.js';
import { checkTensor } from '../validate.js';

// Losses as modules over the functional ones (PyTorch's nn.MSELoss, nn.CrossEntropyLoss…):
// `forward(input, target)`. Class weights and posWeight are buffers named as in PyTorch
// (`weight`, `pos_weight`), so they are saved with the model when given.

/** Options every loss layer takes. */
export interface LossModuleOptions {
  /** 'mean' (default), 'sum', or 'none' for per-element losses. */
  readonly reduction?: Reduction;
}

const asTensor = (value: Tensor | T.NDArray | undefined): Tensor | null =>
  value === undefined ? null : value instanceof Tensor ? value : new Tensor(value);

abstract class Loss extends Module {
  readonly reduction: Reduction;

  constructor(options: LossModuleOptions = {}) {
    super();
    T.checkOptions(new.target.name, options);
    this.reduction = options.reduction ?? 'mean';
    if (!['mean', 'sum', 'none'].includes(this.reduction)) {
      throw new T.ValueError(
        new.target.name,
        `reduction must be 'mean', 'sum' or 'none', got ${T.describe(this.reduction)}`,
      );
    }
  }

  override extraRepr(): string {
    return `reduction='${this.reduction}'`;
  }
}

/** Mean squared error (x − t)². */
export class MSELoss extends Loss {
  constructor(options: LossModuleOptions = {}) {
    super(options);
    T.checkOptions('MSELoss', options);
  }

  forward(input: Tensor, target: TensorLike): Tensor {
    return mseLoss(input, target, { reduction: this.reduction });
  }
}

/** Mean absolute error |x − t|. */
export class L1Loss extends Loss {
  constructor(options: LossModuleOptions = {}) {
    super(options);
    T.checkOptions('L1Loss', options);
  }

  forward(input: Tensor, target: TensorLike): Tensor {
    return l1Loss(input, target, { reduction: this.reduction });
  }
}

/** ½d²/beta for |d| < beta, else |d| − ½beta (default beta 1). */
export class SmoothL1Loss extends Loss {
  /** The threshold where the loss turns from quadratic to linear. */
  readonly beta: number;

  constructor(options: LossModuleOptions & { readonly beta?: number } = {}) {
    super(options);
    T.checkOptions('SmoothL1Loss', options);
    this.beta = options.beta ?? 1;
  }

  forward(input: Tensor, target: TensorLike): Tensor {
    return smoothL1Loss(input, target, { reduction: this.reduction, beta: this.beta });
  }

  /** `reduction` and `beta`, as the printed module shows them. */
  override extraRepr(): string {
    return `${super.extraRepr()}, beta=${this.beta}`;
  }
}

/** ½d² for |d| < delta, else delta·(|d| − ½delta) (default delta 1). */
export class HuberLoss extends Loss {
  /** The threshold where the loss turns from quadratic to linear. */
  readonly delta: number;

  constructor(options: LossModuleOptions & { readonly delta?: number } = {}) {
    super(options);
    T.checkOptions('HuberLoss', options);
    this.delta = options.delta ?? 1;
  }

  forward(input: Tensor, target: TensorLike): Tensor {
    return huberLoss(input, target, { reduction: this.reduction, delta: this.delta });
  }

  /** `reduction` and `delta`, as the printed module shows them. */
  override extraRepr(): string {
    return `${super.extraRepr()}, delta=${this.delta}`;
  }
}

/** Options of the class-index losses (`NLLLoss`, `CrossEntropyLoss`). */
export interface ClassLossOptions extends LossModuleOptions {
  /** A rescaling weight per class `[C]` (the `weight` buffer). */
  readonly weight?: Tensor | T.NDArray;
  /** Class-index targets equal to this are skipped, even by the mean (default −100). */
  readonly ignoreIndex?: number;
}

/** A loss with an optional per-class `weight` buffer (PyTorch's `_WeightedLoss`). */
abstract class WeightedLoss extends Loss {
  declare readonly weight: Tensor | null;

  constructor(options: LossModuleOptions & { readonly weight?: Tensor | T.NDArray }) {
    super(options);
    this.registerBuffer('weight', asTensor(options.weight));
  }
}

/**
 * Negative log-likelihood of int32 class indices (PyTorch's `nn.NLLLoss`): the input holds
 * log-probabilities with classes on axis 1 of `[N, C, d1, …]` (or a single `[C]` sample).
 */
export class NLLLoss extends WeightedLoss {
  /** Targets equal to this index are skipped, even by the mean. */
  readonly ignoreIndex: number;

  constructor(options: ClassLossOptions = {}) {
    super(options);
    T.checkOptions('NLLLoss', options);
    this.ignoreIndex = options.ignoreIndex ?? -100;
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return nllLoss(input, target, {
      reduction: this.reduction,
      ignoreIndex: this.ignoreIndex,
      weight: this.weight ?? undefined,
    });
  }
}

/**
 * Cross-entropy from logits (PyTorch's `nn.CrossEntropyLoss`): classes on axis 1 of
 * `[N, C, d1, …]`; the target is int32 class indices `[N, d1, …]` or float class
 * probabilities of the input's shape. Options: per-class `weight`, `ignoreIndex` (indices
 * only), `labelSmoothing` ε mixing the target with the uniform distribution.
 */
export class CrossEntropyLoss extends WeightedLoss {
  /** Targets equal to this index are skipped, even by the mean. */
  readonly ignoreIndex: number;
  /** ε: the target is mixed with the uniform distribution, (1 − ε)·target + ε/C. */
  readonly labelSmoothing: number;

  constructor(options: ClassLossOptions & { readonly labelSmoothing?: number } = {}) {
    super(options);
    T.checkOptions('CrossEntropyLoss', options);
    this.ignoreIndex = options.ignoreIndex ?? -100;
    this.labelSmoothing = options.labelSmoothing ?? 0;
    if (typeof this.labelSmoothing !== 'number' || !(this.labelSmoothing >= 0 && this.labelSmoothing <= 1)) {
      throw new T.ValueError(
        'CrossEntropyLoss',
        `labelSmoothing must lie in [0, 1], got ${T.describe(this.labelSmoothing)}`,
      );
    }
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return crossEntropy(input, target, {
      reduction: this.reduction,
      ignoreIndex: this.ignoreIndex,
      labelSmoothing: this.labelSmoothing,
      weight: this.weight ?? undefined,
    });
  }

  /** `reduction` and, when non-zero, `labelSmoothing`, as the printed module shows them. */
  override extraRepr(): string {
    return this.labelSmoothing === 0
      ? super.extraRepr()
      : `${super.extraRepr()}, labelSmoothing=${this.labelSmoothing}`;
  }
}

/** Binary cross-entropy on probabilities in [0, 1] (logs clamped at −100, as PyTorch). */
export class BCELoss extends WeightedLoss {
  constructor(options: LossModuleOptions & { readonly weight?: Tensor | T.NDArray } = {}) {
    super(options);
    T.checkOptions('BCELoss', options);
  }

  forward(input: Tensor, target: TensorLike): Tensor {
    return binaryCrossEntropy(input, target, { reduction: this.reduction, weight: this.weight ?? undefined });
  }
}

/** Options of `BCEWithLogitsLoss`. */
export interface BCEWithLogitsLossOptions extends LossModuleOptions {
  /** Rescales each element's loss (broadcast against the input). */
  readonly weight?: Tensor | T.NDArray;
  /** Weight of the positive term, broadcast along the last (class) axis (the `pos_weight` buffer). */
  readonly posWeight?: Tensor | T.NDArray;
}

/** Binary cross-entropy on logits, computed stably (PyTorch's `nn.BCEWithLogitsLoss`). */
export class BCEWithLogitsLoss extends WeightedLoss {
  /** The weight of the positive term (a buffer, saved under PyTorch's name), or null. */
  declare readonly pos_weight: Tensor | null;

  constructor(options: BCEWithLogitsLossOptions = {}) {
    super(options);
    T.checkOptions('BCEWithLogitsLoss', options);
    this.registerBuffer('pos_weight', asTensor(options.posWeight));
  }

  /** The `pos_weight` buffer, by its camel-case name. */
  get posWeight(): Tensor | null {
    return this.pos_weight;
  }

  forward(input: Tensor, target: TensorLike): Tensor {
    return binaryCrossEntropyWithLogits(input, target, {
      reduction: this.reduction,
      weight: this.weight ?? undefined,
      posWeight: this.pos_weight ?? undefined,
    });
  }
}

/** How `KLDivLoss` combines pointwise losses; `'batchmean'` divides the sum by the batch size. */
export type KLDivReduction = 'mean' | 'sum' | 'batchmean' | 'none';

/** Options of `KLDivLoss`. */
export interface KLDivLossOptions {
  /**
   * 'mean' (default, over every element, as PyTorch), 'batchmean' (the sum over the batch size
   * input.shape[0]: the true KL divergence per sample), 'sum' or 'none'.
   */
  readonly reduction?: KLDivReduction;
  /** The target is given as log-probabilities too (default false: probabilities). */
  readonly logTarget?: boolean;
}

/** t·log t with 0·log 0 = 0 (xlogy(t, t)); the log sees 1 where t = 0, so no NaN leaks into gradients. */
function selfEntropyTerm(t: Tensor): Tensor {
  const nonzero = constant(T.ne(t.peekValue(), 0));
  return where(nonzero, mul(t, log(where(nonzero, t, 1))), 0);
}

/**
 * PyTorch's `nn.KLDivLoss`: the input is log-probabilities log q and the target p (or log p
 * with `logTarget`); the pointwise loss is p·(log p − log q), with 0·log 0 = 0.
 */
export class KLDivLoss extends Module {
  /** How the pointwise losses are combined. */
  readonly reduction: KLDivReduction;
  /** Whether the target is given as log-probabilities. */
  readonly logTarget: boolean;

  constructor(options: KLDivLossOptions = {}) {
    super();
    T.checkOptions('KLDivLoss', options);
    this.reduction = options.reduction ?? 'mean';
    this.logTarget = options.logTarget ?? false;
    if (!['mean', 'sum', 'batchmean', 'none'].includes(this.reduction)) {
      throw new T.ValueError(
        'KLDivLoss',
        `reduction must be 'mean', 'sum', 'batchmean' or 'none', got ${T.describe(this.reduction)}`,
      );
    }
  }

  forward(input: Tensor, target: TensorLike): Tensor {
    checkTensor('KLDivLoss', 'input', input);
    if (!T.isFloat(input.dtype))
      throw new T.DTypeError('KLDivLoss', `input must be float, got ${input.dtype}`);
    return inLibrary(() => {
      const t = toTensor(target, input);
      if (t.ndim !== 0 && (t.ndim !== input.ndim || t.shape.some((d, i) => d !== input.shape[i]))) {
        throw new T.ShapeError(
          'KLDivLoss',
          `target shape [${t.shape.join(',')}] differs from input shape [${input.shape.join(',')}]`,
        );
      }
      const losses = this.logTarget ? mul(exp(t), sub(t, input)) : sub(selfEntropyTerm(t), mul(t, input));
      switch (this.reduction) {
        case 'none':
          return losses;
        case 'sum':
          return sum(losses);
        case 'batchmean':
          return input.ndim === 0 ? sum(losses) : div(sum(losses), input.shape[0]);
        default:
          return mean(losses);
      }
    });
  }

  override extraRepr(): string {
    return `reduction='${this.reduction}', logTarget=${this.logTarget}`;
  }
}

markBuiltIn(
  MSELoss,
  L1Loss,
  SmoothL1Loss,
  HuberLoss,
  NLLLoss,
  CrossEntropyLoss,
  BCELoss,
  BCEWithLogitsLoss,
  KLDivLoss,
);
