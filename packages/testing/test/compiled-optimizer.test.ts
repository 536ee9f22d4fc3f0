import * as A from '@tsgrad/autograd';
import { compileStep, jit } from '@tsgrad/compiler';
import * as nn from '@tsgrad/nn';
import * as optim from '@tsgrad/optim';
import * as T from '@tsgrad/tensor';
import { describe, expect, it } from 'vitest';

// The optimizer's update inside the compiled plan, in both styles: N compiled steps give the
// eager parameters and optimizer state, learning rates stay arguments (schedulers work), and
// randomness takes its key as an argument.

const batchOf = (step: number) => ({
  x: new A.Tensor(T.random.normal(T.random.key(step), [16, 6])),
  y: new A.Tensor(T.cast(T.mod(T.arange(16), 3), 'int32')),
});

function model(p = 0): nn.Sequential {
  nn.manualSeed(3);
  return new nn.Sequential(new nn.Linear(6, 12), new nn.ReLU(), new nn.Dropout(p), new nn.Linear(12, 3));
}

const numbers = (x: T.NDArray | A.Tensor) => Array.from(x.toTypedArray(), Number);

/** The largest difference, relative to max(1, |eager|). */
function maxDifference(a: readonly number[], b: readonly number[]): number {
  expect(a.length).toBe(b.length);
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]) / Math.max(1, Math.abs(b[i]))), 0);
}

function expectSameParameters(a: nn.Module, b: nn.Module): void {
  const [x, y] = [a.parameters(), b.parameters()];
  x.forEach((p, i) => {
    expect(maxDifference(numbers(p), numbers(y[i]))).toBeLessThanOrEqual(1e-6);
  });
}

function expectSameState(a: optim.Optimizer<{ lr: number }>, b: optim.Optimizer<{ lr: number }>): void {
  const [x, y] = [a.stateDict(), b.stateDict()];
  expect(x.meta).toEqual(y.meta);
  expect(Object.keys(x.state).sort()).toEqual(Object.keys(y.state).sort());
  for (const key of Object.keys(x.state)) {
    expect(maxDifference(numbers(x.state[key]), numbers(y.state[key]))).toBeLessThanOrEqual(1e-6);
  }
}

type MakeOptimizer = (params: A.Tensor[]) => optim.Optimizer<{ lr: number }>;

const OPTIMIZERS: [string, MakeOptimizer][] = [
  ['SGD with momentum', (ps) => new optim.SGD(ps, { lr: 0.1, momentum: 0.9, weightDecay: 1e-3 })],
  ['Adam', (ps) => new optim.Adam(ps, { lr: 1e-2 })],
  ['AdamW', (ps) => new optim.AdamW(ps, { lr: 1e-2, weightDecay: 0.1 })],
  ['Adam (AMSGrad)', (ps) => new optim.Adam(ps, { lr: 1e-2, amsgrad: true })],
];

const lossOf = (m: nn.Sequential) => (x: A.Tensor, y: A.Tensor) =>
  A.crossEntropy(m.forward(x) as A.Tensor, y);

function eagerStep(m: nn.Sequential, opt: optim.Optimizer<{ lr: number }>, i: number): number {
  const { x, y } = batchOf(i);
  opt.zeroGrad();
  const loss = lossOf(m)(x, y);
  loss.backward();
  opt.step();
  return Number(loss.item());
}

