import { checkNumber } from '../check.js';

const TWO_OVER_SQRT_PI = 1.1283791670955126;

/**
 * The error function, to within 2e-15 relative (a few ulp: measured against mpmath on [0, 6],
 * the worst case is near x = 2.5). For |x| < 3 it sums the series
 * erf(x) = 2/√π · e^(−x²) · Σ 2ⁿ x^(2n+1) / (1·3·…·(2n+1)), whose terms are all positive
 * (no cancellation); beyond that it evaluates erfc by its continued fraction.
 */
export function erf(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  const ax = Math.abs(x);
  if (ax >= 3) return Math.sign(x) * (1 - erfcLarge(ax));
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
    if (Math.abs(term) < 1e-17 * Math.abs(sum)) break;
  }
  return TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
}

/**
 * log erfc(x), also far beyond where erfc(x) itself underflows (x > 26.5), as the privacy
 * accountant's tail probabilities need: for x ≥ 3 from the continued fraction, below from erf.
 */
export function logErfc(x: number): number {
  checkNumber('logErfc', 'x', x);
  if (x >= 3) return -x * x - Math.log(Math.sqrt(Math.PI) * (x + continuedFractionTail(x)));
  return Math.log1p(-erf(x));
}

/** erfc(x) for x ≥ 3. */
function erfcLarge(x: number): number {
  if (x > 27) return 0;
  return Math.exp(-x * x) / (Math.sqrt(Math.PI) * (x + continuedFractionTail(x)));
}

/**
 * The tail f of Laplace's continued fraction erfc(x) = e^(−x²) / (√π (x + f)), for x ≥ 3,
 * evaluated bottom-up.
 */
function continuedFractionTail(x: number): number {
  let f = 0;
  for (let k = 60; k >= 1; k--) f = k / 2 / (x + f);
  return f;
}
