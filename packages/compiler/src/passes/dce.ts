import { checkGraph, trust } from '../check.js';
import type { Graph } from '../graph.js';

/** Dead-code elimination: drops equations none of whose outputs reaches a graph output. */
export function eliminateDeadCode(g: Graph): Graph {
  checkGraph('eliminateDeadCode', g);
  const live = new Uint8Array(g.buffers.length);
  for (const v of g.outputs) live[v.buffer] = 1;
  const kept = [];
  for (let i = g.equations.length - 1; i >= 0; i--) {
    const eq = g.equations[i];
    const { inputs, outputs } = eq;
    let reaches = false;
    for (let j = 0; j < outputs.length && !reaches; j++) reaches = live[outputs[j]] === 1;
    if (!reaches) continue;
    kept.push(eq);
    for (let j = 0; j < inputs.length; j++) live[inputs[j].buffer] = 1;
  }
  return trust({ ...g, equations: kept.reverse() });
}
