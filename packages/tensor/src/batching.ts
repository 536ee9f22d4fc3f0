import type { Backend } from './backend.js';
import { BATCH_RULES, type Physical } from './batch-rules.js';
import { checkArray, checkArrayList, checkInteger } from './check.js';
import {
  depthOf,
  getBackend,
  isTracingBackend,
  runPrimitive,
  type TracingBackend,
  withBackend,
} from './dispatch.js';
import { allocTyped, type DType, type TypedArray } from './dtype.js';
import { describe, TsgradError, ValueError } from './errors.js';
import { NDArray, setArrayCreatedHook } from './ndarray.js';
import type { KernelTable, Primitive, View } from './primitives.js';
import { isCheckingValues } from './tracing.js';

// vmap as a backend. Inside `vmap` every array lives on a BatchingBackend: its shape is the
// *logical* shape (one example), and its buffer holds either one example (unbatched: the
// same for every batch element) or all of them (batched: a contiguous [B, N] array on the
// backend below). Views (reshape, permute, slice) stay views: a logical view with strides s
// and offset o of a batched buffer is the physical view [B, ...shape] with strides [N, ...s].
// Every kernel call is rewritten by its primitive's batching rule (batch-rules.ts) into
// kernel calls on the backend below. Everything above the primitives — ops, their VJP and
// JVP rules, composites, layers — therefore batches without a rule of its own. Nested vmap
// stacks these backends. After `vmap` returns, its arrays keep working if a computation
// outside recorded through it (a reverse pass over a vmapped function runs its recorded rules
// later); otherwise vmap closes the level, freeing all of them at once.

/** A batched value was read on the host inside `vmap`: it has one value per batch element. */
export class BatchedReadError extends TsgradError {}

/** A buffer of the batching backend. */
export interface BatchHandle {
  /** [B, ...] contiguous when batched, one example otherwise; null: zeros, not made yet. */
  physical: NDArray | null;
  /** Whether it holds one value per batch element (else one value shared by all). */
  batched: boolean;
  /** The element type. */
  readonly dtype: DType;
  /** The number of elements of one example. */
  readonly size: number;
}

let nextLevel = 1;
/** Above any recorder's (1). */
let nextRank = 2;

/** One `vmap` level: the arrays of a function mapped over `size` batch elements. */
export class BatchingBackend implements TracingBackend {
  readonly name: string;
  readonly dtypes: readonly DType[];
  readonly kernels: KernelTable<BatchHandle>;
  /**
   * Its rank for `runPrimitive`: an op mixing arrays of several levels runs on the highest,
   * which takes in the others. Levels rank in the order they were made, so a level's buffers
   * only ever hold arrays of lower ones (also when a reverse pass runs the rules a finished
   * vmap recorded inside a newer one, as jacrev(jacrev(f)) does).
   */
  readonly depth: number;
  /** Whether its vmap call is running (set by vmap): a reverse pass keeps gradients per example. */
  active = false;
  /** The buffers made on this level while its vmap runs, for `close`; null once it returned. */
  private made: BatchHandle[] | null = [];
  private closed = false;
  private pending: { readonly physical: NDArray; readonly batched: boolean } | null = null;
  private readonly adopted = new WeakMap<NDArray, NDArray>();

  constructor(
    /** The backend the batched arrays live on (the real one, or an outer level). */
    readonly below: Backend,
    /** The batch size. */
    readonly size: number,
  ) {
    if (
      typeof below !== 'object' ||
      below === null ||
      typeof below.kernels !== 'object' ||
      below.kernels === null
    ) {
      throw new ValueError('BatchingBackend', `expected the backend below, got ${describe(below)}`);
    }
    if (checkInteger('BatchingBackend', 'size', size) < 0) {
      throw new ValueError('BatchingBackend', `the batch size must be non-negative, got ${size}`);
    }
    this.name = `vmap${nextLevel++}(${below.name})`;
    this.dtypes = below.dtypes;
    this.depth = Math.max(depthOf(below) + 1, nextRank++);
    const table: Record<string, unknown> = {};
    for (const name of Object.keys(below.kernels) as Primitive[]) table[name] = this.batchingKernel(name);
    this.kernels = table as unknown as KernelTable<BatchHandle>;
  }

  /**
   * A level over the arrays `inputs` will use: on the deepest tracing backend among them and
   * the current one (an outer vmap, a jit trace), else on the backend of the first input.
   */
  static over(inputs: readonly NDArray[], size: number): BatchingBackend {
    checkArrayList('vmap', inputs);
    let below = getBackend();
    if (!isTracingBackend(below) && inputs.length > 0) below = inputs[0].backend;
    for (const x of inputs) if (depthOf(x.backend) > depthOf(below)) below = x.backend;
    return new BatchingBackend(below, size);
  }

