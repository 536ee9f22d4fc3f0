import * as O from '@tsgrad/optim';
import { describe, expect, it } from 'vitest';
import { param } from './helpers.js';

// Schedule values at chosen steps against the closed forms in the torch.optim.lr_scheduler docs.

const close = (actual: number, expected: number) => expect(actual).toBeCloseTo(expected, 14);

describe('pure schedules', () => {
  it('constant', () => {
    expect([0, 7, 1000].map(O.constantSchedule(0.3))).toEqual([0.3, 0.3, 0.3]);
  });

  it('step: 0.05 until 30, 0.005 until 60, 0.0005 until 90 (the StepLR docs example)', () => {
    const s = O.stepSchedule({ lr: 0.05, stepSize: 30, gamma: 0.1 });
    [
      [0, 0.05],
      [29, 0.05],
      [30, 0.005],
      [59, 0.005],
      [60, 0.0005],
      [89, 0.0005],
    ].forEach(([t, lr]) => {
      close(s(t), lr);
    });
  });

  it('multistep: milestones 30 and 80 (the MultiStepLR docs example)', () => {
    const s = O.multiStepSchedule({ lr: 0.05, milestones: [30, 80], gamma: 0.1 });
    [
      [0, 0.05],
      [29, 0.05],
      [30, 0.005],
      [79, 0.005],
      [80, 0.0005],
      [500, 0.0005],
    ].forEach(([t, lr]) => {
      close(s(t), lr);
    });
  });

  it('exponential: lr·γᵗ', () => {
    const s = O.exponentialSchedule({ lr: 0.1, gamma: 0.9 });
    close(s(0), 0.1);
    close(s(1), 0.09);
    close(s(10), 0.1 * 0.9 ** 10);
  });

  it('cosine annealing: η_min + ½(η_max − η_min)(1 + cos(πt/T_max))', () => {
    const [etaMax, etaMin, tMax] = [0.1, 0.001, 50];
    const s = O.cosineAnnealingSchedule({ lr: etaMax, tMax, etaMin });
    close(s(0), etaMax);
    close(s(25), (etaMax + etaMin) / 2);
    close(s(50), etaMin);
    close(s(10), etaMin + 0.5 * (etaMax - etaMin) * (1 + Math.cos((Math.PI * 10) / tMax)));
  });

  it('cosine annealing with warm restarts: periods T₀, T₀·T_mult, …', () => {
    const [lr, etaMin] = [0.1, 0.001];
    const value = (tCur: number, tI: number) =>
      etaMin + 0.5 * (lr - etaMin) * (1 + Math.cos((Math.PI * tCur) / tI));
    const doubling = O.cosineAnnealingWarmRestartsSchedule({ lr, t0: 10, tMult: 2, etaMin });
    // periods [0,10), [10,30), [30,70), [70,150)
    close(doubling(0), lr);
    close(doubling(9), value(9, 10));
    close(doubling(10), lr);
    close(doubling(20), value(10, 20));
    close(doubling(30), lr);
    close(doubling(69), value(39, 40));
    close(doubling(70), lr);
    close(doubling(100), value(30, 80));
    const fixed = O.cosineAnnealingWarmRestartsSchedule({ lr, t0: 10, etaMin });
    close(fixed(25), value(5, 10));
    close(fixed(40), lr);
  });

  it('polynomial: (lr − end)(1 − min(t,T)/T)^power + end', () => {
    const s = O.polynomialSchedule({ lr: 0.1, totalSteps: 4, power: 2 });
    close(s(0), 0.1);
    close(s(2), 0.1 * 0.5 ** 2);
    expect(s(4)).toBe(0);
    expect(s(10)).toBe(0);
    close(O.polynomialSchedule({ lr: 1, totalSteps: 10, endLr: 0.5 })(5), 0.75);
  });

  it('linear warmup chained with another schedule', () => {
    const cosine = O.cosineAnnealingSchedule({ lr: 0.2, tMax: 100 });
    const s = O.linearWarmup(cosine, { warmupSteps: 5 });
    close(s(0), 0);
    close(s(2), 0.2 * (2 / 5));
    close(s(5), 0.2);
    close(s(5 + 40), cosine(40));
    const fromHalf = O.linearWarmup(O.constantSchedule(1), { warmupSteps: 4, startFactor: 0.5 });
    expect([0, 1, 2, 3, 4, 9].map(fromHalf)).toEqual([0.5, 0.625, 0.75, 0.875, 1, 1]);
  });

  it('sequential: each schedule restarts at its milestone', () => {
    const s = O.sequentialSchedule(
      [O.constantSchedule(1), O.exponentialSchedule({ lr: 2, gamma: 0.5 })],
      [3],
    );
    expect([0, 2, 3, 4, 5].map(s)).toEqual([1, 1, 2, 1, 0.5]);
  });

  it("one-cycle: torch's OneCycleLR phases with cosine annealing", () => {
    const [maxLr, total] = [1, 100];
    const initial = maxLr / 25;
    const min = initial / 1e4;
    const s = O.oneCycleSchedule({ maxLr, totalSteps: total });
    // phase ends: 0.3·100 − 1 = 29 and 99
    close(s(0), initial);
    close(s(29), maxLr);
    close(s(99), min);
    const pct = (64 - 29) / (99 - 29);
    close(s(64), min + ((maxLr - min) / 2) * (Math.cos(Math.PI * pct) + 1));
    close(s(10), maxLr + ((initial - maxLr) / 2) * (Math.cos((Math.PI * 10) / 29) + 1));
    const linear = O.oneCycleSchedule({ maxLr, totalSteps: total, annealStrategy: 'linear' });
    close(linear(10), initial + (maxLr - initial) * (10 / 29));
    const three = O.oneCycleSchedule({ maxLr, totalSteps: total, threePhase: true });
    // phase ends: 29, 2·30 − 2 = 58, 99
    close(three(29), maxLr);
    close(three(58), initial);
    close(three(99), min);
    expect(() => s(101)).toThrow(/beyond totalSteps/);
  });

  it('rejects bad arguments', () => {
    expect(() => O.stepSchedule({ lr: 1, stepSize: 0 })).toThrow(/stepSize/);
    expect(() => O.multiStepSchedule({ lr: 1, milestones: [5, 2] })).toThrow(/increasing/);
    expect(() => O.cosineAnnealingWarmRestartsSchedule({ lr: 1, t0: 10, tMult: 1.5 })).toThrow(/tMult/);
    expect(() => O.oneCycleSchedule({ maxLr: 1, totalSteps: 10, pctStart: 2 })).toThrow(/pctStart/);
  });
});

