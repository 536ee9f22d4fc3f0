import { defaultWasmBackend } from '@tsgrad/backend-wasm/default';
import { isBackendSelected, setBackend } from '@tsgrad/tensor';

/**
 * Makes the wasm backend (SIMD kernels, worker threads in Node and cross-origin isolated
 * pages) the default for new arrays, unless the program already selected a backend.
 * `setBackend(cpuBackend)` selects the reference backend.
 */
export function selectDefaultBackend(): void {
  if (!isBackendSelected()) setBackend(defaultWasmBackend());
}
