import { checkRecord, describe, random, ValueError } from '@tsgrad/tensor';
import { type Collated, defaultCollate } from './collate.js';
import { type Dataset, type IterableDataset, isMapDataset } from './dataset.js';
import { keyFrom, permutationOf, type SeedOptions } from './seed.js';

export interface DataLoaderOptions<T, B> extends SeedOptions {
  /** Items per batch (default 1). */
  readonly batchSize?: number;
  /**
   * Reshuffle the items every epoch (default false; map-style datasets only). Epoch e uses the
   * permutation of `foldIn(key, e)`, so the same seed gives the same batches, epoch by epoch.
   */
  readonly shuffle?: boolean;
  /** Drop the last batch when it is smaller than `batchSize` (default false). */
  readonly dropLast?: boolean;
  /** Makes a batch from a list of items (default `defaultCollate`). */
  readonly collate?: (items: T[]) => B;
  /**
   * Batches fetched ahead during `for await` (default 1; 0 turns it off): the fetch of batch
   * i+1 starts before batch i is handed to the consumer, so asynchronous reads (files, network,
   * timers) overlap the consumer's work on batch i. Synchronous reads gain nothing from it,
   * since JavaScript runs them on the same thread. Plain `for…of` never prefetches.
   */
  readonly prefetch?: number;
}

interface Chunk<B> {
  readonly batch?: B;
  /** True when the source has no further items. */
  readonly done: boolean;
}

const ignore = () => {};

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as Partial<Promise<T>> | null)?.then === 'function';
}

function checkCount(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) {
    throw new ValueError('DataLoader', `${name} must be an integer ≥ ${min}, got ${describe(value)}`);
  }
  return value;
}

/**
 * Batches a dataset (PyTorch's `DataLoader`). Iterate it once per epoch: `for…of` for
 * synchronous datasets, `for await…of` for any (with prefetch). Every new iteration is the
 * next epoch; `setEpoch` picks the epoch explicitly (to resume a run).
 *
 * @example
 * const loader = new DataLoader(new TensorDataset(x, y), { batchSize: 64, shuffle: true, seed: 1 });
 * for (const [xb, yb] of loader) { ... }
 */
export class DataLoader<T, B = Collated<T>> implements Iterable<B>, AsyncIterable<B> {
  /** The number of items per batch (the last may be smaller unless `dropLast`). */
  readonly batchSize: number;
  /** Whether each epoch visits the items in a new random order (seeded). */
  readonly shuffle: boolean;
  /** Whether a last, smaller batch is dropped. */
  readonly dropLast: boolean;
  /** How many batches of an async dataset are read ahead. */
  readonly prefetch: number;
  private readonly key: random.PRNGKey;
  private readonly collate: (items: T[]) => B;
  private readonly usesDefaultCollate: boolean;
  private nextEpoch = 0;

  constructor(
    /** The dataset the batches come from (map-style or iterable). */
    readonly dataset: Dataset<T> | IterableDataset<T>,
    options: DataLoaderOptions<T, B> = {},
  ) {
    checkRecord('DataLoader', 'options', options);
    this.batchSize = checkCount('batchSize', options.batchSize ?? 1, 1);
    this.prefetch = checkCount('prefetch', options.prefetch ?? 1, 0);
    this.shuffle = options.shuffle ?? false;
    this.dropLast = options.dropLast ?? false;
    this.key = keyFrom('DataLoader', options);
    this.usesDefaultCollate = options.collate === undefined;
    this.collate = options.collate ?? ((items) => defaultCollate(items) as B);
    if (this.shuffle && !isMapDataset(dataset)) {
      throw new ValueError(
        'DataLoader',
        'shuffle needs a map-style dataset (with length and get), not an iterable',
      );
    }
  }

  /** The number of batches in an epoch (map-style datasets only). */
  get length(): number {
    const { dataset } = this;
    if (!isMapDataset(dataset)) throw new ValueError('DataLoader', 'an iterable dataset has no length');
    const full = Math.floor(dataset.length / this.batchSize);
    return this.dropLast || dataset.length % this.batchSize === 0 ? full : full + 1;
  }

  /** The epoch the next iteration will be. */
  get epoch(): number {
    return this.nextEpoch;
  }

  /** Makes the next iteration epoch `epoch` (its shuffle order), as when resuming a run. */
  setEpoch(epoch: number): void {
    this.nextEpoch = checkCount('epoch', epoch, 0);
  }

