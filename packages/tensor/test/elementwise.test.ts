import * as T from '@tsgrad/tensor';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectClose, indices, type Layout, layoutArb, makeArray, shapeArb } from './arbitraries.js';

// Every elementwise op against a naive float64 reference: host loops over plain arrays, with
// the dtype rules (promotion, weak scalars, storage rounding) restated here from the docs.

const DTYPES: readonly T.DType[] = ['bool', 'int32', 'float32', 'float64'];
const FLOATS = ['float32', 'float64'] as const;
const dtypeArb = fc.constantFrom(...DTYPES);

/** What storing a float64 value into `dtype` keeps (int32 wraps and truncates, NaN → 0). */
function store(dtype: T.DType, v: number): number {
  if (dtype === 'float64') return v;
  if (dtype === 'float32') return Math.fround(v);
  if (dtype === 'int32') return Number.isFinite(v) ? Number(BigInt.asIntN(32, BigInt(Math.trunc(v)))) : 0;
  return v !== 0 ? 1 : 0;
}

/** Compares a result with reference values: exact for int32/bool, relative for floats. */
function expectValues(actual: T.NDArray, expected: readonly number[], rtol64 = 1e-13): void {
  const got = Array.from(actual.toTypedArray());
  if (actual.dtype === 'float32') expectClose(got, expected, 1e-6, 1e-12);
  else if (actual.dtype === 'float64') expectClose(got, expected, rtol64, 1e-300);
  else expect(got).toEqual(expected);
}

interface Range {
  readonly min: number;
  readonly max: number;
}

/** Host values a dtype can hold: floats in [-3, 3] and int32 in [-6, 6] unless `range` says. */
function elementArb(dtype: T.DType, range?: Range): fc.Arbitrary<number> {
  if (dtype === 'bool') return fc.constantFrom(0, 1);
  if (dtype === 'int32')
    return fc.integer({ min: Math.ceil(range?.min ?? -6), max: Math.floor(range?.max ?? 6) });
  return fc.double({ min: range?.min ?? -3, max: range?.max ?? 3, noNaN: true, noDefaultInfinity: true });
}

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

function valuesOf(shape: readonly number[], dtype: T.DType, range?: Range) {
  const n = sizeOf(shape);
  return fc.array(elementArb(dtype, range), { minLength: n, maxLength: n });
}

// ---------------------------------------------------------------------------------------------
// Reference broadcasting.

/** NumPy's broadcast of two shapes, or null when they do not fit. */
function refBroadcastShape(a: readonly number[], b: readonly number[]): number[] | null {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return null;
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** The row-major position in an input of `shape` that output index `index` reads. */
function broadcastSource(index: readonly number[], shape: readonly number[]): number {
  const lead = index.length - shape.length;
  let at = 0;
  for (let i = 0; i < shape.length; i++) at = at * shape[i] + (shape[i] === 1 ? 0 : index[lead + i]);
  return at;
}

interface HostArray {
  shape: number[];
  values: number[];
}

function refMap(
  outShape: readonly number[],
  inputs: readonly HostArray[],
  fn: (...v: number[]) => number,
): number[] {
  const out: number[] = [];
  for (const index of indices(outShape))
    out.push(fn(...inputs.map((x) => x.values[broadcastSource(index, x.shape)])));
  return out;
}

/** A shape derived from `out` by dropping leading axes and setting some sizes to 1. */
function derivedShapeArb(out: readonly number[]): fc.Arbitrary<number[]> {
  return fc
    .tuple(
      fc.integer({ min: 0, max: out.length }),
      fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length }),
    )
    .map(([drop, ones]) => out.slice(drop).map((d, i) => (ones[drop + i] ? 1 : d)));
}

const broadcastPairArb = shapeArb({ maxRank: 3, maxDim: 3 }).chain((out) =>
  fc.tuple(derivedShapeArb(out), derivedShapeArb(out)),
);

// ---------------------------------------------------------------------------------------------
// Reference dtype rules (restated from src/dtype.ts).

const RANK: Record<T.DType, number> = { bool: 0, int32: 1, float32: 2, float64: 3 };
const promote = (a: T.DType, b: T.DType): T.DType => (RANK[a] >= RANK[b] ? a : b);

/** The dtype a weak JS scalar takes next to an array of dtype `other`. */
function weakType(value: number | boolean, other: T.DType): T.DType {
  if (typeof value === 'boolean' || other === 'float32' || other === 'float64') return other;
  return Number.isInteger(value) ? promote(other, 'int32') : 'float32';
}

