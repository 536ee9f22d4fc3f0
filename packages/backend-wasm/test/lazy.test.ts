import type { WasmBuffer } from '@tsgrad/backend-wasm';
import { collectGarbage, createNodeWasmBackend } from '@tsgrad/backend-wasm/node';
import * as T from '@tsgrad/tensor';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { uniformFrom } from './helpers.js';

// Deferred eager elementwise ops (tensor's lazy.ts) on the wasm backend: what stays pending,
// what one materialisation runs, the bounds on an expression, memory and lifetime, and the
// same bits as the unfused kernels for every elementwise primitive.

const backend = createNodeWasmBackend({ threads: 1 });
const fused = backend.fused as T.FusedKernels<WasmBuffer>;
const N = 1 << 15;

afterEach(() => {
  T.setDeferThreshold(N);
});

/** The programs `fn` runs through the one-shot fused path, and its result. */
function recording<R>(fn: () => R): { programs: T.FusedProgram[]; result: R } {
  const programs: T.FusedProgram[] = [];
  const run = fused.run?.bind(fused);
  fused.run = (program, outputs, inputs) => {
    programs.push(program);
    run?.(program, outputs, inputs);
  };
  try {
    return { programs, result: T.withBackend(backend, fn) };
  } finally {
    Reflect.deleteProperty(fused, 'run');
    fused.run = run;
  }
}

const input = (size: number, seed = 1) => {
  const next = uniformFrom(seed);
  return T.NDArray.fromTyped(
    backend,
    'float32',
    [size],
    Float32Array.from({ length: size }, () => next() * 4 - 2),
  );
};
const isPending = (x: T.NDArray) => x.storage.pending !== undefined;
const opSteps = (p: T.FusedProgram) => p.steps.filter((s) => s.kind === 'op').length;

