import type { Backend } from './backend.js';
import { checkInteger } from './check.js';
import type { DType } from './dtype.js';
import { ValueError } from './errors.js';
import type { FusedKernels, FusedOp, FusedProgram, FusedStep } from './fused.js';
import { NDArray } from './ndarray.js';
import { BINARY_PRIMITIVES, type Primitive, UNARY_PRIMITIVES, type View } from './primitives.js';
import { contiguousStrides, sizeOf } from './shape.js';
import type { Pending, Storage } from './storage.js';

// Deferred eager elementwise ops. On a backend with `deferElementwise`, a large elementwise
// primitive returns a pending array: its storage holds an expression (op, dtype, arguments)
// instead of a buffer. A pending input viewed whole is inlined into the new expression, so
// y = exp(x)·x + 1 becomes one expression of three steps; the first read of the storage's
// handle builds one FusedProgram from it and runs the backend's fused kernel once. Dropped
// intermediates then never get a buffer at all, which is what makes code that never calls
// `dispose` as fast as code that does: without it, each intermediate's buffer waits for the
// garbage collector and every new one is cold in the cache.

/** The primitives an expression can hold (what a FusedProgram's op steps express). */
const DEFERRABLE: ReadonlySet<Primitive> = new Set<Primitive>([
  ...UNARY_PRIMITIVES,
  ...BINARY_PRIMITIVES,
  'where',
  'cast',
]);

/**
 * Outputs smaller than this run at once. Below ~2^15 elements the kernel takes a few
 * microseconds, the JS work of an expression (and the kernel lookup at materialisation) as much.
 */
const DEFAULT_THRESHOLD = 2 ** 15;
let threshold = DEFAULT_THRESHOLD;

/** The bounds of one expression: past them its pending inputs are computed rather than inlined. */
const MAX_STEPS = 32;
const MAX_INPUTS = 8;

/**
 * Sets the number of output elements from which an elementwise op is deferred on a backend
 * that defers (the wasm backend; default 2^15 = 32768); returns the previous value. 1 defers
 * every non-empty op, `Infinity` none. For tests and tuning.
 */
export function setDeferThreshold(elements: number): number {
  if (elements !== Number.POSITIVE_INFINITY) checkInteger('setDeferThreshold', 'elements', elements);
  if (!(elements >= 1))
    throw new ValueError('setDeferThreshold', `elements must be at least 1, got ${elements}`);
  const previous = threshold;
  threshold = elements;
  return previous;
}

/** A materialised input an expression reads: a view of a buffer it keeps alive. */
class Leaf {
  constructor(
    readonly storage: Storage,
    readonly strides: readonly number[],
    readonly offset: number,
  ) {
    storage.retain();
    storage.pendingReaders++;
  }

  release(): void {
    this.storage.pendingReaders--;
    this.storage.release();
  }

  /** Whether `other` reads the same elements (one input of the program, not two). */
  sameAs(other: Leaf): boolean {
    return (
      other.storage === this.storage &&
      other.offset === this.offset &&
      other.strides.every((s, i) => s === this.strides[i])
    );
  }
}

/** The fused kernels of a backend that defers. */
type Deferring = Backend & { readonly fused: FusedKernels & Required<Pick<FusedKernels, 'run'>> };

/**
 * An elementwise expression over leaves and other expressions, all of one shape. It is held
 * by its pending storage and by the expressions that inlined it (reference counted); released
 * by all, it releases its arguments.
 */
class Expr implements Pending {
  private holders = 1;
  /** Whether a consumer inlined it: a second consumer reads its computed buffer instead. */
  inlined = false;
  /** The steps of its program (an upper bound: a leaf read twice counts twice). */
  readonly steps: number;
  /** The inputs of its program (an upper bound). */
  readonly inputs: number;

  constructor(
    private readonly backend: Deferring,
    readonly op: FusedOp,
    readonly dtype: DType,
    readonly shape: readonly number[],
    readonly args: readonly (Expr | Leaf)[],
    /** The one float dtype of its program, or 'bool' (a fused kernel computes in one float type). */
    readonly float: DType,
  ) {
    let steps = 1;
    let inputs = 0;
    for (const a of args) {
      steps += a instanceof Expr ? a.steps : 1;
      inputs += a instanceof Expr ? a.inputs : 1;
    }
    this.steps = steps;
    this.inputs = inputs;
  }

  retain(): void {
    this.holders++;
  }

  release(): void {
    if (--this.holders > 0) return;
    for (const a of this.args) a.release();
  }

  compute(): unknown {
    const { program, inputs } = programOf(this);
    const { backend, dtype, shape } = this;
    const size = sizeOf(shape);
    const handle = backend.allocUninitialized?.(dtype, size) ?? backend.alloc(dtype, size);
    const output: View<unknown> = { handle, dtype, shape, strides: contiguousStrides(shape), offset: 0 };
    backend.fused.run(program, [output], inputs);
    return handle;
  }
}

