import * as T from '@tsgrad/tensor';
import * as V from '../validate.js';
import { type Conversion, openUnitInterval, type PrivacySpent, rdpToEpsilon } from './conversion.js';
import { DEFAULT_ORDERS, order, sampledGaussianRdp } from './rdp.js';

/** Steps of the sampled Gaussian mechanism run with the same settings. */
export interface MechanismSteps {
  /** σ: the noise's standard deviation divided by the clipping norm. */
  readonly noiseMultiplier: number;
  /** q: the probability with which each example joins a batch (Poisson sampling). */
  readonly sampleRate: number;
  /** How many steps ran with these settings. */
  readonly steps: number;
}

/** What `RdpAccountant.stateDict` returns: plain JSON, for a checkpoint's metadata. */
export interface RdpAccountantStateDict {
  /** Every run of steps so far, in order. */
  readonly history: readonly MechanismSteps[];
}

/** Options of `RdpAccountant.getPrivacySpent`. */
export interface GetPrivacySpentOptions {
  /** How RDP becomes (ε, δ): 'tight' (default) or 'classic'. */
  readonly conversion?: Conversion;
  /** The orders to minimise over (default `DEFAULT_ORDERS`). */
  readonly orders?: readonly number[];
}

const STEP_RULES: V.Rules<MechanismSteps> = {
  noiseMultiplier: V.nonNegative,
  sampleRate: V.unitInterval,
  steps: V.count,
};

/**
 * Tracks the privacy spent by a training run (Opacus's `RDPAccountant`): record each step of
 * DP-SGD with `step`, read (ε, δ) with `getPrivacySpent`. Runs of the sampled Gaussian
 * mechanism compose by adding their Rényi DP at each order.
 *
 * @example
 * const accountant = new privacy.RdpAccountant();
 * accountant.step({ noiseMultiplier: 1.1, sampleRate: 256 / 60000, steps: 234 });
 * accountant.getPrivacySpent(1e-5).epsilon; // ε after one epoch
 */
export class RdpAccountant {
  private history: MechanismSteps[] = [];

  /** Records `steps` (default 1) steps with noise multiplier σ and sampling rate q. */
  step(options: {
    readonly noiseMultiplier: number;
    readonly sampleRate: number;
    readonly steps?: number;
  }): void {
    V.checkOptions('RdpAccountant.step', STEP_RULES, options, ['noiseMultiplier', 'sampleRate']);
    const { noiseMultiplier, sampleRate, steps = 1 } = options;
    const last = this.history.at(-1);
    if (last !== undefined && last.noiseMultiplier === noiseMultiplier && last.sampleRate === sampleRate) {
      this.history[this.history.length - 1] = { ...last, steps: last.steps + steps };
    } else {
      this.history.push({ noiseMultiplier, sampleRate, steps });
    }
  }

  /** The steps recorded so far. */
  get steps(): number {
    return this.history.reduce((sum, h) => sum + h.steps, 0);
  }

  /** (ε, δ) for the steps recorded so far, and the Rényi order that gives it. */
  getPrivacySpent(delta: number, options: GetPrivacySpentOptions = {}): PrivacySpent {
    const op = 'RdpAccountant.getPrivacySpent';
    V.checkOptions(op, { conversion: V.oneOf('tight', 'classic'), orders: V.listOf(order) }, options);
    const orders = options.orders ?? DEFAULT_ORDERS;
    const rdp = orders.map(() => 0);
    for (const h of this.history) {
      sampledGaussianRdp({ ...h, orders }).forEach((value, i) => {
        rdp[i] += value;
      });
    }
    return rdpToEpsilon({ rdp, orders, delta, conversion: options.conversion });
  }

  /** The history of steps as plain JSON (for a checkpoint), a copy. */
  stateDict(): RdpAccountantStateDict {
    return { history: this.history.map((h) => ({ ...h })) };
  }

  /** Restores the history; all-or-nothing (checked before anything changes). */
  loadStateDict(state: RdpAccountantStateDict): void {
    const op = 'RdpAccountant.loadStateDict';
    T.checkRecord(op, 'state', state);
    V.listOf((o, name, value) => V.checkFields(o, name, STEP_RULES, value))(
      op,
      'state.history',
      state.history,
    );
    this.history = state.history.map((h) => ({ ...h }));
  }
}

/** Options of `noiseMultiplierFor`: the privacy target and the training it must cover. */
export interface NoiseMultiplierForOptions {
  /** The ε to reach at most. */
  readonly targetEpsilon: number;
  /** δ, in (0, 1). */
  readonly delta: number;
  /** q: the probability with which each example joins a batch (Poisson sampling). */
  readonly sampleRate: number;
  /** How many steps the training runs. */
  readonly steps: number;
  /** How RDP becomes (ε, δ): 'tight' (default) or 'classic'. */
  readonly conversion?: Conversion;
}

/**
 * The smallest noise multiplier σ (to 0.1 %) whose `steps` steps at `sampleRate` spend at most
 * `targetEpsilon` at `delta` (Opacus's `get_noise_multiplier`), by bisection: ε falls as σ grows.
 */
export function noiseMultiplierFor(options: NoiseMultiplierForOptions): number {
  const op = 'noiseMultiplierFor';
  V.checkOptions(
    op,
    {
      targetEpsilon: V.positive,
      delta: openUnitInterval,
      sampleRate: V.unitInterval,
      steps: V.count,
      conversion: V.oneOf('tight', 'classic'),
    },
    options,
    ['targetEpsilon', 'delta', 'sampleRate', 'steps'],
  );
  const { targetEpsilon, delta, sampleRate, steps, conversion } = options;
  const epsilonAt = (noiseMultiplier: number) => {
    const accountant = new RdpAccountant();
    accountant.step({ noiseMultiplier, sampleRate, steps });
    return accountant.getPrivacySpent(delta, { conversion }).epsilon;
  };
  let low = 0;
  let high = 1;
  while (epsilonAt(high) > targetEpsilon) {
    high *= 2;
    if (high > 1e6) throw new T.ValueError(op, `no noise multiplier up to 1e6 reaches ε = ${targetEpsilon}`);
  }
  while (high - low > 1e-3 * high) {
    const middle = (low + high) / 2;
    if (epsilonAt(middle) > targetEpsilon) low = middle;
    else high = middle;
  }
  return high;
}
