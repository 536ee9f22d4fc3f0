import * as A from '@tsgrad/autograd';
import * as O from '@tsgrad/optim';
import * as T from '@tsgrad/tensor';
import { describe, expect, it } from 'vitest';
import { cloneParam, param, values } from './helpers.js';

// The functional API (init/update/applyUpdates) and the object API (step) must follow the same
// trajectory bit for bit: both run the same transformation, per parameter or for all at once.

const inputs = new A.Tensor(
  T.array([
    [0.3, -1.2, 0.8],
    [1.5, 0.1, -0.4],
    [-0.7, 0.9, 0.2],
    [0.0, -0.5, 1.1],
  ]),
);
const targets = new A.Tensor(T.array([[1], [-1], [0.5], [2]]));

/** A small regression loss with a nonlinearity, so the gradients keep changing. */
const lossOf = (weight: A.Tensor, bias: A.Tensor) =>
  A.sum(A.square(A.sub(A.tanh(A.add(A.matmul(inputs, weight), bias)), targets)));

const makeParams = () => [param([0.1, -0.2, 0.3], [3, 1], 'float32'), param([0.05], [1], 'float32')];

type Pair = readonly [
  string,
  () => O.GradientTransformation<O.OptimizerState>,
  (ps: A.Tensor[]) => O.Optimizer<{ lr: number }>,
];

const pairs: Pair[] = [
  ['SGD', () => O.sgd({ lr: 0.1 }), (ps) => new O.SGD(ps, { lr: 0.1 })],
  [
    'SGD momentum dampening wd',
    () => O.sgd({ lr: 0.05, momentum: 0.9, dampening: 0.2, weightDecay: 0.01 }),
    (ps) => new O.SGD(ps, { lr: 0.05, momentum: 0.9, dampening: 0.2, weightDecay: 0.01 }),
  ],
  [
    'SGD nesterov maximize',
    () => O.sgd({ lr: 0.01, momentum: 0.5, nesterov: true, maximize: true }),
    (ps) => new O.SGD(ps, { lr: 0.01, momentum: 0.5, nesterov: true, maximize: true }),
  ],
  [
    'Adam',
    () => O.adam({ lr: 0.01, weightDecay: 0.1 }),
    (ps) => new O.Adam(ps, { lr: 0.01, weightDecay: 0.1 }),
  ],
  [
    'Adam amsgrad',
    () => O.adam({ lr: 0.01, amsgrad: true }),
    (ps) => new O.Adam(ps, { lr: 0.01, amsgrad: true }),
  ],
  ['AdamW', () => O.adamw({ lr: 0.01 }), (ps) => new O.AdamW(ps, { lr: 0.01 })],
  ['Adamax', () => O.adamax({ weightDecay: 0.01 }), (ps) => new O.Adamax(ps, { weightDecay: 0.01 })],
  ['NAdam', () => O.nadam({ weightDecay: 0.01 }), (ps) => new O.NAdam(ps, { weightDecay: 0.01 })],
  [
    'NAdam decoupled',
    () => O.nadam({ weightDecay: 0.01, decoupledWeightDecay: true }),
    (ps) => new O.NAdam(ps, { weightDecay: 0.01, decoupledWeightDecay: true }),
  ],
  ['RMSprop', () => O.rmsprop(), (ps) => new O.RMSprop(ps)],
  [
    'RMSprop centered momentum',
    () => O.rmsprop({ momentum: 0.9, centered: true, weightDecay: 0.01 }),
    (ps) => new O.RMSprop(ps, { momentum: 0.9, centered: true, weightDecay: 0.01 }),
  ],
  [
    'Adagrad',
    () => O.adagrad({ lrDecay: 0.01, initialAccumulatorValue: 0.1 }),
    (ps) => new O.Adagrad(ps, { lrDecay: 0.01, initialAccumulatorValue: 0.1 }),
  ],
  ['Adadelta', () => O.adadelta({ weightDecay: 0.01 }), (ps) => new O.Adadelta(ps, { weightDecay: 0.01 })],
  [
    'Lion',
    () => O.lion({ lr: 0.001, weightDecay: 0.1 }),
    (ps) => new O.Lion(ps, { lr: 0.001, weightDecay: 0.1 }),
  ],
];

