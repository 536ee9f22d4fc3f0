import { forEachBatch, type KernelTable, matmulLayout } from '@tsgrad/tensor';
import type { WasmBuffer } from '../buffer.js';
import { referenceKernel } from '../reference.js';
import type { WasmRuntime } from '../runtime.js';
import { gemm } from './gemm.js';
import { outerProduct } from './outer.js';

/**
 * Batched matmul [..., m, k] × [..., k, n] → contiguous [..., m, n]. Float32 runs the SIMD GEMM
 * once per batch, reading both operands through their strides (so transposed and expanded
 * operands are free); when B is the same for every batch (activations × weights), the batch is
 * folded into the rows of A and B is packed once. An inner dimension of 1 (vmap's per-example
 * weight gradients) is an outer product: one pass over the output. Other dtypes run the
 * reference kernel.
 */
export function matmulKernels(runtime: WasmRuntime): Pick<KernelTable<WasmBuffer>, 'matmul'> {
  const fallback = referenceKernel(runtime, 'matmul');
  return {
    matmul(outputs, inputs, params) {
      const [out] = outputs;
      const [a, b] = inputs;
      if (out.dtype !== 'float32') return fallback(outputs, inputs, params);
      const rank = out.shape.length;
      if (a.shape[rank - 1] === 1 && rank <= 3) return outerProduct(runtime, out, a, b);
      const { batch, rows, n, k, aRowStride } = matmulLayout(out, a, b);
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
