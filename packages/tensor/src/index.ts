export type { Backend } from './backend.js';
export { BatchedReadError, type BatchHandle, BatchingBackend, batchLevels } from './batching.js';
export { checkArray, checkArrayList, checkInteger, checkNumber, checkOptions, checkRecord } from './check.js';
export { logErfc } from './cpu/erf.js';
export { cpuBackend } from './cpu/index.js';
export {
  contiguous,
  getBackend,
  holdsNoMemory,
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
  BYTES_PER_ELEMENT,
  checkDType,
  DTYPES,
  type DType,
  dtypeOfTyped,
  isFloat,
  promoteTypes,
  type TypedArray,
  type TypedArrayOf,
  toFloat,
} from './dtype.js';
export {
  ArithmeticError,
  DTypeError,
  describe,
  formatShape,
  IndexError,
  OutOfMemoryError,
  ShapeError,
  TsgradError,
  ValueError,
} from './errors.js';
export { checkPath, FileError } from './file-error.js';
export { type FormatOptions, formatNDArray } from './format.js';
export {
  FusedDomain,
  type FusedKernels,
  type FusedOp,
  type FusedProgram,
  type FusedReduceOp,
  type FusedStep,
  fusedDomains,
} from './fused.js';
export * from './kernel-layout.js';
export { setDeferThreshold } from './lazy.js';
export { type ArrayCreatedHook, NDArray, type NestedArray, setArrayCreatedHook } from './ndarray.js';
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
  checkShape,
  contiguousStrides,
  MAX_ARRAY_BYTES,
  MAX_NDIM,
  normalizeAxes,
  normalizeAxis,
  type Shape,
  sizeOf,
} from './shape.js';
export { sweepDeadArrays, useFinalizationRegistry } from './storage.js';
export { checkValues, isCheckingValues, isTraced } from './tracing.js';
