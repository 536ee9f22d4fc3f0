import { createNodeWasmBackend, type WasmBackend } from '@tsgrad/backend-wasm/node';
import * as T from '@tsgrad/tensor';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { parallelRuns } from './helpers.js';

// The SIMD elementwise kernels against the CPU reference on identical inputs: every unary and
// binary primitive, where, cast and copy, on random shapes (size-0 and size-1 dims included)
// with contiguous, offset, permuted, sliced, flipped and broadcast operands, values mixing
// NaN, ±Infinity, ±0, subnormals, huge and tiny numbers, and the three builds in use: relaxed
// SIMD on one thread and on two, and plain SIMD. Exact ops must match bit for bit (any NaN
// matches any NaN, and zeros must have the reference's sign); the polynomial approximations
// must be within 2 ulp.

const backends: Record<string, WasmBackend> = {
  'one thread': createNodeWasmBackend({ threads: 1 }),
  'two threads': createNodeWasmBackend({ threads: 2 }),
  'plain SIMD': createNodeWasmBackend({ threads: 1, relaxedSimd: false }),
};
const backendNames = Object.keys(backends);

beforeAll(async () => {
  const { pool } = backends['two threads'].runtime;
  for (let wait = 0; wait < 500 && !pool.ready; wait++) await new Promise((r) => setTimeout(r, 10));
  expect(pool.ready).toBe(true);
  expect(backends['plain SIMD'].runtime.variant.relaxed).toBe(false);
});

const FLOAT_SPECIALS = [
  Number.NaN,
  Infinity,
  -Infinity,
  0,
  -0,
  1,
  -1,
  0.5,
  -0.5,
  1.5,
  2.5,
  -2.5,
  3,
  -3,
  1e-45,
  -1e-45,
  1.1754942e-38,
  -1e-40,
  3.4028235e38,
  -3.4028235e38,
  88.72283,
  88.8,
  -87.4,
  -103.9,
  -104.5,
  89,
  1e-7,
  -1e-7,
  0.625,
  0.875,
  3.92,
  9.1,
  524287.5,
  -524288,
  1e10,
  16777217,
  2147483648,
  -2147483904,
  3e9,
  -1,
  -0.9999999,
  33554432,
];
const INT_SPECIALS = [0, 1, -1, 2, -2, 2147483647, -2147483648, 7, -7];

type Host = Float32Array | Float64Array | Int32Array | Uint8Array;

/** Deterministic values of a dtype: ordinary numbers, special values and random bit patterns. */
function hostValues(dtype: T.DType, size: number, seed: number): Host {
  let state = seed >>> 0 || 1;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const pick = <V>(list: readonly V[]) => list[Math.floor(next() * list.length)];
  if (dtype === 'bool') return Uint8Array.from({ length: size }, () => (next() < 0.5 ? 1 : 0));
  if (dtype === 'int32') {
    return Int32Array.from({ length: size }, () => {
      const u = next();
      return u < 0.2 ? pick(INT_SPECIALS) : u < 0.7 ? Math.floor(next() * 21) - 10 : (next() * 2 ** 32) | 0;
    });
  }
  const bits = new Uint32Array(2);
  const f64 = new Float64Array(bits.buffer);
  const f32 = new Float32Array(bits.buffer);
  const values = dtype === 'float32' ? new Float32Array(size) : new Float64Array(size);
  for (let i = 0; i < size; i++) {
    const u = next();
    if (u < 0.15) values[i] = pick(FLOAT_SPECIALS);
    else if (u < 0.3) values[i] = Math.round(next() * 16 - 8) / 2;
    else if (u < 0.45) {
      bits[0] = next() * 2 ** 32;
      bits[1] = next() * 2 ** 32;
      values[i] = dtype === 'float32' ? f32[0] : f64[0];
    } else values[i] = next() * 12 - 6;
  }
  return values;
}

type Layout = 'contiguous' | 'offset' | 'permuted' | 'sliced' | 'flipped';
const layouts: Layout[] = ['contiguous', 'offset', 'permuted', 'sliced', 'flipped'];

/** An array with these row-major contents, laid out in memory as `layout` says. */
function place(values: Host, shape: readonly number[], dtype: T.DType, layout: Layout): T.NDArray {
  const base = T.array(values, { shape, dtype });
  if (layout === 'contiguous' || shape.length === 0) return base;
  if (layout === 'flipped') return T.flip(T.contiguous(T.flip(base)));
  if (layout === 'permuted') {
    const order = shape.map((_, i) => shape.length - 1 - i);
    return T.permute(T.contiguous(T.permute(base, order)), order);
  }
  const junk = (n: number) => T.full([n], dtype === 'bool' ? true : 77, { dtype });
  if (layout === 'offset') {
    const row = shape.slice(1).reduce((a, b) => a * b, 1);
    const padded = T.concat([junk(row), T.reshape(base, [values.length]), junk(row)], 0);
    return T.slice(T.reshape(padded, [shape[0] + 2, ...shape.slice(1)]), [{ start: 1, stop: shape[0] + 1 }]);
  }
  // sliced: every other element along the last axis of a twice-as-wide array.
  const wide = T.concat(
    [T.unsqueeze(base, -1), T.unsqueeze(T.fullLike(base, dtype === 'bool' ? 1 : 77), -1)],
    -1,
  );
  const doubled = T.reshape(wide, [...shape.slice(0, -1), 2 * shape[shape.length - 1]]);
  return T.slice(
    doubled,
    shape.map((_, i) => (i === shape.length - 1 ? { step: 2 } : null)),
  );
}

