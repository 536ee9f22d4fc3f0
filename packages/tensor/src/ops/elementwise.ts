import { checkArray } from '../check.js';
import { runPrimitive } from '../dispatch.js';
import { checkDType, type DType, isFloat, promoteTypes, toFloat, weakScalarType } from '../dtype.js';
import { DTypeError, describe, ValueError } from '../errors.js';
import type { NDArray } from '../ndarray.js';
import type { BinaryPrimitive, UnaryPrimitive } from '../primitives.js';
import { broadcastShapes, shapesEqual } from '../shape.js';
import { full } from './creation.js';
import { disposing } from './temporaries.js';
import { broadcastTo } from './views.js';

/** An array, or a plain JS number/boolean that broadcasts as a weak scalar. */
export type ArrayOrScalar = NDArray | number | boolean;

/** Converts to `dtype` (float → int truncates toward zero; to bool tests ≠ 0). */
export function cast(x: NDArray, dtype: DType): NDArray {
  checkArray('cast', x);
  checkDType('cast', dtype);
  if (x.dtype === dtype) return x;
  return runPrimitive('cast', [x], {}, [{ shape: x.shape, dtype }])[0];
}

type UnaryKind = 'float' | 'numeric' | 'integral' | 'logical';

/**
 * How each unary op treats dtypes: 'float' ops compute in float (int/bool inputs become
 * float32, like PyTorch); 'numeric' ones keep int32 but reject bool; 'integral' ones (floor,
 * ceil, round) are the identity on int32; 'logical' ones work on bool.
 */
const unaryKinds: Record<UnaryPrimitive, UnaryKind> = {
  neg: 'numeric',
  abs: 'numeric',
  sign: 'numeric',
  exp: 'float',
  log: 'float',
  sin: 'float',
  cos: 'float',
  tanh: 'float',
  sqrt: 'float',
  reciprocal: 'float',
  floor: 'integral',
  ceil: 'integral',
  round: 'integral',
  erf: 'float',
  log1p: 'float',
  expm1: 'float',
  logicalNot: 'logical',
};

function unary(op: UnaryPrimitive, x: NDArray): NDArray {
  checkArray(op, x);
  const kind = unaryKinds[op];
  if (kind !== 'logical' && x.dtype === 'bool') {
    throw new DTypeError(op, `not defined for bool arrays (shape [${x.shape.join(',')}])`);
  }
  if (kind === 'integral' && x.dtype === 'int32') return x;
  const dtype = kind === 'logical' ? 'bool' : kind === 'float' ? toFloat(x.dtype) : x.dtype;
  // Mostly x already has the dtype: no cast to dispose, no closure (every traced op passes here).
  if (x.dtype === dtype) return runPrimitive(op, [x], {}, [{ shape: x.shape, dtype }])[0];
  const input = cast(x, dtype);
  return disposing([input], [x], () => runPrimitive(op, [input], {}, [{ shape: x.shape, dtype }])[0]);
}

/** Elementwise negation, −x. */
export const neg = (x: NDArray) => unary('neg', x);
/** Elementwise absolute value. */
export const abs = (x: NDArray) => unary('abs', x);
/** Elementwise sign: −1, 0 or 1 (NaN stays NaN). */
export const sign = (x: NDArray) => unary('sign', x);
/** Elementwise eˣ. */
export const exp = (x: NDArray) => unary('exp', x);
/** Elementwise natural logarithm (−Infinity at 0, NaN below). */
export const log = (x: NDArray) => unary('log', x);
/** Elementwise sine (radians). */
export const sin = (x: NDArray) => unary('sin', x);
/** Elementwise cosine (radians). */
export const cos = (x: NDArray) => unary('cos', x);
/** Elementwise hyperbolic tangent. */
export const tanh = (x: NDArray) => unary('tanh', x);
/** Elementwise square root (NaN below 0). */
export const sqrt = (x: NDArray) => unary('sqrt', x);
/** Elementwise 1 / x. */
export const reciprocal = (x: NDArray) => unary('reciprocal', x);
/** Rounds down to an integer value, elementwise. */
export const floor = (x: NDArray) => unary('floor', x);
/** Rounds up to an integer value, elementwise. */
export const ceil = (x: NDArray) => unary('ceil', x);
/** Rounds half to even, like NumPy and PyTorch. */
export const round = (x: NDArray) => unary('round', x);
/** The Gauss error function, elementwise. */
export const erf = (x: NDArray) => unary('erf', x);
/** log(1 + x), accurate for small x. */
export const log1p = (x: NDArray) => unary('log1p', x);
/** eˣ − 1, accurate for small x. */
export const expm1 = (x: NDArray) => unary('expm1', x);
/** Logical not of a bool array (other dtypes: x == 0). */
export const logicalNot = (x: NDArray) => unary('logicalNot', x);

