import { parseNpy } from '@tsgrad/data';
import { readNpy } from '@tsgrad/data/node';
import { describe, expect, it } from 'vitest';
import { expectFormatError, tempDir, values, writeBytes } from './helpers.js';

const dir = tempDir('npy');

/**
 * An NPY file as the format spec describes it: "\x93NUMPY", version bytes, the header length
 * (uint16 LE for v1, uint32 LE for v2/v3), the dict padded with spaces and ended by "\n" so
 * that the data starts at a multiple of 64, then the data.
 */
function npy(dict: string, data: Uint8Array, version = 1): Uint8Array {
  const prefix = version === 1 ? 10 : 12;
  const encoded = new TextEncoder().encode(dict);
  const padded = Math.ceil((prefix + encoded.length + 1) / 64) * 64 - prefix;
  const header = new Uint8Array(padded).fill(0x20);
  header.set(encoded);
  header[padded - 1] = 0x0a;
  const out = new Uint8Array(prefix + padded + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, padded, true);
  else view.setUint32(8, padded, true);
  out.set(header, prefix);
  out.set(data, prefix + padded);
  return out;
}

/** Element bytes written with DataView setters in the given byte order. */
function elements(
  kind: 'f4' | 'f8' | 'i4' | 'i8' | 'u1' | 'b1' | 'i2',
  values: number[],
  little = true,
): Uint8Array {
  const size = { f4: 4, f8: 8, i4: 4, i8: 8, u1: 1, b1: 1, i2: 2 }[kind];
  const out = new Uint8Array(values.length * size);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => {
    const at = i * size;
    if (kind === 'f4') view.setFloat32(at, v, little);
    else if (kind === 'f8') view.setFloat64(at, v, little);
    else if (kind === 'i4') view.setInt32(at, v, little);
    else if (kind === 'i8') view.setBigInt64(at, BigInt(v), little);
    else if (kind === 'i2') view.setInt16(at, v, little);
    else view.setUint8(at, v);
  });
  return out;
}

const dict = (descr: string, shape: string, fortran = 'False') =>
  `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': ${shape}, }`;

