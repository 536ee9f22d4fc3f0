import * as T from '@tsgrad/tensor';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gemm } from '../src/kernels/gemm.js';
import { nodeWorkerPlatform } from '../src/node/platform.js';
import { WasmRuntime } from '../src/runtime.js';
import { seededValues, threadBackends, workersReady } from './helpers.js';

const backends = threadBackends();

beforeAll(() => workersReady(backends[2]));

/**
 * How an operand is laid out. Each builds an array of the requested logical shape; the
 * 'expanded' ones repeat one row (stride 0 between rows) or one column (stride 0 along it).
 */
type Layout =
  | 'contiguous'
  | 'transposed'
  | 'permuted'
  | 'sliced'
  | 'flipped'
  | 'offset'
  | 'expandedRows'
  | 'expandedCols';
const layouts: readonly Layout[] = [
  'contiguous',
  'transposed',
  'permuted',
  'sliced',
  'flipped',
  'offset',
  'expandedRows',
  'expandedCols',
];

/** An operand of `shape` (rank ≥ 2) laid out as `layout`, on the current backend. */
function buildOperand(shape: readonly number[], dtype: T.DType, layout: Layout, seed: number): T.NDArray {
  const rank = shape.length;
  const make = (s: readonly number[]) => T.array(seededValues(T.sizeOf(s), seed), { shape: [...s], dtype });
  switch (layout) {
    case 'contiguous':
      return make(shape);
    case 'transposed':
      return T.transpose(make([...shape.slice(0, -2), shape[rank - 1], shape[rank - 2]]));
    case 'permuted': {
      const order = shape.map((_, i) => rank - 1 - i);
      return T.permute(make(order.map((i) => shape[i])), order);
    }
    case 'sliced':
      return T.slice(
        make(shape.map((d, i) => (i === rank - 1 ? 2 * d : d))),
        shape.map((_, i) => (i === rank - 1 ? { step: 2 } : null)),
      );
    case 'flipped':
      return T.flip(make(shape));
    case 'offset':
      return T.slice(make([shape[0] + 2, ...shape.slice(1)]), [{ start: 1, stop: shape[0] + 1 }]);
    case 'expandedRows':
      return T.broadcastTo(make([...shape.slice(0, -2), 1, shape[rank - 1]]), shape);
    case 'expandedCols':
      return T.broadcastTo(make([...shape.slice(0, -1), 1]), shape);
  }
}

interface OperandSpec {
  readonly shape: readonly number[];
  readonly layout: Layout;
  readonly seed: number;
}

/**
 * T.matmul on the wasm backend against the CPU reference on the same values. Float32 may
 * differ by the rounding of a float32 sum of k products: |Δ| ≤ (k + 2)·2⁻²⁴·Σ|a·b|.
 */
function checkAgainstReference(
  threads: 1 | 2,
  a: OperandSpec,
  b: OperandSpec,
  dtype: T.DType = 'float32',
): void {
  const run = (backend: T.Backend) =>
    T.withBackend(backend, () => {
      const x = buildOperand(a.shape, dtype, a.layout, a.seed);
      const y = buildOperand(b.shape, dtype, b.layout, b.seed);
      const product = T.matmul(x, y);
      const scale = T.matmul(T.abs(T.cast(x, 'float64')), T.abs(T.cast(y, 'float64')));
      return { shape: product.shape, values: product.toTypedArray(), scale: scale.toTypedArray() };
    });
  const got = run(backends[threads]);
  const want = run(T.cpuBackend);
  expect(got.shape).toEqual(want.shape);
  if (dtype !== 'float32') {
    expect(got.values).toEqual(want.values);
    return;
  }
  const k = a.shape[a.shape.length - 1];
  const rtol = (k + 2) * 2 ** -24;
  for (let i = 0; i < want.values.length; i++) {
    const error = Math.abs(Number(got.values[i]) - Number(want.values[i]));
    if (!(error <= rtol * Number(want.scale[i]))) {
      throw new Error(`element ${i} of [${want.shape}]: got ${got.values[i]}, expected ${want.values[i]}`);
    }
  }
}

