import type { DType, TypedArray } from './dtype.js';

// PLACEHOLDER until the NumPy/PyTorch-style printer lands (helper task).
export function formatNDArray(shape: readonly number[], dtype: DType, data: TypedArray): string {
  return `NDArray(${Array.from(data).join(', ')}, shape=[${shape.join(',')}], dtype=${dtype})`;
}