describe('deferred elementwise ops', () => {
  it('stay pending until read, then run as one fused kernel with the eager values', () => {
    const x = input(N);
    const { programs, result: y } = recording(() => T.add(T.mul(T.exp(x), x), 1));
    expect(isPending(y)).toBe(true);
    expect(programs).toHaveLength(0);
    const { programs: ran, result: values } = recording(() => y.toTypedArray());
    expect(isPending(y)).toBe(false);
    expect(ran.map(opSteps)).toEqual([3]);
    // x is read once: one input for x, one for the scalar.
    expect(ran[0].steps.filter((s) => s.kind === 'input')).toHaveLength(2);
    T.setDeferThreshold(Number.POSITIVE_INFINITY);
    const eager = T.withBackend(backend, () => T.add(T.mul(T.exp(x), x), 1));
    expect(isPending(eager)).toBe(false);
    expect(values).toEqual(eager.toTypedArray());
  });

  it('run at once below the threshold, on the CPU backend, and for non-elementwise primitives', () => {
    const small = input(N - 1);
    expect(isPending(T.withBackend(backend, () => T.exp(small)))).toBe(false);
    const cpu = T.NDArray.fromTyped(T.cpuBackend, 'float32', [N], new Float32Array(N));
    expect(isPending(T.exp(cpu))).toBe(false);
    const x = input(N);
    const y = T.withBackend(backend, () => T.exp(x));
    const total = T.withBackend(backend, () => T.sum(y));
    expect(isPending(y)).toBe(false); // the reduction read it
    expect(isPending(total)).toBe(false);
  });

  it('compute a view op or realize() on demand, and realize returns the array', () => {
    const x = input(N);
    const y = T.withBackend(backend, () => T.exp(x));
    const row = T.withBackend(backend, () => T.reshape(y, [2, N / 2]));
    expect(isPending(row)).toBe(true); // a view shares the pending storage
    expect(row.realize()).toBe(row);
    expect(isPending(y)).toBe(false);
  });

  it('raise shape and dtype errors at the op call', () => {
    const x = input(N);
    const y = T.withBackend(backend, () => T.exp(x));
    const other = input(N + 16);
    expect(() => T.withBackend(backend, () => T.add(y, other))).toThrow(T.ShapeError);
    expect(isPending(y)).toBe(true);
  });

  it('split a long chain at the bounds on steps and inputs', () => {
    const x = input(N);
    const { programs } = recording(() => {
      let y = x;
      for (let i = 0; i < 40; i++) y = T.mul(T.add(y, 0.5), 0.5);
      return y.toTypedArray();
    });
    expect(programs.length).toBeGreaterThan(1);
    for (const p of programs) {
      expect(p.steps.length).toBeLessThanOrEqual(32);
      expect(p.steps.filter((s) => s.kind === 'input').length).toBeLessThanOrEqual(8);
    }
    const inputs = Array.from({ length: 12 }, (_, i) => input(N, i + 2));
    const { programs: sums } = recording(() => inputs.reduce((a, b) => T.add(a, b)).toTypedArray());
    for (const p of sums) expect(p.steps.filter((s) => s.kind === 'input').length).toBeLessThanOrEqual(8);
  });

  it('compute an intermediate read by a second consumer first (at most twice in all)', () => {
    const x = input(N);
    const { programs, result } = recording(() => {
      const a = T.exp(x);
      const b = T.add(a, 1);
      expect(isPending(a)).toBe(true);
      const c = T.mul(a, 2); // a is inlined in b already: it is computed now
      expect(isPending(a)).toBe(false);
      const d = T.mul(a, a); // an input given twice is one argument
      return { b, c, d };
    });
    expect(programs.map(opSteps)).toEqual([1]);
    const { programs: rest } = recording(() => [result.b, result.c, result.d].map((v) => v.toTypedArray()));
    expect(rest.map(opSteps)).toEqual([2, 1, 1]);
  });

  it('compute nothing for a disposed pending array, and free its inputs with it', () => {
    const { allocator } = backend.runtime;
    const before = allocator.inUse;
    const x = input(N);
    const withX = allocator.inUse;
    const { programs } = recording(() => {
      const e = T.exp(x);
      const product = T.mul(e, x);
      const y = T.add(product, 1);
      for (const dropped of [x, e, product]) dropped.dispose();
      expect(allocator.inUse).toBeGreaterThanOrEqual(withX); // y still reads x's buffer
      y.dispose();
    });
    expect(programs).toHaveLength(0);
    expect(allocator.inUse).toBe(before);
  });

  it('read a retained input after its array was disposed', () => {
    const x = input(N);
    const expected = T.withBackend(backend, () => {
      T.setDeferThreshold(Number.POSITIVE_INFINITY);
      const e = T.exp(x).toTypedArray();
      T.setDeferThreshold(N);
      return e;
    });
    const y = T.withBackend(backend, () => T.exp(x));
    x.dispose();
    expect(y.toTypedArray()).toEqual(expected);
  });

  it('release a dropped pending array and its inputs when it is collected', () => {
    const { allocator } = backend.runtime;
    collectGarbage();
    const before = allocator.inUse;
    (() => {
      const x = input(N);
      T.withBackend(backend, () => T.exp(T.exp(x)));
      x.dispose();
    })();
    expect(allocator.inUse).toBeGreaterThan(before);
    collectGarbage();
    collectGarbage();
    expect(allocator.inUse).toBe(before);
  });

  it('validate the threshold', () => {
    expect(() => T.setDeferThreshold(0)).toThrow(T.ValueError);
    expect(() => T.setDeferThreshold(1.5)).toThrow(T.ValueError);
    expect(() => T.setDeferThreshold(Number.NaN as number)).toThrow(T.ValueError);
    expect(T.setDeferThreshold(7)).toBe(N);
    expect(T.setDeferThreshold(Number.POSITIVE_INFINITY)).toBe(7);
  });
});

// ---- the same bits as the eager kernels ----------------------------------------------------

type Unary = (typeof T.UNARY_PRIMITIVES)[number];
type Binary = (typeof T.BINARY_PRIMITIVES)[number];
type Step =
  | { readonly kind: 'unary'; readonly op: Unary; readonly a: number }
  | { readonly kind: 'binary'; readonly op: Binary; readonly a: number; readonly b: number }
  | { readonly kind: 'where'; readonly c: number; readonly a: number; readonly b: number }
  | { readonly kind: 'cast'; readonly dtype: 'float32' | 'float64' | 'bool'; readonly a: number };

/** The op frontends by primitive name (each elementwise primitive has one of its name). */
const byName = T as unknown as Record<Unary | Binary, (...args: T.NDArray[]) => T.NDArray>;

const SPECIAL = [0, -0, 1, -1, 0.5, 2.5, -2.5, 88.8, -104, 1e-40, Number.NaN, Number.POSITIVE_INFINITY];