  alloc(dtype: DType, size: number): BatchHandle {
    return this.track({ physical: null, batched: false, dtype, size });
  }

  allocUninitialized(dtype: DType, size: number): BatchHandle {
    const pending = this.pending;
    this.pending = null;
    return this.track({
      physical: pending?.physical ?? null,
      batched: pending?.batched ?? false,
      dtype,
      size,
    });
  }

  /**
   * vmap returned and nothing outside recorded through it (no tape node or tangent reaches its
   * arrays): frees the buffers of every array made on the level at once, instead of leaving
   * them to the garbage collector. Its results outside are views that keep their own buffers.
   * An array of the level used afterwards (one that escaped f) throws.
   */
  close(): void {
    this.closed = true;
    for (const handle of this.made ?? []) this.free(handle);
    this.made = null;
  }

  /**
   * vmap returned, and a computation outside may still run ops on the level (a reverse pass
   * over its results): its arrays are freed one by one, as they die.
   */
  keep(): void {
    this.made = null;
  }

  write(handle: BatchHandle, dtype: DType, data: TypedArray): void {
    this.assertOpen('write');
    const full = data.length === handle.size ? data : padded(data, dtype, handle.size);
    this.replace(
      handle,
      this.untracked(() => NDArray.fromTyped(this.below, dtype, [handle.size], full)),
      false,
    );
  }

  read(handle: BatchHandle, dtype: DType, offset: number, size: number): TypedArray {
    this.assertOpen('read');
    // Checks of values (index ranges, class targets) see the first batch element's.
    if (handle.batched && !isCheckingValues()) {
      throw new BatchedReadError(
        'read',
        `cannot read the value of an array batched by vmap (${this.size} values per element) inside the mapped function; ` +
          'return it from the function instead',
      );
    }
    if (handle.physical === null) return allocTyped(dtype, size);
    const { backend, handle: real } = handle.physical.storage;
    return backend.read(real, dtype, handle.physical.offset + offset, size);
  }

  free(handle: BatchHandle): void {
    handle.physical?.dispose();
    handle.physical = null;
  }

  /** An array of an outer level (or of the backend below) used inside: the same for every element. */
  adopt(x: NDArray): NDArray {
    const known = this.adopted.get(x);
    if (known !== undefined && !known.isDisposed) return known;
    // The view as the backend below holds it: a trace below takes x in as a constant of its
    // own layout (a contiguous copy), so x's strides and offset no longer apply.
    let layout: Pick<NDArray, 'shape' | 'strides' | 'offset'> = x;
    const whole = this.untracked(() => {
      const below = this.toBelow(x);
      layout = below;
      return NDArray.view(below, [below.storage.size], [1], 0, 'vmap');
    });
    const adopted = this.untracked(() => {
      const placeholder = this.withPending(whole, false, () =>
        NDArray.uninitialized(this, x.dtype, [whole.size]),
      );
      const view = NDArray.view(placeholder, layout.shape, layout.strides, layout.offset, 'vmap');
      placeholder.dispose();
      return view;
    });
    this.adopted.set(x, adopted);
    return adopted;
  }

  /** The logical array whose batch elements are the rows of `physical` ([B, ...shape]). */
  batch(physical: NDArray): NDArray {
    this.assertOpen('vmap');
    if (physical.shape[0] !== this.size) {
      throw new ValueError(
        'vmap',
        `expected ${this.size} batch elements, got shape [${physical.shape.join(',')}]`,
      );
    }
    const own = this.untracked(() => {
      const below = this.toBelow(physical);
      return below.isContiguous
        ? NDArray.view(below, below.shape, below.strides, below.offset)
        : contiguousCopy(below);
    });
    return this.withPending(own, true, () =>
      NDArray.uninitialized(this, physical.dtype, physical.shape.slice(1)),
    );
  }

  /** The batch elements of `x` as one array [B, ...x.shape] on the backend below (a view). */
  unbatch(x: NDArray): NDArray {
    this.assertOpen('vmap');
    if (x.backend !== this) {
      const row = NDArray.view(x, [1, ...x.shape], [0, ...x.strides], x.offset, 'vmap');
      const out = NDArray.view(row, [this.size, ...x.shape], [0, ...x.strides], x.offset, 'vmap');
      row.dispose();
      return out;
    }
    const handle = x.storage.handle as BatchHandle;
    return this.physicalView(handle, x, true);
  }

  /** Whether `x` (an array of this level) differs between batch elements. */
  isBatched(x: NDArray): boolean {
    return x.backend === this && (x.storage.handle as BatchHandle).batched;
  }

  private track(handle: BatchHandle): BatchHandle {
    this.assertOpen('alloc');
    this.made?.push(handle);
    return handle;
  }

