import * as T from '@tsgrad/tensor';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { seededValues, threadBackends, workersReady } from './helpers.js';

// The float32 convolution kernels against the CPU reference on identical inputs: random
// geometries (groups, strides, dilations, asymmetric padding, kernels as large as the input,
// size-1 and size-0 axes), one and two threads, inputs large enough to split over the threads
// and to be processed in several chunks, and float64, which runs the reference itself. Batches
// of up to 5 images take both paths: split over the images (from two images per thread) or
// over each GEMM.

const backends = threadBackends();

beforeAll(() => workersReady(backends[2]));

interface Geometry {
  readonly batch: number;
  readonly groups: number;
  readonly groupIn: number;
  readonly groupOut: number;
  readonly size: readonly [number, number];
  readonly kernel: readonly [number, number];
  readonly params: T.Conv2dParams;
  /** Extra rows/columns of convTranspose2d's output beyond the conv input (≤ what the reference drops). */
  readonly extra: readonly [number, number];
}

const outSizeOf = (g: Geometry, axis: 0 | 1) => {
  const pad = g.params.padding[2 * axis] + g.params.padding[2 * axis + 1];
  const span = g.params.dilation[axis] * (g.kernel[axis] - 1) + 1;
  return Math.floor((g.size[axis] + pad - span) / g.params.stride[axis]) + 1;
};

const shapes = (g: Geometry) => ({
  x: [g.batch, g.groups * g.groupIn, ...g.size],
  w: [g.groups * g.groupOut, g.groupIn, ...g.kernel],
  y: [g.batch, g.groups * g.groupOut, outSizeOf(g, 0), outSizeOf(g, 1)],
});

/**
 * One axis: kernel, stride, dilation, padding before/after, and an input size with output ≥ 1;
 * 'same' axes (stride 1, output as large as the input) take the kernels' fast row path.
 */
const axis = fc
  .record({
    kernel: fc.integer({ min: 1, max: 4 }),
    stride: fc.integer({ min: 1, max: 3 }),
    dilation: fc.integer({ min: 1, max: 3 }),
    before: fc.integer({ min: 0, max: 2 }),
    after: fc.integer({ min: 0, max: 2 }),
    slack: fc.integer({ min: 0, max: 6 }),
    extra: fc.integer({ min: 0, max: 2 }),
    same: fc.boolean(),
  })
  .map(({ same, ...a }) => {
    if (same) {
      const total = a.dilation * (a.kernel - 1);
      const before = Math.min(a.before, total);
      return { ...a, stride: 1, before, after: total - before, size: 1 + a.slack };
    }
    return { ...a, size: Math.max(1, a.dilation * (a.kernel - 1) + 1 - a.before - a.after) + a.slack };
  });

const geometry: fc.Arbitrary<Geometry> = fc
  .record({
    batch: fc.integer({ min: 0, max: 5 }),
    groups: fc.integer({ min: 1, max: 3 }),
    groupIn: fc.integer({ min: 1, max: 3 }),
    groupOut: fc.integer({ min: 1, max: 3 }),
    rows: axis,
    cols: axis,
  })
  .map(({ batch, groups, groupIn, groupOut, rows, cols }) => ({
    batch,
    groups,
    groupIn,
    groupOut,
    size: [rows.size, cols.size] as const,
    kernel: [rows.kernel, cols.kernel] as const,
    params: {
      stride: [rows.stride, cols.stride] as const,
      padding: [rows.before, rows.after, cols.before, cols.after] as const,
      dilation: [rows.dilation, cols.dilation] as const,
      groups,
    },
    extra: [rows.extra, cols.extra] as const,
  }));

type Primitive = 'conv2d' | 'convTranspose2d' | 'conv2dWeightGrad';

/** Runs one primitive of geometry `g` on `backend` and returns its output. */
function run(backend: T.Backend<unknown>, primitive: Primitive, g: Geometry, dtype: T.DType, seed: number) {
  const s = shapes(g);
  return T.withBackend(backend, () => {
    const make = (shape: readonly number[], salt: number) =>
      T.array(seededValues(T.sizeOf(shape), seed + salt), { shape: [...shape], dtype });
    if (primitive === 'conv2d') {
      return T.runPrimitive('conv2d', [make(s.x, 1), make(s.w, 2)], g.params, [{ shape: s.y, dtype }])[0];
    }
    if (primitive === 'conv2dWeightGrad') {
      const params = { ...g.params, kernelSize: g.kernel };
      return T.runPrimitive('conv2dWeightGrad', [make(s.x, 1), make(s.y, 3)], params, [
        { shape: s.w, dtype },
      ])[0];
    }
    const outSize = [g.size[0] + g.extra[0], g.size[1] + g.extra[1]] as const;
    const params = { ...g.params, outSize };
    const dxShape = [g.batch, g.groups * g.groupIn, ...outSize];
    return T.runPrimitive('convTranspose2d', [make(s.y, 3), make(s.w, 2)], params, [
      { shape: dxShape, dtype },
    ])[0];
  }).toTypedArray();
}

