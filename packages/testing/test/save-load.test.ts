import * as A from '@tsgrad/autograd';
import { fromBytes, toBytes } from '@tsgrad/io';
import * as nn from '@tsgrad/nn';
import * as T from '@tsgrad/tensor';
import { describe, expect, it } from 'vitest';

// Every built-in layer's state dict through safetensors bytes (toBytes → fromBytes →
// loadStateDict) into a fresh layer built with another seed: every parameter and buffer comes
// back bit for bit, and the two layers then compute bit-identical outputs.

type Key = T.random.PRNGKey;

interface SaveLoadCase {
  readonly layer: abstract new (...args: never[]) => nn.Module;
  readonly name?: string;
  /** A layer built from `key` (layers without random initialization ignore it). */
  readonly make: (key: Key) => nn.Module;
  /** A forward call whose outputs are compared. */
  readonly run: (module: never) => unknown;
}

let inputSeed = 1000;
const randn = (shape: number[]) => A.randn(T.random.key(inputSeed++), shape);
const ints = (shape: number[], bound: number) =>
  new A.Tensor(T.random.randint(T.random.key(inputSeed++), shape, 0, bound));
const forward =
  (...inputs: A.Tensor[]) =>
  (m: { forward(...xs: A.Tensor[]): unknown }) =>
    m.forward(...inputs);
const weights = (n: number) => T.random.uniform(T.random.key(inputSeed++), [n], { low: 0.5, high: 1.5 });

