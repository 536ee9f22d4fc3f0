import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { checkPath, FileError } from '@tsgrad/tensor';

/** `fs.writeSync`'s shape: writes `length` bytes of `data` from `offset` at file `position`. */
export type WriteChunk = (
  fd: number,
  data: Uint8Array,
  offset: number,
  length: number,
  position: number,
) => number;

/** Options of `writeFileAtomic`: hooks that let a test inject failures. */
export interface WriteFileAtomicOptions {
  /** Replaces `fs.writeSync` (to inject failures in tests). */
  readonly write?: WriteChunk;
  /**
   * A temporary file of an earlier save of the same path is removed when the process that
   * wrote it is gone, or when it is older than this (default one hour: a process id may have
   * been reused, or the writer ran on another machine sharing the directory).
   */
  readonly staleTemporaryMs?: number;
}

const OP = 'writeFileAtomic';
const HOUR = 3_600_000;

// A temporary file is named `.<target name>.<writer pid>.<12 hex digits>.tmp`, next to the target.
const temporaryPath = (path: string) =>
  join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);

/** Whether process `pid` runs on this machine (EPERM: it does, as another user). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
}

/**
 * Removes the temporary files that earlier saves of `path` left behind when they were killed
 * mid-write (a crash, SIGKILL, power loss): those whose writer process is gone or that are
 * older than `staleMs`. A save in progress in a live process is left alone.
 */
function removeStaleTemporaries(path: string, staleMs: number): void {
  const directory = dirname(path);
  const prefix = `.${basename(path)}.`;
  let names: string[];
  try {
    names = readdirSync(directory);
  } catch {
    return; // the directory is unreadable or missing: opening the temporary file reports it
  }
  for (const name of names) {
    const match = name.startsWith(prefix)
      ? /^(\d+)\.[0-9a-f]{12}\.tmp$/.exec(name.slice(prefix.length))
      : null;
    if (match === null) continue;
    const file = join(directory, name);
    let age: number;
    try {
      age = Date.now() - statSync(file).mtimeMs;
    } catch {
      continue; // removed meanwhile (its writer renamed it, or another save cleaned it up)
    }
    if (age > staleMs || !isRunning(Number(match[1]))) rmSync(file, { force: true });
  }
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

/** Runs a file-system call, reporting its failure as a FileError naming `path`. */
function onFile<R>(path: string, call: () => R): R {
  try {
    return call();
  } catch (error) {
    throw error instanceof FileError ? error : FileError.from(OP, path, error);
  }
}

/**
 * Writes `data` to `path` so that `path` holds either its old contents or all of `data`, never
 * a part: the bytes go to a temporary file in the same directory, which is flushed to disk and
 * then renamed over `path`. On failure the temporary file is removed and a FileError naming
 * `path` thrown. Temporary files that killed saves of `path` left behind are removed first.
 */
export function writeFileAtomic(path: string, data: Uint8Array, options: WriteFileAtomicOptions = {}): void {
  checkPath(OP, path);
  const write = options.write ?? writeSync;
  removeStaleTemporaries(path, options.staleTemporaryMs ?? HOUR);
  const temporary = temporaryPath(path);
  const fd = onFile(path, () => openSync(temporary, 'wx'));
  let renamed = false;
  try {
    onFile(path, () => {
      try {
        for (let at = 0; at < data.length; ) {
          const written = write(fd, data, at, Math.min(CHUNK, data.length - at), at);
          if (!(written > 0))
            throw new FileError(OP, path, undefined, `writing ${temporary} made no progress at byte ${at}`);
          at += written;
        }
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(temporary, path);
    });
    renamed = true;
  } finally {
    if (!renamed) rmSync(temporary, { force: true });
  }
  syncDirectory(dirname(path));
}
