import {
  array,
  checkOptions,
  type DType,
  DTypeError,
  describe,
  NDArray,
  type NestedArray,
  ShapeError,
  ValueError,
} from '@tsgrad/tensor';
import { creationSite } from './anomaly.js';
import { backward } from './engine.js';
import { adoptArray, type Frame, recordArray } from './lifetime.js';
import { isAnomalyEnabled } from './mode.js';
import type { Node } from './op.js';
import * as F from './ops/index.js';

export type GradHook = (grad: Tensor) => Tensor | undefined;

/** The parameters of an op function after its first (the tensor a method is called on). */
type Rest<Fn> = Fn extends (first: never, ...rest: infer R) => unknown ? R : never;

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
export class Tensor {
  /** The tape node that produced this tensor; null for leaves and constants. */
  node: Node | null = null;
  readonly outputIndex: number;
  /** Where user code created this tensor (recorded in anomaly mode). */
  readonly createdAt: string | undefined;
  /** @internal The library frame this tensor belongs to while it is the library's (lifetime.ts). */
  frame: Frame | null = null;
  /** @internal How many tape nodes save this tensor for their backward rule. */
  saves = 0;
  /** @internal The library is done with this tensor: it is freed when `saves` drops to 0. */
  released = false;
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

  get shape(): readonly number[] {
    return this._value.shape;
  }

  get dtype(): DType {
    return this._value.dtype;
  }

  get ndim(): number {
    return this._value.ndim;
  }

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
    const previous = this._value;
    const previousIsPrivate = this.valueIsPrivate;
    this._value = NDArray.view(next, next.shape, next.strides, next.offset, 'assign');
    this.valueIsPrivate = true;
    this._version++;
    // An array made here from nested JS arrays lives on in the view only.
    if (next !== value && !(value instanceof Tensor)) next.dispose();
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

  /**
   * Computes gradients of this tensor with respect to every leaf that requires grad and adds
   * them to the leaves' `.grad`. `gradOutput` defaults to 1 for a single-element tensor.
   */
  backward(gradOutput?: Tensor, options: BackwardOptions = {}): void {
    backward([this], [gradOutput], options);
  }

