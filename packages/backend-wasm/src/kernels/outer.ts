import type { View } from '@tsgrad/tensor';
import type { WasmBuffer } from '../buffer.js';
import type { WasmRuntime } from '../runtime.js';
import { isParallel } from './elementwise.js';

/**
 * Output floats per part the threads claim. The kernel is bound by memory bandwidth, so a
 * thread that joins late (woken from sleep, or descheduled on a busy machine) is caught up by
 * the others only in whole parts: 256 Ki floats (1 MiB, ≈ 40 µs to write) keeps that wait
 * short, where the pool's default four parts per thread left up to an eighth of a 103 MB
 * per-sample weight gradient to one thread at the end.
 */
const PART_FLOATS = 256 * 1024;

/**
 * out = a · b for float32 a [B?, m, 1] and b [B?, 1, n] (rank 2 or 3, any strides, a batch axis
 * possibly broadcast): the batched outer product kernel, split over the pool's threads by rows
 * when the output is large enough to pay for waking them (the threshold of the cheap
 * elementwise kernels: the work is the same, one multiply and one store per element), in
 * parts of about a MiB each.
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
  const count = batch * m * n;
  const parts = Math.min(batch * m, Math.max(4 * runtime.pool.threads, Math.ceil(count / PART_FLOATS)));
  runtime.pool.run('outerProduct', args, isParallel(count, false), parts);
}
