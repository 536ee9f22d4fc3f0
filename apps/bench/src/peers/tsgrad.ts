import { crossEntropy, Tensor } from '@tsgrad/autograd';
import * as nn from '@tsgrad/nn';
import { Adam, SGD } from '@tsgrad/optim';
import * as T from '@tsgrad/tensor';
import {
  CHAIN_SHIFT,
  type ChainProblem,
  type CharRnnProblem,
  type CnnProblem,
  chainOp,
  type LayerInit,
  type MlpProblem,
  sumOfSquares,
} from '../problems.js';
import type { Peer, Step } from './peer.js';

// tsgrad through its public APIs only: on its default backend (wasm) and on the CPU reference.

export const constant = (data: Float32Array | Int32Array, shape: number[]) =>
  new Tensor(T.array(data, { shape }));

/** Overwrites a layer's initial parameters with the shared ones (in place, as an optimizer would). */
function load(layer: nn.Linear | nn.Conv2d, init: LayerInit): void {
  layer.weight.assign(T.array(init.weight, { shape: [...layer.weight.shape] }));
  layer.bias?.assign(T.array(init.bias, { shape: [...layer.bias.shape] }));
}

/** A model, its optimizer and one fixed batch: what a training step needs. */
export interface TrainingSetup {
  readonly model: nn.Module & nn.TensorModule;
  readonly optimizer: Adam | SGD;
  readonly x: Tensor;
  readonly y: Tensor;
}

/** One optimizer step on a fixed batch; the probe is the loss of the first step. */
function trainingStep({ model, optimizer, x, y }: TrainingSetup): Step {
  const step = () => {
    optimizer.zeroGrad();
    const loss = crossEntropy(model.forward(x), y);
    loss.backward();
    optimizer.step();
    return loss;
  };
  return {
    run: () => {
      step().dispose();
    },
    probe: () => Number(step().item()),
    dispose: () => {},
  };
}

export function mlpSetup(problem: MlpProblem): TrainingSetup {
  const { widths, batch } = problem;
  const layers: nn.TensorModule[] = [];
  problem.layers.forEach((init, i) => {
    const linear = new nn.Linear(widths[i], widths[i + 1]);
    load(linear, init);
    layers.push(linear);
    if (i < problem.layers.length - 1) layers.push(new nn.ReLU());
  });
  const model = new nn.Sequential(...layers);
  return {
    model,
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
  load(conv1, problem.conv[0]);
  load(conv2, problem.conv[1]);
  load(dense, problem.dense);
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
    model,
    optimizer: new SGD(model.parameters(), { lr: problem.lr }),
    x: constant(problem.x, [batch, channels[0], size, size]),
    y: constant(problem.labels, [batch]),
  };
}

/** Embedding → LSTM → Linear over [batch, seq] ids, logits flattened to [batch·seq, vocab]. */
class CharRnn extends nn.Module implements nn.TensorModule {
  readonly embedding: nn.Embedding;
  readonly lstm: nn.LSTM;
  readonly head: nn.Linear;

  constructor(p: CharRnnProblem) {
    super();
    this.embedding = new nn.Embedding(p.vocab, p.embed);
    this.lstm = new nn.LSTM(p.embed, p.hidden, { batchFirst: true });
    this.head = new nn.Linear(p.hidden, p.vocab);
  }

  forward(ids: Tensor): Tensor {
    const [output] = this.lstm.forward(this.embedding.forward(ids));
    return this.head.forward(output).reshape([-1, this.head.outFeatures]);
  }
}

export function charRnnSetup(problem: CharRnnProblem): TrainingSetup {
  nn.manualSeed(0);
  const model = new CharRnn(problem);
  return {
    model,
    optimizer: new Adam(model.parameters(), { lr: problem.lr }),
    x: constant(problem.ids, [problem.batch, problem.seq]),
    y: constant(problem.targets, [problem.batch * problem.seq]),
  };
}

/** The grad chain's loss: op `i` of the cycle, `length` times, then the sum. */
export function chainLoss(x: Tensor, length: ChainProblem['length']): Tensor {
  let y = x;
  for (let i = 0; i < length; i++) {
    const op = chainOp(i);
    if (op === 'exp') y = y.exp();
    else if (op === 'halve') y = y.mul(0.5);
    else if (op === 'log') y = y.log();
    else y = y.add(CHAIN_SHIFT);
  }
  return y.sum();
}

const workloads: Required<Omit<Peer, 'name' | 'description'>> = {
  matmul({ n, a, b }) {
    const left = constant(a, [n, n]);
    const right = constant(b, [n, n]);
    return {
      run: () => {
        left.matmul(right).dispose();
      },
      probe: () => sumOfSquares(left.matmul(right).toTypedArray()),
      dispose: () => {},
    };
  },

  elementwise(data) {
    const x = constant(data, [data.length]);
    // What tfjs's tf.tidy does there: free the intermediates once used.
    const f = () => {
      const e = x.exp();
      const product = e.mul(x);
      e.dispose();
      const y = product.add(1);
      product.dispose();
      return y;
    };
    return {
      run: () => {
        f().dispose();
      },
      probe: () => sumOfSquares(f().toTypedArray()),
      dispose: () => {},
    };
  },

  mlpStep: (problem) => trainingStep(mlpSetup(problem)),
  cnnStep: (problem) => trainingStep(cnnSetup(problem)),
  charRnnStep: (problem) => trainingStep(charRnnSetup(problem)),

  gradChain(problem) {
    const x = new Tensor(T.array(problem.x), { requiresGrad: true });
    const gradient = () => {
      x.grad = null;
      chainLoss(x, problem.length).backward();
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

/** Builds and runs every step with `backend` selected. */
export function onBackend(
  backend: T.Backend,
  name: string,
  description: string,
  steps: Required<Omit<Peer, 'name' | 'description'>> = workloads,
): Peer {
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
    matmul: wrap(steps.matmul),
    elementwise: wrap(steps.elementwise),
    mlpStep: wrap(steps.mlpStep),
    cnnStep: wrap(steps.cnnStep),
    gradChain: wrap(steps.gradChain),
    charRnnStep: wrap(steps.charRnnStep),
  };
}

/** tsgrad on its default backend, and on the CPU reference backend. */
export function tsgradPeers(): Peer[] {
  const fast = T.getBackend();
  const runtime = (fast as { runtime?: { pool: { threads: number }; variant: { relaxed: boolean } } })
    .runtime;
  const threads = runtime ? `${runtime.pool.threads} threads` : '1 thread';
  const simd = runtime?.variant.relaxed ? 'relaxed SIMD' : 'SIMD';
  return [
    onBackend(
      fast,
      'tsgrad',
      `tsgrad: ${fast.name} backend (AssemblyScript ${simd}, ${threads}), eager autograd`,
    ),
    onBackend(
      T.cpuBackend,
      'tsgrad-cpu',
      'tsgrad-cpu: the CPU reference backend (plain JS, 1 thread), eager autograd',
    ),
  ];
}
