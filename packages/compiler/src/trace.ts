import { inUserCode } from '@tsgrad/autograd';
import {
  type AnyKernel,
  allocTyped,
  type Backend,
  type DType,
  isCheckingValues,
  type KernelTable,
  NDArray,
  type Primitive,
  type TracingBackend,
  TsgradError,
  type TypedArray,
  ValueError,
  type View,
  withBackend,
} from '@tsgrad/tensor';
import { checkBackend, trust } from './check.js';
import type { BufferInfo, Equation, Graph, ViewRef } from './graph.js';

// Tracing: a backend that records every kernel call as an equation and also runs it on the
// real backend. Every primitive passes through `runPrimitive` with its output shapes already
// inferred, so running a function on this backend yields the graph of whatever it computes,
// forward and backward alike. Running for real as well keeps concrete values at hand, for
// the library's checks of values (index ranges, class targets, see `checkValues`).

/**
 * A traced value was read on the host inside a jitted function (`item()`, `toArray()`, or
 * control flow on values): its value differs from call to call.
 */
export class TracerReadError extends TsgradError {}

/** A buffer of the trace: its id in the graph and the real buffer that holds its value now. */
export interface TraceHandle {
  readonly id: number;
  readonly real: unknown;
}

interface Slot {
  readonly dtype: DType;
  readonly size: number;
  shape: readonly number[];
  /** 'fresh': allocated, not written yet (an empty buffer stays so). */
  state: 'input' | 'zeros' | 'data' | 'fresh' | 'equation';
  inputIndex: number;
  data: TypedArray | null;
  /** The primitive that wrote it, for error messages. */
  producer: Primitive | null;
}

const READ_METHOD = /\b(?:NDArray|Tensor)\.(item|toArray|toTypedArray|toString)\b/g;

/** The outermost array method on the stack that reads values (what the user called). */
function readMethod(): string {
  const found = [...(new Error().stack ?? '').matchAll(READ_METHOD)];
  return found.length > 0 ? found[found.length - 1][1] : 'read';
}

/**
 * A host computation from PRNG keys recorded during a trace (a sampler, `split`, `foldIn`):
 * rerun on each call's keys, its result is a key or keys (appended to the call's key list) or
 * an array (the plan's next host input).
 */
export interface HostStep {
  /** Indices into the call's key list (its key arguments, then the keys steps derived). */
  readonly keys: readonly number[];
  /** The host computation, run on the keys `keys` selects. */
  readonly compute: (keys: readonly object[]) => unknown;
  /** What it returns: keys (appended to the call's key list) or an array (a host input of the plan). */
  readonly yields: 'keys' | 'array';
}

/** Records the kernel calls made on it; build one per trace. */
export class Recorder implements TracingBackend {
  readonly name = 'trace';
  readonly dtypes: readonly DType[];
  readonly kernels: KernelTable<TraceHandle>;
  private readonly slots: Slot[] = [];
  private readonly equations: Equation[] = [];
  private readonly inputIds: number[] = [];
  private pendingInput: unknown = null;
  private readonly adopted = new WeakMap<NDArray, NDArray>();
  /** The traced keys (arguments, then derived), by identity. */
  private readonly keyIds = new Map<object, number>();
  /** What the host computes from the keys on each call, in order. */
  readonly hostSteps: HostStep[] = [];
  /** The arrays host steps made for this trace's call (freed with the trace). */
  readonly hostArrays: NDArray[] = [];

  /**
   * @param real The backend the recorded kernels also run on, so the library's checks of values see numbers.
   */
  constructor(readonly real: Backend) {
    checkBackend('Recorder', real);
    this.dtypes = real.dtypes;
    const table: Record<string, unknown> = {};
    for (const name of Object.keys(real.kernels) as Primitive[]) table[name] = this.recordingKernel(name);
    this.kernels = table as unknown as KernelTable<TraceHandle>;
  }

  private newHandle(dtype: DType, size: number, state: Slot['state'], real: unknown): TraceHandle {
    this.slots.push({ dtype, size, shape: [size], state, inputIndex: -1, data: null, producer: null });
    return { id: this.slots.length - 1, real };
  }

  alloc(dtype: DType, size: number): TraceHandle {
    return this.newHandle(dtype, size, 'zeros', this.real.alloc(dtype, size));
  }

  allocUninitialized(dtype: DType, size: number): TraceHandle {
    if (this.pendingInput !== null) {
      const handle = this.newHandle(dtype, size, 'input', this.pendingInput);
      this.pendingInput = null;
      return handle;
    }
    const real = this.real.allocUninitialized?.(dtype, size) ?? this.real.alloc(dtype, size);
    return this.newHandle(dtype, size, 'fresh', real);
  }

  write(handle: TraceHandle, dtype: DType, data: TypedArray): void {
    const slot = this.slots[handle.id];
    slot.state = 'data';
    slot.data = data.slice();
    this.real.write(handle.real, dtype, data);
  }