/** The program of `root`'s DAG (a node or input reached twice is one step) and its input views. */
function programOf(root: Expr): { program: FusedProgram; inputs: View<unknown>[] } {
  const steps: FusedStep[] = [];
  const leaves: Leaf[] = [];
  const inputs: View<unknown>[] = [];
  const index = new Map<Expr | Leaf, number>();
  const visit = (node: Expr | Leaf): number => {
    const known = index.get(node);
    if (known !== undefined) return known;
    let at: number;
    if (node instanceof Leaf) {
      const same = leaves.findIndex((l) => l.sameAs(node));
      if (same >= 0) at = index.get(leaves[same]) as number;
      else {
        const { storage, strides, offset } = node;
        leaves.push(node);
        inputs.push({ handle: storage.handle, dtype: storage.dtype, shape: root.shape, strides, offset });
        at = steps.push({ kind: 'input', input: inputs.length - 1, dtype: storage.dtype }) - 1;
      }
    } else {
      const args = node.args.map(visit);
      at = steps.push({ kind: 'op', op: node.op, args, dtype: node.dtype }) - 1;
    }
    index.set(node, at);
    return at;
  };
  const output = visit(root);
  return { program: { steps, outputs: [output] }, inputs };
}

/** Whether each backend's fused kernels accept a primitive on given dtypes, asked once per key. */
const supportCache = new WeakMap<FusedKernels, Map<string, boolean>>();

function supports(fused: FusedKernels, op: FusedOp, inputs: readonly NDArray[], dtype: DType): boolean {
  let known = supportCache.get(fused);
  if (known === undefined) {
    known = new Map();
    supportCache.set(fused, known);
  }
  let key = `${op}:${dtype}`;
  for (const x of inputs) key += `:${x.dtype}`;
  let answer = known.get(key);
  if (answer === undefined) {
    const steps: FusedStep[] = inputs.map((x, input) => ({ kind: 'input', input, dtype: x.dtype }));
    steps.push({ kind: 'op', op, args: inputs.map((_, i) => i), dtype });
    answer = fused.supports({ steps, outputs: [inputs.length] });
    known.set(key, answer);
  }
  return answer;
}

/** The float dtype shared by `dtypes` ('bool' if none), or undefined if they mix float32 and float64. */
function floatOf(dtypes: readonly DType[]): DType | undefined {
  let float: DType = 'bool';
  for (const d of dtypes) {
    if (d === 'bool' || d === float) continue;
    if (float !== 'bool') return undefined;
    float = d;
  }
  return float;
}

/** The expression of a pending input that may be inlined: viewed whole, in its own shape, not yet inlined elsewhere. */
function inlinable(x: NDArray): Expr | undefined {
  const pending = x.storage.pending;
  if (!(pending instanceof Expr) || pending.inlined) return undefined;
  if (!(x.isContiguous && x.offset === 0 && x.storage.size === x.size)) return undefined;
  const { shape } = pending;
  return shape.length === x.shape.length && shape.every((d, i) => d === x.shape[i]) ? pending : undefined;
}

/**
 * Defers elementwise `primitive` over `inputs` (views of the output's shape, checked by the
 * caller) if `backend` defers and the output is large enough: returns the pending output, or
 * undefined to run the kernel now.
 */
export function deferElementwise(
  backend: Backend,
  primitive: Primitive,
  inputs: readonly NDArray[],
  output: { readonly shape: readonly number[]; readonly dtype: DType },
): NDArray | undefined {
  if (backend.deferElementwise !== true || backend.fused?.run === undefined || !DEFERRABLE.has(primitive))
    return undefined;
  const size = sizeOf(output.shape);
  if (size < threshold || size === 0) return undefined;
  const op = primitive as FusedOp;
  let float = floatOf([output.dtype, ...inputs.map((x) => x.dtype)]);
  if (float === undefined || !supports(backend.fused, op, inputs, output.dtype)) return undefined;
  // Which inputs to inline (an input given twice, as in x·x, is one argument), within the bounds
  // and in one float dtype.
  const inlined = inputs.map((x) => {
    const e = inlinable(x);
    const joint = e && floatOf([float as DType, e.float]);
    if (joint === undefined) return undefined;
    float = joint;
    return e;
  });
  let steps = 1;
  let reads = 0;
  inlined.forEach((e, i) => {
    if (e !== undefined && inlined.indexOf(e) < i) return;
    steps += e?.steps ?? 1;
    reads += e?.inputs ?? 1;
  });
  const withinBounds = steps <= MAX_STEPS && reads <= MAX_INPUTS;
  if (!withinBounds) float = floatOf([output.dtype, ...inputs.map((x) => x.dtype)]);
  const args = inputs.map((x, i): Expr | Leaf => {
    const e = withinBounds ? inlined[i] : undefined;
    if (e === undefined) {
      void x.storage.handle; // a pending input not inlined is computed now
      return new Leaf(x.storage, x.strides, x.offset);
    }
    e.retain();
    e.inlined = true;
    return e;
  });
  const expr = new Expr(backend as Deferring, op, output.dtype, output.shape, args, float as DType);
  return NDArray.pending(backend, output.dtype, output.shape, expr);
}
