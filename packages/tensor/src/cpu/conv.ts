import type { TypedArray } from '../dtype.js';
import type { Kernel } from '../primitives.js';

// PLACEHOLDER until the conv kernels land (helper task).
const pending = () => {
  throw new Error('conv kernel pending');
};
export const conv2d: Kernel<'conv2d', TypedArray> = pending;
export const convTranspose2d: Kernel<'convTranspose2d', TypedArray> = pending;
export const conv2dWeightGrad: Kernel<'conv2dWeightGrad', TypedArray> = pending;