/** One operand: its shape (broadcastable to the op's shape), layout and values. */
interface Operand {
  readonly shape: readonly number[];
  readonly layout: Layout;
  readonly seed: number;
}

/**
 * An operand of `shape`, or (when `broadcast`, half the time) of `shape` with some dims set to
 * 1 or dropped from the front, to be broadcast.
 */
const operandArb = (shape: readonly number[], broadcast: boolean): fc.Arbitrary<Operand> =>
  fc
    .record({
      broadcast: fc.boolean().map((b) => b && broadcast),
      keep: fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length }),
      drop: fc.integer({ min: 0, max: shape.length }),
      layout: fc.constantFrom(...layouts),
      seed: fc.integer(),
    })
    .map(({ broadcast, keep, drop, layout, seed }) => ({
      shape: broadcast ? shape.slice(drop).map((d, i) => (keep[i + drop] ? d : 1)) : shape,
      layout,
      seed,
    }));

/** Shapes of rank 0–4; a dim is 0 one time in twelve, 1 one time in six. */
const dimArb = fc.oneof(
  { weight: 1, arbitrary: fc.constant(0) },
  { weight: 2, arbitrary: fc.constant(1) },
  { weight: 9, arbitrary: fc.integer({ min: 2, max: 6 }) },
);
const shapeArb = fc.array(dimArb, { minLength: 0, maxLength: 4 });

function build(operand: Operand, dtype: T.DType): T.NDArray {
  const size = operand.shape.reduce((a, b) => a * b, 1);
  return place(hostValues(dtype, size, operand.seed), operand.shape, dtype, operand.layout);
}

function f32Ordinal(x: number): number {
  const bits = new Int32Array(Float32Array.of(x).buffer)[0];
  return bits < 0 ? -(bits & 0x7fffffff) : bits;
}

/** Bit-exact (ulps = 0) or within `ulps` float32 ulps; NaN matches NaN; zeros keep their sign. */
function expectMatch(got: ArrayLike<number>, want: ArrayLike<number>, ulps: number, label: string): void {
  expect(got.length, label).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    const ok = Number.isNaN(w)
      ? Number.isNaN(g)
      : w === 0 || ulps === 0 || !Number.isFinite(w)
        ? Object.is(g, w)
        : Math.abs(f32Ordinal(g) - f32Ordinal(w)) <= ulps;
    if (!ok) expect.fail(`${label}: element ${i} is ${g}, the reference gives ${w}`);
  }
}

/** Runs `op` on both backends from the same operands and compares. */
function check(backend: WasmBackend, op: () => T.NDArray, ulps: number, label: string): void {
  const want = T.withBackend(T.cpuBackend, () => op().toTypedArray());
  const got = T.withBackend(backend, () => op().toTypedArray());
  expectMatch(got, want, ulps, label);
}

const APPROXIMATED = new Set(['exp', 'log', 'sin', 'cos', 'tanh', 'erf', 'log1p', 'expm1', 'pow']);
const unaryFns = {
  neg: T.neg,
  abs: T.abs,
  sign: T.sign,
  exp: T.exp,
  log: T.log,
  sin: T.sin,
  cos: T.cos,
  tanh: T.tanh,
  sqrt: T.sqrt,
  reciprocal: T.reciprocal,
  floor: T.floor,
  ceil: T.ceil,
  round: T.round,
  erf: T.erf,
  log1p: T.log1p,
  expm1: T.expm1,
  logicalNot: T.logicalNot,
} satisfies Record<T.UnaryPrimitive, (x: T.NDArray) => T.NDArray>;
const binaryFns = {
  add: T.add,
  sub: T.sub,
  mul: T.mul,
  div: T.div,
  pow: T.pow,
  maximum: T.maximum,
  minimum: T.minimum,
  mod: T.mod,
  eq: T.eq,
  ne: T.ne,
  lt: T.lt,
  le: T.le,
  gt: T.gt,
  ge: T.ge,
  logicalAnd: T.logicalAnd,
  logicalOr: T.logicalOr,
} satisfies Record<T.BinaryPrimitive, (a: T.NDArray, b: T.NDArray) => T.NDArray>;

/** The dtypes each op is accelerated for, plus float64 (which takes the reference path). */
const unaryDtypes = (op: string): T.DType[] =>
  op === 'logicalNot'
    ? ['bool', 'float32']
    : ['neg', 'abs', 'sign'].includes(op)
      ? ['float32', 'int32']
      : ['float32'];
const binaryDtypes = (op: string): T.DType[] =>
  op.startsWith('logical')
    ? ['bool']
    : ['div', 'pow', 'mod'].includes(op)
      ? ['float32']
      : ['float32', 'int32'];

