export { createWasmBackend, type WasmBackend } from './backend.js';
export { browserThreads, browserWorkerPlatform } from './browser-platform.js';
export { WasmBuffer } from './buffer.js';
export type { SpawnWorker, WorkerPlatform } from './pool.js';
export type { RuntimeOptions, WasmRuntime } from './runtime.js';
export type { WorkerInit } from './worker-main.js';
