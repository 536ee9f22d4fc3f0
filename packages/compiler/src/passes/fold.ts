import { type AnyKernel, type Backend, NDArray } from '@tsgrad/tensor';
import { checkBackend, checkGraph, trust } from '../check.js';
import { type BufferInfo, type Equation, type Graph, GraphInvariantError } from '../graph.js';

/** Equations with larger outputs are left to run at call time (folding would hold their data twice). */
const MAX_FOLDED_SIZE = 1 << 16;

/**
 * Constant folding: an equation whose inputs are all constants runs once, now, on `backend`,
 * and its outputs become constants.
 */
export function foldConstants(g: Graph, backend: Backend): Graph {
  checkGraph('foldConstants', g);
  checkBackend('foldConstants', backend);
  const buffers: BufferInfo[] = [...g.buffers];
  const equations: Equation[] = [];
  const isConstant = (id: number) => buffers[id].source.kind === 'constant';
  for (const eq of g.equations) {
    const size = eq.outputs.reduce((n, id) => n + buffers[id].size, 0);
    if (size > MAX_FOLDED_SIZE || !eq.inputs.every((v) => isConstant(v.buffer))) {
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
