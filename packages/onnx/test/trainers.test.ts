import * as A from '@tsgrad/autograd';
import * as nn from '@tsgrad/nn';
import * as T from '@tsgrad/tensor';
import { mismatch } from '@tsgrad/testing';
import { describe, expect, it } from 'vitest';
import { exportOnnx, importOnnx, OnnxError } from '../src/index.js';
import { runOrt } from './ort.js';

// The models of the example trainers (packages cannot import apps, so each is rebuilt here
// with the same layers as in its app), exported and run in onnxruntime, and imported back.

const TOLERANCE = { atol: 1e-4, rtol: 1e-4 };
const key = (n: number) => ({ key: T.random.key(n) });

function expectClose(actual: readonly A.Tensor[], expected: readonly A.Tensor[]): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((e, k) => {
    expect(actual[k].shape).toEqual(e.shape);
    const problem = mismatch(
      actual[k].value.toTypedArray() as Float32Array,
      e.value.toTypedArray() as Float32Array,
      e.shape,
      TOLERANCE,
    );
    expect(problem, `output ${k}`).toBeUndefined();
  });
}

/** apps/spirals: an MLP 2 → 64 → 64 → 3 with tanh. */
const spiralsMlp = () =>
  new nn.Sequential(
    new nn.Linear(2, 64, key(1)),
    new nn.Tanh(),
    new nn.Linear(64, 64, key(2)),
    new nn.Tanh(),
    new nn.Linear(64, 3, key(3)),
  );

/** apps/fashion-mnist: the CNN (conv → pool → ReLU twice, then a dense head). */
const fashionCnn = () =>
  new nn.Sequential(
    new nn.Conv2d(1, 16, 3, { padding: 1, ...key(4) }),
    new nn.MaxPool2d(2),
    new nn.ReLU(),
    new nn.Conv2d(16, 32, 3, { padding: 1, ...key(5) }),
    new nn.MaxPool2d(2),
    new nn.ReLU(),
    new nn.Flatten(),
    new nn.Linear(32 * 7 * 7, 64, key(6)),
    new nn.ReLU(),
    new nn.Linear(64, 10, key(7)),
  );

/** apps/char-lm's LSTM: Embedding → 2-layer LSTM (batch first) → Dropout → Linear. */
class CharLSTM extends nn.Module {
  readonly embedding = new nn.Embedding(20, 8, key(8));
  readonly lstm = new nn.LSTM(8, 16, { numLayers: 2, batchFirst: true, ...key(9) });
  readonly dropout = new nn.Dropout(0.1);
  readonly head = new nn.Linear(16, 20, key(10));

  forward(ids: A.Tensor): A.Tensor {
    const [output] = this.lstm.forward(this.dropout.forward(this.embedding.forward(ids)));
    return this.head.forward(this.dropout.forward(output));
  }
}

/** apps/char-lm's Transformer: token + position embeddings, causal pre-norm encoder blocks, LayerNorm, head. */
class CharTransformer extends nn.Module {
  readonly tokenEmbedding = new nn.Embedding(20, 16, key(11));
  readonly positionEmbedding = new nn.Embedding(8, 16, key(12));
  readonly encoder = new nn.TransformerEncoder(
    (i) =>
      new nn.TransformerEncoderLayer(16, 2, {
        dimFeedforward: 64,
        dropout: 0.1,
        activation: 'gelu',
        batchFirst: true,
        normFirst: true,
        ...key(13 + i),
      }),
    2,
    { norm: new nn.LayerNorm(16) },
  );
  readonly head = new nn.Linear(16, 20, key(20));

  forward(ids: A.Tensor): A.Tensor {
    const positions = A.arange(ids.shape[1], undefined, 1, { dtype: 'int32' });
    const x = A.add(this.tokenEmbedding.forward(ids), this.positionEmbedding.forward(positions));
    return this.head.forward(this.encoder.forward(x, { isCausal: true }));
  }
}

const ids = (shape: number[], vocab: number) =>
  new A.Tensor(
    T.array(
      Int32Array.from({ length: T.sizeOf(shape) }, (_, i) => (i * 7 + 3) % vocab),
      { shape, dtype: 'int32' },
    ),
  );

/** Each model with a maker of its input at a batch size. */
const trainers: [string, () => nn.Module, (batch: number) => A.Tensor][] = [
  ['spirals MLP', spiralsMlp, (batch) => A.randn(T.random.key(30), [batch, 2])],
  ['Fashion-MNIST CNN', fashionCnn, (batch) => A.rand(T.random.key(31), [batch, 1, 28, 28])],
  ['char-lm LSTM', () => new CharLSTM(), (batch) => ids([batch, 8], 20)],
  ['char-lm Transformer', () => new CharTransformer(), (batch) => ids([batch, 8], 20)],
];

const forwardOf = (model: nn.Module) => (x: A.Tensor) =>
  (model as unknown as { forward(x: A.Tensor): A.Tensor }).forward(x);

describe("the trainers' models export, run in onnxruntime and import with equal outputs", () => {
  for (const [name, make, input] of trainers) {
    it(name, async () => {
      const model = make().eval();
      const x = input(2);
      const expected = [forwardOf(model)(x)];
      const bytes = exportOnnx(model, [x], { inputNames: ['input'], outputNames: ['logits'] });
      expectClose(await runOrt(bytes, [x]), expected);
      const imported = importOnnx(bytes);
      expect(Object.keys(imported.stateDict())).toEqual(Object.keys(model.stateDict()));
      expectClose(imported.run(x), expected);
    }, 30_000);
  }
});

describe('dynamic axes: one export runs at every batch size', () => {
  for (const [name, make, input] of trainers) {
    it(name, async () => {
      const model = make().eval();
      const bytes = exportOnnx(model, [input(2)], {
        inputNames: ['input'],
        outputNames: ['logits'],
        dynamicAxes: { input: { 0: 'batch' }, logits: { 0: 'batch' } },
      });
      for (const batch of [1, 3, 5]) {
        const x = input(batch);
        expectClose(await runOrt(bytes, [x]), [forwardOf(model)(x)]);
      }
    }, 60_000);
  }

  it('refuses a symbol the traced graph is not multilinear in, naming it', () => {
    // The LSTM is unrolled over time: its graph changes with the sequence length.
    const lstm = new CharLSTM().eval();
    expect(() => exportOnnx(lstm, [ids([2, 8], 20)], { dynamicAxes: { input_0: { 1: 'time' } } })).toThrow(
      /dynamicAxes: the traced graph changes with the size of time/,
    );
    expect(() => exportOnnx(lstm, [ids([2, 8], 20)], { dynamicAxes: { input_0: { 2: 'x' } } })).toThrow(
      OnnxError,
    );
    // A mean over the batch divides by a constant that depends on it.
    const meanOfBatch = (x: A.Tensor) => A.mean(x, { axis: 0 });
    expect(() =>
      exportOnnx(meanOfBatch, [A.randn(T.random.key(1), [4, 3])], { dynamicAxes: { input_0: { 0: 'n' } } }),
    ).toThrow(/dynamicAxes: the constant .* changes with n/);
  });
});
