import * as O from '@tsgrad/optim';
import * as T from '@tsgrad/tensor';
import { describe, expect, it } from 'vitest';
import { cloneParam, param, setGrad, values } from './helpers.js';

// Hostile hyper-parameters and saved states: every one is a TsgradError naming the optimizer
// (or function) and the option, thrown before anything changes.

/** Calls `fn` with a value of the wrong type, as untyped (e.g. JSON-fed) callers do. */
const untyped = (value: unknown) => value as never;

function expectTyped(fn: () => unknown, message: RegExp): void {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(T.TsgradError);
  expect((error as Error).message).toMatch(message);
}

type AnyOptimizer = O.Optimizer<{ lr: number }>;
const classes: [string, (p: ReturnType<typeof param>[], options: object) => AnyOptimizer][] = [
  ['SGD', (p, o) => new O.SGD(p, o)],
  ['Adam', (p, o) => new O.Adam(p, o)],
  ['AdamW', (p, o) => new O.AdamW(p, o)],
  ['Adamax', (p, o) => new O.Adamax(p, o)],
  ['NAdam', (p, o) => new O.NAdam(p, o)],
  ['RMSprop', (p, o) => new O.RMSprop(p, o)],
  ['Adagrad', (p, o) => new O.Adagrad(p, o)],
  ['Adadelta', (p, o) => new O.Adadelta(p, o)],
  ['Lion', (p, o) => new O.Lion(p, o)],
];

