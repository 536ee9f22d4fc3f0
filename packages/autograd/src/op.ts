import {
  type BatchingBackend,
  batchLevels,
  type DType,
  isFloat,
  type NDArray,
  ValueError,
  view,
} from '@tsgrad/tensor';
import { checkFinite } from './anomaly.js';
import { forwardByLoop } from './batch-loop.js';
import { checkTensorList } from './check.js';
import { creationSite } from './creation-site.js';
import { inLibrary, noteSaved } from './lifetime.js';
import { isAnomalyEnabled, isGradEnabled } from './mode.js';
import type { OpSpec } from './spec.js';
import { type Edge, Node, type OpContext, Tensor } from './tensor.js';
import { savedVersions } from './versions.js';

/**
 * One differentiable op. `forward` computes on raw arrays; `vjp` and `jvp` are written with
 * differentiable ops (never raw kernels), so their results can be differentiated again.
 */
export interface OpDefinition<P = Record<string, never>> {
  /** The op's name, used in errors, the tape (`gradFn`) and the conformance report. */
  readonly name: string;
  /** Computes the outputs from the raw input arrays with `@tsgrad/tensor` functions. */
  readonly forward: (inputs: readonly NDArray[], params: P) => NDArray | readonly NDArray[];
  /**
   * Input gradients from output gradients (one per output; zeros stand in for outputs that
   * got none). A gradient may have a broadcast shape: the tape sums it to the input's shape.
   * Return null for inputs that need no gradient or are not differentiable.
   */
  readonly vjp: (ctx: OpContext<P>, gradOutputs: readonly Tensor[]) => readonly (Tensor | null)[];
  /**
   * Output tangents from input tangents (zeros stand in for inputs without one). Optional:
   * without it forward mode derives the JVP from `vjp` by the double-VJP trick.
   */
  readonly jvp?: (ctx: OpContext<P>, tangents: readonly Tensor[]) => readonly Tensor[];
  /**
   * Under vmap every op batches through its primitives' batching rules. An op whose forward
   * computes on the host (reads values) cannot: `batch: { loop: why }` makes vmap run its
   * forward once per batch element instead (slow; the conformance report lists it).
   */
  readonly batch?: { readonly loop: string };
  /** What the rules need kept alive until backward (default: inputs only). */
  readonly save?: { readonly inputs?: boolean; readonly outputs?: boolean };
  /** The test spec the conformance harness checks the op with; required. */
  readonly spec: OpSpec<P>;
}

/** An op made by `defineOp`: call `apply` with tensors and params. */
export interface Op<P> {
  /** The definition the op was made from. */
  readonly definition: OpDefinition<P>;
  /** Runs the op on `inputs`, recording it on the tape when an input requires grad; returns every output. */
  apply(inputs: readonly Tensor[], params: P): Tensor[];
}

function edgeOf(x: Tensor): Edge {
  if (!x.requiresGrad) return null;
  return x.node === null ? { leaf: x } : { node: x.node, index: x.outputIndex };
}

/** Options of `defineOp`. */
export interface DefineOpOptions {
  /**
   * Whether the op joins the registry that the conformance harness checks (default true).
   * Pass false only for ops that are not part of a library's op set: ops made per call by
   * `customVjp` and `checkpoint` (checked by their users' own tests), or a test's
   * deliberately wrong op.
   */
  readonly register?: boolean;
}

/** Every op defined with `register` (the default), built-in and user-defined. */
const registry: Op<unknown>[] = [];

/** Every op defined so far, built-in and user-defined: what the conformance harness checks. */
export function registeredOps(): readonly Op<unknown>[] {
  return registry;
}

/**
 * Defines a differentiable op and registers it (with its spec) for the conformance harness.
 * This is the one way ops enter tsgrad, built-in or added by a library author.
 */
export function defineOp<P = Record<string, never>>(
  definition: OpDefinition<P>,
  options: DefineOpOptions = {},
): Op<P> {
  const d = definition as Partial<OpDefinition<P>> | null;
  if (
    typeof d !== 'object' ||
    d === null ||
    typeof d.name !== 'string' ||
    typeof d.forward !== 'function' ||
    typeof d.vjp !== 'function'
  ) {
    throw new ValueError('defineOp', 'expected a definition with a name, a forward and a vjp function');
  }
  if (!definition.spec) throw new ValueError('defineOp', `op '${definition.name}' has no spec`);
  if (d.batch !== undefined && typeof d.batch?.loop !== 'string') {
    throw new ValueError(
      'defineOp',
      `op '${definition.name}': batch must be { loop: 'why the op cannot batch' }`,
    );
  }
  const op: Op<P> = { definition, apply: (inputs, params) => applyOp(definition, inputs, params) };
  if (options.register !== false) {
    if (registry.some((o) => o.definition.name === definition.name)) {
      throw new ValueError('defineOp', `an op named '${definition.name}' is already defined`);
    }
    registry.push(op as unknown as Op<unknown>);
  }
  return op;
}

/**
 * The forward's results as arrays the outputs can own: a result that is also an input (or an
 * earlier result) becomes a view, so that no two tensors share one array object.
 */