  read(handle: TraceHandle, dtype: DType, offset: number, size: number): TypedArray {
    const slot = this.slots[handle.id];
    const traced = slot.state === 'input' || slot.state === 'equation';
    // Checks of values (index ranges…) may look at the traced call's; nothing else may.
    if (traced && !isCheckingValues()) {
      const method = readMethod();
      const what = slot.state === 'input' ? `input ${slot.inputIndex}` : `the result of ${slot.producer}`;
      throw new TracerReadError(
        method,
        `cannot read the value of a traced array (${what}) inside a jitted function: its value changes from call to call. ` +
          'Compute it outside the function, or pass it as a static argument (staticArgnums)',
      );
    }
    return this.real.read(handle.real, dtype, offset, size);
  }

  free(handle: TraceHandle, dtype: DType): void {
    if (this.slots[handle.id].state !== 'input') this.real.free?.(handle.real, dtype);
  }

  /** A placeholder for input `index`, backed by `value` (packed: contiguous, whole buffer). */
  input(value: NDArray): NDArray {
    this.pendingInput = value.storage.handle;
    const placeholder = NDArray.uninitialized(this, value.dtype, value.shape);
    this.pendingInput = null;
    const id = (placeholder.storage.handle as TraceHandle).id;
    const slot = this.slots[id];
    slot.shape = [...value.shape];
    slot.inputIndex = this.inputIds.length;
    this.inputIds.push(id);
    return placeholder;
  }

  /** Marks `key` (a fresh object per call) as key argument number `index` of the traced call. */
  keyArgument(key: object): void {
    this.keyIds.set(key, this.keyIds.size);
  }

  /** Records a host computation from traced keys (see `traceKeyed` in @tsgrad/tensor); undefined for keys that are not traced. */
  traceKeyed<K extends object, R>(keys: readonly K[], compute: (keys: readonly K[]) => R): R | undefined {
    const ids = keys.map((k) => this.keyIds.get(k));
    if (ids.every((id) => id === undefined)) return undefined;
    if (ids.some((id) => id === undefined)) {
      throw new ValueError('jit', 'cannot combine a key argument with a key the traced function closes over');
    }
    const result = inUserCode(() => withBackend(this.real, () => compute(keys)));
    const step = { keys: ids as number[], compute: compute as HostStep['compute'] };
    if (result instanceof NDArray) {
      this.hostSteps.push({ ...step, yields: 'array' });
      this.hostArrays.push(result);
      return this.input(result) as R;
    }
    this.hostSteps.push({ ...step, yields: 'keys' });
    for (const k of Array.isArray(result) ? result : [result]) this.keyIds.set(k as object, this.keyIds.size);
    return result;
  }

  /** A constant holding `value`'s elements (an array from outside the trace). */
  constant(value: NDArray): NDArray {
    return NDArray.fromTyped(this, value.dtype, value.shape, value.toTypedArray());
  }

  /** An array the traced function closes over becomes a constant of the graph (as in JAX). */
  adopt(array: NDArray): NDArray {
    let constant = this.adopted.get(array);
    if (constant === undefined) {
      constant = this.constant(array);
      this.adopted.set(array, constant);
    }
    return constant;
  }

  private recordingKernel(primitive: Primitive) {
    const kernel = this.real.kernels[primitive] as AnyKernel;
    return (outputs: readonly View<TraceHandle>[], inputs: readonly View<TraceHandle>[], params: unknown) => {
      for (const o of outputs) {
        const slot = this.slots[o.handle.id];
        slot.state = 'equation';
        slot.shape = o.shape;
        slot.producer = primitive;
      }
      this.equations.push({
        primitive,
        params,
        inputs: inputs.map(refOf),
        outputs: outputs.map((o) => o.handle.id),
      });
      kernel(outputs.map(realView), inputs.map(realView), params);
    };
  }

  /** The graph from the inputs to `outputs` (arrays on this recorder). */
  graph(outputs: readonly NDArray[]): Graph {
    const buffers = this.slots.map((slot, id): BufferInfo => {
      const { dtype, size, shape } = slot;
      if (slot.state === 'input')
        return { id, dtype, size, shape, source: { kind: 'input', index: slot.inputIndex } };
      if (slot.state === 'equation') return { id, dtype, size, shape, source: { kind: 'equation' } };
      const data = slot.data ?? allocTyped(dtype, size);
      return { id, dtype, size, shape, source: { kind: 'constant', data } };
    });
    const outputRefs = outputs.map((x) => refOf(viewOf(x)));
    return trust({
      buffers,
      inputs: [...this.inputIds],
      equations: [...this.equations],
      outputs: outputRefs,
    });
  }
}

function viewOf(x: NDArray): View<TraceHandle> {
  return {
    handle: x.storage.handle as TraceHandle,
    dtype: x.dtype,
    shape: x.shape,
    strides: x.strides,
    offset: x.offset,
  };
}

/** The view as the graph records it (an array's shape and strides are never changed, so they are shared). */
function refOf(v: View<TraceHandle>): ViewRef {
  return { buffer: v.handle.id, shape: v.shape, strides: v.strides, offset: v.offset };
}

function realView(v: View<TraceHandle>): View<unknown> {
  return { handle: v.handle.real, dtype: v.dtype, shape: v.shape, strides: v.strides, offset: v.offset };
}
