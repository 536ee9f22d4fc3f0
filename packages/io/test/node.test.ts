import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor } from '@tsgrad/autograd';
import { decodeJsonMetadata, encodeJsonMetadata, SafetensorsError, toBytes } from '@tsgrad/io';
import { load, save, type WriteChunk, writeFileAtomic } from '@tsgrad/io/node';
import * as T from '@tsgrad/tensor';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bytesOf } from './files.js';

let directory: string;
beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'tsgrad-io-'));
});
afterEach(() => {
  rmSync(directory, { recursive: true, force: true });
});

/** A stand-in for an nn Module: io only relies on the stateDict() shape. */
class TinyModel {
  readonly weight = new Tensor(
    T.array([
      [0.5, -1],
      [2, 3],
    ]),
    { requiresGrad: true },
  );
  readonly bias = new Tensor(T.array([0.25, 0]), { requiresGrad: true });
  readonly steps = T.scalar(7, { dtype: 'int32' });
  stateDict(): Record<string, Tensor | T.NDArray> {
    return {
      'layers.0.weight': this.weight,
      'layers.0.bias': this.bias,
      'layers.0.num_batches_tracked': this.steps,
    };
  }
}

describe('save / load', () => {
  it('round-trips a module and a state dict, with metadata', () => {
    const path = join(directory, 'model.safetensors');
    const model = new TinyModel();
    save(model, path, { metadata: { format: 'pt' } });
    const { tensors, metadata } = load(path);
    expect(metadata).toEqual({ format: 'pt' });
    for (const [name, value] of Object.entries(model.stateDict())) {
      const array = value instanceof Tensor ? value.value : value;
      expect(bytesOf(tensors[name])).toEqual(bytesOf(array));
      expect(tensors[name].shape).toEqual(array.shape);
    }
    expect(Array.from(readFileSync(path))).toEqual(Array.from(toBytes(model.stateDict(), { format: 'pt' })));

    const dictPath = join(directory, 'dict.safetensors');
    save({ a: T.array([1, 2, 3], { dtype: 'float64' }) }, dictPath);
    expect(load(dictPath).tensors.a.toArray()).toEqual([1, 2, 3]);
    expect(readdirSync(directory).sort()).toEqual(['dict.safetensors', 'model.safetensors']);
  });

  it('keeps JSON-able optimizer state through the "tsgrad.json" metadata convention', () => {
    const path = join(directory, 'optimizer.safetensors');
    const state = { '0.exp_avg': T.array([0.1, 0.2]), '0.exp_avg_sq': T.array([0.01, 0.04]) };
    const meta = { step: 3, paramGroups: [{ lr: 0.001, betas: [0.9, 0.999], params: [0] }] };
    save(state, path, { metadata: encodeJsonMetadata(meta) });
    const back = load(path);
    expect(decodeJsonMetadata(back.metadata)).toEqual(meta);
    expect(bytesOf(back.tensors['0.exp_avg'])).toEqual(bytesOf(state['0.exp_avg']));
  });

  it('replaces an existing file', () => {
    const path = join(directory, 'model.safetensors');
    save({ x: T.zeros([2]) }, path);
    save({ x: T.ones([3]) }, path);
    expect(load(path).tensors.x.toArray()).toEqual([1, 1, 1]);
    expect(readdirSync(directory)).toEqual(['model.safetensors']);
  });

  it('names the file and the byte offset in load errors', () => {
    const path = join(directory, 'broken.safetensors');
    writeFileSync(path, toBytes({ x: T.zeros([4]) }).subarray(0, 40));
    let caught: unknown;
    try {
      load(path);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(SafetensorsError);
    const error = caught as SafetensorsError;
    expect(error.file).toBe(path);
    expect(error.offset).toBe(0);
    expect(error.message).toContain(path);
    expect(error.message).toMatch(/header length \d+ runs past the end of the file \(40 bytes\)/);

    writeFileSync(path, toBytes({ x: T.zeros([4]) }, { format: 'pt' }).subarray(0, 100));
    expect(() => load(path)).toThrow(/broken\.safetensors: .*out of range.*at byte offset 40/);
    expect(() => load(join(directory, 'missing.safetensors'))).toThrow(/ENOENT/);
  });

  it('honours maxHeaderSize', () => {
    const path = join(directory, 'model.safetensors');
    save(new TinyModel(), path);
    expect(() => load(path, { maxHeaderSize: 64 })).toThrow(/over the limit of 64 bytes/);
  });
});

describe('atomic writes', () => {
  const oldBytes = () => toBytes({ x: T.array([1, 2, 3]) }, { version: 'old' });

  it('a failure mid-write leaves the old file intact and no temporary file behind', () => {
    const path = join(directory, 'model.safetensors');
    writeFileSync(path, oldBytes());
    const replacement = new Uint8Array(3 << 20).fill(7);
    let calls = 0;
    // Writes the first chunk for real, then fails as a full disk would.
    const failing: WriteChunk = (fd, data, offset, length, position) => {
      if (calls++ === 0) return writeSync(fd, data, offset, Math.floor(length / 2), position);
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    };
    expect(() => writeFileAtomic(path, replacement, { write: failing })).toThrow(/ENOSPC/);
    expect(calls).toBe(2);
    expect(Array.from(readFileSync(path))).toEqual(Array.from(oldBytes()));
    expect(load(path).metadata).toEqual({ version: 'old' });
    expect(readdirSync(directory)).toEqual(['model.safetensors']);
  });

  it('a writer that stops making progress is an error, not a hang', () => {
    const path = join(directory, 'model.safetensors');
    writeFileSync(path, oldBytes());
    expect(() => writeFileAtomic(path, new Uint8Array(10), { write: () => 0 })).toThrow(
      /made no progress at byte 0/,
    );
    expect(Array.from(readFileSync(path))).toEqual(Array.from(oldBytes()));
    expect(readdirSync(directory)).toEqual(['model.safetensors']);
  });

  it('writes in chunks until done, partial writes included', () => {
    const path = join(directory, 'data.bin');
    const data = new Uint8Array((2 << 20) + 12345).map((_, i) => i * 7);
    const short: WriteChunk = (fd, bytes, offset, length, position) =>
      writeSync(fd, bytes, offset, Math.min(length, 100_000), position);
    writeFileAtomic(path, data, { write: short });
    expect(readFileSync(path).equals(data)).toBe(true);
  });

  it('save fails before touching the file when the state dict cannot be written', () => {
    const path = join(directory, 'model.safetensors');
    writeFileSync(path, oldBytes());
    const broken = {
      stateDict: () => {
        throw new Error('stateDict exploded');
      },
    };
    expect(() => save(broken, path)).toThrow(/exploded/);
    expect(() => save({ x: 'not a tensor' as unknown as T.NDArray }, path)).toThrow(
      /not a Tensor or an NDArray/,
    );
    expect(Array.from(readFileSync(path))).toEqual(Array.from(oldBytes()));
    expect(readdirSync(directory)).toEqual(['model.safetensors']);
  });
});
