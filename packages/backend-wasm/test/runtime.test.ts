import { createNodeWasmBackend } from '@tsgrad/backend-wasm/node';
import * as T from '@tsgrad/tensor';
import { describe, expect, it } from 'vitest';

const wasm = createNodeWasmBackend({ threads: 1 });

describe('wasm backend', () => {
  it('keeps arrays in its memory and runs every primitive on them', () => {
    T.withBackend(wasm, () => {
      const a = T.array([
        [1, 2],
        [3, 4],
      ]);
      const b = T.exp(T.matmul(a, T.transpose(a)));
      expect(b.backend).toBe(wasm);
      const host = T.withBackend(T.cpuBackend, () =>
        T.exp(
          T.matmul(
            T.array([
              [1, 2],
              [3, 4],
            ]),
            T.array([
              [1, 3],
              [2, 4],
            ]),
          ),
        ),
      );
      expect(Array.from(b.toTypedArray())).toEqual(Array.from(host.toTypedArray()));
    });
  });

  it('frees a disposed array for reuse', () => {
    const { allocator } = wasm.runtime;
    T.withBackend(wasm, () => {
      const before = allocator.inUse;
      const x = T.zeros([1000]);
      expect(allocator.inUse).toBeGreaterThan(before);
      x.dispose();
      expect(allocator.inUse).toBe(before);
    });
  });
});
