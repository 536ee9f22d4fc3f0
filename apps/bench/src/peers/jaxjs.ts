import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import {
  blockUntilReady,
  defaultDevice,
  grad,
  init,
  type JsTree,
  jit,
  lax,
  nn,
  numpy as np,
  tree,
  valueAndGrad,
} from '@jax-js/jax';
import { CHAIN_SHIFT, chainOp, oneHot, sumOfSquares } from '../problems.js';
import type { Peer, Step } from './peer.js';

// jax-js on its wasm device, each workload compiled once with jit (its fast path). jax-js counts
// references: every call consumes its array arguments, so an array used again is passed as
// `.ref`. Arrays are evaluated lazily; a step waits for its outputs with blockUntilReady.

const ADAM_BETAS = [0.9, 0.999] as const;
const ADAM_EPS = 1e-8;

/** Linear layers as alternating [weight₀ [out, in], bias₀, weight₁, bias₁, …]. */
type Params = np.Array[];

/** y = x Wᵀ + b */
const linear = (x: np.Array, weight: np.Array, bias: np.Array) => np.matmul(x, weight.transpose()).add(bias);

/** Mean softmax cross-entropy against one-hot targets. */
function crossEntropy(logits: np.Array, targets: np.Array): np.Array {
  const batch = logits.shape[0];
  return nn
    .logSoftmax(logits, -1)
    .mul(targets)
    .sum()
    .mul(-1 / batch);
}

/** 2×2 max-pooling with stride 2 over NCHW, as a reshape and a max. */
function maxPool2(x: np.Array): np.Array {
  const [n, c, h, w] = x.shape;
  return x.reshape([n, c, h / 2, 2, w / 2, 2]).max([3, 5]);
}

async function sumOfSquaresOf(result: np.Array): Promise<number> {
  return sumOfSquares(await result.data());
}

/** A jitted array function of fixed inputs: `run` evaluates it, `probe` reads its result. */
function arrayStep(f: ReturnType<typeof jit>, inputs: np.Array[]): Step {
  const call = () => f(...inputs.map((x) => x.ref)) as np.Array;
  return {
    run: async () => {
      const out = call();
      await blockUntilReady(out);
      out.dispose();
    },
    probe: () => sumOfSquaresOf(call()),
    dispose: () => {
      f.dispose();
      tree.dispose(inputs);
    },
  };
}

/** One training step on a fixed batch, with the parameters (and optimizer state) carried over. */
function trainingStep<State extends JsTree<np.Array>>(
  initial: State,
  step: (state: State) => [np.Array, State],
  owned: JsTree<np.Array>,
  compiled: { dispose(): void },
): Step {
  let state = initial;
  const advance = async () => {
    const [loss, next] = step(state);
    state = next;
    await blockUntilReady([loss, state]);
    return loss;
  };
  return {
    run: async () => (await advance()).dispose(),
    probe: async () => (await advance()).item(),
    dispose: () => {
      compiled.dispose();
      tree.dispose([state, owned]);
    },
  };
}

/** A loss of the parameters, an input batch and its one-hot targets. */
type Loss = (p: Params, input: np.Array, target: np.Array) => np.Array;

/**
 * Adam training steps on a fixed batch, written out (jax-js keeps optimizers in a separate
 * package); the bias corrections 1/(1−βᵗ) come in as arrays so that one compiled step serves
 * every t.
 */
