import type * as A from '@tsgrad/autograd';
import * as O from '@tsgrad/optim';
import { describe, expect, it } from 'vitest';
import { expectClose, param, setGrad, values } from './helpers.js';

// Each optimizer's first three steps against its update rule as published in the torch.optim
// documentation (Lion: the paper), written out below one scalar at a time in float64. The
// gradients come from f(θ) = Σ cᵢ(θᵢ − tᵢ)²/2, so they change from step to step.

const theta0 = [0.5, -1.5, 2.0];
const curvature = [1, 3, 0.5];
const target = [0.2, 0.4, -1.0];
const gradAt = (x: number, i: number) => curvature[i] * (x - target[i]);
const STEPS = 3;

/** θ after each of the first steps of `make`'s optimizer, one row per step. */
function trajectory(make: (params: A.Tensor[]) => O.Optimizer<{ lr: number }>): number[][] {
  const p = param(theta0);
  const optimizer = make([p]);
  const rows: number[][] = [];
  for (let t = 1; t <= STEPS; t++) {
    setGrad(
      p,
      values(p).map((x, i) => gradAt(x, i)),
    );
    optimizer.step();
    rows.push(values(p));
  }
  return rows;
}

/** The same from a scalar rule `(θ, i) => θ after each step`, row per step. */
function reference(rule: (theta: number, i: number) => number[]): number[][] {
  const perElement = theta0.map((x, i) => rule(x, i));
  return Array.from({ length: STEPS }, (_, t) => perElement.map((row) => row[t]));
}

function expectTrajectory(actual: number[][], expected: number[][]): void {
  actual.forEach((row, t) => {
    expectClose(row, expected[t], 1e-12);
  });
}