/**
 * Float32 agreement: the reference sums in float64, the kernels in float32 and in another
 * order, so errors grow with the sums; they stay far below what a misplaced tap would cause.
 */
function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  expect(actual.length).toBe(expected.length);
  let scale = 1;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= 4e-5 * scale)) {
      expect.fail(`element ${i}: ${actual[i]} differs from the reference ${expected[i]}`);
    }
  }
}

/** Exact agreement (NaN equals NaN, −0 differs from 0), reported by the first differing element. */
function expectSame(actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], expected[i])) {
      expect.fail(`element ${i}: ${actual[i]} differs from the reference ${expected[i]}`);
    }
  }
}

const primitives: readonly Primitive[] = ['conv2d', 'convTranspose2d', 'conv2dWeightGrad'];

describe.each([1, 2] as const)('convolution kernels, %i thread(s)', (threads) => {
  const wasm = backends[threads];

  it.each(primitives)('%s matches the reference on random geometries', (primitive) => {
    fc.assert(
      fc.property(geometry, fc.nat(), (g, seed) => {
        expectClose(
          run(wasm, primitive, g, 'float32', seed),
          run(T.cpuBackend, primitive, g, 'float32', seed),
        );
      }),
    );
  });

  it.each(primitives)('%s matches the reference on batches large enough to split', (primitive) => {
    const g: Geometry = {
      batch: 8,
      groups: 2,
      groupIn: 8,
      groupOut: 16,
      size: [16, 16],
      kernel: [3, 3],
      params: { stride: [1, 1], padding: [1, 1, 1, 1], dilation: [1, 1], groups: 2 },
      extra: [0, 0],
    };
    // Many output channels over few taps: the [Og × images·P] blocks are split too.
    const wide: Geometry = {
      ...g,
      batch: 32,
      groups: 1,
      groupIn: 1,
      groupOut: 64,
      size: [28, 28],
      params: { ...g.params, groups: 1 },
    };
    for (const geometry of [g, wide]) {
      const expected = run(T.cpuBackend, primitive, geometry, 'float32', 7);
      expectClose(run(wasm, primitive, geometry, 'float32', 7), expected);
    }
  });
});

describe('convolution kernels in chunks', () => {
  // 144 taps × 784 positions per image: chunks of two images (packed), then one (in place).
  const batchChunks: Geometry = {
    batch: 5,
    groups: 1,
    groupIn: 16,
    groupOut: 2,
    size: [28, 28],
    kernel: [3, 3],
    params: { stride: [1, 1], padding: [1, 1, 1, 1], dilation: [1, 1], groups: 1 },
    extra: [0, 0],
  };
  // 144 taps × 2,304 positions: more than a chunk holds, so each image goes in bands of rows
  // (two images: chunks on two threads, images on one; four: images on both).
  const rowBands: Geometry = { ...batchChunks, batch: 2, size: [48, 48] };
  const imageBands: Geometry = { ...rowBands, batch: 4 };

  it.each(primitives)('%s matches the reference', (primitive) => {
    for (const g of [batchChunks, rowBands, imageBands]) {
      const expected = run(T.cpuBackend, primitive, g, 'float32', 3);
      for (const threads of [1, 2] as const)
        expectClose(run(backends[threads], primitive, g, 'float32', 3), expected);
    }
  });
});

describe('convolution kernels split over images', () => {
  it('give the same weight gradient on one and two threads (its parts are fixed)', () => {
    const g: Geometry = {
      batch: 13,
      groups: 1,
      groupIn: 16,
      groupOut: 32,
      size: [14, 14],
      kernel: [3, 3],
      params: { stride: [1, 1], padding: [1, 1, 1, 1], dilation: [1, 1], groups: 1 },
      extra: [0, 0],
    };
    const one = run(backends[1], 'conv2dWeightGrad', g, 'float32', 5);
    expectSame(run(backends[2], 'conv2dWeightGrad', g, 'float32', 5), one);
    expectClose(one, run(T.cpuBackend, 'conv2dWeightGrad', g, 'float32', 5));
  });

  // 73,728 multiply-adds per image: 14 images stay on the calling thread, 15 use the pool (2^20).
  it.each([14, 15])('match the reference on either side of the threads’ threshold (batch %i)', (batch) => {
    const g: Geometry = {
      batch,
      groups: 1,
      groupIn: 4,
      groupOut: 8,
      size: [16, 16],
      kernel: [3, 3],
      params: { stride: [1, 1], padding: [1, 1, 1, 1], dilation: [1, 1], groups: 1 },
      extra: [0, 0],
    };
    for (const primitive of primitives) {
      const expected = run(T.cpuBackend, primitive, g, 'float32', 9);
      expectClose(run(backends[2], primitive, g, 'float32', 9), expected);
    }
    const one = run(backends[1], 'conv2dWeightGrad', g, 'float32', 9);
    expectSame(run(backends[2], 'conv2dWeightGrad', g, 'float32', 9), one);
  });
});