function adamTraining(params: Params, loss: Loss, x: np.Array, y: np.Array, lr: number): Step {
  const [b1, b2] = ADAM_BETAS;
  const adamStep = jit(
    (p: Params, m: Params, v: Params, input: np.Array, target: np.Array, c1: np.Array, c2: np.Array) => {
      const [value, grads] = valueAndGrad(loss)(tree.ref(p), input, target);
      const nextM = m.map((mi, i) => mi.mul(b1).add(grads[i].ref.mul(1 - b1)));
      const nextV = v.map((vi, i) => vi.mul(b2).add(grads[i].ref.mul(grads[i]).mul(1 - b2)));
      const nextP = p.map((pi, i) => {
        const mHat = nextM[i].ref.mul(c1.ref);
        const vHat = nextV[i].ref.mul(c2.ref);
        return pi.sub(mHat.div(np.sqrt(vHat).add(ADAM_EPS)).mul(lr));
      });
      c1.dispose();
      c2.dispose();
      return [value, nextP, nextM, nextV] as [np.Array, Params, Params, Params];
    },
  );
  let t = 0;
  type AdamState = { p: Params; m: Params; v: Params };
  const zeros = () => params.map((p) => np.zeros(p.shape));
  return trainingStep<AdamState>(
    { p: params, m: zeros(), v: zeros() },
    ({ p, m, v }) => {
      t++;
      const c1 = np.array(1 / (1 - b1 ** t));
      const c2 = np.array(1 / (1 - b2 ** t));
      const [value, nextP, nextM, nextV] = adamStep(p, m, v, x.ref, y.ref, c1, c2);
      return [value, { p: nextP, m: nextM, v: nextV }];
    },
    [x, y],
    adamStep,
  );
}

/**
 * An LSTM over [batch, seq, 4·hidden] input projections (gates i, f, g, o, as PyTorch stacks
 * them); returns the hidden states as [batch·seq, hidden].
 */
function lstm(projected: np.Array, weightHh: np.Array): np.Array {
  const [batch, seq] = projected.shape;
  const hidden = weightHh.shape[1];
  let h = np.zeros([batch, hidden]);
  let c = np.zeros([batch, hidden]);
  const outputs: np.Array[] = [];
  for (let t = 0; t < seq; t++) {
    const gates = projected.ref.slice([], t, []).add(np.matmul(h, weightHh.ref.transpose()));
    const [i, f, g, o] = np.split(gates, 4, 1);
    c = nn
      .sigmoid(f)
      .mul(c)
      .add(nn.sigmoid(i).mul(np.tanh(g)));
    h = nn.sigmoid(o).mul(np.tanh(c.ref));
    outputs.push(h.ref);
  }
  tree.dispose([projected, weightHh, h, c]);
  return np.stack(outputs, 1).reshape([batch * seq, hidden]);
}

const fromShared = (data: Float32Array, shape: number[]) => np.array(data, { shape });

/** The installed version, from the package's own package.json (which its exports do not expose). */
function installedVersion(): string {
  const entry = createRequire(import.meta.url).resolve('@jax-js/jax');
  const manifest = JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8'));
  return String(manifest.version);
}

