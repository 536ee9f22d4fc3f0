import * as A from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';
import { describe, expect, it } from 'vitest';

const leaf = (values: number[]) => A.tensor(values, { requiresGrad: true });
const values = (t: A.Tensor | null) => Array.from(t!.toTypedArray());

describe('version counters', () => {
  it('refuses backward through a saved leaf changed by assign', () => {
    const x = leaf([1, 2, 3]);
    const y = A.sum(A.mul(x, x));
    x.assign([10, 20, 30]);
    expect(() => y.backward()).toThrow(A.InPlaceModificationError);
    expect(() => y.backward()).toThrow(
      /'mul'.*float32 \[3\].*version 0.*version 1.*creation site is unknown/,
    );
    expect(x.grad).toBeNull();
    // The refused pass consumed nothing: restoring the value is not enough (the version
    // stays), but a fresh forward works.
    x.assign([1, 2, 3]);
    expect(() => y.backward()).toThrow(A.InPlaceModificationError);
    A.sum(A.mul(x, x)).backward();
    expect(values(x.grad)).toEqual([2, 4, 6]);
  });

  it('refuses backward through a saved intermediate changed by assign', () => {
    const x = leaf([1, 2, 3]);
    const h = A.mul(x, 2);
    const y = A.sum(A.mul(h, h));
    h.assign(T.array([0, 0, 0]));
    expect(() => y.backward()).toThrow(A.InPlaceModificationError);
  });

  it('refuses a saved output changed in place (exp saves its output)', () => {
    const x = leaf([0, 1]);
    const y = A.exp(x);
    y.assign([5, 5]);
    expect(() => y.backward(A.tensor([1, 1]))).toThrow(/output 0 of 'exp'/);
  });

  it('names where the tensor was created in anomaly mode', () => {
    A.detectAnomaly(() => {
      const x = leaf([1, 2]);
      const y = A.sum(A.mul(x, x));
      x.assign([3, 4]);
      expect(() => y.backward()).toThrow(/created at .*versions\.test\.ts/);
    });
  });

  it('checks the vjp pullback and gradients too', () => {
    const x = leaf([1, 2, 3]);
    const [, pullback] = A.vjp((v: A.Tensor) => A.sum(A.mul(v, x)), A.tensor([1, 1, 1]));
    x.assign([4, 5, 6]);
    expect(() => pullback(A.tensor(1))).toThrow(A.InPlaceModificationError);
    const z = leaf([1, 2]);
    const w = A.sum(A.mul(z, z));
    z.assign([0, 0]);
    expect(() => A.gradients([w], [z])).toThrow(A.InPlaceModificationError);
  });

  it('keeps an optimizer-style step legal: the next forward saves the new version', () => {
    const x = leaf([1, 2, 3]);
    A.sum(A.mul(x, x)).backward();
    expect(values(x.grad)).toEqual([2, 4, 6]);
    x.assign(T.sub(x.peekValue(), T.array([1, 1, 1])));
    expect(x.version).toBe(1);
    x.zeroGrad();
    A.sum(A.mul(x, x)).backward();
    expect(values(x.grad)).toEqual([0, 2, 4]);
  });

  it('bumps the version when a hook changes a saved tensor in place', () => {
    const x = leaf([1, 2]);
    const h = A.mul(x, 3);
    const y = A.sum(A.mul(h, x));
    h.registerHook((g) => {
      x.assign(T.array([7, 7]));
      return g;
    });
    expect(() => y.backward()).toThrow(A.InPlaceModificationError);
  });

  it('refuses a pass in which a custom VJP changed a tensor an earlier op saved', () => {
    const x = leaf([1, 2]);
    const double = A.customVjp(
      (a: A.Tensor) => A.mul(a, 2),
      (a: A.Tensor) => [A.mul(a, 2), null] as const,
      (_, g: A.Tensor) => {
        x.assign(T.array([7, 7]));
        return [A.mul(g, 2)];
      },
    );
    // mul(x, x) saved x; the custom VJP runs first in the reverse pass and changes x.
    const y = A.sum(double(A.mul(x, x)));
    expect(() => y.backward()).toThrow(A.InPlaceModificationError);
  });
});

describe('assign', () => {
  it('accepts nested arrays in the tensor dtype, as copy_ does', () => {
    const x = A.tensor([[1, 2]], { dtype: 'float64' });
    x.assign([[3, 4]]);
    expect(x.dtype).toBe('float64');
    expect(x.toArray()).toEqual([[3, 4]]);
  });

  it('rejects wrong shapes, dtypes and values with typed errors', () => {
    const x = A.tensor([1, 2]);
    expect(() => x.assign([1, 2, 3])).toThrow(T.ShapeError);
    expect(() => x.assign(T.array([1, 2], { dtype: 'float64' }))).toThrow(T.DTypeError);
    expect(() => x.assign({} as never)).toThrow(T.ValueError);
    expect(() => x.assign(['a', 'b'] as never)).toThrow(T.ValueError);
  });
});
