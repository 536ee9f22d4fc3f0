import * as A from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

// float64 central differences against the tape: torch-style gradcheck and gradgradcheck,
// with tolerances tighter than their defaults.
const tight = { atol: 1e-6, rtol: 1e-5 };
function gradcheck(f: (...xs: A.Tensor[]) => A.Tensor, xs: A.Tensor[]): void {
  expect(A.gradcheck(f, xs, tight)).toBe(true);
  expect(A.gradgradcheck(f, xs, tight)).toBe(true);
}

const f64 = (values: ArrayLike<number>, shape: readonly number[] = [values.length]) =>
  new A.Tensor(T.array(Float64Array.from(values), { shape }), { requiresGrad: true });
const values = (x: A.Tensor) => Array.from(x.toTypedArray() as Float64Array);

const expectClose = (got: number[], want: number[], digits = 12) => {
  expect(got.length).toBe(want.length);
  for (const [i, g] of got.entries()) expect(g, `element ${i}`).toBeCloseTo(want[i], digits);
};
const ints = (v: number[], shape: number[] = [v.length]) =>
  new A.Tensor(T.array(Int32Array.from(v), { shape }));
const scalarOf = (x: A.Tensor) => Number(x.item());

// ---- a literal transcription of PyTorch's cross_entropy for (N, C) inputs -----------------

function logSoftmaxRow(row: number[]): number[] {
  const m = Math.max(...row);
  const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
  return row.map((v) => v - lse);
}

type Reduction = 'mean' | 'sum' | 'none';

/** torch's cross_entropy_loss_label_smoothing + nll_loss for class-index targets. */
function torchCrossEntropy(
  rows: number[][],
  target: number[],
  o: { weight?: number[]; ignoreIndex?: number; labelSmoothing?: number; reduction?: Reduction } = {},
): number | number[] {
  const C = rows[0].length;
  const w = o.weight ?? new Array<number>(C).fill(1);
  const eps = o.labelSmoothing ?? 0;
  const ignore = o.ignoreIndex ?? -100;
  const logp = rows.map(logSoftmaxRow);
  const nll = target.map((y, n) => (y === ignore ? 0 : -w[y] * logp[n][y]));
  const smooth = target.map((y, n) => (y === ignore ? 0 : -logp[n].reduce((s, v, c) => s + w[c] * v, 0)));
  const weightSum = target.reduce((s, y) => s + (y === ignore ? 0 : w[y]), 0);
  const reduction = o.reduction ?? 'mean';
  if (reduction === 'none') return nll.map((v, n) => (1 - eps) * v + (eps / C) * smooth[n]);
  const total = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const scale = reduction === 'mean' ? weightSum : 1;
  return (1 - eps) * (total(nll) / scale) + (eps / C) * (total(smooth) / scale);
}

const logits = [
  [0.5, -1.2, 2.0, 0.3],
  [1.5, 0.2, -0.7, -2.1],
  [-0.3, 0.9, 0.1, 1.7],
];
const flat = logits.flat();

