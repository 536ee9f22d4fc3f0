// The Tensor class comes first: its methods and the ops import each other.

import { selectDefaultBackend } from './default-backend.js';

// Importing autograd makes the fast backend the default (see selectDefaultBackend).
selectDefaultBackend();

export { AnomalyError } from './anomaly.js';
export * as arrays from './arrays.js';
export { selectDefaultBackend } from './default-backend.js';
export { backward, type GradientsOptions, gradients } from './engine.js';
export { isForwardActive } from './forward.js';
export * from './gradcheck.js';
export { inLibrary, inUserCode } from './lifetime.js';
export {
  detectAnomaly,
  enableGrad,
  isAnomalyEnabled,
  isGradEnabled,
  noGrad,
  setAnomalyDetection,
  setGradEnabled,
} from './mode.js';
export { type DefineOpOptions, defineOp, type Op, type OpContext, type OpDefinition } from './op.js';
export * from './ops/index.js';
export * from './pytree.js';
export { registeredOps } from './registry.js';
export type { ErrorSample, InputSpec, OpSample, OpSpec } from './spec.js';
export { type BackwardOptions, type GradHook, Tensor, type TensorLike } from './tensor.js';
export * from './transforms/index.js';
