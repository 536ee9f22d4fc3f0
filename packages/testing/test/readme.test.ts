import * as A from '@tsgrad/autograd';
import * as nn from '@tsgrad/nn';
import { Adam } from '@tsgrad/optim';
import { expect, it } from 'vitest';

// The "A taste" example of the root README, kept here so it cannot rot.
it('runs the README example', () => {
  const x = A.tensor(
    [
      [1, 2],
      [3, 4],
    ],
    { requiresGrad: true },
  );
  const y = x.matmul(x).tanh().sum();
  y.backward();
  expect(x.grad?.shape).toEqual([2, 2]);

  const f = (v: A.Tensor) => A.sum(A.tanh(v));
  const d3 = A.grad(A.grad(A.grad(f)));
  const t = Math.tanh(0.3);
  expect(d3(A.tensor([0.3], { dtype: 'float64' })).item()).toBeCloseTo(
    -2 * (1 - t * t) * (1 - 3 * t * t),
    10,
  );
  const H = A.hessian(f)(A.tensor([0.1, 0.2], { dtype: 'float64' }));
  expect(H.shape).toEqual([2, 2]);

  nn.manualSeed(0);
  const model = new nn.Sequential(new nn.Linear(2, 64), new nn.ReLU(), new nn.Linear(64, 3));
  const optimizer = new Adam(model.parameters(), { lr: 1e-2 });
  const before = model.forward(A.tensor([[0.5, -1]])).toArray();
  const loss = A.crossEntropy(model.forward(A.tensor([[0.5, -1]])), A.tensor([2], { dtype: 'int32' }));
  loss.backward();
  optimizer.step();
  optimizer.zeroGrad();
  expect(model.forward(A.tensor([[0.5, -1]])).toArray()).not.toEqual(before);
  expect(x.toString()).toMatch(
    /^Tensor\(\[\[1\., 2\.\],\n\s+\[3\., 4\.\]\], shape=\[2,2\], dtype=float32, requiresGrad=true\)$/,
  );
});
