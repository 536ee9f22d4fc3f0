import { textToCharTensor } from '@tsgrad/data';
import * as T from '@tsgrad/tensor';
import { describe, expect, it } from 'vitest';
import { values } from './helpers.js';

describe('textToCharTensor', () => {
  it('builds a sorted character vocabulary and encodes the text as int32 ids', () => {
    const chars = textToCharTensor('hello, world');
    expect(chars.vocab).toEqual([' ', ',', 'd', 'e', 'h', 'l', 'o', 'r', 'w']);
    expect(chars.encoded.dtype).toBe('int32');
    expect(chars.encoded.shape).toEqual([12]);
    expect(chars.decode(chars.encoded)).toBe('hello, world');
    expect(values(chars.encode('low'))).toEqual([5, 6, 8]);
    expect(chars.decode([4, 3])).toBe('he');
    expect(chars.decode(T.array(Int32Array.from([7])))).toBe('r');
  });

  it('treats astral characters as one symbol and names unknown ones', () => {
    const chars = textToCharTensor('a🐋b');
    expect(chars.vocab).toEqual(['a', 'b', '🐋']);
    expect(chars.encoded.shape).toEqual([3]);
    expect(chars.decode(chars.encoded)).toBe('a🐋b');
    expect(() => chars.encode('z')).toThrow(/"z" \(U\+007A\) is not in the vocabulary/);
    expect(() => chars.decode([3])).toThrow(/id 3 is out of range for a vocabulary of 3/);
  });
});
