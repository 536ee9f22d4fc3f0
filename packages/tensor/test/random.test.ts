import * as T from '@tsgrad/tensor';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { layoutArb, makeArray } from './arbitraries.js';

const R = T.random;
const FLOATS = ['float32', 'float64'] as const;

function data(x: T.NDArray): number[] {
  return Array.from(x.toTypedArray());
}

function sameBits(a: T.NDArray, b: T.NDArray): boolean {
  const x = a.toTypedArray();
  const y = b.toTypedArray();
  return a.dtype === b.dtype && x.length === y.length && x.every((v, i) => Object.is(v, y[i]));
}

function meanOf(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return s / xs.length;
}

function varianceOf(xs: ArrayLike<number>): number {
  const m = meanOf(xs);
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += (xs[i] - m) ** 2;
  return s / xs.length;
}

/** The Kolmogorov–Smirnov statistic of a sample against a continuous CDF. */
function ksStatistic(xs: ArrayLike<number>, cdf: (x: number) => number): number {
  const sorted = Float64Array.from(xs).sort();
  const n = sorted.length;
  let d = 0;
  for (let i = 0; i < n; i++) {
    const f = cdf(sorted[i]);
    d = Math.max(d, (i + 1) / n - f, f - i / n);
  }
  return d;
}

/** Standard normal CDF via erf (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7). */
function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const poly =
    t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-z * z);
  return x >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

function softmax(logits: readonly number[]): number[] {
  const top = Math.max(...logits);
  const e = logits.map((l) => Math.exp(l - top));
  const total = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / total);
}

function counts(xs: ArrayLike<number>, size: number): number[] {
  const c = new Array<number>(size).fill(0);
  for (let i = 0; i < xs.length; i++) c[xs[i]]++;
  return c;
}

describe('Threefry-2x32-20', () => {
  // Known-answer vectors of Random123 (tests/kat_vectors, lines "threefry2x32 20 ..."), in
  // the order counter, key → output; JAX's tests/random_test.py checks the same three.
  it('matches the Random123 known-answer vectors', () => {
    expect(R.threefry2x32([0, 0], [0, 0])).toEqual([0x6b200159, 0x99ba4efe]);
    expect(R.threefry2x32([0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff])).toEqual([
      0x1cb996fc, 0xbb002be7,
    ]);
    // The pi-digits vector: counter (0x243f6a88, 0x85a308d3), key (0x13198a2e, 0x03707344).
    expect(R.threefry2x32([0x13198a2e, 0x03707344], [0x243f6a88, 0x85a308d3])).toEqual([
      0xc4923a9c, 0x483df7a0,
    ]);
  });

  // Values of jax.random in its default (threefry_partitionable) mode, as asserted by the
  // test suite of ekzhang/jax-js (test/random.test.ts), a JS port that checks against JAX.
  it('reproduces jax.random.split and jax.random.bits', () => {
    expect(R.split(R.key(0), 3).map((k) => k.words)).toEqual([
      [1797259609, 2579123966],
      [928981903, 3453687069],
      [4146024105, 2718843009],
    ]);
    expect(Array.from(R.randomBits(R.key(0), 1))).toEqual([4070199207]);
    expect(Array.from(R.randomBits(R.key(10), 4))).toEqual([169096361, 1572511259, 2689743692, 2228103506]);
  });

  it('float32 uniform is JAX’s recipe: 23 top bits of each word as the mantissa of [1, 2), minus 1', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 0, max: 40 }), (seed, n) => {
        const k = R.key(seed);
        const expected = Array.from(R.randomBits(k, n), (b) => (b >>> 9) * 2 ** -23);
        expect(data(R.uniform(k, [n]))).toEqual(expected);
      }),
    );
    expect(data(R.uniform(R.key(0), [4]))).toEqual([
      0.9476670026779175, 0.9785798788070679, 0.33229148387908936, 0.46866846084594727,
    ]);
  });
});

