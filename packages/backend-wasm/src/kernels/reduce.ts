import type { KernelTable, Primitive, View } from '@tsgrad/tensor';
import type { WasmBuffer } from '../buffer.js';
import { referenceKernel } from '../reference.js';
import type { WasmRuntime } from '../runtime.js';

// float32 reductions (assembly/reduce.ts) of a packed input whose reduced axes form one block:
// viewed as [outer, size, inner] it reduces the middle axis. Sums and products also take the
// reduction of both ends around kept middle axes ([outer, keep, inner] → [keep], the bias
// gradient of a convolution over N, H, W). Other layouts and dtypes run the reference kernels.

/** The op codes of assembly/reduce.ts. */
const CODES = { sum: 0, prod: 1, max: 2, min: 3, argmax: 4, argmin: 5 } as const;
type ReduceOp = keyof typeof CODES;

const PARALLEL_MIN = 1 << 18;

/** [outer, size, inner] when the axes (sorted) are one block once size-1 axes are ignored. */
function blockShape(shape: readonly number[], axes: readonly number[]): [number, number, number] | null {
  const reduced = axes.filter((a) => shape[a] !== 1);
  const first = reduced.length > 0 ? reduced[0] : shape.length;
  const last = reduced.length > 0 ? reduced[reduced.length - 1] : shape.length - 1;
  let outer = 1;
  let size = 1;
  let inner = 1;
  for (let d = 0; d < shape.length; d++) {
    if (d < first) outer *= shape[d];
    else if (d > last) inner *= shape[d];
    else if (shape[d] !== 1 && !reduced.includes(d)) return null;
    else size *= shape[d];
  }
  return [outer, size, inner];
}

/** [outer, keep, inner] when the axes (size-1 ones ignored) are a leading and a trailing block around the kept ones. */
function endsShape(shape: readonly number[], axes: readonly number[]): [number, number, number] | null {
  const kept = shape.map((_, d) => d).filter((d) => shape[d] !== 1 && !axes.includes(d));
  if (kept.length === 0) return null;
  const [first, last] = [kept[0], kept[kept.length - 1]];
  let [outer, keep, inner] = [1, 1, 1];
  for (let d = 0; d < shape.length; d++) {
    if (d < first) outer *= shape[d];
    else if (d > last) inner *= shape[d];
    else if (shape[d] !== 1 && axes.includes(d)) return null;
    else keep *= shape[d];
  }
  return outer > 1 && inner > 1 ? [outer, keep, inner] : null;
}

type AnyKernel = (
  outputs: readonly View<WasmBuffer>[],
  inputs: readonly View<WasmBuffer>[],
  params: unknown,
) => void;

export function reduceKernels(
  runtime: WasmRuntime,
): Pick<KernelTable<WasmBuffer>, 'sum' | 'prod' | 'max' | 'min' | 'argmax' | 'argmin'> {
  const { pool } = runtime;

  const kernel = (op: ReduceOp, axesOf: (params: unknown) => readonly number[]): AnyKernel => {
    const fallback = referenceKernel(runtime, op as Primitive);
    const arg = op === 'argmax' || op === 'argmin';
    return (outputs, inputs, params) => {
      const [out] = outputs;
      const [x] = inputs;
      if (x.dtype !== 'float32') return fallback(outputs, inputs, params);
      const axes = axesOf(params);
      const ends = op === 'sum' || op === 'prod' ? endsShape(x.shape, axes) : null;
      if (ends) {
        const [outer, keep, inner] = ends;
        const args = [CODES[op], x.handle.ptr, outputs[0].handle.ptr, outer, keep, inner];
        return pool.run('reduceEnds', args, outer * keep * inner >= PARALLEL_MIN && keep > 1);
      }
      const block = blockShape(x.shape, axes);
      // argmax/argmin: only along the last (non-trivial) axis.
      if (!block || (arg && block[2] !== 1)) return fallback(outputs, inputs, params);
      const [outer, size, inner] = block;
      const parallel = outer * size * inner >= PARALLEL_MIN;
      const xPtr = x.handle.ptr;
      const outPtr = out.handle.ptr;
      if (inner === 1) pool.run('reduceRows', [CODES[op], xPtr, outPtr, outer, size], parallel && outer > 1);
      else pool.run('reduceColumns', [CODES[op], xPtr, outPtr, outer, size, inner], parallel);
    };
  };
  const reduceAxes = (params: unknown) => (params as { axes: readonly number[] }).axes;
  const oneAxis = (params: unknown) => [(params as { axis: number }).axis];
  return {
    sum: kernel('sum', reduceAxes),
    prod: kernel('prod', reduceAxes),
    max: kernel('max', reduceAxes),
    min: kernel('min', reduceAxes),
    argmax: kernel('argmax', oneAxis),
    argmin: kernel('argmin', oneAxis),
  };
}
