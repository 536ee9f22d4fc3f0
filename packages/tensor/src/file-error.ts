import { describe, TsgradError, ValueError } from './errors.js';

// Files are read and written by the Node entries of other packages (@tsgrad/io/node,
// @tsgrad/data/node); the error they throw for a path that cannot be read or written lives here
// so that every package reports it the same way. Nothing here touches the file system.

const REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EISDIR: 'is a directory, not a file',
  ENOTDIR: 'a part of the path is not a directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'the path is too long',
};

/** A file that could not be read or written: missing, a directory, no permission… `code` is Node's (e.g. 'EISDIR'). */
export class FileError extends TsgradError {
  constructor(
    op: string,
    /** The file's path as given. */
    readonly path: string,
    /** Node's error code (`'ENOENT'`, `'EISDIR'`…), or undefined for a malformed file. */
    readonly code: string | undefined,
    detail: string,
  ) {
    super(op, `${path}: ${detail}`);
  }

  /** The FileError of a failed file-system call of `op` on `path` (a Node error carries a code). */
  static from(op: string, path: string, error: unknown): FileError {
    const code = (error as { code?: unknown } | null)?.code;
    const known = typeof code === 'string' ? code : undefined;
    const reason = known !== undefined ? REASONS[known] : undefined;
    const message = error instanceof Error ? error.message : String(error);
    return new FileError(op, path, known, reason === undefined ? message : `${reason} (${known})`);
  }
}

/** Checks that `path` is a non-empty string (a file path argument of `op`). */
export function checkPath(op: string, path: unknown): asserts path is string {
  if (typeof path !== 'string' || path.length === 0)
    throw new ValueError(op, `path must be a non-empty string, got ${describe(path)}`);
}
