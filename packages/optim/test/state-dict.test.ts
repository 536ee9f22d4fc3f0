import * as O from '@tsgrad/optim';
import * as T from '@tsgrad/tensor';
import { describe, expect, it } from 'vitest';
import { cloneParam, param, setGrad, values } from './helpers.js';

type Make = (groups: { params: ReturnType<typeof param>[] }[]) => O.Optimizer<{ lr: number }>;

const optimizers: [string, Make][] = [
  ['SGD', (g) => new O.SGD(g, { lr: 0.1, momentum: 0.9 })],
  ['Adam', (g) => new O.Adam(g, { lr: 0.01, amsgrad: true })],
  ['AdamW', (g) => new O.AdamW(g, { lr: 0.01 })],
  ['Adamax', (g) => new O.Adamax(g)],
  ['NAdam', (g) => new O.NAdam(g)],
  ['RMSprop', (g) => new O.RMSprop(g, { momentum: 0.5, centered: true })],
  ['Adagrad', (g) => new O.Adagrad(g, { lrDecay: 0.1 })],
  ['Adadelta', (g) => new O.Adadelta(g)],
  ['Lion', (g) => new O.Lion(g, { weightDecay: 0.1 })],
];

const gradFor = (t: number, size: number) =>
  Array.from({ length: size }, (_, i) => Math.sin(t + i) * (i + 1));

function train(
  optimizer: O.Optimizer<{ lr: number }>,
  params: ReturnType<typeof param>[],
  from: number,
  to: number,
) {
  for (let t = from; t < to; t++) {
    params.forEach((p) => {
      setGrad(p, gradFor(t, p.size));
    });
    optimizer.step();
  }
}

/** What @tsgrad/io would do: arrays as they are, meta through JSON. */
const roundTrip = (dict: O.OptimizerStateDict): O.OptimizerStateDict => ({
  state: dict.state,
  meta: JSON.parse(JSON.stringify(dict.meta)),
});

describe('stateDict / loadStateDict', () => {
  for (const [name, make] of optimizers) {
    it(`${name}: a fresh optimizer resumes identically`, () => {
      const params = [param([1, -2, 0.5], [3], 'float32'), param([0.3, 0.2], [2], 'float32')];
      const original = make([{ params: [params[0]] }, { params: [params[1]] }]);
      original.paramGroups[1].lr = 0.005;
      train(original, params, 0, 4);

      const copies = params.map(cloneParam);
      const resumed = make([{ params: [copies[0]] }, { params: [copies[1]] }]);
      resumed.loadStateDict(roundTrip(original.stateDict()));
      expect(resumed.paramGroups[1].lr).toBe(0.005);

      train(original, params, 4, 10);
      train(resumed, copies, 4, 10);
      params.forEach((p, i) => {
        expect(values(copies[i])).toEqual(values(p));
      });
    });
  }

  it('names state like torch, by parameter index, with numbers in meta', () => {
    const p = param([1, 2]);
    const q = param([3]);
    const optimizer = new O.Adam([{ params: [p] }, { params: [q], lr: 0.1 }]);
    setGrad(q, [1]);
    optimizer.step();
    const { state, meta } = optimizer.stateDict();
    expect(Object.keys(state).sort()).toEqual(['1.expAvg', '1.expAvgSq']);
    expect(meta.scalars).toEqual({ '1': { step: 1 } });
    expect(meta.paramGroups).toEqual([
      {
        lr: 0.001,
        betas: [0.9, 0.999],
        eps: 1e-8,
        weightDecay: 0,
        amsgrad: false,
        maximize: false,
        params: [0],
      },
      {
        lr: 0.1,
        betas: [0.9, 0.999],
        eps: 1e-8,
        weightDecay: 0,
        amsgrad: false,
        maximize: false,
        params: [1],
      },
    ]);
    expect(JSON.parse(JSON.stringify(meta))).toEqual(meta);
  });

  it('lazily created buffers (SGD momentum) are saved once they exist', () => {
    const p = param([1, 2]);
    const optimizer = new O.SGD([p], { momentum: 0.9 });
    setGrad(p, [1, 1]);
    expect(optimizer.stateDict().state).toEqual({});
    optimizer.step();
    expect(Object.keys(optimizer.stateDict().state)).toEqual(['0.momentumBuffer']);
  });

  it('rejects a state dict that does not fit, changing nothing', () => {
    const p = param([1, 2]);
    const source = new O.Adam([p]);
    setGrad(p, [1, 1]);
    source.step();
    const dict = source.stateDict();

    const target = new O.Adam([param([0, 0])], { lr: 0.5 });
    expect(() =>
      new O.Adam([{ params: [param([1])] }, { params: [param([1])] }]).loadStateDict(dict),
    ).toThrow(/1 parameter groups saved, the optimizer has 2/);
    expect(() => new O.Adam([param([1, 2, 3])]).loadStateDict(dict)).toThrow(
      /0.expAvg has shape \[2\], expected \[3\]/,
    );
    expect(() =>
      target.loadStateDict({ ...dict, state: { ...dict.state, '0.extra': T.zeros([2]) } }),
    ).toThrow(/unexpected arrays 0.extra/);
    const { '0.expAvgSq': _, ...missing } = dict.state;
    expect(() => target.loadStateDict({ ...dict, state: missing })).toThrow(/missing the array 0.expAvgSq/);
    expect(target.paramGroups[0].lr).toBe(0.5);
    expect(target.stateDict().state).toEqual({});
  });
});
