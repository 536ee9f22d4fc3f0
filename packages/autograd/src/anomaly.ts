import { isFloat, TsgradError } from '@tsgrad/tensor';
import type { Tensor } from './tensor.js';

/** Thrown in anomaly mode by the first op whose forward or backward produced NaN or Inf. */
export class AnomalyError extends TsgradError {
  constructor(
    op: string,
    /** Whether the NaN or Infinity appeared in the forward pass or in a gradient during backward. */
    readonly phase: 'forward' | 'backward',
    detail: string,
  ) {
    super(op, `${phase} produced ${detail}`);
  }
}

export function checkFinite(
  op: string,
  phase: 'forward' | 'backward',
  results: readonly (Tensor | null)[],
  inputs: readonly Tensor[],
): void {
  results.forEach((t, i) => {
    if (t === null || !isFloat(t.dtype)) return;
    const data = t.peekValue().toTypedArray();
    const bad = data.findIndex((v) => !Number.isFinite(v));
    if (bad < 0) return;
    const where = inputs
      .map((x, j) => `input ${j} ${x.createdAt ? `created at ${x.createdAt}` : '(creation site unknown)'}`)
      .join('; ');
    const what = phase === 'forward' ? `output ${i}` : `gradient for input ${i}`;
    throw new AnomalyError(
      op,
      phase,
      `${data[bad]} in ${what} at element ${bad} of shape [${t.shape.join(',')}]; ${where}`,
    );
  });
}
