import * as T from '@tsgrad/tensor';
import { describe, expect, it } from 'vitest';
import { expectError } from './expect-error.js';

// log erfc(x) from mpmath at 30 digits (`mp.log(mp.erfc(x))`), on both sides of the switch from
// erf to the continued fraction at x = 3 and far past where erfc underflows (x > 26.5).
const REFERENCE: [number, number][] = [
  [-6, Math.LN2],
  [-1, 0.6112323176780705],
  [0, 0.0],
  [0.5, -0.7350111298370844],
  [2.5, -7.806815272727264],
  [2.999, -10.714060245678915],
  [3, -10.720363041981113],
  [4.5, -22.34976830343594],
  [10, -102.87988902484489],
  [27, -732.8688865078974],
  [30, -903.9741171106439],
  [100, -10005.177585122665],
];

describe('logErfc', () => {
  it('matches mpmath to 1e-11 relative (a few ulp of erf are more of a small erfc below x = 3), also where erfc underflows', () => {
    for (const [x, expected] of REFERENCE) {
      const got = T.logErfc(x);
      expect(Math.abs(got - expected), `x = ${x}`).toBeLessThanOrEqual(
        1e-11 * Math.max(1, Math.abs(expected)),
      );
    }
  });

  it('gives the limits at ±∞ and NaN for NaN', () => {
    expect(T.logErfc(Number.NEGATIVE_INFINITY)).toBe(Math.LN2);
    expect(T.logErfc(Number.POSITIVE_INFINITY)).toBe(Number.NEGATIVE_INFINITY);
    expect(T.logErfc(Number.NaN)).toBeNaN();
  });

  it('refuses a non-number', () => {
    expectError(() => T.logErfc('1' as unknown as number), T.ValueError, 'logErfc', ['must be a number']);
  });
});
