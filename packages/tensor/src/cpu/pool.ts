import type { TypedArray } from '../dtype.js';
import type { Kernel } from '../primitives.js';

// PLACEHOLDER until the pooling kernels land (helper task).
const pending = () => {
  throw new Error('pool kernel pending');
};
export const maxPool2d: Kernel<'maxPool2d', TypedArray> = pending;
export const avgPool2d: Kernel<'avgPool2d', TypedArray> = pending;
export const avgPool2dGrad: Kernel<'avgPool2dGrad', TypedArray> = pending;
