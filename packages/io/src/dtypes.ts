import type { DType, TypedArray } from '@tsgrad/tensor';
import { toFromLittleEndian } from './endian.js';
import { bfloat16ToFloat32Bits, float16ToFloat32Bits } from './half.js';

/**
 * Decodes `count` elements from `bytes` (a private, zero-offset copy of the tensor's data, in
 * file byte order). `reject(detail, element)` reports an element tsgrad cannot represent.
 */
type Decode = (
  bytes: Uint8Array,
  count: number,
  reject: (detail: string, element: number) => never,
) => TypedArray;

interface SafetensorsDType {
  /** Bytes per element. */
  readonly size: number;
  /** The tsgrad dtype the values are read as. */
  readonly dtype: DType;
  readonly decode: Decode;
}

const INT32_MAX = 0x7fffffff;

function intsFrom(
  bytes: Uint8Array,
  count: number,
  size: number,
  read: (view: DataView, at: number) => number,
): Int32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) out[i] = read(view, i * size);
  return out;
}

/** 64-bit integers fit int32 only when the high word is the sign extension of the low word. */
function int64sFrom(
  bytes: Uint8Array,
  count: number,
  signed: boolean,
  reject: Parameters<Decode>[2],
): Int32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const low = view.getInt32(8 * i, true);
    const high = view.getInt32(8 * i + 4, true);
    if (high !== (low < 0 ? -1 : 0) || (!signed && low < 0)) {
      const value = signed ? view.getBigInt64(8 * i, true) : view.getBigUint64(8 * i, true);
      reject(`value ${value} does not fit in int32`, i);
    }
    out[i] = low;
  }
  return out;
}

function floatsFrom16(bytes: Uint8Array, count: number, toBits: (half: number) => number): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(count);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < count; i++) bits[i] = toBits(view.getUint16(2 * i, true));
  return out;
}

/**
 * The safetensors dtypes tsgrad reads. Integers become int32 (64-bit and unsigned 32-bit ones
 * only when every value fits); 16-bit floats become float32, exactly.
 */
export const READABLE_DTYPES: Readonly<Record<string, SafetensorsDType>> = {
  F64: {
    size: 8,
    dtype: 'float64',
    decode: (b, n) => new Float64Array(toFromLittleEndian(b, 8).buffer, 0, n),
  },
  F32: {
    size: 4,
    dtype: 'float32',
    decode: (b, n) => new Float32Array(toFromLittleEndian(b, 4).buffer, 0, n),
  },
  F16: { size: 2, dtype: 'float32', decode: (b, n) => floatsFrom16(b, n, float16ToFloat32Bits) },
  BF16: { size: 2, dtype: 'float32', decode: (b, n) => floatsFrom16(b, n, bfloat16ToFloat32Bits) },
  I64: { size: 8, dtype: 'int32', decode: (b, n, reject) => int64sFrom(b, n, true, reject) },
  U64: { size: 8, dtype: 'int32', decode: (b, n, reject) => int64sFrom(b, n, false, reject) },
  I32: { size: 4, dtype: 'int32', decode: (b, n) => new Int32Array(toFromLittleEndian(b, 4).buffer, 0, n) },
  U32: {
    size: 4,
    dtype: 'int32',
    decode: (b, n, reject) =>
      intsFrom(b, n, 4, (view, at) => {
        const value = view.getUint32(at, true);
        return value > INT32_MAX ? reject(`value ${value} does not fit in int32`, at / 4) : value;
      }),
  },
  I16: {
    size: 2,
    dtype: 'int32',
    decode: (b, n) => intsFrom(b, n, 2, (view, at) => view.getInt16(at, true)),
  },
  U16: {
    size: 2,
    dtype: 'int32',
    decode: (b, n) => intsFrom(b, n, 2, (view, at) => view.getUint16(at, true)),
  },
  I8: { size: 1, dtype: 'int32', decode: (b, n) => new Int32Array(new Int8Array(b.buffer, 0, n)) },
  U8: { size: 1, dtype: 'int32', decode: (b, n) => new Int32Array(b.subarray(0, n)) },
  BOOL: {
    size: 1,
    dtype: 'bool',
    decode: (b, n, reject) => {
      for (let i = 0; i < n; i++) if (b[i] > 1) reject(`bool byte ${b[i]} is neither 0 nor 1`, i);
      return b.subarray(0, n);
    },
  },
};

/** What each tsgrad dtype is written as. */
export const WRITTEN_DTYPES: Readonly<Record<DType, { readonly name: string; readonly size: number }>> = {
  float64: { name: 'F64', size: 8 },
  float32: { name: 'F32', size: 4 },
  int32: { name: 'I32', size: 4 },
  bool: { name: 'BOOL', size: 1 },
};

/**
 * The reference implementation writes tensors by descending dtype alignment, then by name, so
 * every tensor's data stays aligned to its element size. Ranks as in its dtype enum.
 */
export const WRITE_RANK: Readonly<Record<DType, number>> = { float64: 12, float32: 11, int32: 9, bool: 0 };
