import type { Backend } from '../backend.js';
import { allocTyped, type DType, type TypedArray } from '../dtype.js';
import type { KernelTable } from '../primitives.js';
import { conv2d, conv2dWeightGrad, convTranspose2d } from './conv.js';
import { binaryKernels, cast, copy, unaryKernels, where } from './elementwise.js';
import { cpuFusedKernels } from './fused.js';
import { gather, indexSelect, scatterAdd } from './indexing.js';
import { matmul } from './matmul.js';
import { concat, pad } from './movement.js';
import { avgPool2d, avgPool2dGrad, maxPool2d } from './pool.js';
import { argmax, argmin, cumprod, cumsum, max, min, prod, sum } from './reduce.js';
import { sort } from './sort.js';

const kernels: KernelTable<TypedArray> = {
  ...unaryKernels,
  ...binaryKernels,
  where,
  cast,
  copy,
  sum,
  prod,
  max,
  min,
  argmax,
  argmin,
  cumsum,
  cumprod,
  pad,
  concat,
  gather,
  indexSelect,
  scatterAdd,
  sort,
  matmul,
  conv2d,
  convTranspose2d,
  conv2dWeightGrad,
  maxPool2d,
  avgPool2d,
  avgPool2dGrad,
};

/**
 * The CPU reference backend: plain typed arrays on the JS heap, every dtype including
 * float64. Every other backend is tested against it.
 */
export const cpuBackend: Backend<TypedArray> = {
  name: 'cpu',
  dtypes: ['float32', 'float64', 'int32', 'bool'],
  kernels,
  fused: cpuFusedKernels,
  alloc: (dtype: DType, size: number) => allocTyped(dtype, size),
  write: (handle, _dtype, data) => handle.set(data),
  read: (handle, _dtype, offset, size) => handle.slice(offset, offset + size),
};
