import { checkOptions, describe, random, ValueError } from '@tsgrad/tensor';

/** Where randomness comes from: an integer seed or an explicit PRNG key (not both). */
export interface SeedOptions {
  /** An integer seed (default 0, so runs are reproducible unless asked otherwise). */
  readonly seed?: number;
  /** A PRNG key (from `random.key(seed)` or a split of one), instead of `seed`. */
  readonly key?: random.PRNGKey;
}

/** The key that `options` describe. */
export function keyFrom(op: string, options: SeedOptions): random.PRNGKey {
  checkOptions(op, options);
  if (options.seed !== undefined && options.key !== undefined) {
    throw new ValueError(op, 'give either seed or key, not both');
  }
  if (options.key !== undefined) {
    if (!(options.key instanceof random.PRNGKey)) {
      throw new ValueError(op, `key must be a PRNGKey (from random.key(seed)), got ${describe(options.key)}`);
    }
    return options.key;
  }
  return random.key(options.seed ?? 0);
}

/** A random ordering of 0…n-1 from `key`. */
export function permutationOf(key: random.PRNGKey, n: number): number[] {
  return Array.from(random.permutation(key, n).toTypedArray());
}
