import { type Fail, failIn } from '../errors.js';
import { declaredIdxSize, type IdxHeader, readIdxHeader } from '../formats/idx.js';
import { readFileBytes } from './files.js';
import { DEFAULT_MAX_DECOMPRESSED_BYTES, gunzip, gunzipHead, isGzip } from './gzip.js';

export interface IdxFile {
  /** The IDX bytes (decompressed when the file is gzip). */
  readonly bytes: Uint8Array;
  readonly header: IdxHeader;
  /** Throws a DataFormatError about this file. */
  readonly fail: Fail;
}

export interface OpenIdxOptions {
  /** The most bytes a gzip file may decompress to (default 1 GiB). */
  readonly maxDecompressedBytes?: number;
}

/** Compressed bytes inflated first, to read the IDX header (at most 1028 bytes) from. */
const HEAD = 4096;

/**
 * Reads an IDX file, plain or gzip, and checks its header and size. A gzip file is inflated
 * only up to the size its IDX header declares (and never beyond `maxDecompressedBytes`), so
 * trailing data or a decompression bomb is rejected without inflating it.
 */
export function openIdx(op: string, path: string, options: OpenIdxOptions = {}): IdxFile {
  const max = options.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES;
  const raw = readFileBytes(op, path);
  const compressed = isGzip(raw);
  const fail = failIn('idx', path, compressed ? ' (offset in the gunzipped data)' : '');
  if (!compressed) return { bytes: raw, header: readIdxHeader(raw, fail), fail };
  const declared = declaredIdxSize(gunzipHead(raw, path, HEAD));
  if (declared !== undefined && declared > max) {
    fail(
      `the header declares ${declared} bytes in all, over the limit of ${max} bytes (maxDecompressedBytes)`,
      4,
    );
  }
  const bytes =
    declared === undefined
      ? gunzip(raw, path, max, 'maxDecompressedBytes')
      : gunzip(raw, path, declared, 'the size the IDX header declares');
  return { bytes, header: readIdxHeader(bytes, fail), fail };
}
