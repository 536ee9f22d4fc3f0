export * from './containers.js';
export { type FunctionalCallOptions, functionalCall } from './functional-call.js';
/**
 * Initializers (PyTorch's `nn.init`) that fill a tensor in place from a PRNG key or the default generator.
 */
export * as init from './init.js';
export { manualSeed } from './init.js';
export * from './layers/index.js';
export { type LoadResult, Module, Parameter, StateDictError, type TensorModule } from './module.js';
export { perSampleGrads } from './per-sample.js';
