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
  type Workloads,
} from './tsgrad.js';

// tsgrad with every workload compiled by @tsgrad/compiler's `jit` (training steps by
// `compileStep`): the first call traces and compiles (reported in a note), the timed runs
// replay the plan.

const compileNote = (report: CompileReport | undefined) =>
  report === undefined
    ? undefined
    : `compile ${(report.traceMs + report.optimizeMs + report.planMs).toFixed(0)} ms (trace ${report.traceMs.toFixed(0)}, passes ${report.optimizeMs.toFixed(0)}, plan ${report.planMs.toFixed(0)}; ${report.tracedEquations} → ${report.stats.equations} equations)`;

/** Whether a run disposes its result (the 'disposed' row) or drops it (the 'no dispose' row). */
type Style = 'dispose' | 'drop';

/** A jitted function of fixed inputs; the probe is the sum of squares of its first result. */
function jitted(
  f: ((...xs: Tensor[]) => Tensor) & { lastCompile: CompileReport | undefined },
  inputs: Tensor[],
  style: Style,
): Step {
  return {
    run: () => {
      const y = f(...inputs);
      if (style === 'dispose') y.dispose();
    },
    probe: () => sumOfSquares(f(...inputs).toTypedArray()),
    dispose: () => {},
    get note() {
      return compileNote(f.lastCompile);
    },
  };
}

function compiledTraining({ forward, parameters, optimizer, x, y }: TrainingSetup, style: Style): Step {
  const step = compileStep({
    parameters,
    loss: (inputs: Tensor, labels: Tensor) => crossEntropy(forward(inputs, []), labels),
    optimizer,
  });
  return {
    run: () => {
      const loss = step(x, y);
      if (style === 'dispose') loss.dispose();
    },
    probe: () => Number(step(x, y).item()),
    dispose: () => {},
    get note() {
      return compileNote(step.compiled.lastCompile);
    },
  };
}

function workloads(style: Style): Workloads {
  return {
    matmul: ({ n, a, b }) =>
      jitted(
        jit((l: Tensor, r: Tensor) => l.matmul(r)),
        [constant(a, [n, n]), constant(b, [n, n])],
        style,
      ),
    elementwise: (data) =>
      jitted(
        jit((x: Tensor) => x.exp().mul(x).add(1)),
        [constant(data, [data.length])],
        style,
      ),
    mlpStep: (problem) => compiledTraining(mlpSetup(problem), style),
    cnnStep: (problem) => compiledTraining(cnnSetup(problem), style),
    charRnnStep: (problem) => compiledTraining(charRnnSetup(problem), style),
    gradChain: (problem) =>
      jitted(
        jit(grad((x: Tensor) => chainLoss(x, problem.length))),
        [constant(problem.x, [problem.x.length])],
        style,
      ),
  };
}

export function tsgradJitPeer(): Peer {
  const backend = T.getBackend();
  const description = `tsgrad-jit: tsgrad on the ${backend.name} backend with jit (training steps: compileStep, the optimizer's update in the plan)`;
  return {
    ...onBackend(backend, 'tsgrad-jit', description, workloads('dispose')),
    withoutDispose: onBackend(backend, 'tsgrad-jit', description, workloads('drop')),
  };
}