describe('compileStep: the optimizer update inside the plan', () => {
  for (const [name, make] of OPTIMIZERS) {
    it(`${name}: 5 compiled steps give the eager parameters and optimizer state`, () => {
      const eagerModel = model();
      const eagerOptimizer = make(eagerModel.parameters());
      const compiledModel = model();
      const compiledOptimizer = make(compiledModel.parameters());
      const step = compileStep({
        parameters: compiledModel.parameters(),
        loss: lossOf(compiledModel),
        optimizer: compiledOptimizer,
      });
      for (let i = 0; i < 5; i++) {
        const eagerLoss = eagerStep(eagerModel, eagerOptimizer, i);
        const { x, y } = batchOf(i);
        expect(Number(step(x, y).item())).toBeCloseTo(eagerLoss, 5);
      }
      expectSameParameters(compiledModel, eagerModel);
      expectSameState(compiledOptimizer, eagerOptimizer);
      // The first step traces with no state yet, the next ones with it: two plans.
      expect(step.compiled.cacheSize).toBeLessThanOrEqual(2);
    });
  }

  it('a scheduler changes the compiled update without tracing again (lr is an argument)', () => {
    const eagerModel = model();
    const eagerOptimizer = new optim.Adam(eagerModel.parameters(), { lr: 0.05 });
    const eagerScheduler = new optim.LRScheduler(eagerOptimizer, (lr) =>
      optim.exponentialSchedule({ lr, gamma: 0.5 }),
    );
    const compiledModel = model();
    const compiledOptimizer = new optim.Adam(compiledModel.parameters(), { lr: 0.05 });
    const scheduler = new optim.LRScheduler(compiledOptimizer, (lr) =>
      optim.exponentialSchedule({ lr, gamma: 0.5 }),
    );
    const step = compileStep({
      parameters: compiledModel.parameters(),
      loss: lossOf(compiledModel),
      optimizer: compiledOptimizer,
    });
    for (let i = 0; i < 4; i++) {
      eagerStep(eagerModel, eagerOptimizer, i);
      eagerScheduler.step();
      const { x, y } = batchOf(i);
      step(x, y);
      scheduler.step();
    }
    expectSameParameters(compiledModel, eagerModel);
    expect(step.compiled.cacheSize).toBe(2);
    // lr 0: the same plan leaves the parameters as they are.
    compiledOptimizer.paramGroups[0].lr = 0;
    const before = compiledModel.parameters().map((p) => numbers(p));
    const { x, y } = batchOf(9);
    step(x, y);
    compiledModel.parameters().forEach((p, i) => {
      expect(numbers(p)).toEqual(before[i]);
    });
    expect(step.compiled.cacheSize).toBe(2);
  });

  it('stateDict after compiled steps loads into a new optimizer that continues identically', () => {
    const m = model();
    const opt = new optim.Adam(m.parameters(), { lr: 1e-2 });
    const step = compileStep({ parameters: m.parameters(), loss: lossOf(m), optimizer: opt });
    for (let i = 0; i < 3; i++) {
      const { x, y } = batchOf(i);
      step(x, y);
    }
    const saved = opt.stateDict();
    const held = numbers(saved.state['0.expAvg']);
    const copy = model();
    copy.loadStateDict(m.stateDict());
    const loaded = new optim.Adam(copy.parameters(), { lr: 1e-2 });
    loaded.loadStateDict(saved);
    expectSameState(loaded, opt);
    // Both continue: the original compiled, the copy eagerly.
    const { x, y } = batchOf(3);
    step(x, y);
    eagerStep(copy, loaded, 3);
    expectSameParameters(m, copy);
    expectSameState(opt, loaded);
    expect(opt.stateDict().meta.scalars['0']).toEqual({ step: 4 });
    // The compiled step updates its state in place: what stateDict handed out stays as it was.
    expect(numbers(saved.state['0.expAvg'])).toEqual(held);
  });

  it('clips the gradients inside the plan like clipGradNorm', () => {
    const eagerModel = model();
    const eagerOptimizer = new optim.SGD(eagerModel.parameters(), { lr: 0.5 });
    const compiledModel = model();
    const compiledOptimizer = new optim.SGD(compiledModel.parameters(), { lr: 0.5 });
    const step = compileStep({
      parameters: compiledModel.parameters(),
      loss: lossOf(compiledModel),
      optimizer: compiledOptimizer,
      maxGradNorm: 0.05,
    });
    for (let i = 0; i < 3; i++) {
      const { x, y } = batchOf(i);
      eagerOptimizer.zeroGrad();
      lossOf(eagerModel)(x, y).backward();
      const norm = optim.clipGradNorm(eagerModel.parameters(), 0.05);
      eagerOptimizer.step();
      step(x, y);
      expect(Number(step.gradNorm?.item())).toBeCloseTo(norm, 6);
    }
    expectSameParameters(compiledModel, eagerModel);
  });

  it('refuses an optimizer over tensors that are not parameters of the step', () => {
    const m = model();
    const other = new A.Tensor(T.zeros([2]), { requiresGrad: true });
    const opt = new optim.SGD([...m.parameters(), other], { lr: 0.1 });
    expect(() => compileStep({ parameters: m.parameters(), loss: lossOf(m), optimizer: opt })).toThrow(
      T.ValueError,
    );
  });
});

describe('jit: the functional style with the optimizer update and donated state', () => {
  it('jit(valueAndGrad over functionalCall, adam.update, apply) equals the same steps eagerly', () => {
    const net = model();
    const names = net.namedParameters().map(([n]) => n);
    const initial = () => Object.fromEntries(net.namedParameters().map(([n, p]) => [n, p.detach()]));
    const adam = optim.adam({ lr: 1e-2 });
    type Params = Record<string, A.Tensor>;
    const trainStep = (params: Params, state: optim.OptimizerState, x: A.Tensor, y: A.Tensor) => {
      const [loss, grads] = A.valueAndGrad((p: Params) =>
        nn.functionalCall(net, p, (m) => A.crossEntropy(m.forward(x) as A.Tensor, y)),
      )(params);
      const list = names.map((n) => params[n]);
      const { updates, state: next } = adam.update(
        names.map((n) => grads[n].value),
        state,
        list,
      );
      const updated = Object.fromEntries(
        names.map((n, i) => [n, A.add(params[n], new A.Tensor(updates[i]))]),
      );
      return [updated, next, loss] as const;
    };
    const compiled = jit(trainStep, { donateArgnums: [0, 1] });
    let eager = { params: initial(), state: adam.init(names.map((n) => initial()[n])) };
    let state = optim.scalarsAsArrays(adam.init(names.map((n) => initial()[n])));
    let params = initial();
    for (let i = 0; i < 4; i++) {
      const { x, y } = batchOf(i);
      const [eagerParams, eagerState, eagerLoss] = trainStep(eager.params, eager.state, x, y);
      eager = { params: eagerParams, state: eagerState };
      const [nextParams, nextState, loss] = compiled(params, state, x, y);
      [params, state] = [nextParams, nextState];
      expect(Number(loss.item())).toBeCloseTo(Number(eagerLoss.item()), 5);
    }
    for (const n of names)
      expect(maxDifference(numbers(params[n]), numbers(eager.params[n]))).toBeLessThanOrEqual(1e-6);
    const steps = (state as unknown as { step: T.NDArray }[])[2].step;
    expect(Number(steps.item())).toBe(4);
    expect(compiled.cacheSize).toBe(1);
  });

  it('a schedule (a JS function of the step) is refused under a traced count, with a typed error', () => {
    const tx = optim.scaleBySchedule((n) => 0.1 * n);
    const state = optim.scalarsAsArrays(tx.init([]));
    expect(() => tx.update([T.ones([2])], state, [new A.Tensor(T.ones([2]))])).toThrow(T.ValueError);
  });
});

