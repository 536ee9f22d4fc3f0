import * as T from '@tsgrad/tensor';
import { chain, type GradientTransformation, identity, type Schedule } from './transform.js';
import { scaleByAdam, scaleByAdamax, scaleByNadam } from './transforms/adam.js';
import { addDecayedWeights, scale, scaleByLearningRate } from './transforms/basic.js';
import { scaleByLion } from './transforms/lion.js';
import { traceMomentum } from './transforms/momentum.js';
import { scaleByAdadelta, scaleByAdagrad, scaleByRmsprop } from './transforms/rms.js';
import * as V from './validate.js';

// The ready-made optimizers as gradient transformations, each a chain of building blocks that
// follows the update rule of the torch.optim class of the same name. The object API
// (optimizers.ts) builds on these same functions, so both give bit-identical trajectories.

/** The state of a ready-made optimizer: the tuple of its building blocks' states. */
export type OptimizerState = readonly unknown[];

/** A fixed learning rate or a schedule of the step (functional API only). */
export type LearningRate = number | Schedule;

/** An optimizer's hyper-parameters for the functional API: any subset, lr possibly a schedule. */
export type FunctionalOptions<O extends { lr: number }> = Partial<Omit<O, 'lr'>> & {
  readonly lr?: LearningRate;
};

/** `defaults` overridden by the options that are not undefined (arrays are copied). */
export function withDefaults<O extends object>(defaults: O, options: Partial<O>): O {
  T.checkRecord('withDefaults', 'defaults', defaults);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries({ ...defaults, ...options })) {
    const chosen = value === undefined ? (defaults as Record<string, unknown>)[key] : value;
    out[key] = Array.isArray(chosen) ? [...chosen] : chosen;
  }
  return out as O;
}

/** The hyper-parameters of a functional optimizer: the defaults overridden by `options`. */
type Resolved<O extends { lr: number }> = Omit<O, 'lr'> & { readonly lr: LearningRate };

/**
 * The options of optimizer `name` checked against its rules (unknown options, wrong types and
 * illegal values throw a ValueError naming the optimizer and option), then merged with the
 * defaults.
 */
function resolve<O extends { lr: number }>(
  name: string,
  defaults: Readonly<O>,
  rules: V.Rules<O>,
  options: FunctionalOptions<O>,
): Resolved<O> {
  V.checkOptions(name, { ...rules, lr: V.learningRate }, options);
  return withDefaults(defaults as unknown as Resolved<O>, options as Partial<Resolved<O>>);
}

/** The rules shared by every optimizer: lr (a number; the functional API also takes a schedule), maximize. */
const common = { lr: V.nonNegative, maximize: V.boolean } as const;

/** With `maximize`, gradients are negated first (torch negates them before anything else). */
const ascendIf = (maximize: boolean) => (maximize ? scale(-1) : identity());

/** The hyper-parameters of SGD (torch.optim.SGD's, camel-cased). */
export interface SGDOptions {
  /** The learning rate. */
  lr: number;
  /** The momentum factor (0: none). */
  momentum: number;
  /** Dampening of the momentum: the gradient enters the buffer scaled by 1 − dampening. */
  dampening: number;
  /** L2 penalty added to the gradient (AdamW: decoupled decay, scaled by lr). */
  weightDecay: number;
  /** Use Nesterov momentum. */
  nesterov: boolean;
  /** Maximize the objective instead of minimizing it. */
  maximize: boolean;
}

/** The defaults of SGD, PyTorch's. */
export const SGD_DEFAULTS: Readonly<SGDOptions> = {
  lr: 1e-3,
  momentum: 0,
  dampening: 0,
  weightDecay: 0,
  nesterov: false,
  maximize: false,
};

const SGD_RULES: V.Rules<SGDOptions> = {
  ...common,
  momentum: V.nonNegative,
  dampening: V.nonNegative,
  weightDecay: V.nonNegative,
  nesterov: V.boolean,
};

/**
 * torch.optim.SGD: g ← g + λθ; with momentum μ, b ← μb + (1−τ)g (b ← g at first) and
 * g ← g + μb (Nesterov) or b; θ ← θ − γg.
 */
export function sgd(options: FunctionalOptions<SGDOptions> = {}): GradientTransformation<OptimizerState> {
  const o = resolve('SGD', SGD_DEFAULTS, SGD_RULES, options);
  V.check(
    !o.nesterov || (o.momentum > 0 && o.dampening === 0),
    'SGD',
    `Nesterov momentum requires a momentum > 0 and zero dampening (got momentum ${o.momentum}, dampening ${o.dampening})`,
  );
  return chain(
    ascendIf(o.maximize),
    addDecayedWeights(o.weightDecay),
    traceMomentum({ momentum: o.momentum, dampening: o.dampening, nesterov: o.nesterov }),
    scaleByLearningRate(o.lr),
  );
}

