import * as A from '@tsgrad/autograd';
import * as nn from '@tsgrad/nn';
import * as T from '@tsgrad/tensor';
import {
  checkLayer,
  expectLayerConforms,
  formatLayerFailure,
  formatLayerReport,
  type LayerCheckOptions,
  LayerConformanceError,
  type LayerReport,
  summarizeLayers,
} from '@tsgrad/testing';
import { describe, expect, it } from 'vitest';

// Every built-in layer of @tsgrad/nn through the layer conformance harness, as a function of
// its parameters and inputs (tiny shapes; fast mode where the layer is bigger), and a check that
// the list covers every exported Module subclass.

const SEED = 20261124;

type Random = () => number;

/** Uniform values in [lo, hi) as a float64 tensor. */
const uniform =
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

const indices = (shape: number[], bound: number) => (random: Random) =>
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

const both =
  (...parts: ((random: Random) => A.Tensor)[]) =>
  (random: Random) =>
    parts.map((part) => part(random));

/** Runs a few training steps so the running statistics are not the initial 0 and 1. */
function warmedUp<M extends nn.Module & { forward(x: A.Tensor): A.Tensor }>(layer: M, shape: number[]): M {
  for (let i = 0; i < 3; i++) layer.forward(A.add(A.randn(T.random.key(100 + i), shape), i));
  return layer;
}

interface LayerCase {
  readonly layer: abstract new (...args: never[]) => nn.Module;
  readonly make: () => nn.Module;
  readonly check: LayerCheckOptions<never>;
}

const tiny = (key: number) => ({ key: T.random.key(key) });
const lossTarget = { differentiableInputs: [0] } as const;
const ACTIVATION: T.Shape[] = [[2, 3]];

