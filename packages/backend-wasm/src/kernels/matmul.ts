import type { KernelTable, View } from '@tsgrad/tensor';
import type { WasmBuffer } from '../buffer.js';
import { referenceKernel } from '../reference.js';
import type { WasmRuntime } from '../runtime.js';
import { gemm } from './gemm.js';

/**
 * When the batch axes and the row axis of `view` (axes 0..rowAxis) can be walked as one axis,
 * the stride of that merged axis; otherwise null.
 */
function mergedRowStride(view: View<WasmBuffer>, rowAxis: number): number | null {
  let stride: number | null = null;
  let expected = 0;
  for (let d = rowAxis; d >= 0; d--) {
    const size = view.shape[d];
    if (size === 1) continue;
    if (stride === null) stride = view.strides[d];
    else if (view.strides[d] !== expected) return null;
    expected = view.strides[d] * size;
  }
  return stride ?? 0;
}

/** Calls `body` with the element offsets of a and b for every batch index, in row-major order. */
function forEachBatch(
  batch: readonly number[],
  a: View<WasmBuffer>,
  b: View<WasmBuffer>,
  body: (index: number, aOffset: number, bOffset: number) => void,
): void {
  const count = batch.reduce((x, y) => x * y, 1);
  const position = batch.map(() => 0);
  let aAt = a.offset;
  let bAt = b.offset;
  for (let index = 0; index < count; index++) {
    body(index, aAt, bAt);
    for (let d = batch.length - 1; d >= 0; d--) {
      aAt += a.strides[d];
      bAt += b.strides[d];
      if (++position[d] < batch[d]) break;
      aAt -= a.strides[d] * batch[d];
      bAt -= b.strides[d] * batch[d];
      position[d] = 0;
    }
  }
}

/**
 * Batched matmul [..., m, k] × [..., k, n] → contiguous [..., m, n]. Float32 runs the SIMD GEMM
 * once per batch, reading both operands through their strides (so transposed and expanded
 * operands are free); when B is the same for every batch (activations × weights), the batch is
 * folded into the rows of A and B is packed once. Other dtypes run the reference kernel.
 */
export function matmulKernels(runtime: WasmRuntime): Pick<KernelTable<WasmBuffer>, 'matmul'> {
  const fallback = referenceKernel(runtime, 'matmul');
  return {
    matmul(outputs, inputs, params) {
      const [out] = outputs;
      const [a, b] = inputs;
      if (out.dtype !== 'float32') return fallback(outputs, inputs, params);
      const rank = out.shape.length;
      const [m, n] = out.shape.slice(rank - 2);
      const k = a.shape[rank - 1];
      let batch = out.shape.slice(0, rank - 2);
      let rows = m;
      let aRowStride = a.strides[rank - 2];
      const bShared = batch.every((size, d) => size === 1 || b.strides[d] === 0);
      const merged = bShared ? mergedRowStride(a, rank - 2) : null;
      if (merged !== null) {
        rows = out.shape.slice(0, rank - 1).reduce((x, y) => x * y, 1);
        aRowStride = merged;
        batch = [];
      }
      const plane = rows * n;
      const aPtr = a.handle.ptr;
      const bPtr = b.handle.ptr;
      const cPtr = out.handle.ptr;
      forEachBatch(batch, a, b, (index, aOffset, bOffset) => {
        gemm(runtime, {
          m: rows,
          n,
          k,
          a: { ptr: aPtr + 4 * aOffset, rowStride: aRowStride, colStride: a.strides[rank - 1] },
          b: { ptr: bPtr + 4 * bOffset, rowStride: b.strides[rank - 2], colStride: b.strides[rank - 1] },
          c: { ptr: cPtr + 4 * index * plane, ldc: n },
          beta: 0,
        });
      });
    },
  };
}
