import {
  array,
  type BatchingBackend,
  checkOptions,
  type DType,
  DTypeError,
  describe,
  NDArray,
  type NestedArray,
  ShapeError,
  ValueError,
} from '@tsgrad/tensor';
import { creationSite } from './creation-site.js';
import { adoptArray, type Frame, keepArray, type Owned } from './lifetime.js';
import { isAnomalyEnabled } from './mode.js';

// The differentiable tensor and the tape node that produced it: the two refer to each other,
// so they live in one module, below the ops. The methods that call ops or the tape (`x.add(y)`,
// `x.backward()`) are attached in methods.ts.

/** A hook on a tensor's gradient (`registerHook`): it sees the gradient and may return a replacement. */
export type GradHook = (grad: Tensor) => Tensor | undefined;

/** Options of `backward`. */
export interface BackwardOptions {
  /** Keep the saved tensors so backward can run through this graph again (default: createGraph). */
  readonly retainGraph?: boolean;
  /** Record the backward pass itself, so the gradients can be differentiated again. */
  readonly createGraph?: boolean;
}

/** A number or boolean is accepted wherever a tensor is, as a weak scalar (see dtype promotion). */
export type TensorLike = Tensor | number | boolean;

/**
 * The differentiable tensor. It wraps an NDArray `value` and, when it requires grad, the tape
 * node that produced it. Ops are functions (`add(x, y)`) and, for the common ones, methods
 * (`x.add(y)`), with PyTorch semantics for `requiresGrad`, `grad`, `backward` and friends.
 */
export class Tensor implements Owned {
  /** The tape node that produced this tensor; null for leaves and constants. */
  node: Node | null = null;
  /** Which output of its tape node this tensor is (ops may have several outputs). */
  readonly outputIndex: number;
  /** Where user code created this tensor (recorded in anomaly mode). */
  readonly createdAt: string | undefined;
  /** @internal The library frame this tensor belongs to while it is the library's (lifetime.ts). */
  frame: Frame | null = null;
  /** @internal How many tape nodes save this tensor for their backward rule. */
  saves = 0;
  /** @internal The library is done with this tensor: it is freed when `saves` drops to 0. */
  released = false;
  /** @internal Its place among the outputs of ops, in the order they were made (0: not an op's output). */
  opSerial = 0;
  private _value: NDArray;
  /** Whether no one but this tensor holds `_value`: it may be freed when replaced. */
  private valueIsPrivate: boolean;
  private _grad: Tensor | null = null;
  /** Whether `_grad` was made by backward and never read through `grad`. */
  private gradIsPrivate = false;
  private _requiresGrad: boolean;
  private _version = 0;
  private tangents: Map<number, Tensor> | undefined;
  private leafHooks: GradHook[] | undefined;

  /**
   * Wraps `value`. An array the library just made (inside a library frame) becomes this
   * tensor's own; any other stays the caller's as well.
   */
  constructor(value: NDArray, options: { requiresGrad?: boolean; outputIndex?: number } = {}) {
    if (!(value instanceof NDArray))
      throw new ValueError('Tensor', `expected an NDArray, got ${describe(value)}`);
    checkOptions('Tensor', options);
    this._value = value;
    this.valueIsPrivate = adoptArray(this, value);
    this._requiresGrad = options.requiresGrad ?? false;
    this.outputIndex = options.outputIndex ?? 0;
    this.createdAt = isAnomalyEnabled() ? creationSite() : undefined;
  }

  /**
   * The raw array. Library authors use it in forward rules; users rarely need it. An array
   * read here is never freed by the library (e.g. when an optimizer step replaces it).
   */
  get value(): NDArray {
    this.valueIsPrivate = false;
    return this._value;
  }

  /** @internal The raw array for library code that does not keep it past the current call. */
  peekValue(): NDArray {
    return this._value;
  }

  /**
   * The gradient accumulated by backward (leaves, and non-leaves that `retainGrad`), or null.
   * A gradient read here is never freed by the library (e.g. by `zeroGrad`).
   */
  get grad(): Tensor | null {
    this.gradIsPrivate = false;
    return this._grad;
  }

  set grad(g: Tensor | null) {
    this.replaceGrad(g, false);
  }

  /** @internal The gradient for library code that does not keep it past the current call. */
  peekGrad(): Tensor | null {
    return this._grad;
  }

  /**
   * @internal Sets the gradient; `isPrivate` says no one else holds `g`. The gradient it
   * replaces is freed if no one but this tensor ever held it.
   */
  replaceGrad(g: Tensor | null, isPrivate: boolean): void {
    const previous = this._grad;
    const previousIsPrivate = this.gradIsPrivate;
    this._grad = g;
    this.gradIsPrivate = isPrivate && g !== null;
    if (previous !== null && previous !== g && previousIsPrivate) previous.dispose();
  }

