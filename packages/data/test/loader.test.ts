import { DataLoader, type Dataset, TensorDataset } from '@tsgrad/data';
import * as T from '@tsgrad/tensor';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { sleep, values } from './helpers.js';

/** A dataset of the numbers 0…n-1, as [index] float arrays. */
const numbers = (n: number) => new TensorDataset(T.arange(n, undefined, 1, { dtype: 'float32' }));

const order = (loader: Iterable<T.NDArray[]>) => [...loader].map(([x]) => values(x));

async function collect<B>(loader: AsyncIterable<B>): Promise<B[]> {
  const out: B[] = [];
  for await (const batch of loader) out.push(batch);
  return out;
}

describe('DataLoader batching', () => {
  it('batches in order, with a short last batch unless dropLast', () => {
    const loader = new DataLoader(numbers(10), { batchSize: 4 });
    expect(loader.length).toBe(3);
    expect(order(loader)).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9],
    ]);
    const dropping = new DataLoader(numbers(10), { batchSize: 4, dropLast: true });
    expect(dropping.length).toBe(2);
    expect(order(dropping)).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
    ]);
    expect(new DataLoader(numbers(8), { batchSize: 4, dropLast: true }).length).toBe(2);
    expect(new DataLoader(numbers(3)).length).toBe(3);
  });

  it('gives TensorDataset batches as (x, y) tuples of stacked rows', () => {
    const x = T.reshape(T.arange(12, undefined, 1, { dtype: 'float32' }), [6, 2]);
    const y = T.array(Int32Array.from([0, 1, 2, 0, 1, 2]));
    const [[xb, yb]] = new DataLoader(new TensorDataset(x, y), { batchSize: 3 });
    expect(xb.shape).toEqual([3, 2]);
    expect(xb.toArray()).toEqual([
      [0, 1],
      [2, 3],
      [4, 5],
    ]);
    expect(yb.dtype).toBe('int32');
    expect(values(yb)).toEqual([0, 1, 2]);
  });

  it('reads the same batches through getBatch as through get + defaultCollate', () => {
    const base = new TensorDataset(T.reshape(T.arange(20, undefined, 1, { dtype: 'float32' }), [10, 2]));
    const plain: Dataset<T.NDArray[]> = { length: base.length, get: (i) => base.get(i) };
    const options = { batchSize: 3, shuffle: true, seed: 5 };
    const fast = [...new DataLoader(base, options)].map(([x]) => x.toArray());
    const slow = [...new DataLoader(plain, options)].map(([x]) => x.toArray());
    expect(fast).toEqual(slow);
  });

  it('uses a custom collate for tuples and objects', () => {
    const dataset: Dataset<{ id: number; tag: string }> = {
      length: 5,
      get: (i) => ({ id: i, tag: `item${i}` }),
    };
    const loader = new DataLoader(dataset, {
      batchSize: 2,
      collate: (items) => items.map((it) => it.tag).join('+'),
    });
    expect([...loader]).toEqual(['item0+item1', 'item2+item3', 'item4']);
    const defaults = [...new DataLoader(dataset, { batchSize: 5 })];
    expect(values(defaults[0].id)).toEqual([0, 1, 2, 3, 4]);
    expect(defaults[0].tag).toEqual(['item0', 'item1', 'item2', 'item3', 'item4']);
  });

  it('infers the batch type from the dataset and the collate function', () => {
    const tensors = new DataLoader(numbers(4));
    expectTypeOf([...tensors][0]).toEqualTypeOf<T.NDArray[]>();
    const records = new DataLoader({ length: 2, get: async (i: number) => ({ x: T.zeros([i]), name: 'a' }) });
    expectTypeOf<typeof records extends DataLoader<infer _T, infer B> ? B : never>().toEqualTypeOf<{
      x: T.NDArray;
      name: string[];
    }>();
    const joined = new DataLoader(numbers(4), { collate: (items) => items.length });
    expectTypeOf([...joined][0]).toEqualTypeOf<number>();
  });

  it('rejects bad options', () => {
    expect(() => new DataLoader(numbers(3), { batchSize: 0 })).toThrow(/batchSize must be an integer ≥ 1/);
    expect(() => new DataLoader(numbers(3), { prefetch: -1 })).toThrow(/prefetch/);
    expect(() => new DataLoader(numbers(3), { seed: 1, key: T.random.key(1) })).toThrow(/either seed or key/);
    expect(() => new DataLoader([1, 2, 3], { shuffle: true })).toThrow(/shuffle needs a map-style dataset/);
    expect(() => new DataLoader([1, 2, 3]).length).toThrow(/no length/);
  });
});

