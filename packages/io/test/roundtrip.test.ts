import { Tensor } from '@tsgrad/autograd';
import {
  decodeJsonMetadata,
  encodeJsonMetadata,
  fromBytes,
  JSON_METADATA_KEY,
  SafetensorsError,
  toBytes,
} from '@tsgrad/io';
import * as T from '@tsgrad/tensor';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesOf } from './files.js';

const roundTrip = (tensors: Record<string, T.NDArray | Tensor>, metadata?: Record<string, string>) =>
  fromBytes(toBytes(tensors, metadata));

describe('toBytes / fromBytes round trip', () => {
  it('keeps every dtype, shape and value bit-exactly', () => {
    const tensors = {
      f32: T.array([
        [1.5, -2.25, 3e-40],
        [Number.MAX_VALUE, -0, Number.POSITIVE_INFINITY],
      ]),
      f64: T.array([Math.PI, -Number.MIN_VALUE, Number.NEGATIVE_INFINITY], { dtype: 'float64' }),
      i32: T.array([-2147483648, 2147483647, 0, -1], { dtype: 'int32' }),
      mask: T.array([
        [true, false],
        [false, true],
      ]),
    };
    const { tensors: back, metadata } = roundTrip(tensors);
    expect(Object.keys(back).sort()).toEqual(['f32', 'f64', 'i32', 'mask']);
    for (const [name, original] of Object.entries(tensors)) {
      expect(back[name].dtype).toBe(original.dtype);
      expect(back[name].shape).toEqual(original.shape);
      expect(bytesOf(back[name])).toEqual(bytesOf(original));
    }
    expect(metadata).toEqual({});
  });

  it('preserves NaN payloads of float32 and float64', () => {
    const f32 = new Float32Array(new Uint32Array([0x7fc00001, 0xffa00123, 0x7f800001, 0x7fffffff]).buffer);
    const f64 = new Float64Array(new Uint32Array([0x1, 0x7ff80000, 0xdeadbeef, 0xfff7ffff]).buffer);
    const back = roundTrip({ a: T.array(f32), b: T.array(f64) }).tensors;
    expect(bytesOf(back.a)).toEqual(Array.from(new Uint8Array(f32.buffer)));
    expect(bytesOf(back.b)).toEqual(Array.from(new Uint8Array(f64.buffer)));
  });

  it('handles 0-d and size-0 tensors of every dtype', () => {
    const tensors = {
      scalar: T.scalar(7, { dtype: 'int32' }),
      flag: T.scalar(true),
      pi: T.scalar(Math.PI, { dtype: 'float64' }),
      empty: T.zeros([0]),
      empty2: T.zeros([3, 0, 2], { dtype: 'float64' }),
      emptyInt: T.zeros([0, 5], { dtype: 'int32' }),
      emptyBool: T.zeros([0], { dtype: 'bool' }),
    };
    const back = roundTrip(tensors).tensors;
    for (const [name, original] of Object.entries(tensors)) {
      expect(back[name].shape).toEqual(original.shape);
      expect(back[name].dtype).toBe(original.dtype);
      expect(back[name].toArray()).toEqual(original.toArray());
    }
  });

  it('writes autograd Tensors by value and non-contiguous views in row-major order', () => {
    const weight = new Tensor(
      T.array([
        [1, 2, 3],
        [4, 5, 6],
      ]),
      { requiresGrad: true },
    );
    const view = T.transpose(
      T.array(
        [
          [1, 2, 3],
          [4, 5, 6],
        ],
        { dtype: 'int32' },
      ),
    );
    const back = roundTrip({ weight, view }).tensors;
    expect(back.weight.toArray()).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(back.view.toArray()).toEqual([
      [1, 4],
      [2, 5],
      [3, 6],
    ]);
  });

  it('round-trips metadata, an empty dict and arbitrary names (dotted, unicode, __proto__)', () => {
    const names = [
      'layers.0.weight',
      'layers.10.bias',
      '',
      ' spaced name ',
      'ünï💡',
      '"quoted"\\',
      '__proto__',
      '0',
    ];
    const tensors: Record<string, T.NDArray> = {};
    names.forEach((name, i) => {
      Object.defineProperty(tensors, name, { value: T.full([i], i), enumerable: true });
    });
    const metadata = { format: 'pt', note: 'multi\nline "text" ✓', __proto__x: '' };
    const back = roundTrip(tensors, metadata);
    expect(Object.keys(back.tensors).sort()).toEqual([...names].sort());
    names.forEach((name, i) => {
      expect(Object.hasOwn(back.tensors, name)).toBe(true);
      expect(back.tensors[name].toArray()).toEqual(new Array(i).fill(i));
    });
    expect(back.metadata).toEqual(metadata);
    expect(roundTrip({})).toEqual({ tensors: {}, metadata: {} });
  });

  it('stores JSON values under the "tsgrad.json" metadata convention', () => {
    const meta = { step: 12, groups: [{ lr: 1e-3, betas: [0.9, 0.999] }] };
    const encoded = encodeJsonMetadata(meta);
    expect(Object.keys(encoded)).toEqual([JSON_METADATA_KEY]);
    const back = roundTrip({ 'state.0.exp_avg': T.zeros([2]) }, { ...encoded, format: 'pt' });
    expect(decodeJsonMetadata(back.metadata)).toEqual(meta);
    expect(decodeJsonMetadata({})).toBeUndefined();
    expect(() => decodeJsonMetadata({ [JSON_METADATA_KEY]: '{' })).toThrow(/not valid JSON/);
    expect(() => encodeJsonMetadata(undefined)).toThrow(/cannot encode/);
  });

  it('rejects what it cannot write', () => {
    expect(() => toBytes({ __metadata__: T.zeros([1]) })).toThrow(/reserved/);
    expect(() => toBytes({ x: [1, 2] as unknown as T.NDArray })).toThrow(/not a Tensor or an NDArray/);
    expect(() => toBytes({ '\ud800': T.zeros([1]) })).toThrow(/lone surrogate/);
    expect(() => toBytes({}, { k: 5 as unknown as string })).toThrow(/must be a string/);
  });

  it('property: any dict of arrays round-trips bit-exactly', () => {
    const dtype = fc.constantFrom<T.DType>('float32', 'float64', 'int32', 'bool');
    const shape = fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 });
    const entry = fc.tuple(dtype, shape, fc.integer()).map(([d, s, seed]) => {
      const size = s.reduce((a, b) => a * b, 1);
      const raw = new Uint8Array(size * { float32: 4, float64: 8, int32: 4, bool: 1 }[d]);
      for (let i = 0; i < raw.length; i++) raw[i] = (seed * 31 + i * 17) & 0xff;
      const typed =
        d === 'float32'
          ? new Float32Array(raw.buffer)
          : d === 'float64'
            ? new Float64Array(raw.buffer)
            : d === 'int32'
              ? new Int32Array(raw.buffer)
              : raw.map((b) => b & 1);
      return T.array(typed, { shape: s, dtype: d });
    });
    fc.assert(
      fc.property(
        fc.dictionary(fc.string(), entry, { maxKeys: 6 }),
        fc.dictionary(fc.string(), fc.string()),
        (dict, meta) => {
          fc.pre(!('__metadata__' in dict));
          const back = roundTrip(dict, meta);
          expect(Object.keys(back.tensors).sort()).toEqual(Object.keys(dict).sort());
          for (const [name, original] of Object.entries(dict)) {
            expect(back.tensors[name].dtype).toBe(original.dtype);
            expect(back.tensors[name].shape).toEqual(original.shape);
            expect(bytesOf(back.tensors[name])).toEqual(bytesOf(original));
          }
          expect({ ...back.metadata }).toEqual({ ...meta });
        },
      ),
    );
  });

  it('throws SafetensorsError, a TsgradError subclass with offset and file', () => {
    const error = new SafetensorsError('bad', 12, 'x.safetensors');
    expect(error).toBeInstanceOf(T.TsgradError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('SafetensorsError');
    expect(error.message).toBe('safetensors: x.safetensors: bad (at byte offset 12)');
  });
});
