import { array, NDArray, stack, TsgradError, type TypedArray, ValueError } from '@tsgrad/tensor';
import { checkList } from './validate.js';

/**
 * The batch `defaultCollate` makes from items of type T: arrays and numbers become one
 * NDArray with a new leading batch axis, strings stay a list, and tuples and objects are
 * collated position by position / key by key (PyTorch's `default_collate`).
 */
export type Collated<T> = T extends NDArray | number | boolean | TypedArray
  ? NDArray
  : T extends string
    ? string[]
    : T extends readonly unknown[]
      ? { -readonly [K in keyof T]: Collated<T[K]> }
      : T extends object
        ? { -readonly [K in keyof T]: Collated<T[K]> }
        : never;

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
/** Items nested deeper than this are refused (a recursion this deep would exhaust the stack). */
const MAX_NESTING = 64;

function fail(path: string, detail: string): never {
  throw new ValueError('collate', `${path === '' ? '' : `at ${path}: `}${detail}`);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  return value.constructor?.name ?? 'object';
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function requireAll<U>(
  items: readonly unknown[],
  path: string,
  what: string,
  test: (x: unknown) => x is U,
): U[] {
  items.forEach((item, i) => {
    if (!test(item)) fail(path, `item ${i} is ${describe(item)}, but item 0 is ${what}`);
  });
  return items as U[];
}

function stackChecked(arrays: readonly NDArray[], path: string): NDArray {
  try {
    return stack(arrays);
  } catch (error) {
    if (error instanceof TsgradError) fail(path, error.message);
    throw error;
  }
}

/** Numbers become int32 when every one is an int32 integer, float32 otherwise. */
function collateNumbers(values: readonly number[]): NDArray {
  const integral = values.every((v) => Number.isInteger(v) && v >= INT32_MIN && v <= INT32_MAX);
  return integral ? array(Int32Array.from(values)) : array(Float32Array.from(values));
}

function collateAt(items: readonly unknown[], path: string, depth = 0): unknown {
  if (depth > MAX_NESTING) fail(path, `items nest deeper than ${MAX_NESTING} levels`);
  const first = items[0];
  if (first instanceof NDArray) {
    return stackChecked(
      requireAll(items, path, 'an NDArray', (x): x is NDArray => x instanceof NDArray),
      path,
    );
  }
  if (ArrayBuffer.isView(first)) {
    const views = requireAll(items, path, 'a typed array', (x): x is TypedArray => ArrayBuffer.isView(x));
    const rows = views.map((v) => array(v));
    try {
      return stackChecked(rows, path);
    } finally {
      for (const row of rows) row.dispose();
    }
  }
  if (typeof first === 'number') {
    return collateNumbers(requireAll(items, path, 'a number', (x): x is number => typeof x === 'number'));
  }
  if (typeof first === 'boolean') {
    const flags = requireAll(items, path, 'a boolean', (x): x is boolean => typeof x === 'boolean');
    return array(flags);
  }
  if (typeof first === 'string') {
    return [...requireAll(items, path, 'a string', (x): x is string => typeof x === 'string')];
  }
  if (Array.isArray(first)) {
    const rows = requireAll(items, path, 'an array', (x): x is unknown[] => Array.isArray(x));
    rows.forEach((row, i) => {
      if (row.length !== first.length) {
        fail(
          path,
          `every item must have the same length, but item ${i} has ${row.length} and item 0 has ${first.length}`,
        );
      }
    });
    return first.map((_, j) =>
      collateAt(
        rows.map((row) => row[j]),
        `${path}[${j}]`,
        depth + 1,
      ),
    );
  }
  if (isPlainObject(first)) {
    const records = requireAll(items, path, 'an object', isPlainObject);
    const keys = Object.keys(first);
    const out: Record<string, unknown> = {};
    for (const key of keys) {
      records.forEach((record, i) => {
        if (!(key in record)) fail(path, `item ${i} has no key '${key}' (item 0 has it)`);
      });
      out[key] = collateAt(
        records.map((record) => record[key]),
        path === '' ? key : `${path}.${key}`,
        depth + 1,
      );
    }
    return out;
  }
  return fail(
    path,
    `cannot collate ${describe(first)} items (expected NDArrays, numbers, booleans, strings, arrays or plain objects of them)`,
  );
}

/**
 * PyTorch's `default_collate`: stacks a list of items into a batch along a new axis 0.
 * NDArrays and typed arrays are stacked; numbers give an int32 array when all are int32
 * integers and float32 otherwise (so give float targets as NDArrays, or the dtype can change
 * from batch to batch); booleans give a bool array; strings stay a list; arrays (tuples) and
 * plain objects are collated element by element, recursively.
 */
export function defaultCollate<T>(items: readonly T[]): Collated<T> {
  checkList('defaultCollate', 'items', items);
  if (items.length === 0) fail('', 'cannot collate an empty batch');
  return collateAt(items, '') as Collated<T>;
}
