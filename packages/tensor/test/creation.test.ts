import * as T from '@tsgrad/tensor';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { indices, shapeArb } from './arbitraries.js';

const DTYPES: readonly T.DType[] = ['bool', 'int32', 'float32', 'float64'];
const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Nested JS arrays of `shape` holding `values` in row-major order. */
function nest(values: readonly (number | boolean)[], shape: readonly number[]): T.NestedArray {
  const build = (axis: number, start: number): T.NestedArray => {
    if (axis === shape.length) return values[start];
    const step = sizeOf(shape.slice(axis + 1));
    return Array.from({ length: shape[axis] }, (_, i) => build(axis + 1, start + i * step));
  };
  return build(0, 0);
}

/** Sizes that are not valid: negative, fractional, NaN, infinite. */
const badSizeArb = fc.oneof(
  fc.integer({ min: -5, max: -1 }),
  fc.double({ min: 0.1, max: 4.9, noNaN: true }).filter((d) => !Number.isInteger(d)),
  fc.constantFrom(Number.NaN, Infinity),
);

describe('array', () => {
  it('reads nested arrays of any shape (size-0 dims included) back unchanged', () => {
    const shapes = shapeArb({ maxRank: 4, maxDim: 3 });
    fc.assert(
      fc.property(
        shapes.chain((shape) =>
          fc.tuple(
            fc.constant(shape),
            fc.array(fc.integer({ min: -9, max: 9 }), { minLength: sizeOf(shape), maxLength: sizeOf(shape) }),
          ),
        ),
        ([shape, values]) => {
          const nested = nest(values, shape);
          const x = T.array(nested);
          // A size-0 axis hides the sizes after it: [[], []] has shape [2, 0].
          const zeroAt = shape.indexOf(0);
          const inferred = zeroAt < 0 ? shape : shape.slice(0, zeroAt + 1);
          expect(x.shape).toEqual(inferred);
          expect(x.dtype).toBe('float32');
          expect(x.toArray()).toEqual(nested);
          expect(Array.from(x.toTypedArray())).toEqual(values);
          const b = T.array(
            nest(
              values.map((v) => v > 0),
              shape,
            ),
          );
          expect(b.dtype).toBe(values.length > 0 ? 'bool' : 'float32');
        },
      ),
    );
  });

  it('rejects ragged and non-numeric nested arrays with a ValueError naming array', () => {
    const ragged: unknown[] = [
      [[1, 2], [3]],
      [1, [2]],
      [[1], 2],
      [
        [[1, 2]],
        [
          [3, 4],
          [5, 6],
        ],
      ],
      [[], [1]],
      ['a'],
      [null],
    ];
    for (const bad of ragged) {
      const run = () => T.array(bad as T.NestedArray);
      expect(run).toThrow(T.ValueError);
      expect(run).toThrow(/^array: /);
    }
  });

  it('infers bool only when every element is a boolean; dtype converts', () => {
    expect(T.array([true, false]).dtype).toBe('bool');
    expect(T.array([true, 2]).toArray()).toEqual([1, 2]);
    expect(T.array([true, 2]).dtype).toBe('float32');
    expect(T.array([1.7, -1.7, 0.5], { dtype: 'int32' }).toArray()).toEqual([1, -1, 0]);
    expect(T.array([2, 0, -1], { dtype: 'bool' }).toArray()).toEqual([true, false, true]);
    expect(T.array([0.1], { dtype: 'float64' }).item()).toBe(0.1);
    expect(T.array([0.1]).item()).toBe(Math.fround(0.1));
    expect(() => T.array([[1]], { shape: [1] })).toThrow(T.ValueError);
  });

  it('makes 0-d arrays from scalars', () => {
    expect(T.array(3).shape).toEqual([]);
    expect(T.array(3).item()).toBe(3);
    expect(T.array(true).dtype).toBe('bool');
    expect(T.scalar(2.5).dtype).toBe('float32');
    expect(T.scalar(7, { dtype: 'int32' }).toArray()).toBe(7);
    expect(T.scalar(false).item()).toBe(false);
  });

  it('takes typed arrays with their own dtype, an optional shape and a conversion', () => {
    const cases: [T.TypedArray, T.DType][] = [
      [Float32Array.of(1, 2, 3, 4, 5, 6), 'float32'],
      [Float64Array.of(1, 2, 3, 4, 5, 6), 'float64'],
      [Int32Array.of(1, 2, 3, 4, 5, 6), 'int32'],
      [Uint8Array.of(1, 0, 1, 1, 0, 1), 'bool'],
    ];
    for (const [data, dtype] of cases) {
      const flat = T.array(data);
      expect(flat.dtype).toBe(dtype);
      expect(flat.shape).toEqual([6]);
      const x = T.array(data, { shape: [2, 3] });
      expect(x.shape).toEqual([2, 3]);
      expect(Array.from(x.toTypedArray())).toEqual(Array.from(data));
      expect(() => T.array(data, { shape: [4] })).toThrow(/^array: 6 values cannot fill shape \[4\]/);
      expect(() => T.array(data, { shape: [-2, -3] })).toThrow(T.ValueError);
      for (const to of DTYPES) expect(T.array(data, { dtype: to }).dtype).toBe(to);
    }
    // The data is copied: later writes to the typed array do not show through.
    const data = Float64Array.of(1, 2);
    const x = T.array(data);
    data[0] = 9;
    expect(x.toArray()).toEqual([1, 2]);
    // Bytes other than 0/1 become true.
    expect(T.eq(T.array(Uint8Array.of(2, 0, 255)), true).toArray()).toEqual([true, false, true]);
    expect(T.sum(T.array(Uint8Array.of(2, 255))).item()).toBe(2);
    expect(T.array(Float64Array.of(1.9, -1.9), { dtype: 'int32' }).toArray()).toEqual([1, -1]);
    // No int32 value: refused instead of stored as 0 or wrapped.
    for (const v of [Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31, -(2 ** 31) - 1, 2 ** 40]) {
      expect(() => T.array(Float64Array.of(v), { dtype: 'int32' })).toThrow(T.ArithmeticError);
      expect(() => T.array([v], { dtype: 'int32' })).toThrow(/^array: .* is not representable as int32/);
      expect(() => T.full([2], v, { dtype: 'int32' })).toThrow(T.ArithmeticError);
    }
    expect(() => T.arange(2 ** 31 - 2, 2 ** 31 + 2)).toThrow(T.ArithmeticError);
    expect(T.array([2 ** 31 - 1, -(2 ** 31)], { dtype: 'int32' }).toArray()).toEqual([
      2 ** 31 - 1,
      -(2 ** 31),
    ]);
  });

  it('rejects typed arrays it cannot store', () => {
    const others = [Int16Array.of(1), Uint32Array.of(1), Int8Array.of(1), Uint8ClampedArray.of(1)];
    for (const data of others) {
      const run = () => T.array(data as unknown as Int32Array);
      expect(run).toThrow(T.DTypeError);
      expect(run).toThrow(/^array: unsupported typed array/);
    }
  });

  it('checks that the backend stores the dtype', () => {
    const float32Only: T.Backend = { ...T.cpuBackend, name: 'f32only', dtypes: ['float32'] };
    T.withBackend(float32Only, () => {
      expect(() => T.zeros([2], { dtype: 'float64' })).toThrow(
        /^zeros: the f32only backend does not support float64/,
      );
      expect(() => T.array([1], { dtype: 'int32' })).toThrow(T.DTypeError);
      expect(() => T.arange(3)).toThrow(/^arange: /);
      expect(T.ones([2]).backend).toBe(float32Only);
    });
  });
});

