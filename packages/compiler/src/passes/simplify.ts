import { checkGraph, trust } from '../check.js';
import type { Equation, Graph, ViewRef } from '../graph.js';
import { readsWhole } from '../ir.js';
import { identityRenaming, renameInputs, withRenamedOutputs } from './rewrite.js';

// Algebraic simplification: x·1, 1·x, x/1, x+0, 0+x, x−0, x^1, −(−x) and a copy of a whole,
// contiguous buffer are x itself. A chain of reshapes needs no pass: views compose while
// tracing, so the graph never holds one.

/** Whether `v` reads a constant whose every element is `value`. */
function isConstantOf(g: Graph, v: ViewRef | undefined, value: number): boolean {
  if (v === undefined) return false;
  const source = g.buffers[v.buffer].source;
  if (source.kind !== 'constant' || source.data.length === 0) return false;
  for (let i = 0; i < source.data.length; i++) if (source.data[i] !== value) return false;
  return true;
}

/** The buffer `eq`'s output equals, if `eq` reads it whole in the output's shape and dtype. */
function sameAs(g: Graph, eq: Equation, v: ViewRef): number | null {
  const out = g.buffers[eq.outputs[0]];
  const b = g.buffers[v.buffer];
  const sameShape = v.shape.length === out.shape.length && v.shape.every((d, i) => d === out.shape[i]);
  return sameShape && b.dtype === out.dtype && readsWhole(v, b) ? v.buffer : null;
}

function identityOperand(
  g: Graph,
  eq: Equation,
  producers: readonly (Equation | undefined)[],
): number | null {
  const [a, b] = eq.inputs;
  switch (eq.primitive) {
    case 'mul':
      return isConstantOf(g, b, 1) ? sameAs(g, eq, a) : isConstantOf(g, a, 1) ? sameAs(g, eq, b) : null;
    case 'add':
      return isConstantOf(g, b, 0) ? sameAs(g, eq, a) : isConstantOf(g, a, 0) ? sameAs(g, eq, b) : null;
    case 'sub':
      return isConstantOf(g, b, 0) ? sameAs(g, eq, a) : null;
    case 'div':
    case 'pow':
      return isConstantOf(g, b, 1) ? sameAs(g, eq, a) : null;
    case 'copy':
      return sameAs(g, eq, a);
    case 'neg': {
      const inner = producers[a.buffer];
      if (inner?.primitive !== 'neg' || sameAs(g, eq, a) === null) return null;
      return sameAs(g, inner, inner.inputs[0]);
    }
    default:
      return null;
  }
}

/**
 * Algebraic simplification: x·1, x + 0, x − 0, x / 1, x¹, double negation and copies become their operand.
 */
export function simplifyAlgebra(g: Graph): Graph {
  checkGraph('simplifyAlgebra', g);
  const to = identityRenaming(g);
  // By buffer id: the equation that writes it (plain arrays and loops: this runs on every
  // equation of a first, cold compile).
  const producers: (Equation | undefined)[] = new Array(g.buffers.length);
  const equations: Equation[] = [];
  for (let i = 0; i < g.equations.length; i++) {
    const eq = renameInputs(g.equations[i], to);
    const same = eq.outputs.length === 1 ? identityOperand(g, eq, producers) : null;
    if (same === null) {
      equations.push(eq);
      for (let j = 0; j < eq.outputs.length; j++) producers[eq.outputs[j]] = eq;
    } else {
      to[eq.outputs[0]] = same;
    }
  }
  return trust(withRenamedOutputs(g, equations, to));
}
