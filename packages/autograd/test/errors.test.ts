import * as A from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';
import { describe, expect, it } from 'vitest';

describe('empty axes follow PyTorch', () => {
  it('softmax and logSoftmax of an empty axis are empty; logsumexp is -inf, sum 0', () => {
    const x = A.zeros([2, 0], { requiresGrad: true });
    for (const y of [A.softmax(x, 1), A.logSoftmax(x, 1), A.softmax(x, 0), A.logSoftmax(x, 0)]) {
      expect(y.shape).toEqual([2, 0]);
      A.sum(y).backward();
      expect(x.grad!.shape).toEqual([2, 0]);
    }
    expect(A.logsumexp(x, { axis: 1 }).toArray()).toEqual([-Infinity, -Infinity]);
    expect(A.sum(x, { axis: 1 }).toArray()).toEqual([0, 0]);
    expect(() => A.max(x, { axis: 1 })).toThrow(T.ValueError);
  });
});

describe('backward arguments', () => {
  it('a wrong-shaped gradOutput names backward and both shapes', () => {
    const x = A.tensor([1, 2, 3], { requiresGrad: true });
    const y = A.mul(x, 2);
    expect(() => y.backward(A.tensor([1, 1]))).toThrow(T.ShapeError);
    expect(() => y.backward(A.tensor([1, 1]))).toThrow(
      /^backward: the output gradient has shape \[2\] but the output has shape \[3\]/,
    );
    expect(() => y.backward([1, 1, 1] as never)).toThrow(/^backward: the output gradient must be a Tensor/);
    expect(() => A.gradients([y], [x], [A.tensor([[1, 1, 1]])])).toThrow(/^gradients: .*\[1,3\].*\[3\]/);
  });

  it('misuse of backward, requiresGrad and hooks throws TsgradErrors', () => {
    const c = A.tensor([1, 2]);
    expect(() => c.backward()).toThrow(T.TsgradError);
    expect(() => A.sum(c).backward()).toThrow(/^backward: the tensor does not require grad/);
    const x = A.tensor([1, 2], { requiresGrad: true });
    expect(() => A.mul(x, 2).backward()).toThrow(/^backward: a gradient can be implied only/);
    const y = A.sum(A.exp(x));
    y.backward();
    expect(() => y.backward()).toThrow(T.ValueError);
    expect(() => {
      A.mul(x, 2).requiresGrad = false;
    }).toThrow(/^requiresGrad: /);
    expect(() => {
      A.tensor([1], { dtype: 'int32' }).requiresGrad = true;
    }).toThrow(T.DTypeError);
    expect(() => c.registerHook((g) => g)).toThrow(/^registerHook: /);
    expect(() => A.treeFlatten(new Map())).toThrow(T.ValueError);
  });
});

describe('int32 on the default (wasm) backend behaves like the CPU reference', () => {
  it('throws instead of wrapping', () => {
    expect(T.getBackend().name).toBe('wasm');
    const int = (values: number[]) => A.tensor(values, { dtype: 'int32' });
    expect(() => A.tensor([2 ** 40], { dtype: 'int32' })).toThrow(T.ArithmeticError);
    expect(() => A.sum(int([2 ** 31 - 1, 1]))).toThrow(T.ArithmeticError);
    expect(() => A.prod(int([65536, 65536]))).toThrow(T.ArithmeticError);
    expect(() => A.cumsum(int([2 ** 31 - 1, 1]), 0)).toThrow(T.ArithmeticError);
    expect(() => A.cumprod(int([65536, 65536]), 0)).toThrow(T.ArithmeticError);
    expect(() => A.mod(int([5]), 0)).toThrow(T.ArithmeticError);
    expect(() => A.pow(int([2]), -1)).toThrow(T.ArithmeticError);
    expect(A.sum(int([2 ** 31 - 2, 1])).item()).toBe(2 ** 31 - 1);
  });
});