describe('crossEntropy with class indices', () => {
  const cases: { name: string; target: number[]; options: Parameters<typeof torchCrossEntropy>[2] }[] = [
    { name: 'plain', target: [2, 0, 3], options: {} },
    { name: 'label smoothing', target: [2, 0, 3], options: { labelSmoothing: 0.2 } },
    { name: 'class weights', target: [2, 0, 3], options: { weight: [0.5, 2, 1, 3] } },
    { name: 'ignoreIndex', target: [2, -100, 1], options: {} },
    { name: 'a custom ignoreIndex inside the class range', target: [2, 0, 1], options: { ignoreIndex: 0 } },
    {
      name: 'everything at once',
      target: [1, 3, -100],
      options: { weight: [0.5, 2, 1, 3], labelSmoothing: 0.1 },
    },
  ];
  for (const { name, target, options } of cases) {
    for (const reduction of ['mean', 'sum', 'none'] as const) {
      it(`matches PyTorch's formula: ${name}, reduction ${reduction}`, () => {
        const weight = options?.weight ? f64(options.weight) : undefined;
        const got = A.crossEntropy(f64(flat, [3, 4]), ints(target), { ...options, weight, reduction });
        const want = torchCrossEntropy(logits, target, { ...options, reduction });
        if (typeof want === 'number') expect(scalarOf(got)).toBeCloseTo(want, 12);
        else expectClose(values(got), want);
      });
    }
  }

  it('has correct first and second derivatives (smoothing, weights, ignored samples)', () => {
    const weight = f64([0.5, 2, 1, 3]);
    for (const reduction of ['mean', 'none'] as const) {
      gradcheck(
        (x) => A.crossEntropy(x, ints([1, 3, -100]), { weight, labelSmoothing: 0.1, reduction }),
        [f64(flat, [3, 4])],
      );
    }
    gradcheck((x) => A.crossEntropy(x, ints([0, 2, 2])), [f64(flat, [3, 4])]);
  });

  it('has the fused gradient (softmax − smoothed one-hot)·weights / normalizer', () => {
    const x = f64(flat, [3, 4]);
    A.crossEntropy(x, ints([2, 0, 3]), { labelSmoothing: 0.2 }).backward();
    const want = logits.flatMap((row, n) => {
      const p = logSoftmaxRow(row).map(Math.exp);
      return p.map((pc, c) => (pc - (0.8 * (c === [2, 0, 3][n] ? 1 : 0) + 0.2 / 4)) / 3);
    });
    expectClose(values(x.grad as A.Tensor), want);
  });

  it('gives ignored samples zero gradient and NaN when every sample is ignored (as PyTorch)', () => {
    const x = f64(flat, [3, 4]);
    A.crossEntropy(x, ints([2, -100, 1])).backward();
    expect(values(x.grad as A.Tensor).slice(4, 8)).toEqual([0, 0, 0, 0]);
    expect(scalarOf(A.crossEntropy(f64(flat, [3, 4]), ints([-100, -100, -100])))).toBeNaN();
  });

  it('is finite and exact for logits ±1000, with finite gradients', () => {
    const x = f64([1000, -1000, -1000, 1000], [2, 2]);
    const loss = A.crossEntropy(x, ints([0, 0]), { reduction: 'none' });
    expect(values(loss)).toEqual([0, 2000]);
    A.sum(loss).backward();
    expect(values(x.grad as A.Tensor)).toEqual([0, 0, -1, 1]);
    const smoothed = A.crossEntropy(f64([1000, -1000], [1, 2]), ints([0]), { labelSmoothing: 0.1 });
    expect(scalarOf(smoothed)).toBeCloseTo(0.05 * 2000, 9);
  });

  it('handles (N, C, d1, d2) inputs with classes on axis 1', () => {
    const random = seeded(3);
    const data = Array.from({ length: 2 * 3 * 2 * 2 }, () => random() * 4 - 2);
    const target = [0, 2, 1, -100, 2, 2, 0, 1];
    const x = f64(data, [2, 3, 2, 2]);
    const weight = f64([1, 0.5, 2]);
    const options = { weight, labelSmoothing: 0.1 };
    // the same samples laid out as (N·d1·d2, C)
    const rows = A.reshape(A.permute(x, [0, 2, 3, 1]), [8, 3]);
    for (const reduction of ['mean', 'sum', 'none'] as const) {
      const got = values(A.crossEntropy(x, ints(target, [2, 2, 2]), { ...options, reduction }));
      const want = values(A.crossEntropy(rows, ints(target), { ...options, reduction }));
      expectClose(got, want);
    }
    gradcheck((t) => A.crossEntropy(t, ints(target, [2, 2, 2]), options), [f64(data, [2, 3, 2, 2])]);
  });

  it('accepts a single (C,) sample with a 0-d target', () => {
    const loss = A.crossEntropy(f64(logits[0]), ints([2], []));
    expect(loss.shape).toEqual([]);
    expect(scalarOf(loss)).toBeCloseTo(-logSoftmaxRow(logits[0])[2], 12);
  });

  it('equals nllLoss of logSoftmax (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -30, max: 30, noNaN: true }), { minLength: 6, maxLength: 6 }),
        fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 2, maxLength: 2 }),
        (data, target) => {
          const x = f64(data, [2, 3]);
          const a = scalarOf(A.crossEntropy(x, ints(target)));
          const b = scalarOf(A.nllLoss(A.logSoftmax(x, 1), ints(target)));
          expect(Math.abs(a - b)).toBeLessThan(1e-9 * (1 + Math.abs(b)));
        },
      ),
    );
  });

  it('rejects bad targets, weights and options with typed errors', () => {
    const x = f64(flat, [3, 4]);
    expect(() => A.crossEntropy(x, ints([0, 4, 1]))).toThrow(T.IndexError);
    expect(() => A.crossEntropy(x, ints([0, -1, 1]))).toThrow(/crossEntropy: target -1 is out of range/);
    expect(() => A.crossEntropy(x, ints([0, 1]))).toThrow(T.ShapeError);
    expect(() => A.crossEntropy(x, new A.Tensor(T.array([true, false, true])))).toThrow(T.DTypeError);
    expect(() => A.crossEntropy(x, ints([0, 1, 2]), { weight: f64([1, 2]) })).toThrow(T.ShapeError);
    expect(() => A.crossEntropy(x, ints([0, 1, 2]), { labelSmoothing: 1.5 })).toThrow(T.ValueError);
    expect(() => A.crossEntropy(x, ints([0, 1, 2]), { reduction: 'avg' as Reduction })).toThrow(T.ValueError);
    expect(() => A.crossEntropy(ints([0, 1, 2]), ints([0, 1, 2]))).toThrow(T.DTypeError);
  });
});