  /** The item indices of each batch of `epoch` (map-style datasets only). */
  batchIndices(epoch: number): number[][] {
    const { dataset } = this;
    if (!isMapDataset(dataset)) throw new ValueError('DataLoader', 'an iterable dataset has no indices');
    checkCount('epoch', epoch, 0);
    const n = dataset.length;
    const order = this.shuffle
      ? permutationOf(random.foldIn(this.key, epoch), n)
      : Array.from({ length: n }, (_, i) => i);
    return Array.from({ length: this.length }, (_, b) =>
      order.slice(b * this.batchSize, (b + 1) * this.batchSize),
    );
  }

  /**
   * One epoch of batches: `for (const batch of loader)`. Each iteration starts a new epoch (a new order when
   * shuffling).
   */
  [Symbol.iterator](): Iterator<B> {
    return this.syncBatches(this.nextEpoch++);
  }

  /**
   * One epoch of batches for `for await`, reading ahead `prefetch` batches; needed when `get` returns
   * Promises.
   */
  [Symbol.asyncIterator](): AsyncIterator<B> {
    return this.asyncBatches(this.nextEpoch++);
  }

  private keep(items: readonly unknown[]): boolean {
    return items.length === this.batchSize || (items.length > 0 && !this.dropLast);
  }

  private *syncBatches(epoch: number): Generator<B> {
    const { dataset } = this;
    if (isMapDataset(dataset)) {
      for (const indices of this.batchIndices(epoch)) {
        const batch = this.fetch(dataset, indices);
        if (isPromise(batch)) {
          batch.catch(ignore); // abandoned: its failure must not surface as an unhandled rejection
          throw new ValueError(
            'DataLoader',
            'the dataset reads items asynchronously (get returned a Promise): iterate with for await',
          );
        }
        yield batch;
      }
      return;
    }
    if (!(Symbol.iterator in dataset)) {
      throw new ValueError('DataLoader', 'an async iterable dataset must be iterated with for await');
    }
    let items: T[] = [];
    for (const item of dataset) {
      items.push(item);
      if (items.length === this.batchSize) {
        yield this.collate(items);
        items = [];
      }
    }
    if (this.keep(items)) yield this.collate(items);
  }

  /** One batch of a map-style dataset; a Promise only when the dataset reads asynchronously. */
  private fetch(dataset: Dataset<T>, indices: number[]): B | Promise<B> {
    if (this.usesDefaultCollate && dataset.getBatch !== undefined) {
      return dataset.getBatch(indices) as B | Promise<B>;
    }
    const items = indices.map((i) => dataset.get(i));
    if (items.some(isPromise)) return Promise.all(items).then((values) => this.collate(values));
    return this.collate(items as T[]);
  }

  private asyncBatches(epoch: number): AsyncGenerator<B> {
    const { dataset } = this;
    if (isMapDataset(dataset)) {
      const plan = this.batchIndices(epoch);
      let next = 0;
      // Batches of a map-style dataset are independent, so prefetched reads may overlap.
      return this.prefetched(false, async () => {
        if (next >= plan.length) return { done: true };
        const indices = plan[next++];
        const done = next >= plan.length;
        return { batch: await this.fetch(dataset, indices), done };
      });
    }
    const iterator =
      Symbol.asyncIterator in dataset ? dataset[Symbol.asyncIterator]() : dataset[Symbol.iterator]();
    let finished = false;
    return this.prefetched(true, async () => {
      const items: T[] = [];
      while (!finished && items.length < this.batchSize) {
        const result = await iterator.next();
        if (result.done) finished = true;
        else items.push(result.value);
      }
      return { batch: this.keep(items) ? this.collate(items) : undefined, done: finished };
    });
  }

  /**
   * Yields the batches `read` produces, keeping `prefetch` reads in flight: the next read
   * starts before the current batch is yielded. With `serial`, each read waits for the
   * previous one (reads of one iterator must not interleave).
   */
  private async *prefetched(serial: boolean, read: () => Promise<Chunk<B>>): AsyncGenerator<B> {
    let tail: Promise<unknown> = Promise.resolve();
    const start = (): Promise<Chunk<B>> => {
      const chunk = serial ? tail.then(read) : read();
      tail = chunk;
      // Errors surface when the chunk is awaited; until then it must not count as unhandled.
      chunk.catch(ignore);
      return chunk;
    };
    const pending: Promise<Chunk<B>>[] = [];
    let exhausted = false;
    for (;;) {
      if (pending.length === 0) {
        if (exhausted) return;
        pending.push(start());
      }
      const chunk = await pending.shift()!;
      if (chunk.done) exhausted = true;
      while (!exhausted && pending.length < this.prefetch) pending.push(start());
      if (chunk.batch !== undefined) yield chunk.batch;
    }
  }
}
