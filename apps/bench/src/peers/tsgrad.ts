import { crossEntropy, Tensor } from '@tsgrad/autograd';
import * as nn from '@tsgrad/nn';
import { Adam, SGD } from '@tsgrad/optim';
import * as T from '@tsgrad/tensor';
import { getBackend } from 'tsgrad';
import {
  CHAIN_SHIFT,
  type CharRnnProblem,
  type CnnProblem,
  chainOp,
  type LayerInit,
  type MlpProblem,
  sumOfSquares,
} from '../problems.js';
import type { Peer, Step } from './peer.js';

// tsgrad through its public APIs only: on its default backend (wasm) and on the CPU reference,
// each workload written twice: freeing its results by hand (`dispose`, as tfjs's `tidy` does)
// and without a single `dispose`, as users write it (the library frees what it knows is dead,
// the FinalizationRegistry the rest).

export const constant = (data: Float32Array | Int32Array, shape: number[]) =>
  new Tensor(T.array(data, { shape }));

/** Overwrites a parameter's initial value with the shared one (in place, as an optimizer would). */
function load(parameter: Tensor, values: Float32Array): void {
  parameter.assign(T.array(values, { shape: [...parameter.shape] }));
}

function loadLayer(layer: nn.Linear | nn.Conv2d, init: LayerInit): void {
  load(layer.weight, init.weight);
  if (layer.bias) load(layer.bias, init.bias);
}

/** Disposes every tensor given, when the workload frees by hand. */
type Free = (...tensors: (Tensor | null | undefined)[]) => void;

const freeing: Free = (...tensors) => {
  for (const t of tensors) t?.dispose();
};
const keeping: Free = () => {};

/** A model on one fixed batch, with its optimizer: what a training step needs. */
export interface TrainingSetup {
  /** The logits of `x`; adds the other tensors it made to `made` (freed after backward). */
  readonly forward: (x: Tensor, made: Tensor[]) => Tensor;
  readonly parameters: Tensor[];
  readonly optimizer: Adam | SGD;
  readonly x: Tensor;
  readonly y: Tensor;
}

export function mlpSetup(problem: MlpProblem): TrainingSetup {
  const { widths, batch } = problem;
  const layers: nn.TensorModule[] = [];
  problem.layers.forEach((init, i) => {
    const linear = new nn.Linear(widths[i], widths[i + 1]);
    loadLayer(linear, init);
    layers.push(linear);
    if (i < problem.layers.length - 1) layers.push(new nn.ReLU());
  });
  const model = new nn.Sequential(...layers);
  return {
    forward: (x) => model.forward(x),
    parameters: model.parameters(),
    optimizer: new Adam(model.parameters(), { lr: problem.lr, betas: [0.9, 0.999], eps: 1e-8 }),
    x: constant(problem.x, [batch, widths[0]]),
    y: constant(problem.labels, [batch]),
  };
}

export function cnnSetup(problem: CnnProblem): TrainingSetup {
  const { batch, size, channels, classes } = problem;
  const conv1 = new nn.Conv2d(channels[0], channels[1], 3, { padding: 1 });
  const conv2 = new nn.Conv2d(channels[1], channels[2], 3, { padding: 1 });
  const dense = new nn.Linear(channels[2] * (size / 4) ** 2, classes);
  loadLayer(conv1, problem.conv[0]);
  loadLayer(conv2, problem.conv[1]);
  loadLayer(dense, problem.dense);
  const model = new nn.Sequential(
    conv1,
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    conv2,
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Flatten(),
    dense,
  );
  return {
    forward: (x) => model.forward(x),
    parameters: model.parameters(),
    optimizer: new SGD(model.parameters(), { lr: problem.lr }),
    x: constant(problem.x, [batch, channels[0], size, size]),
    y: constant(problem.labels, [batch]),
  };
}

export function charRnnSetup(problem: CharRnnProblem): TrainingSetup {
  const { vocab, embed, hidden, seq, batch } = problem;
  const embedding = new nn.Embedding(vocab, embed);
  const lstm = new nn.LSTM(embed, hidden, { batchFirst: true });
  const head = new nn.Linear(hidden, vocab);
  load(embedding.weight, problem.embedding);
  const cell = lstm.cellWeights(0);
  load(cell.ih, problem.lstmIh.weight);
  load(cell.hh, problem.lstmHh.weight);
  if (cell.biasIh) load(cell.biasIh, problem.lstmIh.bias);
  if (cell.biasHh) load(cell.biasHh, problem.lstmHh.bias);
  loadLayer(head, problem.dense);
  const parameters = [...embedding.parameters(), ...lstm.parameters(), ...head.parameters()];
  return {
    forward: (ids, made) => {
      const embedded = embedding.forward(ids);
      const [output, [h, c]] = lstm.forward(embedded);
      const projected = head.forward(output);
      made.push(embedded, output, h, c, projected);
      return projected.reshape([batch * seq, vocab]);
    },
    parameters,
    optimizer: new Adam(parameters, { lr: problem.lr, betas: [0.9, 0.999], eps: 1e-8 }),
    x: constant(problem.ids, [batch, seq]),
    y: constant(problem.targets, [batch * seq]),
  };
}

