import * as tg from 'tsgrad';
import { expect, it } from 'vitest';

// The "A taste" example of the root README, kept here so it cannot rot.
it('runs the README example', () => {
  const x = tg.tensor(
    [
      [1, 2],
      [3, 4],
    ],
    { requiresGrad: true },
  );
  const y = x.matmul(x).tanh().sum();
  y.backward();
  expect(x.grad?.shape).toEqual([2, 2]);

  const f = (v: tg.Tensor) => tg.sum(tg.tanh(v));
  const d3 = tg.grad(tg.grad(tg.grad(f)));
  const t = Math.tanh(0.3);
  expect(d3(tg.tensor([0.3], { dtype: 'float64' })).item()).toBeCloseTo(
    -2 * (1 - t * t) * (1 - 3 * t * t),
    10,
  );
  const H = tg.hessian(f)(tg.tensor([0.1, 0.2], { dtype: 'float64' }));
  expect(H.shape).toEqual([2, 2]);

  const [k1, k2] = tg.random.split(tg.random.key(0));
  const noise = tg.randn(k1, [2, 3]);
  expect(noise.toArray()).toEqual(tg.randn(k1, [2, 3]).toArray());
  expect(noise.toArray()).not.toEqual(tg.randn(k2, [2, 3]).toArray());

  tg.manualSeed(0);
  const model = new tg.nn.Sequential(new tg.nn.Linear(2, 64), new tg.nn.ReLU(), new tg.nn.Linear(64, 3));
  const optimizer = new tg.optim.Adam(model.parameters(), { lr: 1e-2 });
  const input = tg.tensor([[0.5, -1]]);
  const before = model.forward(input).toArray();
  const loss = tg.crossEntropy(model.forward(input), tg.tensor([2], { dtype: 'int32' }));
  loss.backward();
  optimizer.step();
  optimizer.zeroGrad();
  expect(model.forward(input).toArray()).not.toEqual(before);
  expect(x.toString()).toMatch(
    /^Tensor\(\[\[1\., 2\.\],\n\s+\[3\., 4\.\]\], shape=\[2,2\], dtype=float32, requiresGrad=true\)$/,
  );
});
