import type { KernelTable } from '@tsgrad/tensor';
import type { WasmBuffer } from '../buffer.js';
import type { WasmRuntime } from '../runtime.js';
import { convKernels } from './conv.js';
import { elementwiseKernels } from './elementwise.js';
import { indexingKernels } from './indexing.js';
import { matmulKernels } from './matmul.js';
import { poolKernels } from './pool.js';
import { reduceKernels } from './reduce.js';

/** The SIMD kernels, by primitive; each falls back to the reference kernel outside its fast cases. */
export function fastKernels(runtime: WasmRuntime): Partial<KernelTable<WasmBuffer>> {
  return {
    ...matmulKernels(runtime),
    ...convKernels(runtime),
    ...poolKernels(runtime),
    ...indexingKernels(runtime),
    ...elementwiseKernels(runtime),
    ...reduceKernels(runtime),
  };
}
