import { describe, ValueError } from '@tsgrad/tensor';

// Checks of arguments at the public boundary, so that a wrong argument is a ValueError naming
// the function rather than a TypeError from deep inside.

/** Checks that `value` is a list (anything with a length and indices: an array, a typed array). */
export function checkList(op: string, name: string, value: unknown): asserts value is ArrayLike<unknown> {
  const ok =
    Array.isArray(value) ||
    ArrayBuffer.isView(value) ||
    (typeof value === 'object' &&
      value !== null &&
      typeof (value as { length?: unknown }).length === 'number');
  if (!ok) throw new ValueError(op, `${name} must be a list, got ${describe(value)}`);
}

/** Checks that `value` is the bytes of a file. */
export function checkBytes(op: string, value: unknown): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array))
    throw new ValueError(op, `expected the bytes as a Uint8Array, got ${describe(value)}`);
}

/** Checks that `value` is a function (a transform, a schedule…). */
export function checkFunction(op: string, name: string, value: unknown): void {
  if (typeof value !== 'function')
    throw new ValueError(op, `${name} must be a function, got ${describe(value)}`);
}
