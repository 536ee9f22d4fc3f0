import * as A from '@tsgrad/autograd';
import * as nn from '@tsgrad/nn';
import * as T from '@tsgrad/tensor';
import { describe, expect, it } from 'vitest';

// Loss modules against the functional losses with the same options, and against values
// computed by hand from the definitions.

const f64 = (values: T.NestedArray) => A.tensor(values, { dtype: 'float64' });
const i32 = (values: T.NestedArray) => A.tensor(values, { dtype: 'int32' });
const valuesOf = (x: A.Tensor) => Array.from(x.value.toTypedArray(), Number);
const scalar = (x: A.Tensor) => Number(x.item());

let seed = 100;
const randn = (shape: number[]) => A.randn(T.random.key(++seed), shape, { dtype: 'float64' });
const probs = (shape: number[], axis = -1) => A.softmax(randn(shape), axis);

function expectSame(actual: A.Tensor, expected: A.Tensor): void {
  expect(actual.shape).toEqual(expected.shape);
  const e = valuesOf(expected);
  valuesOf(actual).forEach((v, i) => {
    expect(v).toBeCloseTo(e[i], 12);
  });
}

describe('regression losses', () => {
  const x = f64([1, 2, 3, -1]);
  const t = f64([1, 1, 1, 1]);

  it('equal their functional forms for every reduction', () => {
    for (const reduction of ['mean', 'sum', 'none'] as const) {
      expectSame(new nn.MSELoss({ reduction }).forward(x, t), A.mseLoss(x, t, { reduction }));
      expectSame(new nn.L1Loss({ reduction }).forward(x, t), A.l1Loss(x, t, { reduction }));
      expectSame(
        new nn.SmoothL1Loss({ reduction, beta: 0.5 }).forward(x, t),
        A.smoothL1Loss(x, t, { reduction, beta: 0.5 }),
      );
      expectSame(
        new nn.HuberLoss({ reduction, delta: 2 }).forward(x, t),
        A.huberLoss(x, t, { reduction, delta: 2 }),
      );
    }
  });

  it('give the hand-computed values', () => {
    // d = x − t = [0, 1, 2, −2]
    expect(scalar(new nn.MSELoss().forward(x, t))).toBeCloseTo((0 + 1 + 4 + 4) / 4, 12);
    expect(scalar(new nn.L1Loss({ reduction: 'sum' }).forward(x, t))).toBeCloseTo(5, 12);
    // beta 1: ½d² below 1, |d| − ½ above: [0, 0.5, 1.5, 1.5]
    expect(scalar(new nn.SmoothL1Loss().forward(x, t))).toBeCloseTo(3.5 / 4, 12);
    // delta 1.5: ½d² below, 1.5·(|d| − 0.75) above: [0, 0.5, 1.875, 1.875]
    expect(valuesOf(new nn.HuberLoss({ delta: 1.5, reduction: 'none' }).forward(x, t))).toEqual([
      0, 0.5, 1.875, 1.875,
    ]);
    expect(scalar(new nn.MSELoss().forward(x, 0))).toBeCloseTo((1 + 4 + 9 + 1) / 4, 12);
  });

  it('pass gradients to the input', () => {
    const input = f64([1, 2, 3, -1]);
    input.requiresGrad = true;
    new nn.MSELoss().forward(input, t).backward();
    // d/dx mean (x − t)² = 2(x − t)/n
    expect(valuesOf(input.grad!)).toEqual([0, 0.5, 1, -1]);
  });
});