describe('first steps against the published update rules', () => {
  it('SGD with momentum, dampening and weight decay', () => {
    const [lr, mu, tau, wd] = [0.1, 0.9, 0.1, 0.01];
    const actual = trajectory((ps) => new O.SGD(ps, { lr, momentum: mu, dampening: tau, weightDecay: wd }));
    const expected = reference((theta, i) => {
      const out: number[] = [];
      let b = 0;
      for (let t = 1; t <= STEPS; t++) {
        let g = gradAt(theta, i) + wd * theta; // weight decay enters the gradient before momentum
        b = t === 1 ? g : mu * b + (1 - tau) * g; // the first step takes the gradient undamped
        g = b;
        theta = theta - lr * g;
        out.push(theta);
      }
      return out;
    });
    expectTrajectory(actual, expected);
  });

  it('SGD with Nesterov momentum', () => {
    const [lr, mu] = [0.05, 0.8];
    const actual = trajectory((ps) => new O.SGD(ps, { lr, momentum: mu, nesterov: true }));
    const expected = reference((theta, i) => {
      const out: number[] = [];
      let b = 0;
      for (let t = 1; t <= STEPS; t++) {
        let g = gradAt(theta, i);
        b = t === 1 ? g : mu * b + g;
        g = g + mu * b;
        theta = theta - lr * g;
        out.push(theta);
      }
      return out;
    });
    expectTrajectory(actual, expected);
  });

  it('plain SGD is θ − γ∇f', () => {
    const actual = trajectory((ps) => new O.SGD(ps, { lr: 0.1 }));
    // by hand: θ₁ = 0.5 − 0.1·(1·(0.5 − 0.2)) = 0.47
    expect(actual[0][0]).toBeCloseTo(0.47, 15);
  });

  it('Adam with bias correction and L2 weight decay', () => {
    const [lr, b1, b2, eps, wd] = [0.01, 0.8, 0.9, 1e-8, 0.1];
    const actual = trajectory((ps) => new O.Adam(ps, { lr, betas: [b1, b2], eps, weightDecay: wd }));
    const expected = reference((theta, i) => {
      const out: number[] = [];
      let m = 0;
      let v = 0;
      for (let t = 1; t <= STEPS; t++) {
        const g = gradAt(theta, i) + wd * theta;
        m = b1 * m + (1 - b1) * g;
        v = b2 * v + (1 - b2) * g * g;
        const mHat = m / (1 - b1 ** t);
        const vHat = v / (1 - b2 ** t);
        theta = theta - (lr * mHat) / (Math.sqrt(vHat) + eps);
        out.push(theta);
      }
      return out;
    });
    expectTrajectory(actual, expected);
  });

  it("Adam's first step is −γ·g/(|g| + ε) (bias correction undoes the zero init)", () => {
    const actual = trajectory((ps) => new O.Adam(ps, { lr: 0.01 }));
    // g = 1·(0.5 − 0.2) = 0.3: m̂ = g, v̂ = g², so θ₁ = 0.5 − 0.01·0.3/(0.3 + 1e-8)
    expect(actual[0][0]).toBeCloseTo(0.5 - (0.01 * 0.3) / (0.3 + 1e-8), 14);
  });

  it('Adam with AMSGrad (the maximum of v, then bias correction)', () => {
    const [lr, b1, b2, eps] = [0.02, 0.5, 0.6, 1e-8];
    const actual = trajectory((ps) => new O.Adam(ps, { lr, betas: [b1, b2], eps, amsgrad: true }));
    const expected = reference((theta, i) => {
      const out: number[] = [];
      let m = 0;
      let v = 0;
      let vMax = 0;
      for (let t = 1; t <= STEPS; t++) {
        const g = gradAt(theta, i);
        m = b1 * m + (1 - b1) * g;
        v = b2 * v + (1 - b2) * g * g;
        vMax = Math.max(vMax, v);
        const mHat = m / (1 - b1 ** t);
        const vHat = vMax / (1 - b2 ** t);
        theta = theta - (lr * mHat) / (Math.sqrt(vHat) + eps);
        out.push(theta);
      }
      return out;
    });
    expectTrajectory(actual, expected);
  });

  it('AdamW decays θ by (1 − γλ) first, then takes the Adam step', () => {
    const [lr, b1, b2, eps, wd] = [0.01, 0.9, 0.99, 1e-8, 0.5];
    const actual = trajectory((ps) => new O.AdamW(ps, { lr, betas: [b1, b2], eps, weightDecay: wd }));
    const expected = reference((theta, i) => {
      const out: number[] = [];
      let m = 0;
      let v = 0;
      for (let t = 1; t <= STEPS; t++) {
        const g = gradAt(theta, i);
        theta = theta - lr * wd * theta;
        m = b1 * m + (1 - b1) * g;
        v = b2 * v + (1 - b2) * g * g;
        const mHat = m / (1 - b1 ** t);
        const vHat = v / (1 - b2 ** t);
        theta = theta - (lr * mHat) / (Math.sqrt(vHat) + eps);
        out.push(theta);
      }
      return out;
    });
    expectTrajectory(actual, expected);
  });

  it('Adamax', () => {
    const [lr, b1, b2, eps, wd] = [0.002, 0.9, 0.999, 1e-8, 0.05];
    const actual = trajectory((ps) => new O.Adamax(ps, { lr, betas: [b1, b2], eps, weightDecay: wd }));
    const expected = reference((theta, i) => {
      const out: number[] = [];
      let m = 0;
      let u = 0;
      for (let t = 1; t <= STEPS; t++) {
        const g = gradAt(theta, i) + wd * theta;
        m = b1 * m + (1 - b1) * g;
        u = Math.max(b2 * u, Math.abs(g) + eps);
        theta = theta - (lr * m) / ((1 - b1 ** t) * u);
        out.push(theta);
      }
      return out;
    });
    expectTrajectory(actual, expected);
  });

  for (const decoupled of [false, true]) {
    it(`NAdam with the 0.96^(tψ) momentum schedule (${decoupled ? 'decoupled' : 'L2'} weight decay)`, () => {
      const [lr, b1, b2, eps, wd, psi] = [0.01, 0.9, 0.999, 1e-8, 0.1, 0.004];
      const actual = trajectory(
        (ps) =>
          new O.NAdam(ps, {
            lr,
            betas: [b1, b2],
            eps,
            weightDecay: wd,
            momentumDecay: psi,
            decoupledWeightDecay: decoupled,
          }),
      );
      const expected = reference((theta, i) => {
        const out: number[] = [];
        let m = 0;
        let v = 0;
        let muProduct = 1;
        for (let t = 1; t <= STEPS; t++) {
          let g = gradAt(theta, i);
          if (decoupled) theta = theta - lr * wd * theta;
          else g = g + wd * theta;
          const mu = b1 * (1 - 0.5 * 0.96 ** (t * psi));
          const muNext = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi));
          muProduct *= mu;
          m = b1 * m + (1 - b1) * g;
          v = b2 * v + (1 - b2) * g * g;
          const mHat = (muNext * m) / (1 - muProduct * muNext) + ((1 - mu) * g) / (1 - muProduct);
          const vHat = v / (1 - b2 ** t);
          theta = theta - (lr * mHat) / (Math.sqrt(vHat) + eps);
          out.push(theta);
        }
        return out;
      });
      expectTrajectory(actual, expected);
    });
  }

  it('RMSprop, centered, with momentum and weight decay', () => {
    const [lr, alpha, eps, wd, mu] = [0.01, 0.9, 1e-8, 0.01, 0.5];
    const actual = trajectory(
      (ps) => new O.RMSprop(ps, { lr, alpha, eps, weightDecay: wd, momentum: mu, centered: true }),
    );
    const expected = reference((theta, i) => {
      const out: number[] = [];
      let v = 0;
      let gAvg = 0;
      let b = 0;
      for (let t = 1; t <= STEPS; t++) {
        const g = gradAt(theta, i) + wd * theta;
        v = alpha * v + (1 - alpha) * g * g;
        gAvg = alpha * gAvg + (1 - alpha) * g;
        const vTilde = v - gAvg * gAvg;
        b = mu * b + g / (Math.sqrt(vTilde) + eps);
        theta = theta - lr * b;
        out.push(theta);
      }
      return out;
    });
    expectTrajectory(actual, expected);
  });

  it('RMSprop, plain', () => {
    const [lr, alpha, eps] = [0.01, 0.99, 1e-8];
    const actual = trajectory((ps) => new O.RMSprop(ps, { lr, alpha, eps }));
    const expected = reference((theta, i) => {
      const out: number[] = [];
      let v = 0;
      for (let t = 1; t <= STEPS; t++) {
        const g = gradAt(theta, i);
        v = alpha * v + (1 - alpha) * g * g;
        theta = theta - (lr * g) / (Math.sqrt(v) + eps);
        out.push(theta);
      }
      return out;
    });
    expectTrajectory(actual, expected);
  });

  it('Adagrad with lr decay, weight decay and an initial accumulator', () => {
    const [lr, eta, wd, init, eps] = [0.1, 0.5, 0.01, 0.1, 1e-10];
    const actual = trajectory(
      (ps) => new O.Adagrad(ps, { lr, lrDecay: eta, weightDecay: wd, initialAccumulatorValue: init, eps }),
    );
    const expected = reference((theta, i) => {
      const out: number[] = [];
      let sum = init;
      for (let t = 1; t <= STEPS; t++) {
        const clr = lr / (1 + (t - 1) * eta);
        const g = gradAt(theta, i) + wd * theta;
        sum = sum + g * g;
        theta = theta - (clr * g) / (Math.sqrt(sum) + eps);
        out.push(theta);
      }
      return out;
    });
    expectTrajectory(actual, expected);
  });

  it('Adadelta (lr = 1 by default)', () => {
    const [rho, eps, wd] = [0.9, 1e-6, 0.01];
    const actual = trajectory((ps) => new O.Adadelta(ps, { weightDecay: wd }));
    const expected = reference((theta, i) => {
      const out: number[] = [];
      let v = 0;
      let u = 0;
      const lr = 1;
      for (let t = 1; t <= STEPS; t++) {
        const g = gradAt(theta, i) + wd * theta;
        v = rho * v + (1 - rho) * g * g;
        const delta = (Math.sqrt(u + eps) / Math.sqrt(v + eps)) * g;
        u = rho * u + (1 - rho) * delta * delta;
        theta = theta - lr * delta;
        out.push(theta);
      }
      return out;
    });
    expectTrajectory(actual, expected);
  });

  it('Lion: a sign update with decoupled weight decay', () => {
    const [lr, b1, b2, wd] = [0.01, 0.9, 0.99, 0.1];
    const actual = trajectory((ps) => new O.Lion(ps, { lr, betas: [b1, b2], weightDecay: wd }));
    const expected = reference((theta, i) => {
      const out: number[] = [];
      let m = 0;
      for (let t = 1; t <= STEPS; t++) {
        const g = gradAt(theta, i);
        const c = b1 * m + (1 - b1) * g;
        theta = theta - lr * (Math.sign(c) + wd * theta);
        m = b2 * m + (1 - b2) * g;
        out.push(theta);
      }
      return out;
    });
    expectTrajectory(actual, expected);
  });

  it('maximize ascends: the same as descending on −f', () => {
    const up = trajectory((ps) => new O.Adam(ps, { lr: 0.01, maximize: true }));
    const p = param(theta0);
    const optimizer = new O.Adam([p], { lr: 0.01 });
    for (let t = 0; t < STEPS; t++) {
      setGrad(
        p,
        values(p).map((x, i) => -gradAt(x, i)),
      );
      optimizer.step();
      expect(values(p)).toEqual(up[t]);
    }
  });
});
