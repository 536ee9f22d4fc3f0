import { describe, expect, it } from 'vitest';
import * as T from '@tsgrad/tensor';

describe('smoke', () => {
  it('adds with broadcasting and reduces', () => {
    const a = T.array([[1, 2, 3], [4, 5, 6]]);
    const b = T.array([10, 20, 30]);
    const c = T.add(a, b);
    expect(c.toArray()).toEqual([[11, 22, 33], [14, 25, 36]]);
    expect(T.sum(c, { axis: 0 }).toArray()).toEqual([25, 47, 69]);
    expect(T.sum(T.transpose(c), { axis: 1, keepdims: true }).toArray()).toEqual([[25], [47], [69]]);
    expect(T.mean(c).item()).toBeCloseTo(23.5);
    expect(T.argmax(c, { axis: 1 }).toArray()).toEqual([2, 2]);
    expect(T.slice(c, [null, { step: -1 }]).toArray()).toEqual([[33, 22, 11], [36, 25, 14]]);
    expect(T.cumsum(T.arange(5), 0).toArray()).toEqual([0, 1, 3, 6, 10]);
    expect(T.exp(T.arange(2)).dtype).toBe('float32');
    expect(() => T.add(T.zeros([2, 3]), T.zeros([4]))).toThrow(T.ShapeError);
  });
});
