import * as A from '@tsgrad/autograd';
import { spirals } from '@tsgrad/data';
import * as nn from '@tsgrad/nn';
import * as optim from '@tsgrad/optim';
import * as T from '@tsgrad/tensor';
import { describe, expect, it } from 'vitest';

// The training runs the nn/optim issue asks for: models built from nn layers and trained with
// the object API of optim (zeroGrad → backward → step). Everything is seeded, so each run is
// the same; the budgets leave a wide margin (each run reaches its target well before the end).

const TIMEOUT = 30_000;

/** The fraction of rows of `logits` [n, classes] whose argmax equals `labels` [n]. */
function accuracy(logits: A.Tensor, labels: T.NDArray): number {
  const predicted = T.argmax(logits.value, { axis: -1 });
  return (T.sum(T.cast(T.eq(predicted, labels), 'int32')).item() as number) / labels.size;
}

/** Runs `steps` optimizer steps on the loss `lossOf` computes; returns the losses. */
function train(optimizer: optim.Optimizer<{ lr: number }>, steps: number, lossOf: () => A.Tensor): number[] {
  const losses: number[] = [];
  for (let step = 0; step < steps; step++) {
    optimizer.zeroGrad();
    const loss = lossOf();
    loss.backward();
    optimizer.step();
    losses.push(loss.item() as number);
  }
  return losses;
}

const parametersOf = (...modules: nn.Module[]) => modules.flatMap((m) => m.parameters());

describe('a spirals classifier of Linear layers', () => {
  it(
    'reaches ≥ 97% training accuracy with Adam',
    () => {
      nn.manualSeed(0);
      const { x, y } = spirals({ n: 300, classes: 3, noise: 0.02, seed: 1 });
      const inputs = new A.Tensor(x);
      const model = new nn.Sequential(
        new nn.Linear(2, 32),
        new nn.ReLU(),
        new nn.Linear(32, 32),
        new nn.Tanh(),
        new nn.Linear(32, 3),
      );
      const criterion = new nn.CrossEntropyLoss();
      const optimizer = new optim.Adam(model.parameters(), { lr: 0.02 });
      const losses = train(optimizer, 300, () => criterion.forward(model.forward(inputs), new A.Tensor(y)));
      expect(losses.at(-1)).toBeLessThan(losses[0] / 10);
      expect(A.noGrad(() => accuracy(model.forward(inputs), y))).toBeGreaterThanOrEqual(0.97);
    },
    TIMEOUT,
  );
});

/**
 * `count` random bit sequences of `length`: inputs [count, length, 1] (float32) and the parity
 * of every prefix [count, length] (int32): the label at step t is the parity of bits 0…t.
 */
function parityBatch(key: T.random.PRNGKey, count: number, length: number) {
  const bits = T.random.randint(key, [count, length], 0, 2);
  const prefixParity = T.cast(T.mod(T.cumsum(bits, 1), 2), 'int32');
  return { inputs: new A.Tensor(T.reshape(T.cast(bits, 'float32'), [count, length, 1])), prefixParity };
}

describe('an LSTM', () => {
  it(
    'learns the parity of bit sequences with Adam, and gets it right on fresh sequences',
    () => {
      nn.manualSeed(0);
      const length = 8;
      const lstm = new nn.LSTM(1, 16, { batchFirst: true });
      const head = new nn.Linear(16, 2);
      // Logits for every prefix, [count·length, 2]: the running parity read out at each step.
      const logitsOf = (inputs: A.Tensor) => A.reshape(head.forward(lstm.forward(inputs)[0]), [-1, 2]);
      const criterion = new nn.CrossEntropyLoss();
      const optimizer = new optim.Adam(parametersOf(lstm, head), { lr: 0.05 });
      const batches = new T.random.Generator(1);
      train(optimizer, 150, () => {
        const { inputs, prefixParity } = parityBatch(batches.next(), 16, length);
        return criterion.forward(logitsOf(inputs), new A.Tensor(T.reshape(prefixParity, [-1])));
      });

      // The parity of whole fresh sequences, read out at their last step.
      const fresh = parityBatch(T.random.key(2), 500, length);
      const [outputs] = A.noGrad(() => lstm.forward(fresh.inputs));
      const lastLogits = A.noGrad(() => head.forward(A.slice(outputs, [null, length - 1])));
      const parity = T.slice(fresh.prefixParity, [null, length - 1]);
      expect(accuracy(lastLogits, parity)).toBeGreaterThanOrEqual(0.95);
    },
    TIMEOUT,
  );
});

describe('a tiny Transformer encoder layer', () => {
  it(
    'overfits a small batch with Adam (reversing token sequences)',
    () => {
      nn.manualSeed(0);
      const [vocab, length, batch, dModel] = [10, 6, 8, 16];
      const tokens = T.random.randint(T.random.key(3), [batch, length], 0, vocab);
      // Reversal needs attention (each output reads another position) and positions.
      const labels = new A.Tensor(T.reshape(T.contiguous(T.flip(tokens, 1)), [-1]));
      const positions = T.arange(length, undefined, 1, { dtype: 'int32' });
      const tokenEmbedding = new nn.Embedding(vocab, dModel);
      const positionEmbedding = new nn.Embedding(length, dModel);
      const encoder = new nn.TransformerEncoderLayer(dModel, 2, {
        dimFeedforward: 32,
        dropout: 0,
        batchFirst: true,
      });
      const head = new nn.Linear(dModel, vocab);
      const logitsOf = () => {
        const embedded = A.add(tokenEmbedding.forward(tokens), positionEmbedding.forward(positions));
        return A.reshape(head.forward(encoder.forward(embedded)), [-1, vocab]);
      };
      const criterion = new nn.CrossEntropyLoss();
      const optimizer = new optim.Adam(parametersOf(tokenEmbedding, positionEmbedding, encoder, head), {
        lr: 0.01,
      });
      const losses = train(optimizer, 100, () => criterion.forward(logitsOf(), labels));
      expect(losses.at(-1)).toBeLessThanOrEqual(losses[0] * 0.1);
      expect(A.noGrad(() => accuracy(logitsOf(), labels.value))).toBe(1);
    },
    TIMEOUT,
  );
});
