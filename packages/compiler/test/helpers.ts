import * as A from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';
import { expect } from 'vitest';

/** A float64 tensor of `n` values from a fixed seed, in [lo, hi). */
export function seeded(shape: number[], seed: number, lo = -1, hi = 1): A.Tensor {
  return new A.Tensor(T.random.uniform(T.random.key(seed), shape, { dtype: 'float64', low: lo, high: hi }));
}

/** Asserts two tensors (or trees of tensors) hold the same values within `tol` (relative to 1). */
export function expectClose(actual: unknown, expected: unknown, tol = 1e-12): void {
  const [a] = A.treeFlatten(actual);
  const [e] = A.treeFlatten(expected);
  expect(a.length).toBe(e.length);
  a.forEach((x, i) => {
    expect(x.shape).toEqual(e[i].shape);
    expect(x.dtype).toBe(e[i].dtype);
    const xs = x.toTypedArray();
    const es = e[i].toTypedArray();
    for (let k = 0; k < xs.length; k++) {
      const diff = Math.abs(Number(xs[k]) - Number(es[k]));
      if (!(diff <= tol * Math.max(1, Math.abs(Number(es[k]))))) {
        expect.fail(`leaf ${i}, element ${k}: ${xs[k]} vs ${es[k]}`);
      }
    }
  });
}
