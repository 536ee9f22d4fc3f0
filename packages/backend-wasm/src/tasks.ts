/**
 * Kernel exports the pool splits across its threads: each takes (…args, part, parts, thread)
 * and does part `part` of `parts` (`thread`, the index of the thread running it, selects
 * per-thread scratch space; kernels without any may leave it out). Append new parallel
 * kernels here.
 */
export const PARALLEL_TASKS: readonly string[] = [
  'gemm',
  'im2col',
  'col2im',
  'copyBlocks',
  'conv2dImages',
  'convTranspose2dImages',
  'conv2dWeightGradImages',
  'convEpilogue',
  'maxPool2d',
  'avgPool2d',
  'avgPool2dGrad',
  'gatherAxis',
  'scatterAddAxis',
  'mapUnary',
  'mapBinary',
  'mapWhere',
  'outerProduct',
  'reduceRows',
  'reduceColumns',
  'reduceEnds',
  // Built into the worker body (worker-main.ts), for kernels generated at run time.
  'loadGenerated',
  'runGenerated',
];