describe('LRScheduler', () => {
  it('drives every group from its own base lr', () => {
    const optimizer = new O.SGD([
      { params: [param([1])], lr: 0.1 },
      { params: [param([1])], lr: 0.01 },
    ]);
    const scheduler = new O.StepLR(optimizer, { stepSize: 2, gamma: 0.5 });
    const seen: number[][] = [];
    for (let epoch = 0; epoch < 5; epoch++) {
      seen.push(optimizer.paramGroups.map((g) => g.lr));
      expect(scheduler.getLastLr()).toEqual(seen[epoch]);
      optimizer.step();
      scheduler.step();
    }
    expect(seen).toEqual([
      [0.1, 0.01],
      [0.1, 0.01],
      [0.05, 0.005],
      [0.05, 0.005],
      [0.025, 0.0025],
    ]);
  });

  it('sets the step-0 value on creation (LinearLR warms up from startFactor)', () => {
    const optimizer = new O.Adam([param([1])], { lr: 0.3 });
    const scheduler = new O.LinearLR(optimizer, { startFactor: 0.5, totalIters: 2 });
    close(optimizer.paramGroups[0].lr, 0.15);
    scheduler.step();
    close(optimizer.paramGroups[0].lr, 0.225);
    scheduler.step();
    scheduler.step();
    close(optimizer.paramGroups[0].lr, 0.3);
  });

  it('takes any schedule factory, and resumes from its state dict', () => {
    const make = () => new O.SGD([param([1])], { lr: 0.1 });
    const factory = (lr: number) => O.cosineAnnealingSchedule({ lr, tMax: 10 });
    const a = make();
    const schedulerA = new O.LRScheduler(a, factory);
    for (let i = 0; i < 4; i++) schedulerA.step();
    const b = make();
    const schedulerB = new O.LRScheduler(b, factory);
    schedulerB.loadStateDict(JSON.parse(JSON.stringify(schedulerA.stateDict())));
    schedulerA.step();
    schedulerB.step();
    expect(b.paramGroups[0].lr).toBe(a.paramGroups[0].lr);
    close(a.paramGroups[0].lr, O.cosineAnnealingSchedule({ lr: 0.1, tMax: 10 })(5));
  });

  it('the torch-named schedulers follow their schedules', () => {
    const lrAfter = (make: (o: O.SGD) => O.LRScheduler, steps: number) => {
      const optimizer = new O.SGD([param([1])], { lr: 0.1 });
      const scheduler = make(optimizer);
      for (let i = 0; i < steps; i++) scheduler.step();
      return optimizer.paramGroups[0].lr;
    };
    close(
      lrAfter((o) => new O.MultiStepLR(o, { milestones: [2, 4] }), 4),
      0.001,
    );
    close(
      lrAfter((o) => new O.ExponentialLR(o, { gamma: 0.5 }), 3),
      0.0125,
    );
    close(
      lrAfter((o) => new O.CosineAnnealingLR(o, { tMax: 4 }), 2),
      0.05,
    );
    close(
      lrAfter((o) => new O.CosineAnnealingWarmRestarts(o, { t0: 3 }), 3),
      0.1,
    );
    close(
      lrAfter((o) => new O.PolynomialLR(o, { totalIters: 4, power: 1 }), 1),
      0.075,
    );
    close(
      lrAfter((o) => new O.LambdaLR(o, (e) => 1 / (e + 1)), 3),
      0.025,
    );
  });

  it('OneCycleLR sets the lr and cycles momentum (SGD) or β₁ (Adam) inversely', () => {
    const sgd = new O.SGD([param([1])], { momentum: 0.9 });
    const schedule = new O.OneCycleLR(sgd, { maxLr: 1, totalSteps: 10 });
    close(sgd.paramGroups[0].lr, 0.04);
    expect(sgd.paramGroups[0].momentum).toBeCloseTo(0.95, 14);
    for (let i = 0; i < 2; i++) schedule.step(); // step 2 = 0.3·10 − 1: the peak
    close(sgd.paramGroups[0].lr, 1);
    expect(sgd.paramGroups[0].momentum).toBeCloseTo(0.85, 14);
    for (let i = 0; i < 7; i++) schedule.step();
    close(sgd.paramGroups[0].lr, 0.04 / 1e4);
    expect(sgd.paramGroups[0].momentum).toBeCloseTo(0.95, 14);

    const adam = new O.Adam([param([1])]);
    new O.OneCycleLR(adam, { maxLr: [0.01], totalSteps: 10 });
    expect(adam.paramGroups[0].betas).toEqual([0.95, 0.999]);
    expect(() => new O.OneCycleLR(new O.Adagrad([param([1])]), { maxLr: 1, totalSteps: 10 })).toThrow(
      /momentum/,
    );
    new O.OneCycleLR(new O.Adagrad([param([1])]), { maxLr: 1, totalSteps: 10, cycleMomentum: false });
  });
});