/** Starts the wasm device (multi-threaded only where Web Workers exist, so one thread in Node). */
export async function createJaxjs(): Promise<Peer> {
  const devices = await init('wasm');
  if (!devices.includes('wasm'))
    throw new Error(`the wasm device did not start (got: ${devices.join(', ')})`);
  defaultDevice('wasm');
  const threads = typeof Worker === 'undefined' ? '1 thread (no Web Workers in Node)' : 'worker threads';

  return {
    name: 'jax-js',
    description: `jax-js ${installedVersion()}: wasm device, ${threads}, every workload under jit`,

    matmul({ n, a, b }) {
      return arrayStep(
        jit((x: np.Array, y: np.Array) => np.matmul(x, y)),
        [fromShared(a, [n, n]), fromShared(b, [n, n])],
      );
    },

    elementwise(data) {
      return arrayStep(
        jit((x: np.Array) => np.exp(x.ref).mul(x).add(1)),
        [fromShared(data, [data.length])],
      );
    },

    mlpStep(problem) {
      const { widths, batch } = problem;
      const classes = widths[widths.length - 1];
      const params: Params = problem.layers.flatMap((init, i) => [
        fromShared(init.weight, [widths[i + 1], widths[i]]),
        fromShared(init.bias, [widths[i + 1]]),
      ]);
      const x = fromShared(problem.x, [batch, widths[0]]);
      const y = fromShared(oneHot(problem.labels, classes), [batch, classes]);
      const loss = (p: Params, input: np.Array, target: np.Array) => {
        let h = input;
        for (let i = 0; i < p.length; i += 2) {
          h = linear(h, p[i], p[i + 1]);
          if (i + 2 < p.length) h = nn.relu(h);
        }
        return crossEntropy(h, target);
      };
      return adamTraining(params, loss, x, y, problem.lr);
    },

    cnnStep(problem) {
      const { batch, size, channels, classes } = problem;
      const features = channels[2] * (size / 4) ** 2;
      const params: Params = [
        ...problem.conv.flatMap((init, i) => [
          fromShared(init.weight, [channels[i + 1], channels[i], 3, 3]),
          fromShared(init.bias, [channels[i + 1]]),
        ]),
        fromShared(problem.dense.weight, [classes, features]),
        fromShared(problem.dense.bias, [classes]),
      ];
      const x = fromShared(problem.x, [batch, channels[0], size, size]);
      const y = fromShared(oneHot(problem.labels, classes), [batch, classes]);
      const loss = (p: Params, input: np.Array, target: np.Array) => {
        let h = input;
        for (let i = 0; i < 4; i += 2) {
          const bias = p[i + 1].reshape([1, p[i + 1].shape[0], 1, 1]);
          h = maxPool2(nn.relu(lax.conv(h, p[i], [1, 1], 'SAME').add(bias)));
        }
        return crossEntropy(linear(h.reshape([batch, features]), p[4], p[5]), target);
      };
      const lr = problem.lr;
      const sgdStep = jit((p: Params, input: np.Array, target: np.Array) => {
        const [value, grads] = valueAndGrad(loss)(tree.ref(p), input, target);
        return [value, p.map((pi, i) => pi.sub(grads[i].mul(lr)))] as [np.Array, Params];
      });
      return trainingStep<Params>(params, (p) => sgdStep(p, x.ref, y.ref), [x, y], sgdStep);
    },

    gradChain({ x: data, length }) {
      const chain = (x: np.Array) => {
        let y = x;
        for (let i = 0; i < length; i++) {
          const op = chainOp(i);
          if (op === 'exp') y = np.exp(y);
          else if (op === 'halve') y = y.mul(0.5);
          else if (op === 'log') y = np.log(y);
          else y = y.add(CHAIN_SHIFT);
        }
        return y.sum();
      };
      const x = fromShared(data, [data.length]);
      const compiled = jit(grad(chain));
      let gradient: (input: np.Array) => np.Array = compiled;
      const step: Step = {
        run: async () => {
          const out = gradient(x.ref);
          await blockUntilReady(out);
          out.dispose();
        },
        // jit fails on chains this long in 0.1.25 (the stack overflows, or the gradient comes
        // out NaN): then the eager gradient is measured, and the note says so.
        probe: async () => {
          let failure: string;
          try {
            const value = await sumOfSquaresOf(compiled(x.ref));
            if (Number.isFinite(value)) return value;
            failure = `the gradient came out ${value}`;
          } catch (e) {
            failure = e instanceof Error ? e.message : String(e);
          }
          gradient = grad(chain);
          step.note = `jit failed on the ${length}-op chain (${failure}); measured without jit`;
          return sumOfSquaresOf(gradient(x.ref));
        },
        dispose: () => {
          compiled.dispose();
          x.dispose();
        },
      };
      return step;
    },

    charRnnStep(problem) {
      const { vocab, embed, hidden, seq, batch } = problem;
      const params: Params = [
        fromShared(problem.embedding, [vocab, embed]),
        fromShared(problem.lstmIh.weight, [4 * hidden, embed]),
        fromShared(problem.lstmIh.bias, [4 * hidden]),
        fromShared(problem.lstmHh.weight, [4 * hidden, hidden]),
        fromShared(problem.lstmHh.bias, [4 * hidden]),
        fromShared(problem.dense.weight, [vocab, hidden]),
        fromShared(problem.dense.bias, [vocab]),
      ];
      // The embedding lookup as a product with the one-hot ids (as in the tfjs peer).
      const ids = fromShared(oneHot(problem.ids, vocab), [batch * seq, vocab]);
      const y = fromShared(oneHot(problem.targets, vocab), [batch * seq, vocab]);
      const loss: Loss = ([embedding, ih, biasIh, hh, biasHh, weight, bias], input, target) => {
        const projected = linear(np.matmul(input, embedding), ih, biasIh).add(biasHh);
        const states = lstm(projected.reshape([batch, seq, 4 * hidden]), hh);
        return crossEntropy(linear(states, weight, bias), target);
      };
      return adamTraining(params, loss, ids, y, problem.lr);
    },
  };
}
