import * as T from '@tsgrad/tensor';
import { checkFunction, checkTensor } from '../check.js';
import { defineOp, type Op } from '../op.js';
import type { InputSpec, OpSpec } from '../spec.js';
import { type OpContext, Tensor, type TensorLike } from '../tensor.js';
import { constant, toTensor, withOperands } from './convert.js';
import { binaryShapes, unaryShapes } from './samples.js';

type NoParams = Record<string, never>;
const none: NoParams = {};

// Most calls pass tensors: they go straight to the op (no operand list, closure or frame).

function applyUnary(name: string, op: Op<NoParams>, x: TensorLike): Tensor {
  if (x instanceof Tensor) return op.apply([x], none)[0];
  return withOperands(name, [x], () => op.apply([toTensor(x)], none)[0]);
}

function applyBinary(name: string, op: Op<NoParams>, a: TensorLike, b: TensorLike): Tensor {
  if (a instanceof Tensor && b instanceof Tensor) return op.apply([a, b], none)[0];
  return withOperands(name, [a, b], () => op.apply(operands(a, b), none)[0]);
}

/**
 * A derivative (of a unary op, or a partial of a binary one): a tensor, ±1 when multiplying
 * by it would be wasted work, or `{ reciprocalOf: d }` for 1 / d, which is divided by.
 */
type Partial = Tensor | 1 | -1 | { readonly reciprocalOf: Tensor };
type PartialRule = (a: Tensor, b: Tensor, y: Tensor) => Partial;

/** g · ∂, skipping the multiplication for ∂ = ±1 and dividing for ∂ = 1 / d. */
function chain(g: Tensor, partial: Partial): Tensor {
  if (partial === 1) return g;
  if (partial === -1) return neg(g);
  return partial instanceof Tensor ? mul(g, partial) : div(g, partial.reciprocalOf);
}

// ---- unary math ----------------------------------------------------------------------------

/**
 * A unary op from its forward and its derivative y' = f'(x), written with differentiable ops
 * (given x and y) as a `Partial`: `{ reciprocalOf: d }` when f'(x) = 1 / d, so that the rules
 * divide by d (one op, and no rounding of 1 / d: PyTorch's `grad / x` for log). The JVP is
 * t·f'(x) and the VJP g·f'(x).
 */
function unary(
  name: string,
  forward: (x: T.NDArray) => T.NDArray,
  derivative: (x: Tensor, y: Tensor) => Partial,
  spec: { input?: InputSpec<NoParams>; reference?: (x: number) => number },
) {
  const slope = ({ inputs, outputs }: OpContext<NoParams>) => derivative(inputs[0], outputs[0]);
  const op = defineOp<NoParams>({
    name,
    forward: ([x]) => forward(x),
    vjp: (ctx, [g]) => [chain(g, slope(ctx))],
    jvp: (ctx, [t]) => [chain(t, slope(ctx))],
    save: { inputs: true, outputs: true },
    spec: {
      inputs: [spec.input ?? {}],
      samples: unaryShapes,
      reference: spec.reference && (([x]) => [x.map(spec.reference as (v: number) => number)]),
      errors: [{ shapes: [[2]], dtypes: ['bool'], throws: T.DTypeError }],
    },
  });
  return (x: TensorLike): Tensor => applyUnary(name, op, x);
}

/** A piecewise-constant op: its derivative is zero wherever it is defined. */
function stepwise(
  name: string,
  forward: (x: T.NDArray) => T.NDArray,
  reference: (x: number) => number,
  avoid: (x: number) => boolean,
) {
  const op = defineOp<NoParams>({
    name,
    forward: ([x]) => forward(x),
    vjp: ({ inputs: [x] }, [g]) => [zerosLike(x, g)],
    jvp: ({ outputs: [y] }, [t]) => [zerosLike(y, t)],
    spec: {
      inputs: [{ range: [-3, 3], values: (shape, _, random) => awayFrom(shape, random, avoid) }],
      samples: unaryShapes,
      order: 2,
      reference: ([x]) => [x.map(reference)],
    },
  });
  return (x: TensorLike): Tensor => applyUnary(name, op, x);
}

