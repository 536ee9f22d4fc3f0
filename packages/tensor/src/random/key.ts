import { describe, ValueError } from '../errors.js';
import { checkAllocation } from '../shape.js';
import { counterBlocks, int64Words, threefryBlock } from './threefry.js';
import { traceKeyed } from './traced.js';

function isWord(x: number): boolean {
  return Number.isInteger(x) && x >= 0 && x < 2 ** 32;
}

/**
 * An immutable PRNG key: two uint32 words, the Threefry key. Keys are values: using one key
 * twice gives the same numbers twice, so derive fresh keys with `split` or `foldIn`.
 */
export class PRNGKey {
  /** The key's first 32-bit word (an unsigned integer). */
  readonly k0: number;
  /** The key's second 32-bit word (an unsigned integer). */
  readonly k1: number;

  constructor(k0: number, k1: number) {
    if (!isWord(k0) || !isWord(k1)) {
      throw new ValueError(
        'PRNGKey',
        `key words must be uint32 integers, got (${describe(k0)}, ${describe(k1)})`,
      );
    }
    this.k0 = k0;
    this.k1 = k1;
    Object.freeze(this);
  }

  /** The two words, as JAX's `key_data` would show them. */
  get words(): [number, number] {
    return [this.k0, this.k1];
  }

  /** True when both words match. */
  equals(other: PRNGKey): boolean {
    return this.k0 === other.k0 && this.k1 === other.k1;
  }

  /** `PRNGKey(k0, k1)`, the two words in decimal. */
  toString(): string {
    return `PRNGKey(${this.k0}, ${this.k1})`;
  }
}

/** Throws unless `k` is a PRNGKey (catches a plain seed passed where a key belongs). */
export function checkKey(op: string, k: unknown): PRNGKey {
  if (!(k instanceof PRNGKey)) {
    throw new ValueError(op, `expected a PRNGKey (from random.key(seed)), got ${describe(k)}`);
  }
  return k;
}

/** Throws unless `n` is a non-negative safe integer. */
export function checkCount(op: string, what: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0)
    throw new ValueError(op, `${what} must be a non-negative integer, got ${describe(n)}`);
}

/**
 * A key from an integer seed. The seed is read as a 64-bit two's complement integer whose
 * high and low words become the key, as JAX does (`key(0)` is `(0, 0)`, `key(-1)` is
 * `(0xffffffff, 0xffffffff)`).
 */
export function key(seed: number): PRNGKey {
  if (!Number.isSafeInteger(seed))
    throw new ValueError('key', `the seed must be a safe integer, got ${describe(seed)}`);
  const [hi, lo] = int64Words(seed);
  return new PRNGKey(hi, lo);
}

/** `n` new keys derived from `k`: key i encrypts the counter i under `k` (JAX's partitionable split). */
export function split(k: PRNGKey, n = 2): PRNGKey[] {
  const traced = traceKeyed([k], ([key]) => split(key, n));
  if (traced !== undefined) return traced;
  checkKey('split', k);
  checkCount('split', 'the number of keys', n);
  checkAllocation('split', [n, 2], 'int32');
  const words = counterBlocks(k.k0, k.k1, 0, n);
  return Array.from({ length: n }, (_, i) => new PRNGKey(words[2 * i], words[2 * i + 1]));
}

/**
 * A new key from `k` and an integer (a step number, a layer index…): the key encrypts `data`
 * as a 64-bit counter. For data in [0, 2³²) this equals JAX's `fold_in`.
 */
export function foldIn(k: PRNGKey, data: number): PRNGKey {
  const traced = traceKeyed([k], ([key]) => foldIn(key, data));
  if (traced !== undefined) return traced;
  checkKey('foldIn', k);
  if (!Number.isSafeInteger(data))
    throw new ValueError('foldIn', `data must be a safe integer, got ${describe(data)}`);
  const [hi, lo] = int64Words(data);
  const out = new Uint32Array(2);
  threefryBlock(k.k0, k.k1, hi, lo, out, 0);
  return new PRNGKey(out[0], out[1]);
}

/**
 * `count` uniformly random uint32 words: word i is the XOR of the two output words of
 * counter i, which equals `jax.random.bits(key, (count,))` in JAX's default mode.
 */
export function randomBits(k: PRNGKey, count: number): Uint32Array {
  checkKey('randomBits', k);
  checkCount('randomBits', 'count', count);
  checkAllocation('randomBits', [count, 2], 'int32');
  const blocks = counterBlocks(k.k0, k.k1, 0, count);
  const out = new Uint32Array(count);
  for (let i = 0; i < count; i++) out[i] = (blocks[2 * i] ^ blocks[2 * i + 1]) >>> 0;
  return out;
}

/** Both output words of counters 0…count-1 (64 random bits each), for 53-bit floats. */
export function randomWordPairs(k: PRNGKey, count: number): Uint32Array {
  return counterBlocks(k.k0, k.k1, 0, count);
}

/**
 * A sequential source of random words for samplers that consume a data-dependent number of
 * them (rejection sampling, shuffles). Deterministic: the same key yields the same stream.
 */
export class WordStream {
  private buffer: Uint32Array = new Uint32Array(0);
  private at = 0;
  private nextCounter = 0;

  constructor(private readonly k: PRNGKey) {}

  next(): number {
    if (this.at === this.buffer.length) {
      const blocks = 256;
      this.buffer = counterBlocks(this.k.k0, this.k.k1, this.nextCounter, blocks);
      this.nextCounter += blocks;
      this.at = 0;
    }
    return this.buffer[this.at++];
  }

  /** A uniform integer in [0, range) for 1 ≤ range ≤ 2³², without modulo bias. */
  below(range: number): number {
    if (range === 2 ** 32) return this.next();
    // Reject the lowest 2³² mod range words so that the accepted ones split evenly.
    const threshold = 2 ** 32 % range;
    for (;;) {
      const word = this.next();
      if (word >= threshold) return word % range;
    }
  }
}

/**
 * A stateful, PyTorch-style convenience over keys: each `next()` splits the internal key and
 * returns a fresh subkey. The same seed gives the same sequence of keys, so streams drawn
 * through a Generator are as reproducible as explicit key passing.
 */
export class Generator {
  private state: PRNGKey;

  constructor(seed: number | PRNGKey) {
    this.state = typeof seed === 'number' ? key(seed) : checkKey('Generator', seed);
  }

  /** A fresh key; advances the generator. */
  next(): PRNGKey {
    const [carry, subkey] = split(this.state);
    this.state = carry;
    return subkey;
  }
}
