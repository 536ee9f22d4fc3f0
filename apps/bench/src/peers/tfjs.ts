import * as tf from '@tensorflow/tfjs';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { CHAIN_SHIFT, chainOp, type LayerInit, oneHot, sumOfSquares } from '../problems.js';
import type { Peer, Step } from './peer.js';

// TensorFlow.js on its wasm backend (XNNPACK kernels). Its ops run synchronously, so a step is
// finished when the call returns. Images are NHWC and filters HWIO there, so the shared NCHW
// data and OIHW weights are transposed once, outside the timed runs.

/** The shared PyTorch-layout linear layer as tfjs variables (weight stays [out, in]). */
function linearVariables(init: LayerInit, shape: [number, number]) {
  return { weight: tf.variable(tf.tensor2d(init.weight, shape)), bias: tf.variable(tf.tensor1d(init.bias)) };
}

/** y = x Wᵀ + b */
const linear = (x: tf.Tensor, layer: { weight: tf.Tensor; bias: tf.Tensor }) =>
  tf.add(tf.matMul(x, layer.weight, false, true), layer.bias);

/** One optimizer step on a fixed batch; the probe is the loss of the first step. */
function trainingStep(optimizer: tf.Optimizer, loss: () => tf.Scalar, owned: tf.Tensor[]): Step {
  return {
    run: () => {
      optimizer.minimize(loss, true)?.dispose();
    },
    probe: () => {
      const cost = optimizer.minimize(loss, true);
      if (cost === null) throw new Error('tfjs: minimize returned no cost');
      const value = cost.dataSync()[0];
      cost.dispose();
      return value;
    },
    dispose: () => {
      optimizer.dispose();
      tf.dispose(owned);
    },
  };
}

function readAndDispose(result: tf.Tensor): number {
  const value = sumOfSquares(result.dataSync());
  result.dispose();
  return value;
}

/**
 * Starts the wasm backend. Its .wasm files ship in the package's dist folder, where its Node
 * build finds them by itself (no setWasmPaths needed).
 */
