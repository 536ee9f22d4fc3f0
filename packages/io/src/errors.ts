import { TsgradError } from '@tsgrad/tensor';

/**
 * A malformed or hostile safetensors file. `offset` is the byte offset in the file where the
 * problem is (0 for the length prefix, 8 for the start of the JSON header); `file` is the path
 * when the bytes were loaded from one.
 */
export class SafetensorsError extends TsgradError {
  constructor(
    /** What is wrong, without the file and offset. */
    readonly detail: string,
    /** The byte offset where the problem was found. */
    readonly offset: number,
    /** The file the bytes came from, if any. */
    readonly file?: string,
  ) {
    super('safetensors', `${file === undefined ? '' : `${file}: `}${detail} (at byte offset ${offset})`);
  }
}

/** Throws a SafetensorsError for `detail` at byte `offset`, naming the file if there is one. */
export type Fail = (detail: string, offset: number) => never;

export function failIn(file: string | undefined): Fail {
  return (detail, offset) => {
    throw new SafetensorsError(detail, offset, file);
  };
}
