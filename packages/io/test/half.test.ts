import { fromBytes } from '@tsgrad/io';
import { describe, expect, it } from 'vitest';
import { bytesOf, f32Bits, makeFile } from './files.js';

/** Reads 16-bit words as a 1-D F16 or BF16 tensor; returns the float32 values and their bits. */
function read16(dtype: 'F16' | 'BF16', words: number[]): { values: number[]; bits: number[] } {
  const data = words.flatMap((w) => [w & 0xff, w >> 8]);
  const { tensors } = fromBytes(
    makeFile({ x: { dtype, shape: [words.length], data_offsets: [0, data.length] } }, data),
  );
  expect(tensors.x.dtype).toBe('float32');
  const values = tensors.x.toArray() as number[];
  return { values, bits: Array.from(new Uint32Array(new Uint8Array(bytesOf(tensors.x)).buffer)) };
}

describe('F16 → float32', () => {
  it('converts normal numbers, zeros and the extremes exactly', () => {
    const { values } = read16(
      'F16',
      [0x3c00, 0xc000, 0x7bff, 0xfbff, 0x0400, 0x3555, 0x0000, 0x8000, 0x3800],
    );
    expect(values).toEqual([1, -2, 65504, -65504, 2 ** -14, 0.333251953125, 0, -0, 0.5]);
    expect(Object.is(values[7], -0)).toBe(true);
  });

  it('converts subnormals exactly', () => {
    const { values } = read16('F16', [0x0001, 0x8001, 0x0002, 0x0200, 0x03ff]);
    expect(values).toEqual([2 ** -24, -(2 ** -24), 2 ** -23, 2 ** -15, 1023 * 2 ** -24]);
  });

  it('converts infinities and NaNs, keeping the NaN payload and sign', () => {
    const { values, bits } = read16('F16', [0x7c00, 0xfc00, 0x7e00, 0x7e01, 0xfd55]);
    expect(values.slice(0, 2)).toEqual([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]);
    expect(values.slice(2).every(Number.isNaN)).toBe(true);
    expect(bits.slice(2)).toEqual([0x7fc00000, 0x7fc02000, 0xffaaa000]);
  });
});

describe('BF16 → float32', () => {
  it('is the top half of the float32 bits', () => {
    const { values, bits } = read16(
      'BF16',
      [0x3f80, 0xc000, 0x4049, 0x7f7f, 0x0001, 0x8080, 0x7f80, 0xff80, 0x7fc1],
    );
    expect(values.slice(0, 8)).toEqual([
      1,
      -2,
      3.140625,
      3.3895313892515355e38,
      2 ** -133,
      -(2 ** -126),
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
    ]);
    expect(Number.isNaN(values[8])).toBe(true);
    expect(bits.slice(8)).toEqual([0x7fc10000]);
    expect(f32Bits(bits[0])).toEqual([0, 0, 0x80, 0x3f]);
  });
});
