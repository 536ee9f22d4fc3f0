import * as A from '@tsgrad/autograd';
import * as nn from '@tsgrad/nn';
import * as T from '@tsgrad/tensor';
import { describe, expect, it } from 'vitest';

// perSampleGrads equals the gradient of each example on its own (a batch of one), for an MLP
// and a small CNN (whose weight gradients are batched as one grouped convolution).

const random = (seed: number, shape: number[]) =>
  new A.Tensor(T.random.normal(T.random.key(seed), shape, { dtype: 'float64' }));

function expectPerExample(model: nn.TensorModule, x: A.Tensor, y: A.Tensor) {
  const loss = (out: A.Tensor, target: A.Tensor) => A.crossEntropy(out, target);
  const got = nn.perSampleGrads(model, loss, x, y);
  const names = model.namedParameters().map(([name]) => name);
  expect(Object.keys(got)).toEqual(names);
  for (let i = 0; i < x.shape[0]; i++) {
    model.zeroGrad();
    loss(model.forward(A.narrow(x, 0, i, 1)), A.narrow(y, 0, i, 1)).backward();
    for (const [name, p] of model.namedParameters()) {
      expect(got[name].shape).toEqual([x.shape[0], ...p.shape]);
      const row = A.squeeze(A.narrow(got[name], 0, i, 1), 0).toTypedArray();
      const want = (p.grad as A.Tensor).toTypedArray();
      want.forEach((v, k) => {
        expect(row[k]).toBeCloseTo(v, 10);
      });
    }
  }
}

describe('perSampleGrads', () => {
  it('gives each example its own gradient: MLP', () => {
    const model = new nn.Sequential(
      new nn.Linear(4, 8, { key: T.random.key(1) }),
      new nn.Tanh(),
      new nn.Linear(8, 3, { key: T.random.key(2) }),
    ).to('float64');
    expectPerExample(model, random(3, [5, 4]), A.tensor([0, 2, 1, 1, 0], { dtype: 'int32' }));
  });

  it('gives each example its own gradient: CNN (conv, ReLU, max pool, linear)', () => {
    const model = new nn.Sequential(
      new nn.Conv2d(2, 3, 3, { padding: 1, key: T.random.key(4) }),
      new nn.ReLU(),
      new nn.MaxPool2d(2),
      new nn.Flatten(),
      new nn.Linear(12, 3, { key: T.random.key(5) }),
    ).to('float64');
    expectPerExample(model, random(6, [3, 2, 4, 4]), A.tensor([1, 0, 2], { dtype: 'int32' }));
  });

  it('returns values: nothing records them, and nothing else made inside stays alive', () => {
    const cpu = T.cpuBackend;
    const live = new Set<unknown>();
    const counting: T.Backend = {
      ...cpu,
      name: 'counting',
      alloc(dtype, size) {
        const handle = cpu.alloc(dtype, size);
        live.add(handle);
        return handle;
      },
      free(handle) {
        live.delete(handle);
      },
    };
    T.withBackend(counting, () => {
      const model = new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Linear(8, 3));
      const x = random(7, [5, 4]);
      const y = A.tensor([0, 2, 1, 1, 0], { dtype: 'int32' });
      const before = live.size;
      const grads = Object.values(nn.perSampleGrads(model, A.crossEntropy, x, y));
      expect(grads.map((g) => g.requiresGrad)).toEqual([false, false, false, false]);
      expect(live.size).toBe(before + grads.length);
    });
  });

  it('checks its arguments', () => {
    const model = new nn.Linear(2, 2);
    const loss = (out: A.Tensor, target: A.Tensor) => A.mseLoss(out, target);
    expect(() => nn.perSampleGrads(model, loss, A.full([3, 2], 1), A.full([2, 2], 1))).toThrow(T.ShapeError);
    expect(() =>
      nn.perSampleGrads({} as nn.TensorModule, loss, A.full([3, 2], 1), A.full([3, 2], 1)),
    ).toThrow(T.ValueError);
  });
});
