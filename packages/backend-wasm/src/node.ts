/**
 * The Node entry of `@tsgrad/backend-wasm`: everything in the main entry, plus the Node
 * backend (worker_threads pool, relaxed SIMD, garbage collection before the memory grows).
 *
 * @packageDocumentation
 */
export * from './index.js';
export { collectGarbage, createNodeWasmBackend, defaultWasmBackend } from './node/default.js';
export { nodeThreads, nodeWorkerPlatform } from './node/platform.js';
