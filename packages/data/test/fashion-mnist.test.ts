import { existsSync } from 'node:fs';
import { DataLoader, DatasetNotFoundError, TensorDataset } from '@tsgrad/data';
import { FASHION_MNIST_CLASSES, FASHION_MNIST_DIR, fashionMnist, writeIdx } from '@tsgrad/data/node';
import * as T from '@tsgrad/tensor';
import { describe, expect, it } from 'vitest';
import { expectFormatError, tempDir, values } from './helpers.js';

// CI installs Debian's dataset-fashion-mnist; elsewhere the real-file tests run when it is there.
const installed = existsSync(`${FASHION_MNIST_DIR}/train-images-idx3-ubyte.gz`);

const counts = (labels: T.NDArray) => {
  const out = new Array<number>(10).fill(0);
  for (const v of values(labels)) out[v]++;
  return out;
};

describe.runIf(installed || process.env.CI)('Fashion-MNIST from the Debian package', () => {
  it('reads the 60,000 training images as float32 [N,1,28,28] in [0, 1] with labels 0…9', () => {
    const { images, labels, classes } = fashionMnist();
    expect(images.shape).toEqual([60000, 1, 28, 28]);
    expect(images.dtype).toBe('float32');
    expect(labels.shape).toEqual([60000]);
    expect(labels.dtype).toBe('int32');
    const first = values(labels).slice(0, 10);
    // The first training example is an ankle boot (the published sample order).
    expect(first).toEqual([9, 0, 0, 3, 0, 2, 7, 2, 5, 5]);
    expect(classes[first[0]]).toBe('Ankle boot');
    expect(counts(labels)).toEqual(new Array(10).fill(6000));
    const pixels = images.toTypedArray();
    let [lo, hi] = [Infinity, -Infinity];
    for (const p of pixels) [lo, hi] = [Math.min(lo, p), Math.max(hi, p)];
    expect([lo, hi]).toEqual([0, 1]);
  }, 20_000);

  it('reads the 10,000 test images, flattened or limited on request', () => {
    const test = fashionMnist({ split: 'test', flatten: true });
    expect(test.images.shape).toEqual([10000, 784]);
    expect(counts(test.labels)).toEqual(new Array(10).fill(1000));
    expect(values(test.labels).slice(0, 5)).toEqual([9, 2, 1, 1, 6]);
    const few = fashionMnist({ split: 'test', limit: 5 });
    expect(few.images.shape).toEqual([5, 1, 28, 28]);
    expect(values(few.images)).toEqual(values(test.images).slice(0, 5 * 784));
    expect(values(few.labels)).toEqual([9, 2, 1, 1, 6]);
  });

  it('feeds a DataLoader', () => {
    const { images, labels } = fashionMnist({ limit: 256 });
    const loader = new DataLoader(new TensorDataset(images, labels), {
      batchSize: 100,
      shuffle: true,
      seed: 0,
    });
    const batches = [...loader];
    expect(batches.map(([x]) => x.shape[0])).toEqual([100, 100, 56]);
    expect(batches[0][0].shape).toEqual([100, 1, 28, 28]);
  });
});

describe('fashionMnist errors', () => {
  const dir = tempDir('fashion');

  it('says how to install the files when they are absent', () => {
    let caught: unknown;
    try {
      fashionMnist({ dir });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DatasetNotFoundError);
    const message = (caught as Error).message;
    expect(message).toContain(`${dir}/train-images-idx3-ubyte.gz does not exist`);
    expect(message).toContain('apt-get install dataset-fashion-mnist');
    expect(message).toContain('fashionMnist({ dir })');
  });

  it('reads files written in the same format, and rejects labels that do not match', () => {
    const images = T.random.randint(T.random.key(0), [3, 28, 28], 0, 256);
    writeIdx(`${dir}/t10k-images-idx3-ubyte.gz`, images, { type: 'uint8' });
    writeIdx(`${dir}/t10k-labels-idx1-ubyte`, T.array(Int32Array.from([9, 0, 3])), { type: 'uint8' });
    const set = fashionMnist({ dir, split: 'test' });
    expect(values(set.labels)).toEqual([9, 0, 3]);
    expect(values(set.images)).toEqual(values(images).map((v) => Math.fround(v / 255)));
    expect(set.classes).toBe(FASHION_MNIST_CLASSES);
    const labelPath = `${dir}/t10k-labels-idx1-ubyte`;
    writeIdx(labelPath, T.array(Int32Array.from([9, 0])), { type: 'uint8' });
    expectFormatError(() => fashionMnist({ dir, split: 'test' }), labelPath, 4, /2 labels for 3 images/);
    writeIdx(labelPath, T.array(Int32Array.from([9, 0, 12])), { type: 'uint8' });
    expectFormatError(() => fashionMnist({ dir, split: 'test' }), labelPath, 10, /label 12 of example 2/);
  });
});
