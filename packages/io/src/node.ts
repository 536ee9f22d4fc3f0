// The Node entry (`@tsgrad/io/node`): safetensors files on disk.
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from './node/atomic.js';
import { type FromBytesOptions, fromBytes, type SafetensorsContents } from './read.js';
import { type StateDict, toBytes } from './write.js';

export type { WriteChunk, WriteFileAtomicOptions } from './node/atomic.js';
export { writeFileAtomic };

/** Anything with a PyTorch-style `stateDict()`, such as an nn Module. */
export interface HasStateDict {
  stateDict(): StateDict;
}

export interface SaveOptions {
  /** The `__metadata__` string map (see JSON_METADATA_KEY for JSON values). */
  readonly metadata?: Record<string, string>;
}

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
  const tensors = hasStateDict(moduleOrStateDict) ? moduleOrStateDict.stateDict() : moduleOrStateDict;
  writeFileAtomic(path, toBytes(tensors, options.metadata));
}

/** Reads a safetensors file; errors in it name `path` and the byte offset. */
export function load(path: string, options: LoadOptions = {}): SafetensorsContents {
  return fromBytes(readFileSync(path), { ...options, file: path });
}