/** The pair (β₁, β₂) of decay rates of the Adam family. */
export type Betas = readonly [number, number];

/** The hyper-parameters of Adam (torch.optim.Adam's, camel-cased). */
export interface AdamOptions {
  /** The learning rate. */
  lr: number;
  /** The decay rates (β₁, β₂) of the first and second moment averages. */
  betas: Betas;
  /** Added to the denominator for numerical stability. */
  eps: number;
  /** L2 penalty added to the gradient (AdamW: decoupled decay, scaled by lr). */
  weightDecay: number;
  /** Use the maximum of past second moments (AMSGrad). */
  amsgrad: boolean;
  /** Maximize the objective instead of minimizing it. */
  maximize: boolean;
}

/** The defaults of Adam, PyTorch's. */
export const ADAM_DEFAULTS: Readonly<AdamOptions> = {
  lr: 1e-3,
  betas: [0.9, 0.999],
  eps: 1e-8,
  weightDecay: 0,
  amsgrad: false,
  maximize: false,
};

const ADAM_RULES: V.Rules<AdamOptions> = {
  ...common,
  betas: V.betas,
  eps: V.nonNegative,
  weightDecay: V.nonNegative,
  amsgrad: V.boolean,
};

/**
 * torch.optim.Adam: g ← g + λθ (L2, coupled); m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²;
 * θ ← θ − γ·(m/(1−β₁ᵗ)) / (√(v/(1−β₂ᵗ)) + ε) (AMSGrad: the running maximum of v).
 */
export function adam(options: FunctionalOptions<AdamOptions> = {}): GradientTransformation<OptimizerState> {
  const o = resolve('Adam', ADAM_DEFAULTS, ADAM_RULES, options);
  return chain(
    ascendIf(o.maximize),
    addDecayedWeights(o.weightDecay),
    scaleByAdam({ beta1: o.betas[0], beta2: o.betas[1], eps: o.eps, amsgrad: o.amsgrad }),
    scaleByLearningRate(o.lr),
  );
}

/** The hyper-parameters of AdamW: Adam's, with the weight decay decoupled. */
export type AdamWOptions = AdamOptions;

/** The defaults of AdamW (Adam's, with weightDecay 1e-2), PyTorch's. */
export const ADAMW_DEFAULTS: Readonly<AdamWOptions> = { ...ADAM_DEFAULTS, weightDecay: 1e-2 };

const ADAMW_RULES = ADAM_RULES;

/** torch.optim.AdamW: θ ← θ − γλθ (decoupled weight decay), then Adam's step without L2. */
export function adamw(options: FunctionalOptions<AdamWOptions> = {}): GradientTransformation<OptimizerState> {
  const o = resolve('AdamW', ADAMW_DEFAULTS, ADAMW_RULES, options);
  return chain(
    ascendIf(o.maximize),
    scaleByAdam({ beta1: o.betas[0], beta2: o.betas[1], eps: o.eps, amsgrad: o.amsgrad }),
    addDecayedWeights(o.weightDecay),
    scaleByLearningRate(o.lr),
  );
}

/** The hyper-parameters of Adamax (torch.optim.Adamax's, camel-cased). */
export interface AdamaxOptions {
  /** The learning rate. */
  lr: number;
  /** The decay rates of the first moment and of the infinity norm. */
  betas: Betas;
  /** Added to the denominator for numerical stability. */
  eps: number;
  /** L2 penalty added to the gradient (AdamW: decoupled decay, scaled by lr). */
  weightDecay: number;
  /** Maximize the objective instead of minimizing it. */
  maximize: boolean;
}

/** The defaults of Adamax, PyTorch's. */
export const ADAMAX_DEFAULTS: Readonly<AdamaxOptions> = {
  lr: 2e-3,
  betas: [0.9, 0.999],
  eps: 1e-8,
  weightDecay: 0,
  maximize: false,
};

const ADAMAX_RULES: V.Rules<AdamaxOptions> = {
  ...common,
  betas: V.betas,
  eps: V.nonNegative,
  weightDecay: V.nonNegative,
};

/** torch.optim.Adamax: g ← g + λθ; m ← β₁m + (1−β₁)g; u ← max(β₂u, |g| + ε); θ ← θ − γm/((1−β₁ᵗ)u). */
export function adamax(
  options: FunctionalOptions<AdamaxOptions> = {},
): GradientTransformation<OptimizerState> {
  const o = resolve('Adamax', ADAMAX_DEFAULTS, ADAMAX_RULES, options);
  return chain(
    ascendIf(o.maximize),
    addDecayedWeights(o.weightDecay),
    scaleByAdamax({ beta1: o.betas[0], beta2: o.betas[1], eps: o.eps }),
    scaleByLearningRate(o.lr),
  );
}