describe('zeros, ones, full and the *Like variants', () => {
  it('fill any shape and dtype', () => {
    fc.assert(
      fc.property(
        shapeArb(),
        fc.constantFrom(...DTYPES),
        fc.integer({ min: -3, max: 3 }),
        (shape, dtype, value) => {
          const expected = (v: number) =>
            new Array<number>(sizeOf(shape)).fill(dtype === 'bool' ? Number(v !== 0) : v);
          const z = T.zeros(shape, { dtype });
          const o = T.ones(shape, { dtype });
          const f = T.full(shape, value, { dtype });
          for (const [x, v] of [
            [z, 0],
            [o, 1],
            [f, value],
          ] as const) {
            expect(x.shape).toEqual(shape);
            expect(x.dtype).toBe(dtype);
            expect(x.isContiguous).toBe(true);
            expect(Array.from(x.toTypedArray())).toEqual(expected(v));
          }
          const base = T.full(shape, 2, { dtype });
          expect(T.zerosLike(base).dtype).toBe(dtype);
          expect(T.onesLike(base).shape).toEqual(shape);
          expect(Array.from(T.fullLike(base, value).toTypedArray())).toEqual(expected(value));
          expect(T.zerosLike(base, { dtype: 'float64' }).dtype).toBe('float64');
          expect(T.fullLike(base, 1.5, { dtype: 'float32' }).dtype).toBe('float32');
        },
      ),
      { numRuns: 40 },
    );
  });

  it('default to float32 (bool for a boolean fill value) and truncate into int32', () => {
    expect(T.zeros([2]).dtype).toBe('float32');
    expect(T.full([2], true).dtype).toBe('bool');
    expect(T.full([2], 2.7, { dtype: 'int32' }).toArray()).toEqual([2, 2]);
    expect(T.full([1], 0.1).item()).toBe(Math.fround(0.1));
  });

  it('reject negative and non-integer sizes with a ValueError naming the op', () => {
    fc.assert(
      fc.property(badSizeArb, fc.nat(2), (bad, at) => {
        const shape = [2, 3, 4];
        shape[at] = bad;
        for (const [name, make] of [
          ['zeros', () => T.zeros(shape)],
          ['ones', () => T.ones(shape)],
          ['full', () => T.full(shape, 1)],
        ] as const) {
          expect(make).toThrow(T.ValueError);
          expect(make).toThrow(new RegExp(`^${name}: invalid shape`));
        }
      }),
      { numRuns: 20 },
    );
  });
});

