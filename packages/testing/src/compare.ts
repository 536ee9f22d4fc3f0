// Elementwise comparison that names the first failing element.

/** A comparison's tolerance: |a − b| ≤ atol + rtol·|b|. */
export interface Tolerance {
  /** The absolute part. */
  readonly atol: number;
  /** The part relative to the expected value. */
  readonly rtol: number;
}

/** Row-major index of flat position `at` in `shape`, e.g. `[1,2]`. */
export function formatIndex(at: number, shape: readonly number[]): string {
  const index = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    index[d] = at % shape[d];
    at = Math.floor(at / shape[d]);
  }
  return `[${index.join(',')}]`;
}

function close(a: number, b: number, { atol, rtol }: Tolerance): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (a === b) return true; // also equal infinities
  return Math.abs(a - b) <= atol + rtol * Math.abs(b);
}

/**
 * Undefined when `actual` matches `expected` within |a − e| ≤ atol + rtol·|e| (NaN matches
 * NaN), else a description of the first mismatch: its index, both values and the tolerance.
 */
export function mismatch(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  shape: readonly number[],
  tolerance: Tolerance,
): string | undefined {
  if (actual.length !== expected.length) return `got ${actual.length} elements, expected ${expected.length}`;
  for (let i = 0; i < actual.length; i++) {
    if (!close(actual[i], expected[i], tolerance)) {
      const allowed = tolerance.atol + tolerance.rtol * Math.abs(expected[i]);
      return (
        `element ${formatIndex(i, shape)}: got ${actual[i]}, expected ${expected[i]} ` +
        `(|difference| ${Math.abs(actual[i] - expected[i]).toPrecision(3)} > tolerance ${allowed.toPrecision(3)})`
      );
    }
  }
  return undefined;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
