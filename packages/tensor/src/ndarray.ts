import type { Backend } from './backend.js';
import { allocTyped, type DType, type TypedArray } from './dtype.js';
import { describe, ValueError } from './errors.js';
import { formatNDArray } from './format.js';
import { checkAllocation, contiguousStrides, isContiguous, type Shape, sizeOf } from './shape.js';
import { type Pending, Storage } from './storage.js';

// Symbol.dispose, declared as TypeScript's esnext.disposable lib and @types/node declare it.
// NDArray and the autograd Tensor implement it, so our declaration files name it; with this
// declaration in them they type-check in projects compiled with the default `lib`, which lacks
// it. The declarations are identical, so they merge with the lib's where a project has it.
declare global {
  interface SymbolConstructor {
    readonly dispose: unique symbol;
  }
}

/** A nested JS array of numbers or booleans, as `toArray()` returns it. */
export type NestedArray = number | boolean | NestedArray[];

/** Called with every new array: its primitive outputs, views, copies and uploads alike. */
export type ArrayCreatedHook = (array: NDArray) => void;

let arrayCreated: ArrayCreatedHook | undefined;

/**
 * Installs the function called with every new NDArray (or removes it with `undefined`);
 * returns the previous one. For libraries that own what their code allocates: autograd
 * records the arrays made inside a library call, to free those it does not return. It runs
 * on every op, so it must be cheap.
 */
export function setArrayCreatedHook(hook: ArrayCreatedHook | undefined): ArrayCreatedHook | undefined {
  if (hook !== undefined && typeof hook !== 'function')
    throw new ValueError('setArrayCreatedHook', `expected a function or undefined, got ${describe(hook)}`);
  const previous = arrayCreated;
  arrayCreated = hook;
  return previous;
}

/**
 * An n-dimensional array: a strided view of a backend buffer. Not differentiable: this is the
 * raw value the autograd `Tensor` wraps. Movement ops (reshape, permute, expand, slice, flip)
 * return views that share the buffer; every other op returns a new contiguous array.
 */
export class NDArray {
  /** The number of elements (the product of the shape; 1 for a scalar). */
  readonly size: number;
  /** The element type. */
  readonly dtype: DType;
  /** The backend that owns the buffer. */
  readonly backend: Backend;
  private disposed = false;

  private constructor(
    /** The reference-counted backend buffer this view reads. */
    readonly storage: Storage,
    /** The size of each axis. */
    readonly shape: readonly number[],
    /** The step, in elements, between neighbours along each axis (0 on a broadcast axis). */
    readonly strides: readonly number[],
    /** The position, in elements, of the first element in the buffer. */
    readonly offset: number,
    size = sizeOf(shape),
  ) {
    this.size = size;
    // Fields, not getters of the storage: every op reads them several times.
    this.dtype = storage.dtype;
    this.backend = storage.backend;
    storage.retain();
    arrayCreated?.(this);
  }

  /** A new contiguous, zero-filled array on `backend`; `op` names the caller in a size error. */
  static empty(backend: Backend, dtype: DType, shape: Shape, op = 'empty'): NDArray {
    const size = checkAllocation(op, shape, dtype);
    const storage = new Storage(backend, backend.alloc(dtype, size), dtype, size);
    return new NDArray(storage, [...shape], contiguousStrides(shape), 0, size);
  }

  /** A new contiguous array whose contents the caller overwrites (a kernel output). */
  static uninitialized(backend: Backend, dtype: DType, shape: Shape, op = 'empty'): NDArray {
    if (!backend.allocUninitialized) return NDArray.empty(backend, dtype, shape, op);
    const size = checkAllocation(op, shape, dtype);
    const storage = new Storage(backend, backend.allocUninitialized(dtype, size), dtype, size);
    return new NDArray(storage, [...shape], contiguousStrides(shape), 0, size);
  }

  /** A new contiguous array holding a copy of `data` (whose length must match `shape`). */
  static fromTyped(backend: Backend, dtype: DType, shape: Shape, data: TypedArray): NDArray {
    if (data.length !== sizeOf(shape)) {
      throw new ValueError('array', `${data.length} values cannot fill shape [${shape.join(',')}]`);
    }
    const out = NDArray.uninitialized(backend, dtype, shape);
    backend.write(out.storage.handle, dtype, data);
    return out;
  }