describe('arange', () => {
  /** np.arange: ceil((stop - start) / step) values start + i * step. */
  function refArange(start: number, stop: number, step: number): number[] {
    const n = Math.max(0, Math.ceil((stop - start) / step));
    return Array.from({ length: n }, (_, i) => start + i * step);
  }

  it('counts like np.arange for integer arguments (int32), any step sign', () => {
    const int = fc.integer({ min: -10, max: 10 });
    fc.assert(
      fc.property(
        int,
        int,
        int.filter((s) => s !== 0),
        (start, stop, step) => {
          const x = T.arange(start, stop, step);
          expect(x.dtype).toBe('int32');
          expect(x.toArray()).toEqual(refArange(start, stop, step));
        },
      ),
    );
  });

  it('gives float32 for fractional arguments', () => {
    const real = fc.double({ min: -5, max: 5, noNaN: true });
    const step = fc.oneof(
      fc.double({ min: 0.3, max: 2, noNaN: true }),
      fc.double({ min: -2, max: -0.3, noNaN: true }),
    );
    fc.assert(
      fc.property(real, real, step, (start, stop, s) => {
        const ref = refArange(start, stop, s);
        const x = T.arange(start, stop, s, { dtype: 'float64' });
        expect(x.toArray()).toEqual(ref);
        if (![start, stop, s].every(Number.isInteger)) expect(T.arange(start, stop, s).dtype).toBe('float32');
      }),
    );
  });

  it('handles one argument, empty ranges, dtype and bad steps', () => {
    expect(T.arange(5).toArray()).toEqual([0, 1, 2, 3, 4]);
    expect(T.arange(0).shape).toEqual([0]);
    expect(T.arange(-3).shape).toEqual([0]);
    expect(T.arange(3, 0).shape).toEqual([0]);
    expect(T.arange(3, 0, -1).toArray()).toEqual([3, 2, 1]);
    expect(T.arange(0, 1, 0.25).toArray()).toEqual([0, 0.25, 0.5, 0.75]);
    expect(T.arange(4, undefined, 1, { dtype: 'float64' }).dtype).toBe('float64');
    for (const bad of [0, Number.NaN, Infinity]) {
      expect(() => T.arange(0, 5, bad)).toThrow(T.ValueError);
      expect(() => T.arange(0, 5, bad)).toThrow(/^arange: step/);
    }
    expect(() => T.arange(Infinity)).toThrow(/^arange: start and stop must be finite/);
    expect(() => T.arange(0, Number.NaN)).toThrow(T.ValueError);
  });
});

