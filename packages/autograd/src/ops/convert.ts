import * as T from '@tsgrad/tensor';
import { checkFunction, checkList, checkTensor } from '../check.js';
import { inLibrary } from '../lifetime.js';
import { Tensor, type TensorLike } from '../tensor.js';

/**
 * Runs an op function's body in a library frame when an operand is a JS number: the 0-d
 * constant it becomes is then the library's, freed once the op and its backward are done.
 */
export function withOperands(op: string, operands: readonly TensorLike[], body: () => Tensor): Tensor {
  checkList(op, operands, 'operands');
  checkFunction(op, body, 'body');
  // Plain loop: every elementwise op passes here (thousands per traced function).
  let allTensors = true;
  for (let i = 0; i < operands.length; i++) {
    const x = operands[i];
    if (x instanceof Tensor) continue;
    allTensors = false;
    if (typeof x !== 'number' && typeof x !== 'boolean') {
      throw new T.ValueError(
        op,
        `operand ${i} must be a Tensor, a number or a boolean, got ${T.describe(x)}`,
      );
    }
  }
  return allTensors ? body() : inLibrary(body);
}

/**
 * A tensor for a TensorLike argument. A JS number becomes a 0-d constant whose dtype follows
 * the weak-scalar rule against `like` (float32 when there is nothing to follow).
 */
export function toTensor(x: TensorLike, like?: Tensor): Tensor {
  if (like !== undefined) checkTensor('toTensor', like, 'like');
  if (x instanceof Tensor) return x;
  if (typeof x !== 'number' && typeof x !== 'boolean') {
    throw new T.ValueError('tensor', `expected a Tensor, a number or a boolean, got ${T.describe(x)}`);
  }
  const dtype = like ? T.resultType(like.peekValue(), x) : typeof x === 'boolean' ? 'bool' : 'float32';
  return new Tensor(T.full([], x, { dtype }));
}

/** A constant tensor (requires no grad) from a raw array. */
export function constant(value: T.NDArray): Tensor {
  return new Tensor(value);
}

/**
 * A tensor filled with `value` (`torch.full`): a constant, or a trainable leaf with
 * `requiresGrad`. The third argument may be just the dtype.
 */
export function full(
  shape: T.Shape,
  value: number,
  options: T.DType | { readonly dtype?: T.DType; readonly requiresGrad?: boolean } = {},
): Tensor {
  const { dtype = 'float32', requiresGrad = false } =
    typeof options === 'string' ? { dtype: options } : T.checkOptions('full', options);
  const t = new Tensor(T.full(shape, value, { dtype }));
  if (requiresGrad) t.requiresGrad = true;
  return t;
}
