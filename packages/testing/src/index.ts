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
export { type HarnessTolerances, tolerancesFor } from './checks.js';
export { mismatch, type Tolerance } from './compare.js';
export {
  type CheckAllOptions,
  type ConformanceOptions,
  checkAllOps,
  checkOp,
  expectOpConforms,
} from './conformance.js';
export { type DrawnInputs, drawInputs, mixSeed, seededRandom, toTensors } from './draw.js';
export { LAYER_CASES, type LayerCase, NOT_LAYERS } from './layer-cases.js';
export {
  formatLayerCounts,
  formatLayerFailure,
  formatLayerReport,
  LAYER_CHECKS,
  type LayerCheckName,
  type LayerConformanceCounts,
  LayerConformanceError,
  type LayerConformanceReport,
  type LayerFailure,
  type LayerReport,
  summarizeLayers,
} from './layer-report.js';
export { checkLayer, expectLayerConforms, type LayerCheckOptions } from './layers.js';
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