describe('linspace', () => {
  it('hits both endpoints exactly and spaces evenly', () => {
    const real = fc.double({ min: -1e3, max: 1e3, noNaN: true });
    fc.assert(
      fc.property(
        real,
        real,
        fc.integer({ min: 0, max: 20 }),
        fc.constantFrom('float32', 'float64'),
        (a, b, num, dtype) => {
          const x = T.linspace(a, b, num, { dtype });
          expect(x.shape).toEqual([num]);
          expect(x.dtype).toBe(dtype);
          const v = Array.from(x.toTypedArray());
          const round = dtype === 'float32' ? Math.fround : (y: number) => y;
          if (num > 0) expect(v[0]).toBe(round(a));
          if (num > 1) expect(v[num - 1]).toBe(round(b));
          for (let i = 0; i < num; i++) {
            const ref = num === 1 ? a : a + ((b - a) * i) / (num - 1);
            expect(Math.abs(v[i] - ref)).toBeLessThanOrEqual(1e-5 * (Math.abs(a) + Math.abs(b)) + 1e-9);
          }
        },
      ),
    );
  });

  it('rejects bad counts and integer dtypes', () => {
    expect(() => T.linspace(0, 1, -1)).toThrow(T.ValueError);
    expect(() => T.linspace(0, 1, 2.5)).toThrow(/^linspace: num must be a non-negative integer/);
    expect(() => T.linspace(0, 1, 3, { dtype: 'int32' })).toThrow(T.DTypeError);
    expect(T.linspace(0, 1, 5).toArray()).toEqual([0, 0.25, 0.5, 0.75, 1]);
  });
});

describe('eye', () => {
  it('puts ones on diagonal k of an n × m matrix', () => {
    const dim = fc.integer({ min: 0, max: 5 });
    fc.assert(
      fc.property(dim, dim, fc.integer({ min: -6, max: 6 }), fc.constantFrom(...DTYPES), (n, m, k, dtype) => {
        const x = T.eye(n, m, k, { dtype });
        expect(x.shape).toEqual([n, m]);
        expect(x.dtype).toBe(dtype);
        const got = x.toTypedArray();
        let i = 0;
        for (const [r, c] of indices([n, m])) expect(got[i++]).toBe(c - r === k ? 1 : 0);
      }),
    );
    expect(T.eye(2).toArray()).toEqual([
      [1, 0],
      [0, 1],
    ]);
  });

  it('rejects negative, non-integer sizes and offsets', () => {
    expect(() => T.eye(-1)).toThrow(/^eye: invalid shape/);
    expect(() => T.eye(2, 1.5)).toThrow(T.ValueError);
    expect(() => T.eye(2, 2, 0.5)).toThrow(/^eye: diagonal offset k must be an integer/);
  });
});

describe('hostile creation arguments get typed errors naming the op', () => {
  it('unknown dtypes', () => {
    const bad = { dtype: 'float16' as T.DType };
    for (const make of [
      () => T.array([1], bad),
      () => T.array(Float32Array.of(1), bad),
      () => T.zeros([2], bad),
      () => T.ones([2], bad),
      () => T.full([2], 1, bad),
      () => T.arange(3, undefined, 1, bad),
      () => T.eye(2, 2, 0, bad),
      () => T.linspace(0, 1, 3, bad),
    ]) {
      expect(make).toThrow(T.DTypeError);
      expect(make).toThrow(/unknown dtype 'float16'/);
    }
  });

  it('sizes too large to allocate are refused before allocating', () => {
    expect(() => T.ones([1e5, 1e5])).toThrow(T.OutOfMemoryError);
    expect(() => T.ones([1e5, 1e5])).toThrow(/^full: an array of shape \[100000,100000\]/);
    expect(() => T.zeros([1e5, 1e5])).toThrow(/^zeros: /);
    expect(() => T.arange(0, 1e10)).toThrow(/^arange: .*over the limit/);
    expect(() => T.eye(1e5)).toThrow(T.OutOfMemoryError);
    expect(() => T.linspace(0, 1, 2 ** 31)).toThrow(T.OutOfMemoryError);
    const wide = T.broadcastTo(T.zeros([1, 1]), [1e5, 1e5]);
    expect(() => wide.toTypedArray()).toThrow(T.OutOfMemoryError);
    expect(() => T.add(wide, 1)).toThrow(/^add: .*over the limit/);
  });

  it('deep or self-containing nesting, and shapes that are not arrays', () => {
    let deep: T.NestedArray = 1;
    for (let i = 0; i < 20_000; i++) deep = [deep];
    expect(() => T.array(deep)).toThrow(/^array: nested arrays deeper than 64 levels/);
    const loop: T.NestedArray[] = [];
    loop.push(loop);
    expect(() => T.array(loop)).toThrow(T.ValueError);
    expect(() => T.zeros(5 as never)).toThrow(/^zeros: a shape must be an array/);
    expect(() => T.zeros(new Array(65).fill(1))).toThrow(/at most 64 dimensions/);
    expect(() => T.full([1], 'x' as never)).toThrow(T.ValueError);
  });
});
