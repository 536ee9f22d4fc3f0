import { Tensor } from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';
import { broadcastableShapes, float64Values, ndarray, shape, tensor } from '@tsgrad/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const inRange = (values: ArrayLike<number>, min: number, max: number) =>
  Array.from(values).every((v) => v >= min && v <= max);

describe('shape', () => {
  it('respects the rank and dim bounds', () => {
    fc.assert(
      fc.property(shape({ minRank: 1, maxRank: 3, minDim: 2, maxDim: 4 }), (s) => {
        expect(s.length).toBeGreaterThanOrEqual(1);
        expect(s.length).toBeLessThanOrEqual(3);
        for (const d of s) expect(d >= 2 && d <= 4 && Number.isInteger(d)).toBe(true);
      }),
    );
  });

  it('defaults to ranks 0..4 and dims 1..5, scalars included', () => {
    const seen = fc.sample(shape(), { numRuns: 300, seed: 1 });
    expect(seen.every((s) => s.length <= 4 && s.every((d) => d >= 1 && d <= 5))).toBe(true);
    expect(seen.some((s) => s.length === 0)).toBe(true);
    expect(seen.some((s) => s.length === 4)).toBe(true);
  });

  it('rejects inconsistent bounds', () => {
    expect(() => shape({ minRank: 3, maxRank: 1 })).toThrow(T.ValueError);
  });
});

describe('broadcastableShapes', () => {
  it('gives n shapes that broadcast together', () => {
    fc.assert(
      fc.property(broadcastableShapes(3, { maxRank: 4 }), (shapes) => {
        expect(shapes).toHaveLength(3);
        expect(() => T.broadcastShapes('test', ...shapes)).not.toThrow();
      }),
    );
  });

  it('produces size-1 dims and rank differences', () => {
    const draws = fc.sample(broadcastableShapes(2, { minRank: 2, maxRank: 3, minDim: 2 }), {
      numRuns: 200,
      seed: 2,
    });
    expect(draws.some(([a, b]) => a.length !== b.length)).toBe(true);
    expect(draws.some((shapes) => shapes.some((s) => s.includes(1)))).toBe(true);
  });

  it('broadcasting the shapes gives a tensor every input broadcasts to', () => {
    fc.assert(
      fc.property(broadcastableShapes(2), ([a, b]) => {
        const out = T.add(T.zeros(a), T.zeros(b));
        expect(out.shape).toEqual(T.broadcastShapes('test', a, b));
      }),
      { numRuns: 30 },
    );
  });
});

describe('ndarray and tensor', () => {
  it('ndarray has the requested dtype, shape and range', () => {
    fc.assert(
      fc.property(ndarray({ dtype: 'float64', shape: [2, 3], min: -1, max: 1 }), (x) => {
        expect(x.dtype).toBe('float64');
        expect(x.shape).toEqual([2, 3]);
        expect(inRange(x.toTypedArray(), -1, 1)).toBe(true);
      }),
      { numRuns: 30 },
    );
  });

  it('int32 and bool arrays hold integers and 0/1', () => {
    fc.assert(
      fc.property(ndarray({ dtype: 'int32', min: -3, max: 3 }), ndarray({ dtype: 'bool' }), (i, b) => {
        expect(i.dtype).toBe('int32');
        expect(inRange(i.toTypedArray(), -3, 3)).toBe(true);
        expect(Array.from(b.toTypedArray()).every((v) => v === 0 || v === 1)).toBe(true);
      }),
      { numRuns: 30 },
    );
  });

  it('float32 values are finite and in range', () => {
    fc.assert(
      fc.property(ndarray({ dtype: 'float32', min: 0, max: 5 }), (x) => {
        expect(x.dtype).toBe('float32');
        expect(inRange(x.toTypedArray(), 0, 5)).toBe(true);
      }),
      { numRuns: 30 },
    );
  });

  it('tensor takes a shape arbitrary and makes leaves that require grad', () => {
    fc.assert(
      fc.property(
        tensor({ dtype: 'float64', shape: shape({ minRank: 2, maxRank: 2 }), requiresGrad: true }),
        (x) => {
          expect(x).toBeInstanceOf(Tensor);
          expect(x.ndim).toBe(2);
          expect(x.requiresGrad && x.isLeaf).toBe(true);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('refuses requiresGrad for non-float dtypes', () => {
    expect(() => tensor({ dtype: 'int32', requiresGrad: true })).toThrow(T.DTypeError);
  });

  it('float64Values gives finite values of the given length', () => {
    fc.assert(
      fc.property(float64Values(7, { min: -2, max: 3 }), (v) => {
        expect(v).toBeInstanceOf(Float64Array);
        expect(v.length).toBe(7);
        expect(inRange(v, -2, 3)).toBe(true);
      }),
      { numRuns: 30 },
    );
  });
});
