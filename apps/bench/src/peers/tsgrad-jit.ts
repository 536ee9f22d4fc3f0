import { crossEntropy, grad, type Tensor } from '@tsgrad/autograd';
import { type CompileReport, compileStep, type JitOptions, jit, profileKernels } from '@tsgrad/compiler';
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
// `compileStep`), with and without kernel fusion: the first call traces and compiles
// (reported in a note), the timed runs replay the plan.

const compileNote = (report: CompileReport | undefined) =>
  report === undefined
    ? undefined
    : `compile ${(report.traceMs + report.optimizeMs + report.planMs).toFixed(0)} ms (trace ${report.traceMs.toFixed(0)}, passes ${report.optimizeMs.toFixed(0)}, plan ${report.planMs.toFixed(0)}; ${report.tracedEquations} → ${report.stats.equations} equations${report.stats.fused > 0 ? `, ${report.stats.fused} fused` : ''})`;

/** How much of a step the plan's kernels take: a few profiled runs, after the timed ones. */
function kernelShare(run: () => void): string {
  let kernelMs = 0;
  const start = performance.now();
  const runs = 5;
  for (let i = 0; i < runs; i++) kernelMs += profileKernels(run).kernelMs;
  const totalMs = performance.now() - start;
  return `kernels ${((100 * kernelMs) / totalMs).toFixed(0)} % of the step (${(kernelMs / runs).toFixed(2)} of ${(totalMs / runs).toFixed(2)} ms, profiled)`;
}

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

function compiledTraining(
  { forward, parameters, optimizer, x, y }: TrainingSetup,
  style: Style,
  options: JitOptions,
): Step {
  const step = compileStep({
    parameters,
    loss: (inputs: Tensor, labels: Tensor) => crossEntropy(forward(inputs, []), labels),
    optimizer,
    fusion: options.fusion,
  });
  const run = () => {
    const loss = step(x, y);
    if (style === 'dispose') loss.dispose();
  };
  let share: string | undefined;
  return {
    run,
    probe: () => Number(step(x, y).item()),
    dispose: () => {},
    get note() {
      share ??= kernelShare(run);
      return `${compileNote(step.compiled.lastCompile)}; ${share}`;
    },
  };
}

function workloads(style: Style, options: JitOptions): Workloads {
  return {
    matmul: ({ n, a, b }) =>
      jitted(
        jit((l: Tensor, r: Tensor) => l.matmul(r), options),
        [constant(a, [n, n]), constant(b, [n, n])],
        style,
      ),
    elementwise: (data) =>
      jitted(
        jit((x: Tensor) => x.exp().mul(x).add(1), options),
        [constant(data, [data.length])],
        style,
      ),
    mlpStep: (problem) => compiledTraining(mlpSetup(problem), style, options),
    cnnStep: (problem) => compiledTraining(cnnSetup(problem), style, options),
    charRnnStep: (problem) => compiledTraining(charRnnSetup(problem), style, options),
    gradChain: (problem) =>
      jitted(
        jit(
          grad((x: Tensor) => chainLoss(x, problem.length)),
          options,
        ),
        [constant(problem.x, [problem.x.length])],
        style,
      ),
  };
}

/** tsgrad compiled, with kernel fusion (`tsgrad-jit+fusion`, jit's default) or without (`tsgrad-jit`). */
export function tsgradJitPeer(fusion: boolean): Peer {
  const backend = T.getBackend();
  const name = fusion ? 'tsgrad-jit+fusion' : 'tsgrad-jit';
  const options: JitOptions = { fusion };
  const description = `${name}: tsgrad on the ${backend.name} backend with jit${fusion ? ' and fusion (generated wasm kernels)' : ', fusion off'} (training steps: compileStep, the optimizer's update in the plan)`;
  return {
    ...onBackend(backend, name, description, workloads('dispose', options)),
    withoutDispose: onBackend(backend, name, description, workloads('drop', options)),
  };
}
