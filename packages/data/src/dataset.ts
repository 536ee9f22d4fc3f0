import {
  checkArray,
  IndexError,
  indexSelect,
  type NDArray,
  ShapeError,
  slice,
  ValueError,
} from '@tsgrad/tensor';
import type { Collated } from './collate.js';
import { checkList } from './validate.js';

/** A value, or a promise of it: map-style datasets may read their items asynchronously. */
export type MaybePromise<T> = T | Promise<T>;

/**
 * A map-style dataset (PyTorch's `Dataset`): `length` items read by index. `get` may return a
 * Promise (reading files, fetching); such a dataset is iterated with `for await`.
 */
export interface Dataset<T> {
  /** The number of items. */
  readonly length: number;
  /** The item at `index`, in `[0, length)`; an out-of-range index throws an `IndexError`. */
  get(index: number): MaybePromise<T>;
  /**
   * Optional fast path for the DataLoader: the batch of these items exactly as `defaultCollate`
   * would make it (one gather instead of one read per item). Used only with the default collate.
   */
  getBatch?(indices: readonly number[]): MaybePromise<Collated<T>>;
}

/**
 * An iterable-style dataset (PyTorch's `IterableDataset`): a stream of items, sync or async.
 * Each epoch asks it for a new iterator, so to loop over several epochs pass an object whose
 * `[Symbol.iterator]` / `[Symbol.asyncIterator]` starts a new pass, not a generator object
 * (which is exhausted after one).
 */
export type IterableDataset<T> = AsyncIterable<T> | Iterable<T>;

/** True for map-style datasets (anything with a numeric `length` and a `get` method). */
export function isMapDataset<T>(dataset: Dataset<T> | IterableDataset<T>): dataset is Dataset<T> {
  const candidate = dataset as Partial<Dataset<T>> | null | undefined;
  if (typeof candidate !== 'object' || candidate === null) return false;
  return typeof candidate.get === 'function' && typeof candidate.length === 'number';
}

/** Throws unless `dataset` is a map-style dataset. */
export function checkDataset(op: string, dataset: unknown): void {
  if (!isMapDataset(dataset as Dataset<unknown>))
    throw new ValueError(op, 'expected a map-style dataset (a numeric length and a get method)');
}

/** Throws unless `index` is an integer in [0, length). */
export function checkIndex(op: string, index: number, length: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= length) {
    throw new IndexError(op, `index ${index} is out of range for a dataset of length ${length}`);
  }
}

/**
 * Rows of equally long arrays (PyTorch's `TensorDataset`): item i is the tuple of every
 * array's row i along axis 0 (views, no copy).
 */
export class TensorDataset implements Dataset<NDArray[]> {
  /** The arrays, each with `length` rows along axis 0. */
  readonly arrays: readonly NDArray[];

  constructor(...arrays: NDArray[]) {
    arrays.forEach((a, i) => {
      checkArray('TensorDataset', a, `array ${i}`);
    });
    if (arrays.length === 0) throw new ValueError('TensorDataset', 'needs at least one array');
    const rows = arrays[0].shape[0];
    if (arrays.some((a) => a.ndim === 0 || a.shape[0] !== rows)) {
      throw new ShapeError(
        'TensorDataset',
        `every array needs the same size along axis 0, got ${arrays.map((a) => `[${a.shape.join(',')}]`).join(', ')}`,
      );
    }
    this.arrays = arrays;
  }

  /** The number of rows (the arrays' common size along axis 0). */
  get length(): number {
    return this.arrays[0].shape[0];
  }

  /** Row `index` of every array, as views. */
  get(index: number): NDArray[] {
    checkIndex('TensorDataset.get', index, this.length);
    return this.arrays.map((a) => slice(a, [index]));
  }

  getBatch(indices: readonly number[]): NDArray[] {
    return this.arrays.map((a) => indexSelect(a, 0, indices));
  }
}

/** The items of `dataset` at `indices`, in that order (PyTorch's `Subset`). */
export class Subset<T> implements Dataset<T> {
  /** The positions in `dataset` this subset reads, in order. */
  readonly indices: readonly number[];

  constructor(
    /** The dataset the items are read from. */
    readonly dataset: Dataset<T>,
    indices: ArrayLike<number>,
  ) {
    checkDataset('Subset', dataset);
    checkList('Subset', 'indices', indices);
    this.indices = Array.from(indices);
    for (const i of this.indices) checkIndex('Subset', i, dataset.length);
  }

  /** The number of indices. */
  get length(): number {
    return this.indices.length;
  }

  /** The item of `dataset` at `indices[index]`. */
  get(index: number): MaybePromise<T> {
    checkIndex('Subset.get', index, this.length);
    return this.dataset.get(this.indices[index]);
  }

  get getBatch(): ((indices: readonly number[]) => MaybePromise<Collated<T>>) | undefined {
    const inner = this.dataset.getBatch;
    if (inner === undefined) return undefined;
    return (indices) => {
      for (const i of indices) checkIndex('Subset.getBatch', i, this.length);
      return inner.call(
        this.dataset,
        indices.map((i) => this.indices[i]),
      );
    };
  }
}

/** Several datasets one after another (PyTorch's `ConcatDataset`). */
export class ConcatDataset<T> implements Dataset<T> {
  /** `ends[k]` is the number of items in datasets 0…k. */
  private readonly ends: number[] = [];

  /** @param datasets The datasets, in the order their items follow each other. */
  constructor(readonly datasets: readonly Dataset<T>[]) {
    checkList('ConcatDataset', 'datasets', datasets);
    for (const d of Array.from(datasets)) checkDataset('ConcatDataset', d);
    if (datasets.length === 0) throw new ValueError('ConcatDataset', 'needs at least one dataset');
    let total = 0;
    for (const d of datasets) {
      total += d.length;
      this.ends.push(total);
    }
  }

  /** The total number of items of all the datasets. */
  get length(): number {
    return this.ends[this.ends.length - 1];
  }

  /** Item `index` of the concatenation: found in the dataset whose range holds it. */
  get(index: number): MaybePromise<T> {
    checkIndex('ConcatDataset.get', index, this.length);
    let lo = 0;
    let hi = this.ends.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (index < this.ends[mid]) hi = mid;
      else lo = mid + 1;
    }
    const start = lo === 0 ? 0 : this.ends[lo - 1];
    return this.datasets[lo].get(index - start);
  }
}

/**
 * A dataset whose items are `fn(item, index)` of another's (for per-item transforms). Random
 * transforms drawing from their own seeded stream stay reproducible as long as the items are
 * read in a reproducible order, which a seeded DataLoader guarantees.
 */
export function mapDataset<T, U>(dataset: Dataset<T>, fn: (item: T, index: number) => U): Dataset<U> {
  return {
    get length() {
      return dataset.length;
    },
    get(index) {
      const item = dataset.get(index);
      return item instanceof Promise ? item.then((value) => fn(value, index)) : fn(item as T, index);
    },
  };
}
