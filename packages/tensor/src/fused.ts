import type { DType } from './dtype.js';
import type { BinaryPrimitive, UnaryPrimitive, View } from './primitives.js';

/** The elementwise primitives a fused kernel can compute. */
export type FusedOp = UnaryPrimitive | BinaryPrimitive | 'where' | 'cast';

/** The reductions a fused kernel can compute (over the program's `reduce.axes`). */
export type FusedReduceOp = 'sum' | 'prod' | 'max' | 'min';

/**
 * One value of a fused program: an input view's element (`row`: an input of the reduced
 * shape), a scalar constant, a primitive applied to earlier values, or a reduction of an
 * earlier value over the program's reduced axes. Bool values are 0 or 1.
 */
export type FusedStep =
  | { readonly kind: 'input'; readonly input: number; readonly dtype: DType; readonly row?: boolean }
  | { readonly kind: 'constant'; readonly value: number; readonly dtype: DType }
  | { readonly kind: 'op'; readonly op: FusedOp; readonly args: readonly number[]; readonly dtype: DType }
  | { readonly kind: 'reduce'; readonly op: FusedReduceOp; readonly arg: number; readonly dtype: DType };

/**
 * A kernel built by the compiler's fusion pass: `steps` in order (each refers to earlier ones
 * by index), and which steps are written out. Each step's result is rounded to its dtype, as
 * the unfused kernels would store it.
 *
 * Without `reduce`, every step is elementwise: every output is contiguous, of one shape, and
 * every input is a view of that shape (broadcast or strided). With `reduce`, each step lives
 * in one of two domains (see `fusedDomains`): the element shape `reduce.shape`, or the row
 * shape (`reduce.shape` without `reduce.axes`, what a reduce step gives). An element step may
 * read row values (broadcast along the reduced axes), a row step only row values. Outputs
 * are contiguous of their step's domain; inputs are views of their step's domain.
 */
export interface FusedProgram {
  /** The steps, in order; a step reads inputs and earlier steps by index. */
  readonly steps: readonly FusedStep[];
  /** The indices of the steps written out, one per output buffer. */
  readonly outputs: readonly number[];
  /** With reduce steps: the element shape and the axes (sorted, distinct, not empty) they reduce. */
  readonly reduce?: { readonly shape: readonly number[]; readonly axes: readonly number[] };
}

/** The domain of a fused program's value: per element, per row (reduced), or either (a constant). */
export const FusedDomain = { element: 0, row: 1, any: 2 } as const;
const { element: ELEMENT, row: ROW, any: ANY } = FusedDomain;

/**
 * Each step's domain and pass. A step is a row value if it is a reduction, a row input, or an
 * op whose arguments are all row values or constants; an element value otherwise. Its pass is
 * the sweep over the reduced axes it is computed in: 0, or one more than the last reduction
 * it depends on (a row value's pass is the first sweep that can read it). Returns null for a
 * program that is not well formed (a reduction of a row value, an argument read before it is
 * computed).
 */
export function fusedDomains(program: FusedProgram): { domain: Uint8Array; pass: Int32Array } | null {
  const steps: unknown = (program as Partial<FusedProgram> | null)?.steps;
  if (!Array.isArray(steps) || !steps.every((s) => typeof s === 'object' && s !== null)) return null;
  const domain = new Uint8Array(steps.length);
  const pass = new Int32Array(steps.length);
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i];
    if (s.kind === 'input') domain[i] = s.row ? ROW : ELEMENT;
    else if (s.kind === 'constant') domain[i] = ANY;
    else if (s.kind === 'reduce') {
      if (!(s.arg >= 0 && s.arg < i) || domain[s.arg] === ROW || program.reduce === undefined) return null;
      domain[i] = ROW;
      pass[i] = pass[s.arg] + 1;
    } else if (s.kind === 'op' && Array.isArray(s.args)) {
      let d: number = ANY;
      for (const a of s.args) {
        if (!(a >= 0 && a < i)) return null;
        if (domain[a] === ELEMENT) d = ELEMENT;
        else if (domain[a] === ROW && d === ANY) d = ROW;
        pass[i] = Math.max(pass[i], pass[a]);
      }
      domain[i] = d;
    } else return null;
  }
  return { domain, pass };
}

/** A backend's fused kernels (optional: without them the compiler does not fuse). */
export interface FusedKernels<H = unknown> {
  /** Whether `prepare` can run this program (the compiler fuses nothing it refuses). */
  supports(program: FusedProgram): boolean;
  /** A call of the program over these views, run many times; handles may change between runs. */
  prepare(program: FusedProgram, outputs: readonly View<H>[], inputs: readonly View<H>[]): () => void;
  /**
   * Runs the program once over these views (what a deferred expression does when it is
   * materialised, see lazy.ts): no plan is kept, so nothing is allocated per call beyond what
   * a new program or layout compiles.
   */
  run?(program: FusedProgram, outputs: readonly View<H>[], inputs: readonly View<H>[]): void;
}
