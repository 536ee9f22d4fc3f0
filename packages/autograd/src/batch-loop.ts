import * as T from '@tsgrad/tensor';

// The vmap fallback of an op declared with `batch: { loop: reason }` (op.ts): an op whose
// forward computes on the host cannot run on batched arrays, so under vmap its forward runs
// once per batch element, on that element's arrays, and the results are stacked. Its VJP and
// JVP rules are ops like any other and batch as usual.

type Forward<P> = (inputs: readonly T.NDArray[], params: P) => T.NDArray | readonly T.NDArray[];

/** The newest vmap level among the arrays, if any. */
function newestLevel(arrays: readonly T.NDArray[]): T.BatchingBackend | undefined {
  let level: T.BatchingBackend | undefined;
  for (const x of arrays) {
    const b = x.backend;
    if (b instanceof T.BatchingBackend && (level === undefined || b.depth > level.depth)) level = b;
  }
  return level;
}

/** `forward` on `arrays`, looping over the batch of every vmap level they belong to. */
export function forwardByLoop<P>(
  forward: Forward<P>,
  arrays: readonly T.NDArray[],
  params: P,
): T.NDArray | readonly T.NDArray[] {
  const level = newestLevel(arrays);
  if (level === undefined) return forward(arrays, params);
  let single = false;
  const perElement = Array.from({ length: level.size }, (_, b) => {
    const rows = arrays.map((x) => {
      if (x.backend !== level) return x;
      const all = level.unbatch(x);
      return T.NDArray.view(
        all,
        all.shape.slice(1),
        all.strides.slice(1),
        all.offset + b * all.strides[0],
        'vmap',
      );
    });
    const out = T.withBackend(level.below, () => forwardByLoop(forward, rows, params));
    single = !Array.isArray(out);
    return Array.isArray(out) ? (out as readonly T.NDArray[]) : [out as T.NDArray];
  });
  if (perElement.length === 0)
    throw new T.ValueError('vmap', 'an op that loops over the batch needs at least one batch element');
  // Stacked on the backend below: stacked on the level (the current backend), the rows would
  // make an unbatched array of the level whose one example is the whole batch.
  const stacked = T.withBackend(level.below, () =>
    perElement[0].map((_, k) => T.stack(perElement.map((r) => r[k]))),
  );
  const outputs = stacked.map((y) => level.batch(y));
  return single ? outputs[0] : outputs;
}
