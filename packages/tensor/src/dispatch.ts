import type { Backend } from './backend.js';
import { checkArray } from './check.js';
import { cpuBackend } from './cpu/index.js';
import type { DType } from './dtype.js';
import { DTypeError, describe, ValueError } from './errors.js';
import { deferElementwise } from './lazy.js';
import { NDArray } from './ndarray.js';
import {
  type AnyKernel,
  type Primitive,
  type PrimitiveParams,
  STRIDED_PRIMITIVES,
  type View,
} from './primitives.js';
import type { Shape } from './shape.js';

let current: Backend = cpuBackend;
let selected = false;
/** Whether `current` is a symbolic tracing backend (kept with `current`: every library call asks). */
let currentIsSymbolic = false;

/** The backend new arrays are created on. The CPU reference backend unless changed. */
export function getBackend(): Backend {
  return current;
}

/** Selects the backend for new arrays; returns the previous one. */
export function setBackend(backend: Backend): Backend {
  checkBackend(backend);
  const previous = current;
  current = backend;
  currentIsSymbolic = isTracingBackend(backend) && backend.symbolic === true;
  selected = true;
  return previous;
}

/** Whether a program has selected a backend (else arrays go to the CPU reference backend). */
export function isBackendSelected(): boolean {
  return selected;
}

/** Runs `fn` with `backend` selected, restoring the previous backend afterwards. */
export function withBackend<T>(backend: Backend, fn: () => T): T {
  if (typeof fn !== 'function')
    throw new ValueError('withBackend', `expected a function, got ${describe(fn)}`);
  const previous = setBackend(backend);
  try {
    return fn();
  } finally {
    setBackend(previous);
  }
}

/** Checks that `backend` has the members of a Backend (a wrong object would fail in every op). */
function checkBackend(backend: Backend): void {
  const b = backend as Partial<Backend> | null;
  const ok =
    typeof b === 'object' &&
    b !== null &&
    typeof b.name === 'string' &&
    Array.isArray(b.dtypes) &&
    typeof b.kernels === 'object' &&
    b.kernels !== null &&
    ['alloc', 'write', 'read'].every((m) => typeof (b as Record<string, unknown>)[m] === 'function');
  if (!ok)
    throw new ValueError(
      'setBackend',
      `expected a Backend (name, dtypes, kernels, alloc, write, read), got ${describe(backend)}`,
    );
}

/** The shape and dtype of one output of a primitive, inferred by the frontend before the kernel runs. */
export interface OutputSpec {
  /** The output's shape. */
  readonly shape: Shape;
  /** The output's dtype. */
  readonly dtype: DType;
}

function viewOf(x: NDArray): View<unknown> {
  return { handle: x.storage.handle, dtype: x.dtype, shape: x.shape, strides: x.strides, offset: x.offset };
}

function viewsOf(arrays: readonly NDArray[]): View<unknown>[] {
  const views = new Array<View<unknown>>(arrays.length);
  for (let i = 0; i < arrays.length; i++) views[i] = viewOf(arrays[i]);
  return views;
}

function allPacked(arrays: readonly NDArray[]): boolean {
  for (let i = 0; i < arrays.length; i++) if (!isPacked(arrays[i])) return false;
  return true;
}

/** Makes a contiguous copy of a strided view (or returns the array itself if it already is). */
export function contiguous(x: NDArray): NDArray {
  checkArray('contiguous', x);
  if (x.isContiguous) return x;
  return runPrimitive('copy', [x], {}, [{ shape: x.shape, dtype: x.dtype }])[0];
}

const isPacked = (x: NDArray): boolean => x.isContiguous && x.offset === 0 && x.storage.size === x.size;

/**
 * The input form of a non-strided kernel: contiguous, starting at element 0 and spanning the
 * whole buffer. A contiguous view into a larger buffer (a row of a matrix) is copied too.
 */
function packed(x: NDArray): NDArray {
  if (isPacked(x)) return x;
  return runPrimitive('copy', [x], {}, [{ shape: x.shape, dtype: x.dtype }])[0];
}

/**
 * A backend that traces (jit's recorder): while it is selected every primitive runs on it,
 * and it takes in the arrays of other backends that a traced function closes over.
 */