describe('crossEntropy with class probabilities', () => {
  const probs = [
    [0.1, 0.2, 0.3, 0.4],
    [1, 0, 0, 0],
    [0.25, 0.25, 0.5, 0],
  ];

  /** torch's cross_entropy_loss_prob_target. */
  function torchSoft(
    labelSmoothing = 0,
    weight = [1, 1, 1, 1],
    reduction: Reduction = 'mean',
  ): number | number[] {
    const per = logits.map((row, n) => {
      const lp = logSoftmaxRow(row);
      return -lp.reduce(
        (s, v, c) => s + v * (probs[n][c] * (1 - labelSmoothing) + labelSmoothing / 4) * weight[c],
        0,
      );
    });
    if (reduction === 'none') return per;
    const total = per.reduce((a, b) => a + b, 0);
    return reduction === 'sum' ? total : total / 3;
  }

  it("matches PyTorch's formula with smoothing, weights and every reduction", () => {
    for (const reduction of ['mean', 'sum', 'none'] as const) {
      for (const [smoothing, weight] of [
        [0, undefined],
        [0.3, [0.5, 2, 1, 3]],
      ] as const) {
        const got = A.crossEntropy(f64(flat, [3, 4]), f64(probs.flat(), [3, 4]), {
          labelSmoothing: smoothing,
          weight: weight ? f64(weight) : undefined,
          reduction,
        });
        const want = torchSoft(smoothing, weight ? [...weight] : undefined, reduction);
        if (typeof want === 'number') expect(scalarOf(got)).toBeCloseTo(want, 12);
        else expectClose(values(got), want);
      }
    }
  });

  it('equals the index form for one-hot targets', () => {
    const oneHot = [0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 1];
    const soft = scalarOf(A.crossEntropy(f64(flat, [3, 4]), f64(oneHot, [3, 4]), { labelSmoothing: 0.1 }));
    const hard = scalarOf(A.crossEntropy(f64(flat, [3, 4]), ints([2, 0, 3]), { labelSmoothing: 0.1 }));
    expect(soft).toBeCloseTo(hard, 12);
  });

  it('is differentiable in logits and targets, to second order', () => {
    gradcheck(
      (x, t) => A.crossEntropy(x, t, { labelSmoothing: 0.2, weight: f64([0.5, 2, 1, 3]) }),
      [f64(flat, [3, 4]), f64(probs.flat(), [3, 4])],
    );
    gradcheck(
      (x, t) => A.crossEntropy(x, t, { reduction: 'none' }),
      [f64(flat.slice(0, 8), [2, 2, 2]), f64([0.2, 0.7, 0.8, 0.3, 0.5, 0.1, 0.5, 0.9], [2, 2, 2])],
    );
  });

  it('stays finite for logits ±1000', () => {
    const x = f64([1000, -1000, 0, 0], [2, 2]);
    const loss = A.crossEntropy(x, f64([0.5, 0.5, 1, 0], [2, 2]), { reduction: 'none' });
    expectClose(values(loss), [1000, Math.LN2]);
  });

  it('needs targets of the logits shape', () => {
    expect(() => A.crossEntropy(f64(flat, [3, 4]), f64([1, 0, 0, 0], [1, 4]))).toThrow(T.ShapeError);
  });
});