describe('classification losses', () => {
  const logits = randn([5, 4]);
  const target = i32([0, 3, 1, 1, 2]);
  const weight = f64([1, 2, 0.5, 1.5]);

  it('CrossEntropyLoss equals crossEntropy with every option', () => {
    const optionSets: nn.ClassLossOptions[] = [
      {},
      { weight },
      { ignoreIndex: 1 },
      { weight, ignoreIndex: 3, reduction: 'sum' },
      { reduction: 'none' },
    ];
    for (const options of optionSets) {
      for (const labelSmoothing of [0, 0.2]) {
        expectSame(
          new nn.CrossEntropyLoss({ ...options, labelSmoothing }).forward(logits, target),
          A.crossEntropy(logits, target, { ...options, weight: options.weight as A.Tensor, labelSmoothing }),
        );
      }
    }
    const soft = probs([5, 4]);
    expectSame(
      new nn.CrossEntropyLoss({ labelSmoothing: 0.1 }).forward(logits, soft),
      A.crossEntropy(logits, soft, { labelSmoothing: 0.1 }),
    );
  });

  it('CrossEntropyLoss gives the hand-computed values', () => {
    const z = f64([
      [1, 2, 3],
      [1, 2, 3],
      [0, 0, 0],
    ]);
    const lse = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
    // Uniform logits: log 3.
    expect(scalar(new nn.CrossEntropyLoss().forward(f64([[0, 0, 0]]), i32([2])))).toBeCloseTo(
      Math.log(3),
      12,
    );
    // Class weights [1, 1, 2]: the mean divides by the total weight of the targets (1 + 2 + 1).
    const w = f64([1, 1, 2]);
    const weighted = new nn.CrossEntropyLoss({ weight: w }).forward(z, i32([0, 2, 1]));
    expect(scalar(weighted)).toBeCloseTo((lse - 1 + 2 * (lse - 3) + Math.log(3)) / 4, 12);
    // An ignored sample counts for nothing, not even in the mean.
    const ignored = new nn.CrossEntropyLoss({ ignoreIndex: -1 }).forward(z, i32([0, -1, -1]));
    expect(scalar(ignored)).toBeCloseTo(lse - 1, 12);
    // Label smoothing ε = 0.3 over 3 classes: q = (1 − ε)·onehot + ε/3.
    const smoothed = new nn.CrossEntropyLoss({ labelSmoothing: 0.3 }).forward(f64([[1, 2, 3]]), i32([0]));
    const q = [0.7 + 0.1, 0.1, 0.1];
    expect(scalar(smoothed)).toBeCloseTo(q[0] * (lse - 1) + q[1] * (lse - 2) + q[2] * (lse - 3), 12);
    // Probability targets: −Σ p log softmax.
    const p = [0.2, 0.3, 0.5];
    const soft = new nn.CrossEntropyLoss().forward(f64([[1, 2, 3]]), f64([p]));
    expect(scalar(soft)).toBeCloseTo(p[0] * (lse - 1) + p[1] * (lse - 2) + p[2] * (lse - 3), 12);
  });

  it('NLLLoss equals nllLoss and picks −w[y]·logp[y]', () => {
    const logp = A.logSoftmax(logits, 1);
    for (const options of [{}, { weight, reduction: 'sum' as const }, { ignoreIndex: 0 }]) {
      expectSame(new nn.NLLLoss(options).forward(logp, target), A.nllLoss(logp, target, options));
    }
    const lp = f64([
      [-1, -2],
      [-3, -4],
    ]);
    expect(scalar(new nn.NLLLoss().forward(lp, i32([1, 0])))).toBeCloseTo((2 + 3) / 2, 12);
    expect(scalar(new nn.NLLLoss({ weight: f64([3, 1]) }).forward(lp, i32([1, 0])))).toBeCloseTo(
      (2 + 9) / 4,
      12,
    );
    // CrossEntropyLoss = NLLLoss ∘ LogSoftmax, as in PyTorch.
    expectSame(new nn.CrossEntropyLoss().forward(logits, target), new nn.NLLLoss().forward(logp, target));
  });

  it('BCELoss and BCEWithLogitsLoss equal their functional forms and the definitions', () => {
    const x = randn([3, 4]);
    const y = A.rand(T.random.key(9), [3, 4], { dtype: 'float64' });
    const w = A.rand(T.random.key(10), [3, 4], { dtype: 'float64' });
    const pos = f64([1, 2, 3, 0.5]);
    expectSame(
      new nn.BCELoss({ weight: w }).forward(A.sigmoid(x), y),
      A.binaryCrossEntropy(A.sigmoid(x), y, { weight: w }),
    );
    expectSame(
      new nn.BCEWithLogitsLoss({ posWeight: pos, reduction: 'sum' }).forward(x, y),
      A.binaryCrossEntropyWithLogits(x, y, { posWeight: pos, reduction: 'sum' }),
    );
    // The two agree on probabilities σ(x).
    expectSame(new nn.BCEWithLogitsLoss().forward(x, y), new nn.BCELoss().forward(A.sigmoid(x), y));
    expect(scalar(new nn.BCELoss().forward(f64([0.8]), f64([1])))).toBeCloseTo(-Math.log(0.8), 12);
    expect(scalar(new nn.BCEWithLogitsLoss().forward(f64([0]), f64([1])))).toBeCloseTo(Math.LN2, 12);
    // posWeight p scales the positive term only: p·log 2 for t = 1, log 2 for t = 0.
    const weighted = new nn.BCEWithLogitsLoss({ posWeight: f64([3]), reduction: 'none' }).forward(
      f64([0, 0]),
      f64([1, 0]),
    );
    expect(valuesOf(weighted)[0]).toBeCloseTo(3 * Math.LN2, 12);
    expect(valuesOf(weighted)[1]).toBeCloseTo(Math.LN2, 12);
  });

  it('keep weight and pos_weight as buffers with PyTorch names', () => {
    expect(Object.keys(new nn.CrossEntropyLoss().stateDict())).toEqual([]);
    const ce = new nn.CrossEntropyLoss({ weight: T.array([1, 2, 3]) });
    expect(Object.keys(ce.stateDict())).toEqual(['weight']);
    expect(ce.weight?.shape).toEqual([3]);
    const bce = new nn.BCEWithLogitsLoss({ posWeight: f64([2]) });
    expect(Object.keys(bce.stateDict())).toEqual(['pos_weight']);
    expect(bce.posWeight).toBe(bce.pos_weight);
    expect(ce.numParameters()).toBe(0);
  });
});