export interface TracingBackend extends Backend {
  /**
   * Takes in an array of another backend (a constant the traced function closes over) and returns its traced
   * stand-in.
   */
  adopt(array: NDArray): NDArray;
  /**
   * Records a primitive call on whole arrays instead of running a kernel on views (optional:
   * a recorder's fast path, with no view objects per call; else its kernels are called).
   */
  record?(
    primitive: Primitive,
    outputs: readonly NDArray[],
    inputs: readonly NDArray[],
    params: unknown,
  ): void;
  /** Records a host computation from traced PRNG keys (see `traceKeyed` in random/traced.ts). */
  traceKeyed?<K extends object, R>(keys: readonly K[], compute: (keys: readonly K[]) => R): R | undefined;
  /**
   * How deep it sits in a stack of tracing backends (default 1): an op whose inputs live on
   * several runs on the deepest, which takes in the others' arrays (vmap inside jit, say).
   */
  readonly depth?: number;
  /**
   * Whether its arrays are symbols that hold no memory (jit's recorder; not vmap's levels,
   * which hold real arrays): while it is selected nothing needs freeing, so the library
   * skips the bookkeeping that frees what its calls made (see {@link holdsNoMemory}).
   */
  readonly symbolic?: boolean;
}

/** Whether the selected backend's arrays hold no memory (a {@link TracingBackend} that is `symbolic`). */
export const holdsNoMemory = (): boolean => currentIsSymbolic;

/** The last backend asked about, and the answer (every primitive asks, mostly of one backend). */
let lastAsked: unknown = null;
let lastAnswer = false;

/** Whether `backend` is a {@link TracingBackend} (it has `adopt`). */
export const isTracingBackend = (backend: Backend): backend is TracingBackend => {
  if (backend !== lastAsked) {
    lastAsked = backend;
    lastAnswer = typeof backend === 'object' && backend !== null && 'adopt' in backend;
  }
  return lastAnswer;
};

/** The inputs as arrays of a tracing backend; others pass unchanged. */
function adoptAll(backend: Backend, inputs: readonly NDArray[]): readonly NDArray[] {
  if (!isTracingBackend(backend) || allOn(backend, inputs)) return inputs;
  return inputs.map((x) => (x.backend === backend ? x : backend.adopt(x)));
}

function allOn(backend: Backend, inputs: readonly NDArray[]): boolean {
  for (let i = 0; i < inputs.length; i++) if (inputs[i].backend !== backend) return false;
  return true;
}

/** How deep a backend sits in a stack of tracing backends (0: a real one). */
export const depthOf = (backend: Backend): number => (isTracingBackend(backend) ? (backend.depth ?? 1) : 0);

/** The inputs' backend, or the deepest tracing backend among them and the current one. */
function chooseBackend(inputs: readonly NDArray[]): Backend {
  let backend = isTracingBackend(current) || inputs.length === 0 ? current : inputs[0].backend;
  let depth = depthOf(backend);
  for (let i = 0; i < inputs.length; i++) {
    const x = inputs[i];
    const d = x.backend === backend ? depth : depthOf(x.backend);
    if (d > depth) {
      backend = x.backend;
      depth = d;
    }
  }
  return backend;
}

/**
 * Runs one primitive: picks the backend of the inputs, packs the inputs of non-strided
 * kernels, allocates the outputs the frontend inferred, and calls the kernel.
 */
export function runPrimitive<P extends Primitive>(
  primitive: P,
  inputs: readonly NDArray[],
  params: PrimitiveParams[P],
  outputs: readonly OutputSpec[],
): NDArray[] {
  const backend = chooseBackend(inputs);
  const adopted = adoptAll(backend, inputs);
  // Plain loops, arrays made at their length: every op passes here, thousands per traced function.
  for (let i = 0; i < adopted.length; i++) {
    const x = adopted[i];
    x.assertLive(primitive);
    if (x.backend !== backend) {
      throw new ValueError(
        primitive,
        `inputs live on different backends (${backend.name} and ${x.backend.name})`,
      );
    }
  }
  for (let i = 0; i < outputs.length; i++) {
    if (!backend.dtypes.includes(outputs[i].dtype)) {
      throw new DTypeError(primitive, `the ${backend.name} backend does not support ${outputs[i].dtype}`);
    }
  }
  if (outputs.length === 1 && backend.deferElementwise === true) {
    const deferred = deferElementwise(backend, primitive, adopted, outputs[0]);
    if (deferred !== undefined) return [deferred];
  }
  const ready = STRIDED_PRIMITIVES.has(primitive) || allPacked(adopted) ? adopted : adopted.map(packed);
  const results = new Array<NDArray>(outputs.length);
  // Kernels never see empty outputs.
  let run = outputs.length === 0;
  for (let i = 0; i < outputs.length; i++) {
    results[i] = NDArray.uninitialized(backend, outputs[i].dtype, outputs[i].shape, primitive);
    if (results[i].size > 0) run = true;
  }
  if (run) {
    const { record } = backend as Partial<TracingBackend>;
    if (record !== undefined) record.call(backend, primitive, results, ready, params);
    else (backend.kernels[primitive] as AnyKernel)(viewsOf(results), viewsOf(ready), params);
  }
  if (ready !== adopted) {
    for (let i = 0; i < ready.length; i++) if (ready[i] !== adopted[i]) ready[i].dispose();
  }
  return results;
}