describe('hyper-parameters are checked at construction', () => {
  for (const [name, make] of classes) {
    it(`${name}: lr, weightDecay, maximize and unknown options`, () => {
      const p = [param([1, 2])];
      expectTyped(
        () => make(p, { lr: '0.1' }),
        new RegExp(`^${name}: lr must be a non-negative number or a schedule, got '0.1'$`),
      );
      expectTyped(() => make(p, { lr: -1 }), new RegExp(`^${name}: lr must be .*, got -1`));
      expectTyped(() => make(p, { lr: Number.NaN }), new RegExp(`^${name}: lr .*got NaN`));
      expectTyped(
        () => make(p, { lr: (t: number) => 1 / (t + 1) }),
        new RegExp(`^${name}: lr must be a number`),
      );
      expectTyped(() => make(p, { weightDecay: 'x' }), new RegExp(`^${name}: weightDecay must be`));
      expectTyped(() => make(p, { maximize: 1 }), new RegExp(`^${name}: maximize must be true or false`));
      expectTyped(() => make(p, { lrr: 0.1 }), new RegExp(`^${name}: unknown option 'lrr'`));
      expectTyped(() => make([{ params: p, lr: '1' } as never], {}), new RegExp(`^${name}: lr must be`));
    });
  }

  it('betas (PyTorch: "Invalid beta parameter at index 0"), eps, momentum, alpha, rho', () => {
    const p = [param([1])];
    for (const make of [O.Adam, O.AdamW, O.Adamax, O.NAdam, O.Lion]) {
      expectTyped(
        () => new make(p, { betas: [1, 0.9] }),
        /: betas\[0\] must be a number in \[0, 1\), got 1$/,
      );
      expectTyped(() => new make(p, { betas: [0.9, -0.1] }), /: betas\[1\] must be a number in \[0, 1\)/);
      expectTyped(() => new make(p, untyped({ betas: [0.9] })), /: betas must be a list of 2, got \[0\.9\]/);
      expectTyped(() => new make(p, untyped({ betas: 0.9 })), /: betas must be a list of 2/);
    }
    expectTyped(() => new O.Adam(p, { eps: -1 }), /^Adam: eps must be a non-negative number, got -1$/);
    expectTyped(() => new O.Adam(p, untyped({ amsgrad: 'yes' })), /^Adam: amsgrad must be true or false/);
    expectTyped(() => new O.SGD(p, { momentum: -0.5 }), /^SGD: momentum must be a non-negative number/);
    expectTyped(() => new O.RMSprop(p, { alpha: 1.5 }), /^RMSprop: alpha must be a number in \[0, 1\]/);
    expectTyped(() => new O.Adadelta(p, { rho: Number.NaN }), /^Adadelta: rho must be/);
    expectTyped(() => new O.Adagrad(p, { initialAccumulatorValue: -1 }), /^Adagrad: initialAccumulatorValue/);
    expectTyped(() => new O.NAdam(p, { momentumDecay: -1 }), /^NAdam: momentumDecay/);
  });

  it('the parameters themselves', () => {
    expectTyped(() => new O.SGD(untyped(5)), /^SGD: params must be an iterable/);
    expectTyped(() => new O.Adam(untyped(null)), /^Adam: params must be an iterable/);
    expectTyped(() => new O.Adam(untyped([{ params: 3 }])), /^Adam: params must be an iterable of Tensors/);
    expectTyped(
      () => new O.Adam(untyped([{ params: [1, 2] }])),
      /^Adam: params must be an iterable of Tensors/,
    );
  });

  it('the functional optimizers and building blocks check theirs too', () => {
    expectTyped(
      () => O.adam({ lr: untyped('0.1') }),
      /^Adam: lr must be a non-negative number or a schedule, got '0.1'$/,
    );
    expect(() => O.adam({ lr: (t) => 0.1 / (t + 1) })).not.toThrow();
    expectTyped(() => O.sgd(untyped({ nesterov: 'no' })), /^SGD: nesterov must be true or false/);
    expectTyped(
      () => O.scaleByAdam({ beta1: untyped('0.9') }),
      /^scaleByAdam: beta1 must be a number in \[0, 1\), got '0.9'/,
    );
    expectTyped(() => O.scaleByLearningRate(untyped('1')), /^scaleByLearningRate: lr must be/);
    expectTyped(() => O.addDecayedWeights(Number.NaN), /^addDecayedWeights: weightDecay/);
    expectTyped(() => O.traceMomentum({ momentum: untyped(null) }), /^traceMomentum: momentum/);
    expectTyped(() => O.ema({ decay: 2 }), /^ema: decay must be a number in \[0, 1\], got 2/);
    expectTyped(() => O.scale(Number.POSITIVE_INFINITY), /^scale: factor must be a finite number/);
    expectTyped(
      () => O.clipByGlobalNorm(1, 0),
      /^clipByGlobalNorm: normType must be a positive number or Infinity/,
    );
    expectTyped(() => O.clipGradNorm(untyped(7), 1), /^clipGradNorm: params must be an iterable of Tensors/);
    expectTyped(() => O.l2Penalty([param([1])], untyped('1')), /^l2Penalty: lambda must be/);
  });

  it('schedules and schedulers', () => {
    expectTyped(() => O.stepSchedule({ lr: untyped('1'), stepSize: 2 }), /^stepSchedule: lr must be/);
    expectTyped(() => O.stepSchedule({ lr: 1, stepSize: 2, gamma: -1 }), /^stepSchedule: gamma must be/);
    expectTyped(() => O.exponentialSchedule({ lr: 1, gamma: Number.NaN }), /^exponentialSchedule: gamma/);
    expectTyped(
      () => O.cosineAnnealingSchedule({ lr: 1, tMax: untyped('10') }),
      /^cosineAnnealingSchedule: tMax/,
    );
    expectTyped(
      () => O.multiStepSchedule({ lr: 1, milestones: [1.5] }),
      /^multiStepSchedule: milestones\[0\]/,
    );
    expectTyped(
      () => O.linearSchedule({ start: 0, end: 1, steps: 0 }),
      /^linearSchedule: steps must be a positive/,
    );
    expectTyped(
      () => O.sequentialSchedule([untyped(1)], []),
      /^sequentialSchedule: schedules\[0\] must be a function/,
    );
    expectTyped(
      () => O.oneCycleSchedule({ maxLr: 1, totalSteps: 10, annealStrategy: untyped('cosine') }),
      /^oneCycleSchedule: annealStrategy must be one of 'cos', 'linear', got 'cosine'/,
    );
    const optimizer = new O.SGD([param([1])], { momentum: 0.9 });
    expectTyped(() => new O.StepLR(optimizer, { stepSize: untyped('2') }), /^stepSchedule: stepSize/);
    expectTyped(
      () => new O.StepLR(untyped({}), { stepSize: 2 }),
      /^StepLR: expected an optimizer with paramGroups/,
    );
    expectTyped(() => new O.LambdaLR(optimizer, untyped(3)), /^LambdaLR: lrLambda must be a function/);
    expectTyped(
      () => new O.OneCycleLR(optimizer, { maxLr: 1, totalSteps: 10, baseMomentum: 2 }),
      /^OneCycleLR: baseMomentum must be a number in \[0, 1\]/,
    );
    expect(() => new O.OneCycleLR(optimizer, { maxLr: 1, totalSteps: 10, baseMomentum: 0.8 })).not.toThrow();
    expectTyped(() => new O.ReduceLROnPlateau(optimizer, { factor: 1 }), /^ReduceLROnPlateau: factor/);
    expectTyped(
      () => new O.ReduceLROnPlateau(optimizer, untyped({ mode: 'up' })),
      /^ReduceLROnPlateau: mode/,
    );
    expectTyped(
      () => new O.ReduceLROnPlateau(optimizer, { minLr: [0, 0] }),
      /^ReduceLROnPlateau: minLr must be a list of 1/,
    );
    expectTyped(
      () => new O.EarlyStopping({ patience: 1.5 }),
      /^EarlyStopping: patience must be a non-negative integer/,
    );
    expectTyped(
      () => new O.ExponentialMovingAverage([param([1])], { decay: untyped('0.9') }),
      /^ExponentialMovingAverage: decay/,
    );
  });
});

