import type { TypedArray } from '../dtype.js';
import type { Kernel } from '../primitives.js';

// PLACEHOLDER until the tiled kernel lands (helper task).
export const matmul: Kernel<'matmul', TypedArray> = () => {
  throw new Error('matmul kernel pending');
};
