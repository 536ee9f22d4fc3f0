import { describe, ValueError } from '../errors.js';

// Threefry-2x32 with 20 rounds (Salmon, Moraes, Dror & Shaw, "Parallel random numbers: as easy
// as 1, 2, 3", SC 2011), the block function of JAX's default PRNG and of Random123.

const ROTATIONS = [13, 15, 26, 6, 17, 29, 16, 24] as const;
/** Skein's key-schedule parity constant. */
const PARITY = 0x1bd11bda;
const TWO_POW_32 = 2 ** 32;

function rotateLeft(x: number, bits: number): number {
  return ((x << bits) | (x >>> (32 - bits))) >>> 0;
}

/**
 * Encrypts the counter block (c0, c1) under the key (k0, k1) and writes the two output words
 * to `out[at]` and `out[at + 1]`. All inputs are uint32 values.
 */
export function threefryBlock(
  k0: number,
  k1: number,
  c0: number,
  c1: number,
  out: Uint32Array,
  at: number,
): void {
  const k2 = (k0 ^ k1 ^ PARITY) >>> 0;
  let x0 = (c0 + k0) >>> 0;
  let x1 = (c1 + k1) >>> 0;
  // Five groups of four rounds, each followed by a key injection that also adds its own index.
  for (let injection = 1; injection <= 5; injection++) {
    const rotations = injection % 2 === 1 ? 0 : 4;
    for (let r = 0; r < 4; r++) {
      x0 = (x0 + x1) >>> 0;
      x1 = (rotateLeft(x1, ROTATIONS[rotations + r]) ^ x0) >>> 0;
    }
    x0 = (x0 + scheduleWord(injection, k0, k1, k2)) >>> 0;
    x1 = (x1 + scheduleWord(injection + 1, k0, k1, k2) + injection) >>> 0;
  }
  out[at] = x0;
  out[at + 1] = x1;
}

/** Word `i mod 3` of the extended key (k0, k1, k2). */
function scheduleWord(i: number, k0: number, k1: number, k2: number): number {
  const j = i % 3;
  return j === 0 ? k0 : j === 1 ? k1 : k2;
}

/** Threefry-2x32-20 of one block: the two output words for `counter` under `key`. */
export function threefry2x32(
  key: readonly [number, number],
  counter: readonly [number, number],
): [number, number] {
  for (const words of [key, counter]) {
    if (!Array.isArray(words) || words.length !== 2 || !words.every((w) => typeof w === 'number')) {
      throw new ValueError(
        'threefry2x32',
        `key and counter must be pairs of uint32 words, got ${describe(words)}`,
      );
    }
  }
  const out = new Uint32Array(2);
  threefryBlock(key[0], key[1], counter[0], counter[1], out, 0);
  return [out[0], out[1]];
}

/**
 * The output words of the counters `start, start + 1, …, start + count - 1` (each counter is
 * a 64-bit integer split into its high and low words), two words per counter.
 */
export function counterBlocks(k0: number, k1: number, start: number, count: number): Uint32Array {
  const out = new Uint32Array(2 * count);
  for (let i = 0; i < count; i++) {
    const counter = start + i;
    threefryBlock(k0, k1, Math.floor(counter / TWO_POW_32), counter >>> 0, out, 2 * i);
  }
  return out;
}

/** Splits a safe integer into the high and low words of its 64-bit two's complement. */
export function int64Words(value: number): [number, number] {
  return [Math.floor(value / TWO_POW_32) >>> 0, value >>> 0];
}
