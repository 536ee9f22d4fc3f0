/** How long to warm up and how many timed runs to take. */
export interface TimingPolicy {
  /** Warm-up lasts at least this many runs and at least `warmupMs` (JIT tiers, wasm tier-up, caches). */
  readonly warmupRuns: number;
  readonly warmupMs: number;
  /** Timed runs: at least `minRuns`, then more until `maxRuns` or until `budgetMs` is spent. */
  readonly minRuns: number;
  readonly maxRuns: number;
  readonly budgetMs: number;
}

export const FULL: TimingPolicy = { warmupRuns: 2, warmupMs: 500, minRuns: 3, maxRuns: 21, budgetMs: 2500 };
export const QUICK: TimingPolicy = { warmupRuns: 1, warmupMs: 0, minRuns: 2, maxRuns: 3, budgetMs: 200 };

export interface Timing {
  readonly medianMs: number;
  readonly runs: number;
}

/** Median wall time of `run` (awaited when it returns a promise), after warm-up. */
export async function measure(run: () => void | Promise<void>, policy: TimingPolicy): Promise<Timing> {
  const warmupStart = performance.now();
  for (let i = 0; i < policy.warmupRuns || performance.now() - warmupStart < policy.warmupMs; i++) {
    await run();
  }
  const times: number[] = [];
  const timedStart = performance.now();
  while (
    times.length < policy.minRuns ||
    (times.length < policy.maxRuns && performance.now() - timedStart < policy.budgetMs)
  ) {
    const start = performance.now();
    await run();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  const middle = times.length >> 1;
  const medianMs = times.length % 2 === 1 ? times[middle] : (times[middle - 1] + times[middle]) / 2;
  return { medianMs, runs: times.length };
}
