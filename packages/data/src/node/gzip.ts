import { gunzipSync } from 'node:zlib';
import { failIn } from '../errors.js';

/** True when `bytes` start with the gzip magic number 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * The decompressed bytes of a gzip file. zlib does not say where a deflate stream breaks, so
 * a corrupt stream is reported at the first byte after the 10-byte gzip header, a truncated one
 * at its end, and a checksum mismatch at the 8-byte trailer.
 */
export function gunzip(bytes: Uint8Array, file: string): Uint8Array {
  const fail = failIn('gzip', file);
  if (bytes.length < 18)
    fail(`the file has ${bytes.length} bytes, too few for gzip (18 at least)`, bytes.length);
  if (bytes[2] !== 8) fail(`unsupported gzip compression method ${bytes[2]} (only 8, deflate, exists)`, 2);
  try {
    return gunzipSync(bytes);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const code = (error as { code?: string }).code;
    if (code === 'Z_BUF_ERROR' || /unexpected end/i.test(message)) {
      return fail(`truncated gzip data (${message})`, bytes.length);
    }
    if (/check/i.test(message) && !/header/i.test(message)) {
      return fail(`gzip checksum mismatch: the data is corrupt (${message})`, bytes.length - 8);
    }
    if (/header/i.test(message)) return fail(`bad gzip header (${message})`, 0);
    return fail(`corrupt compressed data somewhere after the gzip header (${message})`, 10);
  }
}
