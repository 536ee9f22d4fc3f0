import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataFormatError } from '@tsgrad/data';
import type { NDArray } from '@tsgrad/tensor';
import { afterAll, expect } from 'vitest';

/** A fresh temporary folder, removed after the file's tests. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `tsgrad-data-${prefix}-`));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes `bytes` to `name` in `dir` and returns the path. */
export function writeBytes(dir: string, name: string, bytes: Uint8Array | string): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

/** Asserts `run` throws a DataFormatError about `file` at `offset` whose message matches `pattern`. */
export function expectFormatError(
  run: () => unknown,
  file: string | undefined,
  offset: number,
  pattern: RegExp,
): DataFormatError {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(DataFormatError);
  const error = caught as DataFormatError;
  expect(error.message).toMatch(pattern);
  expect(error.offset).toBe(offset);
  expect(error.file).toBe(file);
  expect(error.message).toContain(`byte offset ${offset}`);
  if (file !== undefined) expect(error.message).toContain(file);
  return error;
}

export const values = (x: NDArray) => Array.from(x.toTypedArray());

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
