import { attachTensorMethods } from './methods.js';

// Autograd picks no backend (the `tsgrad` package selects the default one). Its one side
// effect: the Tensor methods that call ops or the tape (`x.add(y)`, `x.backward()`).
attachTensorMethods();

export { AnomalyError } from './anomaly.js';
export { backward, type GradientsOptions, gradients } from './engine.js';
export { isForwardActive } from './forward.js';
export * from './gradcheck.js';
export { inLibrary, inUserCode } from './lifetime.js';
// Also brings the declaration of the Tensor methods (methods.ts) into the package's types.
export type { TensorMethods } from './methods.js';
export {
  detectAnomaly,
  enableGrad,
  isAnomalyEnabled,
  isGradEnabled,
  noGrad,
  setAnomalyDetection,
  setGradEnabled,
} from './mode.js';
export { type DefineOpOptions, defineOp, type Op, type OpDefinition, registeredOps } from './op.js';
export * from './ops/index.js';
export * from './pytree.js';
export type { ErrorSample, InputSpec, OpSample, OpSpec } from './spec.js';
export { type BackwardOptions, type GradHook, type OpContext, Tensor, type TensorLike } from './tensor.js';
export * from './transforms/index.js';
export { InPlaceModificationError } from './versions.js';