/** Sizes that cross the 4×8 register tile often: mostly 0..12, sometimes up to 70. */
const dimArb = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 12 }) },
  { weight: 2, arbitrary: fc.integer({ min: 13, max: 70 }) },
);
const layoutArb = fc.constantFrom(...layouts);
const threadsArb = fc.constantFrom<1 | 2>(1, 2);

describe('matmul on the wasm backend', () => {
  it('matches the CPU reference for random sizes and operand layouts', () => {
    fc.assert(
      fc.property(
        fc.record({ m: dimArb, k: dimArb, n: dimArb }),
        layoutArb,
        layoutArb,
        threadsArb,
        fc.integer(),
        ({ m, k, n }, aLayout, bLayout, threads, seed) => {
          checkAgainstReference(
            threads,
            { shape: [m, k], layout: aLayout, seed },
            { shape: [k, n], layout: bLayout, seed: seed + 1 },
          );
        },
      ),
      { numRuns: 150 },
    );
  });

  it('broadcasts batch axes, stride 0 included', () => {
    const batchArb = fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 2 });
    // Each operand drops some leading batch axes and may turn others into 1 (broadcast).
    const viewArb = fc.record({
      drop: fc.integer({ min: 0, max: 2 }),
      ones: fc.array(fc.boolean(), { minLength: 2 }),
    });
    const derive = (batch: number[], v: { drop: number; ones: boolean[] }) =>
      batch.slice(Math.min(v.drop, batch.length)).map((d, i) => (v.ones[i] ? 1 : d));
    fc.assert(
      fc.property(
        batchArb,
        viewArb,
        viewArb,
        fc.record({ m: dimArb, k: fc.integer({ min: 0, max: 20 }), n: dimArb }),
        layoutArb,
        layoutArb,
        threadsArb,
        fc.integer(),
        (batch, aView, bView, { m, k, n }, aLayout, bLayout, threads, seed) => {
          checkAgainstReference(
            threads,
            { shape: [...derive(batch, aView), m, k], layout: aLayout, seed },
            { shape: [...derive(batch, bView), k, n], layout: bLayout, seed: seed + 1 },
          );
        },
      ),
      { numRuns: 60 },
    );
  });

  it('crosses the cache blocks on two threads (300×257 · 257×129 and transposed operands)', () => {
    expect(backends[2].runtime.pool.activeThreads).toBe(2);
    for (const [aLayout, bLayout] of [
      ['contiguous', 'contiguous'],
      ['transposed', 'transposed'],
      ['flipped', 'sliced'],
    ] as const) {
      checkAgainstReference(
        2,
        { shape: [300, 257], layout: aLayout, seed: 1 },
        { shape: [257, 129], layout: bLayout, seed: 2 },
      );
    }
    // Wide and short, like a convolution's im2col product: the threads split n.
    checkAgainstReference(
      2,
      { shape: [20, 144], layout: 'contiguous', seed: 3 },
      { shape: [144, 1500], layout: 'contiguous', seed: 4 },
    );
  });

  it('runs an inner dimension of 1 (batched outer products) over any layout, on one and two threads', () => {
    fc.assert(
      fc.property(
        fc.record({ batch: fc.integer({ min: 0, max: 3 }), m: dimArb, n: dimArb }),
        fc.boolean(),
        fc.boolean(),
        layoutArb,
        layoutArb,
        threadsArb,
        fc.integer(),
        ({ batch, m, n }, aBatched, bBatched, aLayout, bLayout, threads, seed) => {
          checkAgainstReference(
            threads,
            { shape: [aBatched ? batch : 1, m, 1], layout: aLayout, seed },
            { shape: [bBatched ? batch : 1, 1, n], layout: bLayout, seed: seed + 1 },
          );
        },
      ),
      { numRuns: 100 },
    );
    // Per-example weight gradients: large enough for the threads to split the rows.
    for (const threads of [1, 2] as const) {
      checkAgainstReference(
        threads,
        { shape: [5, 301, 1], layout: 'transposed', seed: 7 },
        { shape: [5, 1, 257], layout: 'contiguous', seed: 8 },
      );
      // Over 8 MiB of output: more parts than the pool's default, with boundaries inside examples.
      checkAgainstReference(
        threads,
        { shape: [7, 1001, 1], layout: 'contiguous', seed: 9 },
        { shape: [7, 1, 331], layout: 'flipped', seed: 10 },
      );
    }
  });

  it('writes zeros for an empty inner dimension', () => {
    for (const threads of [1, 2] as const) {
      checkAgainstReference(
        threads,
        { shape: [9, 0], layout: 'contiguous', seed: 1 },
        { shape: [0, 13], layout: 'contiguous', seed: 2 },
      );
    }
  });

  it('runs float64 and int32 on the reference kernel, exactly', () => {
    for (const dtype of ['float64', 'int32'] as const) {
      checkAgainstReference(
        1,
        { shape: [2, 17, 23], layout: 'flipped', seed: 5 },
        { shape: [23, 9], layout: 'transposed', seed: 6 },
        dtype,
      );
    }
  });
});

