import * as A from '@tsgrad/autograd';
import { compileStep, jit } from '@tsgrad/compiler';
import * as nn from '@tsgrad/nn';
import { Adam } from '@tsgrad/optim';
import * as T from '@tsgrad/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// A deferred elementwise expression (tensor's lazy.ts) reads its inputs' buffers when it is
// materialised, maybe long after the op call. Every path that changes a value after its array
// was made must leave such an expression reading the value it had at the op call: jit's
// donated arguments (written in place by the plan), a compiled training step (its state and
// parameters donated), and the replace-the-value paths (`assign`, optimizers, `nn.init`,
// `loadStateDict`). `backend.write` only ever fills fresh buffers (fromTyped, the tracer).

let previous = 0;
beforeAll(() => {
  expect(T.getBackend().deferElementwise).toBe(true);
  previous = T.setDeferThreshold(1);
});
afterAll(() => {
  T.setDeferThreshold(previous);
});

const values = (n: number, seed: number) => Array.from({ length: n }, (_, i) => Math.sin(seed * 7 + i) * 2);
const isPending = (t: A.Tensor) => t.peekValue().storage.pending !== undefined;

/** e^x of `x`'s current values, computed now (not deferred). */
function expNow(x: A.Tensor): number[] {
  const threshold = T.setDeferThreshold(Number.POSITIVE_INFINITY);
  try {
    return Array.from(A.exp(x).toTypedArray());
  } finally {
    T.setDeferThreshold(threshold);
  }
}

describe('a pending expression keeps reading the values its inputs had at the op call', () => {
  it('when jit donates the input and the plan overwrites it in place', () => {
    // The plan may write w · 3 (an intermediate) into w's buffer: w is donated and dead after it.
    const step = jit((w: A.Tensor) => A.sum(A.exp(A.mul(w, 3))), { donateArgnums: 0, fusion: false });
    step(A.tensor(values(64, 1))); // compiles
    const w = A.tensor(values(64, 2));
    const expected = expNow(w);
    const y = A.exp(w);
    expect(isPending(y)).toBe(true);
    const total = step(w);
    expect(Array.from(y.toTypedArray())).toEqual(expected);
    expect(total.item()).toBeCloseTo(
      values(64, 2).reduce((s, v) => s + Math.exp(3 * v), 0),
      0,
    );
  });

  it('when jit donates an input that requires grad (the differentiable call)', () => {
    const step = jit((w: A.Tensor) => A.sum(A.exp(A.mul(w, 3))), { donateArgnums: 0, fusion: false });
    step(A.tensor(values(64, 1), { requiresGrad: true })); // compiles
    const w = A.tensor(values(64, 2), { requiresGrad: true });
    const expected = expNow(w);
    const y = A.exp(w.detach());
    expect(isPending(y)).toBe(true);
    step(w).backward();
    expect(Array.from(y.toTypedArray())).toEqual(expected);
  });

  it('when a compiled training step updates the parameters and optimizer state in place', () => {
    nn.manualSeed(0);
    const model = new nn.Linear(4, 3);
    const optimizer = new Adam(model.parameters(), { lr: 0.1 });
    const step = compileStep({
      parameters: model.parameters(),
      loss: (x: A.Tensor) => A.sum(A.mul(model.forward(x), model.forward(x))),
      optimizer,
      fusion: false,
    });
    const x = A.tensor([values(4, 3), values(4, 4)]);
    step(x); // compile, and create the optimizer's state
    const weight = model.weight;
    const expected = expNow(weight);
    const y = A.exp(weight);
    expect(isPending(y)).toBe(true);
    step(x);
    step(x);
    expect(Array.from(y.toTypedArray())).toEqual(expected);
    expect(expNow(weight)).not.toEqual(expected);
  });

  it('when an eager optimizer step, assign, nn.init or loadStateDict replaces the value', () => {
    nn.manualSeed(1);
    const model = new nn.Linear(4, 3);
    const optimizer = new Adam(model.parameters(), { lr: 0.1 });
    const weight = model.weight;
    const checks: [A.Tensor, number[]][] = [];
    const watch = () => {
      const y = A.exp(weight);
      expect(isPending(y)).toBe(true);
      checks.push([y, expNow(weight)]);
    };
    watch();
    A.sum(A.mul(model.forward(A.tensor([values(4, 5)])), 2)).backward();
    optimizer.step();
    watch();
    weight.assign(A.tensor([values(4, 6), values(4, 7), values(4, 8)]));
    watch();
    nn.init.constant(weight, 0.25);
    watch();
    model.loadStateDict({
      weight: A.tensor([values(4, 9), values(4, 10), values(4, 11)]),
      bias: A.tensor(values(3, 12)),
    });
    for (const [y, expected] of checks) expect(Array.from(y.toTypedArray())).toEqual(expected);
    expect(expNow(weight)).not.toEqual(checks[checks.length - 1][1]);
  });
});
