import type { Equation, Graph, ViewRef } from '../graph.js';

// What the passes share: renaming buffers. A pass that finds buffer `b` equal, element for
// element and in the same layout, to buffer `a` maps b → a; every view of b then reads a.

/** An identity renaming of the graph's buffers. */
export function identityRenaming(g: Graph): Int32Array {
  const to = new Int32Array(g.buffers.length);
  for (let i = 0; i < to.length; i++) to[i] = i;
  return to;
}

export function renameView(v: ViewRef, to: Int32Array): ViewRef {
  const buffer = to[v.buffer];
  return buffer === v.buffer ? v : { ...v, buffer };
}

export function renameInputs(eq: Equation, to: Int32Array): Equation {
  const { inputs } = eq;
  for (let j = 0; j < inputs.length; j++) {
    if (to[inputs[j].buffer] !== inputs[j].buffer)
      return { ...eq, inputs: inputs.map((v) => renameView(v, to)) };
  }
  return eq;
}

/**
 * The graph with `equations` (already renamed, in order) and its outputs renamed. A pass that
 * renames buffers as it walks the equations in order needs no second walk: a buffer is renamed
 * when the equation writing it is visited, before any equation reads it.
 */
export function withRenamedOutputs(g: Graph, equations: readonly Equation[], to: Int32Array): Graph {
  return { ...g, equations, outputs: g.outputs.map((v) => renameView(v, to)) };
}
