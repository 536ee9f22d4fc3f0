import type { TypedArray } from '../dtype.js';
import { ArithmeticError } from '../errors.js';
import type { BinaryPrimitive, Kernel, UnaryPrimitive } from '../primitives.js';
import { erf } from './erf.js';
import { binaryLoops, unaryLoops } from './fast-loops.js';
import { type CpuView, gatherView, stridedOffsets } from './strided.js';

type Fn1 = (x: number) => number;
type Fn2 = (a: number, b: number) => number;

/** Rounds half to even, as NumPy and PyTorch do. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : r;
}

/** Floored modulo: the result has the divisor's sign (Python's %, torch.remainder). */
function floorMod(a: number, b: number): number {
  const r = a % b;
  return r !== 0 && r < 0 !== b < 0 ? r + b : r;
}

/** C's pow, which NumPy and PyTorch follow: unlike Math.pow, 1^y = 1 and (−1)^±∞ = 1. */
function powC(a: number, b: number): number {
  if (a === 1 || (a === -1 && Math.abs(b) === Number.POSITIVE_INFINITY)) return 1;
  return a ** b;
}

const unaryFns: Record<UnaryPrimitive, Fn1> = {
  neg: (x) => -x,
  abs: Math.abs,
  sign: (x) => (x > 0 ? 1 : x < 0 ? -1 : x),
  exp: Math.exp,
  log: Math.log,
  sin: Math.sin,
  cos: Math.cos,
  tanh: Math.tanh,
  sqrt: Math.sqrt,
  reciprocal: (x) => 1 / x,
  floor: Math.floor,
  ceil: Math.ceil,
  round: roundHalfEven,
  erf,
  log1p: Math.log1p,
  expm1: Math.expm1,
  logicalNot: (x) => (x === 0 ? 1 : 0),
};

const binaryFns: Record<BinaryPrimitive, Fn2> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: powC,
  maximum: Math.max,
  minimum: Math.min,
  mod: floorMod,
  eq: (a, b) => (a === b ? 1 : 0),
  ne: (a, b) => (a !== b ? 1 : 0),
  lt: (a, b) => (a < b ? 1 : 0),
  le: (a, b) => (a <= b ? 1 : 0),
  gt: (a, b) => (a > b ? 1 : 0),
  ge: (a, b) => (a >= b ? 1 : 0),
  logicalAnd: (a, b) => (a !== 0 && b !== 0 ? 1 : 0),
  logicalOr: (a, b) => (a !== 0 || b !== 0 ? 1 : 0),
};

/**
 * int32 arithmetic that must wrap like C rather than round through float64; what has no
 * int32 result (a negative power, a modulo by zero) throws, as in PyTorch.
 */
const int32Overrides: Partial<Record<BinaryPrimitive, Fn2>> = {
  mul: Math.imul,
  pow: (a, b) => {
    if (b < 0) throw new ArithmeticError('pow', `int32 to a negative int32 power (${a} ** ${b}); use floats`);
    return intPow(a, b);
  },
  mod: (a, b) => {
    if (b === 0) throw new ArithmeticError('mod', `int32 modulo by zero (${a} % 0)`);
    return floorMod(a, b);
  },
};

function intPow(base: number, exp: number): number {
  let result = 1;
  while (exp > 0) {
    if (exp & 1) result = Math.imul(result, base);
    base = Math.imul(base, base);
    exp >>>= 1;
  }
  return result;
}

function unary(op: UnaryPrimitive): Kernel<UnaryPrimitive, TypedArray> {
  const fn = unaryFns[op];
  const loop = unaryLoops[op];
  return ([out], [x]) => {
    const dst = out.handle;
    const src = x.handle;
    const offsets = stridedOffsets(x);
    const n = dst.length;
    if (offsets === null && loop) {
      loop(dst, src, x.offset, n);
    } else if (offsets === null) {
      const o = x.offset;
      for (let i = 0; i < n; i++) dst[i] = fn(src[o + i]);
    } else {
      for (let i = 0; i < n; i++) dst[i] = fn(src[offsets[i]]);
    }
  };
}