function ownArrays(raw: NDArray | readonly NDArray[], inputs: readonly NDArray[]): NDArray[] {
  const results: readonly NDArray[] = Array.isArray(raw) ? raw : [raw as NDArray];
  // A plain loop into an array made at its length: every op of a traced function passes here.
  const owned = new Array<NDArray>(results.length);
  for (let i = 0; i < results.length; i++) {
    const v = results[i];
    owned[i] = inputs.includes(v) || results.indexOf(v) < i ? view(v) : v;
  }
  return owned;
}

const NO_INPUT_LEVELS: readonly (readonly BatchingBackend[])[] = [];

/** The vmap levels of each input, or none when no input has any (all but vmapped ops: nothing kept). */
function levelsOf(inputs: readonly Tensor[]): readonly (readonly BatchingBackend[])[] {
  for (const x of inputs) {
    if (batchLevels(x.peekValue()).length > 0) return inputs.map((y) => batchLevels(y.peekValue()));
  }
  return NO_INPUT_LEVELS;
}

/** What a context holds for a role the op does not save (shared: a tape node never changes it). */
const NOT_SAVED: readonly Tensor[] = Object.freeze([]);

function applyOp<P>(definition: OpDefinition<P>, inputs: readonly Tensor[], params: P): Tensor[] {
  checkTensorList(definition.name, inputs);
  // Plain loops over arrays made at their length (a push would give each room for 16): every
  // op of a traced function passes here, thousands per compile.
  const arrays = new Array<NDArray>(inputs.length);
  const needsInputGrad = new Array<boolean>(inputs.length);
  let anyNeedsGrad = false;
  for (let i = 0; i < inputs.length; i++) {
    arrays[i] = inputs[i].peekValue();
    needsInputGrad[i] = inputs[i].requiresGrad;
    if (needsInputGrad[i]) anyNeedsGrad = true;
  }
  // The forward's temporaries are freed as soon as it returns.
  const values = inLibrary(() =>
    ownArrays(
      definition.batch
        ? forwardByLoop(definition.forward, arrays, params)
        : definition.forward(arrays, params),
      arrays,
    ),
  );
  const record = anyNeedsGrad && isGradEnabled();
  const outputs = new Array<Tensor>(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const y = new Tensor(v, { requiresGrad: record && isFloat(v.dtype), outputIndex: i });
    y.opSerial = ++opOutputs;
    outputs[i] = y;
  }
  const save = definition.save ?? { inputs: true };
  const saved: OpContext<P> = {
    inputs: save.inputs === false ? NOT_SAVED : inputs,
    outputs: save.outputs ? outputs : NOT_SAVED,
    params,
    needsInputGrad,
  };
  if (isAnomalyEnabled()) checkFinite(definition.name, 'forward', outputs, inputs);
  if (record) {
    const edges = new Array<Edge>(inputs.length);
    const shapes = new Array<readonly number[]>(inputs.length);
    const dtypes = new Array<DType>(inputs.length);
    for (let i = 0; i < inputs.length; i++) {
      edges[i] = edgeOf(inputs[i]);
      shapes[i] = inputs[i].shape;
      dtypes[i] = inputs[i].dtype;
    }
    const outputMeta = new Array<{ shape: readonly number[]; dtype: DType }>(outputs.length);
    for (let i = 0; i < outputs.length; i++)
      outputMeta[i] = { shape: outputs[i].shape, dtype: outputs[i].dtype };
    const node = new Node(
      definition,
      edges,
      shapes,
      dtypes,
      outputMeta,
      saved as OpContext<unknown>,
      isAnomalyEnabled() ? creationSite() : undefined,
      savedVersions(saved.inputs, saved.outputs),
      levelsOf(inputs),
    );
    noteSaved(saved.inputs);
    noteSaved(saved.outputs);
    for (let i = 0; i < outputs.length; i++) if (outputs[i].requiresGrad) outputs[i].attach(node);
  }
  for (let i = 0; i < watchers.length; i++) watchers[i](inputs, outputs);
  tangentRule?.(definition, { inputs, outputs, params, needsInputGrad });
  return outputs;
}

/** How many op outputs have been made: every output made later has a larger `opSerial`. */
let opOutputs = 0;

/** The `opSerial` the next op output gets: at least this for every output made from now on. */
export const nextOpSerial = (): number => opOutputs + 1;

/** Sees every op applied while it is installed: its input and output tensors. */
export type OpWatcher = (inputs: readonly Tensor[], outputs: readonly Tensor[]) => void;

let watchers: readonly OpWatcher[] = [];

/** Runs `fn`, calling `watcher` for every op it applies (also inside nested transforms). */
export function watchOps<T>(watcher: OpWatcher, fn: () => T): T {
  const previous = watchers;
  watchers = [...watchers, watcher];
  try {
    return fn();
  } finally {
    watchers = previous;
  }
}

/**
 * Forward mode's rule (forward.ts), called after the watchers with every op applied: it
 * gives the outputs their tangents. The context holds all inputs and outputs.
 */
export type TangentRule = <P>(definition: OpDefinition<P>, context: OpContext<P>) => void;

let tangentRule: TangentRule | undefined;

/** Runs `fn` with `rule` pushing tangents through every op it applies. */
export function withTangentRule<T>(rule: TangentRule, fn: () => T): T {
  const previous = tangentRule;
  tangentRule = rule;
  try {
    return fn();
  } finally {
    tangentRule = previous;
  }
}
