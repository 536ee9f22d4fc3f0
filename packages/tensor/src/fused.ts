import type { DType } from './dtype.js';
import type { BinaryPrimitive, UnaryPrimitive, View } from './primitives.js';

/** The elementwise primitives a fused kernel can compute. */
export type FusedOp = UnaryPrimitive | BinaryPrimitive | 'where' | 'cast';

/**
 * One value of a fused program, computed per element: an input view's element, a scalar
 * constant, or a primitive applied to earlier values. Bool values are 0 or 1.
 */
export type FusedStep =
  | { readonly kind: 'input'; readonly input: number; readonly dtype: DType }
  | { readonly kind: 'constant'; readonly value: number; readonly dtype: DType }
  | { readonly kind: 'op'; readonly op: FusedOp; readonly args: readonly number[]; readonly dtype: DType };

/**
 * An elementwise kernel built by the compiler's fusion pass: `steps` in order (each refers to
 * earlier ones by index), and which steps are written out. Every output is contiguous, of
 * one shape; every input is a view of that shape (broadcast or strided). Each step's result
 * is rounded to its dtype, as the unfused kernels would store it.
 */
export interface FusedProgram {
  /** The steps, in order; a step reads inputs and earlier steps by index. */
  readonly steps: readonly FusedStep[];
  /** The indices of the steps written out, one per output buffer. */
  readonly outputs: readonly number[];
}

/** A backend's fused kernels (optional: without them the compiler does not fuse). */
export interface FusedKernels<H = unknown> {
  /** Whether `prepare` can run this program (the compiler fuses nothing it refuses). */
  supports(program: FusedProgram): boolean;
  /** A call of the program over these views, run many times; handles may change between runs. */
  prepare(program: FusedProgram, outputs: readonly View<H>[], inputs: readonly View<H>[]): () => void;
}
