import { createNodeWasmBackend, type WasmBackend } from '@tsgrad/backend-wasm/node';
import { expect } from 'vitest';

// What the kernel tests share: backends on one and two threads, seeded inputs, and a way to
// see whether the pool was asked to split the work.

/** A backend on one thread and one whose worker is ready (await it in `beforeAll`). */
export function threadBackends(): Record<1 | 2, WasmBackend> {
  return { 1: createNodeWasmBackend({ threads: 1 }), 2: createNodeWasmBackend({ threads: 2 }) };
}

/** Waits until `backend`'s workers have started, so that its large kernels really split. */
export async function workersReady(backend: WasmBackend): Promise<void> {
  const { pool } = backend.runtime;
  for (let wait = 0; wait < 500 && !pool.ready; wait++) await new Promise((r) => setTimeout(r, 10));
  expect(pool.ready).toBe(true);
}

/** A deterministic uniform generator in [0, 1) (a linear congruential one: cheap, and enough for test data). */
export function uniformFrom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Deterministic values in [-2, 2), exact in float32. */
export function seededValues(size: number, seed: number): Float32Array {
  const next = uniformFrom(seed);
  return Float32Array.from({ length: size }, () => next() * 4 - 2);
}

/** How many of the kernel calls `fn` makes ask `backend`'s pool to split the work. */
export function parallelRuns(backend: WasmBackend, fn: () => void): number {
  const { pool } = backend.runtime;
  const run = pool.run.bind(pool);
  let count = 0;
  pool.run = (name, args, parallel = true) => {
    if (parallel) count++;
    run(name, args, parallel);
  };
  try {
    fn();
  } finally {
    Reflect.deleteProperty(pool, 'run');
  }
  return count;
}
