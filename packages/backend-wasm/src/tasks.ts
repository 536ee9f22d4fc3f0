/**
 * Kernel exports that run on every pool thread: each takes (…args, thread, threads) and does
 * its share of the work. Append new parallel kernels here.
 */
export const PARALLEL_TASKS: readonly string[] = [
  'gemm',
  'im2col',
  'col2im',
  'copyBlocks',
  'maxPool2d',
  'avgPool2d',
  'avgPool2dGrad',
  'gatherAxis',
  'scatterAddAxis',
  'mapUnary',
  'mapBinary',
  'mapWhere',
  'reduceRows',
  'reduceColumns',
  // Built into the worker body (worker-main.ts), for kernels generated at run time.
  'loadGenerated',
  'runGenerated',
];