function awayFrom(shape: T.Shape, random: () => number, bad: (x: number) => boolean): number[] {
  const size = shape.reduce((a, b) => a * b, 1);
  return Array.from({ length: size }, () => {
    let v = 0;
    do v = -3 + 6 * random();
    while (bad(v));
    return v;
  });
}

/** Zeros with the shape of `shape` and the dtype of `dtype`, as a constant. */
function zerosLike(shape: Tensor, dtype: Tensor): Tensor {
  return constant(T.zeros(shape.shape, { dtype: T.isFloat(dtype.dtype) ? dtype.dtype : 'float32' }));
}

const erfScale = 2 / Math.sqrt(Math.PI);
const nearInteger = (x: number) => Math.abs(x - Math.round(x)) < 0.05;
const nearHalf = (x: number) => Math.abs(Math.abs(x % 1) - 0.5) < 0.05;

/** Elementwise negation, −x. */
export const neg = unary('neg', T.neg, (x) => full0(x, -1), { reference: (x) => -x });
/** d|x|/dx = sign(x); 0 at x = 0 (PyTorch's convention). */
export const abs = unary('abs', T.abs, (x) => sign(x), { input: { avoid: [0] }, reference: Math.abs });
/** Elementwise eˣ. */
export const exp = unary('exp', T.exp, (_, y) => y, { reference: Math.exp });
/** Elementwise natural logarithm (−Infinity at 0, NaN below). */
export const log = unary('log', T.log, (x) => ({ reciprocalOf: x }), {
  input: { range: [0.2, 3] },
  reference: Math.log,
});
/** Elementwise sine (radians). */
export const sin = unary('sin', T.sin, (x) => cos(x), { reference: Math.sin });
/** Elementwise cosine (radians). */
export const cos = unary('cos', T.cos, (x) => neg(sin(x)), { reference: Math.cos });
/** Elementwise hyperbolic tangent. */
export const tanh = unary('tanh', T.tanh, (_, y) => sub(1, mul(y, y)), { reference: Math.tanh });
/** Elementwise square root (NaN below 0; the gradient at 0 is Infinity). */
export const sqrt = unary('sqrt', T.sqrt, (_, y) => div(0.5, y), {
  input: { range: [0.2, 3] },
  reference: Math.sqrt,
});
/** Elementwise 1 / x. */
export const reciprocal = unary('reciprocal', T.reciprocal, (_, y) => neg(mul(y, y)), {
  input: { range: [0.3, 3] },
  reference: (x) => 1 / x,
});
/** The Gauss error function, elementwise. */
export const erf = unary('erf', T.erf, (x) => mul(erfScale, exp(neg(mul(x, x)))), {});
/** log(1 + x), accurate for small x. */
export const log1p = unary('log1p', T.log1p, (x) => ({ reciprocalOf: add(x, 1) }), {
  input: { range: [-0.7, 3] },
  reference: Math.log1p,
});
/** eˣ − 1, accurate for small x. */
export const expm1 = unary('expm1', T.expm1, (_, y) => add(y, 1), { reference: Math.expm1 });
/** sign, floor, ceil and round have zero gradient (PyTorch's convention, also at jumps). */
export const sign = stepwise('sign', T.sign, Math.sign, (x) => Math.abs(x) < 0.05);
/** Rounds down to an integer value; its gradient is zero. */
export const floor = stepwise('floor', T.floor, Math.floor, nearInteger);
/** Rounds up to an integer value; its gradient is zero. */
export const ceil = stepwise('ceil', T.ceil, Math.ceil, nearInteger);
/** Rounds half to even (like NumPy and PyTorch); its gradient is zero. */
export const round = stepwise('round', T.round, Math.round, nearHalf);

function full0(like: Tensor, value: number): Tensor {
  return constant(T.full([], value, { dtype: like.dtype }));
}

