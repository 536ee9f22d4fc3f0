import { createNodeWasmBackend, type WasmBackend } from '@tsgrad/backend-wasm/node';
import * as T from '@tsgrad/tensor';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { parallelRuns } from './helpers.js';

// The float32 reductions against the CPU reference on identical inputs: sum, prod, max, min
// over random axis sets (one block of axes → the SIMD kernels, others → the reference), and
// argmax/argmin along every axis, with NaN, ±Infinity, ±0 and ties; on one and two threads.
// max/min/argmax/argmin must match exactly, including which zero a max returns; sum and prod
// accumulate in float64 like the reference, so they may differ only by float64 rounding.

const backends: Record<string, WasmBackend> = {
  'one thread': createNodeWasmBackend({ threads: 1 }),
  'two threads': createNodeWasmBackend({ threads: 2 }),
};

beforeAll(async () => {
  const { pool } = backends['two threads'].runtime;
  for (let wait = 0; wait < 500 && !pool.ready; wait++) await new Promise((r) => setTimeout(r, 10));
  expect(pool.ready).toBe(true);
});

const SPECIALS = [Number.NaN, Infinity, -Infinity, 0, -0, 1, -1];
const ZEROS = [0, -0, -0.5, -1];

/**
 * float32 values in [-2, 2] with ties and special values with probability `special`; or, for
 * special < 0, only 0, −0 and negative values, so maxima are often zeros of either sign.
 */
function hostValues(size: number, seed: number, special: number): Float32Array {
  let state = seed >>> 0 || 1;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  return Float32Array.from({ length: size }, () => {
    const u = next();
    if (special < 0) return ZEROS[Math.floor(u * ZEROS.length)];
    if (u < special) return SPECIALS[Math.floor(next() * SPECIALS.length)];
    return u < 0.5 ? Math.round(next() * 8 - 4) / 2 : next() * 4 - 2;
  });
}

/** Exact match: NaN matches NaN, zeros keep their sign. */
function expectExact(got: ArrayLike<number>, want: ArrayLike<number>, label: string): void {
  expect(got.length, label).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const ok = Number.isNaN(want[i]) ? Number.isNaN(got[i]) : Object.is(got[i], want[i]);
    if (!ok) expect.fail(`${label}: element ${i} is ${got[i]}, the reference gives ${want[i]}`);
  }
}

/** Equal, or as close as two float64 accumulations of |terms| ≤ `magnitude` rounded to float32. */
function expectAccumulated(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  magnitude: number,
  label: string,
): void {
  expect(got.length, label).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const [g, w] = [got[i], want[i]];
    if (Number.isNaN(w) ? Number.isNaN(g) : Object.is(g, w)) continue;
    const ulp = Math.abs(w) * 2 ** -23 + 1e-12 * magnitude;
    if (!(Math.abs(g - w) <= ulp)) expect.fail(`${label}: element ${i} is ${g}, the reference gives ${w}`);
  }
}

interface Case {
  readonly shape: number[];
  readonly axes: number[];
  readonly seed: number;
  readonly special: number;
}

const caseArb: fc.Arbitrary<Case> = fc
  .array(fc.integer({ min: 0, max: 7 }), { minLength: 1, maxLength: 4 })
  .chain((shape) =>
    fc.record({
      shape: fc.constant(shape),
      axes: fc.subarray(shape.map((_, i) => i)),
      seed: fc.integer(),
      special: fc.constantFrom(0, 0.05, 0.3, -1),
    }),
  );

const reducers = { sum: T.sum, prod: T.prod, max: T.max, min: T.min };
const argReducers = { argmax: T.argmax, argmin: T.argmin };
type Reducer = keyof typeof reducers;

function run(backend: T.Backend, fn: () => T.NDArray): ArrayLike<number> {
  return T.withBackend(backend, () => fn().toTypedArray());
}