  /**
   * A new contiguous array whose value `pending` computes the first time its buffer is needed
   * (a deferred elementwise expression, lazy.ts).
   */
  static pending(backend: Backend, dtype: DType, shape: Shape, pending: Pending): NDArray {
    const size = sizeOf(shape);
    const storage = new Storage(backend, undefined, dtype, size, pending);
    return new NDArray(storage, [...shape], contiguousStrides(shape), 0, size);
  }

  /** Another view of the same storage; `op` names the view op in the error for a disposed base. */
  static view(base: NDArray, shape: Shape, strides: readonly number[], offset: number, op = 'view'): NDArray {
    base.assertLive(op);
    return new NDArray(base.storage, [...shape], [...strides], offset);
  }

  /** The number of axes (0 for a scalar). */
  get ndim(): number {
    return this.shape.length;
  }

  /** Whether the elements lie in row-major order with no gaps (the offset may be non-zero). */
  get isContiguous(): boolean {
    return isContiguous(this.shape, this.strides);
  }

  /** Whether {@link NDArray.dispose} has been called on this view. */
  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Throws a `ValueError` naming `op` if this view has been disposed. */
  assertLive(op: string): void {
    if (this.disposed) throw new ValueError(op, 'the array has been disposed');
  }

  /** Releases this view; the buffer is freed once no view uses it. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.storage.release();
  }

  /** Disposes the view at the end of a `using` block. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /**
   * Computes the value now if it is still pending (eager elementwise ops on some backends are
   * deferred until their result is needed, then run as one fused kernel) and returns this
   * array. Nothing needs it for correctness: every read computes what it reads. It is for
   * timing code, like JAX's `block_until_ready`.
   */
  realize(): this {
    this.assertLive('realize');
    void this.storage.handle;
    return this;
  }

  /** The elements in row-major order, as a new host typed array. */
  toTypedArray(): TypedArray {
    this.assertLive('toTypedArray');
    checkAllocation('toTypedArray', this.shape, this.dtype);
    const { backend, handle } = this.storage;
    if (this.size === 0) return allocTyped(this.dtype, 0);
    if (this.isContiguous) return backend.read(handle, this.dtype, this.offset, this.size);
    let lo = this.offset;
    let hi = this.offset;
    for (let i = 0; i < this.ndim; i++) {
      const reach = (this.shape[i] - 1) * this.strides[i];
      if (reach < 0) lo += reach;
      else hi += reach;
    }
    const span = backend.read(handle, this.dtype, lo, hi - lo + 1);
    const out = allocTyped(this.dtype, this.size);
    const index = new Array<number>(this.ndim).fill(0);
    let at = this.offset - lo;
    for (let i = 0; i < this.size; i++) {
      out[i] = span[at];
      for (let d = this.ndim - 1; d >= 0; d--) {
        at += this.strides[d];
        if (++index[d] < this.shape[d]) break;
        at -= this.strides[d] * this.shape[d];
        index[d] = 0;
      }
    }
    return out;
  }

  /** The elements as nested JS arrays (booleans for bool arrays), like `tolist()`. */
  toArray(): NestedArray {
    const data = this.toTypedArray();
    const isBool = this.dtype === 'bool';
    const build = (axis: number, start: number): NestedArray => {
      if (axis === this.ndim) return isBool ? data[start] !== 0 : data[start];
      const step = sizeOf(this.shape.slice(axis + 1));
      return Array.from({ length: this.shape[axis] }, (_, i) => build(axis + 1, start + i * step));
    };
    return build(0, 0);
  }

  /** The single element of a size-1 array. */
  item(): number | boolean {
    if (this.size !== 1) {
      throw new ValueError(
        'item',
        `only an array of one element can be read as a scalar, got shape [${this.shape.join(',')}]`,
      );
    }
    const value = this.toTypedArray()[0];
    return this.dtype === 'bool' ? value !== 0 : value;
  }

  /** A printed form like PyTorch's (`formatNDArray`), with the dtype. */
  toString(): string {
    return formatNDArray(this.shape, this.dtype, this.toTypedArray());
  }
}