describe('KLDivLoss', () => {
  it('gives KL(p‖q) from log q and p, with 0·log 0 = 0', () => {
    const logq = A.log(f64([[0.25, 0.25, 0.5]]));
    const p = f64([[0.5, 0.5, 0]]);
    expect(scalar(new nn.KLDivLoss({ reduction: 'sum' }).forward(logq, p))).toBeCloseTo(Math.LN2, 12);
    expect(scalar(new nn.KLDivLoss({ reduction: 'batchmean' }).forward(logq, p))).toBeCloseTo(Math.LN2, 12);
    expect(scalar(new nn.KLDivLoss().forward(logq, p))).toBeCloseTo(Math.LN2 / 3, 12);
    const none = new nn.KLDivLoss({ reduction: 'none' }).forward(logq, p);
    expect(valuesOf(none).map((v) => Number(v.toFixed(12)))).toEqual(
      [0.5 * Math.LN2, 0.5 * Math.LN2, 0].map((v) => Number(v.toFixed(12))),
    );
  });

  it('matches Σ p·(log p − log q) per batch, with log targets too', () => {
    const logq = A.logSoftmax(randn([4, 5]), 1);
    const p = probs([4, 5], 1);
    const pv = valuesOf(p);
    const qv = valuesOf(logq);
    const total = pv.reduce((s, v, i) => s + v * (Math.log(v) - qv[i]), 0);
    const batchmean = new nn.KLDivLoss({ reduction: 'batchmean' }).forward(logq, p);
    expect(scalar(batchmean)).toBeCloseTo(total / 4, 12);
    expect(scalar(new nn.KLDivLoss({ reduction: 'mean' }).forward(logq, p))).toBeCloseTo(total / 20, 12);
    const logTarget = new nn.KLDivLoss({ reduction: 'batchmean', logTarget: true }).forward(logq, A.log(p));
    expect(scalar(logTarget)).toBeCloseTo(total / 4, 12);
    expect(scalar(new nn.KLDivLoss({ reduction: 'sum' }).forward(logq, A.exp(logq)))).toBeCloseTo(0, 12);
  });

  it('has gradients −p/n for the input and log p − log q + 1 for the target, NaN-free at p = 0', () => {
    const logq = A.log(f64([0.25, 0.25, 0.5]));
    logq.requiresGrad = true;
    const p = f64([0.5, 0.5, 0]);
    p.requiresGrad = true;
    new nn.KLDivLoss({ reduction: 'sum' }).forward(logq, p).backward();
    expect(valuesOf(logq.grad!)).toEqual([-0.5, -0.5, -0]);
    const pg = valuesOf(p.grad!);
    expect(pg[0]).toBeCloseTo(Math.log(0.5) - Math.log(0.25) + 1, 12);
    expect(pg.every(Number.isFinite)).toBe(true);
    const x = randn([2, 3]);
    const target = probs([2, 3]);
    expect(
      A.gradcheck(
        (a: A.Tensor, b: A.Tensor) => new nn.KLDivLoss({ reduction: 'batchmean' }).forward(a, b),
        [x, target],
      ),
    ).toBe(true);
  });

  it('rejects bad reductions and shapes', () => {
    expect(() => new nn.KLDivLoss({ reduction: 'avg' as nn.KLDivReduction })).toThrow(/KLDivLoss: reduction/);
    expect(() => new nn.KLDivLoss().forward(randn([2, 3]), randn([3, 2]))).toThrow(T.ShapeError);
    expect(() => new nn.MSELoss({ reduction: 'avg' as A.Reduction })).toThrow(/MSELoss: reduction/);
    expect(() => new nn.CrossEntropyLoss({ labelSmoothing: 2 })).toThrow(T.ValueError);
  });
});

describe('loss modules in a model', () => {
  it('train a linear classifier: the loss goes down', () => {
    nn.manualSeed(0);
    const model = new nn.Linear(2, 3, { dtype: 'float64' });
    const x = f64([
      [1, 0],
      [0, 1],
      [-1, -1],
      [2, 0.5],
    ]);
    const y = i32([0, 1, 2, 0]);
    const lossFn = new nn.CrossEntropyLoss();
    const first = scalar(lossFn.forward(model.forward(x), y));
    for (let step = 0; step < 50; step++) {
      model.zeroGrad();
      lossFn.forward(model.forward(x), y).backward();
      for (const p of model.parameters()) p.assign(T.sub(p.value, T.mul(p.grad!.value, 0.5)));
    }
    expect(scalar(lossFn.forward(model.forward(x), y))).toBeLessThan(first / 4);
  });

  it('print their settings', () => {
    expect(new nn.MSELoss().toString()).toBe("MSELoss(reduction='mean')");
    expect(new nn.CrossEntropyLoss({ labelSmoothing: 0.1 }).toString()).toBe(
      "CrossEntropyLoss(reduction='mean', labelSmoothing=0.1)",
    );
    expect(new nn.KLDivLoss({ reduction: 'batchmean' }).toString()).toBe(
      "KLDivLoss(reduction='batchmean', logTarget=false)",
    );
    expect(new nn.HuberLoss({ delta: 2 }).toString()).toBe("HuberLoss(reduction='mean', delta=2)");
  });
});
