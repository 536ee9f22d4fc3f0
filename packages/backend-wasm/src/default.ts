/**
 * The wasm backend this platform should use by default: in browsers, Web Workers when the
 * page is cross-origin isolated; in Node (the `node` export condition), the Node backend.
 *
 * @packageDocumentation
 */
import { createWasmBackend, type WasmBackend } from './backend.js';
import { browserThreads, browserWorkerPlatform } from './browser-platform.js';

let backend: WasmBackend | undefined;

/** The shared wasm backend of this page or worker (Web Workers when cross-origin isolated). */
export function defaultWasmBackend(): WasmBackend {
  backend ??= createWasmBackend({ platform: browserWorkerPlatform(), threads: browserThreads() });
  return backend;
}
