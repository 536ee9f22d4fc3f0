import { describe, ValueError } from '@tsgrad/tensor';
import { Tensor } from './tensor.js';

// Checks at the public boundary of the autograd ops, as @tsgrad/tensor's check.ts does for arrays.

/** Checks that `x` is a Tensor. */
export function checkTensor(op: string, x: unknown, name = 'the input'): asserts x is Tensor {
  if (!(x instanceof Tensor)) throw new ValueError(op, `${name} must be a Tensor, got ${describe(x)}`);
}

/** Checks that `xs` is a list of Tensors. */
export function checkTensorList(op: string, xs: unknown): asserts xs is readonly Tensor[] {
  if (!Array.isArray(xs)) throw new ValueError(op, `expected a list of Tensors, got ${describe(xs)}`);
  // Every op checks its inputs: the element's name is made only for the error.
  for (let i = 0; i < xs.length; i++) if (!(xs[i] instanceof Tensor)) checkTensor(op, xs[i], `element ${i}`);
}

/** Checks that `fn` is a function (a model, a loss, a rule). */
export function checkFunction(op: string, fn: unknown, name = 'the argument'): void {
  if (typeof fn !== 'function') throw new ValueError(op, `${name} must be a function, got ${describe(fn)}`);
}

/** Checks that `value` is a list (a shape, axes, slice specs…); `name` names it. */
export function checkList(op: string, value: unknown, name: string): asserts value is readonly unknown[] {
  if (!Array.isArray(value)) throw new ValueError(op, `${name} must be a list, got ${describe(value)}`);
}