/** The grad chain's loss: op `i` of the cycle, `length` times, then the sum; adds each step to `made`. */
export function chainLoss(x: Tensor, length: number, made: Tensor[] = []): Tensor {
  let y = x;
  for (let i = 0; i < length; i++) {
    const op = chainOp(i);
    if (op === 'exp') y = y.exp();
    else if (op === 'halve') y = y.mul(0.5);
    else if (op === 'log') y = y.log();
    else y = y.add(CHAIN_SHIFT);
    made.push(y);
  }
  return y.sum();
}

/** One optimizer step on the fixed batch; the probe is the loss of the first step. */
function trainingStep({ forward, optimizer, x, y }: TrainingSetup, free: Free): Step {
  const step = () => {
    optimizer.zeroGrad();
    const made: Tensor[] = [];
    const logits = forward(x, made);
    const loss = crossEntropy(logits, y);
    loss.backward();
    optimizer.step();
    free(logits, ...made);
    return loss;
  };
  return {
    run: () => {
      free(step());
    },
    probe: () => Number(step().item()),
    dispose: () => {},
  };
}

/** The workloads, freeing their results with `free`. */
function workloads(free: Free): Workloads {
  return {
    matmul({ n, a, b }) {
      const left = constant(a, [n, n]);
      const right = constant(b, [n, n]);
      return {
        run: () => {
          free(left.matmul(right));
        },
        probe: () => sumOfSquares(left.matmul(right).toTypedArray()),
        dispose: () => {},
      };
    },

    elementwise(data) {
      const x = constant(data, [data.length]);
      const f = () => {
        const e = x.exp();
        const product = e.mul(x);
        free(e);
        const y = product.add(1);
        free(product);
        return y;
      };
      return {
        // realize: the wasm backend defers large elementwise ops until their result is read.
        run: () => {
          free(f().realize());
        },
        probe: () => sumOfSquares(f().toTypedArray()),
        dispose: () => {},
      };
    },

    mlpStep: (problem) => trainingStep(mlpSetup(problem), free),
    cnnStep: (problem) => trainingStep(cnnSetup(problem), free),
    charRnnStep: (problem) => trainingStep(charRnnSetup(problem), free),

    gradChain({ x: data, length }) {
      const x = new Tensor(T.array(data), { requiresGrad: true });
      const gradient = () => {
        free(x.grad);
        x.grad = null;
        const made: Tensor[] = [];
        const total = chainLoss(x, length, made);
        total.backward();
        free(total, ...made);
        return x.grad as Tensor | null;
      };
      return {
        run: () => {
          gradient();
        },
        probe: () => {
          const grad = gradient();
          if (grad === null) throw new Error('tsgrad: the grad chain left x.grad empty');
          return sumOfSquares(grad.toTypedArray());
        },
        dispose: () => {},
      };
    },
  };
}

/** A peer's workloads, without its name. */
export type Workloads = Omit<Peer, 'name' | 'description' | 'withoutDispose'>;

/** Builds and runs every step of `w` with `backend` selected. */
export function onBackend(backend: T.Backend, name: string, description: string, w: Workloads): Peer {
  const wrap =
    <A>(build: (problem: A) => Step) =>
    (problem: A): Step => {
      const step = T.withBackend(backend, () => build(problem));
      return {
        run: () => T.withBackend(backend, () => step.run()),
        probe: () => T.withBackend(backend, () => step.probe()),
        dispose: () => step.dispose(),
        get note() {
          return step.note;
        },
      };
    };
  return {
    name,
    description,
    matmul: wrap(w.matmul),
    elementwise: wrap(w.elementwise),
    mlpStep: wrap(w.mlpStep),
    cnnStep: wrap(w.cnnStep),
    gradChain: wrap(w.gradChain),
    charRnnStep: wrap(w.charRnnStep),
  };
}

/** tsgrad on the backend importing `tsgrad` selects, and on the CPU reference backend; each also without dispose. */
export function tsgradPeers(): Peer[] {
  const fast = getBackend();
  const runtime = (fast as { runtime?: { pool: { threads: number }; variant: { relaxed: boolean } } })
    .runtime;
  const threads = runtime ? `${runtime.pool.threads} threads` : '1 thread';
  const simd = runtime?.variant.relaxed ? 'relaxed SIMD' : 'SIMD';
  const both = (backend: T.Backend, name: string, description: string): Peer => ({
    ...onBackend(backend, name, description, workloads(freeing)),
    withoutDispose: onBackend(backend, name, description, workloads(keeping)),
  });
  return [
    both(fast, 'tsgrad', `tsgrad: ${fast.name} backend (AssemblyScript ${simd}, ${threads}), eager autograd`),
    both(
      T.cpuBackend,
      'tsgrad-cpu',
      'tsgrad-cpu: the CPU reference backend (plain JS, 1 thread), eager autograd',
    ),
  ];
}
