import { getBackend, isTracingBackend } from '../dispatch.js';

/**
 * A host computation from PRNG keys (a sampler, `split`, `foldIn`) as jit's tracer sees it:
 * when one of `keys` is an argument of the function being traced (or derived from one), the
 * tracer records `compute` to rerun on each call's keys and returns its result for this call;
 * otherwise (no trace, or keys the function closes over) undefined, and the caller computes.
 */
export function traceKeyed<K extends object, R>(
  keys: readonly K[],
  compute: (keys: readonly K[]) => R,
): R | undefined {
  const backend = getBackend();
  if (!isTracingBackend(backend) || backend.traceKeyed === undefined) return undefined;
  return backend.traceKeyed(keys, compute);
}
