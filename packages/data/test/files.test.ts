import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DataFormatError, encodeIdx } from '@tsgrad/data';
import { FileError, readCsv, readIdx, readNpy, writeIdx } from '@tsgrad/data/node';
import * as T from '@tsgrad/tensor';
import { describe, expect, it } from 'vitest';
import { expectFormatError, tempDir, writeBytes } from './helpers.js';

// Paths that cannot be read or written, and gzip files that decompress to far more than they declare.

const dir = tempDir('files');

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

describe('unreadable paths are FileErrors naming the path and the reader', () => {
  const readers: [string, (path: string) => unknown][] = [
    ['readIdx', readIdx],
    ['readNpy', readNpy],
    ['readCsv', readCsv],
  ];
  for (const [name, read] of readers) {
    it(name, () => {
      const error = thrown(() => read(dir));
      expect(error).toBeInstanceOf(FileError);
      expect(error).toBeInstanceOf(T.TsgradError);
      expect(error.message).toBe(`${name}: ${dir}: is a directory, not a file (EISDIR)`);
      const missing = join(dir, 'missing');
      expect(thrown(() => read(missing)).message).toBe(
        `${name}: ${missing}: no such file or directory (ENOENT)`,
      );
      expect(thrown(() => read(undefined as never))).toBeInstanceOf(T.ValueError);
    });
  }

  it('writeIdx into a missing directory, and bad arguments', () => {
    const path = join(dir, 'no', 'x.idx');
    expect(thrown(() => writeIdx(path, T.zeros([2])))).toBeInstanceOf(FileError);
    expect(thrown(() => writeIdx(5 as never, T.zeros([2])))).toBeInstanceOf(T.ValueError);
    expect(thrown(() => encodeIdx([1, 2] as never))).toBeInstanceOf(T.ValueError);
  });
});

/** A gzip file: the IDX bytes, then `zeroMiB` MiB of zeros as further gzip members (~1 KiB each). */
function gzipBomb(idx: Uint8Array, zeroMiB: number): Uint8Array {
  const zeros = gzipSync(new Uint8Array(1 << 20));
  return Buffer.concat([gzipSync(idx), ...Array.from({ length: zeroMiB }, () => zeros)]);
}

describe('gzip decompression is limited', () => {
  const idx = encodeIdx(T.array(Int32Array.from([1, 2, 3]), { dtype: 'int32' }), { type: 'uint8' });

  it('300 MiB of trailing zeros are rejected without inflating them (peak RSS stays flat)', () => {
    const bomb = gzipBomb(idx, 300);
    expect(bomb.length).toBeLessThan(400_000);
    const path = writeBytes(dir, 'bomb.idx.gz', bomb);
    const peakBefore = process.resourceUsage().maxRSS; // KiB
    const error = expectFormatError(
      () => readIdx(path),
      path,
      idx.length,
      new RegExp(
        `decompresses to more than ${idx.length} bytes \\(the size the IDX header declares\\); stopped there`,
      ),
    );
    const growthMiB = (process.resourceUsage().maxRSS - peakBefore) / 1024;
    expect(error.format).toBe('gzip');
    expect(growthMiB).toBeLessThan(64); // inflating it all took +609 MiB
  });

  it('a header declaring more than maxDecompressedBytes is rejected before inflating', () => {
    const big = new Uint8Array(8 + (1 << 20));
    big.set([0, 0, 0x08, 1]);
    new DataView(big.buffer).setInt32(4, 1 << 20);
    const path = writeBytes(dir, 'big.idx.gz', gzipSync(big));
    expect(readIdx(path).shape).toEqual([1 << 20]);
    expectFormatError(
      () => readIdx(path, { maxDecompressedBytes: 1000 }),
      path,
      4,
      /declares 1048584 bytes in all, over the limit of 1000 bytes \(maxDecompressedBytes\)/,
    );
    expect(thrown(() => readIdx(path, { maxDecompressedBytes: -1 }))).toBeInstanceOf(T.ValueError);
  });

  it('a gzip file whose header is not IDX is inflated only up to maxDecompressedBytes', () => {
    const path = writeBytes(dir, 'junk.idx.gz', gzipBomb(new Uint8Array([9, 9, 9, 9]), 8));
    const error = expectFormatError(
      () => readIdx(path, { maxDecompressedBytes: 1 << 20 }),
      path,
      1 << 20,
      /decompresses to more than 1048576 bytes \(maxDecompressedBytes\)/,
    );
    expect(error).toBeInstanceOf(DataFormatError);
    // within the limit, the IDX reader says what is wrong
    const small = writeBytes(dir, 'small-junk.idx.gz', gzipSync(new Uint8Array([9, 9, 9, 9])));
    expectFormatError(() => readIdx(small), small, 0, /bad magic number/);
  });

  it('gzip files with optional header fields (a file name) still read', () => {
    const zipped = Buffer.from(gzipSync(idx));
    // FNAME: flag 8, then a zero-terminated name after the 10-byte header
    const named = Buffer.concat([
      zipped.subarray(0, 10),
      Buffer.from(`${'x'.repeat(5000)}\0`),
      zipped.subarray(10),
    ]);
    named[3] |= 8;
    const path = writeBytes(dir, 'named.idx.gz', named);
    expect(Array.from(readIdx(path).toTypedArray())).toEqual([1, 2, 3]);
  });
});
