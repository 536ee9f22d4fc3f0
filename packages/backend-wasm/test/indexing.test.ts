import * as T from '@tsgrad/tensor';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { threadBackends, uniformFrom, workersReady } from './helpers.js';

// gather and scatterAdd along an axis against the CPU reference, exactly: both add in the same
// order, so float32 results are bit-identical. Random shapes (size-0 and size-1 axes, indices
// smaller than the data off the axis, which run the reference), one and two threads, float64
// and int32 (reference), and max pooling's gradient, the scatterAdd a CNN runs every step.

const backends = threadBackends();

beforeAll(() => workersReady(backends[2]));

/** Deterministic uniform numbers in [0, 1). */
function seeded(size: number, seed: number): Float64Array {
  return Float64Array.from({ length: size }, uniformFrom(seed));
}

interface Case {
  readonly shape: readonly number[];
  readonly axis: number;
  /** The index's shape: the data's off the axis (or smaller where `shrink`), `count` along it. */
  readonly indexShape: readonly number[];
  readonly dtype: T.DType;
}

const indexCase = (dtypes: readonly T.DType[]): fc.Arbitrary<Case> =>
  fc
    .record({
      shape: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 4 }),
      axis: fc.nat(),
      count: fc.integer({ min: 0, max: 6 }),
      shrink: fc.boolean(),
      dtype: fc.constantFrom(...dtypes),
    })
    .map(({ shape, axis, count, shrink, dtype }) => {
      const a = axis % shape.length;
      const indexShape = shape.map((d, i) => {
        if (i === a) return d === 0 ? 0 : count;
        return shrink && i === (a + 1) % shape.length ? Math.max(0, d - 1) : d;
      });
      return { shape, axis: a, indexShape, dtype };
    });

/** Exact agreement (NaN equals NaN, −0 differs from 0), reported by the first differing element. */
function expectSame(actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], expected[i])) {
      expect.fail(`element ${i}: ${actual[i]} differs from the reference ${expected[i]}`);
    }
  }
}

type Op = (x: T.NDArray, c: Case, index: T.NDArray, src: T.NDArray) => T.NDArray;
const gather: Op = (x, c, index) => T.gather(x, c.axis, index);
const scatterAdd: Op = (x, c, index, src) => T.scatterAdd(x, c.axis, index, src);

function run(backend: T.Backend<unknown>, op: Op, c: Case, seed: number): number[] {
  return T.withBackend(backend, () => {
    const values = (shape: readonly number[], salt: number) =>
      T.array(
        seeded(T.sizeOf(shape), seed + salt).map((u) => Math.round(u * 64) / 8 - 4),
        { shape: [...shape], dtype: c.dtype },
      );
    const axisSize = c.shape[c.axis];
    const index = T.array(
      Int32Array.from(seeded(T.sizeOf(c.indexShape), seed + 1), (u) => Math.floor(u * axisSize)),
      { shape: [...c.indexShape], dtype: 'int32' },
    );
    return Array.from(op(values(c.shape, 2), c, index, values(c.indexShape, 3)).toTypedArray());
  });
}

describe.each([1, 2] as const)('indexing kernels, %i thread(s)', (threads) => {
  const wasm = backends[threads];

  it.each([
    ['gather', gather],
    ['scatterAdd', scatterAdd],
  ] as const)('%s matches the reference exactly', (_, op) => {
    fc.assert(
      fc.property(indexCase(['float32', 'float32', 'float64', 'int32']), fc.nat(), (c, seed) => {
        expectSame(run(wasm, op, c, seed), run(T.cpuBackend, op, c, seed));
      }),
    );
  });

  it.each([
    ['gather', gather],
    ['scatterAdd', scatterAdd],
  ] as const)('%s matches the reference exactly on arrays large enough to split', (_, op) => {
    for (const c of [
      { shape: [64, 16, 196], axis: 2, indexShape: [64, 16, 49], dtype: 'float32' },
      { shape: [40, 300, 7], axis: 1, indexShape: [40, 500, 7], dtype: 'float32' },
    ] as const) {
      expectSame(run(wasm, op, c, 11), run(T.cpuBackend, op, c, 11));
    }
  });

  it("computes max pooling's gradient like the reference", () => {
    const shape = [16, 8, 28, 28];
    const grad = (backend: T.Backend<unknown>) =>
      T.withBackend(backend, () => {
        const x = T.array(seeded(T.sizeOf(shape), 5), { shape, dtype: 'float32' });
        const { values, indices } = T.maxPool2dWithIndices(x, { kernelSize: 3, stride: 2, padding: 1 });
        const dy = T.array(seeded(values.size, 6), { shape: [...values.shape], dtype: 'float32' });
        return Array.from(T.maxPool2dGrad(dy, indices, shape).toTypedArray());
      });
    expectSame(grad(wasm), grad(T.cpuBackend));
  });
});