// ---- binary math ---------------------------------------------------------------------------

/**
 * A broadcasting binary op from its partial derivatives ∂f/∂a and ∂f/∂b, each computed only
 * when needed. The tape sums each gradient back to its input's shape.
 */
function binary(
  name: string,
  forward: (a: T.NDArray, b: T.NDArray) => T.NDArray,
  [partialA, partialB]: readonly [PartialRule, PartialRule],
  spec: Pick<OpSpec<NoParams>, 'inputs' | 'order'> & { reference: (a: number, b: number) => number },
) {
  const op = defineOp<NoParams>({
    name,
    forward: ([a, b]) => forward(a, b),
    vjp: ({ inputs: [a, b], outputs: [y], needsInputGrad }, [g]) => [
      needsInputGrad[0] ? chain(g, partialA(a, b, y)) : null,
      needsInputGrad[1] ? chain(g, partialB(a, b, y)) : null,
    ],
    jvp: ({ inputs: [a, b], outputs: [y] }, [ta, tb]) => [
      add(chain(ta, partialA(a, b, y)), chain(tb, partialB(a, b, y))),
    ],
    save: { inputs: true, outputs: true },
    spec: {
      inputs: spec.inputs,
      samples: binaryShapes,
      order: spec.order,
      reference: ([a, b], shapes) => [broadcastReference(a, shapes[0], b, shapes[1], spec.reference)],
      errors: [{ shapes: [[2, 3], [4]], throws: T.ShapeError }],
    },
  });
  return (a: TensorLike, b: TensorLike): Tensor => applyBinary(name, op, a, b);
}

function operands(a: TensorLike, b: TensorLike): [Tensor, Tensor] {
  if (typeof a !== 'object' && typeof b === 'object') return [toTensor(a, b), b];
  const x = toTensor(a);
  return [x, toTensor(b, x)];
}