/** The hyper-parameters of NAdam (torch.optim.NAdam's, camel-cased). */
export interface NAdamOptions {
  /** The learning rate. */
  lr: number;
  /** The decay rates (β₁, β₂) of the first and second moment averages. */
  betas: Betas;
  /** Added to the denominator for numerical stability. */
  eps: number;
  /** L2 penalty added to the gradient (AdamW: decoupled decay, scaled by lr). */
  weightDecay: number;
  /** ψ, the momentum decay of NAdam's schedule μₜ = β₁(1 − ½·0.96^(tψ)). */
  momentumDecay: number;
  /** Apply the weight decay as AdamW does (decoupled) instead of adding it to the gradient. */
  decoupledWeightDecay: boolean;
  /** Maximize the objective instead of minimizing it. */
  maximize: boolean;
}

/** The defaults of NAdam, PyTorch's. */
export const NADAM_DEFAULTS: Readonly<NAdamOptions> = {
  lr: 2e-3,
  betas: [0.9, 0.999],
  eps: 1e-8,
  weightDecay: 0,
  momentumDecay: 4e-3,
  decoupledWeightDecay: false,
  maximize: false,
};

const NADAM_RULES: V.Rules<NAdamOptions> = {
  ...common,
  betas: V.betas,
  eps: V.nonNegative,
  weightDecay: V.nonNegative,
  momentumDecay: V.nonNegative,
  decoupledWeightDecay: V.boolean,
};

/**
 * torch.optim.NAdam: Adam with Nesterov momentum and the momentum schedule
 * μₜ = β₁(1 − ½·0.96^(tψ)) (see `scaleByNadam`); weight decay as L2 or, with
 * `decoupledWeightDecay`, as θ ← θ − γλθ.
 */
export function nadam(options: FunctionalOptions<NAdamOptions> = {}): GradientTransformation<OptimizerState> {
  const o = resolve('NAdam', NADAM_DEFAULTS, NADAM_RULES, options);
  return chain(
    ascendIf(o.maximize),
    o.decoupledWeightDecay ? identity() : addDecayedWeights(o.weightDecay),
    scaleByNadam({ beta1: o.betas[0], beta2: o.betas[1], eps: o.eps, momentumDecay: o.momentumDecay }),
    o.decoupledWeightDecay ? addDecayedWeights(o.weightDecay) : identity(),
    scaleByLearningRate(o.lr),
  );
}

/** The hyper-parameters of RMSprop (torch.optim.RMSprop's, camel-cased). */
export interface RMSpropOptions {
  /** The learning rate. */
  lr: number;
  /** The smoothing constant of the squared-gradient average. */
  alpha: number;
  /** Added to the denominator for numerical stability. */
  eps: number;
  /** L2 penalty added to the gradient (AdamW: decoupled decay, scaled by lr). */
  weightDecay: number;
  /** The momentum factor (0: none). */
  momentum: number;
  /** Normalize by the estimated variance of the gradient instead of its second moment. */
  centered: boolean;
  /** Maximize the objective instead of minimizing it. */
  maximize: boolean;
}

/** The defaults of RMSprop, PyTorch's. */
export const RMSPROP_DEFAULTS: Readonly<RMSpropOptions> = {
  lr: 1e-2,
  alpha: 0.99,
  eps: 1e-8,
  weightDecay: 0,
  momentum: 0,
  centered: false,
  maximize: false,
};

const RMSPROP_RULES: V.Rules<RMSpropOptions> = {
  ...common,
  alpha: V.unitInterval,
  eps: V.nonNegative,
  weightDecay: V.nonNegative,
  momentum: V.nonNegative,
  centered: V.boolean,
};

/**
 * torch.optim.RMSprop: g ← g + λθ; v ← αv + (1−α)g²; ṽ = v (or v − ḡ², centered);
 * with momentum b ← μb + g/(√ṽ + ε) and θ ← θ − γb, else θ ← θ − γg/(√ṽ + ε).
 */
export function rmsprop(
  options: FunctionalOptions<RMSpropOptions> = {},
): GradientTransformation<OptimizerState> {
  const o = resolve('RMSprop', RMSPROP_DEFAULTS, RMSPROP_RULES, options);
  return chain(
    ascendIf(o.maximize),
    addDecayedWeights(o.weightDecay),
    scaleByRmsprop({ alpha: o.alpha, eps: o.eps, centered: o.centered }),
    traceMomentum({ momentum: o.momentum }),
    scaleByLearningRate(o.lr),
  );
}

