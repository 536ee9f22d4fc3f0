import * as A from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';
import { describe, expect, it } from 'vitest';

const leaf = (values: number[], shape?: number[]) =>
  new A.Tensor(T.array(Float64Array.from(values), { shape: shape ?? [values.length] }), {
    requiresGrad: true,
  });

describe('tape', () => {
  it('backprops through broadcasting, fan-out and accumulates across calls', () => {
    const x = leaf([1, 2, 3]);
    const b = leaf([0.5], [1]);
    const y = A.sum(A.mul(A.add(x, b), x));
    y.backward();
    // d/dx (x+b)x = 2x + b ; d/db = sum(x)
    expect(Array.from(x.grad!.toTypedArray())).toEqual([2.5, 4.5, 6.5]);
    expect(Array.from(b.grad!.toTypedArray())).toEqual([6]);
    A.sum(A.mul(x, 2)).backward();
    expect(Array.from(x.grad!.toTypedArray())).toEqual([4.5, 6.5, 8.5]);
  });

  it('computes higher derivatives with createGraph', () => {
    const x = leaf([0.3]);
    const y = A.sum(A.tanh(x));
    const [g1] = A.gradients([y], [x], [], { createGraph: true });
    const [g2] = A.gradients([A.sum(g1!)], [x], [], { createGraph: true });
    const [g3] = A.gradients([A.sum(g2!)], [x]);
    const t = Math.tanh(0.3);
    expect(g1!.item()).toBeCloseTo(1 - t * t, 12);
    expect(g2!.item()).toBeCloseTo(-2 * t * (1 - t * t), 12);
    expect(g3!.item()).toBeCloseTo(-2 * (1 - t * t) * (1 - 3 * t * t), 12);
  });

  // About 1.5 s on a quiet machine; the limit is for a loaded one (this checks depth, not speed).
  it('backprops a 100,000-op chain without overflowing the stack', { timeout: 30_000 }, () => {
    const x = leaf([1]);
    let y: A.Tensor = x;
    for (let i = 0; i < 100_000; i++) y = A.mul(y, 1);
    A.sum(y).backward();
    expect(x.grad!.item()).toBe(1);
  });

  it('refuses a second backward through a freed graph', () => {
    const x = leaf([1, 2]);
    const y = A.sum(A.exp(x));
    y.backward();
    expect(() => y.backward()).toThrow(/second time/);
  });
});
