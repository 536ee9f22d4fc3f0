import * as T from '@tsgrad/tensor';
import { recordArray } from './lifetime.js';

// The @tsgrad/tensor API as library code uses it: the same functions, except that the arrays
// the array ops make are recorded in the innermost library frame (see lifetime.ts), which
// frees them when it ends unless they are returned or a tensor takes them over. Outside a
// frame they behave like @tsgrad/tensor's, whose frontends dispose their own temporaries.
// Non-array functions, types and errors are re-exported unchanged.

export * from '@tsgrad/tensor';

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

export const cast = recorded(T.cast);

export const neg = recorded(T.neg);
export const abs = recorded(T.abs);
export const sign = recorded(T.sign);
export const floor = recorded(T.floor);
export const ceil = recorded(T.ceil);
export const round = recorded(T.round);
export const exp = recorded(T.exp);
export const log = recorded(T.log);
export const sin = recorded(T.sin);
export const cos = recorded(T.cos);
export const tanh = recorded(T.tanh);
export const sqrt = recorded(T.sqrt);
export const reciprocal = recorded(T.reciprocal);
export const erf = recorded(T.erf);
export const log1p = recorded(T.log1p);
export const expm1 = recorded(T.expm1);
export const logicalNot = recorded(T.logicalNot);

export const add = recorded(T.add);
export const sub = recorded(T.sub);
export const mul = recorded(T.mul);
export const div = recorded(T.div);
export const pow = recorded(T.pow);
export const maximum = recorded(T.maximum);
export const minimum = recorded(T.minimum);
export const mod = recorded(T.mod);
export const eq = recorded(T.eq);
export const ne = recorded(T.ne);
export const lt = recorded(T.lt);
export const le = recorded(T.le);
export const gt = recorded(T.gt);
export const ge = recorded(T.ge);
export const logicalAnd = recorded(T.logicalAnd);
export const logicalOr = recorded(T.logicalOr);
export const where = recorded(T.where);

export const sum = recorded(T.sum);
export const prod = recorded(T.prod);
export const max = recorded(T.max);
export const min = recorded(T.min);
export const mean = recorded(T.mean);
export const argmax = recorded(T.argmax);
export const argmin = recorded(T.argmin);
export const cumsum = recorded(T.cumsum);
export const cumprod = recorded(T.cumprod);

export const matmul = recorded(T.matmul);
export const outer = recorded(T.outer);

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
export const stack = recorded(T.stack);
export const split = recorded(T.split);
export const tril = recorded(T.tril);
export const triu = recorded(T.triu);
export const oneHot = recorded(T.oneHot);

export const indexSelect = recorded(T.indexSelect);
export const gather = recorded(T.gather);
export const takeAlongAxis = recorded(T.takeAlongAxis);
export const scatterAdd = recorded(T.scatterAdd);

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
export const argsort = recorded(T.argsort);
export const topk = recorded(T.topk);

/** A view of `x` that its holder owns (disposing it never disposes `x`). */
export const view = (x: T.NDArray): T.NDArray => recordArray(T.NDArray.view(x, x.shape, x.strides, x.offset));

/** Records an array made by a function this module does not wrap (e.g. `random.normal`). */
export const made = <A extends T.NDArray>(array: A): A => recordArray(array);