/** True when every element of the view is the same memory cell (a broadcast scalar). */
function isBroadcastScalar(view: CpuView): boolean {
  return view.strides.every((s, i) => s === 0 || view.shape[i] === 1);
}

function binary(op: BinaryPrimitive): Kernel<BinaryPrimitive, TypedArray> {
  return ([out], [a, b]) => {
    const fn = (a.dtype === 'int32' && int32Overrides[op]) || binaryFns[op];
    const dst = out.handle;
    const x = a.handle;
    const y = b.handle;
    const n = dst.length;
    // Broadcast scalars need no offset table; same-shape contiguous arrays need none either.
    const scalarA = isBroadcastScalar(a as CpuView);
    const scalarB = isBroadcastScalar(b as CpuView);
    const oa = scalarA ? null : stridedOffsets(a);
    const ob = scalarB ? null : stridedOffsets(b);
    const sa = a.offset;
    const sb = b.offset;
    const loop = a.dtype === 'int32' && int32Overrides[op] ? undefined : binaryLoops[op];
    if (loop && (scalarA || oa === null) && (scalarB || ob === null)) {
      loop(dst, x, sa, scalarA ? 0 : 1, y, sb, scalarB ? 0 : 1, n);
    } else if (scalarB && !scalarA && oa === null) {
      const v = y[sb];
      for (let i = 0; i < n; i++) dst[i] = fn(x[sa + i], v);
    } else if (scalarA && !scalarB && ob === null) {
      const v = x[sa];
      for (let i = 0; i < n; i++) dst[i] = fn(v, y[sb + i]);
    } else if (!scalarA && !scalarB && oa === null && ob === null) {
      for (let i = 0; i < n; i++) dst[i] = fn(x[sa + i], y[sb + i]);
    } else {
      for (let i = 0; i < n; i++) {
        const ia = scalarA ? sa : oa === null ? sa + i : oa[i];
        const ib = scalarB ? sb : ob === null ? sb + i : ob[i];
        dst[i] = fn(x[ia], y[ib]);
      }
    }
  };
}

export const unaryKernels = Object.fromEntries(
  Object.keys(unaryFns).map((name) => [name, unary(name as UnaryPrimitive)]),
) as { [P in UnaryPrimitive]: Kernel<P, TypedArray> };

export const binaryKernels = Object.fromEntries(
  Object.keys(binaryFns).map((name) => [name, binary(name as BinaryPrimitive)]),
) as { [P in BinaryPrimitive]: Kernel<P, TypedArray> };

export const where: Kernel<'where', TypedArray> = ([out], [cond, a, b]) => {
  const dst = out.handle;
  const c = cond.handle;
  const x = a.handle;
  const y = b.handle;
  const oc = stridedOffsets(cond);
  const oa = stridedOffsets(a);
  const ob = stridedOffsets(b);
  for (let i = 0; i < dst.length; i++) {
    const pick = c[oc === null ? cond.offset + i : oc[i]] !== 0;
    dst[i] = pick ? x[oa === null ? a.offset + i : oa[i]] : y[ob === null ? b.offset + i : ob[i]];
  }
};

/** Int32Array stores truncate (NaN becomes 0), Float32Array stores round; only bool needs care. */
export const cast: Kernel<'cast', TypedArray> = ([out], [x]) => {
  const dst = out.handle;
  const src = x.handle;
  const offsets = stridedOffsets(x);
  const toBool = out.dtype === 'bool';
  for (let i = 0; i < dst.length; i++) {
    const v = src[offsets === null ? x.offset + i : offsets[i]];
    dst[i] = toBool ? (v !== 0 ? 1 : 0) : v;
  }
};

export const copy: Kernel<'copy', TypedArray> = ([out], [x]) => gatherView(x as CpuView, out.handle);
