import { checkArray } from './check.js';
import { isTracingBackend } from './dispatch.js';
import { describe, ValueError } from './errors.js';
import type { NDArray } from './ndarray.js';

// What library code needs to know about jit's tracing (in @tsgrad/compiler): while a function
// is traced its arrays live on a tracing backend, and their values are those of one call.

let checking = 0;

/** Whether `x` is an array being traced: its values change from call to call of the compiled function. */
export function isTraced(x: NDArray): boolean {
  checkArray('isTraced', x);
  return isTracingBackend(x.backend);
}

/**
 * Runs `read`, a host read of values that only validates them (index ranges, class targets):
 * while tracing it sees the traced call's values, where any other read is an error.
 */
export function checkValues<R>(read: () => R): R {
  if (typeof read !== 'function')
    throw new ValueError('checkValues', `expected a function, got ${describe(read)}`);
  checking++;
  try {
    return read();
  } finally {
    checking--;
  }
}

/** Whether a `checkValues` read is under way. */
export const isCheckingValues = (): boolean => checking > 0;
