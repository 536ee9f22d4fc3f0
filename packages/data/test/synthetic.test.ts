import { blobs, circles, moons, sineRegression, spirals, xor } from '@tsgrad/data';
import type * as T from '@tsgrad/tensor';
import { describe, expect, it } from 'vitest';
import { values } from './helpers.js';

const counts = (y: T.NDArray, classes: number) => {
  const out = new Array<number>(classes).fill(0);
  for (const v of values(y)) out[v]++;
  return out;
};

const points = (x: T.NDArray) => {
  const v = values(x);
  return Array.from({ length: x.shape[0] }, (_, i) => [v[2 * i], v[2 * i + 1]]);
};

describe('synthetic classification sets', () => {
  const sets = {
    spirals: (seed: number) => spirals({ n: 300, classes: 3, noise: 0.05, seed }),
    moons: (seed: number) => moons({ n: 200, noise: 0.1, seed }),
    circles: (seed: number) => circles({ n: 200, noise: 0.05, seed }),
    blobs: (seed: number) => blobs({ n: 300, seed }),
    xor: (seed: number) => xor({ n: 200, seed }),
  };

  for (const [name, make] of Object.entries(sets)) {
    it(`${name}: float32 [n, 2] points, int32 labels, the same for the same seed`, () => {
      const a = make(1);
      expect(a.x.dtype).toBe('float32');
      expect(a.y.dtype).toBe('int32');
      expect(a.x.shape).toEqual([a.y.shape[0], 2]);
      expect(values(a.x).every(Number.isFinite)).toBe(true);
      const b = make(1);
      expect(values(b.x)).toEqual(values(a.x));
      expect(values(b.y)).toEqual(values(a.y));
      expect(values(make(2).x)).not.toEqual(values(a.x));
    });
  }

  it('spirals: n points shared evenly by the classes, on arms of radius ≤ 1', () => {
    const { x, y } = spirals({ n: 301, classes: 3, seed: 0 });
    expect(x.shape).toEqual([301, 2]);
    expect(counts(y, 3)).toEqual([101, 100, 100]);
    for (const [a, b] of points(x)) expect(Math.hypot(a, b)).toBeLessThanOrEqual(1 + 1e-6);
    // Without shuffling the points come class by class.
    expect(values(spirals({ n: 6, classes: 2, shuffle: false }).y)).toEqual([0, 0, 0, 1, 1, 1]);
  });

  it('moons and circles match scikit-learn without noise', () => {
    const m = moons({ n: 4, shuffle: false });
    const expected = [
      [1, 0],
      [-1, 0],
      [0, 0.5],
      [2, 0.5],
    ];
    points(m.x).forEach(([a, b], i) => {
      expect(a).toBeCloseTo(expected[i][0], 6);
      expect(b).toBeCloseTo(expected[i][1], 6);
    });
    expect(values(m.y)).toEqual([0, 0, 1, 1]);
    const c = circles({ n: 200, factor: 0.5, seed: 3 });
    points(c.x).forEach(([a, b], i) => {
      expect(Math.hypot(a, b)).toBeCloseTo(values(c.y)[i] === 0 ? 1 : 0.5, 5);
    });
  });

  it('blobs: points gather around their centre', () => {
    const { x, y, centers } = blobs({ n: 600, centers: 3, std: 0.5, seed: 4 });
    const middle = points(centers);
    const dims = points(x);
    const labels = values(y);
    for (let c = 0; c < 3; c++) {
      const mine = dims.filter((_, i) => labels[i] === c);
      const mean = [0, 1].map((d) => mine.reduce((s, p) => s + p[d], 0) / mine.length);
      expect(mean[0]).toBeCloseTo(middle[c][0], 0);
      expect(mean[1]).toBeCloseTo(middle[c][1], 0);
    }
    const given = blobs({
      n: 4,
      centers: [
        [0, 0, 0],
        [5, 5, 5],
      ],
      std: 0,
      shuffle: false,
    });
    expect(given.x.toArray()).toEqual([
      [0, 0, 0],
      [0, 0, 0],
      [5, 5, 5],
      [5, 5, 5],
    ]);
  });

  it('xor labels points by the signs of their coordinates', () => {
    const { x, y } = xor({ n: 300, seed: 5 });
    const labels = values(y);
    points(x).forEach(([a, b], i) => {
      expect(labels[i]).toBe(a > 0 !== b > 0 ? 1 : 0);
    });
    expect(counts(y, 2).every((c) => c > 100)).toBe(true);
  });

  it('rejects bad options', () => {
    expect(() => spirals({ n: 0 })).toThrow(/n must be a positive integer/);
    expect(() => moons({ noise: -1 })).toThrow(/noise/);
    expect(() => circles({ factor: 1 })).toThrow(/factor/);
    expect(() => spirals({ classes: 1.5 })).toThrow(/classes/);
  });
});

describe('sineRegression', () => {
  it('gives float32 [n, 1] inputs in range and targets on the sine (plus noise)', () => {
    const { x, y } = sineRegression({ n: 100, amplitude: 2, frequency: 3, phase: 0.5, seed: 6 });
    expect(x.shape).toEqual([100, 1]);
    expect(y.shape).toEqual([100, 1]);
    expect(y.dtype).toBe('float32');
    const xs = values(x);
    values(y).forEach((v, i) => {
      expect(xs[i]).toBeGreaterThanOrEqual(-Math.PI);
      expect(xs[i]).toBeLessThan(Math.PI);
      expect(v).toBeCloseTo(2 * Math.sin(3 * xs[i] + 0.5), 4);
    });
    const noisy = sineRegression({ n: 2000, noise: 0.1, seed: 6 });
    const residuals = values(noisy.y).map((v, i) => v - Math.sin(values(noisy.x)[i]));
    const std = Math.sqrt(residuals.reduce((s, r) => s + r * r, 0) / residuals.length);
    expect(std).toBeGreaterThan(0.09);
    expect(std).toBeLessThan(0.11);
    expect(values(sineRegression({ seed: 6 }).x)).toEqual(values(sineRegression({ seed: 6 }).x));
  });
});
