import type { DType, TypedArray } from './dtype.js';
import type { FusedKernels } from './fused.js';
import type { KernelTable, Primitive, View } from './primitives.js';

/**
 * What a backend provides: buffers in its own memory (handles of type `H`) and a kernel for
 * every primitive. Arrays stay in the backend between ops; only `read`/`write` cross to the
 * host. Shape inference and validation happen once, in the frontend, before a kernel runs.
 */
export interface Backend<H = unknown> {
  /** A short name for messages and the bench, e.g. `'cpu'` or `'wasm'`. */
  readonly name: string;
  /** The dtypes this backend can store and compute in. */
  readonly dtypes: readonly DType[];
  /** One kernel per primitive; the mapped type makes a missing one a compile error. */
  readonly kernels: KernelTable<H>;
  /** A zero-filled buffer of `size` elements. */
  alloc(dtype: DType, size: number): H;
  /**
   * A buffer of `size` elements with unspecified contents, for kernel outputs and host
   * writes that fill every element. Backends whose fresh memory is not free to zero provide it.
   */
  allocUninitialized?(dtype: DType, size: number): H;
  /** Copies host data into the buffer, starting at element 0. */
  write(handle: H, dtype: DType, data: TypedArray): void;
  /** Copies `size` elements starting at element `offset` to a new host array. */
  read(handle: H, dtype: DType, offset: number, size: number): TypedArray;
  /** Releases a buffer. Backends whose memory the JS GC owns may omit it. */
  free?(handle: H, dtype: DType): void;
  /**
   * A kernel call prepared once and run many times (by jit's executor): the views keep their
   * shapes, strides and offsets, while their handles may change between runs. Returns
   * undefined where the backend has nothing faster than calling the kernel.
   */
  prepare?(
    primitive: Primitive,
    outputs: readonly View<H>[],
    inputs: readonly View<H>[],
    params: unknown,
  ): (() => void) | undefined;
  /**
   * Whether conv2d runs the epilogue (bias input and activation, Conv2dEpilogueParams) on
   * `dtype`. The compiler's epilogue pass rewrites conv2d → add bias → relu only where it does.
   */
  convEpilogue?(dtype: DType): boolean;
  /** Kernels for the compiler's fused elementwise programs (see FusedProgram). */
  readonly fused?: FusedKernels<H>;
  /**
   * Whether large eager elementwise ops are deferred and run fused when their result is needed
   * (lazy.ts; needs `fused.run`). Never on a tracing backend: the compiler fuses those itself.
   */
  readonly deferElementwise?: boolean;
}