export async function createTfjs(): Promise<Peer> {
  if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") failed');
  await tf.ready();
  const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT') ? 'SIMD' : 'no SIMD';
  const threads = getThreadsCount();

  return {
    name: 'tfjs-wasm',
    description: `tfjs ${tf.version.tfjs}: wasm backend (XNNPACK, ${simd}, ${threads} thread${threads === 1 ? '' : 's'}), eager`,

    matmul({ n, a, b }) {
      const left = tf.tensor2d(a, [n, n]);
      const right = tf.tensor2d(b, [n, n]);
      return {
        run: () => tf.matMul(left, right).dispose(),
        probe: () => readAndDispose(tf.matMul(left, right)),
        dispose: () => tf.dispose([left, right]),
      };
    },

    elementwise(data) {
      const x = tf.tensor1d(data);
      const f = () => tf.tidy(() => tf.add(tf.mul(tf.exp(x), x), 1));
      return {
        run: () => f().dispose(),
        probe: () => readAndDispose(f()),
        dispose: () => x.dispose(),
      };
    },

    mlpStep(problem) {
      const { widths, batch } = problem;
      const layers = problem.layers.map((init, i) => linearVariables(init, [widths[i + 1], widths[i]]));
      const x = tf.tensor2d(problem.x, [batch, widths[0]]);
      const y = tf.tensor2d(oneHot(problem.labels, widths[widths.length - 1]), [batch, widths.at(-1) ?? 0]);
      const loss = () => {
        const logits = layers.reduce<tf.Tensor>((h, layer, i) => {
          const z = linear(h, layer);
          return i < layers.length - 1 ? tf.relu(z) : z;
        }, x);
        return tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
      };
      const optimizer = tf.train.adam(problem.lr, 0.9, 0.999, 1e-8);
      return trainingStep(optimizer, loss, [x, y, ...layers.flatMap((l) => [l.weight, l.bias])]);
    },

    cnnStep(problem) {
      const { batch, size, channels, classes } = problem;
      const side = size / 4;
      const x = tf.tidy(() =>
        tf.tensor4d(problem.x, [batch, channels[0], size, size]).transpose<tf.Tensor4D>([0, 2, 3, 1]),
      );
      const filters = problem.conv.map((init, i) =>
        tf.tidy(() =>
          tf.tensor4d(init.weight, [channels[i + 1], channels[i], 3, 3]).transpose<tf.Tensor4D>([2, 3, 1, 0]),
        ),
      );
      const conv = problem.conv.map((init, i) => ({
        filter: tf.variable(filters[i]),
        bias: tf.variable(tf.tensor1d(init.bias)),
      }));
      // The shared dense weight reads features in (channel, row, column) order; NHWC flattens
      // them in (row, column, channel) order.
      const denseWeight = tf.tidy(() =>
        tf
          .tensor4d(problem.dense.weight, [classes, channels[2], side, side])
          .transpose([0, 2, 3, 1])
          .reshape<tf.Tensor2D>([classes, side * side * channels[2]]),
      );
      const output = { weight: tf.variable(denseWeight), bias: tf.variable(tf.tensor1d(problem.dense.bias)) };
      const y = tf.tensor2d(oneHot(problem.labels, classes), [batch, classes]);
      const loss = () => {
        let h: tf.Tensor4D = x;
        for (const layer of conv) {
          h = tf.relu(tf.add<tf.Tensor4D>(tf.conv2d(h, layer.filter, 1, 'same'), layer.bias));
          h = tf.maxPool(h, 2, 2, 'valid');
        }
        const logits = linear(h.reshape([batch, side * side * channels[2]]), output);
        return tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
      };
      const optimizer = tf.train.sgd(problem.lr);
      const owned = [
        x,
        y,
        ...filters,
        denseWeight,
        output.weight,
        output.bias,
        ...conv.flatMap((c) => [c.filter, c.bias]),
      ];
      return trainingStep(optimizer, loss, owned);
    },

    gradChain({ x: data, length }) {
      const x = tf.tensor1d(data);
      const half = tf.scalar(0.5);
      const shift = tf.scalar(CHAIN_SHIFT);
      const gradient = tf.grad((input: tf.Tensor) => {
        let y = input;
        for (let i = 0; i < length; i++) {
          const op = chainOp(i);
          if (op === 'exp') y = tf.exp(y);
          else if (op === 'halve') y = tf.mul(y, half);
          else if (op === 'log') y = tf.log(y);
          else y = tf.add(y, shift);
        }
        return tf.sum(y);
      });
      const f = () => tf.tidy(() => gradient(x));
      return {
        run: () => f().dispose(),
        probe: () => readAndDispose(f()),
        dispose: () => tf.dispose([x, half, shift]),
      };
    },

    charRnnStep(problem) {
      const { vocab, embed, hidden, seq, batch } = problem;
      const embedding = tf.variable(tf.tensor2d(problem.embedding, [vocab, embed]));
      const ih = linearVariables(problem.lstmIh, [4 * hidden, embed]);
      const hh = linearVariables(problem.lstmHh, [4 * hidden, hidden]);
      const dense = linearVariables(problem.dense, [vocab, hidden]);
      // The wasm backend has no gradient kernel for gather (UnsortedSegmentSum): the lookup is
      // a product with the one-hot ids.
      const ids = tf.tensor2d(oneHot(problem.ids, vocab), [batch * seq, vocab]);
      const y = tf.tensor2d(oneHot(problem.targets, vocab), [batch * seq, vocab]);
      const loss = () => {
        // The input projection of every step at once, then the recurrence (gates i, f, g, o).
        const x = tf.matMul(ids, embedding);
        const projected = linear(x, ih).reshape<tf.Tensor3D>([batch, seq, 4 * hidden]);
        let h: tf.Tensor2D = tf.zeros([batch, hidden]);
        let c: tf.Tensor2D = tf.zeros([batch, hidden]);
        const outputs: tf.Tensor2D[] = [];
        for (let t = 0; t < seq; t++) {
          const step = projected
            .slice([0, t, 0], [batch, 1, 4 * hidden])
            .reshape<tf.Tensor2D>([batch, 4 * hidden]);
          const [i, f, g, o] = tf.split<tf.Tensor2D>(tf.add(step, linear(h, hh)), 4, 1);
          c = tf.add(tf.mul(tf.sigmoid(f), c), tf.mul(tf.sigmoid(i), tf.tanh(g)));
          h = tf.mul(tf.sigmoid(o), tf.tanh(c));
          outputs.push(h);
        }
        const logits = linear(tf.stack(outputs, 1).reshape([batch * seq, hidden]), dense);
        return tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
      };
      const optimizer = tf.train.adam(problem.lr, 0.9, 0.999, 1e-8);
      const owned = [ids, y, embedding, ...[ih, hh, dense].flatMap((l) => [l.weight, l.bias])];
      return trainingStep(optimizer, loss, owned);
    },
  };
}