describe('ReduceLROnPlateau', () => {
  const lrs = (metrics: number[], options: O.ReduceLROnPlateauOptions, lr = 1) => {
    const optimizer = new O.SGD([param([1])], { lr });
    const plateau = new O.ReduceLROnPlateau(optimizer, options);
    return metrics.map((m) => {
      plateau.step(m);
      return optimizer.paramGroups[0].lr;
    });
  };

  it('reduces once more than `patience` epochs have not improved', () => {
    expect(lrs([1, 1, 1, 1, 1, 1], { patience: 2, factor: 0.5 })).toEqual([1, 1, 1, 0.5, 0.5, 0.5]);
    expect(lrs([5, 5, 5, 5, 5], { patience: 1 })).toEqual([1, 1, 0.1, 0.1, 0.010000000000000002]);
  });

  it('an improvement resets the count', () => {
    expect(lrs([3, 3, 2, 2, 2, 1], { patience: 2, factor: 0.5 })).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('waits `cooldown` epochs after a reduction', () => {
    expect(
      lrs([5, 5, 5, 5, 5, 5, 5, 5], { patience: 1, cooldown: 2 }).map((x) => +x.toPrecision(12)),
    ).toEqual([1, 1, 0.1, 0.1, 0.1, 0.1, 0.01, 0.01]);
  });

  it('never goes below minLr', () => {
    expect(lrs([1, 1, 1, 1, 1, 1, 1], { patience: 0, minLr: 0.05 })).toEqual([
      1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.05,
    ]);
  });

  it('counts only improvements beyond the threshold (relative or absolute), in either mode', () => {
    const optimizer = new O.SGD([param([1])]);
    const rel = new O.ReduceLROnPlateau(optimizer, { threshold: 0.1 });
    rel.step(1);
    rel.step(0.95); // not below 1·(1 − 0.1)
    expect([rel.best, rel.numBadEpochs]).toEqual([1, 1]);
    rel.step(0.89);
    expect([rel.best, rel.numBadEpochs]).toEqual([0.89, 0]);
    const max = new O.ReduceLROnPlateau(optimizer, { mode: 'max', threshold: 0.5, thresholdMode: 'abs' });
    max.step(1);
    max.step(1.4);
    expect([max.best, max.numBadEpochs]).toEqual([1, 1]);
    max.step(1.6);
    expect([max.best, max.numBadEpochs]).toEqual([1.6, 0]);
  });

  it('resumes from a JSON round trip of its state dict (an infinite best becomes null)', () => {
    const optimizer = new O.SGD([param([1])]);
    const fresh = new O.ReduceLROnPlateau(optimizer, { patience: 0 });
    const copy = new O.ReduceLROnPlateau(optimizer, { patience: 0 });
    copy.loadStateDict(JSON.parse(JSON.stringify(fresh.stateDict())));
    expect(copy.best).toBe(Number.POSITIVE_INFINITY);
    copy.step(3);
    expect(copy.best).toBe(3);
  });
});
