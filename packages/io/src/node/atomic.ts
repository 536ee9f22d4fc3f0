import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** `fs.writeSync`'s shape: writes `length` bytes of `data` from `offset` at file `position`. */
export type WriteChunk = (
  fd: number,
  data: Uint8Array,
  offset: number,
  length: number,
  position: number,
) => number;

export interface WriteFileAtomicOptions {
  /** Replaces `fs.writeSync` (to inject failures in tests). */
  readonly write?: WriteChunk;
}

const CHUNK = 1 << 20;

/** Makes the rename itself durable; not every platform can open a directory, which is fine. */
function syncDirectory(directory: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(directory, 'r');
    fsyncSync(fd);
  } catch {
    // Windows and some file systems refuse: the rename is still atomic, only less durable.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Writes `data` to `path` so that `path` holds either its old contents or all of `data`, never
 * a part: the bytes go to a temporary file in the same directory, which is flushed to disk and
 * then renamed over `path`. On failure the temporary file is removed and the error rethrown.
 */
export function writeFileAtomic(path: string, data: Uint8Array, options: WriteFileAtomicOptions = {}): void {
  const write = options.write ?? writeSync;
  const temporary = join(
    dirname(path),
    `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`,
  );
  const fd = openSync(temporary, 'wx');
  let renamed = false;
  try {
    try {
      for (let at = 0; at < data.length; ) {
        const written = write(fd, data, at, Math.min(CHUNK, data.length - at), at);
        if (!(written > 0))
          throw new Error(`writeFileAtomic: ${temporary}: write made no progress at byte ${at}`);
        at += written;
      }
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
    renamed = true;
  } finally {
    if (!renamed) rmSync(temporary, { force: true });
  }
  syncDirectory(dirname(path));
}
