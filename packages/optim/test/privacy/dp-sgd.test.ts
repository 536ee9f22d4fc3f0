import { privacy } from '@tsgrad/optim';
import * as T from '@tsgrad/tensor';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const { random } = T;

/** Clipped, summed and averaged in float64 with plain loops: the reference for σ = 0. */
function reference(grads: Float64Array[][], maxGradNorm: number, expectedBatchSize: number): number[][] {
  const batch = grads[0].length;
  const sums = grads.map((g) => new Array<number>(g[0].length).fill(0));
  for (let b = 0; b < batch; b++) {
    let squares = 0;
    for (const g of grads) for (const x of g[b]) squares += x * x;
    const factor = Math.min(1, maxGradNorm / (Math.sqrt(squares) + 1e-6));
    grads.forEach((g, p) => {
      g[b].forEach((x, i) => {
        sums[p][i] += (factor * x) / expectedBatchSize;
      });
    });
  }
  return sums;
}

describe('clipAndSum and noisyMean', () => {
  it('clips each example over all parameters jointly, sums and divides by the expected batch size', () => {
    const arb = fc.record({
      batch: fc.integer({ min: 1, max: 6 }),
      sizes: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 3 }),
      maxGradNorm: fc.double({ min: 0.05, max: 5, noNaN: true }),
      scale: fc.double({ min: 0.01, max: 10, noNaN: true }),
      seed: fc.integer({ min: 0, max: 1000 }),
    });
    fc.assert(
      fc.property(arb, ({ batch, sizes, maxGradNorm, scale, seed }) => {
        const keys = random.split(random.key(seed), sizes.length);
        const arrays = sizes.map((size, p) =>
          random.normal(keys[p], [batch, size, 2], { dtype: 'float64', std: scale }),
        );
        const values = arrays.map((a) => {
          const flat = a.toTypedArray() as Float64Array;
          const row = flat.length / batch;
          return Array.from({ length: batch }, (_, b) => flat.subarray(b * row, (b + 1) * row));
        });
        const { sums, norms } = privacy.clipAndSum(arrays, maxGradNorm);
        const grads = privacy.noisyMean(sums, {
          maxGradNorm,
          noiseMultiplier: 0,
          expectedBatchSize: 4,
          key: random.key(1),
        });
        const expected = reference(values, maxGradNorm, 4);
        grads.forEach((g, p) => {
          expect(g.shape).toEqual([sizes[p], 2]);
          const got = g.toTypedArray();
          expected[p].forEach((x, i) => {
            expect(Math.abs(got[i] - x)).toBeLessThan(1e-12 * Math.max(1, Math.abs(x)));
          });
        });
        expect(norms.shape).toEqual([batch]);
      }),
    );
  });

  it('adds N(0, σ²C²) per coordinate, divided by the expected batch size, the same for the same key', () => {
    const zeros = [T.zeros([20_000])];
    const options = { maxGradNorm: 0.5, noiseMultiplier: 2, expectedBatchSize: 10, key: random.key(3) };
    const [noise] = privacy.noisyMean(zeros, options);
    const x = Array.from(noise.toTypedArray(), Number);
    const mean = x.reduce((s, v) => s + v, 0) / x.length;
    const std = Math.sqrt(x.reduce((s, v) => s + (v - mean) ** 2, 0) / x.length);
    // σC/B = 0.1; over 20,000 normals the sample std's own std is 0.0005 and the mean's 0.0007.
    expect(Math.abs(std - 0.1)).toBeLessThan(0.002);
    expect(Math.abs(mean)).toBeLessThan(0.004);
    expect(Array.from(privacy.noisyMean(zeros, options)[0].toTypedArray(), Number)).toEqual(x);
    const [other] = privacy.noisyMean(zeros, { ...options, key: random.key(4) });
    expect(Array.from(other.toTypedArray(), Number)).not.toEqual(x);
  });

  it('keeps float32 gradients float32 and handles an empty batch (only noise)', () => {
    const empty = [T.zeros([0, 3]), T.zeros([0, 2, 2])];
    const { sums, norms } = privacy.clipAndSum(empty, 1);
    const grads = privacy.noisyMean(sums, {
      maxGradNorm: 1,
      noiseMultiplier: 0,
      expectedBatchSize: 2,
      key: random.key(0),
    });
    expect(grads.map((g) => [g.dtype, g.shape])).toEqual([
      ['float32', [3]],
      ['float32', [2, 2]],
    ]);
    expect([...grads[1].toTypedArray()]).toEqual([0, 0, 0, 0]);
    expect(norms.shape).toEqual([0]);
  });

  it('refuses gradients without a shared batch axis, integer gradients and bad options', () => {
    const key = random.key(0);
    const ok = { maxGradNorm: 1, noiseMultiplier: 1, expectedBatchSize: 2, key };
    expect(() => privacy.clipAndSum([T.zeros([2, 3]), T.zeros([3, 3])], 1)).toThrow(
      /perSampleGrads\[1\] has shape \[3,3\], expected a leading batch axis of 2/,
    );
    expect(() => privacy.clipAndSum([T.zeros([2], { dtype: 'int32' })], 1)).toThrow(T.DTypeError);
    expect(() => privacy.clipAndSum([T.zeros([2])], 0)).toThrow(/maxGradNorm must be a positive number/);
    expect(() => privacy.clipAndSum([], 1)).toThrow(/perSampleGrads is empty/);
    expect(() => privacy.noisyMean([T.zeros([2])], { ...ok, key: 1 as never })).toThrow(
      /key must be a PRNGKey/,
    );
    expect(() => privacy.noisyMean([T.zeros([2], { dtype: 'int32' })], ok)).toThrow(T.DTypeError);
    expect(() => privacy.noisyMean([T.zeros([2])], { ...ok, expectedBatchSize: 0 })).toThrow(
      /expectedBatchSize must be a positive number/,
    );
  });
});

describe('poissonSample', () => {
  it('takes each example with probability q: sorted, reproducible, about qN of them', () => {
    const picks = privacy.poissonSample(random.key(7), 60_000, 256 / 60_000);
    expect(picks).toEqual(privacy.poissonSample(random.key(7), 60_000, 256 / 60_000));
    expect([...picks]).toEqual([...picks].sort((a, b) => a - b));
    // Binomial(60000, q): mean 256, std 16; a 5-std band.
    expect(Math.abs(picks.length - 256)).toBeLessThan(80);
    expect(privacy.poissonSample(random.key(7), 10, 0)).toHaveLength(0);
    expect(privacy.poissonSample(random.key(7), 10, 1)).toEqual(Int32Array.from({ length: 10 }, (_, i) => i));
  });

  it('refuses a rate outside [0, 1] and a fractional size', () => {
    expect(() => privacy.poissonSample(random.key(0), 10, 1.5)).toThrow(
      /sampleRate must be a number in \[0, 1\]/,
    );
    expect(() => privacy.poissonSample(random.key(0), 2.5, 0.1)).toThrow(T.ValueError);
  });
});
