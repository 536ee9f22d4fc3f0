import { constants, gunzipSync, type ZlibOptions } from 'node:zlib';
import { type Fail, failIn } from '../errors.js';

/** True when `bytes` start with the gzip magic number 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** The largest output `gunzip` makes unless told otherwise: 1 GiB. */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 2 ** 30;

/**
 * Runs zlib and reports its failures. zlib does not say where a deflate stream breaks, so a
 * corrupt stream is reported at the first byte after the 10-byte gzip header, a truncated one
 * at its end, and a checksum mismatch at the 8-byte trailer.
 */
function inflate(bytes: Uint8Array, fail: Fail, options: ZlibOptions, why = 'the limit'): Uint8Array {
  if (bytes.length < 18)
    fail(`the file has ${bytes.length} bytes, too few for gzip (18 at least)`, bytes.length);
  if (bytes[2] !== 8) fail(`unsupported gzip compression method ${bytes[2]} (only 8, deflate, exists)`, 2);
  try {
    return gunzipSync(bytes, options);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const code = (error as { code?: string }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') {
      const limit = options.maxOutputLength ?? 0;
      return fail(`the data decompresses to more than ${limit} bytes (${why}); stopped there`, limit);
    }
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

/**
 * The decompressed bytes of a gzip file, at most `limit` of them: zlib stops as soon as the
 * output passes the limit (a "zip bomb" is never inflated in full) and the file is rejected,
 * naming the limit and `why` it is the limit.
 */
export function gunzip(bytes: Uint8Array, file: string, limit: number, why: string): Uint8Array {
  return inflate(bytes, failIn('gzip', file), { maxOutputLength: limit }, why);
}

/** The length of the gzip member header (RFC 1952: 10 bytes, then optional fields by flag). */
function gzipHeaderLength(bytes: Uint8Array): number {
  const flags = bytes[3] ?? 0;
  let at = 10;
  if (flags & 4) at += 2 + ((bytes[at] ?? 0) | ((bytes[at + 1] ?? 0) << 8)); // FEXTRA
  for (const flag of [8, 16]) {
    if (flags & flag) while (at < bytes.length && bytes[at++] !== 0); // FNAME, FCOMMENT: zero-terminated
  }
  return flags & 2 ? at + 2 : at; // FHCRC
}

/**
 * The first bytes a gzip file decompresses to, from at most `compressed` bytes of deflate data
 * (so at most about 1032 times as many come out): enough to read a format's header and derive
 * the size the whole file should decompress to. Errors are those of `gunzip`.
 */
export function gunzipHead(bytes: Uint8Array, file: string, compressed: number): Uint8Array {
  const prefix = bytes.subarray(0, gzipHeaderLength(bytes) + compressed);
  // A sync flush gives what the prefix decompresses to, without asking for the rest.
  return inflate(prefix, failIn('gzip', file), { finishFlush: constants.Z_SYNC_FLUSH });
}
