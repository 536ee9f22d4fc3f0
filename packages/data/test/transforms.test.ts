import { compose, normalize, oneHot, randomCrop, randomHorizontalFlip } from '@tsgrad/data';
import * as T from '@tsgrad/tensor';
import { describe, expect, it } from 'vitest';
import { values } from './helpers.js';

/** A [C, H, W] image whose pixel (c, i, j) is 100c + 10i + j. */
function image(c: number, h: number, w: number): T.NDArray {
  const data = new Float32Array(c * h * w);
  for (let k = 0; k < c; k++)
    for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) data[(k * h + i) * w + j] = 100 * k + 10 * i + j;
  return T.array(data, { shape: [c, h, w] });
}

describe('normalize', () => {
  it('subtracts the mean and divides by the std of each channel', () => {
    const x = image(2, 1, 2); // channel 0: [0, 1], channel 1: [100, 101]
    const y = normalize([0.5, 100], [0.5, 2])(x);
    expect(y.toArray()).toEqual([[[-1, 1]], [[0, 0.5]]]);
    const batched = normalize([0.5, 100], [0.5, 2])(T.stack([x, x]));
    expect(batched.shape).toEqual([2, 2, 1, 2]);
  });

  it('takes scalars for every channel and converts integer input to float32', () => {
    const y = normalize(1, 2)(T.array(Int32Array.from([1, 3, 5])));
    expect(y.dtype).toBe('float32');
    expect(values(y)).toEqual([0, 1, 2]);
    expect(normalize(0, 1)(T.zeros([2], { dtype: 'float64' })).dtype).toBe('float64');
  });

  it('rejects a zero std and channels that do not match', () => {
    expect(() => normalize([0], [0])).toThrow(/non-zero stds/);
    expect(() => normalize([0, 0], [1, 1, 1])).toThrow(/must match/);
    expect(() => normalize([0, 0, 0], [1, 1, 1])(image(2, 2, 2))).toThrow(/\[\.\.\.,3,H,W\], got \[2,2,2\]/);
  });
});

describe('oneHot', () => {
  it('encodes int32 labels along a new last axis', () => {
    const y = oneHot(3)(T.array(Int32Array.from([2, 0])));
    expect(y.toArray()).toEqual([
      [0, 0, 1],
      [1, 0, 0],
    ]);
    expect(() => oneHot(3)(T.array(Int32Array.from([3])))).toThrow(/out of range/);
  });
});

describe('randomCrop', () => {
  it('crops a window of the padded image, with padding filled with zeros', () => {
    const x = image(1, 4, 4);
    const crop = randomCrop(4, { padding: 2, seed: 0 });
    const seen = new Set<string>();
    for (let k = 0; k < 40; k++) {
      const y = crop(x);
      expect(y.shape).toEqual([1, 4, 4]);
      // The original pixels that remain keep their relative positions.
      const rows = y.toArray() as number[][][];
      const nonzero = rows[0].flat().filter((v) => v !== 0);
      for (const v of nonzero) expect(values(x)).toContain(v);
      seen.add(JSON.stringify(rows));
    }
    // 5 × 5 possible offsets; 40 draws see many of them.
    expect(seen.size).toBeGreaterThan(8);
  });

  it('is a pure function of a given key and reproducible from its seed', () => {
    const x = image(3, 8, 8);
    const crop = randomCrop([5, 6], { padding: [1, 2], paddingMode: 'reflect' });
    const key = T.random.key(9);
    expect(crop(x, key).toArray()).toEqual(crop(x, key).toArray());
    expect(crop(x, key).shape).toEqual([3, 5, 6]);
    const a = randomCrop(6, { padding: 2, seed: 3 });
    const b = randomCrop(6, { padding: 2, seed: 3 });
    for (let k = 0; k < 5; k++) expect(a(x).toArray()).toEqual(b(x).toArray());
  });

  it('crops a sliding window: every crop is the padded image shifted', () => {
    const x = image(1, 3, 3);
    const y = randomCrop(3, { padding: 1, fill: -1 })(x, T.random.key(1));
    const padded = T.pad(
      x,
      [
        [0, 0],
        [1, 1],
        [1, 1],
      ],
      { value: -1 },
    ).toArray() as number[][][];
    const windows = [];
    for (let i = 0; i <= 2; i++)
      for (let j = 0; j <= 2; j++)
        windows.push(JSON.stringify([padded[0].slice(i, i + 3).map((r) => r.slice(j, j + 3))]));
    expect(windows).toContain(JSON.stringify(y.toArray()));
  });

  it('rejects crops larger than the padded image', () => {
    expect(() => randomCrop(5)(image(1, 4, 4))).toThrow(/larger than the padded input \[4,4\]/);
    expect(() => randomCrop(2, { padding: [1, 2, 3] as unknown as [number, number] })).toThrow(/2 or 4/);
  });
});

describe('randomHorizontalFlip', () => {
  it('flips the last axis with probability p', () => {
    const x = image(1, 2, 3);
    const flipped = T.flip(x, -1).toArray();
    expect(randomHorizontalFlip(1)(x).toArray()).toEqual(flipped);
    expect(randomHorizontalFlip(0)(x).toArray()).toEqual(x.toArray());
    const half = randomHorizontalFlip(0.5, { seed: 1 });
    let flips = 0;
    for (let k = 0; k < 400; k++) if (JSON.stringify(half(x).toArray()) === JSON.stringify(flipped)) flips++;
    expect(flips).toBeGreaterThan(160);
    expect(flips).toBeLessThan(240);
  });
});

describe('compose', () => {
  it('applies transforms in order and splits a given key between them', () => {
    const x = image(1, 4, 4);
    const pipeline = compose(randomCrop(4, { padding: 1 }), randomHorizontalFlip(0.5), normalize(1, 2));
    const key = T.random.key(4);
    expect(pipeline(x, key).toArray()).toEqual(pipeline(x, key).toArray());
    const [k0, k1] = T.random.split(key, 3);
    const manual = normalize(1, 2)(randomHorizontalFlip(0.5)(randomCrop(4, { padding: 1 })(x, k0), k1));
    expect(pipeline(x, key).toArray()).toEqual(manual.toArray());
    expect(compose()(x)).toBe(x);
  });
});
