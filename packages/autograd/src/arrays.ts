import * as T from '@tsgrad/tensor';
import { recordArray } from './lifetime.js';

// The @tsgrad/tensor API as library code uses it: the same functions, except that the arrays
// the array ops make are recorded in the innermost library frame (see lifetime.ts), which
// frees them when it ends unless they are returned or a tensor takes them over. Outside a
// frame they behave like @tsgrad/tensor's. Non-array functions, types and errors are
// re-exported unchanged.
//
// The most used ops are also reimplemented on `runPrimitive` here, because @tsgrad/tensor's
// own frontends leave temporaries undisposed: the casts, JS-number operands and broadcast
// views of `align`, the cast before a reduction, the array behind a keepdims view, matmul's
// operand views. An undisposed view holds its buffer's reference until the garbage collector
// runs, so each array an op read would outlive its last `dispose`. Once @tsgrad/tensor
// disposes its own temporaries, these reduce to `recorded(T.op)`.

export * from '@tsgrad/tensor';

type Operand = T.NDArray | number | boolean;

/** Records every array in `result` (an array, a list, or an object of them) that is not an input. */
function recordResult<R>(result: R, inputs: readonly unknown[]): R {
  const record = (x: unknown) => {
    if (x instanceof T.NDArray && !inputs.includes(x)) recordArray(x);
  };
  if (Array.isArray(result)) result.forEach(record);
  else if (result instanceof T.NDArray) record(result);
  else if (typeof result === 'object' && result !== null) Object.values(result).forEach(record);
  return result;
}

/** `fn`, recording the arrays it makes. */
function recorded<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
  return (...args) => recordResult(fn(...args), args);
}

/** Runs `fn` on `made` (temporaries of the caller) and disposes those that are not `inputs`. */
function using<R>(made: readonly T.NDArray[], inputs: readonly unknown[], fn: () => R): R {
  try {
    return fn();
  } finally {
    for (const x of made) if (!inputs.includes(x)) x.dispose();
  }
}

/** The operands as arrays of `dtype` broadcast together, passed to `fn`, then disposed. */
function aligned<R>(
  op: string,
  operands: readonly Operand[],
  dtype: T.DType,
  fn: (views: T.NDArray[]) => R,
): R {
  const arrays = operands.map((o) => (typeof o === 'object' ? T.cast(o, dtype) : T.full([], o, { dtype })));
  return using(arrays, operands, () => {
    const views = T.align(op, arrays, dtype);
    return using(views, [], () => fn(views));
  });
}

// ---- elementwise ------------------------------------------------------------------------------

type BinaryKind = 'arith' | 'truediv' | 'compare' | 'logical';