/** A deep copy of an optimizer state dict (arrays as plain numbers), to compare before and after. */
const snapshot = (dict: O.OptimizerStateDict) => ({
  state: Object.fromEntries(Object.entries(dict.state).map(([k, a]) => [k, [a.dtype, a.shape, values(a)]])),
  meta: JSON.parse(JSON.stringify(dict.meta)),
});

describe('Optimizer.loadStateDict is all-or-nothing', () => {
  const trained = () => {
    const p = param([1, -2, 0.5]);
    const optimizer = new O.Adam([p], { lr: 0.1, amsgrad: true });
    for (let t = 0; t < 3; t++) {
      setGrad(p, [t, 1, -t]);
      optimizer.step();
    }
    return { p, optimizer };
  };

  it('rejects every malformed state with a typed error and leaves the optimizer as it was', () => {
    const { p, optimizer } = trained();
    const good = optimizer.stateDict();
    const before = snapshot(good);
    const withMeta = (meta: object) => ({ state: good.state, meta: { ...good.meta, ...meta } }) as never;
    const withScalars = (scalars: object) => withMeta({ scalars: { 0: scalars } });
    const withGroup = (hyper: object) =>
      withMeta({ paramGroups: [{ ...good.meta.paramGroups[0], ...hyper }] });
    const withArray = (array: unknown) =>
      ({ state: { ...good.state, '0.expAvg': array }, meta: good.meta }) as never;
    const bad: [unknown, RegExp][] = [
      [{}, /^Adam\.loadStateDict: state dict is missing state, meta$/],
      [null, /^Adam\.loadStateDict: state dict must be an object, got null/],
      [{ state: {}, meta: {} }, /meta is missing paramGroups, scalars/],
      [withMeta({ paramGroups: 'x' }), /meta\.paramGroups must be a list/],
      [withScalars({ step: -5 }), /0\.step must be a non-negative integer, got -5/],
      [withScalars({ step: 1.5 }), /0\.step must be a non-negative integer, got 1\.5/],
      [withScalars({ step: Number.NaN }), /0\.step must be a non-negative integer, got NaN/],
      [withScalars({ step: '3' }), /0\.step must be a non-negative integer, got '3'/],
      [withScalars({}), /missing the number 0\.step/],
      [withScalars({ step: 3, extra: 1 }), /unexpected numbers 0\.extra/],
      [withMeta({ scalars: { 7: { step: 3 } } }), /state for parameter 7, which no group has/],
      [withGroup({ lr: '0.1' }), /^Adam: lr must be a non-negative number or a schedule, got '0.1'/],
      [withGroup({ lr: -1 }), /^Adam: lr must be/],
      [withGroup({ betas: [1, 0.9] }), /^Adam: betas\[0\] must be a number in \[0, 1\)/],
      [withGroup({ eps: Number.POSITIVE_INFINITY }), /^Adam: eps must be a non-negative number/],
      [withGroup({ momentum: 0.9 }), /^Adam: unknown option 'momentum'/],
      [withGroup({ params: [0.5] }), /paramGroups\[0\]\.params\[0\] must be a non-negative integer/],
      [withGroup({ params: [0, 0] }), /parameter 0 is saved in more than one place/],
      [withArray(T.full([3], Number.NaN)), /0\.expAvg holds the non-finite value NaN at index 0/],
      [withArray(T.zeros([3], { dtype: 'int32' })), /0\.expAvg has dtype int32, expected float32 or float64/],
      [withArray([0, 0, 0]), /0\.expAvg must be an NDArray/],
      [withArray(T.zeros([4])), /0\.expAvg has shape \[4\], expected \[3\]/],
    ];
    for (const [dict, message] of bad) expectTyped(() => optimizer.loadStateDict(dict as never), message);

    expect(snapshot(optimizer.stateDict())).toEqual(before);
    expect(optimizer.paramGroups[0].lr).toBe(0.1);
    // and it goes on exactly as an optimizer that was never offered a bad state
    const { p: q, optimizer: untouched } = trained();
    for (const [param, opt] of [
      [p, optimizer],
      [q, untouched],
    ] as const) {
      setGrad(param, [0.5, 0.5, 0.5]);
      opt.step();
    }
    expect(values(p)).toEqual(values(q));
    expect(values(p).every(Number.isFinite)).toBe(true);
  });

  it('a good state still loads after bad ones were refused', () => {
    const { optimizer } = trained();
    const p = cloneParam(param([1, -2, 0.5]));
    const fresh = new O.Adam([p], { lr: 0.1, amsgrad: true });
    expect(() => fresh.loadStateDict({} as never)).toThrow(T.ValueError);
    fresh.loadStateDict(optimizer.stateDict());
    expect(snapshot(fresh.stateDict())).toEqual(snapshot(optimizer.stateDict()));
  });
});

