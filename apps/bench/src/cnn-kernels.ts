import { performance } from 'node:perf_hooks';
import { crossEntropy, type Tensor } from '@tsgrad/autograd';
import { compileStep } from '@tsgrad/compiler';
import type { AnyKernel, View } from '@tsgrad/tensor';
import { getBackend } from 'tsgrad';
import { cnnSetup } from './peers/tsgrad.js';
import { cnnProblem } from './problems.js';

// Where the bench's CNN training step spends its time, kernel by kernel: every kernel of the
// default backend is wrapped with a clock, then the step runs eagerly and compiled (`--fusion`
// for jit's fusion; fused kernels are not in the table, only in the step's total). Prints ms
// per step for each primitive and shape: the mean, and the fastest call, which a loaded
// machine disturbs least. `--tasks` also times the wasm pool's tasks (im2col, gemm, ...).

interface Clock {
  ms: number;
  calls: number;
  fastest: number;
}

const clocks = new Map<string, Clock>();
let recording = false;

/** `fn` timed under `key` while recording. */
function timed<A extends unknown[]>(key: (...args: A) => string, fn: (...args: A) => void) {
  return (...args: A) => {
    if (!recording) return fn(...args);
    const start = performance.now();
    fn(...args);
    const ms = performance.now() - start;
    const name = key(...args);
    const clock = clocks.get(name) ?? { ms: 0, calls: 0, fastest: Infinity };
    clock.ms += ms;
    clock.calls++;
    clock.fastest = Math.min(clock.fastest, ms);
    clocks.set(name, clock);
  };
}

const backend = getBackend();
const kernels = backend.kernels as unknown as Record<string, AnyKernel>;
const shapes = (views: readonly View<unknown>[]) => views.map((v) => `[${v.shape.join(',')}]`).join(' ');
for (const name of Object.keys(kernels)) {
  const kernel = kernels[name];
  kernels[name] = timed((o, i) => `${name} ${shapes(i)} -> ${shapes(o)}`, kernel);
}
const pool = (backend as { runtime?: { pool: { run: (...args: unknown[]) => void } } }).runtime?.pool;
if (pool && process.argv.includes('--tasks')) {
  pool.run = timed((name) => `  task ${String(name)}`, pool.run.bind(pool));
}
// Calls the executor prepares would bypass the table.
(backend as { prepare?: unknown }).prepare = undefined;

function profile(title: string, step: () => void, steps = 30): void {
  for (let i = 0; i < 5; i++) step();
  recording = true;
  const start = performance.now();
  for (let i = 0; i < steps; i++) step();
  const total = performance.now() - start;
  recording = false;
  console.log(`\n${title}: ${(total / steps).toFixed(2)} ms per step`);
  let mean = 0;
  let fastest = 0;
  for (const [key, clock] of [...clocks].sort((a, b) => b[1].ms - a[1].ms)) {
    const each = clock.calls / steps;
    if (!key.startsWith(' ')) {
      mean += clock.ms / steps;
      fastest += clock.fastest * each;
    }
    if (clock.ms / steps < 0.02) continue;
    const ms = `${(clock.ms / steps).toFixed(3)} ms (fastest ${(clock.fastest * each).toFixed(3)})`;
    console.log(`${ms.padStart(28)}  ${each}×  ${key}`);
  }
  console.log(`${mean.toFixed(2)} ms in the kernels above (${fastest.toFixed(2)} at each one's fastest)`);
  clocks.clear();
}

const eager = cnnSetup(cnnProblem());
profile('eager', () => {
  eager.optimizer.zeroGrad();
  const loss = crossEntropy(eager.forward(eager.x, []), eager.y);
  loss.backward();
  eager.optimizer.step();
  loss.dispose();
});

const compiled = cnnSetup(cnnProblem());
const step = compileStep({
  parameters: compiled.parameters,
  loss: (x: Tensor, y: Tensor) => crossEntropy(compiled.forward(x, []), y),
  optimizer: compiled.optimizer,
  fusion: process.argv.includes('--fusion'),
});
profile(`compiled${process.argv.includes('--fusion') ? ' with fusion' : ''}`, () =>
  step(compiled.x, compiled.y).dispose(),
);
process.exit(0);
