import type { NDArray } from '../ndarray.js';

// Op frontends dispose the arrays and views they make along the way (casts, scalar operands,
// broadcast views, reshaped bases), so that a buffer outside the JS heap is released with the
// last view its caller disposes, not when the garbage collector gets to an internal view.

/** Disposes the arrays an op made, leaving the caller's own `inputs` alone. */
export function disposeTemporaries(made: readonly NDArray[], inputs: readonly unknown[]): void {
  // Indexed, without a Set: this runs for every op, on lists of one or two arrays.
  for (let i = 0; i < made.length; i++) {
    const x = made[i];
    if (made.indexOf(x) === i && !inputs.includes(x)) x.dispose();
  }
}

/**
 * `fn()`, after which (also when it throws) the arrays in `made` that are not `inputs` are
 * disposed. A fast path such as `cast` to the same dtype returns its input, which is kept.
 */
export function disposing<R>(made: readonly NDArray[], inputs: readonly unknown[], fn: () => R): R {
  try {
    return fn();
  } finally {
    disposeTemporaries(made, inputs);
  }
}
