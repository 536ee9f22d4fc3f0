import type { TypedArray } from '../dtype.js';
import type { BinaryPrimitive, UnaryPrimitive } from '../primitives.js';

// Dedicated loops for the hottest elementwise ops. The generic kernels call the op through a
// function per element from one shared loop, which V8 cannot inline (every op's closure shares
// its call-site feedback), costing about 10× on large arrays. Each loop here is its own
// function literal, so its arithmetic is compiled inline.

/**
 * d[i] = x[ox + i·sx] ∘ y[oy + i·sy] for i < n. Strides are 1 (contiguous) or 0 (a broadcast
 * scalar), so one loop serves both cases.
 */
export type BinaryLoop = (
  d: TypedArray,
  x: TypedArray,
  ox: number,
  sx: number,
  y: TypedArray,
  oy: number,
  sy: number,
  n: number,
) => void;

// biome-ignore format: one line per op reads best
export const binaryLoops: Partial<Record<BinaryPrimitive, BinaryLoop>> = {
  add: (d, x, ox, sx, y, oy, sy, n) => { for (let i = 0; i < n; i++) d[i] = x[ox + i * sx] + y[oy + i * sy]; },
  sub: (d, x, ox, sx, y, oy, sy, n) => { for (let i = 0; i < n; i++) d[i] = x[ox + i * sx] - y[oy + i * sy]; },
  mul: (d, x, ox, sx, y, oy, sy, n) => { for (let i = 0; i < n; i++) d[i] = x[ox + i * sx] * y[oy + i * sy]; },
  div: (d, x, ox, sx, y, oy, sy, n) => { for (let i = 0; i < n; i++) d[i] = x[ox + i * sx] / y[oy + i * sy]; },
  maximum: (d, x, ox, sx, y, oy, sy, n) => { for (let i = 0; i < n; i++) d[i] = Math.max(x[ox + i * sx], y[oy + i * sy]); },
  minimum: (d, x, ox, sx, y, oy, sy, n) => { for (let i = 0; i < n; i++) d[i] = Math.min(x[ox + i * sx], y[oy + i * sy]); },
  gt: (d, x, ox, sx, y, oy, sy, n) => { for (let i = 0; i < n; i++) d[i] = x[ox + i * sx] > y[oy + i * sy] ? 1 : 0; },
  lt: (d, x, ox, sx, y, oy, sy, n) => { for (let i = 0; i < n; i++) d[i] = x[ox + i * sx] < y[oy + i * sy] ? 1 : 0; },
  ge: (d, x, ox, sx, y, oy, sy, n) => { for (let i = 0; i < n; i++) d[i] = x[ox + i * sx] >= y[oy + i * sy] ? 1 : 0; },
  le: (d, x, ox, sx, y, oy, sy, n) => { for (let i = 0; i < n; i++) d[i] = x[ox + i * sx] <= y[oy + i * sy] ? 1 : 0; },
  eq: (d, x, ox, sx, y, oy, sy, n) => { for (let i = 0; i < n; i++) d[i] = x[ox + i * sx] === y[oy + i * sy] ? 1 : 0; },
};

/** d[i] = f(x[o + i]) for i < n, on a contiguous input. */
export type UnaryLoop = (d: TypedArray, x: TypedArray, o: number, n: number) => void;

// biome-ignore format: one line per op reads best
export const unaryLoops: Partial<Record<UnaryPrimitive, UnaryLoop>> = {
  neg: (d, x, o, n) => { for (let i = 0; i < n; i++) d[i] = -x[o + i]; },
  exp: (d, x, o, n) => { for (let i = 0; i < n; i++) d[i] = Math.exp(x[o + i]); },
  log: (d, x, o, n) => { for (let i = 0; i < n; i++) d[i] = Math.log(x[o + i]); },
  tanh: (d, x, o, n) => { for (let i = 0; i < n; i++) d[i] = Math.tanh(x[o + i]); },
  sqrt: (d, x, o, n) => { for (let i = 0; i < n; i++) d[i] = Math.sqrt(x[o + i]); },
  reciprocal: (d, x, o, n) => { for (let i = 0; i < n; i++) d[i] = 1 / x[o + i]; },
};