  /** A new tensor sharing this one's data, cut from the graph (never requires grad). */
  detach(): Tensor {
    const v = this._value;
    const t = new Tensor(recordArray(NDArray.view(v, v.shape, v.strides, v.offset, 'detach')));
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
    const list = this.node === null ? (this.leafHooks as GradHook[]) : this.node.hooks[this.outputIndex];
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

  /** Keeps the gradient of a non-leaf tensor in `.grad` after backward (like PyTorch). */
  retainGrad(): void {
    if (this.node === null) return;
    this.registerHook((g) => {
      this.grad = this.grad === null ? g : F.add(this.grad, g);
      return undefined;
    });
  }

  // ---- chaining: each method is the op function of the same name with this tensor first ----

  add(...a: Rest<typeof F.add>) {
    return F.add(this, ...a);
  }
  sub(...a: Rest<typeof F.sub>) {
    return F.sub(this, ...a);
  }
  mul(...a: Rest<typeof F.mul>) {
    return F.mul(this, ...a);
  }
  div(...a: Rest<typeof F.div>) {
    return F.div(this, ...a);
  }
  pow(...a: Rest<typeof F.pow>) {
    return F.pow(this, ...a);
  }
  mod(...a: Rest<typeof F.mod>) {
    return F.mod(this, ...a);
  }
  maximum(...a: Rest<typeof F.maximum>) {
    return F.maximum(this, ...a);
  }
  minimum(...a: Rest<typeof F.minimum>) {
    return F.minimum(this, ...a);
  }
  eq(...a: Rest<typeof F.eq>) {
    return F.eq(this, ...a);
  }
  ne(...a: Rest<typeof F.ne>) {
    return F.ne(this, ...a);
  }
  lt(...a: Rest<typeof F.lt>) {
    return F.lt(this, ...a);
  }
  le(...a: Rest<typeof F.le>) {
    return F.le(this, ...a);
  }
  gt(...a: Rest<typeof F.gt>) {
    return F.gt(this, ...a);
  }
  ge(...a: Rest<typeof F.ge>) {
    return F.ge(this, ...a);
  }
  neg() {
    return F.neg(this);
  }
  abs() {
    return F.abs(this);
  }
  sign() {
    return F.sign(this);
  }
  exp() {
    return F.exp(this);
  }
  log() {
    return F.log(this);
  }
  log1p() {
    return F.log1p(this);
  }
  expm1() {
    return F.expm1(this);
  }
  sin() {
    return F.sin(this);
  }
  cos() {
    return F.cos(this);
  }
  tanh() {
    return F.tanh(this);
  }
  sqrt() {
    return F.sqrt(this);
  }
  rsqrt() {
    return F.rsqrt(this);
  }
  square() {
    return F.square(this);
  }
  reciprocal() {
    return F.reciprocal(this);
  }
  erf() {
    return F.erf(this);
  }
  floor() {
    return F.floor(this);
  }
  ceil() {
    return F.ceil(this);
  }
  round() {
    return F.round(this);
  }
  relu() {
    return F.relu(this);
  }
  sigmoid() {
    return F.sigmoid(this);
  }
  clamp(...a: Rest<typeof F.clamp>) {
    return F.clamp(this, ...a);
  }
  softmax(...a: Rest<typeof F.softmax>) {
    return F.softmax(this, ...a);
  }
  logSoftmax(...a: Rest<typeof F.logSoftmax>) {
    return F.logSoftmax(this, ...a);
  }
  sum(...a: Rest<typeof F.sum>) {
    return F.sum(this, ...a);
  }
  mean(...a: Rest<typeof F.mean>) {
    return F.mean(this, ...a);
  }
  prod(...a: Rest<typeof F.prod>) {
    return F.prod(this, ...a);
  }
  max(...a: Rest<typeof F.max>) {
    return F.max(this, ...a);
  }
  min(...a: Rest<typeof F.min>) {
    return F.min(this, ...a);
  }
  argmax(...a: Rest<typeof F.argmax>) {
    return F.argmax(this, ...a);
  }
  argmin(...a: Rest<typeof F.argmin>) {
    return F.argmin(this, ...a);
  }
  var(...a: Rest<typeof F.variance>) {
    return F.variance(this, ...a);
  }
  std(...a: Rest<typeof F.std>) {
    return F.std(this, ...a);
  }
  norm(...a: Rest<typeof F.norm>) {
    return F.norm(this, ...a);
  }
  logsumexp(...a: Rest<typeof F.logsumexp>) {
    return F.logsumexp(this, ...a);
  }
  cumsum(...a: Rest<typeof F.cumsum>) {
    return F.cumsum(this, ...a);
  }
  cumprod(...a: Rest<typeof F.cumprod>) {
    return F.cumprod(this, ...a);
  }
  matmul(...a: Rest<typeof F.matmul>) {
    return F.matmul(this, ...a);
  }
  reshape(...a: Rest<typeof F.reshape>) {
    return F.reshape(this, ...a);
  }
  permute(...a: Rest<typeof F.permute>) {
    return F.permute(this, ...a);
  }
  transpose(...a: Rest<typeof F.transpose>) {
    return F.transpose(this, ...a);
  }
  expand(...a: Rest<typeof F.expand>) {
    return F.expand(this, ...a);
  }
  broadcastTo(...a: Rest<typeof F.broadcastTo>) {
    return F.broadcastTo(this, ...a);
  }
  squeeze(...a: Rest<typeof F.squeeze>) {
    return F.squeeze(this, ...a);
  }
  unsqueeze(...a: Rest<typeof F.unsqueeze>) {
    return F.unsqueeze(this, ...a);
  }
  flatten(...a: Rest<typeof F.flatten>) {
    return F.flatten(this, ...a);
  }
  slice(...a: Rest<typeof F.slice>) {
    return F.slice(this, ...a);
  }
  flip(...a: Rest<typeof F.flip>) {
    return F.flip(this, ...a);
  }
  gather(...a: Rest<typeof F.gather>) {
    return F.gather(this, ...a);
  }
  indexSelect(...a: Rest<typeof F.indexSelect>) {
    return F.indexSelect(this, ...a);
  }
  /** Converts to another dtype (differentiable between float dtypes). */
  to(dtype: DType) {
    return F.cast(this, dtype);
  }

  item(): number | boolean {
    return this._value.item();
  }

  toArray(): NestedArray {
    return this._value.toArray();
  }

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

  [Symbol.dispose](): void {
    this.dispose();
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