describe('keys', () => {
  it('key(seed) holds the high and low words of the 64-bit two’s complement seed', () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), (seed) => {
        const bits = BigInt.asUintN(64, BigInt(seed));
        expect(R.key(seed).words).toEqual([Number(bits >> 32n), Number(bits & 0xffffffffn)]);
      }),
    );
    expect(R.key(0).words).toEqual([0, 0]);
    expect(R.key(-1).words).toEqual([0xffffffff, 0xffffffff]);
    expect(R.key(2 ** 32 + 5).words).toEqual([1, 5]);
  });

  it('keys are immutable values', () => {
    const k = R.key(7);
    expect(Object.isFrozen(k)).toBe(true);
    expect(() => {
      (k as { k0: number }).k0 = 1;
    }).toThrow(TypeError);
    expect(k.equals(new R.PRNGKey(0, 7))).toBe(true);
    expect(String(k)).toBe('PRNGKey(0, 7)');
  });

  it('split and foldIn are deterministic, and their keys differ from each other and the parent', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 0, max: 12 }), (seed, n) => {
        const k = R.key(seed);
        const a = R.split(k, n);
        expect(a.map((x) => x.words)).toEqual(R.split(k, n).map((x) => x.words));
        const all = new Set([k, ...a].map(String));
        expect(all.size).toBe(n + 1);
        // In JAX's partitionable mode, fold_in(k, i) is the i-th split key.
        a.forEach((child, i) => {
          expect(R.foldIn(k, i).equals(child)).toBe(true);
        });
      }),
    );
    expect(R.split(R.key(3))).toHaveLength(2);
    expect(R.split(R.key(3), 0)).toEqual([]);
    const k = R.key(3);
    expect(R.foldIn(k, -1).equals(R.foldIn(k, -1))).toBe(true);
    expect(R.foldIn(k, -1).equals(R.foldIn(k, 2 ** 32 - 1))).toBe(false);
  });

  it('a Generator yields the same reproducible stream of fresh keys as explicit splitting', () => {
    const g1 = new R.Generator(42);
    const g2 = new R.Generator(R.key(42));
    const keys = Array.from({ length: 5 }, () => g1.next());
    expect(keys.map(String)).toEqual(Array.from({ length: 5 }, () => String(g2.next())));
    expect(new Set(keys.map(String)).size).toBe(5);
    // next() is split(state) = [carry, subkey], returning the subkey.
    const [carry, first] = R.split(R.key(42));
    expect(keys[0].equals(first)).toBe(true);
    expect(keys[1].equals(R.split(carry)[1])).toBe(true);
  });
});

describe('determinism', () => {
  const samplers: [string, (k: T.random.PRNGKey) => T.NDArray][] = [
    ['uniform', (k) => R.uniform(k, [3, 5])],
    ['uniform float64', (k) => R.uniform(k, [7], { dtype: 'float64', low: -1, high: 2 })],
    ['normal', (k) => R.normal(k, [2, 3])],
    ['normal float64', (k) => R.normal(k, [5], { dtype: 'float64' })],
    ['bernoulli', (k) => R.bernoulli(k, 0.5, [40])],
    ['randint', (k) => R.randint(k, [4, 4], -5, 1000)],
    ['permutation', (k) => R.permutation(k, 30)],
    ['categorical', (k) => R.categorical(k, T.array([0, 1, 2, 3]), { shape: [40] })],
  ];

  it.each(samplers)('%s: the same key gives bit-identical arrays, other keys give others', (_, sample) => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const k = R.key(seed);
        expect(sameBits(sample(k), sample(R.key(seed)))).toBe(true);
        const [a, b] = R.split(k);
        expect(sameBits(sample(a), sample(b))).toBe(false);
        expect(sameBits(sample(k), sample(a))).toBe(false);
      }),
      { numRuns: 15 },
    );
  });

  it('results do not depend on the backend (generated on the host, uploaded with fromTyped)', () => {
    const other: T.Backend = { ...T.cpuBackend, name: 'cpu-copy' };
    const k = R.key(5);
    for (const [, sample] of samplers) {
      const here = sample(k);
      const there = T.withBackend(other, () => sample(k));
      expect(there.backend).toBe(other);
      expect(sameBits(here, there)).toBe(true);
    }
  });
});