describe('the conv2d epilogue (bias and activation at write-back)', () => {
  const base: Geometry = {
    batch: 1,
    groups: 2,
    groupIn: 3,
    groupOut: 5,
    size: [9, 7],
    kernel: [3, 3],
    params: { stride: [1, 1], padding: [1, 1, 1, 1], dilation: [1, 1], groups: 2 },
    extra: [0, 0],
  };
  const dtype = 'float32';

  /** conv2d(x, w, bias?) with `activation` on `backend`: the kernel's epilogue. */
  const fused = (
    backend: T.Backend<unknown>,
    g: Geometry,
    withBias: boolean,
    activation: 'none' | 'relu',
  ) => {
    const s = shapes(g);
    return T.withBackend(backend, () => {
      const inputs = [
        T.array(seededValues(T.sizeOf(s.x), 1), { shape: s.x }),
        T.array(seededValues(T.sizeOf(s.w), 2), { shape: s.w }),
      ];
      if (withBias) inputs.push(T.array(seededValues(s.w[0], 3), { shape: [s.w[0]] }));
      return T.runPrimitive('conv2d', inputs, { ...g.params, activation } as T.Conv2dParams, [
        { shape: s.y, dtype },
      ])[0].toTypedArray();
    });
  };

  /** The same from separate reference ops. */
  const unfused = (g: Geometry, withBias: boolean, activation: 'none' | 'relu') => {
    const s = shapes(g);
    return T.withBackend(T.cpuBackend, () => {
      const x = T.array(seededValues(T.sizeOf(s.x), 1), { shape: s.x });
      const w = T.array(seededValues(T.sizeOf(s.w), 2), { shape: s.w });
      let y = T.runPrimitive('conv2d', [x, w], g.params, [{ shape: s.y, dtype }])[0];
      if (withBias) y = T.add(y, T.array(seededValues(s.w[0], 3), { shape: [s.w[0], 1, 1] }));
      if (activation === 'relu') y = T.maximum(y, T.scalar(0));
      return y.toTypedArray();
    });
  };

  // One image: the chunked GEMMs, then a pass; twelve: per image, at write-back.
  it.each([1, 12])('matches bias + ReLU done apart, batch %i, on one and two threads', (batch) => {
    const g = { ...base, batch };
    for (const [withBias, activation] of [
      [true, 'relu'],
      [true, 'none'],
      [false, 'relu'],
    ] as const) {
      const expected = unfused(g, withBias, activation);
      if (activation === 'relu') expect(expected.some((v) => v === 0)).toBe(true);
      for (const threads of [1, 2] as const)
        expectClose(fused(backends[threads], g, withBias, activation), expected);
    }
  });

  it('refuses an unknown activation and an epilogue on float64', () => {
    const s = shapes(base);
    T.withBackend(backends[1], () => {
      const x = T.array(seededValues(T.sizeOf(s.x), 1), { shape: s.x });
      const w = T.array(seededValues(T.sizeOf(s.w), 2), { shape: s.w });
      const params = { ...base.params, activation: 'gelu' } as unknown as T.Conv2dParams;
      expect(() => T.runPrimitive('conv2d', [x, w], params, [{ shape: s.y, dtype }])).toThrow(T.ValueError);
      const relu = { ...base.params, activation: 'relu' } as T.Conv2dParams;
      const [x64, w64] = [T.cast(x, 'float64'), T.cast(w, 'float64')];
      expect(() => T.runPrimitive('conv2d', [x64, w64], relu, [{ shape: s.y, dtype: 'float64' }])).toThrow(
        /float32 only/,
      );
    });
  });
});

describe('convolution kernels on float64', () => {
  it.each(primitives)('%s runs the reference kernel and matches it exactly', (primitive) => {
    fc.assert(
      fc.property(geometry, fc.nat(), (g, seed) => {
        expectSame(
          run(backends[1], primitive, g, 'float64', seed),
          run(T.cpuBackend, primitive, g, 'float64', seed),
        );
      }),
      { numRuns: 15 },
    );
  });
});