const cases: SaveLoadCase[] = [
  { layer: nn.Linear, make: (key) => new nn.Linear(3, 2, { key }), run: forward(randn([2, 3])) },
  {
    layer: nn.Linear,
    name: 'Linear (float64, no bias)',
    make: (key) => new nn.Linear(3, 2, { key, dtype: 'float64', bias: false }),
    run: forward(A.randn(T.random.key(7), [2, 3], { dtype: 'float64' })),
  },
  { layer: nn.Conv1d, make: (key) => new nn.Conv1d(2, 3, 2, { key }), run: forward(randn([1, 2, 4])) },
  {
    layer: nn.Conv2d,
    make: (key) => new nn.Conv2d(2, 4, 3, { key, groups: 2 }),
    run: forward(randn([1, 2, 4, 4])),
  },
  {
    layer: nn.ConvTranspose1d,
    make: (key) => new nn.ConvTranspose1d(2, 3, 2, { key, stride: 2 }),
    run: forward(randn([1, 2, 3])),
  },
  {
    layer: nn.ConvTranspose2d,
    make: (key) => new nn.ConvTranspose2d(2, 2, 2, { key }),
    run: forward(randn([1, 2, 2, 2])),
  },
  { layer: nn.MaxPool1d, make: () => new nn.MaxPool1d(2), run: forward(randn([1, 2, 4])) },
  { layer: nn.MaxPool2d, make: () => new nn.MaxPool2d(2), run: forward(randn([1, 2, 4, 4])) },
  { layer: nn.AvgPool1d, make: () => new nn.AvgPool1d(2), run: forward(randn([1, 2, 4])) },
  { layer: nn.AvgPool2d, make: () => new nn.AvgPool2d(2), run: forward(randn([1, 2, 4, 4])) },
  { layer: nn.AdaptiveAvgPool1d, make: () => new nn.AdaptiveAvgPool1d(2), run: forward(randn([1, 2, 5])) },
  { layer: nn.AdaptiveAvgPool2d, make: () => new nn.AdaptiveAvgPool2d(1), run: forward(randn([1, 2, 3, 3])) },
  { layer: nn.Flatten, make: () => new nn.Flatten(), run: forward(randn([2, 2, 2])) },
  { layer: nn.Unflatten, make: () => new nn.Unflatten(1, [2, 2]), run: forward(randn([2, 4])) },
  { layer: nn.Identity, make: () => new nn.Identity(), run: forward(randn([2, 2])) },
  { layer: nn.Dropout, make: () => new nn.Dropout(0.3), run: forward(randn([2, 2])) },
  { layer: nn.BatchNorm1d, make: () => new nn.BatchNorm1d(3), run: forward(randn([4, 3])) },
  { layer: nn.BatchNorm2d, make: () => new nn.BatchNorm2d(2), run: forward(randn([2, 2, 2, 2])) },
  { layer: nn.BatchNorm3d, make: () => new nn.BatchNorm3d(2), run: forward(randn([2, 2, 2, 1, 2])) },
  { layer: nn.LayerNorm, make: () => new nn.LayerNorm(3), run: forward(randn([2, 3])) },
  { layer: nn.RMSNorm, make: () => new nn.RMSNorm(3), run: forward(randn([2, 3])) },
  { layer: nn.GroupNorm, make: () => new nn.GroupNorm(2, 4), run: forward(randn([2, 4, 2])) },
  { layer: nn.Embedding, make: (key) => new nn.Embedding(5, 3, { key }), run: forward(ints([2, 3], 5)) },
  {
    layer: nn.RNN,
    make: (key) => new nn.RNN(2, 3, { key, numLayers: 2, bidirectional: true }),
    run: forward(randn([3, 2, 2])),
  },
  { layer: nn.LSTM, make: (key) => new nn.LSTM(2, 3, { key }), run: forward(randn([3, 2, 2])) },
  { layer: nn.GRU, make: (key) => new nn.GRU(2, 3, { key }), run: forward(randn([3, 2, 2])) },
  {
    layer: nn.MultiheadAttention,
    make: (key) => new nn.MultiheadAttention(4, 2, { key }),
    run: forward(randn([3, 2, 4]), randn([2, 2, 4]), randn([2, 2, 4])),
  },
  {
    layer: nn.MultiheadAttention,
    name: 'MultiheadAttention (kdim, vdim)',
    make: (key) => new nn.MultiheadAttention(4, 2, { key, kdim: 3, vdim: 2 }),
    run: forward(randn([3, 2, 4]), randn([2, 2, 3]), randn([2, 2, 2])),
  },
  {
    layer: nn.TransformerEncoderLayer,
    make: (key) => new nn.TransformerEncoderLayer(4, 2, { key, dimFeedforward: 6 }),
    run: forward(randn([3, 2, 4])),
  },
  {
    layer: nn.TransformerEncoder,
    make: (key) => {
      const [a, b] = T.random.split(key);
      return new nn.TransformerEncoder(
        (i) => new nn.TransformerEncoderLayer(4, 2, { key: i === 0 ? a : b, dimFeedforward: 4 }),
        2,
        {
          norm: new nn.LayerNorm(4),
        },
      );
    },
    run: forward(randn([3, 2, 4])),
  },
  ...[
    nn.ReLU,
    nn.ReLU6,
    nn.LeakyReLU,
    nn.ELU,
    nn.SELU,
    nn.GELU,
    nn.SiLU,
    nn.Sigmoid,
    nn.LogSigmoid,
    nn.Tanh,
    nn.Hardtanh,
    nn.Softplus,
    nn.Softmax,
    nn.LogSoftmax,
  ].map((Activation) => ({ layer: Activation, make: () => new Activation(), run: forward(randn([2, 3])) })),
  ...[nn.MSELoss, nn.L1Loss, nn.SmoothL1Loss, nn.HuberLoss].map((Loss) => ({
    layer: Loss,
    make: () => new Loss(),
    run: forward(randn([2, 3]), randn([2, 3])),
  })),
  {
    layer: nn.NLLLoss,
    make: () => new nn.NLLLoss({ weight: weights(4) }),
    run: forward(randn([3, 4]), ints([3], 4)),
  },
  {
    layer: nn.CrossEntropyLoss,
    make: () => new nn.CrossEntropyLoss({ weight: weights(4), labelSmoothing: 0.1 }),
    run: forward(randn([3, 4]), ints([3], 4)),
  },
  {
    layer: nn.BCELoss,
    make: () => new nn.BCELoss({ weight: weights(3) }),
    run: forward(A.sigmoid(randn([2, 3])), A.sigmoid(randn([2, 3]))),
  },
  {
    layer: nn.BCEWithLogitsLoss,
    make: () => new nn.BCEWithLogitsLoss({ weight: weights(3), posWeight: weights(3) }),
    run: forward(randn([2, 3]), A.sigmoid(randn([2, 3]))),
  },
  {
    layer: nn.KLDivLoss,
    make: () => new nn.KLDivLoss(),
    run: forward(A.logSoftmax(randn([2, 3]), -1), A.softmax(randn([2, 3]), -1)),
  },
];

