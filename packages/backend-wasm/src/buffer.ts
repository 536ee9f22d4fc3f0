import type { DType, TypedArray } from '@tsgrad/tensor';

const BYTES: Record<DType, number> = { float32: 4, float64: 8, int32: 4, bool: 1 };

/** A block of the kernel module's memory holding one array's elements. */
export class WasmBuffer {
  constructor(
    /** Byte offset in the memory (0 for an empty buffer). */
    readonly ptr: number,
    /** Elements. */
    readonly size: number,
    /** The element type. */
    readonly dtype: DType,
  ) {}

  /** The size in bytes. */
  get bytes(): number {
    return this.size * BYTES[this.dtype];
  }
}

export function bytesOf(dtype: DType, size: number): number {
  return size * BYTES[dtype];
}

/** A typed array over a buffer's elements in `memory` (valid until a non-shared memory grows). */
export function typedView(buffer: ArrayBufferLike, handle: WasmBuffer): TypedArray {
  const { ptr, size } = handle;
  switch (handle.dtype) {
    case 'float32':
      return new Float32Array(buffer, ptr, size);
    case 'float64':
      return new Float64Array(buffer, ptr, size);
    case 'int32':
      return new Int32Array(buffer, ptr, size);
    case 'bool':
      return new Uint8Array(buffer, ptr, size);
  }
}