/** How each binary op picks its dtype (as in @tsgrad/tensor). */
const binaryKinds: Record<T.BinaryPrimitive, BinaryKind> = {
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

/** The dtype a binary op computes in. */
function computeDtype(op: T.BinaryPrimitive, a: Operand, b: Operand): T.DType {
  const kind = binaryKinds[op];
  if (kind === 'logical') return 'bool';
  const dtype = T.resultType(a, b);
  if (kind === 'truediv' && !T.isFloat(dtype)) return 'float32';
  if (kind === 'arith' && dtype === 'bool' && op !== 'maximum' && op !== 'minimum') return 'int32';
  return dtype;
}

function binary(op: T.BinaryPrimitive): (a: Operand, b: Operand) => T.NDArray {
  const comparison = binaryKinds[op] === 'compare' || binaryKinds[op] === 'logical';
  return (a, b) => {
    const dtype = computeDtype(op, a, b);
    const out = aligned(op, [a, b], dtype, ([x, y]) => {
      const spec = { shape: x.shape, dtype: comparison ? ('bool' as const) : dtype };
      return T.runPrimitive(op, [x, y], {}, [spec])[0];
    });
    return recordResult(out, [a, b]);
  };
}

export const add = binary('add');
export const sub = binary('sub');
export const mul = binary('mul');
export const div = binary('div');
export const pow = binary('pow');
export const maximum = binary('maximum');
export const minimum = binary('minimum');
export const mod = binary('mod');
export const eq = binary('eq');
export const ne = binary('ne');
export const lt = binary('lt');
export const le = binary('le');
export const gt = binary('gt');
export const ge = binary('ge');
export const logicalAnd = binary('logicalAnd');
export const logicalOr = binary('logicalOr');

/** `cond ? a : b` elementwise, broadcasting all three. `cond` must be bool. */
export function where(cond: T.NDArray, a: Operand, b: Operand): T.NDArray {
  if (cond.dtype !== 'bool') return T.where(cond, a, b); // throws the error
  const dtype = T.resultType(a, b);
  const out = aligned('where', [a, b], dtype, ([x, y]) => {
    const shape = T.broadcastShapes('where', cond.shape, x.shape);
    const inputs = [cond, x, y].map((v) => T.broadcastTo(v, shape));
    return using(inputs, [], () => T.runPrimitive('where', inputs, {}, [{ shape, dtype }])[0]);
  });
  return recordResult(out, [cond, a, b]);
}

/** A unary op that computes in `dtype` when given another (int32 or bool) input. */
function unaryIn(dtype: T.DType, fn: (x: T.NDArray) => T.NDArray): (x: T.NDArray) => T.NDArray {
  return (x) => {
    if (x.dtype === dtype || (dtype !== 'bool' && x.dtype === 'bool')) return recordResult(fn(x), [x]);
    const input = T.cast(x, dtype);
    return recordResult(
      using([input], [x], () => fn(input)),
      [x],
    );
  };
}

/** A float unary op: int32 inputs are computed in float32. */
const floating = (fn: (x: T.NDArray) => T.NDArray) => (x: T.NDArray) =>
  T.isFloat(x.dtype) ? recordResult(fn(x), [x]) : unaryIn('float32', fn)(x);

export const cast = recorded(T.cast);
export const neg = recorded(T.neg);
export const abs = recorded(T.abs);
export const sign = recorded(T.sign);
export const floor = recorded(T.floor);
export const ceil = recorded(T.ceil);
export const round = recorded(T.round);
export const exp = floating(T.exp);
export const log = floating(T.log);
export const sin = floating(T.sin);
export const cos = floating(T.cos);
export const tanh = floating(T.tanh);
export const sqrt = floating(T.sqrt);
export const reciprocal = floating(T.reciprocal);
export const erf = floating(T.erf);
export const log1p = floating(T.log1p);
export const expm1 = floating(T.expm1);
export const logicalNot = unaryIn('bool', T.logicalNot);

// ---- reductions --------------------------------------------------------------------------------

type Reduction = (x: T.NDArray, options?: T.ReduceOptions) => T.NDArray;

/** The axes a reduction reduces (a 0-d array accepts axis 0, which reduces nothing). */
const reducedAxes = (op: string, x: T.NDArray, axis: T.ReduceOptions['axis']) =>
  T.normalizeAxes(op, axis, x.ndim).filter((a) => a < x.ndim);

/**
 * A reduction in `accumulate(x.dtype)`; with keepdims, a view of the reduced array, which is
 * disposed at once.
 */
function reduction(op: string, fn: Reduction, accumulate: (dtype: T.DType) => T.DType): Reduction {
  return (x, options = {}) => {
    const dtype = accumulate(x.dtype);
    const input = T.cast(x, dtype);
    const axes = reducedAxes(op, x, options.axis);
    const reduced = using([input], [x], () => fn(input, { axis: axes }));
    if (!options.keepdims) return recordResult(reduced, [x]);
    const kept = T.reshape(
      reduced,
      x.shape.map((d, i) => (axes.includes(i) ? 1 : d)),
    );
    reduced.dispose();
    return recordResult(kept, [x]);
  };
}

const sumDtype = (dtype: T.DType): T.DType => (T.isFloat(dtype) ? dtype : 'int32');
const sameDtype = (dtype: T.DType): T.DType => dtype;

export const sum = reduction('sum', T.sum, sumDtype);
export const prod = reduction('prod', T.prod, sumDtype);
export const max = reduction('max', T.max, sameDtype);
export const min = reduction('min', T.min, sameDtype);

/** Arithmetic mean (a float result even for int inputs). */
export function mean(x: T.NDArray, options: T.ReduceOptions = {}): T.NDArray {
  const axes = reducedAxes('mean', x, options.axis);
  const total = reduction('mean', T.sum, T.toFloat)(x, options);
  const out = using([total], [], () =>
    div(
      total,
      axes.reduce((n, a) => n * x.shape[a], 1),
    ),
  );
  return recordResult(out, [x]);
}

type ArgReduction = (x: T.NDArray, options?: T.ArgOptions) => T.NDArray;

/** argmax/argmin over one axis (the flattened array by default), keepdims as a freed view. */
function argReduction(fn: ArgReduction): ArgReduction {
  return (x, options = {}) => {
    const flat = options.axis === undefined ? T.reshape(x, [x.size]) : x;
    const found = using([flat], [x], () => fn(flat, { axis: options.axis ?? 0 }));
    if (!options.keepdims || x.ndim === 0) return recordResult(found, [x]);
    const axis = options.axis === undefined ? undefined : T.normalizeAxis('argmax', options.axis, x.ndim);
    const kept = T.reshape(
      found,
      x.shape.map((d, i) => (axis === undefined || i === axis ? 1 : d)),
    );
    found.dispose();
    return recordResult(kept, [x]);
  };
}

export const argmax = argReduction(T.argmax);
export const argmin = argReduction(T.argmin);
export const cumsum = recorded(T.cumsum);
export const cumprod = recorded(T.cumprod);

// ---- linear algebra, joining, sorting -----------------------------------------------------------

/** The broadcast batch shape, or null when the batch axes do not broadcast. */
function batchShape(a: readonly number[], b: readonly number[]): number[] | null {
  try {
    return T.broadcastShapes('matmul', a, b);
  } catch {
    return null;
  }
}

/** Matrix product with NumPy/PyTorch semantics (see `T.matmul`). */
export function matmul(a: T.NDArray, b: T.NDArray): T.NDArray {
  const usual = a.ndim > 0 && b.ndim > 0 && a.dtype !== 'bool' && b.dtype !== 'bool';
  const batch = usual ? batchShape(a.shape.slice(0, -2), b.shape.slice(0, -2)) : null;
  const k = a.shape[a.ndim - 1];
  const kb = b.shape[Math.max(b.ndim - 2, 0)];
  if (batch === null || k !== kb) return T.matmul(a, b); // throws the error
  const dtype = T.resultType(a, b);
  const a2 = a.ndim === 1 ? T.unsqueeze(a, 0) : a;
  const b2 = b.ndim === 1 ? T.unsqueeze(b, 1) : b;
  const m = a2.shape[a2.ndim - 2];
  const n = b2.shape[b2.ndim - 1];
  const ac = T.cast(a2, dtype);
  const bc = T.cast(b2, dtype);
  const x = T.broadcastTo(ac, [...batch, m, k]);
  const y = T.broadcastTo(bc, [...batch, k, n]);
  const out = using([a2, b2, ac, bc, x, y], [a, b], () => {
    return T.runPrimitive('matmul', [x, y], {}, [{ shape: [...batch, m, n], dtype }])[0];
  });
  const dropped = [...(a.ndim === 1 ? [-2] : []), ...(b.ndim === 1 ? [-1] : [])];
  if (dropped.length === 0) return recordResult(out, [a, b]);
  const squeezed = T.squeeze(out, dropped);
  out.dispose();
  return recordResult(squeezed, [a, b]);
}

/** Joins same-shaped arrays along a new axis. */
export function stack(arrays: readonly T.NDArray[], axis = 0): T.NDArray {
  if (arrays.length === 0 || arrays.some((x) => x.ndim !== arrays[0].ndim)) return T.stack(arrays, axis);
  const a = T.normalizeAxis('stack', axis, arrays[0].ndim + 1);
  const columns = arrays.map((x) => T.unsqueeze(x, a));
  return recordResult(
    using(columns, [], () => T.concat(columns, a)),
    arrays,
  );
}

/** The int32 indices that sort `x` along `axis`. */
export function argsort(x: T.NDArray, options: T.SortOptions = {}): T.NDArray {
  const { values, indices } = T.sort(x, options);
  if (values !== x) values.dispose();
  return recordResult(indices, [x]);
}

/** The k largest (or smallest) entries along an axis, sorted, and their indices. */
export function topk(
  x: T.NDArray,
  k: number,
  options: { axis?: number; largest?: boolean } = {},
): { values: T.NDArray; indices: T.NDArray } {
  if (x.ndim === 0 || x.dtype === 'bool') return recordResult(T.topk(x, k, options), [x]);
  const axis = T.normalizeAxis('topk', options.axis ?? -1, x.ndim);
  if (!Number.isInteger(k) || k < 0 || k > x.shape[axis]) return T.topk(x, k, options); // throws
  const sorted = T.sort(x, { axis, descending: options.largest ?? true });
  const take = x.shape.map((_, i) => (i === axis ? { stop: k } : null));
  const result = { values: T.slice(sorted.values, take), indices: T.slice(sorted.indices, take) };
  sorted.values.dispose();
  sorted.indices.dispose();
  return recordResult(result, [x]);
}

// ---- ops whose @tsgrad/tensor frontends leave nothing behind ---------------------------------------

export const contiguous = recorded(T.contiguous);
export const reshape = recorded(T.reshape);
export const permute = recorded(T.permute);
export const transpose = recorded(T.transpose);
export const broadcastTo = recorded(T.broadcastTo);
export const expand = recorded(T.expand);
export const slice = recorded(T.slice);
export const flip = recorded(T.flip);
export const squeeze = recorded(T.squeeze);
export const unsqueeze = recorded(T.unsqueeze);
export const flatten = recorded(T.flatten);

export const array = recorded(T.array);
export const scalar = recorded(T.scalar);
export const full = recorded(T.full);
export const zeros = recorded(T.zeros);
export const ones = recorded(T.ones);
export const zerosLike = recorded(T.zerosLike);
export const onesLike = recorded(T.onesLike);
export const fullLike = recorded(T.fullLike);
export const arange = recorded(T.arange);
export const linspace = recorded(T.linspace);
export const eye = recorded(T.eye);

export const pad = recorded(T.pad);
export const concat = recorded(T.concat);
export const split = recorded(T.split);
export const tril = recorded(T.tril);
export const triu = recorded(T.triu);
export const oneHot = recorded(T.oneHot);

export const indexSelect = recorded(T.indexSelect);
export const gather = recorded(T.gather);
export const takeAlongAxis = recorded(T.takeAlongAxis);
export const scatterAdd = recorded(T.scatterAdd);
export const outer = recorded(T.outer);

export const conv1d = recorded(T.conv1d);
export const conv2d = recorded(T.conv2d);
export const conv1dInputGrad = recorded(T.conv1dInputGrad);
export const conv2dInputGrad = recorded(T.conv2dInputGrad);
export const conv1dWeightGrad = recorded(T.conv1dWeightGrad);
export const conv2dWeightGrad = recorded(T.conv2dWeightGrad);
export const convTranspose1d = recorded(T.convTranspose1d);
export const convTranspose2d = recorded(T.convTranspose2d);

export const maxPool1d = recorded(T.maxPool1d);
export const maxPool2d = recorded(T.maxPool2d);
export const maxPool1dWithIndices = recorded(T.maxPool1dWithIndices);
export const maxPool2dWithIndices = recorded(T.maxPool2dWithIndices);
export const maxPool1dGrad = recorded(T.maxPool1dGrad);
export const maxPool2dGrad = recorded(T.maxPool2dGrad);
export const avgPool1d = recorded(T.avgPool1d);
export const avgPool2d = recorded(T.avgPool2d);
export const avgPool1dGrad = recorded(T.avgPool1dGrad);
export const avgPool2dGrad = recorded(T.avgPool2dGrad);

export const sort = recorded(T.sort);

/** A view of `x` that its holder owns (disposing it never disposes `x`). */
export const view = (x: T.NDArray): T.NDArray => recordArray(T.NDArray.view(x, x.shape, x.strides, x.offset));

/** Records an array made by a function this module does not wrap (e.g. `random.normal`). */
export const made = <A extends T.NDArray>(array: A): A => recordArray(array);
