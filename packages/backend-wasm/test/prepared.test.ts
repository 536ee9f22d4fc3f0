import type { WasmBuffer } from '@tsgrad/backend-wasm';
import { createNodeWasmBackend } from '@tsgrad/backend-wasm/node';
import * as T from '@tsgrad/tensor';
import { describe, expect, it } from 'vitest';
import { seededValues } from './helpers.js';

// Prepared elementwise calls (Backend.prepare, used by jit's executor): laid out once, run
// many times on whatever buffers the views point at by then, with the kernel's results.

const backend = createNodeWasmBackend({ threads: 1 });

const viewOf = (x: T.NDArray) => ({
  handle: x.storage.handle as WasmBuffer,
  dtype: x.dtype,
  shape: x.shape,
  strides: x.strides,
  offset: x.offset,
});

describe('Backend.prepare', () => {
  it('runs a broadcast, offset binary op like the kernel, and follows the views to new buffers', () => {
    T.withBackend(backend, () => {
      const a = T.array(seededValues(24, 1), { shape: [2, 3, 4] });
      const row = T.slice(T.array(seededValues(8, 2), { shape: [2, 4] }), [{ start: 1 }]);
      const b = T.broadcastTo(row, [2, 3, 4]);
      const out = T.zeros([2, 3, 4]);
      const outView = viewOf(out);
      const inViews = [viewOf(a), viewOf(b)];
      const call = backend.prepare?.('mul', [outView], inViews, {});
      expect(call).toBeDefined();
      call?.();
      expect(out.toTypedArray()).toEqual(T.mul(a, b).toTypedArray());
      // Other buffers of the same layout: only the handles change.
      const a2 = T.array(seededValues(24, 3), { shape: [2, 3, 4] });
      const out2 = T.zeros([2, 3, 4]);
      inViews[0].handle = a2.storage.handle as WasmBuffer;
      outView.handle = out2.storage.handle as WasmBuffer;
      call?.();
      expect(out2.toTypedArray()).toEqual(T.mul(a2, b).toTypedArray());
    });
  });

  it('leaves what has no fast kernel to the kernel table (float64, matmul)', () => {
    T.withBackend(backend, () => {
      const x = T.array([1, 2], { dtype: 'float64' });
      expect(backend.prepare?.('exp', [viewOf(T.zerosLike(x))], [viewOf(x)], {})).toBeUndefined();
      const m = T.eye(2);
      expect(
        backend.prepare?.('matmul', [viewOf(T.zerosLike(m))], [viewOf(m), viewOf(m)], {}),
      ).toBeUndefined();
    });
  });
});