describe('gemm', () => {
  // Bare runtimes built from the sources, driving the kernel wrapper directly on raw memory.
  const runtimes: Record<1 | 2, WasmRuntime> = {
    1: new WasmRuntime({ threads: 1 }),
    2: new WasmRuntime({ threads: 2, platform: nodeWorkerPlatform }),
  };
  beforeAll(async () => {
    const { pool } = runtimes[2];
    for (let wait = 0; wait < 500 && !pool.ready; wait++) await new Promise((r) => setTimeout(r, 10));
    expect(pool.ready).toBe(true);
  });
  afterAll(() => runtimes[2].pool.close());

  /** C = beta·C + A·B through the wrapper (B stored transposed), and its float64 reference. */
  function runGemm(m: number, k: number, n: number, beta: 0 | 1, threads: 1 | 2, seed: number) {
    const runtime = runtimes[threads];
    const a = seededValues(m * k, seed);
    const bT = seededValues(n * k, seed + 1);
    // beta = 0 must overwrite whatever C holds, NaN included.
    const initial = beta === 0 ? new Float32Array(m * n).fill(Number.NaN) : seededValues(m * n, seed + 2);
    const [aPtr, bPtr, cPtr] = [a, bT, initial].map((values) => {
      const ptr = runtime.allocator.alloc(values.length * 4);
      new Float32Array(runtime.buffer, ptr, values.length).set(values);
      return ptr;
    });
    gemm(runtime, {
      m,
      n,
      k,
      a: { ptr: aPtr, rowStride: k, colStride: 1 },
      b: { ptr: bPtr, rowStride: 1, colStride: k },
      c: { ptr: cPtr, ldc: n },
      beta,
    });
    const got = new Float32Array(runtime.buffer, cPtr, m * n).slice();
    const want = new Float64Array(m * n);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let sum = beta === 0 ? 0 : initial[i * n + j];
        for (let p = 0; p < k; p++) sum += a[i * k + p] * bT[j * k + p];
        want[i * n + j] = sum;
      }
    }
    return { got, want };
  }

  it('overwrites C with beta = 0 and adds to it with beta = 1, on one and two threads', () => {
    for (const [m, k, n] of [
      [5, 3, 7],
      [6, 0, 9], // k = 0: C becomes 0 (beta = 0) or stays (beta = 1)
      [130, 300, 60], // big enough for two threads: they split m
      [7, 260, 1203], // they split n
    ]) {
      for (const beta of [0, 1] as const) {
        for (const threads of [1, 2] as const) {
          const { got, want } = runGemm(m, k, n, beta, threads, m + k + n);
          for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-3);
        }
      }
    }
  });
});
