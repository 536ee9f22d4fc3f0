import * as T from '@tsgrad/tensor';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

// The promotion table and dtype helpers of src/dtype.ts, restated literally.

const PROMOTION: Record<T.DType, Record<T.DType, T.DType>> = {
  bool: { bool: 'bool', int32: 'int32', float32: 'float32', float64: 'float64' },
  int32: { bool: 'int32', int32: 'int32', float32: 'float32', float64: 'float64' },
  float32: { bool: 'float32', int32: 'float32', float32: 'float32', float64: 'float64' },
  float64: { bool: 'float64', int32: 'float64', float32: 'float64', float64: 'float64' },
};
const dtypeArb = fc.constantFrom(...T.DTYPES);

describe('promoteTypes', () => {
  it('follows the documented table for every pair', () => {
    expect([...T.DTYPES].sort()).toEqual(['bool', 'float32', 'float64', 'int32']);
    for (const a of T.DTYPES) for (const b of T.DTYPES) expect(T.promoteTypes(a, b)).toBe(PROMOTION[a][b]);
  });

  it('is commutative, associative and idempotent', () => {
    fc.assert(
      fc.property(dtypeArb, dtypeArb, dtypeArb, (a, b, c) => {
        expect(T.promoteTypes(a, b)).toBe(T.promoteTypes(b, a));
        expect(T.promoteTypes(T.promoteTypes(a, b), c)).toBe(T.promoteTypes(a, T.promoteTypes(b, c)));
        expect(T.promoteTypes(a, a)).toBe(a);
      }),
    );
  });

  it('resultType of any number of arrays folds the table, with weak scalars applied last', () => {
    fc.assert(
      fc.property(fc.array(dtypeArb, { minLength: 1, maxLength: 4 }), (dtypes) => {
        const arrays = dtypes.map((dtype) => T.zeros([1], { dtype }));
        const promoted = dtypes.reduce((a, b) => PROMOTION[a][b]);
        expect(T.resultType(...arrays)).toBe(promoted);
        // A weak bool never changes the dtype; a weak float only lifts bool/int32 to float32.
        expect(T.resultType(...arrays, true)).toBe(promoted);
        const floatKind = promoted === 'float64' ? 'float64' : 'float32';
        expect(T.resultType(0.5, ...arrays)).toBe(floatKind);
        expect(T.resultType(...arrays, 3)).toBe(promoted === 'bool' ? 'int32' : promoted);
      }),
    );
    expect(T.resultType(true)).toBe('bool');
    expect(T.resultType(1)).toBe('int32');
    expect(T.resultType(1.5)).toBe('float32');
    expect(T.resultType(true, 1)).toBe('int32');
  });
});

describe('dtype helpers', () => {
  it('isFloat and toFloat', () => {
    expect(T.DTYPES.filter(T.isFloat)).toEqual(['float32', 'float64']);
    expect(T.DTYPES.map(T.toFloat)).toEqual(['float32', 'float32', 'float32', 'float64']);
  });

  it('allocTyped gives zeroed host storage of the right class', () => {
    const classes = { bool: Uint8Array, int32: Int32Array, float32: Float32Array, float64: Float64Array };
    for (const dtype of T.DTYPES) {
      const data = T.allocTyped(dtype, 3);
      expect(data).toBeInstanceOf(classes[dtype]);
      expect(Array.from(data)).toEqual([0, 0, 0]);
      expect(T.dtypeOfTyped(data)).toBe(dtype);
    }
  });

  it('dtypeOfTyped rejects typed arrays with no dtype', () => {
    for (const data of [Int16Array.of(1), Uint16Array.of(1), Float32Array.of(1)]) {
      const run = () => T.dtypeOfTyped(data as T.TypedArray);
      if (data instanceof Float32Array) expect(run()).toBe('float32');
      else expect(run).toThrow(/^array: unsupported typed array (Int16Array|Uint16Array)/);
    }
  });

  it('each array reports the dtype it stores, through views and ops', () => {
    for (const dtype of T.DTYPES) {
      const x = T.ones([2, 3], { dtype });
      expect(x.dtype).toBe(dtype);
      expect(T.transpose(x).dtype).toBe(dtype);
      expect(T.slice(x, [0]).toTypedArray()).toBeInstanceOf(T.allocTyped(dtype, 0).constructor);
      expect(T.cast(x, 'float64').dtype).toBe('float64');
    }
  });
});
