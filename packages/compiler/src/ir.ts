import { type DType, type FusedProgram, type Primitive, TsgradError, type TypedArray } from '@tsgrad/tensor';

// The IR: a flat list of primitive equations over buffers, like a jaxpr. Every buffer is
// written once (SSA): by the caller (an input), at compile time (a constant) or by exactly
// one equation. Movement ops (reshape, transpose, broadcast, slice…) are not equations: an
// equation reads its inputs through strided views, as the kernels do, so a chain of
// reshapes is already folded into one view.

/** A graph broke one of the compiler's own invariants (a bug in a pass or the tracer, not in user code). */
export class GraphInvariantError extends TsgradError {}

/** Where a buffer's contents come from. */
export type BufferSource =
  | { readonly kind: 'input'; readonly index: number }
  | { readonly kind: 'constant'; readonly data: TypedArray }
  | { readonly kind: 'equation' };

/** One buffer of a graph: written once, by an equation, or given (an input or a constant). */
export interface BufferInfo {
  /** Its index in `Graph.buffers`. */
  readonly id: number;
  /** The element type. */
  readonly dtype: DType;
  /** The shape the buffer was made with (a constant's is [size]). Buffers are contiguous. */
  readonly shape: readonly number[];
  /** The number of elements. */
  readonly size: number;
  /** Where its contents come from. */
  readonly source: BufferSource;
}

/** An equation's view of a buffer: shape, strides and offset in elements, as a kernel sees it. */
export interface ViewRef {
  /** The id of the buffer viewed. */
  readonly buffer: number;
  /** The size of each axis of the view. */
  readonly shape: readonly number[];
  /** The step, in elements, along each axis (0 on a broadcast axis). */
  readonly strides: readonly number[];
  /** The position of the view's first element in the buffer. */
  readonly offset: number;
}

/** One primitive call of a graph: its inputs as views, its parameters, the buffers it writes. */
export interface Equation {
  /** The primitive called. */
  readonly primitive: Primitive;
  /** Its parameters, as the primitive's kernel takes them. */
  readonly params: unknown;
  /** The views of the buffers it reads. */
  readonly inputs: readonly ViewRef[];
  /** Buffers written by the equation, whole and contiguous. */
  readonly outputs: readonly number[];
}

/** The IR: a flat list of primitive equations over buffers, with the inputs and outputs (like a jaxpr). */
export interface Graph {
  /** Indexed by buffer id. Passes may leave unused entries; `buffers[id].id === id`. */
  readonly buffers: readonly BufferInfo[];
  /** Input buffer ids, in argument order. */
  readonly inputs: readonly number[];
  /** The equations, in an order where every buffer is written before it is read. */
  readonly equations: readonly Equation[];
  /** The views of the results, in the order the function returns them. */
  readonly outputs: readonly ViewRef[];
}

/**
 * A fused elementwise kernel, made by the fusion pass (passes/fuse.ts) in the compile
 * pipeline only: `makeGraph` and the other passes see primitive equations alone.
 */
export interface FusedEquation {
  /** Always 'fused': what tells it from a primitive equation. */
  readonly primitive: 'fused';
  /** The program the backend's fused kernel runs. */
  readonly params: FusedProgram;
  /** The views of the buffers it reads, in the program's input order. */
  readonly inputs: readonly ViewRef[];
  /** The buffers it writes (the chain's results that the rest of the plan reads). */
  readonly outputs: readonly number[];
}

/** An equation of a compiled plan: a primitive equation or a fused one. */
export type PlanEquation = Equation | FusedEquation;

/** A graph as the executor runs it: primitive equations and fused ones. */
export interface PlanGraph extends Omit<Graph, 'equations'> {
  /** The equations, in an order where every buffer is written before it is read. */
  readonly equations: readonly PlanEquation[];
}

/** Whether two shapes (or stride lists) are equal, element for element. */
export function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether `v` reads its whole buffer in order, as a buffer of `v.shape`. */
export function readsWhole(v: ViewRef, buffer: BufferInfo): boolean {
  if (v.offset !== 0 || v.shape.reduce((n, d) => n * d, 1) !== buffer.size) return false;
  let stride = 1;
  for (let d = v.shape.length - 1; d >= 0; d--) {
    if (v.shape[d] !== 1 && v.strides[d] !== stride) return false;
    stride *= v.shape[d];
  }
  return true;
}
