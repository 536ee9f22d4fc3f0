import * as A from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';
import { expect } from 'vitest';

/** A float64 (or float32) leaf parameter. */
export const param = (
  values: readonly number[],
  shape: readonly number[] = [values.length],
  dtype: 'float32' | 'float64' = 'float64',
) => new A.Tensor(T.cast(T.array(Float64Array.from(values), { shape }), dtype), { requiresGrad: true });

/** The values of a tensor or array as a plain number list. */
export const values = (x: A.Tensor | T.NDArray): number[] => Array.from(x.toTypedArray(), Number);

/** Sets `p.grad` to the given values (same shape and dtype as p). */
export function setGrad(p: A.Tensor, grad: readonly number[]): void {
  p.grad = new A.Tensor(T.cast(T.array(Float64Array.from(grad), { shape: p.shape }), p.dtype));
}

/** Element-wise |a − b| ≤ rel·max(1, |b|). */
export function expectClose(actual: readonly number[], expected: readonly number[], rel = 1e-12): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => {
    const tolerance = rel * Math.max(1, Math.abs(expected[i]));
    if (!(Math.abs(a - expected[i]) <= tolerance)) {
      expect.fail(`element ${i}: ${a} differs from ${expected[i]} by more than ${tolerance}`);
    }
  });
}

/** A copy of a parameter (same values, a fresh leaf). */
export const cloneParam = (p: A.Tensor) => new A.Tensor(p.value, { requiresGrad: true });
