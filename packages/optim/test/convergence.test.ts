import * as A from '@tsgrad/autograd';
import * as O from '@tsgrad/optim';
import * as T from '@tsgrad/tensor';
import { describe, expect, it } from 'vitest';
import { values } from './helpers.js';

// Least squares ½‖Ax − b‖² with A = [[2,1],[1,3],[0,1]], b = [1,2,3]: the normal equations
// AᵀA x = Aᵀb read [[5,5],[5,11]] x = [4,10], so x* = [−0.2, 1].
const matrix = new A.Tensor(
  T.array(
    [
      [2, 1],
      [1, 3],
      [0, 1],
    ],
    { dtype: 'float64' },
  ),
);
const rhs = new A.Tensor(T.array([[1], [2], [3]], { dtype: 'float64' }));
const OPTIMUM = [-0.2, 1];

const loss = (x: A.Tensor) => A.mul(A.sum(A.square(A.sub(A.matmul(matrix, x), rhs))), 0.5);

interface Case {
  readonly name: string;
  readonly make: (params: A.Tensor[]) => O.Optimizer<{ lr: number }>;
  readonly steps: number;
  /** A scheduler stepped after every optimizer step (sign-like methods need a decaying lr to settle). */
  readonly scheduler?: (optimizer: O.Optimizer<{ lr: number }>, steps: number) => { step(): void };
}

const cosine = (optimizer: O.Optimizer<{ lr: number }>, steps: number) =>
  new O.CosineAnnealingLR(optimizer, { tMax: steps });

const cases: Case[] = [
  { name: 'SGD', make: (ps) => new O.SGD(ps, { lr: 0.1 }), steps: 300 },
  { name: 'SGD momentum', make: (ps) => new O.SGD(ps, { lr: 0.05, momentum: 0.9 }), steps: 300 },
  {
    name: 'SGD Nesterov',
    make: (ps) => new O.SGD(ps, { lr: 0.05, momentum: 0.9, nesterov: true }),
    steps: 300,
  },
  { name: 'Adam', make: (ps) => new O.Adam(ps, { lr: 0.05 }), steps: 1500, scheduler: cosine },
  {
    name: 'Adam AMSGrad',
    make: (ps) => new O.Adam(ps, { lr: 0.05, amsgrad: true }),
    steps: 1500,
    scheduler: cosine,
  },
  {
    name: 'AdamW',
    make: (ps) => new O.AdamW(ps, { lr: 0.05, weightDecay: 0 }),
    steps: 1500,
    scheduler: cosine,
  },
  { name: 'Adamax', make: (ps) => new O.Adamax(ps, { lr: 0.05 }), steps: 1500, scheduler: cosine },
  { name: 'NAdam', make: (ps) => new O.NAdam(ps, { lr: 0.05 }), steps: 1500, scheduler: cosine },
  { name: 'RMSprop', make: (ps) => new O.RMSprop(ps, { lr: 0.01 }), steps: 1500, scheduler: cosine },
  {
    name: 'RMSprop centered momentum',
    make: (ps) => new O.RMSprop(ps, { lr: 0.01, momentum: 0.5, centered: true }),
    steps: 1500,
    scheduler: cosine,
  },
  { name: 'Adagrad', make: (ps) => new O.Adagrad(ps, { lr: 0.5 }), steps: 1000 },
  // Near the optimum Adadelta's ratio √(u+ε)/√(v+ε) tends to 1, so its step tends to lr·g: lr must
  // be below 2/λmax(AᵀA) ≈ 0.145 for this problem (the default lr = 1 keeps oscillating).
  { name: 'Adadelta', make: (ps) => new O.Adadelta(ps, { lr: 0.1, eps: 1e-3 }), steps: 500 },
  { name: 'Lion', make: (ps) => new O.Lion(ps, { lr: 0.01 }), steps: 1500, scheduler: cosine },
];

describe('convergence to the least-squares optimum', () => {
  for (const { name, make, steps, scheduler } of cases) {
    it(name, () => {
      const x = new A.Tensor(T.array([[2], [-1]], { dtype: 'float64' }), { requiresGrad: true });
      const optimizer = make([x]);
      const schedule = scheduler?.(optimizer, steps);
      for (let t = 0; t < steps; t++) {
        optimizer.zeroGrad();
        loss(x).backward();
        optimizer.step();
        schedule?.step();
      }
      const error = Math.hypot(...values(x).map((v, i) => v - OPTIMUM[i]));
      expect(error).toBeLessThan(1e-3);
    });
  }
});
