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

describe('on an unshared memory (browsers without cross-origin isolation)', () => {
  it('runs one thread and keeps computing after the memory grows and detaches its buffer', () => {
    const unshared = createNodeWasmBackend({ sharedMemory: false });
    expect(unshared.runtime.variant.shared).toBe(false);
    expect(unshared.runtime.pool.activeThreads).toBe(1);
    const compute = () => {
      const [ka, kb] = T.random.split(T.random.key(3));
      const a = T.random.normal(ka, [64, 48]);
      const b = T.random.normal(kb, [48, 40]);
      const x = T.random.normal(ka, [2, 3, 9, 9]);
      const w = T.random.normal(kb, [4, 3, 3, 3]);
      return [
        T.exp(T.matmul(a, b)),
        T.add(T.transpose(a), 1),
        T.sum(b, { axis: 0 }),
        T.maxPool2d(T.conv2d(x, w, { padding: 1 }), { kernelSize: 2 }),
      ].map((y) => Array.from(y.toTypedArray()));
    };
    const expected = T.withBackend(T.cpuBackend, compute);
    T.withBackend(unshared, () => {
      for (let round = 0; round < 3; round++) {
        T.zeros([(round + 1) * 1_000_000]); // grows the memory
        const actual = compute();
        actual.forEach((values, k) => {
          values.forEach((v, i) => {
            expect(Math.abs(v - expected[k][i])).toBeLessThanOrEqual(1e-4 * (1 + Math.abs(expected[k][i])));
          });
        });
      }
    });
    expect(unshared.runtime.memory.buffer.byteLength).toBeGreaterThan(4_000_000);
  });
});