const STEPS = 25;

describe('functional and object APIs give bit-identical trajectories', () => {
  for (const [name, functional, object] of pairs) {
    it(name, () => {
      const a = makeParams();
      const b = a.map(cloneParam);
      const transform = functional();
      let state = transform.init(a);
      const optimizer = object(b);
      for (let t = 0; t < STEPS; t++) {
        const grads = A.gradients([lossOf(a[0], a[1])], a).map((g) => g!.value);
        const result = transform.update(grads, state, a);
        state = result.state;
        O.applyUpdates(a, result.updates);

        optimizer.zeroGrad();
        lossOf(b[0], b[1]).backward();
        optimizer.step();

        a.forEach((p, i) => {
          expect(values(b[i])).toEqual(values(p));
        });
      }
      expect(values(a[0])).not.toEqual([0.1, -0.2, 0.3].map(Math.fround)); // it did move
    });
  }

  it('a schedule as lr (functional) matches LRScheduler driving the object API', () => {
    const factor = (t: number) => 0.5 ** Math.floor(t / 5);
    const a = makeParams();
    const b = a.map(cloneParam);
    const transform = O.adam({ lr: (t) => 0.01 * factor(t) });
    let state = transform.init(a);
    const optimizer = new O.Adam(b, { lr: 0.01 });
    const scheduler = new O.LambdaLR(optimizer, factor);
    for (let t = 0; t < STEPS; t++) {
      const grads = A.gradients([lossOf(a[0], a[1])], a).map((g) => g!.value);
      const result = transform.update(grads, state, a);
      state = result.state;
      O.applyUpdates(a, result.updates);
      optimizer.zeroGrad();
      lossOf(b[0], b[1]).backward();
      optimizer.step();
      scheduler.step();
      a.forEach((p, i) => {
        expect(values(b[i])).toEqual(values(p));
      });
    }
  });

  it('chain(clipByGlobalNorm, adamw) matches clipGradNorm before AdamW.step()', () => {
    const a = makeParams();
    const b = a.map(cloneParam);
    const transform = O.chain(O.clipByGlobalNorm(0.5), O.adamw({ lr: 0.01 }));
    let state = transform.init(a);
    const optimizer = new O.AdamW(b, { lr: 0.01 });
    for (let t = 0; t < STEPS; t++) {
      const grads = A.gradients([lossOf(a[0], a[1])], a).map((g) => g!.value);
      const result = transform.update(grads, state, a);
      state = result.state;
      O.applyUpdates(a, result.updates);
      optimizer.zeroGrad();
      lossOf(b[0], b[1]).backward();
      const norm = O.clipGradNorm(b, 0.5);
      if (t === 0) expect(norm).toBeGreaterThan(0.5); // the clipping does act
      optimizer.step();
      a.forEach((p, i) => {
        expect(values(b[i])).toEqual(values(p));
      });
    }
  });

  it('the object state and the functional state hold the same arrays', () => {
    const a = makeParams();
    const b = a.map(cloneParam);
    const transform = O.adam();
    let state = transform.init(a);
    const optimizer = new O.Adam(b);
    for (let t = 0; t < 3; t++) {
      const grads = A.gradients([lossOf(a[0], a[1])], a).map((g) => g!.value);
      const result = transform.update(grads, state, a);
      state = result.state;
      O.applyUpdates(a, result.updates);
      optimizer.zeroGrad();
      lossOf(b[0], b[1]).backward();
      optimizer.step();
    }
    const adamState = state[2] as O.AdamState;
    const objectState = optimizer.stateOf(b[0])!;
    expect(objectState.step).toBe(3);
    expect(adamState.step).toBe(3);
    expect(values(objectState.expAvg as T.NDArray)).toEqual(values(adamState.expAvg[0]));
    expect(values(objectState.expAvgSq as T.NDArray)).toEqual(values(adamState.expAvgSq[0]));
  });
});