/** The hyper-parameters of Adagrad (torch.optim.Adagrad's, camel-cased). */
export interface AdagradOptions {
  /** The learning rate. */
  lr: number;
  /** The learning rate at step t is lr / (1 + (t − 1)·lrDecay). */
  lrDecay: number;
  /** L2 penalty added to the gradient (AdamW: decoupled decay, scaled by lr). */
  weightDecay: number;
  /** The starting value of the sum of squared gradients. */
  initialAccumulatorValue: number;
  /** Added to the denominator for numerical stability. */
  eps: number;
  /** Maximize the objective instead of minimizing it. */
  maximize: boolean;
}

/** The defaults of Adagrad, PyTorch's. */
export const ADAGRAD_DEFAULTS: Readonly<AdagradOptions> = {
  lr: 1e-2,
  lrDecay: 0,
  weightDecay: 0,
  initialAccumulatorValue: 0,
  eps: 1e-10,
  maximize: false,
};

const ADAGRAD_RULES: V.Rules<AdagradOptions> = {
  ...common,
  lrDecay: V.nonNegative,
  weightDecay: V.nonNegative,
  initialAccumulatorValue: V.nonNegative,
  eps: V.nonNegative,
};

/** torch.optim.Adagrad: g ← g + λθ; s ← s + g²; θ ← θ − γ/(1 + (t−1)η) · g/(√s + ε). */
export function adagrad(
  options: FunctionalOptions<AdagradOptions> = {},
): GradientTransformation<OptimizerState> {
  const o = resolve('Adagrad', ADAGRAD_DEFAULTS, ADAGRAD_RULES, options);
  return chain(
    ascendIf(o.maximize),
    addDecayedWeights(o.weightDecay),
    scaleByAdagrad({ lrDecay: o.lrDecay, eps: o.eps, initialAccumulatorValue: o.initialAccumulatorValue }),
    scaleByLearningRate(o.lr),
  );
}

/** The hyper-parameters of Adadelta (torch.optim.Adadelta's, camel-cased). */
export interface AdadeltaOptions {
  /** A factor on the computed step (1 in the paper). */
  lr: number;
  /** The decay rate of the running averages. */
  rho: number;
  /** Added to the denominator for numerical stability. */
  eps: number;
  /** L2 penalty added to the gradient (AdamW: decoupled decay, scaled by lr). */
  weightDecay: number;
  /** Maximize the objective instead of minimizing it. */
  maximize: boolean;
}

/** The defaults of Adadelta, PyTorch's. */
export const ADADELTA_DEFAULTS: Readonly<AdadeltaOptions> = {
  lr: 1,
  rho: 0.9,
  eps: 1e-6,
  weightDecay: 0,
  maximize: false,
};

const ADADELTA_RULES: V.Rules<AdadeltaOptions> = {
  ...common,
  rho: V.unitInterval,
  eps: V.nonNegative,
  weightDecay: V.nonNegative,
};

/**
 * torch.optim.Adadelta: g ← g + λθ; v ← ρv + (1−ρ)g²; Δ = √(u+ε)/√(v+ε)·g;
 * u ← ρu + (1−ρ)Δ²; θ ← θ − γΔ.
 */
export function adadelta(
  options: FunctionalOptions<AdadeltaOptions> = {},
): GradientTransformation<OptimizerState> {
  const o = resolve('Adadelta', ADADELTA_DEFAULTS, ADADELTA_RULES, options);
  return chain(
    ascendIf(o.maximize),
    addDecayedWeights(o.weightDecay),
    scaleByAdadelta({ rho: o.rho, eps: o.eps }),
    scaleByLearningRate(o.lr),
  );
}

/** The hyper-parameters of Lion (Chen et al. 2023). */
export interface LionOptions {
  /** The learning rate. */
  lr: number;
  /** β₁ interpolates the update's sign direction, β₂ decays the momentum. */
  betas: Betas;
  /** Decoupled weight decay, scaled by lr. */
  weightDecay: number;
  /** Maximize the objective instead of minimizing it. */
  maximize: boolean;
}

/** The defaults of Lion, PyTorch's. */
export const LION_DEFAULTS: Readonly<LionOptions> = {
  lr: 1e-4,
  betas: [0.9, 0.99],
  weightDecay: 0,
  maximize: false,
};

const LION_RULES: V.Rules<LionOptions> = { ...common, betas: V.betas, weightDecay: V.nonNegative };

/**
 * Lion (Chen et al. 2023; not in torch.optim): c = β₁m + (1−β₁)g; θ ← θ − γ(sign(c) + λθ)
 * (decoupled weight decay); m ← β₂m + (1−β₂)g.
 */
export function lion(options: FunctionalOptions<LionOptions> = {}): GradientTransformation<OptimizerState> {
  const o = resolve('Lion', LION_DEFAULTS, LION_RULES, options);
  return chain(
    ascendIf(o.maximize),
    scaleByLion({ beta1: o.betas[0], beta2: o.betas[1] }),
    addDecayedWeights(o.weightDecay),
    scaleByLearningRate(o.lr),
  );
}
