/** The first byte after the module's static data: JavaScript's heap starts here. */
export function heapBase(): usize {
  return __heap_base;
}

/** Zeroes `bytes` bytes from `ptr` (a bulk-memory fill, much faster than a JS fill of shared memory). */
export function fillZero(ptr: usize, bytes: usize): void {
  memory.fill(ptr, 0, bytes);
}
