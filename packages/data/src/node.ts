/**
 * The Node entry of `@tsgrad/data`: readers and writers for files on disk (IDX, CSV, NPY)
 * and ready-made data sets (Fashion-MNIST, MNIST digits, iris, Moby-Dick).
 *
 * @packageDocumentation
 */
import { gzipSync } from 'node:zlib';
import { array, checkPath, checkRecord, type DType, type NDArray, ValueError } from '@tsgrad/tensor';
import { type CsvOptions, type CsvTable, parseCsv } from './formats/csv.js';
import { DEFAULT_IDX_DTYPE, type EncodeIdxOptions, encodeIdx, readIdxData } from './formats/idx.js';
import { parseNpy } from './formats/npy.js';
import { readFileBytes, writeFileBytes } from './node/files.js';
import { type OpenIdxOptions, openIdx } from './node/idx-file.js';

export { FileError } from '@tsgrad/tensor';
export { DataFormatError, DatasetNotFoundError, MissingPackageError } from './errors.js';
export {
  FASHION_MNIST_CLASSES,
  FASHION_MNIST_DIR,
  type FashionMnist,
  type FashionMnistOptions,
  fashionMnist,
} from './node/fashion-mnist.js';

export { type ImageSet, type ImageSetOptions, iris, mnistDigits, mobyDick } from './node/packaged.js';
export { textToCharTensor } from './text.js';

/** Options of `readIdx`. */
export interface ReadIdxOptions extends OpenIdxOptions {
  /** The dtype of the result (default: int32 for integer types, float32/float64 for floats). */
  readonly dtype?: DType;
}

/**
 * Reads an IDX file (MNIST's format), plain or gzip-compressed (detected by its magic number).
 * Malformed files throw DataFormatError naming the file and the byte offset (for gzip files,
 * offsets in the IDX structure count decompressed bytes); a gzip file that decompresses to
 * more than its header declares (or than `maxDecompressedBytes`) is rejected as soon as it
 * does. A path that cannot be read throws a FileError.
 */
export function readIdx(path: string, options: ReadIdxOptions = {}): NDArray {
  checkRecord('readIdx', 'options', options);
  const max = options.maxDecompressedBytes;
  if (max !== undefined && !(Number.isInteger(max) && max >= 1 && max <= 2 ** 32)) {
    throw new ValueError(
      'readIdx',
      `maxDecompressedBytes must be an integer in [1, 2^32], got ${String(max)}`,
    );
  }
  const { bytes, header } = openIdx('readIdx', path, options);
  const dtype = options.dtype ?? DEFAULT_IDX_DTYPE[header.type];
  return array(readIdxData(bytes, header, dtype), { shape: header.shape, dtype });
}

/** Options of `writeIdx`. */
export interface WriteIdxOptions extends EncodeIdxOptions {
  /** Compress with gzip (default: when the path ends in .gz). */
  readonly gzip?: boolean;
}

/** Writes `x` as an IDX file, optionally gzip-compressed. */
export function writeIdx(path: string, x: NDArray, options: WriteIdxOptions = {}): void {
  checkPath('writeIdx', path);
  const bytes = encodeIdx(x, options);
  writeFileBytes('writeIdx', path, (options.gzip ?? path.endsWith('.gz')) ? gzipSync(bytes) : bytes);
}

/** Reads a NumPy .npy file (versions 1–3); see `parseNpy` for the supported dtypes. */
export function readNpy(path: string): NDArray {
  return parseNpy(readFileBytes('readNpy', path), { file: path });
}

/**
 * Reads a CSV file: numeric columns become float32 features [rows, columns], the label column
 * int32 labels (class names are mapped to their index in the sorted `classes`).
 */
export function readCsv(path: string, options: Omit<CsvOptions, 'file'> = {}): CsvTable {
  return parseCsv(readFileBytes('readCsv', path), { ...options, file: path });
}