function compare(
  op: Reducer,
  backend: WasmBackend,
  shape: number[],
  axis: number[],
  data: Float32Array,
  label: string,
) {
  // max and min of an empty axis are an error in the frontend.
  if ((op === 'max' || op === 'min') && axis.some((a) => shape[a] === 0)) return;
  const fn = () => reducers[op](T.array(data, { shape }), { axis });
  const want = run(T.cpuBackend, fn);
  const got = run(backend, fn);
  if (op === 'max' || op === 'min') return expectExact(got, want, label);
  const magnitude =
    op === 'sum' ? data.reduce((a, v) => a + (Number.isFinite(v) ? Math.abs(v) : 0), 0) : 1e30;
  expectAccumulated(got, want, magnitude, label);
}

describe.each(Object.keys(backends))('reductions (%s)', (name) => {
  const backend = backends[name];

  it.each(Object.keys(reducers) as Reducer[])('%s matches the reference over any axes', (op) => {
    fc.assert(
      fc.property(caseArb, ({ shape, axes, seed, special }) => {
        const size = shape.reduce((a, b) => a * b, 1);
        compare(op, backend, shape, axes, hostValues(size, seed, special), `${op} [${shape}] over [${axes}]`);
      }),
    );
  });

  it.each(['argmax', 'argmin'] as const)('%s matches the reference along every axis', (op) => {
    fc.assert(
      fc.property(caseArb, ({ shape, seed, special }) => {
        const data = hostValues(
          shape.reduce((a, b) => a * b, 1),
          seed,
          special,
        );
        for (let axis = 0; axis < shape.length; axis++) {
          if (shape[axis] === 0) continue;
          const fn = () => argReducers[op](T.array(data, { shape }), { axis });
          expectExact(run(backend, fn), run(T.cpuBackend, fn), `${op} [${shape}] axis ${axis}`);
        }
      }),
    );
  });

  it('keeps the sign of the first zero when a row’s maximum is zero', () => {
    const rows = [
      [-1, -0, 0, -2],
      [-1, 0, -0, -2],
      [-3, -3, -3, -3, -3, -3, -3, -0, -3, -3, -3, -3, -3, -3, -3, -3, -3, 0, -1],
      [-3, -3, -3, -3, -3, -3, -3, 0, -3, -3, -3, -3, -3, -3, -3, -3, -3, -0, -1],
    ];
    for (const row of rows) {
      const data = Float32Array.from(row);
      compare('max', backend, [row.length], [0], data, `max [${row}]`);
      compare(
        'min',
        backend,
        [row.length],
        [0],
        data.map((v) => -v),
        `min of −[${row}]`,
      );
    }
  });
});

describe('reductions of arrays split across two threads', () => {
  // Past the 2^18 elements from which reductions split: over rows, column blocks, or both.
  const cases: [number[], number[]][] = [
    [[300, 1001], [1]],
    [[1001, 300], [0]],
    [[7, 503, 81], [1]],
    [[3, 90001], [0]],
    [[2, 140001], [1]],
  ];
  it.each(cases)('[%s] over axes %s', (shape, axes) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const data = hostValues(size, size, 0.0001);
    for (const op of Object.keys(reducers) as Reducer[]) {
      compare(op, backends['two threads'], shape, axes, data, `${op} [${shape}]`);
      const fn = () => reducers[op](T.array(data, { shape }), { axis: axes });
      let split: ArrayLike<number> = [];
      expect(parallelRuns(backends['two threads'], () => (split = run(backends['two threads'], fn)))).toBe(1);
      expectExact(split, run(backends['one thread'], fn), `${op}: two threads against one`);
    }
    const fn = () => T.argmax(T.array(data, { shape }), { axis: shape.length - 1 });
    expectExact(run(backends['two threads'], fn), run(T.cpuBackend, fn), 'argmax');
  });

  it('sums in float64 like the reference', () => {
    // 1 + 2^-24·n: a float32 accumulator would round every step back to 1.
    const data = new Float32Array(4096).fill(2 ** -24);
    data[0] = 1;
    const fn = () => T.sum(T.array(data));
    expectExact(run(backends['one thread'], fn), run(T.cpuBackend, fn), 'sum');
  });
});
