import * as T from '@tsgrad/tensor';
import * as V from '../validate.js';
import { DEFAULT_ORDERS, order } from './rdp.js';

/**
 * How Rényi DP becomes (ε, δ)-DP, at each order α, minimised over the orders:
 * - `'tight'` (the default, what Opacus uses): ε = rdp + log((α − 1)/α) − (log δ + log α)/(α − 1)
 *   (Balle, Barthe, Gaboardi, Hsu & Sato 2020, "Hypothesis testing interpretations and Rényi
 *   differential privacy", Theorem 21);
 * - `'classic'` (what TF Privacy's tutorials report): ε = rdp − log δ / (α − 1) (Mironov 2017,
 *   Proposition 3), always a little larger.
 */
export type Conversion = 'tight' | 'classic';

/** Options of `rdpToEpsilon`: the RDP curve, δ and the conversion. */
export interface RdpToEpsilonOptions {
  /** The RDP ε(α) at each of `orders`. */
  readonly rdp: readonly number[];
  /** The orders (default `DEFAULT_ORDERS`). */
  readonly orders?: readonly number[];
  /** δ, in (0, 1). */
  readonly delta: number;
  /** How RDP becomes (ε, δ): 'tight' (default) or 'classic'. */
  readonly conversion?: Conversion;
}

/** The (ε, δ) guarantee reached: ε, and the order that gives it. */
export interface PrivacySpent {
  /** The smallest ε over the orders, for the δ asked. */
  readonly epsilon: number;
  /** The order at which ε is smallest. */
  readonly order: number;
}

/** δ: a number in (0, 1). */
export const openUnitInterval: V.Rule = (op, name, value) => {
  if (typeof value !== 'number' || !(value > 0 && value < 1))
    throw new T.ValueError(op, `${name} must be a number in (0, 1), got ${T.describe(value)}`);
};

const RULES: V.Rules<RdpToEpsilonOptions> = {
  rdp: V.listOf((op, name, value) => {
    if (typeof value !== 'number' || !(value >= 0))
      throw new T.ValueError(op, `${name} must be a non-negative number, got ${T.describe(value)}`);
  }),
  orders: V.listOf(order),
  delta: openUnitInterval,
  conversion: V.oneOf('tight', 'classic'),
};

/** The (ε, δ) guarantee of a mechanism whose Rényi DP at `orders` is `rdp` (see `Conversion`). */
export function rdpToEpsilon(options: RdpToEpsilonOptions): PrivacySpent {
  const op = 'rdpToEpsilon';
  V.checkOptions(op, RULES, options, ['rdp', 'delta']);
  const { rdp, delta, conversion = 'tight' } = options;
  const orders = options.orders ?? DEFAULT_ORDERS;
  if (orders.length !== rdp.length || orders.length === 0)
    throw new T.ValueError(
      op,
      `${rdp.length} RDP values for ${orders.length} orders (need as many, at least one)`,
    );
  let best: PrivacySpent = { epsilon: Number.POSITIVE_INFINITY, order: orders[0] };
  orders.forEach((alpha, i) => {
    const logDelta = Math.log(delta);
    // A Rényi divergence of 0 means equal distributions: (0, 0)-DP, which the bounds miss.
    const epsilon =
      rdp[i] === 0
        ? 0
        : conversion === 'classic'
          ? rdp[i] - logDelta / (alpha - 1)
          : rdp[i] + Math.log((alpha - 1) / alpha) - (logDelta + Math.log(alpha)) / (alpha - 1);
    if (epsilon < best.epsilon) best = { epsilon: Math.max(0, epsilon), order: alpha };
  });
  return best;
}
