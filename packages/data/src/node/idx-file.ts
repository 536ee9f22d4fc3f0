import { readFileSync } from 'node:fs';
import { type Fail, failIn } from '../errors.js';
import { type IdxHeader, readIdxHeader } from '../formats/idx.js';
import { gunzip, isGzip } from './gzip.js';

export interface IdxFile {
  /** The IDX bytes (decompressed when the file is gzip). */
  readonly bytes: Uint8Array;
  readonly header: IdxHeader;
  /** Throws a DataFormatError about this file. */
  readonly fail: Fail;
}

/** Reads an IDX file, plain or gzip, and checks its header and size. */
export function openIdx(path: string): IdxFile {
  const raw = readFileSync(path);
  const compressed = isGzip(raw);
  const bytes = compressed ? gunzip(raw, path) : raw;
  const fail = failIn('idx', path, compressed ? ' (offset in the gunzipped data)' : '');
  return { bytes, header: readIdxHeader(bytes, fail), fail };
}
