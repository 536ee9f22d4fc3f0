import { linear, type Tensor } from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';
import { nextKey, uniform } from '../init.js';
import { Module, markBuiltIn, Parameter } from '../module.js';
import { integerList } from '../validate.js';

/** Options every layer with parameters takes: their dtype and the key of their initial values. */
export interface LayerOptions {
  /** Parameter dtype (float32 by default). */
  readonly dtype?: 'float32' | 'float64';
  /** Key for the initial values; the default generator (`manualSeed`) otherwise. */
  readonly key?: T.random.PRNGKey;
}

/**
 * PyTorch's bound for Linear and Conv weights and biases: 1/√fanIn (kaiming_uniform with a=√5),
 * 0 when fanIn is 0 (a zero-feature layer: an empty weight and a zero bias, as torch does).
 */
export function fanInBound(fanIn: number): number {
  T.checkNumber('fanInBound', 'fanIn', fanIn);
  return fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
}

/** A parameter drawn from U(−bound, bound): PyTorch's default for Linear and Conv layers. */
export function uniformParameter(
  shape: readonly number[],
  bound: number,
  dtype: T.DType,
  key: T.random.PRNGKey,
): Parameter {
  const dims = integerList('uniformParameter', 'shape', shape);
  T.checkNumber('uniformParameter', 'bound', bound);
  const p = new Parameter(T.zeros(dims, { dtype }));
  return bound === 0 ? p : (uniform(p, -bound, bound, { key }) as Parameter);
}

/** y = x Wᵀ + b, with W of shape [outFeatures, inFeatures] (PyTorch's `nn.Linear`). */
export class Linear extends Module {
  /** W, [outFeatures, inFeatures], initialized from U(−1/√inFeatures, 1/√inFeatures). */
  readonly weight: Parameter;
  /** b, [outFeatures], or null when built with `bias: false`. */
  readonly bias: Parameter | null;

  constructor(
    /** The size of each input's last axis. */
    readonly inFeatures: number,
    /** The size of each output's last axis. */
    readonly outFeatures: number,
    options: LayerOptions & { bias?: boolean } = {},
  ) {
    super();
    T.checkOptions('Linear', options);
    if ([inFeatures, outFeatures].some((n) => !Number.isInteger(n) || n < 0)) {
      throw new T.ValueError(
        'Linear',
        `inFeatures and outFeatures must be non-negative integers, got ${T.describe(inFeatures)} and ${T.describe(outFeatures)}`,
      );
    }
    const dtype = options.dtype ?? 'float32';
    const [wKey, bKey] = T.random.split(options.key ?? nextKey());
    const bound = fanInBound(inFeatures);
    this.weight = uniformParameter([outFeatures, inFeatures], bound, dtype, wKey);
    this.bias = (options.bias ?? true) ? uniformParameter([outFeatures], bound, dtype, bKey) : null;
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias ?? undefined);
  }

  override extraRepr(): string {
    return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}, bias=${this.bias !== null}`;
  }
}

markBuiltIn(Linear);
