import { readFileSync, writeFileSync } from 'node:fs';
import { checkPath, FileError } from '@tsgrad/tensor';

/** The bytes of the file at `path`; a path that cannot be read throws a FileError naming it. */
export function readFileBytes(op: string, path: string): Uint8Array {
  checkPath(op, path);
  try {
    return readFileSync(path);
  } catch (error) {
    throw FileError.from(op, path, error);
  }
}

/** Writes `data` to `path`; a path that cannot be written throws a FileError naming it. */
export function writeFileBytes(op: string, path: string, data: Uint8Array): void {
  try {
    writeFileSync(path, data);
  } catch (error) {
    throw FileError.from(op, path, error);
  }
}