describe('nllLoss', () => {
  const logProbs = logits.flatMap(logSoftmaxRow);

  it('picks −w[y]·logProbs[n, y] and divides the mean by the total weight', () => {
    const weight = [0.5, 2, 1, 3];
    const target = [2, 0, -100];
    const per = [-weight[2] * logProbs[2], -weight[0] * logProbs[4], 0];
    const x = () => f64(logProbs, [3, 4]);
    expectClose(values(A.nllLoss(x(), ints(target), { weight: f64(weight), reduction: 'none' })), per);
    expect(scalarOf(A.nllLoss(x(), ints(target), { weight: f64(weight), reduction: 'sum' }))).toBeCloseTo(
      per[0] + per[1],
      12,
    );
    expect(scalarOf(A.nllLoss(x(), ints(target), { weight: f64(weight) }))).toBeCloseTo(
      (per[0] + per[1]) / 1.5,
      12,
    );
    gradcheck((t) => A.nllLoss(t, ints(target), { weight: f64(weight) }), [x()]);
  });

  it('ignores −inf log-probabilities of other classes', () => {
    const x = f64([0, -Infinity, -Infinity, -Math.LN2, -Math.LN2, -Infinity], [2, 3]);
    const loss = A.nllLoss(x, ints([0, 1]));
    expect(scalarOf(loss)).toBeCloseTo(Math.LN2 / 2, 12);
    loss.backward();
    expect(values(x.grad as A.Tensor)).toEqual([-0.5, 0, 0, 0, -0.5, 0]);
  });
});

describe('regression losses', () => {
  const input = [0.5, -1.2, 3.1, 0.1, 2.2, -0.4];
  const target = [0.0, -1.0, 1.0, 0.6, -0.3, -0.4];
  const diff = input.map((v, i) => v - target[i]);
  const x = () => f64(input, [2, 3]);
  const t = () => f64(target, [2, 3]);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

  const huber = (d: number, delta: number) =>
    Math.abs(d) < delta ? 0.5 * d * d : delta * (Math.abs(d) - 0.5 * delta);
  const smoothL1 = (d: number, beta: number) =>
    Math.abs(d) < beta ? (0.5 * d * d) / beta : Math.abs(d) - 0.5 * beta;

  const cases: [string, (a: A.Tensor, b: A.Tensor, r: Reduction) => A.Tensor, (d: number) => number][] = [
    ['mseLoss', (a, b, reduction) => A.mseLoss(a, b, { reduction }), (d) => d * d],
    ['l1Loss', (a, b, reduction) => A.l1Loss(a, b, { reduction }), Math.abs],
    ['huberLoss', (a, b, reduction) => A.huberLoss(a, b, { reduction }), (d) => huber(d, 1)],
    [
      'huberLoss delta 0.3',
      (a, b, reduction) => A.huberLoss(a, b, { delta: 0.3, reduction }),
      (d) => huber(d, 0.3),
    ],
    ['smoothL1Loss', (a, b, reduction) => A.smoothL1Loss(a, b, { reduction }), (d) => smoothL1(d, 1)],
    [
      'smoothL1Loss beta 2',
      (a, b, reduction) => A.smoothL1Loss(a, b, { beta: 2, reduction }),
      (d) => smoothL1(d, 2),
    ],
  ];

  for (const [name, loss, elementwise] of cases) {
    it(`${name} matches its closed form under every reduction`, () => {
      const per = diff.map(elementwise);
      expectClose(values(loss(x(), t(), 'none')), per);
      expect(scalarOf(loss(x(), t(), 'sum'))).toBeCloseTo(
        per.reduce((a, b) => a + b, 0),
        12,
      );
      expect(scalarOf(loss(x(), t(), 'mean'))).toBeCloseTo(mean(per), 12);
    });

    it(`${name} has correct derivatives in input and target`, () => {
      // skip the last pair, whose difference is 0 (the kink of l1)
      gradcheck((a, b) => loss(a, b, 'mean'), [f64(input.slice(0, 5)), f64(target.slice(0, 5))]);
    });
  }

  it('smoothL1Loss with beta 0 is l1Loss; the l1 gradient at 0 is 0', () => {
    expect(scalarOf(A.smoothL1Loss(x(), t(), { beta: 0 }))).toBeCloseTo(mean(diff.map(Math.abs)), 12);
    const a = f64([1, 2]);
    A.l1Loss(a, f64([1, 0])).backward();
    expect(values(a.grad as A.Tensor)).toEqual([0, 0.5]);
  });

  it('accepts a scalar target and rejects mismatched shapes (no silent (N,1)·(N,) broadcast)', () => {
    expect(scalarOf(A.mseLoss(f64([1, 3]), 2))).toBe(1);
    expect(() => A.mseLoss(f64([1, 2, 3], [3, 1]), f64([1, 2, 3]))).toThrow(T.ShapeError);
    expect(() => A.huberLoss(x(), t(), { delta: 0 })).toThrow(T.ValueError);
    expect(() => A.smoothL1Loss(x(), t(), { beta: -1 })).toThrow(T.ValueError);
    expect(() => A.l1Loss(x(), t(), { reduction: 'max' as Reduction })).toThrow(T.ValueError);
  });
});

