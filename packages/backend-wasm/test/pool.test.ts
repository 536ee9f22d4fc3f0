import * as T from '@tsgrad/tensor';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { threadBackends, uniformFrom, workersReady } from './helpers.js';

// The float32 pooling kernels against the CPU reference on identical inputs: random windows
// (kernel, stride, padding, dilation, ceil mode, count-include-pad), the SIMD 2×2 stride-2
// path, ties, NaN and ±Infinity (max pooling must pick the same element), one and two threads,
// and float64, which runs the reference itself.

const backends = threadBackends();

beforeAll(() => workersReady(backends[2]));

/** Values with many ties (a few distinct levels), and NaN, ±Infinity where `special` allows. */
function seededValues(size: number, seed: number, special: boolean): Float32Array {
  const next = uniformFrom(seed);
  const specials = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0];
  return Float32Array.from({ length: size }, () => {
    const u = next();
    return special && u < 0.06 ? specials[Math.floor(u * 66.67)] : Math.floor(u * 9) / 2 - 2;
  });
}

interface Case {
  readonly shape: readonly number[];
  readonly kernelSize: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly padding: readonly [number, number];
  readonly dilation: readonly [number, number];
  readonly ceilMode: boolean;
  readonly countIncludePad: boolean;
}

/** One axis of a window: kernel, stride, padding ≤ kernel/2, dilation, and the input size. */
const axis = fc
  .record({
    kernel: fc.integer({ min: 1, max: 4 }),
    stride: fc.integer({ min: 1, max: 3 }),
    padding: fc.integer({ min: 0, max: 2 }),
    dilation: fc.integer({ min: 1, max: 2 }),
    slack: fc.integer({ min: 0, max: 9 }),
  })
  .map((a) => {
    const padding = Math.min(a.padding, Math.floor(a.kernel / 2));
    return { ...a, padding, size: Math.max(1, a.dilation * (a.kernel - 1) + 1 - 2 * padding) + a.slack };
  });

/** Random windows, or the common 2×2 stride-2 ones on inputs wide enough for the SIMD path. */
const poolCase: fc.Arbitrary<Case> = fc.oneof(
  fc
    .record({
      planes: fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 3 })),
      rows: axis,
      cols: axis,
      ceilMode: fc.boolean(),
      countIncludePad: fc.boolean(),
    })
    .map(({ planes, rows, cols, ceilMode, countIncludePad }) => ({
      shape: [...planes, rows.size, cols.size],
      kernelSize: [rows.kernel, cols.kernel] as const,
      stride: [rows.stride, cols.stride] as const,
      padding: [rows.padding, cols.padding] as const,
      dilation: [rows.dilation, cols.dilation] as const,
      ceilMode,
      countIncludePad,
    })),
  fc
    .record({
      planes: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
      size: fc.tuple(fc.integer({ min: 2, max: 12 }), fc.integer({ min: 2, max: 21 })),
      ceilMode: fc.boolean(),
    })
    .map(({ planes, size, ceilMode }) => ({
      shape: [...planes, ...size],
      kernelSize: [2, 2] as const,
      stride: [2, 2] as const,
      padding: [0, 0] as const,
      dilation: [1, 1] as const,
      ceilMode,
      countIncludePad: true,
    })),
);

/** Whether the frontend accepts the case (every window must reach into the input). */
function accepted(c: Case): boolean {
  try {
    T.withBackend(T.cpuBackend, () => T.maxPool2d(T.zeros([...c.shape]), c));
    return true;
  } catch {
    return false;
  }
}

const maxCases = poolCase.filter(accepted);
/** Average pooling has no dilation. */
const averageCases = poolCase.map((c) => ({ ...c, dilation: [1, 1] as const })).filter(accepted);

/** An op on input x (seeded values of the case's shape), and its seed for further inputs. */
type Op = (x: T.NDArray, c: Case, seed: number) => T.NDArray[];

const maxPool: Op = (x, c) => {
  const { values, indices } = T.maxPool2dWithIndices(x, c);
  return [values, indices];
};
const avgPool: Op = (x, c) => [T.avgPool2d(x, c)];
const avgPoolGrad: Op = (x, c, seed) => {
  const { shape } = T.avgPool2d(x, c);
  const dy = T.array(seededValues(T.sizeOf(shape), seed + 1, false), { shape: [...shape], dtype: x.dtype });
  return [T.avgPool2dGrad(dy, x.shape, c)];
};

function run(backend: T.Backend<unknown>, op: Op, c: Case, dtype: T.DType, seed: number, special: boolean) {
  return T.withBackend(backend, () => {
    const x = T.array(seededValues(T.sizeOf(c.shape), seed, special), { shape: [...c.shape], dtype });
    return op(x, c, seed).map((out) => Array.from(out.toTypedArray()));
  });
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

function expectClose(actual: readonly number[], expected: readonly number[]): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= 1e-6 * (1 + Math.abs(expected[i])))) {
      expect.fail(`element ${i}: ${actual[i]} differs from the reference ${expected[i]}`);
    }
  }
}

describe.each([1, 2] as const)('pooling kernels, %i thread(s)', (threads) => {
  const wasm = backends[threads];

  it('maxPool2d picks the same values and indices as the reference, NaN and ties included', () => {
    fc.assert(
      fc.property(maxCases, fc.nat(), (c, seed) => {
        const expected = run(T.cpuBackend, maxPool, c, 'float32', seed, true);
        run(wasm, maxPool, c, 'float32', seed, true).forEach((out, i) => {
          expectSame(out, expected[i]);
        });
      }),
    );
  });

  it.each([
    ['avgPool2d', avgPool],
    ['avgPool2dGrad', avgPoolGrad],
  ] as const)('%s matches the reference', (_, op) => {
    fc.assert(
      fc.property(averageCases, fc.nat(), (c, seed) => {
        const actual = run(wasm, op, c, 'float32', seed, false);
        const expected = run(T.cpuBackend, op, c, 'float32', seed, false);
        actual.forEach((out, i) => {
          expectClose(out, expected[i]);
        });
      }),
    );
  });

  it.each([
    ['maxPool2d', maxPool],
    ['avgPool2d', avgPool],
    ['avgPool2dGrad', avgPoolGrad],
  ] as const)('%s matches the reference on a batch large enough to split', (_, op) => {
    const c: Case = {
      shape: [16, 16, 28, 27],
      kernelSize: [2, 2],
      stride: [2, 2],
      padding: [0, 0],
      dilation: [1, 1],
      ceilMode: true,
      countIncludePad: true,
    };
    for (const shape of [c.shape, [4, 8, 17, 19]]) {
      for (const window of [c, { ...c, shape, kernelSize: [3, 3] as const, padding: [1, 1] as const }]) {
        const actual = run(wasm, op, window, 'float32', 5, false);
        const expected = run(T.cpuBackend, op, window, 'float32', 5, false);
        actual.forEach((out, i) => {
          expectClose(out, expected[i]);
        });
      }
    }
  });
});

describe('pooling kernels on float64', () => {
  it.each([
    ['maxPool2d', maxPool],
    ['avgPool2d', avgPool],
    ['avgPool2dGrad', avgPoolGrad],
  ] as const)('%s runs the reference kernel and matches it exactly', (_, op) => {
    fc.assert(
      fc.property(op === maxPool ? maxCases : averageCases, fc.nat(), (c, seed) => {
        const special = op === maxPool;
        const expected = run(T.cpuBackend, op, c, 'float64', seed, special);
        run(backends[1], op, c, 'float64', seed, special).forEach((out, i) => {
          expectSame(out, expected[i]);
        });
      }),
      { numRuns: 15 },
    );
  });
});
