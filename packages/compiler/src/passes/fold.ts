import { type AnyKernel, type Backend, NDArray } from '@tsgrad/tensor';
import { checkBackend, checkGraph, trust } from '../check.js';
import { type BufferInfo, type Equation, type Graph, GraphInvariantError } from '../graph.js';

/** Equations with larger outputs are left to run at call time (folding would hold their data twice). */
const MAX_FOLDED_SIZE = 1 << 16;

/** The size of `eq`'s outputs if it can be folded (its inputs are all constants), else -1. */
function foldedSize(eq: Equation, buffers: readonly BufferInfo[]): number {
  // Plain loops: this runs on every equation of a first, cold compile.
  const { inputs, outputs } = eq;
  for (let j = 0; j < inputs.length; j++) if (buffers[inputs[j].buffer].source.kind !== 'constant') return -1;
  let size = 0;
  for (let j = 0; j < outputs.length; j++) size += buffers[outputs[j]].size;
  return size > MAX_FOLDED_SIZE ? -1 : size;
}

/**
 * Constant folding: an equation whose inputs are all constants runs once, now, on `backend`,
 * and its outputs become constants.
 */
export function foldConstants(g: Graph, backend: Backend): Graph {
  checkGraph('foldConstants', g);
  checkBackend('foldConstants', backend);
  const buffers: BufferInfo[] = [...g.buffers];
  const equations: Equation[] = [];
  for (let i = 0; i < g.equations.length; i++) {
    const eq = g.equations[i];
    const size = foldedSize(eq, buffers);
    if (size < 0) {
      equations.push(eq);
      continue;
    }
    const inputs = eq.inputs.map((v) => {
      const b = buffers[v.buffer];
      if (b.source.kind !== 'constant')
        throw new GraphInvariantError('foldConstants', 'a folded input is not a constant');
      return NDArray.fromTyped(backend, b.dtype, [b.size], b.source.data);
    });
    const outputs = eq.outputs.map((id) =>
      NDArray.uninitialized(backend, buffers[id].dtype, buffers[id].shape),
    );
    const view = (x: NDArray, shape: readonly number[], strides: readonly number[], offset: number) => ({
      handle: x.storage.handle,
      dtype: x.dtype,
      shape,
      strides,
      offset,
    });
    if (size > 0 || eq.outputs.length === 0) {
      (backend.kernels[eq.primitive] as unknown as AnyKernel)(
        outputs.map((x) => view(x, x.shape, x.strides, 0)),
        eq.inputs.map((v, i) => view(inputs[i], v.shape, v.strides, v.offset)),
        eq.params,
      );
    }
    eq.outputs.forEach((id, i) => {
      buffers[id] = { ...buffers[id], source: { kind: 'constant', data: outputs[i].toTypedArray() } };
    });
    for (const x of [...inputs, ...outputs]) x.dispose();
  }
  return trust({ ...g, buffers, equations });
}