describe('the other loadStateDicts are all-or-nothing', () => {
  it('LRScheduler', () => {
    const optimizer = new O.SGD([param([1])], { lr: 1 });
    const scheduler = new O.StepLR(optimizer, { stepSize: 2, gamma: 0.5 });
    scheduler.step();
    const before = scheduler.stateDict();
    for (const dict of [
      {},
      { lastEpoch: -2, baseLrs: [1] },
      { lastEpoch: 1.5, baseLrs: [1] },
      { lastEpoch: 3, baseLrs: [1, 2] },
      { lastEpoch: 3, baseLrs: ['1'] },
      { lastEpoch: 3, baseLrs: [-1] },
      { lastEpoch: 3, baseLrs: [1], extra: 0 },
    ]) {
      expectTyped(() => scheduler.loadStateDict(dict as never), /^StepLR\.loadStateDict: state/);
    }
    expect(scheduler.stateDict()).toEqual(before);
    scheduler.loadStateDict({ lastEpoch: 3, baseLrs: [2] });
    scheduler.step();
    expect(scheduler.getLastLr()).toEqual([0.5]);
  });

  it('ReduceLROnPlateau', () => {
    const plateau = new O.ReduceLROnPlateau(new O.SGD([param([1])], { lr: 1 }), { patience: 0 });
    plateau.step(1);
    const before = plateau.stateDict();
    for (const dict of [
      {},
      { ...before, best: '1' },
      { ...before, numBadEpochs: -1 },
      { ...before, cooldownCounter: 0.5 },
      { ...before, lastEpoch: Number.NaN },
    ]) {
      expectTyped(() => plateau.loadStateDict(dict as never), /^ReduceLROnPlateau\.loadStateDict: state/);
    }
    expect(plateau.stateDict()).toEqual(before);
    plateau.loadStateDict({ ...before, best: null });
    expect(plateau.best).toBe(Number.POSITIVE_INFINITY);
  });

  it('ExponentialMovingAverage', () => {
    const p = param([1, 2]);
    const ema = new O.ExponentialMovingAverage([p], { decay: 0.5 });
    p.assign(T.array([3, 4], { dtype: 'float64' }));
    ema.update();
    const before = { averages: ema.averages.map(values), numUpdates: ema.numUpdates, options: ema.options };
    const good = ema.stateDict();
    for (const dict of [
      {},
      { state: good.state, meta: { ...good.meta, decay: 2 } },
      { state: good.state, meta: { ...good.meta, numUpdates: -5 } },
      { state: good.state, meta: { ...good.meta, useNumUpdates: 'no' } },
      { state: { 0: T.full([2], Number.POSITIVE_INFINITY) }, meta: good.meta },
      { state: { 0: T.zeros([3]) }, meta: good.meta },
      { state: { 0: T.zeros([2], { dtype: 'bool' }) }, meta: good.meta },
      { state: {}, meta: good.meta },
      { state: { ...good.state, 1: T.zeros([2]) }, meta: good.meta },
    ]) {
      expectTyped(() => ema.loadStateDict(dict as never), /^ExponentialMovingAverage\.loadStateDict: /);
    }
    expect({ averages: ema.averages.map(values), numUpdates: ema.numUpdates, options: ema.options }).toEqual(
      before,
    );
  });

  it('EarlyStopping round-trips through JSON and refuses a bad state', () => {
    const stopper = new O.EarlyStopping({ patience: 2 });
    for (const loss of [3, 2, 2.5]) stopper.step(loss);
    const resumed = new O.EarlyStopping({ patience: 2 });
    resumed.loadStateDict(JSON.parse(JSON.stringify(stopper.stateDict())));
    expect(resumed.step(2.6)).toBe(stopper.step(2.6));
    expect(resumed.stateDict()).toEqual(stopper.stateDict());
    const before = resumed.stateDict();
    for (const dict of [
      {},
      { ...before, wait: -1 },
      { ...before, shouldStop: 1 },
      { ...before, best: 'x' },
    ]) {
      expectTyped(() => resumed.loadStateDict(dict as never), /^EarlyStopping\.loadStateDict: state/);
    }
    expect(resumed.stateDict()).toEqual(before);
  });
});

