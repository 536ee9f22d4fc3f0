import type { View } from '@tsgrad/tensor';
import type { WasmBuffer } from '../buffer.js';
import type { WasmRuntime } from '../runtime.js';
import { isParallel } from './elementwise.js';

/**
 * out = a · b for float32 a [B?, m, 1] and b [B?, 1, n] (rank 2 or 3, any strides, a batch axis
 * possibly broadcast): the batched outer product kernel, split over the pool's threads by rows
 * when the output is large enough to pay for waking them (the threshold of the cheap
 * elementwise kernels: the work is the same, one multiply and one store per element).
 */
export function outerProduct(
  runtime: WasmRuntime,
  out: View<WasmBuffer>,
  a: View<WasmBuffer>,
  b: View<WasmBuffer>,
): void {
  const rank = out.shape.length;
  const [m, n] = out.shape.slice(rank - 2);
  const batch = rank === 3 ? out.shape[0] : 1;
  const batchStride = (x: View<WasmBuffer>) => (rank === 3 ? x.strides[0] : 0);
  const args = [
    batch,
    m,
    n,
    a.handle.ptr + 4 * a.offset,
    batchStride(a),
    a.strides[rank - 2],
    b.handle.ptr + 4 * b.offset,
    batchStride(b),
    b.strides[rank - 1],
    out.handle.ptr,
  ];
  runtime.pool.run('outerProduct', args, isParallel(batch * m * n, false));
}