describe.each(backendNames)('elementwise kernels (%s)', (name) => {
  const backend = backends[name];

  it.each(Object.keys(unaryFns) as T.UnaryPrimitive[])('%s matches the reference', (op) => {
    const ulps = APPROXIMATED.has(op) ? 2 : 0;
    fc.assert(
      fc.property(
        shapeArb.chain((shape) => operandArb(shape, false)),
        fc.constantFrom(...unaryDtypes(op), 'float64' as const),
        (x, dtype) => check(backend, () => unaryFns[op](build(x, dtype)), ulps, `${op} ${dtype} ${x.layout}`),
      ),
      { numRuns: 40 },
    );
  });

  it.each(Object.keys(binaryFns) as T.BinaryPrimitive[])('%s matches the reference, broadcasting', (op) => {
    const ulps = APPROXIMATED.has(op) ? 2 : 0;
    fc.assert(
      fc.property(
        shapeArb.chain((shape) => fc.tuple(operandArb(shape, true), operandArb(shape, true))),
        fc.constantFrom(...binaryDtypes(op)),
        ([a, b], dtype) =>
          check(
            backend,
            () => binaryFns[op](build(a, dtype), build(b, dtype)),
            ulps,
            `${op} ${dtype} ${a.layout}`,
          ),
      ),
      { numRuns: 40 },
    );
  });

  it('where, cast and copy match the reference', () => {
    const dtypes: T.DType[] = ['float32', 'int32', 'bool', 'float64'];
    fc.assert(
      fc.property(
        shapeArb.chain((shape) =>
          fc.tuple(
            fc.constant(shape),
            operandArb(shape, true),
            operandArb(shape, true),
            operandArb(shape, true),
          ),
        ),
        fc.constantFrom(...dtypes),
        fc.constantFrom(...dtypes),
        ([shape, c, a, b], from, to) => {
          check(backend, () => T.where(build(c, 'bool'), build(a, from), build(b, from)), 0, `where ${from}`);
          check(backend, () => T.cast(build(a, from), to), 0, `cast ${from} → ${to} ${a.layout}`);
          check(backend, () => T.contiguous(T.broadcastTo(build(a, from), shape)), 0, `copy ${from}`);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('elementwise kernels on arrays split across two threads', () => {
  // Odd sizes past the 2^18 elements from which even cheap ops split.
  const [rows, cols] = [521, 509];
  const two = backends['two threads'];
  const one = backends['one thread'];
  const cases: Record<string, () => T.NDArray> = {
    'add, contiguous': () =>
      T.add(
        build({ shape: [rows, cols], layout: 'contiguous', seed: 1 }, 'float32'),
        build({ shape: [rows, cols], layout: 'offset', seed: 2 }, 'float32'),
      ),
    'mul, bias row': () =>
      T.mul(
        build({ shape: [rows, cols], layout: 'contiguous', seed: 3 }, 'float32'),
        build({ shape: [cols], layout: 'contiguous', seed: 4 }, 'float32'),
      ),
    'sub, column and transpose': () =>
      T.sub(
        build({ shape: [rows, 1], layout: 'contiguous', seed: 5 }, 'float32'),
        build({ shape: [rows, cols], layout: 'permuted', seed: 6 }, 'float32'),
      ),
    'exp, flipped': () => T.exp(build({ shape: [rows, cols], layout: 'flipped', seed: 7 }, 'float32')),
    'tanh, sliced': () => T.tanh(build({ shape: [rows, cols], layout: 'sliced', seed: 8 }, 'float32')),
    'lt, scalar': () => T.lt(build({ shape: [rows, cols], layout: 'contiguous', seed: 9 }, 'float32'), 0.5),
    where: () =>
      T.where(
        build({ shape: [rows, cols], layout: 'permuted', seed: 10 }, 'bool'),
        build({ shape: [cols], layout: 'contiguous', seed: 11 }, 'float32'),
        0,
      ),
    'cast to int32': () =>
      T.cast(build({ shape: [rows, cols], layout: 'contiguous', seed: 12 }, 'float32'), 'int32'),
    'copy of a transpose': () =>
      T.contiguous(T.transpose(build({ shape: [rows, cols], layout: 'contiguous', seed: 13 }, 'float32'))),
  };
  it.each(Object.keys(cases))('%s', (label) => {
    const approximated = label.startsWith('exp') || label.startsWith('tanh');
    check(two, cases[label], approximated ? 2 : 0, label);
    let split: ArrayLike<number> = [];
    expect(
      parallelRuns(two, () => (split = T.withBackend(two, () => cases[label]().toTypedArray()))),
    ).toBeGreaterThan(0);
    const single = T.withBackend(one, () => cases[label]().toTypedArray());
    expectMatch(split, single, 0, `${label}: two threads against one`);
  });

  it('falls back for views of more than eight unmergeable dimensions', () => {
    const shape = [2, 1, 2, 3, 2, 2, 3, 2, 2, 2];
    const x = { shape, layout: 'permuted' as const, seed: 14 };
    check(one, () => T.add(build(x, 'float32'), build({ ...x, layout: 'flipped' }, 'float32')), 0, 'rank 10');
  });
});
