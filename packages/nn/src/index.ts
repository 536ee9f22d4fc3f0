export * from './containers.js';
export * as init from './init.js';
export { manualSeed } from './init.js';
export * from './layers/index.js';
export { type LoadResult, Module, Parameter, StateDictError, type TensorModule } from './module.js';
