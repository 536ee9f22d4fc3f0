import { writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { encodeIdx, parseIdx } from '@tsgrad/data';
import { readIdx, writeIdx } from '@tsgrad/data/node';
import * as T from '@tsgrad/tensor';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectFormatError, tempDir, values, writeBytes } from './helpers.js';

const dir = tempDir('idx');

/** IDX bytes written by hand: magic, type code, dims, then big-endian elements. */
function idxBytes(code: number, dims: number[], data: number[], size: number): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length * size);
  const view = new DataView(out.buffer);
  out.set([0, 0, code, dims.length]);
  dims.forEach((d, i) => {
    view.setInt32(4 + 4 * i, d);
  });
  const at = 4 + 4 * dims.length;
  data.forEach((v, i) => {
    if (size === 1) out[at + i] = v & 0xff;
    else if (code === 0x0b) view.setInt16(at + 2 * i, v);
    else if (code === 0x0c) view.setInt32(at + 4 * i, v);
    else if (code === 0x0d) view.setFloat32(at + 4 * i, v);
    else view.setFloat64(at + 8 * i, v);
  });
  return out;
}

describe('IDX reading', () => {
  it('reads every element type, big-endian, as hand-written files', () => {
    const cases = [
      { code: 0x08, size: 1, data: [0, 7, 255, 128], dtype: 'int32' },
      { code: 0x09, size: 1, data: [-128, -1, 0, 127], dtype: 'int32' },
      { code: 0x0b, size: 2, data: [-32768, -2, 300, 32767], dtype: 'int32' },
      { code: 0x0c, size: 4, data: [-(2 ** 31), -5, 70000, 2 ** 31 - 1], dtype: 'int32' },
      { code: 0x0d, size: 4, data: [1.5, -2.25, 0, 1e-3], dtype: 'float32' },
      { code: 0x0e, size: 8, data: [Math.PI, -1e300, 0, 5e-324], dtype: 'float64' },
    ];
    for (const { code, size, data, dtype } of cases) {
      const path = writeBytes(dir, `type-${code}.idx`, idxBytes(code, [2, 2], data, size));
      const x = readIdx(path);
      expect(x.dtype).toBe(dtype);
      expect(x.shape).toEqual([2, 2]);
      expect(values(x)).toEqual(dtype === 'float32' ? data.map(Math.fround) : data);
    }
  });

  it('reads the same array from a gzip file and can convert the dtype', () => {
    const bytes = idxBytes(0x08, [3, 1, 2], [1, 2, 3, 4, 5, 6], 1);
    const path = writeBytes(dir, 'images.idx.gz', gzipSync(bytes));
    const x = readIdx(path, { dtype: 'float32' });
    expect(x.dtype).toBe('float32');
    expect(x.shape).toEqual([3, 1, 2]);
    expect(values(x)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(values(parseIdx(bytes))).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('round-trips arrays through writeIdx / readIdx, plain and gzip', () => {
    const dtypes = ['float32', 'float64', 'int32'] as const;
    fc.assert(
      fc.property(
        fc.constantFrom(...dtypes),
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }),
        fc.boolean(),
        fc.integer(),
        (dtype, shape, gzip, seed) => {
          const key = T.random.key(seed);
          const x =
            dtype === 'int32'
              ? T.random.randint(key, shape, -1000, 1000)
              : T.random.normal(key, shape, { dtype });
          const path = `${dir}/roundtrip.idx${gzip ? '.gz' : ''}`;
          writeIdx(path, x);
          const y = readIdx(path);
          expect(y.dtype).toBe(dtype);
          expect(y.shape).toEqual(shape);
          expect(values(y)).toEqual(values(x));
        },
      ),
      { numRuns: 30 },
    );
    const bytes = T.array(Int32Array.from([0, 200, 255]));
    writeIdx(`${dir}/u8.idx`, bytes, { type: 'uint8' });
    expect(values(readIdx(`${dir}/u8.idx`))).toEqual([0, 200, 255]);
    expect(() => encodeIdx(T.array(Int32Array.from([256])), { type: 'uint8' })).toThrow(
      /256 .* does not fit IDX type uint8/,
    );
  });
});

describe('malformed IDX files', () => {
  const good = idxBytes(0x08, [2, 3], [1, 2, 3, 4, 5, 6], 1);

  it('rejects a bad magic number at the offending byte', () => {
    const bad = good.slice();
    bad[1] = 0x08;
    const path = writeBytes(dir, 'bad-magic.idx', bad);
    expectFormatError(() => readIdx(path), path, 1, /bad magic number 0x00 0x08 0x08 0x02/);
    const tiny = writeBytes(dir, 'tiny.idx', new Uint8Array([0, 0]));
    expectFormatError(() => readIdx(tiny), tiny, 2, /too few for the 4-byte IDX magic/);
  });

  it('rejects an unknown type code and a header cut short', () => {
    const bad = good.slice();
    bad[2] = 0x0a;
    const path = writeBytes(dir, 'bad-type.idx', bad);
    expectFormatError(() => readIdx(path), path, 2, /unknown IDX type code 0x0a/);
    const short = writeBytes(dir, 'short-header.idx', good.subarray(0, 9));
    expectFormatError(() => readIdx(short), short, 9, /declares 2 dimensions \(12 header bytes\)/);
  });

  it('rejects truncated data at the end of the file', () => {
    const path = writeBytes(dir, 'truncated.idx', good.subarray(0, good.length - 2));
    expectFormatError(
      () => readIdx(path),
      path,
      16,
      /truncated data: dims \[2,3\] of uint8 need 6 data bytes .* only 4 follow/,
    );
  });

  it('rejects dims that do not match the data (too little or too much of it)', () => {
    const wrongDims = idxBytes(0x08, [2, 4], [1, 2, 3, 4, 5, 6], 1);
    const path = writeBytes(dir, 'wrong-dims.idx', wrongDims);
    expectFormatError(() => readIdx(path), path, 18, /dims \[2,4\] of uint8 need 8 data bytes/);
    const tooMuch = idxBytes(0x08, [2, 2], [1, 2, 3, 4, 5, 6], 1);
    const extra = writeBytes(dir, 'extra.idx', tooMuch);
    expectFormatError(() => readIdx(extra), extra, 16, /2 bytes after the data/);
    const negative = idxBytes(0x08, [1, -1], [], 1);
    const neg = writeBytes(dir, 'negative.idx', negative);
    expectFormatError(() => readIdx(neg), neg, 8, /dimension 1 is negative/);
  });

  it('names offsets of gzip files in the gunzipped data', () => {
    const path = writeBytes(dir, 'truncated.idx.gz', gzipSync(good.subarray(0, 14)));
    expectFormatError(() => readIdx(path), path, 14, /truncated data.*\(offset in the gunzipped data\)/);
  });

  it('rejects bad gzip: truncated, corrupt and with a broken checksum', () => {
    const zipped = gzipSync(
      idxBytes(
        0x0d,
        [50],
        Array.from({ length: 50 }, (_, i) => i),
        4,
      ),
    );
    const cut = writeBytes(dir, 'cut.gz', zipped.subarray(0, zipped.length - 12));
    expectFormatError(() => readIdx(cut), cut, zipped.length - 12, /truncated gzip data/);
    const checksum = zipped.slice();
    checksum[checksum.length - 6] ^= 0xff;
    const crc = writeBytes(dir, 'crc.gz', checksum);
    expectFormatError(() => readIdx(crc), crc, zipped.length - 8, /checksum mismatch/);
    const corrupt = zipped.slice();
    corrupt[10] = 0xff;
    corrupt[11] = 0xff;
    const garbage = writeBytes(dir, 'garbage.gz', corrupt);
    const error = expectFormatError(() => readIdx(garbage), garbage, 10, /corrupt compressed data/);
    expect(error.format).toBe('gzip');
    const method = zipped.slice();
    method[2] = 7;
    const wrongMethod = writeBytes(dir, 'method.gz', method);
    expectFormatError(() => readIdx(wrongMethod), wrongMethod, 2, /compression method 7/);
  });

  it('parseIdx reports gzip data it cannot decompress without Node', () => {
    expectFormatError(() => parseIdx(gzipSync(good), { file: 'x.gz' }), 'x.gz', 0, /gzip-compressed/);
    writeFileSync(`${dir}/ok.idx`, good);
    expect(readIdx(`${dir}/ok.idx`).shape).toEqual([2, 3]);
  });
});
