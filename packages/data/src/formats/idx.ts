// The IDX format of MNIST (LeCun et al.): 0x00 0x00, a type code, the number of dimensions,
// one big-endian int32 per dimension, then the elements, big-endian, in row-major order.
import {
  allocTyped,
  array,
  checkArray,
  checkRecord,
  type DType,
  describe,
  type NDArray,
  type TypedArray,
  ValueError,
} from '@tsgrad/tensor';
import { type Fail, failIn } from '../errors.js';
import { checkBytes } from '../validate.js';

/** The element types an IDX file can store (its type byte). */
export type IdxType = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

interface IdxCodec {
  readonly code: number;
  readonly size: number;
  read(view: DataView, at: number): number;
  write(view: DataView, at: number, value: number): void;
  /** The range of values the type stores exactly (integers only for integer types). */
  readonly range?: readonly [number, number];
}

const CODECS: Record<IdxType, IdxCodec> = {
  uint8: {
    code: 0x08,
    size: 1,
    read: (v, at) => v.getUint8(at),
    write: (v, at, x) => v.setUint8(at, x),
    range: [0, 255],
  },
  int8: {
    code: 0x09,
    size: 1,
    read: (v, at) => v.getInt8(at),
    write: (v, at, x) => v.setInt8(at, x),
    range: [-128, 127],
  },
  int16: {
    code: 0x0b,
    size: 2,
    read: (v, at) => v.getInt16(at),
    write: (v, at, x) => v.setInt16(at, x),
    range: [-32768, 32767],
  },
  int32: {
    code: 0x0c,
    size: 4,
    read: (v, at) => v.getInt32(at),
    write: (v, at, x) => v.setInt32(at, x),
    range: [-(2 ** 31), 2 ** 31 - 1],
  },
  float32: {
    code: 0x0d,
    size: 4,
    read: (v, at) => v.getFloat32(at),
    write: (v, at, x) => v.setFloat32(at, x),
  },
  float64: {
    code: 0x0e,
    size: 8,
    read: (v, at) => v.getFloat64(at),
    write: (v, at, x) => v.setFloat64(at, x),
  },
};

const TYPE_OF_CODE = new Map(Object.entries(CODECS).map(([type, c]) => [c.code, type as IdxType]));

/** The dtype an IDX type is read as by default: integers as int32, floats as themselves. */
export const DEFAULT_IDX_DTYPE: Record<IdxType, DType> = {
  uint8: 'int32',
  int8: 'int32',
  int16: 'int32',
  int32: 'int32',
  float32: 'float32',
  float64: 'float64',
};

export interface IdxHeader {
  readonly type: IdxType;
  readonly shape: number[];
  /** The byte offset where the elements start. */
  readonly dataOffset: number;
}

const hex = (b: number) => `0x${b.toString(16).padStart(2, '0')}`;

/**
 * The total size (header and data, in bytes) that the IDX header at the start of `head`
 * declares, or undefined if `head` does not start with a well-formed header (then
 * `readIdxHeader` on the whole data says what is wrong).
 */
export function declaredIdxSize(head: Uint8Array): number | undefined {
  const type = TYPE_OF_CODE.get(head[2]);
  const ndim = head[3] ?? 0;
  const dataOffset = 4 + 4 * ndim;
  if (head[0] !== 0 || head[1] !== 0 || type === undefined || ndim === 0 || head.length < dataOffset)
    return undefined;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const shape = Array.from({ length: ndim }, (_, i) => view.getInt32(4 + 4 * i));
  return shape.some((d) => d < 0) ? undefined : dataOffset + dataBytes(type, shape);
}

const dataBytes = (type: IdxType, shape: readonly number[]) =>
  shape.reduce((p, d) => p * d, 1) * CODECS[type].size;