describe('binary cross-entropy', () => {
  const xs = [-2.5, -0.4, 0.3, 1.7, 3.1, -1.1];
  const ts = [0, 1, 0.3, 1, 0.8, 0];
  const bce = (x: number, t: number) =>
    -(t * Math.log(1 / (1 + Math.exp(-x))) + (1 - t) * Math.log(1 - 1 / (1 + Math.exp(-x))));

  it('with logits matches −[t·log σ(x) + (1 − t)·log(1 − σ(x))]', () => {
    const per = xs.map((x, i) => bce(x, ts[i]));
    expectClose(values(A.binaryCrossEntropyWithLogits(f64(xs), f64(ts), { reduction: 'none' })), per);
    expect(scalarOf(A.binaryCrossEntropyWithLogits(f64(xs), f64(ts)))).toBeCloseTo(
      per.reduce((a, b) => a + b) / 6,
      12,
    );
  });

  it('with logits has gradient σ(x) − t and correct second derivatives in both inputs', () => {
    const x = f64(xs);
    A.binaryCrossEntropyWithLogits(x, f64(ts), { reduction: 'sum' }).backward();
    expectClose(
      values(x.grad as A.Tensor),
      xs.map((v, i) => 1 / (1 + Math.exp(-v)) - ts[i]),
    );
    gradcheck((a, b) => A.binaryCrossEntropyWithLogits(a, b), [f64(xs, [2, 3]), f64(ts, [2, 3])]);
  });

  it('with logits is finite and exact at ±1000', () => {
    const x = f64([1000, -1000, 1000, -1000]);
    const loss = A.binaryCrossEntropyWithLogits(x, f64([0, 1, 1, 0]), { reduction: 'none' });
    expect(values(loss)).toEqual([1000, 1000, 0, 0]);
    A.sum(loss).backward();
    expect(values(x.grad as A.Tensor)).toEqual([1, -1, 0, 0]);
  });

  it('with posWeight and weight follows PyTorch', () => {
    const pos = [2, 0.5, 3];
    const weight = [1, 0.5, 2];
    const per = xs.map((x, i) => {
      const p = pos[i % 3];
      const ls = Math.log(1 / (1 + Math.exp(-x)));
      return weight[i % 3] * ((1 - ts[i]) * x - (1 + (p - 1) * ts[i]) * ls);
    });
    const options = { posWeight: f64(pos), weight: f64(weight), reduction: 'none' as const };
    expectClose(values(A.binaryCrossEntropyWithLogits(f64(xs, [2, 3]), f64(ts, [2, 3]), options)), per);
    // posWeight = 1 is the plain loss
    expectClose(
      values(A.binaryCrossEntropyWithLogits(f64(xs), f64(ts), { posWeight: 1, reduction: 'none' })),
      xs.map((x, i) => bce(x, ts[i])),
    );
    gradcheck(
      (a, b, p) => A.binaryCrossEntropyWithLogits(a, b, { posWeight: p }),
      [f64(xs, [2, 3]), f64(ts, [2, 3]), f64(pos)],
    );
    const big = A.binaryCrossEntropyWithLogits(f64([1000, -1000]), f64([0, 1]), {
      posWeight: 2,
      reduction: 'none',
    });
    expect(values(big)).toEqual([1000, 2000]);
  });

  it('on probabilities matches the closed form, clamps logs at −100 and checks its input', () => {
    const ps = xs.map((x) => 1 / (1 + Math.exp(-x)));
    expectClose(
      values(A.binaryCrossEntropy(f64(ps), f64(ts), { reduction: 'none' })),
      xs.map((x, i) => bce(x, ts[i])),
      10,
    );
    gradcheck((p, t) => A.binaryCrossEntropy(p, t), [f64(ps), f64(ts)]);
    const p = f64([0, 1, 0.5]);
    const clamped = A.binaryCrossEntropy(p, f64([1, 0, 1]), { reduction: 'none' });
    expectClose(values(clamped), [100, 100, Math.LN2]);
    A.sum(clamped).backward();
    expect(values(p.grad as A.Tensor).every(Number.isFinite)).toBe(true);
    expect(() => A.binaryCrossEntropy(f64([1.5]), f64([1]))).toThrow(T.ValueError);
    expect(() => A.binaryCrossEntropyWithLogits(f64([1, 2]), f64([1, 0, 1]))).toThrow(T.ShapeError);
  });
});
