import { checkGraph, trust } from '../check.js';
import type { Equation, Graph, ViewRef } from '../graph.js';
import { sameNumbers } from '../ir.js';
import { identityRenaming, renameInputs, withRenamedOutputs } from './rewrite.js';

/** Constants up to this many elements are compared by value (larger ones are rarely equal). */
const MAX_COMPARED_CONSTANT = 4096;

/** Params as text; most equations (elementwise ones) have none, which JSON.stringify would still walk. */
function paramsKey(params: unknown): string {
  if (typeof params === 'object' && params !== null) {
    for (const _ in params) return JSON.stringify(params);
    return '';
  }
  return JSON.stringify(params) ?? '';
}

const sameView = (a: ViewRef, b: ViewRef) =>
  a.buffer === b.buffer &&
  a.offset === b.offset &&
  sameNumbers(a.shape, b.shape) &&
  sameNumbers(a.strides, b.strides);

/** Whether `b` repeats `a`: same primitive, params, input views, and output dtypes and shapes. */
function sameEquation(g: Graph, a: Equation, b: Equation): boolean {
  if (
    a.primitive !== b.primitive ||
    a.inputs.length !== b.inputs.length ||
    a.outputs.length !== b.outputs.length
  )
    return false;
  for (let j = 0; j < a.inputs.length; j++) if (!sameView(a.inputs[j], b.inputs[j])) return false;
  for (let j = 0; j < a.outputs.length; j++) {
    const x = g.buffers[a.outputs[j]];
    const y = g.buffers[b.outputs[j]];
    if (x.dtype !== y.dtype || !sameNumbers(x.shape, y.shape)) return false;
  }
  return a.params === b.params || paramsKey(a.params) === paramsKey(b.params);
}

/**
 * A hash of the primitive and the input buffers and offsets (numbers, not a string key per
 * equation): equations with other params, shapes or strides rarely share these, and
 * `sameEquation` tells them apart.
 */
function equationHash(eq: Equation, primitiveCodes: Map<string, number>): number {
  let code = primitiveCodes.get(eq.primitive);
  if (code === undefined) {
    code = primitiveCodes.size;
    primitiveCodes.set(eq.primitive, code);
  }
  let h = code;
  const { inputs } = eq;
  for (let j = 0; j < inputs.length; j++) {
    const v = inputs[j];
    h = (Math.imul(h, 31) + v.buffer) | 0;
    h = (Math.imul(h, 31) + v.offset) | 0;
  }
  return h;
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
  // Equations kept so far, by hash; a hash shared by unequal equations holds several.
  const seen = new Map<number, Equation | Equation[]>();
  const primitiveCodes = new Map<string, number>();
  const equations: Equation[] = [];
  for (let i = 0; i < g.equations.length; i++) {
    const eq = renameInputs(g.equations[i], to);
    const hash = equationHash(eq, primitiveCodes);
    const bucket = seen.get(hash);
    const earlier =
      bucket === undefined
        ? undefined
        : Array.isArray(bucket)
          ? bucket.find((e) => sameEquation(g, e, eq))
          : sameEquation(g, bucket, eq)
            ? bucket
            : undefined;
    if (earlier === undefined) {
      if (bucket === undefined) seen.set(hash, eq);
      else if (Array.isArray(bucket)) bucket.push(eq);
      else seen.set(hash, [bucket, eq]);
      equations.push(eq);
    } else {
      for (let j = 0; j < eq.outputs.length; j++) to[eq.outputs[j]] = earlier.outputs[j];
    }
  }
  return trust(withRenamedOutputs(g, equations, to));
}
