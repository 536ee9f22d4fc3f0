import type { DType, NDArray, NestedArray } from '@tsgrad/tensor';
import { creationSite } from './anomaly.js';
import { backward } from './engine.js';
import { isAnomalyEnabled } from './mode.js';
import type { Node } from './op.js';
import * as F from './ops/index.js';

export type GradHook = (grad: Tensor) => Tensor | undefined;

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
  grad: Tensor | null = null;
  /** The tape node that produced this tensor; null for leaves and constants. */
  node: Node | null = null;
  readonly outputIndex: number;
  /** Where user code created this tensor (recorded in anomaly mode). */
  readonly createdAt: string | undefined;
  private _value: NDArray;
  private _requiresGrad: boolean;
  private tangents: Map<number, Tensor> | undefined;
  private leafHooks: GradHook[] | undefined;

  constructor(value: NDArray, options: { requiresGrad?: boolean; outputIndex?: number } = {}) {
    this._value = value;
    this._requiresGrad = options.requiresGrad ?? false;
    this.outputIndex = options.outputIndex ?? 0;
    this.createdAt = isAnomalyEnabled() ? creationSite() : undefined;
  }

  /** The raw array. Library authors use it in forward rules; users rarely need it. */
  get value(): NDArray {
    return this._value;
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
    if (this.node !== null) {
      throw new Error('requiresGrad can only be changed on leaf tensors; use detach() for a non-leaf');
    }
    if (flag && this.dtype !== 'float32' && this.dtype !== 'float64') {
      throw new Error(`only floating-point tensors can require grad, got ${this.dtype}`);
    }
    this._requiresGrad = flag;
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
   * requiresGrad. The new value must have the same shape and dtype.
   */
  assign(value: NDArray | Tensor): this {
    const next = value instanceof Tensor ? value.value : value;
    if (next.dtype !== this.dtype || next.shape.length !== this.shape.length || next.shape.some((d, i) => d !== this.shape[i])) {
      throw new Error(
        `assign: expected ${this.dtype} [${this.shape.join(',')}], got ${next.dtype} [${next.shape.join(',')}]`,
      );
    }
    this._value = next;
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
    return new Tensor(this._value);
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
    if (!this._requiresGrad) throw new Error('registerHook: the tensor does not require grad');
    const list = this.node === null ? (this.leafHooks ??= []) : this.node.hooks[this.outputIndex];
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
    const extra = this.node !== null ? `, gradFn=${this.node.op.name}` : this._requiresGrad ? ', requiresGrad=true' : '';
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