describe('jit: randomness takes its key as an argument', () => {
  const x = new A.Tensor(T.random.normal(T.random.key(0), [4, 8]));

  it('bernoulli from a key argument equals eager and changes with the key, from one plan', () => {
    const f = (t: A.Tensor, key: T.random.PRNGKey) =>
      A.mul(t, new A.Tensor(T.cast(T.random.bernoulli(key, 0.5, t.shape), t.dtype)));
    const compiled = jit(f);
    const [k1, k2] = T.random.split(T.random.key(7));
    const a = numbers(compiled(x, k1));
    expect(a).toEqual(numbers(f(x, k1)));
    const b = numbers(compiled(x, k2));
    expect(b).toEqual(numbers(f(x, k2)));
    expect(b).not.toEqual(a);
    expect(compiled.cacheSize).toBe(1);
  });

  it('keys derived inside (split, foldIn) and dropout follow each call', () => {
    const f = (t: A.Tensor, key: T.random.PRNGKey) => {
      const [k1, k2] = T.random.split(T.random.foldIn(key, 3));
      return A.add(A.dropout(t, { p: 0.3, key: k1 }), new A.Tensor(T.random.normal(k2, t.shape)));
    };
    const compiled = jit(f);
    for (const seed of [1, 2, 3]) {
      const key = T.random.key(seed);
      expect(numbers(compiled(x, key))).toEqual(numbers(f(x, key)));
    }
    expect(compiled.cacheSize).toBe(1);
  });

  it('compileStep with dropout: a key per call gives the eager trajectory', () => {
    const eagerModel = model(0.25);
    const eagerOptimizer = new optim.Adam(eagerModel.parameters(), { lr: 1e-2 });
    const compiledModel = model(0.25);
    const compiledOptimizer = new optim.Adam(compiledModel.parameters(), { lr: 1e-2 });
    const forward = (m: nn.Sequential, x: A.Tensor, key: T.random.PRNGKey) => {
      const [k1] = T.random.split(key, 1);
      const [l1, relu, drop, l2] = m.children() as [nn.Linear, nn.ReLU, nn.Dropout, nn.Linear];
      return l2.forward(drop.forward(relu.forward(l1.forward(x)), { key: k1 }));
    };
    const step = compileStep({
      parameters: compiledModel.parameters(),
      loss: (x: A.Tensor, y: A.Tensor, key: T.random.PRNGKey) =>
        A.crossEntropy(forward(compiledModel, x, key), y),
      optimizer: compiledOptimizer,
    });
    for (let i = 0; i < 4; i++) {
      const { x, y } = batchOf(i);
      const key = T.random.foldIn(T.random.key(11), i);
      eagerOptimizer.zeroGrad();
      const eagerLoss = A.crossEntropy(forward(eagerModel, x, key), y);
      eagerLoss.backward();
      eagerOptimizer.step();
      expect(Number(step(x, y, key).item())).toBeCloseTo(Number(eagerLoss.item()), 5);
    }
    expectSameParameters(compiledModel, eagerModel);
    expect(step.compiled.cacheSize).toBe(2);
  });
});

describe('jit: a bounded cache', () => {
  it('keeps the most recently used signatures and traces an evicted one again', () => {
    let traces = 0;
    const f = jit(
      (t: A.Tensor) => {
        traces++;
        return A.mul(t, 2);
      },
      { cacheSize: 2 },
    );
    const sized = (n: number) => new A.Tensor(T.ones([n]));
    f(sized(1));
    f(sized(2));
    f(sized(1)); // 1 is now the most recent
    f(sized(3)); // evicts 2
    expect(f.cacheSize).toBe(2);
    expect(traces).toBe(3);
    f(sized(1));
    expect(traces).toBe(3);
    f(sized(2));
    expect(traces).toBe(4);
    expect(() => jit((t: A.Tensor) => t, { cacheSize: 0 })).toThrow(T.ValueError);
  });
});
