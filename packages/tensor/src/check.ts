import { describe, ValueError } from './errors.js';
import { NDArray } from './ndarray.js';

// Checks at the public boundary: every op checks what it is given before using it, so that
// a wrong argument gets a typed error naming the op instead of a TypeError from deep inside.

/** The name of the checked argument, which a caller of these exported helpers may get wrong. */
const describeName = (name: unknown) => (typeof name === 'string' ? name : describe(name));

/** Checks that `x` is a live NDArray. */
export function checkArray(op: string, x: unknown, name = 'the input'): asserts x is NDArray {
  if (!(x instanceof NDArray))
    throw new ValueError(op, `${describeName(name)} must be an NDArray, got ${describe(x)}`);
  x.assertLive(op);
}

/** Checks that `xs` is a list of live NDArrays. */
export function checkArrayList(op: string, xs: unknown): asserts xs is readonly NDArray[] {
  if (!Array.isArray(xs)) throw new ValueError(op, `expected a list of NDArrays, got ${describe(xs)}`);
  xs.forEach((x, i) => {
    checkArray(op, x, `element ${i}`);
  });
}

/** Checks that `value` (the argument `name` of `op`: a record, a state dict…) is a plain object. */
export function checkRecord<V>(
  op: string,
  name: string,
  value: V,
): asserts value is V & Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ValueError(op, `${describeName(name)} must be an object, got ${describe(value)}`);
}

/** Checks that an options argument (`name`, 'options' by default) is an object or omitted. */
export function checkOptions<O extends object>(op: string, options: O | undefined, name = 'options'): O {
  if (options === undefined) return {} as O;
  checkRecord(op, name, options);
  return options;
}

/** Checks that `value` is an integer (a size, a count, an offset); `name` names it. */
export function checkInteger(op: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new ValueError(op, `${describeName(name)} must be an integer, got ${describe(value)}`);
  }
  return value;
}

/** Checks that `value` is a number (NaN and infinities included); `name` names it. */
export function checkNumber(op: string, name: string, value: unknown): number {
  if (typeof value !== 'number')
    throw new ValueError(op, `${describeName(name)} must be a number, got ${describe(value)}`);
  return value;
}
