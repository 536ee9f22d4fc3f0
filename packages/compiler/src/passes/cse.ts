import { checkGraph, trust } from '../check.js';
import type { Equation, Graph, ViewRef } from '../graph.js';
import { identityRenaming, renameGraph, renameInputs } from './rewrite.js';

/** Constants up to this many elements are compared by value (larger ones are rarely equal). */
const MAX_COMPARED_CONSTANT = 4096;

const viewKey = (v: ViewRef) => `${v.buffer}:${v.shape.join(',')}:${v.strides.join(',')}:${v.offset}`;

/** Params as text; most equations (elementwise ones) have none, which JSON.stringify would still walk. */
function paramsKey(params: unknown): string {
  if (typeof params === 'object' && params !== null) {
    for (const _ in params) return JSON.stringify(params);
    return '';
  }
  return JSON.stringify(params) ?? '';
}

function equationKey(g: Graph, eq: Equation): string {
  const { inputs, outputs } = eq;
  let key = `${eq.primitive}|${paramsKey(eq.params)}|`;
  for (let j = 0; j < inputs.length; j++) key += `${viewKey(inputs[j])};`;
  for (let j = 0; j < outputs.length; j++) {
    const b = g.buffers[outputs[j]];
    key += `|${b.dtype}[${b.shape.join(',')}]`;
  }
  return key;
}

/**
 * Common-subexpression elimination: equal constants become one, and an equation that repeats
 * an earlier one (same primitive, params and input views) reuses the earlier outputs.
 * Primitives are pure (random samples are drawn on the host: constants, or inputs for keys the function takes), so this is exact.
 */
export function eliminateCommonSubexpressions(g: Graph): Graph {
  checkGraph('eliminateCommonSubexpressions', g);
  const to = identityRenaming(g);
  const constants = new Map<string, number>();
  for (const b of g.buffers) {
    if (b.source.kind !== 'constant' || b.size > MAX_COMPARED_CONSTANT) continue;
    const key = `${b.dtype}:${b.size}:${Array.prototype.join.call(b.source.data, ',')}`;
    const first = constants.get(key);
    if (first === undefined) constants.set(key, b.id);
    else to[b.id] = first;
  }
  const seen = new Map<string, readonly number[]>();
  const equations: Equation[] = [];
  for (let i = 0; i < g.equations.length; i++) {
    const eq = renameInputs(g.equations[i], to);
    const key = equationKey(g, eq);
    const earlier = seen.get(key);
    if (earlier === undefined) {
      seen.set(key, eq.outputs);
      equations.push(eq);
    } else {
      for (let j = 0; j < eq.outputs.length; j++) to[eq.outputs[j]] = earlier[j];
    }
  }
  return trust(renameGraph({ ...g, equations }, to));
}
