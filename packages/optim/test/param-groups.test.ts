import * as A from '@tsgrad/autograd';
import * as O from '@tsgrad/optim';
import * as T from '@tsgrad/tensor';
import { describe, expect, it } from 'vitest';
import { cloneParam, param, setGrad, values } from './helpers.js';

describe('parameter groups', () => {
  it('each group uses its own lr, exactly as a separate optimizer would', () => {
    const w = param([1, -2]);
    const b = param([0.5]);
    const optimizer = new O.Adam([{ params: [w], lr: 0.1 }, { params: [b] }], { lr: 0.01 });
    const w2 = cloneParam(w);
    const b2 = cloneParam(b);
    const alone = [new O.Adam([w2], { lr: 0.1 }), new O.Adam([b2], { lr: 0.01 })];
    expect(optimizer.paramGroups.map((g) => g.lr)).toEqual([0.1, 0.01]);
    for (let t = 0; t < 5; t++) {
      for (const p of [w, w2]) setGrad(p, [0.3 * (t + 1), -0.1]);
      for (const p of [b, b2]) setGrad(p, [0.2 - t * 0.05]);
      optimizer.step();
      for (const o of alone) o.step();
      expect(values(w)).toEqual(values(w2));
      expect(values(b)).toEqual(values(b2));
    }
  });

  it('group options override the defaults, which fill the rest', () => {
    const optimizer = new O.SGD(
      [{ params: [param([1])] }, { params: [param([2])], weightDecay: 0, momentum: 0.5 }],
      {
        lr: 0.1,
        weightDecay: 0.01,
      },
    );
    const [first, second] = optimizer.paramGroups;
    expect([first.lr, first.weightDecay, first.momentum, first.nesterov]).toEqual([0.1, 0.01, 0, false]);
    expect([second.lr, second.weightDecay, second.momentum]).toEqual([0.1, 0, 0.5]);
    expect(optimizer.defaults.weightDecay).toBe(0.01);
  });

  it('a changed group lr takes effect at the next step', () => {
    const p = param([1]);
    const optimizer = new O.SGD([p], { lr: 0.1 });
    setGrad(p, [1]);
    optimizer.step();
    expect(values(p)[0]).toBeCloseTo(0.9, 15);
    optimizer.paramGroups[0].lr = 0.5;
    optimizer.step();
    expect(values(p)[0]).toBeCloseTo(0.4, 15);
  });

  it('addParamGroup adds parameters with their own options', () => {
    const p = param([1]);
    const q = param([1]);
    const optimizer = new O.SGD([p], { lr: 0.1 });
    optimizer.addParamGroup({ params: [q], lr: 1 });
    setGrad(p, [1]);
    setGrad(q, [1]);
    optimizer.step();
    expect(values(p)[0]).toBeCloseTo(0.9, 15);
    expect(values(q)[0]).toBe(0);
  });

  it('step() skips parameters without a gradient, whose state does not advance', () => {
    const p = param([1, 2]);
    const q = param([3]);
    const optimizer = new O.Adam([p, q], { lr: 0.1 });
    setGrad(p, [1, 1]);
    optimizer.step();
    expect(values(q)).toEqual([3]);
    expect(optimizer.stateOf(q)).toBeUndefined();
    setGrad(q, [1]);
    optimizer.step();
    // as in torch, each parameter counts its own steps (for Adam's bias correction)
    expect(optimizer.stateOf(p)!.step).toBe(2);
    expect(optimizer.stateOf(q)!.step).toBe(1);
    expect(values(q)[0]).toBeCloseTo(3 - (0.1 * 1) / (1 + 1e-8), 14);
  });

  it('zeroGrad sets gradients to null, or to zeros', () => {
    const p = param([1, 2]);
    const optimizer = new O.SGD([p]);
    setGrad(p, [1, 1]);
    optimizer.zeroGrad(false);
    expect(values(p.grad!)).toEqual([0, 0]);
    optimizer.zeroGrad();
    expect(p.grad).toBeNull();
  });

  it('step(closure) evaluates the closure first and returns its loss', () => {
    const p = param([3]);
    const optimizer = new O.SGD([p], { lr: 0.25 });
    const loss = optimizer.step(() => {
      optimizer.zeroGrad();
      const l = A.sum(A.square(p));
      l.backward();
      return l.item();
    });
    expect(loss).toBe(9);
    expect(values(p)).toEqual([1.5]);
  });

  it("rejects a gradient whose shape is not the parameter's", () => {
    const p = param([1]);
    const optimizer = new O.SGD([p]);
    p.grad = param([1, 2]);
    expect(() => optimizer.step()).toThrow(
      /SGD.step: gradient of shape \[2\] for a parameter of shape \[1\]/,
    );
  });

  it('rejects bad parameters and hyper-parameters with errors naming the optimizer', () => {
    const p = param([1]);
    expect(() => new O.SGD([])).toThrow(/SGD: got an empty parameter list/);
    expect(() => new O.SGD([{ params: [p] }, { params: [p] }])).toThrow(/more than one parameter group/);
    expect(() => new O.Adam([A.mul(p, 2)])).toThrow(/non-leaf/);
    expect(() => new O.SGD([p], { lr: -1 })).toThrow(T.ValueError);
    expect(() => new O.SGD([p], { lr: -1 })).toThrow(
      /SGD: lr must be a non-negative number or a schedule, got -1/,
    );
    expect(() => new O.Adam([p], { betas: [1, 0.9] })).toThrow(
      /Adam: betas\[0\] must be a number in \[0, 1\), got 1/,
    );
    expect(() => new O.SGD([p], { momentum: 0.9, nesterov: true, dampening: 0.1 })).toThrow(/Nesterov/);
    expect(() => new O.RMSprop([p], { eps: -1 })).toThrow(/RMSprop: .*eps/);
  });
});
