// The kernels exported to JavaScript. Pointers are byte offsets into the imported memory;
// JavaScript owns allocation (src/allocator.ts), so the kernels never allocate.
export { gemm, gemmWorkspaceBytes } from './gemm';
export { fillZero, heapBase } from './memory';
export { col2im, copyBlocks, im2col } from './conv';
export { conv2dImages, conv2dWeightGradImages, convEpilogue, convTranspose2dImages, sumParts } from './conv-images';
export { avgPool2d, avgPool2dGrad, maxPool2d } from './pool';
export { gatherAxis, scatterAddAxis } from './indexing';
export { mapBinary, mapUnary, mapWhere } from './elementwise';
export { outerProduct } from './outer';
export { reduceColumns, reduceEnds, reduceRows } from './reduce';
export { vectorCos, vectorErf, vectorExp, vectorExpm1, vectorLog, vectorLog1p, vectorSin, vectorTanh } from './vector-math';
