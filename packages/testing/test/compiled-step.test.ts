import * as A from '@tsgrad/autograd';
import { compileStep, jit } from '@tsgrad/compiler';
import * as nn from '@tsgrad/nn';
import * as optim from '@tsgrad/optim';
import * as T from '@tsgrad/tensor';
import { describe, expect, it } from 'vitest';

// Whole training steps under jit: forward, backward and buffer updates compiled, in both
// styles, give the eager trajectory.

const batchOf = (step: number) => ({
  x: new A.Tensor(T.random.normal(T.random.key(step), [16, 6])),
  y: new A.Tensor(T.cast(T.mod(T.arange(16), 3), 'int32')),
});

function model(): nn.Sequential {
  nn.manualSeed(3);
  return new nn.Sequential(new nn.Linear(6, 12), new nn.BatchNorm1d(12), new nn.ReLU(), new nn.Linear(12, 3));
}

const valuesOf = (m: nn.Module) =>
  Object.fromEntries(
    Object.entries(m.stateDict()).map(([k, v]) => [k, Array.from(v.value.toTypedArray(), Number)]),
  );

function expectSameState(a: nn.Module, b: nn.Module): void {
  const [x, y] = [valuesOf(a), valuesOf(b)];
  expect(Object.keys(x)).toEqual(Object.keys(y));
  for (const key of Object.keys(x)) {
    x[key].forEach((v, i) => {
      expect(Math.abs(v - y[key][i])).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(v)));
    });
  }
}

describe('compiled training steps', () => {
  it('compileStep (module, optimizer, loss) follows the eager trajectory, running statistics included', () => {
    const eagerModel = model();
    const eagerOptimizer = new optim.Adam(eagerModel.parameters(), { lr: 1e-2 });
    const compiledModel = model();
    const compiledOptimizer = new optim.Adam(compiledModel.parameters(), { lr: 1e-2 });
    const step = compileStep({
      parameters: compiledModel.parameters(),
      buffers: compiledModel.buffers(),
      loss: (x: A.Tensor, y: A.Tensor) => A.crossEntropy(compiledModel.forward(x), y),
      optimizer: compiledOptimizer,
    });
    for (let i = 0; i < 5; i++) {
      const { x, y } = batchOf(i);
      eagerOptimizer.zeroGrad();
      const eagerLoss = A.crossEntropy(eagerModel.forward(x), y);
      eagerLoss.backward();
      eagerOptimizer.step();
      const loss = step(x, y);
      expect(Number(loss.item())).toBeCloseTo(Number(eagerLoss.item()), 5);
    }
    expectSameState(compiledModel, eagerModel);
    // The optimizer's update is in the plan: traced once without its state, once with it.
    expect(step.compiled.cacheSize).toBe(2);
  });

  it('the functional style: jit(valueAndGrad) over functionalCall, then an optax-style update', () => {
    const net = model();
    const params = Object.fromEntries(net.namedParameters()) as Record<string, A.Tensor>;
    const names = Object.keys(params);
    const lossOf = (p: Record<string, A.Tensor>, x: A.Tensor, y: A.Tensor) =>
      nn.functionalCall(net.train(), p, (m) => A.crossEntropy(m.forward(x), y));
    const compiled = jit(A.valueAndGrad(lossOf));
    const eager = A.valueAndGrad(lossOf);
    const adam = optim.adam({ lr: 1e-2 });
    let state = adam.init(names.map((n) => params[n]));
    const { x, y } = batchOf(7);
    const expectAgrees = () => {
      const [value, grads] = compiled(params, x, y);
      const [eagerValue, eagerGrads] = eager(params, x, y);
      expect(Number(value.item())).toBeCloseTo(Number(eagerValue.item()), 6);
      for (const n of names) {
        const [a, b] = [grads[n].toTypedArray(), eagerGrads[n].toTypedArray()];
        for (let i = 0; i < a.length; i++) expect(Math.abs(Number(a[i]) - Number(b[i]))).toBeLessThan(1e-6);
      }
      return grads;
    };
    for (let i = 0; i < 3; i++) {
      const grads = expectAgrees();
      const { updates, state: next } = adam.update(
        names.map((n) => grads[n].value),
        state,
        names.map((n) => params[n]),
      );
      state = next;
      optim.applyUpdates(
        names.map((n) => params[n]),
        updates,
      );
    }
    expect(compiled.cacheSize).toBe(1);
  });
});
