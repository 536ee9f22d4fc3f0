/**
 * The kernel module's exports. Each kernel file declares the exports it calls in its own
 * interface and reads them with `runtime.kernel<…>()`.
 */
export interface KernelExports {
  heapBase(): number;
  fillZero(ptr: number, bytes: number): void;
}
