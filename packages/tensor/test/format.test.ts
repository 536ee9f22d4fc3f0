import * as T from '@tsgrad/tensor';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { layoutArb, makeArray, shapeArb, valuesArb } from './arbitraries.js';

/** The expected text, written one line per argument. */
const lines = (...text: string[]): string => text.join('\n');

const show = (values: T.NestedArray, dtype?: T.DType): string => T.array(values, { dtype }).toString();

describe('formatNDArray via NDArray.toString', () => {
  it('prints the NumPy-style layout with shape and dtype in the trailer', () => {
    expect(
      show([
        [1, 2],
        [3, 4],
      ]),
    ).toBe(lines('NDArray([[1., 2.],', '         [3., 4.]], shape=[2,2], dtype=float32)'));
    expect(show([1, 2, 3], 'float64')).toBe('NDArray([1., 2., 3.], shape=[3], dtype=float64)');
    expect(`${T.array([[7]])}`).toBe('NDArray([[7.]], shape=[1,1], dtype=float32)');
  });

  it('prints 0-d arrays without brackets', () => {
    expect(T.scalar(3.5).toString()).toBe('NDArray(3.5, shape=[], dtype=float32)');
    expect(T.scalar(-2, { dtype: 'int32' }).toString()).toBe('NDArray(-2, shape=[], dtype=int32)');
    expect(T.scalar(true).toString()).toBe('NDArray(true, shape=[], dtype=bool)');
    expect(T.scalar(1 / 3, { dtype: 'float64' }).toString()).toBe('NDArray(0.3333, shape=[], dtype=float64)');
  });

  it('prints size-0 arrays as [] with their shape', () => {
    expect(T.zeros([0, 3]).toString()).toBe('NDArray([], shape=[0,3], dtype=float32)');
    expect(T.array([]).toString()).toBe('NDArray([], shape=[0], dtype=float32)');
    expect(T.zeros([2, 0, 1], { dtype: 'int32' }).toString()).toBe('NDArray([], shape=[2,0,1], dtype=int32)');
  });

  it('gives every float the digits of the most demanding one, at most 4', () => {
    expect(show([0.5, 1.25, -2])).toBe('NDArray([ 0.50,  1.25, -2.00], shape=[3], dtype=float32)');
    expect(show([1 / 3, 2 / 3], 'float64')).toBe('NDArray([0.3333, 0.6667], shape=[2], dtype=float64)');
    // float32 0.1 is 0.10000000149…: it prints as the shortest text that reads back the same.
    expect(show([0.1, 0.2])).toBe('NDArray([0.1, 0.2], shape=[2], dtype=float32)');
    // Exact ties round to even, as NumPy and printf do.
    expect(show([1.03125, 0.5], 'float64')).toBe('NDArray([1.0312, 0.5000], shape=[2], dtype=float64)');
    expect(show([-0, 1])).toBe('NDArray([-0.,  1.], shape=[2], dtype=float32)');
  });

  it('switches every element to scientific notation for tiny or huge magnitudes', () => {
    expect(show([1e-5, 1, 1.5e10], 'float64')).toBe(
      'NDArray([1.0e-05, 1.0e+00, 1.5e+10], shape=[3], dtype=float64)',
    );
    expect(show([12345678901, -0.5], 'float64')).toBe(
      'NDArray([ 1.2346e+10, -5.0000e-01], shape=[2], dtype=float64)',
    );
    expect(show([1e-100, 2e200], 'float64')).toBe('NDArray([1.e-100, 2.e+200], shape=[2], dtype=float64)');
    // Zeros do not count as tiny, and float32 leaves fixed notation at 1e6 (float64 at 1e8).
    expect(show([0, 0.001, 2.5])).toBe('NDArray([0.000, 0.001, 2.500], shape=[3], dtype=float32)');
    expect(show([2e6, 1])).toBe('NDArray([2.e+06, 1.e+00], shape=[2], dtype=float32)');
    expect(show([2e6, 1], 'float64')).toBe('NDArray([2000000.,       1.], shape=[2], dtype=float64)');
  });

  it('spells nan and inf like NumPy and right-aligns them', () => {
    expect(show([1, Number.NaN, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY])).toBe(
      'NDArray([  1.,  nan, -inf,  inf], shape=[4], dtype=float32)',
    );
    expect(show([Number.NaN, Number.POSITIVE_INFINITY])).toBe(
      'NDArray([nan, inf], shape=[2], dtype=float32)',
    );
    expect(show([1e-7, Number.NaN])).toBe('NDArray([1.e-07,    nan], shape=[2], dtype=float32)');
  });

  it('right-aligns int32 and bool elements', () => {
    expect(
      show(
        [
          [1, -20],
          [300, 4],
        ],
        'int32',
      ),
    ).toBe(lines('NDArray([[  1, -20],', '         [300,   4]], shape=[2,2], dtype=int32)'));
    expect(
      show([
        [true, false],
        [false, true],
      ]),
    ).toBe(lines('NDArray([[ true, false],', '         [false,  true]], shape=[2,2], dtype=bool)'));
    expect(show([true, true])).toBe('NDArray([true, true], shape=[2], dtype=bool)');
  });

  it('separates the blocks of a 3-D array by a blank line', () => {
    expect(T.reshape(T.arange(8), [2, 2, 2]).toString()).toBe(
      lines(
        'NDArray([[[0, 1],',
        '          [2, 3]],',
        '',
        '         [[4, 5],',
        '          [6, 7]]], shape=[2,2,2], dtype=int32)',
      ),
    );
    expect(T.reshape(T.arange(4, undefined, 1, { dtype: 'float64' }), [1, 1, 2, 2]).toString()).toBe(
      lines('NDArray([[[[0., 1.],', '           [2., 3.]]]], shape=[1,1,2,2], dtype=float64)'),
    );
  });

  it('wraps long rows under the first element', () => {
    expect(T.arange(30, undefined, 1, { dtype: 'float64' }).toString()).toBe(
      lines(
        'NDArray([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12.,',
        '         13., 14., 15., 16., 17., 18., 19., 20., 21., 22., 23., 24., 25.,',
        '         26., 27., 28., 29.], shape=[30], dtype=float64)',
      ),
    );
    expect(T.reshape(T.mul(T.arange(24), 1111), [2, 12]).toString()).toBe(
      lines(
        'NDArray([[    0,  1111,  2222,  3333,  4444,  5555,  6666,  7777,  8888,',
        '           9999, 11110, 12221],',
        '         [13332, 14443, 15554, 16665, 17776, 18887, 19998, 21109, 22220,',
        '          23331, 24442, 25553]], shape=[2,12], dtype=int32)',
      ),
    );
  });

  it('abbreviates arrays of more than 1000 elements to 3 edge items per long axis', () => {
    expect(T.arange(1000).toString()).not.toContain('...');
    expect(T.arange(1001).toString()).toBe(
      lines('NDArray([   0,    1,    2, ...,  998,  999, 1000],', '        shape=[1001], dtype=int32)'),
    );
    expect(T.reshape(T.arange(2000), [40, 50]).toString()).toBe(
      lines(
        'NDArray([[   0,    1,    2, ...,   47,   48,   49],',
        '         [  50,   51,   52, ...,   97,   98,   99],',
        '         [ 100,  101,  102, ...,  147,  148,  149],',
        '         ...,',
        '         [1850, 1851, 1852, ..., 1897, 1898, 1899],',
        '         [1900, 1901, 1902, ..., 1947, 1948, 1949],',
        '         [1950, 1951, 1952, ..., 1997, 1998, 1999]],',
        '        shape=[40,50], dtype=int32)',
      ),
    );
    // Short axes are shown in full.
    expect(T.reshape(T.arange(1200), [200, 6]).toString()).toContain('[   0,    1,    2,    3,    4,    5]');
  });

  it('puts `...,` and a blank line between the blocks of an abbreviated 3-D array', () => {
    const text = T.reshape(T.arange(1100), [10, 10, 11]).toString();
    expect(text.split('\n').slice(22, 27)).toEqual([
      '          [ 319,  320,  321, ...,  327,  328,  329]],',
      '',
      '         ...,',
      '',
      '         [[ 770,  771,  772, ...,  778,  779,  780],',
    ]);
    expect(text.split('\n')).toHaveLength(50);
    expect(
      text.endsWith('[1089, 1090, 1091, ..., 1097, 1098, 1099]]],\n        shape=[10,10,11], dtype=int32)'),
    ).toBe(true);
  });

  it('chooses the float format from the shown elements only', () => {
    const data = new Float32Array(2000).map((_, i) => i);
    data[1000] = 1e20; // hidden by the abbreviation
    data[1001] = 0.123; // hidden too
    expect(T.array(data).toString()).toBe(
      lines(
        'NDArray([   0.,    1.,    2., ..., 1997., 1998., 1999.],',
        '        shape=[2000], dtype=float32)',
      ),
    );
  });

  it('prints the logical order of non-contiguous views', () => {
    const a = T.array([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(T.transpose(a).toString()).toBe(
      lines('NDArray([[1., 4.],', '         [2., 5.],', '         [3., 6.]], shape=[3,2], dtype=float32)'),
    );
    expect(T.flip(a, 1).toString()).toBe(
      lines('NDArray([[3., 2., 1.],', '         [6., 5., 4.]], shape=[2,3], dtype=float32)'),
    );
    expect(T.expand(T.array([1.5]), [2]).toString()).toBe('NDArray([1.5, 1.5], shape=[2], dtype=float32)');
  });

  it('prints a view exactly like a contiguous copy of it', () => {
    const dtypeArb = fc.constantFrom<T.DType>('float32', 'float64', 'int32');
    const caseArb = fc.tuple(shapeArb({ maxRank: 3 }), dtypeArb, layoutArb).chain(([shape, dtype, layout]) =>
      valuesArb(shape, { min: -1000, max: 1000, integer: dtype === 'int32' }).map((values) => ({
        shape,
        dtype,
        layout,
        values,
      })),
    );
    fc.assert(
      fc.property(caseArb, ({ shape, dtype, layout, values }) => {
        const view = makeArray(values, shape, dtype, layout);
        expect(view.toString()).toBe(T.contiguous(view).toString());
      }),
    );
  });

  it('reads back the values it prints, within the shown precision, on lines of at most 75 characters', () => {
    const dtypeArb = fc.constantFrom<T.DType>('float32', 'float64', 'int32', 'bool');
    const caseArb = fc.tuple(shapeArb({ maxRank: 3, maxDim: 7 }), dtypeArb).chain(([shape, dtype]) =>
      valuesArb(shape, { min: -1e5, max: 1e5, integer: dtype !== 'float32' && dtype !== 'float64' }).map(
        (values) => ({
          shape,
          dtype,
          values,
        }),
      ),
    );
    fc.assert(
      fc.property(caseArb, ({ shape, dtype, values }) => {
        const a = T.array(Float64Array.from(values), { shape, dtype });
        const text = a.toString();
        for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(75);
        const body = text.slice('NDArray('.length, text.lastIndexOf('shape='));
        const tokens = body.match(/true|false|nan|-?inf|-?\d+\.?\d*(e[+-]\d+)?/g) ?? [];
        const expected = Array.from(a.toTypedArray());
        expect(tokens).toHaveLength(expected.length);
        tokens.forEach((token, i) => {
          if (dtype === 'bool') expect(token).toBe(expected[i] !== 0 ? 'true' : 'false');
          // Values are < 1e5 in magnitude: 4 decimals or 5 significant digits lose at most this.
          else
            expect(Math.abs(Number(token) - expected[i])).toBeLessThanOrEqual(
              0.5e-4 + 5e-5 * Math.abs(expected[i]),
            );
        });
      }),
    );
  });
});