describe('NPY reading', () => {
  it('reads the common dtypes in both byte orders', () => {
    const cases = [
      { descr: '<f4', kind: 'f4', data: [1.5, -2, 0.25, 8], dtype: 'float32' },
      { descr: '>f4', kind: 'f4', data: [1.5, -2, 0.25, 8], dtype: 'float32' },
      { descr: '<f8', kind: 'f8', data: [Math.PI, -1e300, 0, 5e-324], dtype: 'float64' },
      { descr: '>f8', kind: 'f8', data: [Math.E, 1, 2, 3], dtype: 'float64' },
      { descr: '<i4', kind: 'i4', data: [-(2 ** 31), -1, 7, 2 ** 31 - 1], dtype: 'int32' },
      { descr: '>i4', kind: 'i4', data: [1, -2, 3, -4], dtype: 'int32' },
      { descr: '<i8', kind: 'i8', data: [-5, 0, 2 ** 31 - 1, 42], dtype: 'int32' },
      { descr: '>i8', kind: 'i8', data: [5, 6, 7, -8], dtype: 'int32' },
      { descr: '<i2', kind: 'i2', data: [-300, 300, 1, 0], dtype: 'int32' },
      { descr: '|u1', kind: 'u1', data: [0, 1, 200, 255], dtype: 'int32' },
      { descr: '|b1', kind: 'b1', data: [1, 0, 0, 1], dtype: 'bool' },
    ] as const;
    for (const { descr, kind, data, dtype } of cases) {
      const bytes = npy(dict(descr, '(2, 2)'), elements(kind, [...data], descr[0] !== '>'));
      const path = writeBytes(
        dir,
        `${descr.replace(/[<>|]/, (c) => ({ '<': 'le', '>': 'be', '|': 'na' })[c]!)}.npy`,
        bytes,
      );
      const x = readNpy(path);
      expect(x.dtype, descr).toBe(dtype);
      expect(x.shape).toEqual([2, 2]);
      expect(values(x), descr).toEqual([...data]);
    }
  });

  it('reads versions 2 and 3, 0-d and 1-d shapes, and double-quoted headers', () => {
    const v2 = parseNpy(npy(dict('<f4', '(3,)'), elements('f4', [1, 2, 3]), 2));
    expect(v2.shape).toEqual([3]);
    const v3 = parseNpy(npy(`{"descr": "<i4", "fortran_order": False, "shape": ()}`, elements('i4', [9]), 3));
    expect(v3.shape).toEqual([]);
    expect(v3.item()).toBe(9);
    const empty = parseNpy(npy(dict('<f8', '(0, 5)'), new Uint8Array()));
    expect(empty.shape).toEqual([0, 5]);
  });

  it('transposes Fortran-order data into row-major order', () => {
    // The 2 × 3 matrix [[1, 2, 3], [4, 5, 6]] stored column by column.
    const x = parseNpy(npy(dict('<i4', '(2, 3)', 'True'), elements('i4', [1, 4, 2, 5, 3, 6])));
    expect(x.toArray()).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const cube = parseNpy(npy(dict('<f4', '(2, 2, 2)', 'True'), elements('f4', [0, 4, 2, 6, 1, 5, 3, 7])));
    expect(values(cube)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });
});

describe('malformed NPY files', () => {
  const good = npy(dict('<f4', '(2,)'), elements('f4', [1, 2]));

  it('rejects a bad magic string and an unknown version', () => {
    const bad = good.slice();
    bad[3] = 0x4e;
    const path = writeBytes(dir, 'magic.npy', bad);
    expectFormatError(() => readNpy(path), path, 3, /bad magic string/);
    const version = good.slice();
    version[6] = 4;
    const v4 = writeBytes(dir, 'v4.npy', version);
    expectFormatError(() => readNpy(v4), v4, 6, /unsupported NPY format version 4\.0/);
  });

  it('rejects headers that are cut short, malformed or missing keys', () => {
    const short = writeBytes(dir, 'short.npy', good.subarray(0, 40));
    expectFormatError(
      () => readNpy(short),
      short,
      40,
      /the header is 118 bytes long, but the file ends first/,
    );
    const garbledText = `{'descr': '<f4', 'fortran_order': False 'shape': (2,)}`;
    const garbled = writeBytes(dir, 'garbled.npy', npy(garbledText, elements('f4', [1, 2])));
    // The error points at the quote that opens 'shape' (the header starts at byte 10).
    const at = 10 + garbledText.indexOf("'shape'");
    expectFormatError(() => readNpy(garbled), garbled, at, /expected ',' or '}', found '''/);
    const missing = writeBytes(
      dir,
      'missing.npy',
      npy(`{'descr': '<f4', 'shape': (2,)}`, elements('f4', [1, 2])),
    );
    expectFormatError(
      () => readNpy(missing),
      missing,
      10,
      /exactly the keys descr, fortran_order and shape, got descr, shape/,
    );
    const unterminated = parseNpyError(npy(`{'descr': '<f4`, new Uint8Array()));
    expect(unterminated.message).toMatch(/unterminated string/);
  });

  it('rejects unsupported dtypes and bad shapes at the value in the header', () => {
    const text = dict('<U8', '(2,)');
    const path = writeBytes(dir, 'unicode.npy', npy(text, new Uint8Array(64)));
    expectFormatError(() => readNpy(path), path, 10 + text.indexOf("'<U8'"), /unsupported dtype '<U8'/);
    const shapeText = dict('<f4', '[2, -1]');
    const bad = writeBytes(dir, 'shape.npy', npy(shapeText, new Uint8Array()));
    expectFormatError(
      () => readNpy(bad),
      bad,
      10 + shapeText.indexOf('[2'),
      /shape is not a tuple of non-negative integers/,
    );
  });

  it('rejects data that is truncated or longer than the shape says', () => {
    const truncated = writeBytes(dir, 'truncated.npy', good.subarray(0, good.length - 1));
    expectFormatError(
      () => readNpy(truncated),
      truncated,
      good.length - 1,
      /truncated data: shape \(2\) of 4-byte elements needs 8 data bytes, but only 7/,
    );
    const longer = new Uint8Array(good.length + 4);
    longer.set(good);
    const extra = writeBytes(dir, 'extra.npy', longer);
    expectFormatError(() => readNpy(extra), extra, good.length, /4 bytes after the data/);
  });

  it('rejects 64-bit integers that do not fit int32, at the element', () => {
    const bytes = npy(dict('<i8', '(2,)'), elements('i8', [1, 2 ** 40]));
    const path = writeBytes(dir, 'big.npy', bytes);
    expectFormatError(
      () => readNpy(path),
      path,
      bytes.length - 8,
      /integer 1099511627776 does not fit int32/,
    );
  });
});

function parseNpyError(bytes: Uint8Array): Error {
  try {
    parseNpy(bytes);
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected parseNpy to throw');
}
