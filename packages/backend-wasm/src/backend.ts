import type { Backend, DType, KernelTable, TypedArray } from '@tsgrad/tensor';
import { bytesOf, typedView, WasmBuffer } from './buffer.js';
import { elementwisePreparer } from './kernels/elementwise.js';
import { wasmFusedKernels } from './kernels/fused.js';
import { fastKernels } from './kernels/index.js';
import { referenceKernels } from './reference.js';
import { type RuntimeOptions, WasmRuntime } from './runtime.js';

/** The wasm backend: a Backend whose buffers live in the kernel module's memory. */
export interface WasmBackend extends Backend<WasmBuffer> {
  /** The instantiated kernel module behind this backend: its memory, allocator and worker pool. */
  readonly runtime: WasmRuntime;
}

const EMPTY = (dtype: DType) => new WasmBuffer(0, 0, dtype);

/**
 * Creates a wasm backend with its own memory and worker pool. Float32 runs on the SIMD
 * kernels; the other dtypes and the rarely hot primitives run the reference kernels on the
 * same memory, so arrays never leave it.
 */
export function createWasmBackend(options: RuntimeOptions = {}): WasmBackend {
  const runtime = new WasmRuntime(options);
  const { allocator } = runtime;
  const kernels: KernelTable<WasmBuffer> = { ...referenceKernels(runtime), ...fastKernels(runtime) };
  const allocUninitialized = (dtype: DType, size: number): WasmBuffer =>
    size === 0 ? EMPTY(dtype) : new WasmBuffer(allocator.alloc(bytesOf(dtype, size)), size, dtype);
  return {
    name: 'wasm',
    dtypes: ['float32', 'float64', 'int32', 'bool'],
    kernels,
    runtime,
    allocUninitialized,
    prepare: elementwisePreparer(runtime),
    fused: wasmFusedKernels(runtime),
    // Large eager elementwise ops wait and run as one fused kernel when read (tensor's lazy.ts).
    deferElementwise: true,
    // conv2d's bias and ReLU at write-back (kernels/conv.ts): float32 only.
    convEpilogue: (dtype) => dtype === 'float32',
    alloc(dtype, size) {
      const handle = allocUninitialized(dtype, size);
      if (size > 0) runtime.exports.fillZero(handle.ptr, handle.bytes);
      return handle;
    },
    write(handle, _dtype, data: TypedArray) {
      typedView(runtime.buffer, handle).set(data);
    },
    read(handle, _dtype, offset, size) {
      return typedView(runtime.buffer, handle).slice(offset, offset + size);
    },
    free(handle) {
      if (handle.size > 0) allocator.release(handle.ptr, handle.bytes);
    },
  };
}