/** Each step's result (as a host array of bits), computed with the given threshold. */
function evaluate(
  dtype: 'float32' | 'float64',
  shapes: readonly number[][],
  seed: number,
  steps: readonly Step[],
  threshold: number,
): { bits: (number | string)[][]; deferred: string[]; errors: string[] } {
  T.setDeferThreshold(threshold);
  return T.withBackend(backend, () => {
    const next = uniformFrom(seed);
    const values: T.NDArray[] = shapes.map((shape) => {
      const size = shape.reduce((n, d) => n * d, 1);
      const data = Array.from({ length: size }, () =>
        next() < 0.2 ? SPECIAL[Math.floor(next() * SPECIAL.length)] : next() * 8 - 4,
      );
      return T.array(data.length === 1 && shape.length === 0 ? data[0] : reshapeData(data, shape), { dtype });
    });
    const deferred: string[] = [];
    const errors: string[] = [];
    for (const s of steps) {
      const pick = (i: number) => values[i % values.length];
      let y: T.NDArray;
      try {
        if (s.kind === 'unary') y = byName[s.op](pick(s.a));
        else if (s.kind === 'binary') y = byName[s.op](pick(s.a), pick(s.b));
        else if (s.kind === 'where') y = T.where(T.gt(pick(s.c), 0), pick(s.a), pick(s.b));
        else y = T.cast(pick(s.a), s.dtype);
      } catch (error) {
        // A dtype the op refuses (neg of bool): raised at the call, deferred or not.
        expect(error).toBeInstanceOf(T.TsgradError);
        errors.push(`${(error as Error).constructor.name} at ${values.length}`);
        continue;
      }
      if (y.storage.pending !== undefined)
        deferred.push(s.kind === 'unary' || s.kind === 'binary' ? s.op : s.kind);
      values.push(y);
    }
    // Exact values (−0 apart from 0); a NaN is any NaN: the float64 kernels do not keep its sign alike.
    const bits = values.map((v) =>
      Array.from(v.toTypedArray(), (x) => (Number.isNaN(x) ? 'NaN' : Object.is(x, -0) ? '-0' : x)),
    );
    return { bits, deferred, errors };
  });
}

function reshapeData(data: number[], shape: readonly number[]): T.NestedArray {
  if (shape.length <= 1) return data;
  const step = data.length / shape[0];
  return Array.from({ length: shape[0] }, (_, i) =>
    reshapeData(data.slice(i * step, (i + 1) * step), shape.slice(1)),
  );
}

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant('unary' as const),
    op: fc.constantFrom(...T.UNARY_PRIMITIVES),
    a: fc.nat(20),
  }),
  fc.record({
    kind: fc.constant('binary' as const),
    op: fc.constantFrom(...T.BINARY_PRIMITIVES),
    a: fc.nat(20),
    b: fc.nat(20),
  }),
  fc.record({ kind: fc.constant('where' as const), c: fc.nat(20), a: fc.nat(20), b: fc.nat(20) }),
  fc.record({
    kind: fc.constant('cast' as const),
    dtype: fc.constantFrom('float32', 'float64', 'bool'),
    a: fc.nat(20),
  }),
);

/** A shape and two to three input shapes that broadcast to it (axes of 1, fewer leading axes). */
const shapesArb = fc
  .array(fc.integer({ min: 1, max: 5 }), { minLength: 0, maxLength: 3 })
  .chain((shape) =>
    fc
      .array(
        fc
          .tuple(
            fc.nat(shape.length),
            fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length }),
          )
          .map(([drop, ones]) => shape.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d))),
        { minLength: 2, maxLength: 3 },
      )
      .map((inputs) => [shape, ...inputs] as const),
  )
  .map(([shape, ...inputs]) => [[...shape], ...inputs]);

describe('deferred elementwise ops compute the same bits as the eager kernels', () => {
  const seen = new Set<string>();
  for (const dtype of ['float32', 'float64'] as const) {
    it(`on ${dtype}, for random chains over broadcast inputs`, () => {
      fc.assert(
        fc.property(
          shapesArb,
          fc.nat(),
          fc.array(stepArb, { minLength: 1, maxLength: 6 }),
          (shapes, seed, steps) => {
            const inputs = shapes.slice(1);
            const lazy = evaluate(dtype, inputs, seed, steps, 1);
            const eager = evaluate(dtype, inputs, seed, steps, Number.POSITIVE_INFINITY);
            expect(eager.deferred).toEqual([]);
            expect(lazy.errors).toEqual(eager.errors);
            for (const op of lazy.deferred) seen.add(`${dtype}:${op}`);
            lazy.bits.forEach((b, i) => {
              expect(b, `value ${i}`).toEqual(eager.bits[i]);
            });
          },
        ),
        { numRuns: 300 },
      );
    });
  }

  it('defer every elementwise primitive the fused kernels accept', () => {
    console.log(`deferred in the property runs: ${[...seen].sort().join(' ')}`);
    for (const op of ['exp', 'mul', 'add', 'where', 'cast'])
      for (const dtype of ['float32', 'float64']) expect(seen).toContain(`${dtype}:${op}`);
  });
});