describe('uniform', () => {
  it.each(FLOATS)('%s: mean, variance, range and KS statistic of U[0, 1)', (dtype) => {
    const x = R.uniform(R.key(1), [20000], { dtype }).toTypedArray();
    expect(x.every((v) => v >= 0 && v < 1)).toBe(true);
    expect(Math.abs(meanOf(x) - 0.5)).toBeLessThan(0.01);
    expect(Math.abs(varianceOf(x) - 1 / 12)).toBeLessThan(0.005);
    // The 1% critical value for n = 20000 is about 0.0115.
    expect(ksStatistic(x, (v) => Math.min(Math.max(v, 0), 1))).toBeLessThan(0.015);
  });

  it('respects [low, high) for random bounds and shapes, with size-0 and size-1 dims', () => {
    fc.assert(
      fc.property(
        fc.integer(),
        fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }),
        fc.double({ min: -1e6, max: 1e6, noNaN: true }),
        fc.double({ min: 1e-3, max: 1e6, noNaN: true }),
        fc.constantFrom(...FLOATS),
        (seed, shape, low, width, dtype) => {
          const lo = dtype === 'float32' ? Math.fround(low) : low;
          const hi = dtype === 'float32' ? Math.fround(low + width) : low + width;
          fc.pre(lo < hi); // bounds that collapse in float32 are an error (tested below)
          const x = R.uniform(R.key(seed), shape, { low, high: low + width, dtype });
          expect(x.shape).toEqual(shape);
          expect(x.dtype).toBe(dtype);
          expect(x.toTypedArray().every((v) => v >= lo && v < hi)).toBe(true);
        },
      ),
    );
  });

  it('never rounds up to high, even when [low, high) holds a single float', () => {
    const x32 = R.uniform(R.key(2), [1000], { low: 1, high: 1 + 2 ** -23 });
    expect(x32.toTypedArray().every((v) => v === 1)).toBe(true);
    const x64 = R.uniform(R.key(2), [1000], { low: 1, high: 1 + 2 ** -52, dtype: 'float64' });
    expect(x64.toTypedArray().every((v) => v === 1)).toBe(true);
    // Near high the float32 arithmetic would otherwise round up: (1 - 2^-23)·3 + 0 → 3.
    const wide = R.uniform(R.key(3), [5000], { low: -3, high: 3 });
    expect(wide.toTypedArray().every((v) => v >= -3 && v < 3)).toBe(true);
  });

  it('gives empty arrays for size-0 shapes', () => {
    expect(R.uniform(R.key(0), [0]).shape).toEqual([0]);
    expect(R.uniform(R.key(0), [2, 0, 3], { dtype: 'float64' }).size).toBe(0);
    expect(R.uniform(R.key(0), []).shape).toEqual([]);
  });
});

describe('normal', () => {
  it.each(FLOATS)('%s: mean, std and KS statistic of N(0, 1); every sample finite', (dtype) => {
    const x = R.normal(R.key(11), [20001], { dtype }).toTypedArray();
    expect(x.every(Number.isFinite)).toBe(true);
    expect(Math.abs(meanOf(x))).toBeLessThan(0.03);
    expect(Math.abs(Math.sqrt(varianceOf(x)) - 1)).toBeLessThan(0.03);
    expect(ksStatistic(x, normalCdf)).toBeLessThan(0.015);
  });

  it('scales by mean and std; std = 0 gives the mean', () => {
    const x = R.normal(R.key(12), [20000], { mean: 3, std: 2, dtype: 'float64' }).toTypedArray();
    expect(Math.abs(meanOf(x) - 3)).toBeLessThan(0.06);
    expect(Math.abs(Math.sqrt(varianceOf(x)) - 2)).toBeLessThan(0.06);
    expect(data(R.normal(R.key(12), [3], { mean: -1.5, std: 0 }))).toEqual([-1.5, -1.5, -1.5]);
  });

  it('handles odd sizes, size-0 and size-1 shapes (the Box–Muller pairs share a prefix)', () => {
    const k = R.key(13);
    const five = data(R.normal(k, [5]));
    expect(data(R.normal(k, [1]))).toEqual(five.slice(0, 1));
    expect(data(R.normal(k, [4]))).toEqual(five.slice(0, 4));
    expect(R.normal(k, [3, 0]).shape).toEqual([3, 0]);
  });
});

