import { Tensor } from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';

// Checks of the arguments of layer constructors and initializers, at the public boundary, so
// that a wrong argument is a ValueError naming the layer rather than a TypeError from deep inside.

/** Checks that `value` is a Tensor (an argument called `name` of `op`). */
export function checkTensor(op: string, name: string, value: unknown): asserts value is Tensor {
  if (!(value instanceof Tensor))
    throw new T.ValueError(op, `${name} must be a Tensor, got ${T.describe(value)}`);
}

/** A list of integers (sizes, dims) given as a number or an iterable of numbers. */
export function integerList(op: string, name: string, value: unknown): number[] {
  const iterable = typeof value === 'object' && value !== null && Symbol.iterator in value;
  const list = typeof value === 'number' ? [value] : iterable ? [...(value as Iterable<unknown>)] : null;
  if (list === null || !list.every((d) => Number.isInteger(d)))
    throw new T.ValueError(op, `${name} must be an integer or a list of integers, got ${T.describe(value)}`);
  return list as number[];
}