type BinaryKind = 'arith' | 'truediv' | 'compare' | 'logical';

const binaryKinds: Record<BinaryPrimitive, BinaryKind> = {
  add: 'arith',
  sub: 'arith',
  mul: 'arith',
  div: 'truediv',
  pow: 'arith',
  maximum: 'arith',
  minimum: 'arith',
  mod: 'arith',
  eq: 'compare',
  ne: 'compare',
  lt: 'compare',
  le: 'compare',
  gt: 'compare',
  ge: 'compare',
  logicalAnd: 'logical',
  logicalOr: 'logical',
};

/** The common dtype of the operands under the promotion table (JS scalars are weak). */
export function resultType(...operands: ArrayOrScalar[]): DType {
  checkOperands('resultType', operands);
  return promotedType(operands);
}

/** `resultType` of operands already checked. */
function promotedType(operands: readonly ArrayOrScalar[]): DType {
  let dtype: DType | undefined;
  for (const o of operands) {
    if (typeof o === 'object') dtype = dtype === undefined ? o.dtype : promoteTypes(dtype, o.dtype);
  }
  for (const o of operands) {
    if (typeof o === 'object') continue;
    dtype =
      dtype === undefined
        ? typeof o === 'boolean'
          ? 'bool'
          : Number.isInteger(o)
            ? 'int32'
            : 'float32'
        : weakScalarType(o, dtype);
  }
  return dtype ?? 'float32';
}

/**
 * Brings the operands to one dtype and one broadcast shape, as new strided views that the
 * caller disposes after use.
 */
export function align(op: string, operands: readonly ArrayOrScalar[], dtype: DType): NDArray[] {
  if (!Array.isArray(operands))
    throw new ValueError(op, `expected a list of operands, got ${describe(operands)}`);
  checkOperands(op, operands);
  checkDType(op, dtype);
  const arrays = operands.map((o) => (typeof o === 'object' ? cast(o, dtype) : full([], o, { dtype })));
  return disposing(arrays, operands, () => {
    const shape = broadcastShapes(op, ...arrays.map((a) => a.shape));
    return arrays.map((a) => broadcastTo(a, shape));
  });
}

/** Checks that each operand is a live array, a number or a boolean. */
function checkOperands(op: string, operands: readonly unknown[]): void {
  for (let i = 0; i < operands.length; i++) checkOperand(op, operands[i], i);
}

function checkOperand(op: string, o: unknown, i: number): void {
  if (typeof o !== 'number' && typeof o !== 'boolean') checkArray(op, o, `operand ${i}`);
}

function binary(op: BinaryPrimitive, a: ArrayOrScalar, b: ArrayOrScalar): NDArray {
  checkOperand(op, a, 0);
  checkOperand(op, b, 1);
  const kind = binaryKinds[op];
  let dtype = kind === 'logical' ? 'bool' : promotedType([a, b]);
  if (kind === 'truediv' && !isFloat(dtype)) dtype = 'float32';
  if (kind === 'arith' && dtype === 'bool') {
    if (op !== 'maximum' && op !== 'minimum') dtype = 'int32';
  }
  const outDtype = kind === 'compare' || kind === 'logical' ? 'bool' : dtype;
  // Two arrays already of that dtype (most calls): no casts, and a broadcast view only of an
  // operand whose shape differs (every traced op passes here).
  if (typeof a === 'object' && typeof b === 'object' && a.dtype === dtype && b.dtype === dtype) {
    const shape = shapesEqual(a.shape, b.shape) ? a.shape : broadcastShapes(op, a.shape, b.shape);
    const x = shapesEqual(a.shape, shape) ? a : broadcastTo(a, shape);
    const y = shapesEqual(b.shape, shape) ? b : broadcastTo(b, shape);
    if (x === a && y === b) return runPrimitive(op, [a, b], {}, [{ shape, dtype: outDtype }])[0];
    return disposing([x, y], [a, b], () => runPrimitive(op, [x, y], {}, [{ shape, dtype: outDtype }])[0]);
  }
  const [x, y] = align(op, [a, b], dtype);
  return disposing([x, y], [], () => runPrimitive(op, [x, y], {}, [{ shape: x.shape, dtype: outDtype }])[0]);
}

