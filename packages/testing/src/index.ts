export {
  broadcastableShapes,
  float64Values,
  type NDArrayOptions,
  ndarray,
  type ShapeOptions,
  shape,
  type TensorOptions,
  tensor,
  type ValueOptions,
} from './arbitraries.js';
export {
  type CheckAllOptions,
  type ConformanceOptions,
  checkAllOps,
  checkOp,
  expectOpConforms,
} from './conformance.js';
export {
  type CheckName,
  type CheckSummary,
  type ConformanceCounts,
  ConformanceError,
  type ConformanceFailure,
  type ConformanceReport,
  formatCounts,
  formatFailure,
  formatReport,
  type OpReport,
  summarize,
} from './report.js';
