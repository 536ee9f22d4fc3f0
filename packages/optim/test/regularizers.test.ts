import * as A from '@tsgrad/autograd';
import * as O from '@tsgrad/optim';
import * as T from '@tsgrad/tensor';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectClose, param, setGrad, values } from './helpers.js';

describe('L1 and L2 penalties', () => {
  it('are λΣ|p| and λΣp², with gradients λ·sign(p) and 2λp', () => {
    const w = param([1.5, -2, 0.25], [3]);
    const b = param([-0.5], [1]);
    const l1 = O.l1Penalty([w, b], 0.1);
    expect(l1.item()).toBeCloseTo(0.1 * (1.5 + 2 + 0.25 + 0.5), 15);
    l1.backward();
    expect(values(w.grad!)).toEqual([0.1, -0.1, 0.1]);
    expect(values(b.grad!)).toEqual([-0.1]);

    w.zeroGrad();
    b.zeroGrad();
    const l2 = O.l2Penalty([w, b], 0.01);
    expect(l2.item()).toBeCloseTo(0.01 * (2.25 + 4 + 0.0625 + 0.25), 15);
    l2.backward();
    expectClose(values(w.grad!), [0.03, -0.04, 0.005]);
    expectClose(values(b.grad!), [-0.01]);
  });

  it('add to a loss; the gradient of the L2 term equals SGD weight decay 2λ', () => {
    const p = param([0.7, -1.2]);
    const q = param([0.7, -1.2]);
    const withPenalty = new O.SGD([p], { lr: 0.1 });
    const withDecay = new O.SGD([q], { lr: 0.1, weightDecay: 0.02 });
    for (let t = 0; t < 3; t++) {
      withPenalty.zeroGrad();
      A.add(A.sum(A.square(p)), O.l2Penalty([p], 0.01)).backward();
      withPenalty.step();
      withDecay.zeroGrad();
      A.sum(A.square(q)).backward();
      withDecay.step();
    }
    expectClose(values(p), values(q), 1e-14);
  });

  it('of no parameters is zero', () => {
    expect(O.l1Penalty([], 1).item()).toBe(0);
  });
});

describe('maxNormConstraint', () => {
  it('rescales only the rows whose norm exceeds maxNorm (torch.renorm(w, 2, 0, maxNorm))', () => {
    const w = param([3, 4, 0.3, 0.4, 0, 0], [3, 2]);
    O.maxNormConstraint([w], 1);
    const [r0, r1, r2] = [values(w).slice(0, 2), values(w).slice(2, 4), values(w).slice(4)];
    expectClose(r0, [3 / (5 + 1e-7), 4 / (5 + 1e-7)]);
    expect(r1).toEqual([0.3, 0.4]);
    expect(r2).toEqual([0, 0]);
  });

  it('takes the axes to norm over (Keras MaxNorm(axis=0) on a [in, out] kernel)', () => {
    const w = param([3, 0.1, 4, 0.1], [2, 2]);
    O.maxNormConstraint([w], 2, { axis: 0 });
    // column 0 = (3, 4) has norm 5 → scaled to norm 2; column 1 is left alone
    expectClose(values(w), [(3 * 2) / (5 + 1e-7), 0.1, (4 * 2) / (5 + 1e-7), 0.1]);
  });

  it('keeps every norm within maxNorm (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: 6, maxLength: 6 }),
        fc.double({ min: 0.1, max: 5, noNaN: true }),
        (data, maxNorm) => {
          const w = param(data, [2, 3]);
          O.maxNormConstraint([w], maxNorm);
          const v = values(w);
          for (const row of [v.slice(0, 3), v.slice(3)])
            expect(Math.hypot(...row)).toBeLessThanOrEqual(maxNorm + 1e-9);
        },
      ),
      { numRuns: 30 },
    );
  });
});

describe('gradient clipping', () => {
  it('clipGradNorm scales all gradients together and returns the total norm', () => {
    const p = param([0, 0]);
    const q = param([0]);
    setGrad(p, [3, 4]);
    setGrad(q, [12]);
    const r = param([5]); // no gradient: skipped
    const norm = O.clipGradNorm([p, q, r], 6.5);
    expect(norm).toBe(13);
    const scale = 6.5 / (13 + 1e-6);
    expectClose(values(p.grad!), [3 * scale, 4 * scale]);
    expectClose(values(q.grad!), [12 * scale]);
    expect(O.clipGradNorm([p, q], 100)).toBeCloseTo(6.5, 6);
    expectClose(values(q.grad!), [12 * scale]); // below maxNorm: unchanged
  });

  it('clipGradNorm with the infinity norm and the 1-norm', () => {
    const p = param([0, 0, 0]);
    setGrad(p, [1, -3, 2]);
    expect(O.clipGradNorm([p], 10, Number.POSITIVE_INFINITY)).toBe(3);
    expect(O.clipGradNorm([p], 3, 1)).toBe(6);
    expectClose(
      values(p.grad!),
      [1, -3, 2].map((g) => (g * 3) / (6 + 1e-6)),
    );
    setGrad(p, [Number.NaN, 0, 0]);
    expect(() => O.clipGradNorm([p], 1, 2, { errorIfNonfinite: true })).toThrow(/clipGradNorm/);
  });

  it('clipGradValue clamps in place, keeping the gradient tensor', () => {
    const p = param([0, 0, 0]);
    setGrad(p, [-5, 0.3, 2]);
    const grad = p.grad;
    O.clipGradValue([p], 1);
    expect(p.grad).toBe(grad);
    expect(values(p.grad!)).toEqual([-1, 0.3, 1]);
  });

  it('the transforms clipByGlobalNorm and clipByValue do the same in a chain', () => {
    const params = [param([0, 0]), param([0])];
    const grads = [T.array(Float64Array.from([3, 4])), T.array(Float64Array.from([12]))];
    const byNorm = O.clipByGlobalNorm(6.5);
    const { updates } = byNorm.update(grads, byNorm.init(params), params);
    expectClose(
      values(updates[0]),
      [3, 4].map((g) => (g * 6.5) / (13 + 1e-6)),
    );
    const clipped = O.chain(O.clipByValue(3.5), O.scale(2));
    const out = clipped.update(grads, clipped.init(params), params).updates;
    expect(out.map(values)).toEqual([[6, 7], [7]]);
  });
});

