export * from './index.js';
export { collectGarbage, createNodeWasmBackend, defaultWasmBackend } from './node/default.js';
export { nodeThreads, nodeWorkerPlatform } from './node/platform.js';
