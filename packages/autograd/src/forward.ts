import type { OpContext, OpDefinition } from './op.js';
import type { Tensor } from './tensor.js';

// Forward-mode AD with nesting levels, as in JAX: each active `jvp` call owns a level, and a
// tensor carries one tangent per level. A level-k tangent is computed with only the levels
// below k active, so tangents of tangents are tracked by the outer levels (no perturbation
// confusion between nested jvp calls).

let active: number[] = [];
let nextLevel = 1;

/** Runs `fn` inside a new forward-mode level, passed to `fn`. */
export function withNewLevel<T>(fn: (level: number) => T): T {
  const level = nextLevel++;
  const previous = active;
  active = [...active, level];
  try {
    return fn(level);
  } finally {
    active = previous;
  }
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

/** How an op turns input tangents into output tangents; set by the transforms module. */
type TangentRule = <P>(definition: OpDefinition<P>, context: OpContext<P>, tangents: readonly Tensor[]) => readonly Tensor[];

let tangentRule: TangentRule | undefined;

export function setTangentRule(rule: TangentRule): void {
  tangentRule = rule;
}

/** Propagates tangents of every active level from an op's inputs to its outputs. */
export function computeTangents<P>(
  definition: OpDefinition<P>,
  context: OpContext<P>,
  inputs: readonly Tensor[],
  outputs: readonly Tensor[],
): void {
  if (active.length === 0 || tangentRule === undefined) return;
  for (const level of active) {
    const incoming = inputs.map((x) => x.tangentAt(level));
    if (incoming.every((t) => t === undefined)) continue;
    const rule = tangentRule;
    const results = withLevelsBelow(level, () => rule(definition, context, incoming as Tensor[]));
    results.forEach((t, i) => {
      if (t !== undefined && t !== null) outputs[i].setTangent(level, t);
    });
  }
}