  /** The size of each axis. */
  get shape(): readonly number[] {
    return this._value.shape;
  }

  /** The element type. */
  get dtype(): DType {
    return this._value.dtype;
  }

  /** The number of axes (0 for a scalar). */
  get ndim(): number {
    return this._value.ndim;
  }

  /** The number of elements. */
  get size(): number {
    return this._value.size;
  }

  get requiresGrad(): boolean {
    return this._requiresGrad;
  }

  /** Only leaves can change it, as in PyTorch. */
  set requiresGrad(flag: boolean) {
    if (typeof flag !== 'boolean')
      throw new ValueError('requiresGrad', `expected a boolean, got ${typeof flag}`);
    if (this.node !== null) {
      throw new ValueError(
        'requiresGrad',
        'requiresGrad can only be changed on leaf tensors; use detach() for a non-leaf',
      );
    }
    if (flag && this.dtype !== 'float32' && this.dtype !== 'float64') {
      throw new DTypeError('requiresGrad', `only floating-point tensors can require grad, got ${this.dtype}`);
    }
    this._requiresGrad = flag;
  }

  /**
   * How many times the value was changed in place (`assign`, optimizer steps). Backward
   * refuses a tensor a tape node saved whose version has changed since (as PyTorch does).
   */
  get version(): number {
    return this._version;
  }

  /** A leaf is a tensor not produced by a recorded op: gradients accumulate in its `.grad`. */
  get isLeaf(): boolean {
    return this.node === null;
  }

  /** @internal Connects an op's output to its tape node. */
  attach(node: Node): void {
    this.node = node;
  }

  /**
   * Replaces the data in place (e.g. an optimizer step), keeping identity, grad and
   * requiresGrad, and bumps `version`. The new value (a tensor, an array or nested JS arrays)
   * must have the same shape; nested arrays take this tensor's dtype, arrays must have it.
   * The tensor keeps its own view of it (the caller may dispose `value`) and frees its
   * previous value unless someone else may hold it.
   */
  assign(value: NDArray | Tensor | NestedArray): this {
    const next = assignedArray(value, this.dtype);
    if (next.dtype !== this.dtype) {
      throw new DTypeError('assign', `expected ${this.dtype}, got ${next.dtype}`);
    }
    if (next.shape.length !== this.shape.length || next.shape.some((d, i) => d !== this.shape[i])) {
      throw new ShapeError(
        'assign',
        `expected shape [${this.shape.join(',')}], got [${next.shape.join(',')}]`,
      );
    }
    this.replaceValue(next);
    // An array made here from nested JS arrays lives on in the view only.
    if (next !== value && !(value instanceof Tensor)) next.dispose();
    return this;
  }

  /**
   * Replaces a leaf's value by an array of any dtype and shape (torch's `tensor.data = …`, what
   * `Module.to` uses), keeping identity, grad and requiresGrad.
   */
  setData(value: NDArray): this {
    if (this.node !== null) throw new ValueError('setData', 'only a leaf tensor can have its data replaced');
    if (this._requiresGrad && value.dtype !== 'float32' && value.dtype !== 'float64') {
      throw new DTypeError(
        'setData',
        `a tensor that requires grad must stay floating-point, got ${value.dtype}`,
      );
    }
    return this.replaceValue(value);
  }

  /** Holds its own view of `next`, freeing the previous value unless someone else may hold it. */
  private replaceValue(next: NDArray): this {
    const previous = this._value;
    const previousIsPrivate = this.valueIsPrivate;
    this._value = NDArray.view(next, next.shape, next.strides, next.offset, 'assign');
    keepArray(this._value);
    this.valueIsPrivate = true;
    this._version++;
    if (previousIsPrivate) previous.dispose();
    return this;
  }

  /** @internal */
  tangentAt(level: number): Tensor | undefined {
    return this.tangents?.get(level);
  }

  /** @internal */
  setTangent(level: number, tangent: Tensor): void {
    this.tangents ??= new Map();
    this.tangents.set(level, tangent);
  }

  /** A new tensor sharing this one's data, cut from the graph (never requires grad). */
  detach(): Tensor {
    const v = this._value;
    const t = new Tensor(NDArray.view(v, v.shape, v.strides, v.offset, 'detach'));
    t.valueIsPrivate = true;
    return t;
  }

  /** Sets `.grad` to null (PyTorch's default `set_to_none`). */
  zeroGrad(): void {
    this.grad = null;
  }

