import * as A from '@tsgrad/autograd';
import * as nn from '@tsgrad/nn';
import * as T from '@tsgrad/tensor';
import type { LayerCheckOptions } from './layers.js';

// The layer configurations of the layer harness (packages/testing/test/layers.test.ts) and the
// input makers they use.

type Random = () => number;

/** Uniform values in [lo, hi) as a float64 tensor. */
export const uniform =
  (shape: number[], lo = -2, hi = 2) =>
  (random: Random) =>
    new A.Tensor(
      T.array(
        Float64Array.from({ length: T.sizeOf(shape) }, () => lo + (hi - lo) * random()),
        { shape, dtype: 'float64' },
      ),
    );

/** Values at least 0.1 apart (a shuffled grid with a little noise): max pooling has no ties. */
const distinct = (shape: number[]) => (random: Random) => {
  const n = T.sizeOf(shape);
  const grid = Array.from({ length: n }, (_, i) => -2 + (4 * i) / n);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [grid[i], grid[j]] = [grid[j], grid[i]];
  }
  const values = grid.map((v) => v + 0.02 * random());
  return new A.Tensor(T.array(Float64Array.from(values), { shape, dtype: 'float64' }));
};

export const indices = (shape: number[], bound: number) => (random: Random) =>
  new A.Tensor(
    T.array(
      Int32Array.from({ length: T.sizeOf(shape) }, () => Math.floor(random() * bound)),
      { shape, dtype: 'int32' },
    ),
  );

/** A probability distribution along the last axis. */
const probabilities = (shape: number[]) => (random: Random) => A.softmax(uniform(shape)(random), -1);

/** input and a target whose distance |input − target| avoids [kink − 0.2, kink + 0.2]. */
const awayFrom = (kink: number, shape: number[]) => (random: Random) => {
  const input = uniform(shape)(random);
  const gaps = Float64Array.from({ length: T.sizeOf(shape) }, () => {
    const size = random() < 0.5 ? 0.2 + (kink - 0.4) * random() : kink + 0.2 + random();
    return random() < 0.5 ? size : -size;
  });
  return [input, A.sub(input, new A.Tensor(T.array(gaps, { shape, dtype: 'float64' })))];
};

export const both =
  (...parts: ((random: Random) => A.Tensor)[]) =>
  (random: Random) =>
    parts.map((part) => part(random));

/** Runs a few training steps so the running statistics are not the initial 0 and 1. */
export function warmedUp<M extends nn.Module & { forward(x: A.Tensor): A.Tensor }>(
  layer: M,
  shape: number[],
): M {
  for (let i = 0; i < 3; i++) layer.forward(A.add(A.randn(T.random.key(100 + i), shape), i));
  return layer;
}

/** One layer configuration of the layer harness: the class it covers, a fresh instance and how to check it. */
export interface LayerCase {
  /** The layer class the case covers (every exported layer needs one, or a reason in NOT_LAYERS). */
  readonly layer: abstract new (
    ...args: never[]
  ) => nn.Module;
  /** Makes a fresh instance, initialized from fixed keys. */
  readonly make: () => nn.Module;
  /** How the harness checks it: input shapes, tolerances, which checks apply. */
  readonly check: LayerCheckOptions<never>;
}

const tiny = (key: number) => ({ key: T.random.key(key) });
const lossTarget = { differentiableInputs: [0] } as const;
const ACTIVATION: T.Shape[] = [[2, 3]];

/**
 * Every built-in layer of @tsgrad/nn in tiny configurations, with the inputs and options the
 * layer harness checks them with. Other checks (ONNX export) reuse the same list.
 */