describe('DataLoader shuffling', () => {
  it('gives the same batches for the same seed, and a new order every epoch', () => {
    const a = new DataLoader(numbers(20), { batchSize: 5, shuffle: true, seed: 42 });
    const b = new DataLoader(numbers(20), { batchSize: 5, shuffle: true, seed: 42 });
    const epoch0 = order(a);
    const epoch1 = order(a);
    expect(order(b)).toEqual(epoch0);
    expect(order(b)).toEqual(epoch1);
    expect(epoch1).not.toEqual(epoch0);
    // Each epoch is a permutation of every item.
    for (const epoch of [epoch0, epoch1]) {
      expect(epoch.flat().sort((p, q) => p - q)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    }
    const other = new DataLoader(numbers(20), { batchSize: 5, shuffle: true, seed: 43 });
    expect(order(other)).not.toEqual(epoch0);
  });

  it('takes a PRNG key instead of a seed, and can jump to an epoch to resume', () => {
    const withKey = new DataLoader(numbers(12), { batchSize: 4, shuffle: true, key: T.random.key(7) });
    const withSeed = new DataLoader(numbers(12), { batchSize: 4, shuffle: true, seed: 7 });
    const epoch0 = order(withSeed);
    const epoch1 = order(withSeed);
    expect(order(withKey)).toEqual(epoch0);
    const resumed = new DataLoader(numbers(12), { batchSize: 4, shuffle: true, seed: 7 });
    resumed.setEpoch(1);
    expect(resumed.epoch).toBe(1);
    expect(order(resumed)).toEqual(epoch1);
    expect(resumed.epoch).toBe(2);
  });

  it('numbers the epochs identically in sync and async iteration', async () => {
    const sync = new DataLoader(numbers(9), { batchSize: 3, shuffle: true, seed: 3 });
    const asyncLoader = new DataLoader(numbers(9), { batchSize: 3, shuffle: true, seed: 3 });
    const syncOrders = [order(sync), order(sync)];
    const asyncOrders = [];
    for (let e = 0; e < 2; e++) asyncOrders.push((await collect(asyncLoader)).map(([x]) => values(x)));
    expect(asyncOrders).toEqual(syncOrders);
    expect(sync.batchIndices(1).flat()).toEqual(syncOrders[1].flat());
  });
});

/** A dataset whose items take `delay` ms to read. */
function slowDataset(n: number, delay: number): Dataset<T.NDArray> {
  return {
    length: n,
    get: async (i) => {
      await sleep(delay);
      return T.array([i]);
    },
  };
}

describe('DataLoader iteration', () => {
  it('iterates an async map-style dataset with for await, and refuses plain for…of', async () => {
    const loader = new DataLoader(slowDataset(5, 1), { batchSize: 2 });
    const batches = await collect(loader);
    expect(batches.map(values)).toEqual([[0, 1], [2, 3], [4]]);
    expect(() => [...loader]).toThrow(/iterate with for await/);
  });

  it('batches sync and async iterable datasets', async () => {
    function* counter() {
      for (let i = 0; i < 7; i++) yield i;
    }
    async function* slowCounter() {
      for (let i = 0; i < 7; i++) {
        await sleep(1);
        yield i;
      }
    }
    expect([...new DataLoader(counter(), { batchSize: 3 })].map(values)).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    const asyncBatches = await collect(new DataLoader(slowCounter(), { batchSize: 3, dropLast: true }));
    expect(asyncBatches.map(values)).toEqual([
      [0, 1, 2],
      [3, 4, 5],
    ]);
    const prefetchedMore = await collect(new DataLoader(slowCounter(), { batchSize: 2, prefetch: 3 }));
    expect(prefetchedMore.map(values)).toEqual([[0, 1], [2, 3], [4, 5], [6]]);
    expect(() => [...new DataLoader(slowCounter())]).toThrow(/for await/);
  });

  it('overlaps the fetch of batch i+1 with the work on batch i', async () => {
    const steps = 8;
    const delay = 30;
    const run = async (prefetch: number) => {
      const loader = new DataLoader(slowDataset(steps, delay), { batchSize: 1, prefetch });
      const start = performance.now();
      for await (const _ of loader) await sleep(delay); // the consumer's work on the batch
      return performance.now() - start;
    };
    const sequentialSum = 2 * steps * delay;
    const overlapped = await run(1);
    const sequential = await run(0);
    expect(sequential).toBeGreaterThanOrEqual(sequentialSum * 0.95);
    // With prefetch the total approaches (steps + 1) · delay, about half the sequential time.
    expect(overlapped).toBeLessThan(sequential * 0.8);
  });

  it('reads the items of a batch concurrently and passes errors to the consumer', async () => {
    const failing: Dataset<number> = {
      length: 4,
      get: async (i) => {
        await sleep(1);
        if (i === 3) throw new Error('disk on fire');
        return i;
      },
    };
    const seen: number[][] = [];
    await expect(async () => {
      for await (const batch of new DataLoader(failing, { batchSize: 2, prefetch: 2 }))
        seen.push(values(batch));
    }).rejects.toThrow('disk on fire');
    expect(seen).toEqual([[0, 1]]);
  });
});
