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

/** The graph with buffers renamed everywhere (equations whose outputs were renamed away remain; DCE drops them). */
export function renameGraph(g: Graph, to: Int32Array): Graph {
  return {
    ...g,
    equations: g.equations.map((eq) => renameInputs(eq, to)),
    outputs: g.outputs.map((v) => renameView(v, to)),
  };
}
