import * as T from '@tsgrad/tensor';

/** The CPU backend, counting its live buffers and refusing to free a buffer twice. */
export function countingBackend(): { readonly backend: T.Backend; live(): number } {
  const cpu = T.cpuBackend;
  const live = new Set<unknown>();
  const backend: T.Backend = {
    ...cpu,
    name: 'counting',
    alloc(dtype, size) {
      const handle = cpu.alloc(dtype, size);
      live.add(handle);
      return handle;
    },
    free(handle) {
      if (!live.delete(handle)) throw new Error('a buffer was freed twice');
    },
  };
  return { backend, live: () => live.size };
}