describe('other public functions check their arguments', () => {
  it('null or missing options, and wrong lists', () => {
    expectTyped(
      () => O.stepSchedule(untyped(undefined)),
      /^stepSchedule: options must be an object, got undefined/,
    );
    expectTyped(() => O.stepSchedule(untyped({ stepSize: 2 })), /^stepSchedule: missing the option lr$/);
    expectTyped(() => O.scaleByAdam(untyped(null)), /^scaleByAdam: options must be an object, got null/);
    expectTyped(() => O.traceMomentum(untyped({})), /^traceMomentum: missing the option momentum/);
    expectTyped(() => O.ema(untyped(undefined)), /^ema: options must be an object/);
    expectTyped(
      () => O.applyUpdates(untyped(undefined), []),
      /^applyUpdates: params must be an iterable of Tensors/,
    );
    expectTyped(() => O.applyUpdates([], untyped([1])), /^applyUpdates: updates\[0\] must be an NDArray/);
    expectTyped(
      () => O.defineTransformation(untyped(undefined)),
      /^defineTransformation: transformation must be an object/,
    );
    expectTyped(() => O.totalNorm('norm', untyped(3), 2), /^norm: arrays must be a list/);
    expectTyped(
      () => O.annealPhases(0, untyped(undefined), [1], 'cos'),
      /^annealPhases: ends must be a list/,
    );
    const optimizer = new O.SGD([param([1])]);
    expectTyped(() => new O.LinearLR(optimizer, untyped(null)), /^LinearLR: options must be an object/);
    expectTyped(() => new O.PolynomialLR(optimizer, { power: -1 }), /^PolynomialLR: power must be/);
  });
});
