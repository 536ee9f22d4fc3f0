import { inUserCode } from '@tsgrad/autograd';
import {
  type AnyKernel,
  allocTyped,
  type Backend,
  contiguousStrides,
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
import type { BufferInfo, BufferSource, Equation, Graph, ViewRef } from './graph.js';

// Tracing: a backend that records every kernel call as an equation. Every primitive passes
// through `runPrimitive` with its output shapes already inferred, so running a function on
// this backend yields the graph of whatever it computes, forward and backward alike. Kernels
// do not run while recording (most of a trace's time went to running them on real buffers):
// the library's checks of values (index ranges, class targets, see `checkValues`) are the only
// reads of traced values, and a read runs the equations it depends on then, on the real backend.

/**
 * A traced value was read on the host inside a jitted function (`item()`, `toArray()`, or
 * control flow on values): its value differs from call to call.
 */
export class TracerReadError extends TsgradError {}

/** A buffer of the trace: its id in the graph. */
export interface TraceHandle {
  readonly id: number;
}

/** What the recorder knows of a buffer; it is the buffer's handle too (one object per buffer). */
interface Slot extends TraceHandle {
  readonly dtype: DType;
  readonly size: number;
  /** The shape an equation wrote it in (null: [size]). */
  shape: readonly number[] | null;
  /** 'fresh': allocated, not written yet (an empty buffer stays so). */
  state: 'input' | 'zeros' | 'data' | 'fresh' | 'equation';
  inputIndex: number;
  data: TypedArray | null;
  /** The index of the equation that wrote it (-1: none). */
  equation: number;
  /** Its value on the real backend: an input's buffer, or made when a check reads it (null: not made). */
  real: unknown;
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
  /** Its arrays are symbols: the library frees nothing it makes while tracing. */
  readonly symbolic = true;
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
    const slot: Slot = {
      id: this.slots.length,
      dtype,
      size,
      shape: null,
      state,
      inputIndex: -1,
      data: null,
      equation: -1,
      real,
    };
    this.slots.push(slot);
    return slot;
  }

  alloc(dtype: DType, size: number): TraceHandle {
    return this.newHandle(dtype, size, 'zeros', null);
  }

  allocUninitialized(dtype: DType, size: number): TraceHandle {
    const real = this.pendingInput;
    this.pendingInput = null;
    return this.newHandle(dtype, size, real === null ? 'fresh' : 'input', real);
  }

  write(handle: TraceHandle, _dtype: DType, data: TypedArray): void {
    const slot = this.slots[handle.id];
    slot.state = 'data';
    slot.data = data.slice();
  }

  read(handle: TraceHandle, dtype: DType, offset: number, size: number): TypedArray {
    const slot = this.slots[handle.id];
    const traced = slot.state === 'input' || slot.state === 'equation';
    // Checks of values (index ranges…) may look at the traced call's; nothing else may.
    if (traced && !isCheckingValues()) {
      const method = readMethod();
      const what =
        slot.state === 'input'
          ? `input ${slot.inputIndex}`
          : `the result of ${this.equations[slot.equation].primitive}`;
      throw new TracerReadError(
        method,
        `cannot read the value of a traced array (${what}) inside a jitted function: its value changes from call to call. ` +
          'Compute it outside the function, or pass it as a static argument (staticArgnums)',
      );
    }
    if (!traced) return (slot.data ?? allocTyped(dtype, slot.size)).slice(offset, offset + size);
    this.materialize(handle.id);
    return this.real.read(slot.real, dtype, offset, size);
  }

  // No `free`: without it, arrays on this backend are not tracked by the storage's
  // FinalizationRegistry (registering every traced array took about a third of a trace).
  // What the recorder holds on the real backend is what checked reads made; `close` frees it.

  /** Frees the real buffers the trace's checked reads made; call it once the trace is done. */
  close(): void {
    for (const slot of this.slots) {
      if (slot.real === null || slot.state === 'input') continue;
      this.real.free?.(slot.real, slot.dtype);
      slot.real = null;
    }
  }

  /**
   * Gives slot `id`, and the slots it is computed from, their values on the real backend, by
   * running the equations that write them (iteratively: a chain may be 100,000 equations long).
   */
  private materialize(id: number): void {
    const stack = [id];
    while (stack.length > 0) {
      const slot = this.slots[stack[stack.length - 1]];
      if (slot.real !== null) {
        stack.pop();
        continue;
      }
      if (slot.state !== 'equation') {
        slot.real = this.real.alloc(slot.dtype, slot.size);
        if (slot.data !== null) this.real.write(slot.real, slot.dtype, slot.data);
        stack.pop();
        continue;
      }
      const eq = this.equations[slot.equation];
      const missing = eq.inputs.filter((v) => this.slots[v.buffer].real === null);
      if (missing.length > 0) {
        for (const v of missing) stack.push(v.buffer);
        continue;
      }
      for (const out of eq.outputs) {
        const o = this.slots[out];
        o.real = this.real.allocUninitialized?.(o.dtype, o.size) ?? this.real.alloc(o.dtype, o.size);
      }
      const kernel = this.real.kernels[eq.primitive] as AnyKernel;
      kernel(
        eq.outputs.map((out) =>
          this.realView(out, shapeOf(this.slots[out]), contiguousStrides(shapeOf(this.slots[out])), 0),
        ),
        eq.inputs.map((v) => this.realView(v.buffer, v.shape, v.strides, v.offset)),
        eq.params,
      );
      stack.pop();
    }
  }

  private realView(
    id: number,
    shape: readonly number[],
    strides: readonly number[],
    offset: number,
  ): View<unknown> {
    const { real, dtype } = this.slots[id];
    return { handle: real, dtype, shape, strides, offset };
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
      // Made outside the library frames: the frame of the op reading it first would free it
      // when it closed, and every later read gets it from the cache.
      constant = inUserCode(() => this.constant(array));
      this.adopted.set(array, constant);
    }
    return constant;
  }

  private recordingKernel(primitive: Primitive) {
    return (outputs: readonly View<TraceHandle>[], inputs: readonly View<TraceHandle>[], params: unknown) => {
      // Plain loops: this records every op of the traced function.
      const ids = new Array<number>(outputs.length);
      for (let j = 0; j < outputs.length; j++) ids[j] = this.written(outputs[j].handle.id, outputs[j].shape);
      const refs = new Array<ViewRef>(inputs.length);
      for (let j = 0; j < inputs.length; j++) refs[j] = refOf(inputs[j]);
      this.equations.push({ primitive, params, inputs: refs, outputs: ids });
    };
  }

  /** What `runPrimitive` calls instead of a kernel: the equation made from the arrays themselves. */
  record(
    primitive: Primitive,
    outputs: readonly NDArray[],
    inputs: readonly NDArray[],
    params: unknown,
  ): void {
    const ids = new Array<number>(outputs.length);
    for (let j = 0; j < outputs.length; j++)
      ids[j] = this.written((outputs[j].storage.handle as TraceHandle).id, outputs[j].shape);
    const refs = new Array<ViewRef>(inputs.length);
    for (let j = 0; j < inputs.length; j++) refs[j] = refOfArray(inputs[j]);
    this.equations.push({ primitive, params, inputs: refs, outputs: ids });
  }

  /** Marks slot `id` as written, in `shape`, by the equation about to be recorded; returns the id. */
  private written(id: number, shape: readonly number[]): number {
    const slot = this.slots[id];
    slot.state = 'equation';
    slot.shape = shape;
    slot.equation = this.equations.length;
    return id;
  }

  /** The graph from the inputs to `outputs` (arrays on this recorder). */
  graph(outputs: readonly NDArray[]): Graph {
    const buffers = this.slots.map((slot, id): BufferInfo => {
      const { dtype, size } = slot;
      const shape = shapeOf(slot);
      if (slot.state === 'input')
        return { id, dtype, size, shape, source: { kind: 'input', index: slot.inputIndex } };
      if (slot.state === 'equation') return { id, dtype, size, shape, source: EQUATION_SOURCE };
      const data = slot.data ?? allocTyped(dtype, size);
      return { id, dtype, size, shape, source: { kind: 'constant', data } };
    });
    const outputRefs = outputs.map(refOfArray);
    return trust({
      buffers,
      inputs: [...this.inputIds],
      equations: [...this.equations],
      outputs: outputRefs,
    });
  }
}

/** The source of every buffer an equation writes (one object for all of them). */
const EQUATION_SOURCE: BufferSource = Object.freeze({ kind: 'equation' });

const shapeOf = (slot: Slot): readonly number[] => slot.shape ?? [slot.size];

/** The view as the graph records it (an array's shape and strides are never changed, so they are shared). */
function refOf(v: View<TraceHandle>): ViewRef {
  return { buffer: v.handle.id, shape: v.shape, strides: v.strides, offset: v.offset };
}

/** The view `x` is, as the graph records it. */
function refOfArray(x: NDArray): ViewRef {
  return {
    buffer: (x.storage.handle as TraceHandle).id,
    shape: x.shape,
    strides: x.strides,
    offset: x.offset,
  };
}
