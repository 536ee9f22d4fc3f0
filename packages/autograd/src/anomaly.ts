import { isFloat, TsgradError } from '@tsgrad/tensor';
import type { Tensor } from './tensor.js';

/** Thrown in anomaly mode by the first op whose forward or backward produced NaN or Inf. */
export class AnomalyError extends TsgradError {
  constructor(
    op: string,
    readonly phase: 'forward' | 'backward',
    detail: string,
  ) {
    super(op, `${phase} produced ${detail}`);
  }
}

const library = /[\\/](packages[\\/](autograd|tensor)[\\/](src|dist)|node_modules)[\\/]/;
// Frames without a source file of their own (built-ins like Array.map, Node internals).
const builtin = /<anonymous>|\(native\)|\bnode:/;

/** The first stack frame outside tsgrad's own sources: where user code created something. */
export function creationSite(): string {
  // Library frames alone can exceed V8's default depth of 10 (other engines ignore this).
  const engine = Error as ErrorConstructor & { stackTraceLimit?: number };
  const limit = engine.stackTraceLimit;
  engine.stackTraceLimit = 100;
  const stack = new Error().stack ?? '';
  engine.stackTraceLimit = limit;
  const frames = stack.split('\n').slice(1);
  const user = frames.find((f) => !library.test(f) && !builtin.test(f));
  return (user ?? frames[0] ?? '').trim().replace(/^at /, '');
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
