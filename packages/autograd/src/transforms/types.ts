import type { Tensor } from '../tensor.js';

/** Which arguments a transform differentiates: an index or a list (JAX's `argnums`). */
export type Argnums = number | readonly number[];

/**
 * The gradient of the arguments at `N`: a tree shaped like that argument for an index, an
 * array of them for a list.
 */
export type GradOf<Args extends readonly unknown[], N> = N extends number
  ? Args[N]
  : N extends readonly number[]
    ? { -readonly [K in keyof N]: Args[N[K] & number] }
    : never;

/** `T` with each tensor replaced by `G` (how a Jacobian nests output and input structure). */
export type ReplaceLeaves<T, G> = T extends Tensor
  ? G
  : T extends readonly unknown[]
    ? { -readonly [K in keyof T]: ReplaceLeaves<T[K], G> }
    : T extends (...args: never[]) => unknown
      ? T
      : T extends object
        ? { [K in keyof T]: ReplaceLeaves<T[K], G> }
        : T;