describe('bernoulli', () => {
  it('has rate p, exact at p = 0 and p = 1, and returns bool', () => {
    const x = R.bernoulli(R.key(21), 0.3, [20000]);
    expect(x.dtype).toBe('bool');
    expect(Math.abs(meanOf(x.toTypedArray()) - 0.3)).toBeLessThan(0.015);
    expect(
      R.bernoulli(R.key(21), 0, [1000])
        .toTypedArray()
        .every((v) => v === 0),
    ).toBe(true);
    expect(
      R.bernoulli(R.key(21), 1, [1000])
        .toTypedArray()
        .every((v) => v === 1),
    ).toBe(true);
    expect(R.bernoulli(R.key(21)).shape).toEqual([]);
  });

  it('broadcasts an array of probabilities (any layout) to the shape', () => {
    fc.assert(
      fc.property(layoutArb, fc.constantFrom(...FLOATS), (layout, dtype) => {
        const p = makeArray([0, 0.25, 0.5, 1], [1, 4], dtype, layout);
        const x = R.bernoulli(R.key(22), p, [3000, 4]).toTypedArray();
        const rates = [0, 1, 2, 3].map((c) => meanOf(x.filter((_, i) => i % 4 === c)));
        expect(rates[0]).toBe(0);
        expect(Math.abs(rates[1] - 0.25)).toBeLessThan(0.03);
        expect(Math.abs(rates[2] - 0.5)).toBeLessThan(0.03);
        expect(rates[3]).toBe(1);
      }),
      { numRuns: 8 },
    );
    const p = T.array([[0.1, 0.9]]);
    expect(R.bernoulli(R.key(23), p).shape).toEqual([1, 2]);
    expect(R.bernoulli(R.key(23), p, [0, 2]).shape).toEqual([0, 2]);
  });
});

describe('randint', () => {
  it('covers exactly [low, high), roughly uniformly (chi-square)', () => {
    const x = R.randint(R.key(31), [14000], -3, 4);
    expect(x.dtype).toBe('int32');
    const values = x.toTypedArray();
    expect(values.every((v) => v >= -3 && v < 4)).toBe(true);
    const c = counts(
      values.map((v) => v + 3),
      7,
    );
    expect(c.every((n) => n > 0)).toBe(true);
    const chi2 = c.reduce((s, n) => s + (n - 2000) ** 2 / 2000, 0);
    expect(chi2).toBeLessThan(25); // 6 degrees of freedom: P(χ² > 25) ≈ 3e-4
  });

  it('has no modulo bias for ranges that do not divide 2^32', () => {
    // With a plain `word % range` for range = 3·2^30, values below 2^30 would have
    // probability 1/2 instead of 1/3.
    const x = R.randint(R.key(32), [6000], -(2 ** 31), 2 ** 31 - 2 ** 30).toTypedArray();
    const low = x.filter((v) => v < -(2 ** 31) + 2 ** 30).length / x.length;
    expect(Math.abs(low - 1 / 3)).toBeLessThan(0.03);
  });

  it('handles the full int32 range, a single value, random bounds and size-0 shapes', () => {
    const full = R.randint(R.key(33), [1000], -(2 ** 31), 2 ** 31).toTypedArray();
    expect(full.some((v) => v < 0) && full.some((v) => v > 0)).toBe(true);
    expect(data(R.randint(R.key(33), [4], 7, 8))).toEqual([7, 7, 7, 7]);
    expect(R.randint(R.key(33), [0, 5], 0, 3).shape).toEqual([0, 5]);
    fc.assert(
      fc.property(
        fc.integer(),
        fc.integer({ min: -100, max: 100 }),
        fc.integer({ min: 1, max: 50 }),
        (seed, low, width) => {
          const x = R.randint(R.key(seed), [2, 10], low, low + width).toTypedArray();
          expect(x.every((v) => v >= low && v < low + width)).toBe(true);
        },
      ),
    );
  });
});

