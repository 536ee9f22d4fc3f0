import * as T from '@tsgrad/tensor';
import * as V from '../validate.js';

/**
 * The Rényi-DP orders the accountant minimises over by default (those of Opacus and TF Privacy):
 * 1.1, 1.2, …, 10.9, then 12, 13, …, 63.
 */
export const DEFAULT_ORDERS: readonly number[] = Object.freeze([
  ...Array.from({ length: 99 }, (_, i) => 1 + (i + 1) / 10),
  ...Array.from({ length: 52 }, (_, i) => 12 + i),
]);

/** Options of `sampledGaussianRdp`: the mechanism's settings and the orders to evaluate. */
export interface SampledGaussianOptions {
  /** The probability q with which each example joins a batch (Poisson sampling), in [0, 1]. */
  readonly sampleRate: number;
  /** σ: the noise's standard deviation divided by the clipping norm (the sensitivity). */
  readonly noiseMultiplier: number;
  /** How many times the mechanism runs (training steps); the RDP of runs adds up. */
  readonly steps: number;
  /** Rényi orders α > 1 (default `DEFAULT_ORDERS`). */
  readonly orders?: readonly number[];
}

const RULES: V.Rules<SampledGaussianOptions> = {
  sampleRate: V.unitInterval,
  noiseMultiplier: V.nonNegative,
  steps: V.count,
  orders: (op, name, value) => V.listOf(order)(op, name, value),
};

/** A Rényi order: a finite number above 1. */
export const order: V.Rule = (op, name, value) => {
  if (typeof value !== 'number' || !(value > 1) || !Number.isFinite(value))
    throw new T.ValueError(op, `${name} must be a finite number above 1, got ${T.describe(value)}`);
};

/**
 * The Rényi differential privacy of `steps` runs of the sampled Gaussian mechanism (each example
 * sampled with probability q, the sum of the sampled examples' clipped values plus N(0, σ²) per
 * coordinate, with sensitivity 1), at each order: ε(α) = steps · log(A_α) / (α − 1), where
 * A_α = E_{z∼N(0,σ²)}[((1 − q) + q·e^{(2z − 1)/(2σ²)})^α] (Mironov, Talwar & Zhang 2019,
 * "Rényi Differential Privacy of the Sampled Gaussian Mechanism", section 3). Infinity where
 * σ = 0 and q > 0.
 */
export function sampledGaussianRdp(options: SampledGaussianOptions): number[] {
  const op = 'sampledGaussianRdp';
  V.checkOptions(op, RULES, options, ['sampleRate', 'noiseMultiplier', 'steps']);
  const { sampleRate: q, noiseMultiplier: sigma, steps } = options;
  const orders = options.orders ?? DEFAULT_ORDERS;
  return orders.map((alpha) => {
    if (q === 0 || steps === 0) return 0;
    if (sigma === 0) return Number.POSITIVE_INFINITY;
    // Without sampling it is the Gaussian mechanism: α / (2σ²) (Mironov 2017, Proposition 7).
    if (q === 1) return (steps * alpha) / (2 * sigma * sigma);
    const logA = Number.isInteger(alpha) ? logAInteger(q, sigma, alpha) : logAFractional(op, q, sigma, alpha);
    return (steps * logA) / (alpha - 1);
  });
}

/**
 * log A_α for an integer α, by the binomial expansion of the integrand: A_α =
 * Σ_{k=0}^{α} C(α, k) (1 − q)^{α−k} q^k e^{(k² − k)/(2σ²)}, every term positive.
 */
function logAInteger(q: number, sigma: number, alpha: number): number {
  const terms: number[] = [];
  let logBinomial = 0;
  for (let k = 0; k <= alpha; k++) {
    terms.push(
      logBinomial + (alpha - k) * Math.log1p(-q) + k * Math.log(q) + (k * k - k) / (2 * sigma * sigma),
    );
    logBinomial += Math.log(alpha - k) - Math.log(k + 1);
  }
  return logSumExp(
    terms,
    terms.map(() => 1),
  );
}

/** The terms the fractional series may sum before it counts as not converging. */
const MAX_TERMS = 200_000;
/** Terms below e^-40 (A_α ≥ 1, so relative to the sum too) end the series. */
const NEGLIGIBLE = -40;

/**
 * log A_α for a fractional α. Split the integral at z₀ = σ² log(1/q − 1) + 1/2, where the two parts
 * of the mixture are equal; below it expand (1 − q + q r)^α in powers of q r / (1 − q), above it in
 * powers of (1 − q) / (q r), with r = e^{(2z − 1)/(2σ²)}. The Gaussian integral of r^i over a half
 * line is e^{(i² − i)/(2σ²)} times a normal tail, ½ erfc(·), so
 *   A_α = Σ_i C(α, i) [ q^i (1 − q)^{α−i} e^{(i² − i)/(2σ²)} ½ erfc((i − z₀)/(√2 σ))
 *                     + q^{α−i} (1 − q)^i e^{(j² − j)/(2σ²)} ½ erfc((z₀ − j)/(√2 σ)) ],  j = α − i.
 * C(α, i) changes sign for i > α + 1, so the terms are summed with their signs (in log space).
 */
function logAFractional(op: string, q: number, sigma: number, alpha: number): number {
  const s2 = sigma * sigma;
  const z0 = s2 * Math.log(1 / q - 1) + 0.5;
  const logQ = Math.log(q);
  const log1mQ = Math.log1p(-q);
  const logTerms: number[] = [];
  const signs: number[] = [];
  let logBinomial = 0;
  let sign = 1;
  for (let i = 0; i < MAX_TERMS; i++) {
    const j = alpha - i;
    const below =
      logBinomial +
      i * logQ +
      j * log1mQ +
      (i * i - i) / (2 * s2) +
      Math.log(0.5) +
      T.logErfc((i - z0) / (Math.SQRT2 * sigma));
    const above =
      logBinomial +
      j * logQ +
      i * log1mQ +
      (j * j - j) / (2 * s2) +
      Math.log(0.5) +
      T.logErfc((z0 - j) / (Math.SQRT2 * sigma));
    logTerms.push(below, above);
    signs.push(sign, sign);
    if (i > alpha && Math.max(below, above) < NEGLIGIBLE) return logSumExp(logTerms, signs);
    logBinomial += Math.log(Math.abs(alpha - i)) - Math.log(i + 1);
    if (alpha - i < 0) sign = -sign;
  }
  throw new T.ArithmeticError(
    op,
    `the series for order ${alpha} (q ${q}, σ ${sigma}) did not converge in ${MAX_TERMS} terms; use integer orders`,
  );
}

/** log Σ signs[i]·e^{logs[i]}, for a sum known to be positive. */
function logSumExp(logs: readonly number[], signs: readonly number[]): number {
  let max = Number.NEGATIVE_INFINITY;
  for (const x of logs) max = Math.max(max, x);
  if (max === Number.POSITIVE_INFINITY) return max;
  let sum = 0;
  for (let i = 0; i < logs.length; i++) sum += signs[i] * Math.exp(logs[i] - max);
  return max + Math.log(sum);
}