describe('exponential moving average of weights', () => {
  it('update folds in d·shadow + (1 − d)·p; apply and restore swap values', () => {
    const p = param([1, 2]);
    const ema = new O.ExponentialMovingAverage([p], { decay: 0.9 });
    p.assign(T.array(Float64Array.from([2, 4])));
    ema.update();
    expectClose(values(ema.averages[0]), [0.9 * 1 + 0.1 * 2, 0.9 * 2 + 0.1 * 4]);
    p.assign(T.array(Float64Array.from([3, 0])));
    ema.update();
    const expected = [0.9 * 1.1 + 0.1 * 3, 0.9 * 2.2 + 0.1 * 0];
    expectClose(values(ema.averages[0]), expected);
    ema.apply();
    expectClose(values(p), expected);
    ema.restore();
    expect(values(p)).toEqual([3, 0]);
    expect(() => ema.restore()).toThrow(/apply\(\) first/);
    const target = param([0, 0]);
    ema.copyTo([target]);
    expectClose(values(target), expected);
  });

  it('useNumUpdates warms the decay up as min(decay, (1 + n)/(10 + n))', () => {
    const p = param([0]);
    const ema = new O.ExponentialMovingAverage([p], { decay: 0.999, useNumUpdates: true });
    p.assign(T.array(Float64Array.from([1])));
    ema.update(); // d = 2/11
    expectClose(values(ema.averages[0]), [1 - 2 / 11]);
  });

  it('survives stateDict / loadStateDict', () => {
    const p = param([1, 2]);
    const ema = new O.ExponentialMovingAverage([p], { decay: 0.5 });
    p.assign(T.array(Float64Array.from([3, 3])));
    ema.update();
    const other = new O.ExponentialMovingAverage([param([0, 0])], { decay: 0.1 });
    other.loadStateDict(ema.stateDict());
    expect(values(other.averages[0])).toEqual([2, 2.5]);
    expect([other.options.decay, other.numUpdates]).toEqual([0.5, 1]);
  });

  it('the ema transform tracks the same averages inside an optimizer chain', () => {
    const p = param([1, -1]);
    const q = param([1, -1]);
    const tracker = new O.ExponentialMovingAverage([q], { decay: 0.8 });
    const optimizerQ = new O.SGD([q], { lr: 0.1 });
    const transform = O.chain(O.sgd({ lr: 0.1 }), O.ema({ decay: 0.8 }));
    let state = transform.init([p]);
    for (let t = 0; t < 4; t++) {
      const grad = T.array(Float64Array.from([t, 1 - t]));
      const result = transform.update([grad], state, [p]);
      state = result.state;
      O.applyUpdates([p], result.updates);
      q.grad = new A.Tensor(grad);
      optimizerQ.step();
      tracker.update();
    }
    expect(values(p)).toEqual(values(q));
    expect(values(state[1].shadow[0])).toEqual(values(tracker.averages[0]));
  });
});

describe('EarlyStopping', () => {
  it('stops after `patience` epochs without an improvement larger than minDelta', () => {
    const stopper = new O.EarlyStopping({ patience: 2, minDelta: 0.01 });
    // 0.495 is better than 0.5 by less than minDelta: not an improvement
    const decisions = [1, 0.5, 0.495, 0.6].map((loss) => stopper.step(loss));
    expect(decisions).toEqual([false, false, false, true]);
    expect([stopper.best, stopper.bestEpoch, stopper.wait]).toEqual([0.5, 1, 2]);
    expect(stopper.step(0.1)).toBe(true); // once stopped, it stays stopped
  });

  it('mode max and a baseline', () => {
    const stopper = new O.EarlyStopping({ mode: 'max', patience: 2, baseline: 0.9 });
    expect([0.8, 0.95, 0.94, 0.96].map((acc) => stopper.step(acc))).toEqual([false, false, false, false]);
    expect(stopper.best).toBe(0.96);
    expect(stopper.step(0.9)).toBe(false);
    expect(stopper.step(Number.NaN)).toBe(true);
  });
});