const cases: LayerCase[] = [
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
const NOT_LAYERS = new Set<unknown>([nn.Sequential, nn.ModuleList, nn.ModuleDict, nn.RNNBase]);

const reports: LayerReport[] = [];

describe('every built-in layer conforms as a function of its parameters and inputs', () => {
  for (const c of cases) {
    const module = c.make();
    const label = c.check.name ?? `${module.constructor.name}${c.check.training ? ' (train)' : ''}`;
    it(label, () => {
      const report = checkLayer(module as never, { seed: SEED, ...c.check, throwOnFailure: false });
      reports.push(report);
      expect(report.failures.map(formatLayerFailure)).toEqual([]);
      expect(report.checks.gradcheck.runs).toBeGreaterThan(0);
    }, 30_000);
  }

  it('covers every exported Module subclass of @tsgrad/nn, and prints the counts', () => {
    const exported = Object.entries(nn).filter(
      ([, value]) =>
        typeof value === 'function' && value.prototype instanceof nn.Module && !NOT_LAYERS.has(value),
    );
    const covered = new Set<unknown>(cases.map((c) => c.layer));
    expect(exported.filter(([, layer]) => !covered.has(layer)).map(([name]) => name)).toEqual([]);
    for (const c of cases) expect(c.make()).toBeInstanceOf(c.layer);
    const summary = summarizeLayers(reports);
    console.log(formatLayerReport(summary));
    expect(summary.counts).toMatchObject({
      layers: cases.length,
      order1: cases.length,
      failedLayers: 0,
      underJit: cases.length,
      underVmap: cases.length,
    });
  });
});

// Layers with deliberate bugs: the harness must find each one and say where.

/** Half of the output is computed off the tape, so its gradient is missing. */
class OffTape extends nn.Module {
  readonly scale = new nn.Parameter(T.array([1.5, -0.5, 2]));

  forward(x: A.Tensor): A.Tensor {
    return A.add(A.mul(x, this.scale), A.constant(T.mul(x.value, this.scale.value)));
  }
}

/** x², with a VJP that is right once but not differentiable again (2x taken off the tape). */
const squareFirstOrderOnly = A.customVjp(
  (x: A.Tensor) => A.mul(x, x),
  (x: A.Tensor) => [A.mul(x, x), x] as const,
  (x: A.Tensor, g: A.Tensor) => [A.mul(g, A.constant(T.mul(x.value, 2)))],
);

class Square extends nn.Module {
  forward(x: A.Tensor): A.Tensor {
    return squareFirstOrderOnly(x);
  }
}

/** Computes differently in float32. */
class Float32Off extends nn.Module {
  forward(x: A.Tensor): A.Tensor {
    return A.add(x, x.dtype === 'float32' ? 0.01 : 0);
  }
}

/** Keeps a private handle on its buffer and updates it behind functionalCall's back. */
class Leaky extends nn.Module {
  readonly #count: A.Tensor;

  constructor() {
    super();
    this.#count = new A.Tensor(T.zeros([1]));
    this.registerBuffer('count', this.#count);
  }

  forward(x: A.Tensor): A.Tensor {
    this.#count.assign(T.add(this.#count.value, 1));
    return A.mul(x, 2);
  }
}

const failuresOf = (module: nn.Module, options: LayerCheckOptions<never>) =>
  checkLayer(module as never, { seed: SEED, throwOnFailure: false, ...options }).failures;

describe('the layer harness', () => {
  it('names the parameter and the element whose gradient is wrong', () => {
    const [failure] = failuresOf(new OffTape(), { inputs: [[2, 3]] });
    expect(failure).toMatchObject({ layer: 'OffTape', check: 'gradcheck', run: 0 });
    expect(failure.message).toMatch(
      /^∂\(output 0 element \[0,0\]\) \/ ∂\(parameter scale element \[0\]\): numerical -?[\d.]+, analytical -?[\d.]+$/,
    );
  });

  it('finds a second-order error that first-order checks miss', () => {
    const failures = failuresOf(new Square(), { inputs: [[3]] });
    expect(failures.map((f) => f.check)).toEqual(['gradgradcheck']);
    expect(failures[0].message).toMatch(
      /∂\(the gradient of input 0 element \[0\]\) \/ ∂\(input 0 element \[0\]\)/,
    );
    expect(failuresOf(new Square(), { inputs: [[3]], order: 1 })).toEqual([]);
  });

  it('finds randomness in training mode and float32 results that drift from float64', () => {
    const [random] = failuresOf(new nn.Dropout(0.5), { inputs: [[4, 4]], training: true });
    expect(random).toMatchObject({ check: 'forward', layer: 'Dropout' });
    expect(random.message).toMatch(/not deterministic.*check layers with randomness in eval mode/);
    const [drift] = failuresOf(new Float32Off(), { inputs: [[2, 2]] });
    expect(drift.message).toMatch(/^float32 vs float64: output 0 element \[0,0\]/);
  });

  it('finds state changed behind its back, and restores it', () => {
    const leaky = new Leaky();
    const failure = failuresOf(leaky, { inputs: [[2]] }).find((f) => f.check === 'state');
    expect(failure).toMatchObject({ check: 'state' });
    expect(failure?.message).toMatch(/changed the module's own state \(now restored\): count/);
    expect(leaky.buffers()[0].item()).toBe(0);
  });

  it('leaves a BatchNorm checked in training mode as it was: statistics, counter and mode', () => {
    const bn = warmedUp(new nn.BatchNorm2d(2), [3, 2, 2, 2]).eval();
    const before = Object.fromEntries(
      Object.entries(bn.stateDict()).map(([k, v]) => [k, Array.from(v.value.toTypedArray(), Number)]),
    );
    const report = checkLayer(bn, { inputs: [[3, 2, 2, 2]], training: true, seed: SEED, numRuns: 1 });
    expect(report.checks.state.status).toBe('passed');
    const after = Object.fromEntries(
      Object.entries(bn.stateDict()).map(([k, v]) => [k, Array.from(v.value.toTypedArray(), Number)]),
    );
    expect(after).toEqual(before);
    expect(after.num_batches_tracked).toEqual([3]);
    expect(bn.training).toBe(false);
  });

  it('rejects unusable options and throws a readable error from expectLayerConforms', () => {
    const [setup] = failuresOf(new nn.CrossEntropyLoss(), {
      inputs: both(uniform([2, 3]), indices([2], 3)),
      differentiableInputs: [1],
    });
    expect(setup).toMatchObject({ check: 'setup' });
    expect(setup.message).toMatch(
      /differentiableInputs \[1\] are not floating-point inputs \(there are 2 inputs: float64, int32\)/,
    );
    expect(() => expectLayerConforms(new OffTape(), { inputs: [[2, 3]], seed: SEED })).toThrow(
      LayerConformanceError,
    );
    expect(() => expectLayerConforms(new OffTape(), { inputs: [[2, 3]], seed: SEED })).toThrow(
      /OffTape \(eval, order 2, w\.r\.t\. scale, input 0\): 1 failure\(s\)[\s\S]*gradcheck failed \(draw #0, seed \d+\)/,
    );
  });
});
