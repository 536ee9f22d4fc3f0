/**
 * Random numbers, JAX style: explicit, immutable keys over a counter-based PRNG.
 *
 * The generator is Threefry-2x32 with 20 rounds (Salmon et al., "Parallel random numbers: as
 * easy as 1, 2, 3", SC 2011), as in JAX and Random123. A `PRNGKey` is two uint32 words; the
 * random word for counter i is a pure function of (key, i), so there is no hidden state:
 * the same key always gives the same numbers, and independent streams come from deriving
 * keys, never from reusing one.
 *
 * - `key(seed)`: the seed's 64-bit two's complement split into high and low words, as JAX does.
 * - `split(key, n)`: key i is the Threefry block of counter i; `foldIn(key, d)` is the block of
 *   counter d. Both match JAX's default (`jax_threefry_partitionable`) mode, and so does
 *   `randomBits` (word i = XOR of the two output words of counter i).
 * - Samplers (`uniform`, `normal`, `bernoulli`, `randint`, `permutation`, `categorical`) run on
 *   the host in TypeScript and upload the result with `NDArray.fromTyped`, so a key gives
 *   bit-identical arrays on every backend. float32 `uniform` uses JAX's recipe (23 random
 *   mantissa bits), so `uniform(key, shape)` equals `jax.random.uniform(key, shape)`; the
 *   other samplers use their own (documented) algorithms.
 * - `Generator` is a PyTorch-style convenience: it holds a key and splits it on every `next()`.
 *   A Generator built from the same seed yields the same keys, so its streams are exactly as
 *   reproducible as explicit key passing.
 *
 * Everything is exported under the `random` namespace (`random.split`, `random.uniform`…),
 * like `jax.random`: `split` would otherwise collide with the array op of the same name.
 *
 * @example
 * const [k1, k2] = random.split(random.key(0));
 * const x = random.normal(k1, [3, 4]);
 * const mask = random.bernoulli(k2, 0.9, [3, 4]);
 */
export * as random from './random/index.js';
