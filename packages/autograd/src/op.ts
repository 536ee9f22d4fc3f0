import { type DType, isFloat, type NDArray, ValueError } from '@tsgrad/tensor';
import { checkFinite, creationSite } from './anomaly.js';
import { view } from './arrays.js';
import { checkTensorList } from './check.js';
import { computeTangents } from './forward.js';
import { inLibrary, noteSaved } from './lifetime.js';
import { isAnomalyEnabled, isGradEnabled } from './mode.js';
import { registerOp } from './registry.js';
import type { OpSpec } from './spec.js';
import { Tensor } from './tensor.js';
import { savedVersions } from './versions.js';

/** What a VJP or JVP rule sees of the forward call. */
export interface OpContext<P> {
  /** The inputs (present when the op declares `save.inputs`, else empty). */
  readonly inputs: readonly Tensor[];
  /** The outputs (present when the op declares `save.outputs`, else empty). */
  readonly outputs: readonly Tensor[];
  readonly params: P;
  /** Which inputs need a gradient; a rule may skip the others (return null). */
  readonly needsInputGrad: readonly boolean[];
}

/**
 * One differentiable op. `forward` computes on raw arrays; `vjp` and `jvp` are written with
 * differentiable ops (never raw kernels), so their results can be differentiated again.
 */
export interface OpDefinition<P = Record<string, never>> {
  readonly name: string;
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
  /** What the rules need kept alive until backward (default: inputs only). */
  readonly save?: { readonly inputs?: boolean; readonly outputs?: boolean };
  readonly spec: OpSpec<P>;
}

/** An op made by `defineOp`: call `apply` with tensors and params. */
export interface Op<P> {
  readonly definition: OpDefinition<P>;
  apply(inputs: readonly Tensor[], params: P): Tensor[];
}

/** A gradient edge: where an input's gradient flows in backward. */
export type Edge = { readonly node: Node; readonly index: number } | { readonly leaf: Tensor } | null;

/** A recorded op application in the tape. */
export class Node {
  /** Set to null when backward has consumed the saved tensors (unless retainGraph). */
  context: OpContext<unknown> | null;
  readonly hooks: ((grad: Tensor) => Tensor | undefined)[][];

  constructor(
    readonly op: OpDefinition<unknown>,
    readonly edges: readonly Edge[],
    readonly inputShapes: readonly (readonly number[])[],
    readonly inputDtypes: readonly string[],
    readonly outputMeta: readonly { readonly shape: readonly number[]; readonly dtype: DType }[],
    context: OpContext<unknown>,
    readonly createdAt: string | undefined,
    /** The versions of the saved inputs and outputs when the op ran (versions.ts). */
    readonly savedVersions: readonly number[],
  ) {
    this.context = context;
    this.hooks = outputMeta.map(() => []);
  }
}

function edgeOf(x: Tensor): Edge {
  if (!x.requiresGrad) return null;
  return x.node === null ? { leaf: x } : { node: x.node, index: x.outputIndex };
}

export interface DefineOpOptions {
  /**
   * Whether the op joins the registry that the conformance harness checks (default true).
   * Pass false only for ops that are not part of a library's op set: ops made per call by
   * `customVjp` and `checkpoint` (checked by their users' own tests), or a test's
   * deliberately wrong op.
   */
  readonly register?: boolean;
}

/**
 * Defines a differentiable op and registers it (with its spec) for the conformance harness.
 * This is the one way ops enter tsgrad, built-in or added by a library author.
 */
// A function declaration: ops call it while this module may still be evaluating (cycle).
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
  const op: Op<P> = { definition, apply: (inputs, params) => applyOp(definition, inputs, params) };
  if (options.register !== false) registerOp(op as unknown as Op<unknown>);
  return op;
}

/**
 * The forward's results as arrays the outputs can own: a result that is also an input (or an
 * earlier result) becomes a view, so that no two tensors share one array object.
 */
function ownArrays(raw: NDArray | readonly NDArray[], inputs: readonly NDArray[]): NDArray[] {
  const results: readonly NDArray[] = Array.isArray(raw) ? raw : [raw as NDArray];
  return results.map((v, i) => (inputs.includes(v) || results.indexOf(v) < i ? view(v) : v));
}

function applyOp<P>(definition: OpDefinition<P>, inputs: readonly Tensor[], params: P): Tensor[] {
  checkTensorList(definition.name, inputs);
  const arrays = inputs.map((x) => x.peekValue());
  // The forward's temporaries are freed as soon as it returns.
  const values = inLibrary(() => ownArrays(definition.forward(arrays, params), arrays));
  const record = isGradEnabled() && inputs.some((x) => x.requiresGrad);
  const outputs = values.map(
    (v, i) => new Tensor(v, { requiresGrad: record && isFloat(v.dtype), outputIndex: i }),
  );
  const needsInputGrad = inputs.map((x) => x.requiresGrad);
  const save = definition.save ?? { inputs: true };
  const saved: OpContext<P> = {
    inputs: save.inputs === false ? [] : inputs,
    outputs: save.outputs ? outputs : [],
    params,
    needsInputGrad,
  };
  if (isAnomalyEnabled()) checkFinite(definition.name, 'forward', outputs, inputs);
  if (record) {
    const node = new Node(
      definition as OpDefinition<unknown>,
      inputs.map(edgeOf),
      inputs.map((x) => x.shape),
      inputs.map((x) => x.dtype),
      outputs.map((y) => ({ shape: y.shape, dtype: y.dtype })),
      saved as OpContext<unknown>,
      isAnomalyEnabled() ? creationSite() : undefined,
      savedVersions(saved.inputs, saved.outputs),
    );
    noteSaved(saved.inputs);
    noteSaved(saved.outputs);
    for (const y of outputs) if (y.requiresGrad) y.attach(node);
  }
  computeTangents(definition, { inputs, outputs, params, needsInputGrad }, inputs, outputs);
  return outputs;
}