type BinaryKind = 'arith' | 'truediv' | 'compare' | 'logical';

/** The dtype the op computes in, from the promoted operand dtype. */
function computeType(op: string, kind: BinaryKind, promoted: T.DType): T.DType {
  if (kind === 'logical') return 'bool';
  if (kind === 'truediv') return promoted === 'float64' ? 'float64' : 'float32';
  if (kind === 'arith' && promoted === 'bool' && op !== 'maximum' && op !== 'minimum') return 'int32';
  return promoted;
}

// ---------------------------------------------------------------------------------------------
// Unary ops.

/** erf by its Maclaurin series (alternating, accurate to ~1e-13 for |x| ≤ 3). */
function refErf(x: number): number {
  let term = x;
  let sum = x;
  for (let n = 1; n < 120; n++) {
    term *= (-x * x) / n;
    sum += term / (2 * n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

function refRoundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

type IntRule = 'keep' | 'float' | 'identity';
interface UnarySpec {
  readonly fn: (x: T.NDArray) => T.NDArray;
  readonly ref: (x: number) => number;
  readonly int32: IntRule;
  /** Where the op is real (float inputs) and the int32 inputs to try. */
  readonly domain?: Range;
  readonly intDomain?: Range;
  /** float64 relative tolerance (the reference of erf is a series, not the same algorithm). */
  readonly rtol64?: number;
}

const UNARY: Record<Exclude<T.UnaryPrimitive, 'logicalNot'>, UnarySpec> = {
  neg: { fn: T.neg, ref: (x) => -x, int32: 'keep' },
  abs: { fn: T.abs, ref: (x) => (x < 0 ? -x : x), int32: 'keep' },
  sign: { fn: T.sign, ref: (x) => (x > 0 ? 1 : x < 0 ? -1 : 0), int32: 'keep' },
  exp: { fn: T.exp, ref: Math.exp, int32: 'float' },
  log: {
    fn: T.log,
    ref: Math.log,
    int32: 'float',
    domain: { min: 1e-3, max: 5 },
    intDomain: { min: 1, max: 9 },
  },
  sin: { fn: T.sin, ref: Math.sin, int32: 'float' },
  cos: { fn: T.cos, ref: Math.cos, int32: 'float' },
  tanh: { fn: T.tanh, ref: Math.tanh, int32: 'float' },
  sqrt: {
    fn: T.sqrt,
    ref: Math.sqrt,
    int32: 'float',
    domain: { min: 0, max: 5 },
    intDomain: { min: 0, max: 9 },
  },
  reciprocal: { fn: T.reciprocal, ref: (x) => 1 / x, int32: 'float' },
  floor: { fn: T.floor, ref: Math.floor, int32: 'identity' },
  ceil: { fn: T.ceil, ref: Math.ceil, int32: 'identity' },
  round: { fn: T.round, ref: refRoundHalfEven, int32: 'identity' },
  erf: { fn: T.erf, ref: refErf, int32: 'float', intDomain: { min: -3, max: 3 }, rtol64: 1e-12 },
  log1p: {
    fn: T.log1p,
    ref: Math.log1p,
    int32: 'float',
    domain: { min: -0.999, max: 5 },
    intDomain: { min: 0, max: 9 },
  },
  expm1: { fn: T.expm1, ref: Math.expm1, int32: 'float' },
};

const unaryCase = (dtype: T.DType, domain?: Range) =>
  fc
    .record({ shape: shapeArb({ maxRank: 3 }), layout: layoutArb })
    .chain(({ shape, layout }) =>
      valuesOf(shape, dtype, domain).map((values) => ({ shape, layout, values })),
    );

describe('unary ops', () => {
  for (const [name, spec] of Object.entries(UNARY)) {
    for (const dtype of FLOATS) {
      it(`${name} on ${dtype} matches the float64 reference on every layout`, () => {
        fc.assert(
          fc.property(unaryCase(dtype, spec.domain), ({ shape, layout, values }) => {
            const out = spec.fn(makeArray(values, shape, dtype, layout));
            expect(out.shape).toEqual(shape);
            expect(out.dtype).toBe(dtype);
            expectValues(
              out,
              values.map((v) => store(dtype, spec.ref(store(dtype, v)))),
              spec.rtol64,
            );
          }),
          { numRuns: 30 },
        );
      });
    }

    it(`${name} on int32 ${spec.int32 === 'keep' ? 'stays int32' : spec.int32 === 'float' ? 'computes in float32' : 'is the identity'}`, () => {
      fc.assert(
        fc.property(unaryCase('int32', spec.intDomain), ({ shape, layout, values }) => {
          const out = spec.fn(makeArray(values, shape, 'int32', layout));
          const dtype = spec.int32 === 'float' ? 'float32' : 'int32';
          expect(out.dtype).toBe(dtype);
          expect(out.shape).toEqual(shape);
          const ref = spec.int32 === 'identity' ? (v: number) => v : spec.ref;
          expectValues(
            out,
            values.map((v) => store(dtype, ref(v))),
          );
        }),
        { numRuns: 15 },
      );
    });

    it(`${name} rejects bool with a DTypeError naming the op`, () => {
      expect(() => spec.fn(T.array([true, false]))).toThrow(T.DTypeError);
      expect(() => spec.fn(T.array([true, false]))).toThrow(new RegExp(`^${name}: `));
    });
  }

  it('logicalNot gives bool for every dtype, testing ≠ 0 (NaN is true)', () => {
    fc.assert(
      fc.property(unaryCase('float64'), ({ shape, layout, values }) => {
        for (const dtype of DTYPES) {
          const out = T.logicalNot(makeArray(values, shape, dtype, layout));
          expect(out.dtype).toBe('bool');
          expectValues(
            out,
            values.map((v) => (store(dtype, v) === 0 ? 1 : 0)),
          );
        }
      }),
      { numRuns: 20 },
    );
    expect(T.logicalNot(T.array([Number.NaN, 0, -0], { dtype: 'float64' })).toArray()).toEqual([
      false,
      true,
      true,
    ]);
  });

  it('int32 neg and abs wrap at -2^31 like C', () => {
    const min = T.array(Int32Array.of(-(2 ** 31), 2 ** 31 - 1, -5, 0));
    expect(T.neg(min).toArray()).toEqual([-(2 ** 31), -(2 ** 31) + 1, 5, 0]);
    expect(T.abs(min).toArray()).toEqual([-(2 ** 31), 2 ** 31 - 1, 5, 0]);
    expect(T.sign(min).toArray()).toEqual([-1, 1, -1, 0]);
  });

  it('follows IEEE outside the real domain: NaN for log(-1) and sqrt(-1), ±∞ at poles', () => {
    for (const dtype of FLOATS) {
      const x = T.array([-1, 0, -0, -2], { dtype });
      expect(Array.from(T.log(x).toTypedArray())).toEqual([Number.NaN, -Infinity, -Infinity, Number.NaN]);
      expect(Array.from(T.sqrt(x).toTypedArray())).toEqual([Number.NaN, 0, -0, Number.NaN]);
      expect(Array.from(T.log1p(x).toTypedArray())).toEqual([-Infinity, 0, -0, Number.NaN]);
      expect(Array.from(T.reciprocal(x).toTypedArray())).toEqual([-1, Infinity, -Infinity, -0.5]);
      expect(Array.from(T.sign(T.array([Number.NaN, -0], { dtype })).toTypedArray())).toEqual([
        Number.NaN,
        -0,
      ]);
    }
    expect(T.exp(T.array([100])).item()).toBe(Infinity);
    expect(T.exp(T.array([100], { dtype: 'float64' })).item()).toBe(Math.exp(100));
    expect(T.log(T.array(Int32Array.of(-1))).item()).toBeNaN();
  });

  it('rounds half to even', () => {
    const halves = [0.5, 1.5, 2.5, 3.5, -0.5, -1.5, -2.5, -3.5, 0.49999999999999994, 2.4, 2.6, -2.6, 1e300];
    const expected = [0, 2, 2, 4, -0, -2, -2, -4, 0, 2, 3, -3, 1e300];
    expect(Array.from(T.round(T.array(halves, { dtype: 'float64' })).toTypedArray())).toEqual(expected);
    const f32 = [0.5, 1.5, 2.5, -2.5, 8388607.5, 8388609];
    expect(Array.from(T.round(T.array(f32)).toTypedArray())).toEqual([0, 2, 2, -2, 8388608, 8388609]);
  });

  it('erf matches high-precision values to a few float64 ulp', () => {
    // mpmath at 30 digits, rounded to the nearest float64.
    const known: [number, number][] = [
      [0.1, 0.1124629160182849],
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [1.5, 0.9661051464753108],
      [2, 0.9953222650189527],
      [2.5, 0.999593047982555],
      [2.9999, 0.9999778955735178],
      [3, 0.9999779095030014],
      [3.5, 0.9999992569016276],
      [4, 0.9999999845827421],
      [5, 0.9999999999984626],
      [-0.75, -0.7111556336535151],
      [1e-8, 1.1283791670955126e-8],
      [0.001, 0.0011283787909692365],
    ];
    const x = T.array(
      known.map(([v]) => v),
      { dtype: 'float64' },
    );
    expectClose(
      T.erf(x).toTypedArray(),
      known.map(([, e]) => e),
      2e-15,
      0,
    );
    expectClose(
      T.erf(T.neg(x)).toTypedArray(),
      known.map(([, e]) => -e),
      2e-15,
      0,
    );
    const edges = T.erf(T.array([0, -0, 30, -30, Infinity, -Infinity, Number.NaN], { dtype: 'float64' }));
    expect(Array.from(edges.toTypedArray())).toEqual([0, -0, 1, -1, 1, -1, Number.NaN]);
  });
});

// ---------------------------------------------------------------------------------------------
// Binary ops.

/** Python's floored modulo: the result has the sign of the divisor. */
function refMod(a: number, b: number): number {
  const r = a % b;
  return r !== 0 && r < 0 !== b < 0 ? r + b : r;
}

/** C's pow (which NumPy and PyTorch follow): 1^y = 1 and (−1)^±∞ = 1, even for NaN y. */
function refPow(a: number, b: number): number {
  if (a === 1 || b === 0) return 1;
  if (a === -1 && (b === Infinity || b === -Infinity)) return 1;
  return a ** b;
}

const wrap32 = (v: bigint) => Number(BigInt.asIntN(32, v));

interface BinarySpec {
  readonly fn: (a: T.ArrayOrScalar, b: T.ArrayOrScalar) => T.NDArray;
  readonly kind: BinaryKind;
  readonly ref: (a: number, b: number) => number;
  /** The int32 arithmetic where it differs from float64-then-wrap. */
  readonly int32?: (a: number, b: number) => number;
}

const nan = (a: number, b: number) => Number.isNaN(a) || Number.isNaN(b);

const BINARY: Record<T.BinaryPrimitive, BinarySpec> = {
  add: { fn: T.add, kind: 'arith', ref: (a, b) => a + b },
  sub: { fn: T.sub, kind: 'arith', ref: (a, b) => a - b },
  mul: { fn: T.mul, kind: 'arith', ref: (a, b) => a * b, int32: (a, b) => wrap32(BigInt(a) * BigInt(b)) },
  div: { fn: T.div, kind: 'truediv', ref: (a, b) => a / b },
  pow: {
    fn: T.pow,
    kind: 'arith',
    ref: refPow,
    int32: (a, b) => (b >= 0 ? wrap32(BigInt(a) ** BigInt(b)) : Number.NaN),
  },
  maximum: { fn: T.maximum, kind: 'arith', ref: (a, b) => (nan(a, b) ? Number.NaN : Math.max(a, b)) },
  minimum: { fn: T.minimum, kind: 'arith', ref: (a, b) => (nan(a, b) ? Number.NaN : Math.min(a, b)) },
  mod: { fn: T.mod, kind: 'arith', ref: refMod, int32: (a, b) => (b === 0 ? Number.NaN : refMod(a, b)) },
  eq: { fn: T.eq, kind: 'compare', ref: (a, b) => Number(a === b) },
  ne: { fn: T.ne, kind: 'compare', ref: (a, b) => Number(a !== b) },
  lt: { fn: T.lt, kind: 'compare', ref: (a, b) => Number(a < b) },
  le: { fn: T.le, kind: 'compare', ref: (a, b) => Number(a <= b) },
  gt: { fn: T.gt, kind: 'compare', ref: (a, b) => Number(a > b) },
  ge: { fn: T.ge, kind: 'compare', ref: (a, b) => Number(a >= b) },
  logicalAnd: { fn: T.logicalAnd, kind: 'logical', ref: (a, b) => Number(a !== 0 && b !== 0) },
  logicalOr: { fn: T.logicalOr, kind: 'logical', ref: (a, b) => Number(a !== 0 || b !== 0) },
};

/** An operand: an array (dtype, layout, values of its shape) or a weak JS scalar. */
type Operand =
  | { kind: 'array'; dtype: T.DType; layout: Layout; shape: number[]; values: number[] }
  | { kind: 'scalar'; value: number | boolean };

const weakScalarArb: fc.Arbitrary<number | boolean> = fc.oneof(
  fc.integer({ min: -4, max: 4 }),
  fc.double({ min: -3, max: 3, noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
);

function arrayOperandArb(shape: number[]): fc.Arbitrary<Operand> {
  return fc
    .record({ dtype: dtypeArb, layout: layoutArb })
    .chain(({ dtype, layout }) =>
      valuesOf(shape, dtype).map((values): Operand => ({ kind: 'array', dtype, layout, shape, values })),
    );
}

/** Two broadcastable operands; at most one of them a weak scalar. */
const operandPairArb: fc.Arbitrary<[Operand, Operand]> = fc
  .tuple(broadcastPairArb, fc.constantFrom('none', 'left', 'right'), weakScalarArb)
  .chain(([[sa, sb], scalarSide, value]) => {
    const scalar: Operand = { kind: 'scalar', value };
    return fc.tuple(
      scalarSide === 'left' ? fc.constant(scalar) : arrayOperandArb(sa),
      scalarSide === 'right' ? fc.constant(scalar) : arrayOperandArb(sb),
    );
  });

const toInput = (o: Operand): T.ArrayOrScalar =>
  o.kind === 'scalar' ? o.value : makeArray(o.values, o.shape, o.dtype, o.layout);

/** The dtype of a weak-scalar-free promotion of the operands (the documented rules). */
function promotedType(operands: readonly Operand[]): T.DType {
  const arrays = operands.filter((o) => o.kind === 'array');
  let dtype = arrays.length > 0 ? arrays.map((o) => o.dtype).reduce(promote) : undefined;
  for (const o of operands) {
    if (o.kind !== 'scalar') continue;
    const alone: T.DType =
      typeof o.value === 'boolean' ? 'bool' : Number.isInteger(o.value) ? 'int32' : 'float32';
    dtype = dtype === undefined ? alone : weakType(o.value, dtype);
  }
  return dtype ?? 'float32';
}

/** The operand as the op sees it: its stored values converted to `dtype`. */
function hostOperand(o: Operand, dtype: T.DType): HostArray {
  if (o.kind === 'scalar') return { shape: [], values: [store(dtype, Number(o.value))] };
  return { shape: o.shape, values: o.values.map((v) => store(dtype, store(o.dtype, v))) };
}

describe('binary ops', () => {
  for (const [name, spec] of Object.entries(BINARY)) {
    it(`${name} broadcasts, promotes and matches the reference (all dtype pairs, scalars, layouts)`, () => {
      fc.assert(
        fc.property(operandPairArb, ([a, b]) => {
          const compute = computeType(name, spec.kind, promotedType([a, b]));
          const outDtype = spec.kind === 'compare' || spec.kind === 'logical' ? 'bool' : compute;
          const x = hostOperand(a, compute);
          const y = hostOperand(b, compute);
          const shape = refBroadcastShape(x.shape, y.shape);
          expect(shape).not.toBeNull();
          const ref = (compute === 'int32' && spec.int32) || spec.ref;
          // int32 results that do not exist (a negative power, a modulo by zero) throw.
          const undefinedAt = refMap(shape ?? [], [x, y], (u, v) => (Number.isNaN(ref(u, v)) ? 1 : 0));
          if (compute === 'int32' && undefinedAt.some((v) => v === 1)) {
            expect(() => spec.fn(toInput(a), toInput(b))).toThrow(T.ArithmeticError);
            return;
          }
          const out = spec.fn(toInput(a), toInput(b));
          expect(out.dtype).toBe(outDtype);
          expect(out.shape).toEqual(shape);
          expectValues(
            out,
            refMap(shape ?? [], [x, y], (u, v) => store(outDtype, ref(u, v))),
          );
        }),
        { numRuns: 60 },
      );
    });
  }

  it('broadcasting failures throw a ShapeError naming the op and both shapes', () => {
    fc.assert(
      fc.property(
        shapeArb({ maxRank: 3, maxDim: 3 }),
        shapeArb({ maxRank: 3, maxDim: 3 }),
        fc.constantFrom(...Object.keys(BINARY)),
        (sa, sb, name) => {
          const run = () => BINARY[name as T.BinaryPrimitive].fn(T.zeros(sa), T.zeros(sb));
          if (refBroadcastShape(sa, sb) !== null) return;
          expect(run).toThrow(T.ShapeError);
          expect(run).toThrow(`${name}: shapes [${sa.join(',')}] and [${sb.join(',')}] cannot be broadcast`);
        },
      ),
    );
  });

  it('the promotion table holds for every op and every dtype pair', () => {
    const table: Record<T.DType, Record<T.DType, T.DType>> = {
      bool: { bool: 'bool', int32: 'int32', float32: 'float32', float64: 'float64' },
      int32: { bool: 'int32', int32: 'int32', float32: 'float32', float64: 'float64' },
      float32: { bool: 'float32', int32: 'float32', float32: 'float32', float64: 'float64' },
      float64: { bool: 'float64', int32: 'float64', float32: 'float64', float64: 'float64' },
    };
    for (const a of DTYPES) {
      for (const b of DTYPES) {
        expect(T.resultType(T.zeros([1], { dtype: a }), T.zeros([2], { dtype: b }))).toBe(table[a][b]);
        for (const [name, spec] of Object.entries(BINARY)) {
          const out = spec.fn(T.ones([2, 1], { dtype: a }), T.ones([3], { dtype: b }));
          const expected =
            spec.kind === 'compare' || spec.kind === 'logical'
              ? 'bool'
              : computeType(name, spec.kind, table[a][b]);
          expect(`${name}(${a}, ${b}) → ${out.dtype}`).toBe(`${name}(${a}, ${b}) → ${expected}`);
        }
      }
    }
    // Arithmetic on bool counts in int32 (true + true = 2); maximum/minimum stay bool.
    expect(T.add(T.array([true]), T.array([true])).toArray()).toEqual([2]);
    expect(T.maximum(T.array([true, false]), T.array([false, false])).toArray()).toEqual([true, false]);
    expect(T.div(T.array(Int32Array.of(7, -7)), T.array(Int32Array.of(2, 2))).toArray()).toEqual([3.5, -3.5]);
  });

  it('weak JS scalars take the array dtype unless they need a higher kind', () => {
    const arr = (dtype: T.DType) => T.zeros([2], { dtype });
    const cases: [T.DType, number | boolean, T.DType][] = [
      ['bool', true, 'bool'],
      ['bool', 2, 'int32'],
      ['bool', 2.5, 'float32'],
      ['int32', true, 'int32'],
      ['int32', 2, 'int32'],
      ['int32', 2.5, 'float32'],
      ['int32', Number.NaN, 'float32'],
      ['int32', Infinity, 'float32'],
      ['float32', 2, 'float32'],
      ['float32', 1e300, 'float32'],
      ['float64', 2.5, 'float64'],
      ['float64', false, 'float64'],
    ];
    for (const [dtype, value, expected] of cases) {
      expect(T.resultType(arr(dtype), value)).toBe(expected);
      expect(T.resultType(value, arr(dtype))).toBe(expected);
      expect(T.maximum(arr(dtype), value).dtype).toBe(expected === 'bool' ? 'bool' : expected);
      expect(T.sub(value, arr(dtype)).dtype).toBe(expected === 'bool' ? 'int32' : expected);
    }
    // Scalars alone: booleans are bool, integers int32, other numbers float32.
    expect(T.add(2, 3).dtype).toBe('int32');
    expect(T.add(2, 0.5).dtype).toBe('float32');
    expect(T.logicalAnd(true, 1).dtype).toBe('bool');
    expect(T.add(T.array([1.5], { dtype: 'float32' }), 0.1).item()).toBe(
      Math.fround(Math.fround(1.5) + Math.fround(0.1)),
    );
  });

  it('int32 add, sub, mul and pow wrap modulo 2^32 (Math.imul semantics)', () => {
    const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
    fc.assert(
      fc.property(fc.array(fc.tuple(int32, int32), { minLength: 1, maxLength: 8 }), (pairs) => {
        const a = T.array(Int32Array.from(pairs.map(([u]) => u)));
        const b = T.array(Int32Array.from(pairs.map(([, v]) => v)));
        const big = pairs.map(([u, v]) => [BigInt(u), BigInt(v)]);
        expect(Array.from(T.add(a, b).toTypedArray())).toEqual(big.map(([u, v]) => wrap32(u + v)));
        expect(Array.from(T.sub(a, b).toTypedArray())).toEqual(big.map(([u, v]) => wrap32(u - v)));
        expect(Array.from(T.mul(a, b).toTypedArray())).toEqual(big.map(([u, v]) => wrap32(u * v)));
        const e = T.array(Int32Array.from(pairs.map((_, i) => i + 3)));
        expect(Array.from(T.pow(a, e).toTypedArray())).toEqual(
          big.map(([u], i) => wrap32(u ** BigInt(i + 3))),
        );
      }),
    );
    expect(T.add(T.array(Int32Array.of(2 ** 31 - 1)), 1).item()).toBe(-(2 ** 31));
  });

  it('int32 pow to a negative power and int32 mod by 0 throw (as in PyTorch), on both operand orders', () => {
    for (const b of [-1, -5]) {
      expect(() => T.pow(T.array(Int32Array.of(2, 1)), b)).toThrow(T.ArithmeticError);
      expect(() => T.pow(2, T.array(Int32Array.of(3, b)))).toThrow(/^pow: int32 to a negative int32 power/);
    }
    expect(() => T.mod(T.array(Int32Array.of(5, -5)), 0)).toThrow(/^mod: int32 modulo by zero/);
    expect(() => T.mod(5, T.array(Int32Array.of(1, 0)))).toThrow(T.ArithmeticError);
    expect(() => T.mod(T.array([true]), false)).toThrow(T.ArithmeticError);
    // Float operands keep IEEE results.
    expect(T.pow(T.array([2]), -1).item()).toBe(0.5);
    expect(Number.isNaN(T.mod(T.array([5]), 0).item())).toBe(true);
  });

  it('mod is floored (sign of the divisor) for floats and int32', () => {
    const a = [7, -7, 7, -7, 6, -6, 0.5, -0.5];
    const b = [3, 3, -3, -3, 3, -3, 2, 2];
    const expected = [1, 2, -2, -1, 0, -0, 0.5, 1.5];
    for (const dtype of FLOATS) {
      expect(Array.from(T.mod(T.array(a, { dtype }), T.array(b, { dtype })).toTypedArray())).toEqual(
        expected,
      );
    }
    expect(
      T.mod(T.array(Int32Array.of(7, -7, 7, -7)), T.array(Int32Array.of(3, 3, -3, -3))).toArray(),
    ).toEqual([1, 2, -2, -1]);
    expect(T.mod(T.array([5, -5, Infinity], { dtype: 'float64' }), 0).toArray()).toEqual([
      Number.NaN,
      Number.NaN,
      Number.NaN,
    ]);
  });

  it('pow follows C at the special points; maximum and minimum propagate NaN', () => {
    for (const dtype of FLOATS) {
      const base = T.array([1, 1, -1, -1, Number.NaN, 0, -8, 4], { dtype });
      const exp = T.array([Number.NaN, Infinity, Infinity, -Infinity, 0, -1, 1 / 3, 0.5], { dtype });
      const expected = [1, 1, 1, 1, 1, Infinity, Number.NaN, 2];
      expect(Array.from(T.pow(base, exp).toTypedArray())).toEqual(expected);
      const x = T.array([Number.NaN, 1, Number.NaN, -Infinity], { dtype });
      const y = T.array([1, Number.NaN, Number.NaN, 0], { dtype });
      expect(Array.from(T.maximum(x, y).toTypedArray())).toEqual([Number.NaN, Number.NaN, Number.NaN, 0]);
      expect(Array.from(T.minimum(x, y).toTypedArray())).toEqual([
        Number.NaN,
        Number.NaN,
        Number.NaN,
        -Infinity,
      ]);
    }
  });

  it('comparisons with NaN are false except ne; div by zero is ±∞ or NaN', () => {
    const x = T.array([Number.NaN, 1, 0]);
    const y = T.array([Number.NaN, Number.NaN, 0]);
    expect(T.eq(x, y).toArray()).toEqual([false, false, true]);
    expect(T.ne(x, y).toArray()).toEqual([true, true, false]);
    expect(T.lt(x, y).toArray()).toEqual([false, false, false]);
    expect(T.ge(x, y).toArray()).toEqual([false, false, true]);
    expect(T.div(T.array(Int32Array.of(1, -1, 0)), 0).toArray()).toEqual([Infinity, -Infinity, Number.NaN]);
  });
});

// ---------------------------------------------------------------------------------------------
// where and cast.

describe('where', () => {
  const tripleArb = shapeArb({ maxRank: 3, maxDim: 3 }).chain((out) =>
    fc.tuple(derivedShapeArb(out), derivedShapeArb(out), derivedShapeArb(out)),
  );
  const caseArb = fc
    .tuple(tripleArb, fc.constantFrom('none', 'a', 'b'), weakScalarArb, layoutArb)
    .chain(([[sc, sa, sb], scalarSide, value, layout]) =>
      fc.tuple(
        valuesOf(sc, 'bool').map((values) => ({ shape: sc, values, layout })),
        scalarSide === 'a' ? fc.constant<Operand>({ kind: 'scalar', value }) : arrayOperandArb(sa),
        scalarSide === 'b' ? fc.constant<Operand>({ kind: 'scalar', value }) : arrayOperandArb(sb),
      ),
    );

  it('selects elementwise, broadcasting cond, a and b, in the promoted dtype', () => {
    fc.assert(
      fc.property(caseArb, ([cond, a, b]) => {
        const dtype = promotedType([a, b]);
        const x = hostOperand(a, dtype);
        const y = hostOperand(b, dtype);
        const shape = refBroadcastShape(cond.shape, refBroadcastShape(x.shape, y.shape) ?? []);
        const out = T.where(makeArray(cond.values, cond.shape, 'bool', cond.layout), toInput(a), toInput(b));
        expect(out.dtype).toBe(dtype);
        expect(out.shape).toEqual(shape);
        expectValues(
          out,
          refMap(shape ?? [], [cond, x, y], (c, u, v) => (c !== 0 ? u : v)),
        );
      }),
    );
  });

  it('requires a bool condition and broadcastable shapes', () => {
    const run = () => T.where(T.ones([2]), 1, 2);
    expect(run).toThrow(T.DTypeError);
    expect(run).toThrow(/^where: condition must be bool, got float32/);
    const bad = () => T.where(T.ones([2], { dtype: 'bool' }), T.zeros([3]), 0);
    expect(bad).toThrow(T.ShapeError);
    expect(bad).toThrow(/^where: .*\[2\].*\[3\]/);
  });
});

describe('cast', () => {
  /** The documented conversion: float → int truncates toward zero (NaN → 0); to bool tests ≠ 0. */
  function refCast(v: number, to: T.DType): number {
    if (to === 'int32') return Number.isNaN(v) ? 0 : Math.trunc(v) + 0; // + 0 turns -0 into 0
    return store(to, v);
  }

  it('converts between every pair of dtypes', () => {
    const special = fc.constantFrom(0, -0, 0.5, -0.5, 1.5, -1.7, 2.5, -2.5, Number.NaN, 1e-40, 2 ** 31 - 128);
    const elem = fc.oneof(
      fc.double({ min: -1e6, max: 1e6, noNaN: true }),
      fc.integer({ min: -5, max: 5 }),
      special,
    );
    fc.assert(
      fc.property(
        shapeArb({ maxRank: 2 }).chain((shape) =>
          fc.tuple(
            fc.constant(shape),
            fc.array(elem, { minLength: sizeOf(shape), maxLength: sizeOf(shape) }),
            layoutArb,
          ),
        ),
        ([shape, values, layout]) => {
          for (const from of DTYPES) {
            const x = makeArray(values, shape, from, layout);
            const stored = values.map((v) => (from === 'int32' ? refCast(v, 'int32') : store(from, v)));
            for (const to of DTYPES) {
              const out = T.cast(x, to);
              expect(out.dtype).toBe(to);
              expect(out.shape).toEqual(shape);
              expect(Array.from(out.toTypedArray())).toEqual(stored.map((v) => refCast(v, to)));
            }
          }
        },
      ),
      { numRuns: 30 },
    );
  });

  it('truncates toward zero and maps NaN to 0 and to true', () => {
    const x = T.array([1.9, -1.9, -0.5, Number.NaN, 0], { dtype: 'float64' });
    expect(T.cast(x, 'int32').toArray()).toEqual([1, -1, 0, 0, 0]);
    expect(T.cast(x, 'bool').toArray()).toEqual([true, true, true, true, false]);
    expect(T.cast(T.array([true, false]), 'float32').toArray()).toEqual([1, 0]);
  });
});

describe('errors and disposal', () => {
  it('ops on a disposed array throw a ValueError naming the op', () => {
    const x = T.ones([2, 2]);
    x.dispose();
    expect(() => T.add(x, 1)).toThrow(T.ValueError);
    expect(() => T.add(x, 1)).toThrow(/^add: .*disposed/);
    expect(() => T.mul(2, x)).toThrow(/^mul: .*disposed/);
    expect(() => T.exp(x)).toThrow(/^exp: .*disposed/);
    expect(() => T.where(T.ones([2], { dtype: 'bool' }), x, 0)).toThrow(/^where: .*disposed/);
    expect(() => x.toArray()).toThrow(T.ValueError);
  });

  it('shape errors name the op and both shapes', () => {
    expect(() => T.mul(T.zeros([2, 3]), T.zeros([4, 2]))).toThrow(
      /^mul: shapes \[2,3\] and \[4,2\] cannot be broadcast/,
    );
    expect(() => T.logicalOr(T.zeros([0]), T.zeros([2]))).toThrow(T.ShapeError);
  });
});