/** Reads and checks the header, and checks that the data has exactly the size the dims give. */
export function readIdxHeader(bytes: Uint8Array, fail: Fail): IdxHeader {
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    fail('the data is gzip-compressed; decompress it first (readIdx from @tsgrad/data/node does)', 0);
  }
  if (bytes.length < 4)
    fail(`the file has ${bytes.length} bytes, too few for the 4-byte IDX magic number`, bytes.length);
  for (const at of [0, 1]) {
    if (bytes[at] !== 0) {
      fail(
        `bad magic number ${[...bytes.subarray(0, 4)].map(hex).join(' ')}: IDX data starts with two zero bytes`,
        at,
      );
    }
  }
  const type = TYPE_OF_CODE.get(bytes[2]);
  if (type === undefined) {
    fail(
      `unknown IDX type code ${hex(bytes[2])} (expected 0x08 uint8, 0x09 int8, 0x0b int16, 0x0c int32, 0x0d float32 or 0x0e float64)`,
      2,
    );
  }
  const ndim = bytes[3];
  if (ndim === 0) fail('the header declares 0 dimensions', 3);
  const dataOffset = 4 + 4 * ndim;
  if (bytes.length < dataOffset) {
    fail(
      `the header declares ${ndim} dimensions (${dataOffset} header bytes), but the data ends first`,
      bytes.length,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape = Array.from({ length: ndim }, (_, i) => {
    const d = view.getInt32(4 + 4 * i);
    if (d < 0) fail(`dimension ${i} is negative (${d})`, 4 + 4 * i);
    return d;
  });
  const expected = dataBytes(type, shape);
  const available = bytes.length - dataOffset;
  const described = `dims [${shape.join(',')}] of ${type} need ${expected} data bytes after the ${dataOffset}-byte header`;
  if (available < expected) fail(`truncated data: ${described}, but only ${available} follow`, bytes.length);
  if (available > expected)
    fail(`${available - expected} bytes after the data: ${described}`, dataOffset + expected);
  return { type, shape, dataOffset };
}

/** The elements of the first `count` rows (along axis 0) as a new typed array of `dtype`. */
export function readIdxData(
  bytes: Uint8Array,
  header: IdxHeader,
  dtype: DType,
  count = header.shape[0],
): TypedArray {
  const codec = CODECS[header.type];
  const rowSize = header.shape.slice(1).reduce((p, d) => p * d, 1);
  const n = count * rowSize;
  const out = allocTyped(dtype, n);
  const start = header.dataOffset;
  if (header.type === 'uint8' && dtype !== 'bool') {
    out.set(bytes.subarray(start, start + n));
    return out;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < n; i++) {
    const value = codec.read(view, start + i * codec.size);
    out[i] = dtype === 'bool' ? Number(value !== 0) : value;
  }
  return out;
}

/** Options of `parseIdx`. */
export interface ParseIdxOptions {
  /** The file the bytes came from, named in errors. */
  readonly file?: string;
  /** The dtype of the result (default: int32 for integer types, float32/float64 for floats). */
  readonly dtype?: DType;
}

/** Parses uncompressed IDX bytes; malformed data throws DataFormatError with its byte offset. */
export function parseIdx(bytes: Uint8Array, options: ParseIdxOptions = {}): NDArray {
  checkBytes('parseIdx', bytes);
  checkRecord('parseIdx', 'options', options);
  const header = readIdxHeader(bytes, failIn('idx', options.file));
  const dtype = options.dtype ?? DEFAULT_IDX_DTYPE[header.type];
  return array(readIdxData(bytes, header, dtype), { shape: header.shape, dtype });
}

/** Options of `encodeIdx`. */
export interface EncodeIdxOptions {
  /** The element type stored (default: int32 for int32, uint8 for bool, the float for floats). */
  readonly type?: IdxType;
}

/** The IDX bytes of `x`. Values must fit the type (integers in range for integer types). */
export function encodeIdx(x: NDArray, options: EncodeIdxOptions = {}): Uint8Array {
  checkArray('encodeIdx', x, 'x');
  checkRecord('encodeIdx', 'options', options);
  const type = options.type ?? (x.dtype === 'bool' ? 'uint8' : x.dtype);
  const codec = typeof type === 'string' && Object.hasOwn(CODECS, type) ? CODECS[type] : undefined;
  if (codec === undefined) throw new ValueError('encodeIdx', `unknown IDX type ${describe(type)}`);
  if (x.ndim === 0 || x.ndim > 255) {
    throw new ValueError('encodeIdx', `IDX holds 1 to 255 dimensions, got shape [${x.shape.join(',')}]`);
  }
  const values = x.toTypedArray();
  const out = new Uint8Array(4 + 4 * x.ndim + values.length * codec.size);
  const view = new DataView(out.buffer);
  out[2] = codec.code;
  out[3] = x.ndim;
  x.shape.forEach((d, i) => {
    view.setInt32(4 + 4 * i, d);
  });
  const start = 4 + 4 * x.ndim;
  values.forEach((v, i) => {
    if (codec.range !== undefined && !(Number.isInteger(v) && v >= codec.range[0] && v <= codec.range[1])) {
      throw new ValueError('encodeIdx', `value ${v} at flat index ${i} does not fit IDX type ${type}`);
    }
    codec.write(view, start + i * codec.size, v);
  });
  return out;
}
