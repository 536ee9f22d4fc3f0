import { broadcastShapes, type DType, isFloat, type Shape } from '@tsgrad/tensor';
import { gradients } from './engine.js';
import { withoutTracking } from './lifetime.js';
import { enableGrad, isGradEnabled } from './mode.js';
import { type OpDefinition, withTangentRule } from './op.js';
import { broadcastTo, cast, full, sumToShape } from './ops/index.js';
import type { OpContext, Tensor } from './tensor.js';

// Forward-mode AD with nesting levels, as in JAX: each active `jvp` call owns a level, and a
// tensor carries one tangent per level. A level-k tangent is computed with only the levels
// below k active, so tangents of tangents are tracked by the outer levels (no perturbation
// confusion between nested jvp calls). Every op applied inside a level passes through
// `computeTangents` (installed with op.ts's `withTangentRule`).

let active: number[] = [];
let nextLevel = 1;

/** Runs `fn` inside a new forward-mode level, passed to `fn`. */
export function withNewLevel<T>(fn: (level: number) => T): T {
  const level = nextLevel++;
  const previous = active;
  active = [...active, level];
  try {
    // Tangents hang on the tensors the function makes: nothing in it is freed early.
    return withTangentRule(computeTangents, () => withoutTracking(() => fn(level)));
  } finally {
    active = previous;
  }
}

/** Whether some `jvp` is in progress (tensors may carry tangents). */
export function isForwardActive(): boolean {
  return active.length > 0;
}

function withLevelsBelow<T>(level: number, fn: () => T): T {
  const previous = active;
  active = active.filter((l) => l < level);
  try {
    return fn();
  } finally {
    active = previous;
  }
}

/** Propagates tangents of every active level from an op's inputs to its outputs. */
function computeTangents<P>(definition: OpDefinition<P>, context: OpContext<P>): void {
  if (active.length === 0) return;
  const { inputs, outputs } = context;
  for (const level of active) {
    // Only floating-point tensors carry tangents.
    const incoming = inputs.map((x) => (isFloat(x.dtype) ? x.tangentAt(level) : undefined));
    if (incoming.every((t) => t === undefined)) continue;
    const results = withLevelsBelow(level, () => outputTangents(definition, context, incoming));
    results.forEach((t, i) => {
      const y = outputs[i];
      if (t !== undefined && isFloat(y.dtype))
        y.setTangent(
          level,
          withLevelsBelow(level, () => fitTo(t, y.shape, y.dtype)),
        );
    });
  }
}

/**
 * The op's JVP: its `jvp` rule (missing tangents become zeros), or else the double-VJP trick.
 * The VJP is linear in the output cotangent u, v(u) = Jᵀu, so J t = ∂⟨v(u), t⟩/∂u for any u.
 */
function outputTangents<P>(
  definition: OpDefinition<P>,
  context: OpContext<P>,
  incoming: readonly (Tensor | undefined)[],
): readonly (Tensor | undefined)[] {
  if (definition.jvp) {
    const filled = context.inputs.map((x, i) => incoming[i] ?? full(x.shape, 0, x.dtype));
    return definition.jvp(context, filled);
  }
  return tangentsFromVjp(definition, context, incoming);
}

function tangentsFromVjp<P>(
  definition: OpDefinition<P>,
  context: OpContext<P>,
  incoming: readonly (Tensor | undefined)[],
): (Tensor | undefined)[] {
  const createGraph = isGradEnabled();
  return enableGrad(() => {
    const probes = context.outputs.map((y) => {
      const u = full(y.shape, 0, y.dtype);
      if (isFloat(y.dtype)) u.requiresGrad = true;
      return u;
    });
    const needsInputGrad = incoming.map((t) => t !== undefined);
    const cotangents = definition.vjp({ ...context, needsInputGrad }, probes);
    const linear: Tensor[] = [];
    const directions: Tensor[] = [];
    cotangents.forEach((v, i) => {
      const t = incoming[i];
      if (v === null || v === undefined || t === undefined || !v.requiresGrad) return;
      const x = context.inputs[i];
      linear.push(fitTo(v, x.shape, x.dtype));
      directions.push(t);
    });
    const targets = probes.filter((u) => u.requiresGrad);
    const found =
      linear.length === 0 ? [] : gradients(linear, targets, directions, { createGraph, allowUnused: true });
    let next = 0;
    return probes.map((u) => {
      if (!u.requiresGrad) return undefined;
      return found[next++] ?? full(u.shape, 0, u.dtype);
    });
  });
}

/** Sums or broadcasts `t` to `shape` and casts it to `dtype` (rules may return either). */
function fitTo(t: Tensor, shape: Shape, dtype: DType): Tensor {
  const joint = broadcastShapes('jvp', t.shape, shape);
  const shaped = sumToShape(broadcastTo(t, joint), shape);
  return cast(shaped, dtype);
}