/** a + b, broadcasting, with dtype promotion (a number operand takes the array's dtype). */
export const add = (a: ArrayOrScalar, b: ArrayOrScalar) => binary('add', a, b);
/** a − b, broadcasting, with dtype promotion. */
export const sub = (a: ArrayOrScalar, b: ArrayOrScalar) => binary('sub', a, b);
/** a · b, broadcasting, with dtype promotion. */
export const mul = (a: ArrayOrScalar, b: ArrayOrScalar) => binary('mul', a, b);
/** True division: integer inputs give float32. */
export const div = (a: ArrayOrScalar, b: ArrayOrScalar) => binary('div', a, b);
/** aᵇ, broadcasting, with dtype promotion. */
export const pow = (a: ArrayOrScalar, b: ArrayOrScalar) => binary('pow', a, b);
/** Elementwise maximum; NaN propagates. */
export const maximum = (a: ArrayOrScalar, b: ArrayOrScalar) => binary('maximum', a, b);
/** Elementwise minimum; NaN propagates. */
export const minimum = (a: ArrayOrScalar, b: ArrayOrScalar) => binary('minimum', a, b);
/** Floored modulo: the result has the sign of the divisor (torch.remainder, Python's %). */
export const mod = (a: ArrayOrScalar, b: ArrayOrScalar) => binary('mod', a, b);
/** a == b, elementwise with broadcasting; a bool array. */
export const eq = (a: ArrayOrScalar, b: ArrayOrScalar) => binary('eq', a, b);
/** a ≠ b, elementwise with broadcasting; a bool array. */
export const ne = (a: ArrayOrScalar, b: ArrayOrScalar) => binary('ne', a, b);
/** a < b, elementwise with broadcasting; a bool array. */
export const lt = (a: ArrayOrScalar, b: ArrayOrScalar) => binary('lt', a, b);
/** a ≤ b, elementwise with broadcasting; a bool array. */
export const le = (a: ArrayOrScalar, b: ArrayOrScalar) => binary('le', a, b);
/** a > b, elementwise with broadcasting; a bool array. */
export const gt = (a: ArrayOrScalar, b: ArrayOrScalar) => binary('gt', a, b);
/** a ≥ b, elementwise with broadcasting; a bool array. */
export const ge = (a: ArrayOrScalar, b: ArrayOrScalar) => binary('ge', a, b);
/** Logical and, elementwise with broadcasting; a bool array. */
export const logicalAnd = (a: ArrayOrScalar, b: ArrayOrScalar) => binary('logicalAnd', a, b);
/** Logical or, elementwise with broadcasting; a bool array. */
export const logicalOr = (a: ArrayOrScalar, b: ArrayOrScalar) => binary('logicalOr', a, b);

/** `cond ? a : b` elementwise, broadcasting all three. `cond` must be bool. */
export function where(cond: NDArray, a: ArrayOrScalar, b: ArrayOrScalar): NDArray {
  checkArray('where', cond, 'cond');
  if (cond.dtype !== 'bool') throw new DTypeError('where', `condition must be bool, got ${cond.dtype}`);
  checkOperands('where', [a, b]);
  const dtype = resultType(a, b);
  const aligned = align('where', [a, b], dtype);
  return disposing(aligned, [], () => {
    const shape = broadcastShapes('where', cond.shape, aligned[0].shape);
    const inputs = [cond, ...aligned].map((v) => broadcastTo(v, shape));
    return disposing(inputs, [], () => runPrimitive('where', inputs, {}, [{ shape, dtype }])[0]);
  });
}
