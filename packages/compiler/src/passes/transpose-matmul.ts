import type { BufferInfo, Equation, Graph, ViewRef } from '../graph.js';

// A weight's gradient comes out of the backward pass as xᵀ·g, of the transposed shape
// ([in, out] for a [out, in] weight), and everything after it (the optimizer's update, the
// sum over time steps of a recurrent layer) reads it through a transposed view: elementwise
// kernels then walk one operand across its rows, one element at a time. Computing the
// product transposed instead, gᵀ·x (the matmul reads transposed inputs through views at no
// cost), lets those readers read it in order, on SIMD lanes.

const transposed = (v: ViewRef): ViewRef => ({
  ...v,
  shape: [v.shape[1], v.shape[0]],
  strides: [v.strides[1], v.strides[0]],
});

/** Whether `v` reads the whole [m, n] buffer `b` as its transpose. */
function readsTransposed(v: ViewRef, b: BufferInfo): boolean {
  const [m, n] = b.shape;
  return (
    v.offset === 0 &&
    v.shape.length === 2 &&
    v.shape[0] === n &&
    v.shape[1] === m &&
    v.strides[0] === 1 &&
    v.strides[1] === n
  );
}

/** `g` with every two-dimensional matmul whose result is only read transposed computed transposed. */
export function transposeMatmulOutputs(g: Graph): Graph {
  const readers = new Map<number, ViewRef[]>();
  const note = (v: ViewRef) => {
    const list = readers.get(v.buffer);
    if (list) list.push(v);
    else readers.set(v.buffer, [v]);
  };
  for (const eq of g.equations) eq.inputs.forEach(note);
  g.outputs.forEach(note);
  const flipped = new Set<number>();
  for (const eq of g.equations) {
    if (eq.primitive !== 'matmul') continue;
    const b = g.buffers[eq.outputs[0]];
    if (b.shape.length !== 2 || b.shape[0] === 1 || b.shape[1] === 1) continue;
    const views = readers.get(b.id) ?? [];
    if (views.length > 0 && views.every((v) => readsTransposed(v, b))) flipped.add(b.id);
  }
  if (flipped.size === 0) return g;
  const buffers = g.buffers.map(
    (b): BufferInfo => (flipped.has(b.id) ? { ...b, shape: [b.shape[1], b.shape[0]] } : b),
  );
  const read = (v: ViewRef): ViewRef => {
    if (!flipped.has(v.buffer)) return v;
    const [n, m] = buffers[v.buffer].shape;
    return { buffer: v.buffer, shape: [n, m], strides: [m, 1], offset: 0 };
  };
  const equations = g.equations.map((eq): Equation => {
    if (eq.primitive === 'matmul' && flipped.has(eq.outputs[0])) {
      const [a, b] = eq.inputs.map(read);
      return { ...eq, inputs: [transposed(b), transposed(a)] };
    }
    return eq.inputs.some((v) => flipped.has(v.buffer)) ? { ...eq, inputs: eq.inputs.map(read) } : eq;
  });
  return { ...g, buffers, equations, outputs: g.outputs.map(read) };
}
