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

  it('prepares calls of other layouts after one another, each with its own (shapes, strides, dtypes)', () => {
    T.withBackend(backend, () => {
      const a = T.array(seededValues(12, 4), { shape: [3, 4] });
      const rows = T.slice(a, [{ stop: 2 }]);
      const mask = (seed: number) => T.gt(T.array(seededValues(12, seed), { shape: [3, 4] }), 0);
      const cases: ['add' | 'logicalAnd', T.NDArray, T.NDArray][] = [
        ['add', a, T.broadcastTo(T.array(seededValues(4, 6), { shape: [4] }), [3, 4])],
        ['add', a, T.broadcastTo(T.array(seededValues(3, 5), { shape: [3, 1] }), [3, 4])], // other strides
        ['add', T.transpose(a), T.array(seededValues(12, 7), { shape: [4, 3] })], // other shape and strides
        ['add', rows, T.array(seededValues(8, 8), { shape: [2, 4] })], // other shape, same strides
        ['add', a, T.array(seededValues(12, 9), { shape: [3, 4] })],
        ['add', a, T.array(seededValues(12, 10), { shape: [3, 4] })], // the layout before
        ['logicalAnd', mask(11), mask(12)], // the layout before, 1-byte elements
      ];
      const prepared = cases.map(([op, x, y]) => {
        const out = T.zeros(x.shape, { dtype: x.dtype });
        const call = backend.prepare?.(op, [viewOf(out)], [viewOf(x), viewOf(y)], {});
        expect(call).toBeDefined();
        return { out, call, expected: (op === 'add' ? T.add(x, y) : T.logicalAnd(x, y)).toTypedArray() };
      });
      for (const { out, call, expected } of prepared) {
        call?.();
        expect(out.toTypedArray()).toEqual(expected);
      }
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