describe('permutation', () => {
  it('of n is a permutation of 0…n-1 (int32), including n = 0 and n = 1', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 0, max: 60 }), (seed, n) => {
        const p = R.permutation(R.key(seed), n);
        expect(p.dtype).toBe('int32');
        expect(p.shape).toEqual([n]);
        expect(data(p).sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
      }),
    );
  });

  it('draws each of the 3! orderings about equally often', () => {
    const k = R.key(41);
    const seen = new Map<string, number>();
    for (let i = 0; i < 3000; i++) {
      const order = data(R.permutation(R.foldIn(k, i), 3)).join();
      seen.set(order, (seen.get(order) ?? 0) + 1);
    }
    expect(seen.size).toBe(6);
    for (const n of seen.values()) expect(Math.abs(n - 500)).toBeLessThan(100);
  });

  it('of an array permutes its rows (axis 0) in the order permutation(key, n) gives, for any layout', () => {
    fc.assert(
      fc.property(
        fc.integer(),
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: 1, max: 3 }),
        layoutArb,
        fc.constantFrom('float32', 'float64', 'int32') as fc.Arbitrary<T.DType>,
        (seed, rows, cols, layout, dtype) => {
          const values = Array.from({ length: rows * cols }, (_, i) => i);
          const x = makeArray(values, [rows, cols], dtype, layout);
          const k = R.key(seed);
          const out = R.permutation(k, x);
          expect(out.shape).toEqual([rows, cols]);
          expect(out.dtype).toBe(dtype);
          const order = data(R.permutation(k, rows));
          const expected = order.flatMap((r) => values.slice(r * cols, (r + 1) * cols));
          expect(data(out)).toEqual(expected);
        },
      ),
    );
  });
});

describe('categorical', () => {
  it('matches softmax(logits) and never draws a -Infinity class', () => {
    const logits = [1, 2, 0, Number.NEGATIVE_INFINITY, -1];
    for (const dtype of FLOATS) {
      const x = R.categorical(R.key(51), T.array(logits, { dtype }), { shape: [20000] });
      expect(x.dtype).toBe('int32');
      const freq = counts(x.toTypedArray(), logits.length).map((n) => n / 20000);
      expect(freq[3]).toBe(0);
      softmax(logits).forEach((p, i) => {
        expect(Math.abs(freq[i] - p)).toBeLessThan(0.015);
      });
    }
    const only = R.categorical(R.key(52), T.array([Number.NEGATIVE_INFINITY, 0, Number.NEGATIVE_INFINITY]), {
      shape: [500],
    });
    expect(only.toTypedArray().every((v) => v === 1)).toBe(true);
  });

  it('samples each batch row from its own distribution, along any axis, broadcasting to shape', () => {
    const rows = [
      [0, 0, 0],
      [3, 0, Number.NEGATIVE_INFINITY],
    ];
    // Batch [2] broadcast to [5000, 2]; axis 0 of the transposed logits is the class axis.
    for (const [logits, axis] of [
      [T.array(rows), -1],
      [T.transpose(T.array(rows)), 0],
    ] as const) {
      const x = R.categorical(R.key(53), logits, { axis, shape: [5000, 2] }).toTypedArray();
      rows.forEach((row, b) => {
        const freq = counts(
          x.filter((_, i) => i % 2 === b),
          3,
        ).map((n) => n / 5000);
        softmax(row).forEach((p, c) => {
          expect(Math.abs(freq[c] - p)).toBeLessThan(0.03);
        });
      });
    }
    expect(R.categorical(R.key(54), T.zeros([4, 3])).shape).toEqual([4]);
    expect(R.categorical(R.key(54), T.zeros([4, 3]), { axis: 0 }).shape).toEqual([3]);
  });

  it('gives in-range int32 indices for random logits and layouts, and empty results for size-0 shapes', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 1, max: 5 }), layoutArb, (seed, classes, layout) => {
        const values = Array.from({ length: 2 * classes }, (_, i) => Math.sin(i + seed) * 3);
        const logits = makeArray(values, [2, classes], 'float32', layout);
        const x = R.categorical(R.key(seed), logits).toTypedArray();
        expect(x.length).toBe(2);
        expect(x.every((v) => v >= 0 && v < classes)).toBe(true);
      }),
    );
    expect(R.categorical(R.key(0), T.zeros([0, 3])).shape).toEqual([0]);
    expect(R.categorical(R.key(0), T.zeros([2, 0]), { shape: [0, 2] }).shape).toEqual([0, 2]);
  });
});

