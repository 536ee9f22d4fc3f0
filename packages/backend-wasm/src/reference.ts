import {
  type AnyKernel,
  cpuBackend,
  type KernelTable,
  type Primitive,
  type TypedArray,
  type View,
} from '@tsgrad/tensor';
import { typedView, type WasmBuffer } from './buffer.js';
import type { WasmRuntime } from './runtime.js';

/**
 * Runs the CPU reference kernel of `primitive` directly on the wasm memory, through typed
 * array views: every primitive works on this backend, and the SIMD kernels replace the ones
 * that matter for speed. Outputs are zeroed first, as the reference kernels expect.
 */
export function referenceKernel(runtime: WasmRuntime, primitive: Primitive): AnyKernel {
  const kernel = cpuBackend.kernels[primitive] as AnyKernel;
  return (outputs, inputs, params) => {
    for (const out of outputs) {
      const handle = out.handle as WasmBuffer;
      if (handle.size > 0) runtime.exports.fillZero(handle.ptr, handle.bytes);
    }
    const buffer = runtime.buffer;
    const hostView = (view: View<unknown>): View<TypedArray> => ({
      ...view,
      handle: typedView(buffer, view.handle as WasmBuffer),
    });
    kernel(outputs.map(hostView), inputs.map(hostView), params);
  };
}

/** The reference kernel table on the wasm memory. */
export function referenceKernels(runtime: WasmRuntime): KernelTable<WasmBuffer> {
  const table: Partial<Record<Primitive, AnyKernel>> = {};
  for (const primitive of Object.keys(cpuBackend.kernels) as Primitive[]) {
    table[primitive] = referenceKernel(runtime, primitive);
  }
  return table as KernelTable<WasmBuffer>;
}
