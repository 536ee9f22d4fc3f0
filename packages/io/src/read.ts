import { array, checkOptions, describe, type NDArray, ValueError } from '@tsgrad/tensor';
import { READABLE_DTYPES } from './dtypes.js';
import { failIn } from './errors.js';
import { DEFAULT_MAX_HEADER_SIZE, readHeader, setOwn } from './header.js';

/** Options of `fromBytes`. */
export interface FromBytesOptions {
  /** Refuse headers longer than this many bytes (default 100 MB, as the reference reader). */
  readonly maxHeaderSize?: number;
  /** The file the bytes came from, named in errors. */
  readonly file?: string;
}

/** What a safetensors file holds: named arrays and the metadata map. */
export interface SafetensorsContents {
  /** The arrays by name, in the file's dtypes (F16 and BF16 widened to float32, integers to int32). */
  readonly tensors: Record<string, NDArray>;
  /** The `__metadata__` string map; empty when the file has none. */
  readonly metadata: Record<string, string>;
}

/**
 * Reads a safetensors file. F32/F64/I32/BOOL keep their type; other integers (U8, I8, I16, U16,
 * U32, I64, U64) become int32, and a value outside the int32 range is an error; F16 and BF16
 * become float32 exactly. A malformed file throws a SafetensorsError naming the byte offset.
 */
export function fromBytes(
  bytes: Uint8Array | ArrayBuffer,
  options: FromBytesOptions = {},
): SafetensorsContents {
  checkOptions('fromBytes', options);
  if (!(bytes instanceof Uint8Array) && !(bytes instanceof ArrayBuffer)) {
    throw new ValueError('fromBytes', `expected a Uint8Array or an ArrayBuffer, got ${describe(bytes)}`);
  }
  const fail = failIn(options.file);
  // A plain view: a Node Buffer's slice() would share memory instead of copying.
  const file =
    bytes instanceof Uint8Array
      ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
      : new Uint8Array(bytes);
  const header = readHeader(file, options.maxHeaderSize ?? DEFAULT_MAX_HEADER_SIZE, fail);
  const tensors: Record<string, NDArray> = {};
  for (const entry of header.entries) {
    const { size, dtype, decode } = READABLE_DTYPES[entry.dtype];
    // A zero-offset copy, so that typed-array views of it are aligned.
    const data = file.slice(entry.begin, entry.end);
    const count = data.length / size;
    const values = decode(data, count, (detail, element) =>
      fail(
        `tensor ${JSON.stringify(entry.name)}: ${detail} (element ${element})`,
        entry.begin + element * size,
      ),
    );
    setOwn(tensors, entry.name, array(values, { shape: entry.shape, dtype }));
  }
  return { tensors, metadata: header.metadata };
}
