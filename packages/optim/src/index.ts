export * from './clip.js';
export { EarlyStopping, type EarlyStoppingOptions, type EarlyStoppingStateDict } from './early-stopping.js';
export { type EmaStateDict, ExponentialMovingAverage } from './ema.js';
export * from './functional.js';
export { totalNorm } from './norms.js';
export {
  type CompiledUpdateArguments,
  type JsonValue,
  Optimizer,
  type OptimizerParams,
  type OptimizerStateDict,
  type ParamGroup,
  type ParamGroupInput,
  type SavedParamGroup,
} from './optimizer.js';
export * from './optimizers.js';
export * from './plateau.js';
export * as privacy from './privacy/index.js';
export * from './regularizers.js';
export * from './scheduler.js';
export * from './schedules.js';
export { scalarsAsArrays } from './state-tree.js';
export {
  applyUpdates,
  chain,
  defineTransformation,
  type EmptyState,
  elementwise,
  type GradientTransformation,
  identity,
  type Schedule,
} from './transform.js';
export * from './transforms/adam.js';
export * from './transforms/basic.js';
export { type EmaOptions, type EmaState, ema } from './transforms/ema.js';
export * from './transforms/lion.js';
export * from './transforms/momentum.js';
export * from './transforms/rms.js';