describe('bad inputs', () => {
  const k = R.key(0);
  const cases: [string, () => unknown, new (...args: never[]) => Error, RegExp][] = [
    ['key: non-integer seed', () => R.key(1.5), T.ValueError, /^key:/],
    ['key: unsafe seed', () => R.key(2 ** 53), T.ValueError, /^key:/],
    ['PRNGKey: word out of range', () => new R.PRNGKey(-1, 0), T.ValueError, /^PRNGKey:/],
    ['split: negative count', () => R.split(k, -1), T.ValueError, /^split:/],
    [
      'split: a seed instead of a key',
      () => R.split(0 as unknown as T.random.PRNGKey),
      T.ValueError,
      /^split:/,
    ],
    ['foldIn: non-integer data', () => R.foldIn(k, 0.5), T.ValueError, /^foldIn:/],
    ['randomBits: negative count', () => R.randomBits(k, -2), T.ValueError, /^randomBits:/],
    ['uniform: int dtype', () => R.uniform(k, [2], { dtype: 'int32' }), T.DTypeError, /^uniform:.*int32/],
    ['uniform: high <= low', () => R.uniform(k, [2], { low: 1, high: 1 }), T.ValueError, /^uniform:/],
    [
      'uniform: bounds equal in float32',
      () => R.uniform(k, [2], { low: 1, high: 1 + 1e-9 }),
      T.ValueError,
      /^uniform:/,
    ],
    [
      'uniform: range overflows float32',
      () => R.uniform(k, [2], { low: -3e38, high: 3e38 }),
      T.ValueError,
      /^uniform:/,
    ],
    ['uniform: infinite bound', () => R.uniform(k, [2], { high: Infinity }), T.ValueError, /^uniform:/],
    ['uniform: negative size', () => R.uniform(k, [-1]), T.ValueError, /^uniform:/],
    ['normal: bool dtype', () => R.normal(k, [2], { dtype: 'bool' }), T.DTypeError, /^normal:.*bool/],
    ['normal: negative std', () => R.normal(k, [2], { std: -1 }), T.ValueError, /^normal:/],
    ['normal: fractional size', () => R.normal(k, [1.5]), T.ValueError, /^normal:/],
    ['bernoulli: p > 1', () => R.bernoulli(k, 1.5), T.ValueError, /^bernoulli:/],
    ['bernoulli: NaN p', () => R.bernoulli(k, Number.NaN), T.ValueError, /^bernoulli:/],
    ['bernoulli: array p < 0', () => R.bernoulli(k, T.array([0.5, -0.1])), T.ValueError, /^bernoulli:/],
    [
      'bernoulli: p does not fit shape',
      () => R.bernoulli(k, T.array([0.5, 0.5, 0.5]), [2]),
      T.ShapeError,
      /^bernoulli:/,
    ],
    ['randint: high <= low', () => R.randint(k, [2], 5, 5), T.ValueError, /^randint:/],
    ['randint: non-integer bound', () => R.randint(k, [2], 0, 2.5), T.ValueError, /^randint:/],
    ['randint: beyond int32', () => R.randint(k, [2], 0, 2 ** 31 + 1), T.ValueError, /^randint:/],
    ['permutation: negative n', () => R.permutation(k, -1), T.ValueError, /^permutation:/],
    ['permutation: 0-d array', () => R.permutation(k, T.scalar(1)), T.ShapeError, /^permutation:/],
    [
      'categorical: int logits',
      () => R.categorical(k, T.array([1, 2], { dtype: 'int32' })),
      T.DTypeError,
      /^categorical:/,
    ],
    [
      'categorical: all -Infinity',
      () => R.categorical(k, T.full([2], -Infinity)),
      T.ValueError,
      /^categorical:/,
    ],
    [
      'categorical: NaN logit',
      () => R.categorical(k, T.array([0, Number.NaN])),
      T.ValueError,
      /^categorical:/,
    ],
    ['categorical: no classes', () => R.categorical(k, T.zeros([2, 0])), T.ValueError, /^categorical:/],
    [
      'categorical: bad axis',
      () => R.categorical(k, T.zeros([2]), { axis: 1 }),
      T.IndexError,
      /^categorical:/,
    ],
    [
      'categorical: batch does not fit shape',
      () => R.categorical(k, T.zeros([3, 2]), { shape: [2] }),
      T.ShapeError,
      /^categorical:/,
    ],
  ];

  it.each(cases)('%s', (_, run, errorClass, message) => {
    expect(run).toThrow(errorClass);
    expect(run).toThrow(message);
  });
});
