import * as A from '@tsgrad/autograd';
import * as compiler from '@tsgrad/compiler';
import * as data from '@tsgrad/data';
import * as io from '@tsgrad/io';
import * as nn from '@tsgrad/nn';
import * as optim from '@tsgrad/optim';
import * as T from '@tsgrad/tensor';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { argArb, build, type Recipe } from './fuzz-args.js';

// Calls every exported function and class of the packages with hostile arguments: each call
// must return or throw a TsgradError (never a TypeError, RangeError or plain Error), within a
// time bound and without growing the process past a memory bound. Classes are constructed,
// and a constructed object's `forward` (layers) or `step` (optimizers, schedules) is called
// too. FC_SEED changes the draws; FC_RUNS (default 60) scales the number of calls.

const PACKAGES = { tensor: T, autograd: A, compiler, nn, optim, io, data } as const;
type PackageName = keyof typeof PACKAGES;

/** Calls per package for the default FC_RUNS of 60. */
const CALLS: Record<PackageName, number> = {
  tensor: 5000,
  autograd: 5000,
  compiler: 1500,
  nn: 2000,
  optim: 2000,
  io: 1000,
  data: 1500,
};

/** What cannot be called blindly, with the reason. */
const SKIP: Record<string, string> = {
  'tensor.useFinalizationRegistry':
    'replaces the registry that frees every buffer: a hook for backends, given a constructor',
  // The kernel level, below the checked frontend: its callers pass inferred, checked values.
  'tensor.cpuBackend': 'the backend object itself (buffers and kernels), called by the op frontends',
  'tensor.runPrimitive': 'runs a kernel on outputs the op frontend inferred and checked',
  'tensor.matmulLayout': 'a kernel helper for backends (views the frontend made)',
  'tensor.forEachBatch': 'a kernel helper for backends (views the frontend made)',
  'tensor.convShape': 'a kernel helper for backends (views the frontend made)',
  'tensor.NDArray': 'its constructor is private: arrays come from array, zeros, … and views',
  'autograd.arrays': "@tsgrad/tensor's array functions with lifetime wrappers (the tensor fuzz covers them)",
};

/** A call that takes longer than this fails (a loop over a huge size that was not refused). */
const CALL_LIMIT_MS = 2000;
/** Growth of the process's resident memory over the first call that fails the test. */
const MEMORY_LIMIT_BYTES = 1.5 * 2 ** 30;
const METHODS = ['forward', 'step'] as const;

interface Callable {
  readonly name: string;
  readonly fn: (...args: unknown[]) => unknown;
  readonly isClass: boolean;
}

const isClass = (fn: unknown) =>
  typeof fn === 'function' && Function.prototype.toString.call(fn).startsWith('class');

/** Every function and class a package exports, also one level down in namespaces (T.random). */
function callables(pkg: PackageName): Callable[] {
  const found: Callable[] = [];
  const visit = (prefix: string, exports: object, depth: number) => {
    for (const [key, value] of Object.entries(exports)) {
      const name = `${prefix}.${key}`;
      if (name in SKIP) continue;
      // Error classes are made by the library from its own values; users do not call them.
      if (typeof value === 'function' && value.prototype instanceof Error) continue;
      if (typeof value === 'function') found.push({ name, fn: value, isClass: isClass(value) });
      else if (depth === 0 && typeof value === 'object' && value !== null && !Array.isArray(value))
        visit(name, value, 1);
    }
  };
  visit(pkg, PACKAGES[pkg], 0);
  return found;
}

/** The global state a call may change (`setBackend`, `setGradEnabled`, `setArrayCreatedHook`, `setDeferThreshold`…), restored after it. */
function saveGlobals() {
  const backend = T.getBackend();
  const grad = A.isGradEnabled();
  const anomaly = A.isAnomalyEnabled();
  const hook = T.setArrayCreatedHook(undefined);
  T.setArrayCreatedHook(hook);
  const deferThreshold = T.setDeferThreshold(2 ** 15);
  T.setDeferThreshold(deferThreshold);
  return () => {
    T.setBackend(backend);
    T.setDeferThreshold(deferThreshold);
    T.setArrayCreatedHook(hook);
    A.setGradEnabled(grad);
    A.setAnomalyDetection(anomaly);
  };
}

async function invoke(target: Callable, args: unknown[], methodArgs: unknown[]): Promise<void> {
  if (!target.isClass) {
    const result = target.fn(...args);
    if (result instanceof Promise) await result;
    return;
  }
  const Class = target.fn as unknown as new (...a: unknown[]) => Record<string, unknown>;
  const instance = new Class(...args);
  for (const method of METHODS) {
    const call = instance[method];
    if (typeof call === 'function') await call.apply(instance, methodArgs);
  }
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return `a thrown ${typeof error}: ${String(error)}`;
  const stack = (error.stack ?? '').split('\n').slice(1, 4).join(' | ');
  return `${error.name}: ${error.message} (${stack.trim()})`;
}

/** One fuzzed call; returns what went wrong, or null. */
async function check(target: Callable, args: Recipe[], methodArgs: Recipe[]): Promise<string | null> {
  const restore = saveGlobals();
  const before = process.memoryUsage.rss();
  const start = performance.now();
  let problem: string | null = null;
  try {
    await invoke(target, args.map(build), methodArgs.map(build));
  } catch (error) {
    if (!(error instanceof T.TsgradError)) problem = `threw ${describeError(error)}`;
  } finally {
    restore();
  }
  const elapsed = performance.now() - start;
  if (problem === null && elapsed > CALL_LIMIT_MS) problem = `took ${elapsed.toFixed(0)} ms`;
  const grown = process.memoryUsage.rss() - before;
  if (problem === null && grown > MEMORY_LIMIT_BYTES)
    problem = `grew the process by ${(grown / 2 ** 20).toFixed(0)} MiB`;
  return problem === null ? null : `${target.name}: ${problem}`;
}

const runs = (pkg: PackageName) => Math.round((CALLS[pkg] * Number(process.env.FC_RUNS ?? 60)) / 60);
const counts: string[] = [];

for (const pkg of Object.keys(PACKAGES) as PackageName[]) {
  it(`fuzz: every export of @tsgrad/${pkg} returns or throws a TsgradError`, {
    timeout: 120_000,
  }, async () => {
    const targets = callables(pkg);
    expect(targets.length).toBeGreaterThan(3);
    let calls = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...targets.map((t) => t.name)),
        fc.array(argArb, { maxLength: 4 }),
        fc.array(argArb, { maxLength: 2 }),
        async (name, args, methodArgs) => {
          calls++;
          const problem = await check(targets.find((t) => t.name === name) as Callable, args, methodArgs);
          if (problem !== null) throw new Error(problem);
        },
      ),
      { numRuns: runs(pkg) },
    );
    counts.push(`${pkg} ${calls.toLocaleString('en-US')} calls (${targets.length} exports)`);
    if (pkg === 'data') console.log(`fuzz: ${counts.join(', ')}`);
  });
}
