import type { KernelTable, View } from '@tsgrad/tensor';
import type { WasmBuffer } from '../buffer.js';
import { referenceKernel } from '../reference.js';
import type { WasmRuntime } from '../runtime.js';

// Float32 gather and scatterAdd along an axis (assembly/indexing.ts), the primitives of max
// pooling's gradient and of its adjoint. They take the fast path when the index has the data's
// shape off the axis, so both can be viewed as [outer, axis, inner]; otherwise the reference runs.

/** Elements below which the kernels stay on the calling thread (a pool task costs about 12 µs). */
const PARALLEL_ELEMENTS = 1 << 17;

const pointer = (view: View<WasmBuffer>) => view.handle.ptr + 4 * view.offset;
const product = (sizes: readonly number[]) => sizes.reduce((a, b) => a * b, 1);

/** `[outer, axis, count, inner]` when `index` matches `data` off `axis`, else null. */
function axisLayout(data: readonly number[], index: readonly number[], axis: number): number[] | null {
  if (index.length !== data.length || index.some((d, i) => i !== axis && d !== data[i])) return null;
  return [product(data.slice(0, axis)), data[axis], index[axis], product(data.slice(axis + 1))];
}

export function indexingKernels(
  runtime: WasmRuntime,
): Pick<KernelTable<WasmBuffer>, 'gather' | 'scatterAdd'> {
  const fallback = {
    gather: referenceKernel(runtime, 'gather'),
    scatterAdd: referenceKernel(runtime, 'scatterAdd'),
  };
  return {
    gather(outputs, inputs, params) {
      const [out] = outputs;
      const [x, index] = inputs;
      const layout = x.dtype === 'float32' ? axisLayout(x.shape, index.shape, params.axis) : null;
      if (layout === null) return fallback.gather(outputs, inputs, params);
      const size = product(index.shape);
      if (size === 0) return;
      const args = [pointer(x), pointer(index), pointer(out), ...layout];
      runtime.pool.run('gatherAxis', args, size >= PARALLEL_ELEMENTS);
    },

    scatterAdd(outputs, inputs, params) {
      const [out] = outputs;
      const [base, index, src] = inputs;
      const fits =
        out.dtype === 'float32' &&
        src.shape.length === index.shape.length &&
        src.shape.every((d, i) => d === index.shape[i]);
      const layout = fits ? axisLayout(base.shape, index.shape, params.axis) : null;
      if (layout === null) return fallback.scatterAdd(outputs, inputs, params);
      const size = product(base.shape);
      if (size === 0) return;
      const args = [pointer(base), pointer(index), pointer(src), pointer(out), ...layout];
      runtime.pool.run('scatterAddAxis', args, size + product(index.shape) >= PARALLEL_ELEMENTS);
    },
  };
}
