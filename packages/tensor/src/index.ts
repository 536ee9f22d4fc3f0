export type { Backend } from './backend.js';
export { cpuBackend } from './cpu/index.js';
export {
  contiguous,
  getBackend,
  isBackendSelected,
  isTracingBackend,
  type OutputSpec,
  runPrimitive,
  setBackend,
  type TracingBackend,
  withBackend,
} from './dispatch.js';
export {
  allocTyped,
  DTYPES,
  type DType,
  dtypeOfTyped,
  isFloat,
  promoteTypes,
  type TypedArray,
  type TypedArrayOf,
  toFloat,
} from './dtype.js';
export { DTypeError, IndexError, ShapeError, TsgradError, ValueError } from './errors.js';
export { type FormatOptions, formatNDArray } from './format.js';
export * from './kernel-layout.js';
export { NDArray, type NestedArray } from './ndarray.js';
export * from './ops/combine.js';
export * from './ops/conv.js';
export * from './ops/creation.js';
export * from './ops/elementwise.js';
export * from './ops/indexing.js';
export * from './ops/linalg.js';
export * from './ops/pool.js';
export * from './ops/reduce.js';
export * from './ops/sort.js';
export * from './ops/views.js';
export type * from './primitives.js';
export { BINARY_PRIMITIVES, REDUCE_PRIMITIVES, STRIDED_PRIMITIVES, UNARY_PRIMITIVES } from './primitives.js';
export * from './random.js';
export {
  broadcastShapes,
  contiguousStrides,
  normalizeAxes,
  normalizeAxis,
  type Shape,
  sizeOf,
} from './shape.js';
export { sweepDeadArrays, useFinalizationRegistry } from './storage.js';
export { checkValues, isCheckingValues, isTraced } from './tracing.js';
