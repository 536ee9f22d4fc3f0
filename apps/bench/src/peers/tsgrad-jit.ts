import { crossEntropy, grad, type Tensor } from '@tsgrad/autograd';
import { type CompileReport, compileStep, jit } from '@tsgrad/compiler';
import * as T from '@tsgrad/tensor';
import { sumOfSquares } from '../problems.js';
import type { Peer, Step } from './peer.js';
import {
  chainLoss,
  charRnnSetup,
  cnnSetup,
  constant,
  mlpSetup,
  onBackend,
  type TrainingSetup,
} from './tsgrad.js';

// tsgrad with every workload compiled by @tsgrad/compiler's `jit` (training steps by
// `compileStep`): the first call traces and compiles (reported in a note), the timed runs
// replay the plan.

const compileNote = (report: CompileReport | undefined) =>
  report === undefined
    ? undefined
    : `compile ${(report.traceMs + report.optimizeMs + report.planMs).toFixed(0)} ms (trace ${report.traceMs.toFixed(0)}, passes ${report.optimizeMs.toFixed(0)}, plan ${report.planMs.toFixed(0)}; ${report.tracedEquations} → ${report.stats.equations} equations)`;

/** A jitted function of fixed inputs; the probe is `measure` of its first result. */
function jitted(
  f: ((...xs: Tensor[]) => Tensor) & { lastCompile: CompileReport | undefined },
  inputs: Tensor[],
): Step {
  return {
    run: () => {
      f(...inputs).dispose();
    },
    probe: () => sumOfSquares(f(...inputs).toTypedArray()),
    dispose: () => {},
    get note() {
      return compileNote(f.lastCompile);
    },
  };
}

function compiledTraining({ model, optimizer, x, y }: TrainingSetup): Step {
  const step = compileStep({
    parameters: model.parameters(),
    buffers: model.buffers(),
    loss: (inputs: Tensor, labels: Tensor) => crossEntropy(model.forward(inputs), labels),
    optimizer,
  });
  return {
    run: () => {
      step(x, y).dispose();
    },
    probe: () => Number(step(x, y).item()),
    dispose: () => {},
    get note() {
      return compileNote(step.compiled.lastCompile);
    },
  };
}

export function tsgradJitPeer(): Peer {
  const backend = T.getBackend();
  return onBackend(
    backend,
    'tsgrad-jit',
    `tsgrad-jit: tsgrad on the ${backend.name} backend with jit (training steps: compileStep; the optimizer update runs eagerly)`,
    {
      matmul: ({ n, a, b }) =>
        jitted(
          jit((l: Tensor, r: Tensor) => l.matmul(r)),
          [constant(a, [n, n]), constant(b, [n, n])],
        ),
      elementwise: (data) =>
        jitted(
          jit((x: Tensor) => x.exp().mul(x).add(1)),
          [constant(data, [data.length])],
        ),
      mlpStep: (problem) => compiledTraining(mlpSetup(problem)),
      cnnStep: (problem) => compiledTraining(cnnSetup(problem)),
      charRnnStep: (problem) => compiledTraining(charRnnSetup(problem)),
      gradChain: (problem) =>
        jitted(jit(grad((x: Tensor) => chainLoss(x, problem.length))), [
          constant(problem.x, [problem.x.length]),
        ]),
    },
  );
}
