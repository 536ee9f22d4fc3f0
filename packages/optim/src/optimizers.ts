import * as F from './functional.js';
import { Optimizer, type OptimizerParams } from './optimizer.js';

// The PyTorch-style optimizer classes: each is the functional optimizer of the same name
// (functional.ts) driven by Optimizer, so there is one implementation of every update rule.

/** torch.optim.SGD (see `sgd` for the update rule). */
export class SGD extends Optimizer<F.SGDOptions> {
  constructor(params: OptimizerParams<F.SGDOptions>, options: Partial<F.SGDOptions> = {}) {
    super('SGD', params, F.withDefaults(F.SGD_DEFAULTS, options));
  }

  protected override transformation(group: Readonly<F.SGDOptions>) {
    return F.sgd(group);
  }
}

/**
 * torch.optim.Adam (see `adam` for the update rule).
 *
 * @example
 * ```ts
 * const optimizer = new Adam(model.parameters(), { lr: 1e-3 });
 * for (let step = 0; step < 100; step++) {
 *   optimizer.zeroGrad();
 *   crossEntropy(model.forward(images), labels).backward();
 *   optimizer.step();
 * }
 * ```
 */
export class Adam extends Optimizer<F.AdamOptions> {
  constructor(params: OptimizerParams<F.AdamOptions>, options: Partial<F.AdamOptions> = {}) {
    super('Adam', params, F.withDefaults(F.ADAM_DEFAULTS, options));
  }

  protected override transformation(group: Readonly<F.AdamOptions>) {
    return F.adam(group);
  }
}

/** torch.optim.AdamW (see `adamw` for the update rule). */
export class AdamW extends Optimizer<F.AdamWOptions> {
  constructor(params: OptimizerParams<F.AdamWOptions>, options: Partial<F.AdamWOptions> = {}) {
    super('AdamW', params, F.withDefaults(F.ADAMW_DEFAULTS, options));
  }

  protected override transformation(group: Readonly<F.AdamWOptions>) {
    return F.adamw(group);
  }
}

/** torch.optim.Adamax (see `adamax` for the update rule). */
export class Adamax extends Optimizer<F.AdamaxOptions> {
  constructor(params: OptimizerParams<F.AdamaxOptions>, options: Partial<F.AdamaxOptions> = {}) {
    super('Adamax', params, F.withDefaults(F.ADAMAX_DEFAULTS, options));
  }

  protected override transformation(group: Readonly<F.AdamaxOptions>) {
    return F.adamax(group);
  }
}

/** torch.optim.NAdam (see `nadam` for the update rule). */
export class NAdam extends Optimizer<F.NAdamOptions> {
  constructor(params: OptimizerParams<F.NAdamOptions>, options: Partial<F.NAdamOptions> = {}) {
    super('NAdam', params, F.withDefaults(F.NADAM_DEFAULTS, options));
  }

  protected override transformation(group: Readonly<F.NAdamOptions>) {
    return F.nadam(group);
  }
}

/** torch.optim.RMSprop (see `rmsprop` for the update rule). */
export class RMSprop extends Optimizer<F.RMSpropOptions> {
  constructor(params: OptimizerParams<F.RMSpropOptions>, options: Partial<F.RMSpropOptions> = {}) {
    super('RMSprop', params, F.withDefaults(F.RMSPROP_DEFAULTS, options));
  }

  protected override transformation(group: Readonly<F.RMSpropOptions>) {
    return F.rmsprop(group);
  }
}

/** torch.optim.Adagrad (see `adagrad` for the update rule). */
export class Adagrad extends Optimizer<F.AdagradOptions> {
  constructor(params: OptimizerParams<F.AdagradOptions>, options: Partial<F.AdagradOptions> = {}) {
    super('Adagrad', params, F.withDefaults(F.ADAGRAD_DEFAULTS, options));
  }

  protected override transformation(group: Readonly<F.AdagradOptions>) {
    return F.adagrad(group);
  }
}

/** torch.optim.Adadelta (see `adadelta` for the update rule). */
export class Adadelta extends Optimizer<F.AdadeltaOptions> {
  constructor(params: OptimizerParams<F.AdadeltaOptions>, options: Partial<F.AdadeltaOptions> = {}) {
    super('Adadelta', params, F.withDefaults(F.ADADELTA_DEFAULTS, options));
  }

  protected override transformation(group: Readonly<F.AdadeltaOptions>) {
    return F.adadelta(group);
  }
}

/** Lion (Chen et al. 2023; see `lion` for the update rule). */
export class Lion extends Optimizer<F.LionOptions> {
  constructor(params: OptimizerParams<F.LionOptions>, options: Partial<F.LionOptions> = {}) {
    super('Lion', params, F.withDefaults(F.LION_DEFAULTS, options));
  }

  protected override transformation(group: Readonly<F.LionOptions>) {
    return F.lion(group);
  }
}