/** Gives every parameter and buffer new values, so a load that did nothing cannot pass. */
function scramble(module: nn.Module, key: Key): void {
  const state = [...module.namedParameters(), ...module.namedBuffers()];
  const keys = T.random.split(key, Math.max(state.length, 1));
  state.forEach(([, tensor], i) => {
    const value = T.isFloat(tensor.dtype)
      ? T.random.uniform(keys[i], tensor.shape, { low: 0.5, high: 1.5, dtype: tensor.dtype })
      : T.cast(T.random.randint(keys[i], tensor.shape, 1, 1000), tensor.dtype);
    tensor.assign(value);
  });
}

const bytesOf = (x: T.NDArray) => {
  const data = x.toTypedArray();
  return Array.from(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
};
const describeArray = (x: T.NDArray) => ({ dtype: x.dtype, shape: [...x.shape], bytes: bytesOf(x) });
const stateOf = (module: nn.Module) =>
  Object.fromEntries(Object.entries(module.stateDict()).map(([name, t]) => [name, describeArray(t.value)]));
const outputsOf = (module: nn.Module, run: SaveLoadCase['run']) =>
  A.treeLeaves(run(module as never)).map((y) => describeArray(y.value));

const NOT_LAYERS = new Set<unknown>([nn.Sequential, nn.ModuleList, nn.ModuleDict, nn.RNNBase]);

describe('save → load round-trips every built-in layer bit-exactly', () => {
  cases.forEach((c, index) => {
    it(c.name ?? c.layer.name, () => {
      const source = c.make(T.random.key(10 + index));
      scramble(source, T.random.key(500 + index));
      source.eval();
      const restored = c.make(T.random.key(90 + index)).eval();
      const saved = stateOf(source);
      for (const [name, before] of Object.entries(stateOf(restored))) {
        if (before.bytes.length > 0)
          expect(before.bytes, `${name} differs before loading`).not.toEqual(saved[name].bytes);
      }

      const { tensors } = fromBytes(toBytes(source.stateDict()));
      expect(Object.keys(tensors).sort()).toEqual(Object.keys(saved).sort());
      const result = restored.loadStateDict(tensors);
      expect(result).toEqual({ missingKeys: [], unexpectedKeys: [] });

      expect(stateOf(restored)).toEqual(saved);
      expect(outputsOf(restored, c.run)).toEqual(outputsOf(source, c.run));
    });
  });

  it('covers every exported Module subclass of @tsgrad/nn', () => {
    const covered = new Set<unknown>(cases.map((c) => c.layer));
    const missing = Object.entries(nn)
      .filter(([, value]) => typeof value === 'function' && value.prototype instanceof nn.Module)
      .filter(([, value]) => !NOT_LAYERS.has(value) && !covered.has(value))
      .map(([name]) => name);
    expect(missing).toEqual([]);
    for (const [i, c] of cases.entries()) expect(c.make(T.random.key(i))).toBeInstanceOf(c.layer);
  });

  it('keeps BatchNorm statistics and the int32 batch counter through the bytes', () => {
    const bn = new nn.BatchNorm2d(2);
    for (let i = 0; i < 3; i++) bn.forward(A.add(randn([2, 2, 2, 2]), i));
    const { tensors } = fromBytes(toBytes(bn.stateDict()));
    expect(tensors.num_batches_tracked.dtype).toBe('int32');
    expect(tensors.num_batches_tracked.item()).toBe(3);
    expect(Object.keys(tensors).sort()).toEqual([
      'bias',
      'num_batches_tracked',
      'running_mean',
      'running_var',
      'weight',
    ]);
    const fresh = new nn.BatchNorm2d(2);
    fresh.loadStateDict(tensors);
    expect(stateOf(fresh)).toEqual(stateOf(bn));
  });
});