export const LAYER_CASES: readonly LayerCase[] = [
  { layer: nn.Linear, make: () => new nn.Linear(3, 2, tiny(1)), check: { inputs: [[2, 3]] } },
  {
    layer: nn.Conv1d,
    make: () => new nn.Conv1d(2, 3, 2, { padding: 1, ...tiny(2) }),
    check: { inputs: [[2, 2, 4]] },
  },
  {
    layer: nn.Conv1d,
    make: () => new nn.Conv1d(2, 2, 3, { padding: 1, paddingMode: 'circular', ...tiny(3) }),
    check: { inputs: [[1, 2, 4]], name: 'Conv1d (circular padding)' },
  },
  {
    layer: nn.Conv2d,
    make: () => new nn.Conv2d(2, 2, 2, { padding: 1, stride: [1, 2], ...tiny(4) }),
    check: { inputs: [[1, 2, 3, 3]] },
  },
  {
    layer: nn.ConvTranspose1d,
    make: () => new nn.ConvTranspose1d(2, 3, 2, { stride: 2, ...tiny(5) }),
    check: { inputs: [[2, 2, 3]] },
  },
  {
    layer: nn.ConvTranspose2d,
    make: () => new nn.ConvTranspose2d(2, 2, 2, { stride: 2, padding: 1, outputPadding: 1, ...tiny(6) }),
    check: { inputs: [[1, 2, 2, 2]] },
  },
  {
    layer: nn.MaxPool1d,
    make: () => new nn.MaxPool1d(2),
    check: { inputs: (r) => [distinct([2, 2, 4])(r)] },
  },
  {
    layer: nn.MaxPool2d,
    make: () => new nn.MaxPool2d(2, { stride: 1 }),
    check: { inputs: (r) => [distinct([1, 2, 3, 3])(r)] },
  },
  {
    layer: nn.AvgPool1d,
    make: () => new nn.AvgPool1d(3, { stride: 2, padding: 1 }),
    check: { inputs: [[2, 2, 5]] },
  },
  {
    layer: nn.AvgPool2d,
    make: () => new nn.AvgPool2d(2, { padding: 1, countIncludePad: false }),
    check: { inputs: [[1, 2, 3, 3]] },
  },
  { layer: nn.AdaptiveAvgPool1d, make: () => new nn.AdaptiveAvgPool1d(3), check: { inputs: [[2, 2, 5]] } },
  {
    layer: nn.AdaptiveAvgPool2d,
    make: () => new nn.AdaptiveAvgPool2d([2, null]),
    check: { inputs: [[1, 2, 5, 3]] },
  },
  { layer: nn.Flatten, make: () => new nn.Flatten(), check: { inputs: [[2, 3, 2]] } },
  { layer: nn.Unflatten, make: () => new nn.Unflatten(1, [2, -1]), check: { inputs: [[2, 6]] } },
  { layer: nn.Identity, make: () => new nn.Identity(), check: { inputs: [[2, 3]] } },
  { layer: nn.Dropout, make: () => new nn.Dropout(0.5), check: { inputs: [[2, 3]] } },
  { layer: nn.BatchNorm1d, make: () => new nn.BatchNorm1d(3), check: { inputs: [[4, 3]], training: true } },
  {
    layer: nn.BatchNorm1d,
    make: () => new nn.BatchNorm1d(2, { momentum: null }),
    check: { inputs: [[3, 2, 2]], training: true, name: 'BatchNorm1d (train, cumulative, [N, C, L])' },
  },
  { layer: nn.BatchNorm1d, make: () => warmedUp(new nn.BatchNorm1d(3), [4, 3]), check: { inputs: [[4, 3]] } },
  {
    layer: nn.BatchNorm2d,
    make: () => new nn.BatchNorm2d(2),
    check: { inputs: [[3, 2, 2, 2]], training: true },
  },
  {
    layer: nn.BatchNorm2d,
    make: () => warmedUp(new nn.BatchNorm2d(2), [3, 2, 2, 2]),
    check: { inputs: [[3, 2, 2, 2]] },
  },
  {
    layer: nn.BatchNorm3d,
    make: () => new nn.BatchNorm3d(2),
    check: { inputs: [[2, 2, 2, 2, 1]], training: true },
  },
  {
    layer: nn.BatchNorm3d,
    make: () => warmedUp(new nn.BatchNorm3d(2), [2, 2, 2, 2, 1]),
    check: { inputs: [[2, 2, 2, 2, 1]] },
  },
  { layer: nn.LayerNorm, make: () => new nn.LayerNorm([2, 3]), check: { inputs: [[2, 2, 3]] } },
  { layer: nn.RMSNorm, make: () => new nn.RMSNorm(3, { eps: 1e-6 }), check: { inputs: [[2, 3]] } },
  { layer: nn.GroupNorm, make: () => new nn.GroupNorm(2, 4), check: { inputs: [[2, 4, 3]] } },
  {
    layer: nn.Embedding,
    make: () => new nn.Embedding(5, 3, tiny(7)),
    check: { inputs: (r) => [indices([2, 3], 5)(r)] },
  },
  {
    layer: nn.RNN,
    make: () => new nn.RNN(2, 3, tiny(8)),
    check: {
      inputs: both(uniform([3, 2, 2]), uniform([1, 2, 3], -1, 1)),
      call: (m: nn.RNN, x: A.Tensor, h0: A.Tensor) => m.forward(x, h0),
    },
  },
  {
    layer: nn.LSTM,
    make: () => new nn.LSTM(2, 3, tiny(9)),
    check: {
      inputs: both(uniform([3, 2, 2]), uniform([1, 2, 3], -1, 1), uniform([1, 2, 3], -1, 1)),
      call: (m: nn.LSTM, x: A.Tensor, h0: A.Tensor, c0: A.Tensor) => m.forward(x, [h0, c0]),
    },
  },
  {
    layer: nn.GRU,
    make: () => new nn.GRU(2, 3, { batchFirst: true, ...tiny(10) }),
    check: { inputs: [[2, 3, 2]] },
  },
  {
    layer: nn.MultiheadAttention,
    make: () => new nn.MultiheadAttention(4, 2, tiny(11)),
    check: {
      inputs: [
        [3, 2, 4],
        [2, 2, 4],
        [2, 2, 4],
      ],
      call: (m: nn.MultiheadAttention, q: A.Tensor, k: A.Tensor, v: A.Tensor) => m.forward(q, k, v),
    },
  },
  {
    layer: nn.TransformerEncoderLayer,
    make: () =>
      new nn.TransformerEncoderLayer(4, 2, {
        dimFeedforward: 6,
        dropout: 0,
        activation: 'gelu',
        ...tiny(12),
      }),
    check: { inputs: [[3, 2, 4]] },
  },
  {
    layer: nn.TransformerEncoder,
    make: () =>
      new nn.TransformerEncoder(
        (i) =>
          new nn.TransformerEncoderLayer(4, 2, {
            dimFeedforward: 4,
            dropout: 0.1,
            normFirst: true,
            ...tiny(20 + i),
          }),
        2,
        { norm: new nn.LayerNorm(4) },
      ),
    check: { inputs: [[2, 2, 4]], numRuns: 1, name: 'TransformerEncoder (2 pre-norm layers, eval)' },
  },
  // Activations (w.r.t. the input), with inputs kept away from their kinks.
  { layer: nn.ReLU, make: () => new nn.ReLU(), check: { inputs: ACTIVATION, avoid: [0] } },
  {
    layer: nn.ReLU6,
    make: () => new nn.ReLU6(),
    check: { inputs: ACTIVATION, range: [-1, 7], avoid: [0, 6] },
  },
  {
    layer: nn.LeakyReLU,
    make: () => new nn.LeakyReLU({ negativeSlope: 0.2 }),
    check: { inputs: ACTIVATION, avoid: [0] },
  },
  { layer: nn.ELU, make: () => new nn.ELU({ alpha: 0.5 }), check: { inputs: ACTIVATION, avoid: [0] } },
  { layer: nn.SELU, make: () => new nn.SELU(), check: { inputs: ACTIVATION, avoid: [0] } },
  { layer: nn.GELU, make: () => new nn.GELU(), check: { inputs: ACTIVATION } },
  {
    layer: nn.GELU,
    make: () => new nn.GELU({ approximate: 'tanh' }),
    check: { inputs: ACTIVATION, name: 'GELU (tanh)' },
  },
  { layer: nn.SiLU, make: () => new nn.SiLU(), check: { inputs: ACTIVATION } },
  { layer: nn.Sigmoid, make: () => new nn.Sigmoid(), check: { inputs: ACTIVATION } },
  { layer: nn.LogSigmoid, make: () => new nn.LogSigmoid(), check: { inputs: ACTIVATION } },
  { layer: nn.Tanh, make: () => new nn.Tanh(), check: { inputs: ACTIVATION } },
  {
    layer: nn.Hardtanh,
    make: () => new nn.Hardtanh({ minVal: -1, maxVal: 0.5 }),
    check: { inputs: ACTIVATION, avoid: [-1, 0.5] },
  },
  { layer: nn.Softplus, make: () => new nn.Softplus({ beta: 2 }), check: { inputs: ACTIVATION } },
  { layer: nn.Softmax, make: () => new nn.Softmax(0), check: { inputs: ACTIVATION } },
  { layer: nn.LogSoftmax, make: () => new nn.LogSoftmax(), check: { inputs: ACTIVATION } },
  // Losses (w.r.t. the input; targets fixed).
  {
    layer: nn.MSELoss,
    make: () => new nn.MSELoss(),
    check: {
      inputs: [
        [2, 3],
        [2, 3],
      ],
      ...lossTarget,
    },
  },
  {
    layer: nn.L1Loss,
    make: () => new nn.L1Loss({ reduction: 'sum' }),
    check: { inputs: awayFrom(0, [2, 3]), ...lossTarget },
  },
  {
    layer: nn.SmoothL1Loss,
    make: () => new nn.SmoothL1Loss({ beta: 1 }),
    check: { inputs: awayFrom(1, [2, 3]), ...lossTarget },
  },
  {
    layer: nn.HuberLoss,
    make: () => new nn.HuberLoss({ delta: 1, reduction: 'none' }),
    check: { inputs: awayFrom(1, [2, 3]), ...lossTarget },
  },
  {
    layer: nn.NLLLoss,
    make: () => new nn.NLLLoss({ weight: T.array([1, 2, 0.5, 1.5]), ignoreIndex: 1 }),
    check: { inputs: both(uniform([3, 4], -3, 0), indices([3], 4)) },
  },
  {
    layer: nn.CrossEntropyLoss,
    make: () => new nn.CrossEntropyLoss(),
    check: { inputs: both(uniform([3, 4]), indices([3], 4)) },
  },
  {
    layer: nn.CrossEntropyLoss,
    make: () => new nn.CrossEntropyLoss({ labelSmoothing: 0.1, weight: T.array([1, 2, 0.5, 1.5]) }),
    check: {
      inputs: both(uniform([3, 4]), probabilities([3, 4])),
      ...lossTarget,
      name: 'CrossEntropyLoss (probabilities)',
    },
  },
  {
    layer: nn.BCELoss,
    make: () => new nn.BCELoss(),
    check: { inputs: both(uniform([2, 3], 0.1, 0.9), uniform([2, 3], 0, 1)), ...lossTarget },
  },
  {
    layer: nn.BCEWithLogitsLoss,
    make: () => new nn.BCEWithLogitsLoss({ posWeight: T.array([1, 2, 3]) }),
    check: { inputs: both(uniform([2, 3]), uniform([2, 3], 0, 1)), ...lossTarget },
  },
  {
    layer: nn.KLDivLoss,
    make: () => new nn.KLDivLoss({ reduction: 'batchmean' }),
    check: { inputs: both(uniform([2, 3], -3, 0), probabilities([2, 3])), ...lossTarget },
  },
];

/** Exported Module subclasses that are not layers: containers and abstract bases. */
export const NOT_LAYERS = new Set<unknown>([nn.Sequential, nn.ModuleList, nn.ModuleDict, nn.RNNBase]);
