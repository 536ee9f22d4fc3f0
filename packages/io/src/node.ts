/**
 * The Node entry of `@tsgrad/io`: safetensors files on disk, written atomically (a temporary
 * file, then a rename), so a checkpoint is never left half-written.
 *
 * @packageDocumentation
 */
import { readFileSync } from 'node:fs';
import { checkPath, FileError, ValueError } from '@tsgrad/tensor';
import { writeFileAtomic } from './node/atomic.js';
import { type FromBytesOptions, fromBytes, type SafetensorsContents } from './read.js';
import { type StateDict, toBytes } from './write.js';

export type { WriteChunk, WriteFileAtomicOptions } from './node/atomic.js';
export { FileError, writeFileAtomic };

/** Anything with a PyTorch-style `stateDict()`, such as an nn Module. */
export interface HasStateDict {
  /** The tensors to save, by name. */
  stateDict(): StateDict;
}

/** Options of `save`. */
export interface SaveOptions {
  /** The `__metadata__` string map (see JSON_METADATA_KEY for JSON values). */
  readonly metadata?: Record<string, string>;
}

/** Options of `load`: the largest header to accept. */
export type LoadOptions = Pick<FromBytesOptions, 'maxHeaderSize'>;

function hasStateDict(source: StateDict | HasStateDict): source is HasStateDict {
  return typeof (source as Partial<HasStateDict>).stateDict === 'function';
}

/**
 * Saves a module's `stateDict()` (or a state dict) as a safetensors file readable by PyTorch's
 * `safetensors.torch.load_file`. Atomic: a failure leaves any previous file at `path` intact.
 */
export function save(
  moduleOrStateDict: StateDict | HasStateDict,
  path: string,
  options: SaveOptions = {},
): void {
  if (typeof options !== 'object' || options === null)
    throw new ValueError('save', `options must be an object, got ${String(options)}`);
  if (typeof moduleOrStateDict !== 'object' || moduleOrStateDict === null)
    throw new ValueError('save', `expected a module or a state dict, got ${String(moduleOrStateDict)}`);
  const tensors = hasStateDict(moduleOrStateDict) ? moduleOrStateDict.stateDict() : moduleOrStateDict;
  writeFileAtomic(path, toBytes(tensors, options.metadata));
}

/**
 * Reads a safetensors file; errors in it name `path` and the byte offset. A path that cannot
 * be read (missing, a directory, no permission) throws a FileError naming it.
 */
export function load(path: string, options: LoadOptions = {}): SafetensorsContents {
  checkPath('load', path);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw FileError.from('load', path, error);
  }
  return fromBytes(bytes, { ...options, file: path });
}