/** Elementwise f over two row-major arrays with NumPy broadcasting (for spec references). */
export function broadcastReference(
  a: Float64Array,
  aShape: T.Shape,
  b: Float64Array,
  bShape: T.Shape,
  f: (x: number, y: number) => number,
): Float64Array {
  checkFunction('broadcastReference', f, 'f');
  if (!(a instanceof Float64Array) || !(b instanceof Float64Array)) {
    throw new T.ValueError('broadcastReference', 'the operands must be Float64Arrays');
  }
  const shape = T.broadcastShapes('reference', aShape, bShape);
  const size = shape.reduce((s, d) => s * d, 1);
  const out = new Float64Array(size);
  const index = new Array<number>(shape.length).fill(0);
  const offset = (src: T.Shape) => {
    let at = 0;
    for (let i = 0; i < src.length; i++) {
      const d = src[i];
      at = at * d + (d === 1 ? 0 : index[shape.length - src.length + i]);
    }
    return at;
  };
  for (let i = 0; i < size; i++) {
    out[i] = f(a[offset(aShape)], b[offset(bShape)]);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

/** a + b, broadcasting, with dtype promotion (a number is a weak scalar). */
export const add = binary('add', T.add, [() => 1, () => 1], { inputs: [{}, {}], reference: (a, b) => a + b });
/** a − b, broadcasting, with dtype promotion. */
export const sub = binary('sub', T.sub, [() => 1, () => -1], {
  inputs: [{}, {}],
  reference: (a, b) => a - b,
});
/** a · b, elementwise, broadcasting, with dtype promotion. */
export const mul = binary('mul', T.mul, [(_, b) => b, (a) => a], {
  inputs: [{}, {}],
  reference: (a, b) => a * b,
});
/** a / b, broadcasting; integer inputs give float32 (true division). */
export const div = binary('div', T.div, [(_, b) => ({ reciprocalOf: b }), (_, b, y) => neg(div(y, b))], {
  inputs: [{}, { range: [0.3, 2] }],
  reference: (a, b) => a / b,
});
/** Gradient w.r.t. the exponent uses log(a), so the spec keeps a > 0. */
export const pow = binary('pow', T.pow, [(a, b) => mul(b, pow(a, sub(b, 1))), (a, _, y) => mul(y, log(a))], {
  inputs: [{ range: [0.3, 2] }, { range: [-2, 2] }],
  reference: Math.pow,
});
/** Where a = b the gradient is split evenly between both (PyTorch's convention). */
export const maximum = binary(
  'maximum',
  T.maximum,
  [(a, b) => tieSplit(T.gt, a, b), (a, b) => tieSplit(T.gt, b, a)],
  { inputs: [{}, {}], reference: Math.max },
);
/** Elementwise minimum; NaN propagates, and a tie splits the gradient evenly between a and b. */
export const minimum = binary(
  'minimum',
  T.minimum,
  [(a, b) => tieSplit(T.lt, a, b), (a, b) => tieSplit(T.lt, b, a)],
  { inputs: [{}, {}], reference: Math.min },
);
/** Floored modulo; ∂/∂a = 1, ∂/∂b = −floor(a / b). */
export const mod = binary('mod', T.mod, [() => 1, (a, b) => neg(floor(div(a, b)))], {
  // b is fixed at 0.7 and a kept away from its multiples, where mod jumps.
  inputs: [
    { values: (shape, _, random) => awayFrom(shape, random, (x) => nearInteger(x / 0.7)) },
    { values: (shape) => new Array<number>(shape.reduce((n, d) => n * d, 1)).fill(0.7) },
  ],
  reference: (a, b) => a - Math.floor(a / b) * b,
});

/** 1 where `pick(a, b)`, 0.5 at ties, 0 elsewhere, as a constant of a's dtype. */
function tieSplit(pick: (a: T.NDArray, b: T.NDArray) => T.NDArray, a: Tensor, b: Tensor): Tensor {
  const wins = T.cast(pick(a.peekValue(), b.peekValue()), a.dtype);
  const ties = T.mul(T.cast(T.eq(a.peekValue(), b.peekValue()), a.dtype), 0.5);
  return constant(T.add(wins, ties));
}

// ---- comparisons, logic, selection, casts ----------------------------------------------------

/** Ops with bool results: recorded for completeness, never differentiated (order 0). */
function predicate(
  name: string,
  forward: (a: T.NDArray, b: T.NDArray) => T.NDArray,
  reference: (a: number, b: number) => boolean,
) {
  const op = defineOp<NoParams>({
    name,
    forward: ([a, b]) => forward(a, b),
    vjp: () => [null, null],
    save: { inputs: false },
    spec: {
      inputs: [
        { range: [-2, 2], values: (shape, _, random) => smallIntegers(shape, random) },
        { values: (shape, _, random) => smallIntegers(shape, random) },
      ],
      samples: binaryShapes,
      order: 0,
      reference: ([a, b], shapes) => [
        broadcastReference(a, shapes[0], b, shapes[1], (x, y) => (reference(x, y) ? 1 : 0)),
      ],
      errors: [{ shapes: [[2, 3], [4]], throws: T.ShapeError }],
    },
  });
  return (a: TensorLike, b: TensorLike): Tensor => applyBinary(name, op, a, b);
}

/** Few distinct values, so comparisons see ties. */
function smallIntegers(shape: T.Shape, random: () => number): number[] {
  return Array.from({ length: shape.reduce((n, d) => n * d, 1) }, () => Math.floor(random() * 3) - 1);
}

/** a == b, elementwise with broadcasting; a bool tensor without gradient. */
export const eq = predicate('eq', T.eq, (a, b) => a === b);
/** a ≠ b, elementwise with broadcasting; a bool tensor without gradient. */
export const ne = predicate('ne', T.ne, (a, b) => a !== b);
/** a < b, elementwise with broadcasting; a bool tensor without gradient. */
export const lt = predicate('lt', T.lt, (a, b) => a < b);
/** a ≤ b, elementwise with broadcasting; a bool tensor without gradient. */
export const le = predicate('le', T.le, (a, b) => a <= b);
/** a > b, elementwise with broadcasting; a bool tensor without gradient. */
export const gt = predicate('gt', T.gt, (a, b) => a > b);
/** a ≥ b, elementwise with broadcasting; a bool tensor without gradient. */
export const ge = predicate('ge', T.ge, (a, b) => a >= b);
/** Logical and, elementwise with broadcasting; a bool tensor without gradient. */
export const logicalAnd = predicate('logicalAnd', T.logicalAnd, (a, b) => a !== 0 && b !== 0);
/** Logical or, elementwise with broadcasting; a bool tensor without gradient. */
export const logicalOr = predicate('logicalOr', T.logicalOr, (a, b) => a !== 0 || b !== 0);

const logicalNotOp = defineOp<NoParams>({
  name: 'logicalNot',
  forward: ([x]) => T.logicalNot(x),
  vjp: () => [null],
  save: { inputs: false },
  spec: {
    inputs: [{ values: (shape, _, random) => smallIntegers(shape, random) }],
    samples: unaryShapes,
    order: 0,
    reference: ([x]) => [x.map((v) => (v === 0 ? 1 : 0))],
  },
});
/** Logical not (for non-bool input: x == 0); a bool tensor without gradient. */
export const logicalNot = (x: TensorLike): Tensor =>
  withOperands('logicalNot', [x], () => logicalNotOp.apply([toTensor(x)], none)[0]);

const whereOp = defineOp<NoParams>({
  name: 'where',
  forward: ([cond, a, b]) => T.where(cond, a, b),
  vjp: ({ inputs: [cond], needsInputGrad }, [g]) => [
    null,
    needsInputGrad[1] ? where(cond, g, 0) : null,
    needsInputGrad[2] ? where(cond, 0, g) : null,
  ],
  jvp: ({ inputs: [cond] }, [, ta, tb]) => [where(cond, ta, tb)],
  spec: {
    inputs: [{ kind: 'mask' }, {}, {}],
    samples: [
      { shapes: [[4], [4], [4]] },
      { shapes: [[2, 3], [3], [2, 1]] },
      { shapes: [[3, 1], [], [1, 2]] },
    ],
    reference: ([c, a, b], shapes) => {
      const picked = broadcastReference(c, shapes[0], a, shapes[1], (ci, ai) => (ci !== 0 ? ai : Number.NaN));
      const cShape = T.broadcastShapes('where', shapes[0], shapes[1]);
      return [broadcastReference(picked, cShape, b, shapes[2], (p, bi) => (Number.isNaN(p) ? bi : p))];
    },
    errors: [{ shapes: [[2], [2], [2]], dtypes: ['float32'], throws: T.DTypeError }],
  },
});

/** `cond ? a : b` elementwise with broadcasting; the gradient flows to the chosen branch. */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  checkTensor('where', cond, 'cond');
  return withOperands('where', [a, b], () => whereOp.apply([cond, ...operands(a, b)], none)[0]);
}

const castOp = defineOp<{ dtype: T.DType }>({
  name: 'cast',
  forward: ([x], { dtype }) => T.cast(x, dtype),
  vjp: ({ inputs: [x] }, [g]) => [T.isFloat(x.dtype) ? cast(g, x.dtype) : null],
  jvp: (_, [t]) => [t],
  spec: {
    inputs: [{}],
    samples: [
      { shapes: [[3]], params: { dtype: 'float32' } },
      { shapes: [[2, 2]], params: { dtype: 'float64' } },
    ],
    reference: ([x]) => [x],
    tolerance: { atol: 1e-3, rtol: 1e-3 },
  },
});

/** Converts to `dtype`; differentiable between float dtypes. */
export function cast(x: Tensor, dtype: T.DType): Tensor {
  checkTensor('cast', x);
  return x.dtype === dtype ? x : castOp.apply([x], { dtype })[0];
}