  private assertOpen(op: string): void {
    if (this.closed) {
      throw new ValueError(
        op,
        'this array belongs to a vmap call that has returned (it escaped the mapped function); return it from the function instead',
      );
    }
  }

  private withPending(physical: NDArray, batched: boolean, make: () => NDArray): NDArray {
    this.pending = { physical, batched };
    try {
      return make();
    } finally {
      this.pending = null;
    }
  }

  /**
   * `x` as a physical value: arrays of lower levels stay as they are; a tracing backend below
   * takes in the arrays of backends it sits above (a jit trace makes them constants).
   */
  private toBelow(x: NDArray): NDArray {
    if (x.backend !== this.below && depthOf(x.backend) < depthOf(this.below)) {
      return (this.below as TracingBackend).adopt(x);
    }
    return x;
  }

  private replace(handle: BatchHandle, physical: NDArray, batched: boolean): void {
    handle.physical?.dispose();
    handle.physical = physical;
    handle.batched = batched;
  }

  /** The physical view of a logical view: [B, ...shape] if batched (or `expand`), else shape. */
  private physicalView(
    handle: BatchHandle,
    v: Pick<View<unknown>, 'shape' | 'strides' | 'offset'>,
    expand: boolean,
  ) {
    if (handle.physical === null) {
      const zeros = this.untracked(() => NDArray.empty(this.below, handle.dtype, [handle.size], 'vmap'));
      this.replace(handle, zeros, false);
    }
    const p = handle.physical as NDArray;
    const offset = p.offset + v.offset;
    if (handle.batched)
      return NDArray.view(p, [this.size, ...v.shape], [handle.size, ...v.strides], offset, 'vmap');
    if (expand) return NDArray.view(p, [this.size, ...v.shape], [0, ...v.strides], offset, 'vmap');
    return NDArray.view(p, v.shape, v.strides, offset, 'vmap');
  }

  /**
   * Runs `fn` on the backend below, where the arrays it makes are not the caller's (no
   * library frame records them): those it does not return are disposed.
   */
  private untracked<R extends NDArray | readonly NDArray[]>(fn: () => R): R {
    const made: NDArray[] = [];
    const previous = setArrayCreatedHook((a) => {
      made.push(a);
    });
    let result: R;
    try {
      result = withBackend(this.below, fn);
    } finally {
      setArrayCreatedHook(previous);
    }
    const kept: readonly NDArray[] = Array.isArray(result) ? result : [result as NDArray];
    for (const a of made) if (!kept.includes(a)) a.dispose();
    return result;
  }

  private batchingKernel(primitive: Primitive) {
    const rule = BATCH_RULES[primitive] as (
      inputs: readonly Physical[],
      params: unknown,
      outputs: readonly { shape: readonly number[]; dtype: DType }[],
      size: number,
    ) => NDArray[];
    return (outputs: readonly View<BatchHandle>[], inputs: readonly View<BatchHandle>[], params: unknown) => {
      this.assertOpen(primitive);
      const batched = inputs.some((v) => v.handle.batched);
      const results = this.untracked(() => {
        const specs = outputs.map((o) => ({ shape: o.shape, dtype: o.dtype }));
        if (!batched) {
          // One example for all: the primitive below, on the same views.
          const ins = inputs.map((v) => this.physicalView(v.handle, v, false));
          return runPrimitive(primitive, ins, params as never, specs);
        }
        const ins = inputs.map((v) => ({
          x: this.physicalView(v.handle, v, false),
          batched: v.handle.batched,
        }));
        return rule(ins, params, specs, this.size).map((r) => (r.isContiguous ? r : contiguousCopy(r)));
      });
      outputs.forEach((o, i) => {
        this.replace(o.handle, results[i], batched);
      });
    };
  }
}

function contiguousCopy(x: NDArray): NDArray {
  return runPrimitive('copy', [x], {}, [{ shape: x.shape, dtype: x.dtype }])[0];
}

function padded(data: TypedArray, dtype: DType, size: number): TypedArray {
  const out = allocTyped(dtype, size);
  out.set(data.subarray(0, size) as never);
  return out;
}

const NO_LEVELS: readonly BatchingBackend[] = [];

/** The vmap levels `x` belongs to, newest first: its backend's and those inside its buffers. */
export function batchLevels(x: NDArray): readonly BatchingBackend[] {
  checkArray('batchLevels', x);
  if (!(x.backend instanceof BatchingBackend)) return NO_LEVELS;
  const found: BatchingBackend[] = [];
  let at: NDArray | null = x;
  while (at !== null && at.backend instanceof BatchingBackend) {
    found.push(at.backend);
    at = (at.storage.handle as BatchHandle).physical;
  }
  return found;
}
