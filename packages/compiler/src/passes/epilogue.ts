import type { Backend, Conv2dEpilogueParams } from '@tsgrad/tensor';
import type { Equation, Graph, ViewRef } from '../graph.js';
import { readsWhole } from '../ir.js';

// Convolution epilogues: conv2d → add(bias per channel) → relu becomes one conv2d that adds
// the bias and applies the ReLU while it writes its output (Conv2dEpilogueParams), on a
// backend whose `convEpilogue` accepts the dtype. The intermediates then never reach memory.
// Runs in the compile pipeline's fusion step only, before elementwise grouping.
//
// ReLU's gradient reads its input as a mask, gt(a, 0); that equals gt(relu(a), 0), so such
// readers read the ReLU's output instead and the add's output can go.

/** Where each buffer is read: the equations (by index) and whether the graph returns it. */
interface Readers {
  readonly equations: Map<number, number[]>;
  readonly returned: Set<number>;
}

function readersOf(g: Graph): Readers {
  const equations = new Map<number, number[]>();
  g.equations.forEach((eq, i) => {
    for (const v of eq.inputs) {
      const list = equations.get(v.buffer);
      if (list) list.push(i);
      else equations.set(v.buffer, [i]);
    }
  });
  return { equations, returned: new Set(g.outputs.map((v) => v.buffer)) };
}

/** A scalar constant read at every element (a broadcast), or undefined. */
function scalarConstant(g: Graph, v: ViewRef): number | undefined {
  const source = g.buffers[v.buffer].source;
  if (source.kind !== 'constant') return undefined;
  return v.shape.every((d, i) => d === 1 || v.strides[i] === 0) ? source.data[v.offset] : undefined;
}

/** Whether `v` reads buffer `id` whole, in its own shape (so a result of that shape replaces it). */
const readsAsIs = (g: Graph, v: ViewRef, id: number) =>
  v.buffer === id &&
  readsWhole(v, g.buffers[id]) &&
  v.shape.length === g.buffers[id].shape.length &&
  v.shape.every((d, i) => d === g.buffers[id].shape[i]);

/** The operand of binary `eq` other than buffer `id` (null if `eq` does not read `id` as is, once). */
function otherOperand(g: Graph, eq: Equation, id: number): ViewRef | null {
  if (eq.inputs.length !== 2 || eq.outputs.length !== 1) return null;
  const [a, b] = eq.inputs;
  const whole = (v: ViewRef) => readsAsIs(g, v, id);
  if (whole(a) && b.buffer !== id) return b;
  if (whole(b) && a.buffer !== id) return a;
  return null;
}

/** `v` as the bias vector `[O]` if it reads one value per channel of an `[N, O, H, W]` output, contiguous. */
function channelVector(g: Graph, v: ViewRef, outShape: readonly number[]): ViewRef | null {
  if (v.shape.length !== 4 || v.shape.some((d, i) => d !== outShape[i])) return null;
  const broadcast = [0, 2, 3].every((d) => v.shape[d] === 1 || v.strides[d] === 0);
  if (!broadcast || (v.shape[1] !== 1 && v.strides[1] !== 1)) return null;
  if (v.offset + v.shape[1] > g.buffers[v.buffer].size) return null;
  return { buffer: v.buffer, shape: [v.shape[1]], strides: [1], offset: v.offset };
}

/** Whether `eq` is relu(id): maximum of the whole buffer and the constant 0. */
const isRelu = (g: Graph, eq: Equation, id: number) => {
  if (eq.primitive !== 'maximum') return false;
  const other = otherOperand(g, eq, id);
  return other !== null && scalarConstant(g, other) === 0;
};

/** Whether `eq` is the mask gt(id, 0) that ReLU's gradient reads. */
const isPositiveMask = (g: Graph, eq: Equation, id: number) =>
  eq.primitive === 'gt' &&
  eq.inputs.length === 2 &&
  readsAsIs(g, eq.inputs[0], id) &&
  scalarConstant(g, eq.inputs[1]) === 0;

/** `g` with conv2d's bias add and ReLU moved into the conv2d where `backend` supports it. */
export function fuseConvEpilogues(g: Graph, backend: Backend): Graph {
  if (backend.convEpilogue === undefined) return g;
  const readers = readersOf(g);
  /** The only equation reading buffer `id` (none if the graph returns it or others read it). */
  const soleReader = (id: number): number | undefined => {
    const list = readers.equations.get(id);
    return list?.length === 1 && !readers.returned.has(id) ? list[0] : undefined;
  };
  const replaced = new Map<number, Equation>();
  const removed = new Set<number>();
  g.equations.forEach((conv, i) => {
    if (conv.primitive !== 'conv2d' || conv.inputs.length !== 2) return;
    const params = conv.params as Conv2dEpilogueParams;
    const out = g.buffers[conv.outputs[0]];
    if ((params.activation ?? 'none') !== 'none' || !backend.convEpilogue?.(out.dtype)) return;
    const next = soleReader(out.id);
    if (next === undefined) return;
    const inputs = [...conv.inputs];
    let activation: 'none' | 'relu' = 'none';
    let last = next;
    const add = g.equations[next];
    const operand = add.primitive === 'add' ? otherOperand(g, add, out.id) : null;
    const bias =
      operand && g.buffers[operand.buffer].dtype === out.dtype && channelVector(g, operand, out.shape);
    const masks: number[] = [];
    if (bias) {
      inputs.push(bias);
      const sum = add.outputs[0];
      const list = (readers.returned.has(sum) ? [] : readers.equations.get(sum)) ?? [];
      const relu = list.filter((r) => isRelu(g, g.equations[r], sum));
      const rest = list.filter((r) => !relu.includes(r));
      if (relu.length === 1 && rest.every((r) => isPositiveMask(g, g.equations[r], sum))) {
        activation = 'relu';
        last = relu[0];
        masks.push(...rest);
      }
    } else if (isRelu(g, add, out.id)) {
      activation = 'relu';
    } else return;
    const result = g.equations[last].outputs[0];
    const fusedParams: Conv2dEpilogueParams = { ...params, activation };
    // Placed where the first reader was: x, w and the bias are ready there, and every reader of the result comes later.
    replaced.set(next, { primitive: 'conv2d', params: fusedParams, inputs, outputs: [result] });
    removed.add(i);
    if (last !== next) removed.add(last);
    for (const m of masks) {
      const eq = g.equations[m];
      replaced.set(m, { ...eq, inputs: eq.inputs.map((v, k) => (k === 0 ? { ...v, buffer: result } : v)) });
    }
  });
  if (removed.size === 0) return g;
  const equations = g.equations.flatMap((eq, i) => (removed.has(i) ? [] : [replaced.get(i) ?? eq]));
  return { ...g, equations };
}
