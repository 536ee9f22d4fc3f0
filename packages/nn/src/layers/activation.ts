import {
  elu,
  type GeluOptions,
  gelu,
  type HardtanhOptions,
  hardtanh,
  type LeakyReluOptions,
  leakyRelu,
  logSigmoid,
  logSoftmax,
  relu,
  relu6,
  type SoftplusOptions,
  selu,
  sigmoid,
  silu,
  softmax,
  softplus,
  type Tensor,
  tanh,
} from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';
import { Module, markBuiltIn } from '../module.js';

// Activations as modules (PyTorch's nn.ReLU, nn.GELU…), each over its functional form and
// taking the same options object.

export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}

/** min(max(x, 0), 6). */
export class ReLU6 extends Module {
  forward(x: Tensor): Tensor {
    return relu6(x);
  }
}

/** x for x > 0, else negativeSlope·x (default 0.01). */
export class LeakyReLU extends Module {
  /** The slope for x ≤ 0. */
  readonly negativeSlope: number;

  constructor(options: LeakyReluOptions = {}) {
    super();
    T.checkOptions('LeakyReLU', options);
    this.negativeSlope = options.negativeSlope ?? 0.01;
  }

  forward(x: Tensor): Tensor {
    return leakyRelu(x, { negativeSlope: this.negativeSlope });
  }

  override extraRepr(): string {
    return `negativeSlope=${this.negativeSlope}`;
  }
}

/** x for x > 0, else α(eˣ − 1) (default α = 1). */
export class ELU extends Module {
  /** The value ELU approaches for large negative x is −alpha. */
  readonly alpha: number;

  constructor(options: { readonly alpha?: number } = {}) {
    super();
    T.checkOptions('ELU', options);
    this.alpha = options.alpha ?? 1;
  }

  forward(x: Tensor): Tensor {
    return elu(x, { alpha: this.alpha });
  }

  override extraRepr(): string {
    return `alpha=${this.alpha}`;
  }
}

/** The self-normalizing scale·elu(x, α). */
export class SELU extends Module {
  forward(x: Tensor): Tensor {
    return selu(x);
  }
}

/** x·Φ(x), exact (approximate 'none', the default) or with the tanh approximation. */
export class GELU extends Module {
  /** `'none'` for the exact erf form, `'tanh'` for the approximation. */
  readonly approximate: 'none' | 'tanh';

  constructor(options: GeluOptions = {}) {
    super();
    T.checkOptions('GELU', options);
    this.approximate = options.approximate ?? 'none';
  }

  forward(x: Tensor): Tensor {
    return gelu(x, { approximate: this.approximate });
  }

  override extraRepr(): string {
    return `approximate='${this.approximate}'`;
  }
}

/** x·σ(x), also called swish. */
export class SiLU extends Module {
  forward(x: Tensor): Tensor {
    return silu(x);
  }
}

export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return sigmoid(x);
  }
}

/** log σ(x), finite for any x. */
export class LogSigmoid extends Module {
  forward(x: Tensor): Tensor {
    return logSigmoid(x);
  }
}

export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return tanh(x);
  }
}

/** Clamps into [minVal, maxVal] (default [−1, 1]). */
export class Hardtanh extends Module {
  /** The lower bound. */
  readonly minVal: number;
  /** The upper bound. */
  readonly maxVal: number;

  constructor(options: HardtanhOptions = {}) {
    super();
    T.checkOptions('Hardtanh', options);
    this.minVal = options.minVal ?? -1;
    this.maxVal = options.maxVal ?? 1;
  }

  forward(x: Tensor): Tensor {
    return hardtanh(x, { minVal: this.minVal, maxVal: this.maxVal });
  }

  override extraRepr(): string {
    return `minVal=${this.minVal}, maxVal=${this.maxVal}`;
  }
}

/** log(1 + e^{βx})/β, linear where βx > threshold (defaults β = 1, threshold 20). */
export class Softplus extends Module {
  /** The sharpness β of log(1 + e^(βx)) / β. */
  readonly beta: number;
  /** Above β·x > threshold the layer returns x (linear), for numerical stability. */
  readonly threshold: number;

  constructor(options: SoftplusOptions = {}) {
    super();
    T.checkOptions('Softplus', options);
    this.beta = options.beta ?? 1;
    this.threshold = options.threshold ?? 20;
  }

  forward(x: Tensor): Tensor {
    return softplus(x, { beta: this.beta, threshold: this.threshold });
  }

  override extraRepr(): string {
    return `beta=${this.beta}, threshold=${this.threshold}`;
  }
}

/** softmax along `dim` (default −1, the last axis). */
export class Softmax extends Module {
  /** @param dim The axis the softmax normalizes over (default −1, the last). */
  constructor(readonly dim = -1) {
    super();
  }

  forward(x: Tensor): Tensor {
    return softmax(x, this.dim);
  }

  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}

/** log softmax along `dim` (default −1). */
export class LogSoftmax extends Module {
  /** @param dim The axis the log-softmax normalizes over (default −1, the last). */
  constructor(readonly dim = -1) {
    super();
  }

  forward(x: Tensor): Tensor {
    return logSoftmax(x, this.dim);
  }

  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}

markBuiltIn(
  ReLU,
  ReLU6,
  LeakyReLU,
  ELU,
  SELU,
  GELU,
  SiLU,
  Sigmoid,
  LogSigmoid,
  Tanh,
  Hardtanh,
  Softplus,
  Softmax,
  LogSoftmax,
);
