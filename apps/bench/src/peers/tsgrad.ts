import { crossEntropy, Tensor } from '@tsgrad/autograd';
import * as nn from '@tsgrad/nn';
import { Adam, SGD } from '@tsgrad/optim';
import * as T from '@tsgrad/tensor';
import { getBackend } from 'tsgrad';
import { CHAIN_SHIFT, chainOp, type LayerInit, sumOfSquares } from '../problems.js';
import type { Peer, Step } from './peer.js';

// tsgrad through its public APIs only: on its default backend (wasm) and on the CPU reference.

const constant = (data: Float32Array | Int32Array, shape: number[]) => new Tensor(T.array(data, { shape }));

/** Overwrites a layer's initial parameters with the shared ones (in place, as an optimizer would). */
function load(layer: nn.Linear | nn.Conv2d, init: LayerInit): void {
  layer.weight.assign(T.array(init.weight, { shape: [...layer.weight.shape] }));
  layer.bias?.assign(T.array(init.bias, { shape: [...layer.bias.shape] }));
}

/** One optimizer step on a fixed batch; the probe is the loss of the first step. */
function trainingStep(model: nn.Module & nn.TensorModule, optimizer: Adam | SGD, x: Tensor, y: Tensor): Step {
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

const workloads: Omit<Peer, 'name' | 'description'> = {
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

  mlpStep(problem) {
    const { widths, batch } = problem;
    const layers: nn.TensorModule[] = [];
    problem.layers.forEach((init, i) => {
      const linear = new nn.Linear(widths[i], widths[i + 1]);
      load(linear, init);
      layers.push(linear);
      if (i < problem.layers.length - 1) layers.push(new nn.ReLU());
    });
    const model = new nn.Sequential(...layers);
    const optimizer = new Adam(model.parameters(), { lr: problem.lr, betas: [0.9, 0.999], eps: 1e-8 });
    return trainingStep(
      model,
      optimizer,
      constant(problem.x, [batch, widths[0]]),
      constant(problem.labels, [batch]),
    );
  },

  cnnStep(problem) {
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
    const optimizer = new SGD(model.parameters(), { lr: problem.lr });
    return trainingStep(
      model,
      optimizer,
      constant(problem.x, [batch, channels[0], size, size]),
      constant(problem.labels, [batch]),
    );
  },

  gradChain({ x: data, length }) {
    const x = new Tensor(T.array(data), { requiresGrad: true });
    const gradient = () => {
      x.grad = null;
      let y = x;
      for (let i = 0; i < length; i++) {
        const op = chainOp(i);
        if (op === 'exp') y = y.exp();
        else if (op === 'halve') y = y.mul(0.5);
        else if (op === 'log') y = y.log();
        else y = y.add(CHAIN_SHIFT);
      }
      y.sum().backward();
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
function onBackend(backend: T.Backend, name: string, description: string): Peer {
  const wrap =
    <A>(build: (problem: A) => Step) =>
    (problem: A): Step => {
      const step = T.withBackend(backend, () => build(problem));
      return {
        run: () => T.withBackend(backend, () => step.run()),
        probe: () => T.withBackend(backend, () => step.probe()),
        dispose: () => step.dispose(),
      };
    };
  return {
    name,
    description,
    matmul: wrap(workloads.matmul),
    elementwise: wrap(workloads.elementwise),
    mlpStep: wrap(workloads.mlpStep),
    cnnStep: wrap(workloads.cnnStep),
    gradChain: wrap(workloads.gradChain),
  };
}

/** tsgrad on the backend importing `tsgrad` selects, and on the CPU reference backend. */
export function tsgradPeers(): Peer[] {
  const fast = getBackend();
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