  /**
   * Registers a hook called with this tensor's gradient during backward; returning a tensor
   * replaces the gradient. Returns a handle whose `remove()` unregisters it.
   */
  registerHook(hook: GradHook): { remove(): void } {
    if (typeof hook !== 'function')
      throw new ValueError('registerHook', `expected a function, got ${typeof hook}`);
    if (!this._requiresGrad) throw new ValueError('registerHook', 'the tensor does not require grad');
    if (this.node === null) this.leafHooks ??= [];
    const list = this.node === null ? (this.leafHooks as GradHook[]) : this.node.hooksOf(this.outputIndex);
    list.push(hook);
    return {
      remove: () => {
        const at = list.indexOf(hook);
        if (at >= 0) list.splice(at, 1);
      },
    };
  }

  /** @internal Hooks of a leaf tensor. */
  get hooks(): readonly GradHook[] {
    return this.leafHooks ?? [];
  }

  /** The value of a one-element tensor as a JS number (boolean for bool); throws a `ValueError` otherwise. */
  item(): number | boolean {
    return this._value.item();
  }

  /** The values as nested JS arrays (a number for a scalar). */
  toArray(): NestedArray {
    return this._value.toArray();
  }

  /**
   * Computes the value now if the backend deferred it (NDArray's `realize`; the wasm backend
   * runs large elementwise ops when their result is needed) and returns this tensor. Only
   * timing code needs it, as JAX's `block_until_ready`.
   */
  realize(): this {
    this._value.realize();
    return this;
  }

  /** A row-major copy of the values in a typed array of the tensor's dtype. */
  toTypedArray(): ReturnType<NDArray['toTypedArray']> {
    return this._value.toTypedArray();
  }

  toString(): string {
    const text = this._value.toString().replace(/^NDArray/, 'Tensor');
    const extra =
      this.node !== null ? `, gradFn=${this.node.op.name}` : this._requiresGrad ? ', requiresGrad=true' : '';
    return extra ? text.replace(/\)$/, `${extra})`) : text;
  }

  /** Frees the data now instead of waiting for the garbage collector. */
  dispose(): void {
    this._value.dispose();
  }

  /** Frees the data at the end of a `using` block. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}

/** What a VJP or JVP rule sees of the forward call. */
export interface OpContext<P> {
  /** The inputs (present when the op declares `save.inputs`, else empty). */
  readonly inputs: readonly Tensor[];
  /** The outputs (present when the op declares `save.outputs`, else empty). */
  readonly outputs: readonly Tensor[];
  /** The op's params for this call. */
  readonly params: P;
  /** Which inputs need a gradient; a rule may skip the others (return null). */
  readonly needsInputGrad: readonly boolean[];
}

/** What the tape keeps of the op a node applied: its OpDefinition (op.ts) seen from backward. */
export interface TapeOp {
  readonly name: string;
  vjp(ctx: OpContext<unknown>, gradOutputs: readonly Tensor[]): readonly (Tensor | null)[];
}

/** A gradient edge: where an input's gradient flows in backward. */
export type Edge = { readonly node: Node; readonly index: number } | { readonly leaf: Tensor } | null;

/** What a node without hooks on an output gives for it (shared, never changed). */
const NO_HOOKS: readonly GradHook[] = [];

/** A recorded op application in the tape. */
export class Node {
  /** Set to null when backward has consumed the saved tensors (unless retainGraph). */
  context: OpContext<unknown> | null;
  /** Gradient hooks per output slot, made on the first registration (few nodes have any). */
  private hooks: GradHook[][] | null = null;

  constructor(
    readonly op: TapeOp,
    readonly edges: readonly Edge[],
    readonly inputShapes: readonly (readonly number[])[],
    readonly inputDtypes: readonly string[],
    readonly outputMeta: readonly { readonly shape: readonly number[]; readonly dtype: DType }[],
    context: OpContext<unknown>,
    readonly createdAt: string | undefined,
    /** The versions of the saved inputs and outputs when the op ran (versions.ts). */
    readonly savedVersions: readonly number[],
    /** The vmap levels of each input (`batchLevels`): its gradient is summed over others that ended. */
    readonly inputLevels: readonly (readonly BatchingBackend[])[] = [],
  ) {
    this.context = context;
  }

  /** The hooks of output `slot`, for registering one. */
  hooksOf(slot: number): GradHook[] {
    this.hooks ??= this.outputMeta.map(() => []);
    return this.hooks[slot];
  }

  /** The hooks of output `slot` (none if never registered). */
  hooksAt(slot: number): readonly GradHook[] {
    return this.hooks?.[slot] ?? NO_HOOKS;
  }
}

/** What `assign` copies from: the array of a tensor, an array, or nested JS arrays as `dtype`. */
function assignedArray(value: NDArray | Tensor | NestedArray, dtype: DType): NDArray {
  if (value instanceof Tensor) return value.peekValue();
  if (value instanceof NDArray) return value;
  if (typeof value === 'number' || typeof value === 'boolean' || Array.isArray(value)) {
    return array(value, { dtype });
  }
  throw new ValueError('assign', `expected a Tensor, an NDArray or nested arrays, got ${describe(value)}`);
}
