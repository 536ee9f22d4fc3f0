import {
  array,
  cast,
  checkArray,
  checkRecord,
  contiguous,
  describe,
  div,
  flip,
  formatShape,
  isFloat,
  type NDArray,
  oneHot as oneHotArray,
  pad,
  random,
  ShapeError,
  slice,
  sub,
  toFloat,
  ValueError,
} from '@tsgrad/tensor';
import { keyFrom, type SeedOptions } from './seed.js';
import { checkFunction, checkList } from './validate.js';

/**
 * A function on one NDArray. Random transforms use `key` when one is given (pure, like JAX)
 * and otherwise draw the next key from their own stream, seeded when they were made (so a run
 * that applies them in the same order is reproducible).
 */
export type Transform = (x: NDArray, key?: random.PRNGKey) => NDArray;

/** Applies `transforms` left to right; a given key is split into one subkey per transform. */
export function compose(...transforms: Transform[]): Transform {
  transforms.forEach((t, i) => {
    checkFunction('compose', `transform ${i}`, t);
  });
  return (x, key) => {
    const keys = key === undefined ? undefined : random.split(key, transforms.length);
    return transforms.reduce((acc, t, i) => t(acc, keys?.[i]), x);
  };
}

/** A transform's source of keys: the given key, or the next one of a stream salted per op. */
function keyStream(
  op: string,
  salt: number,
  options: SeedOptions,
): (given?: random.PRNGKey) => random.PRNGKey {
  // The salt keeps two transforms made with the same (default) seed from drawing the same keys.
  const generator = new random.Generator(random.foldIn(keyFrom(op, options), salt));
  return (given) => given ?? generator.next();
}

/** A list of numbers given to `op` as `name`. */
function numbers(op: string, name: string, value: unknown): number[] {
  checkList(op, name, value);
  const list = Array.from(value);
  if (!list.every((x) => typeof x === 'number'))
    throw new ValueError(op, `${name} must be a list of numbers, got ${describe(value)}`);
  return list as number[];
}

/** `view` as a contiguous array: the view itself if it is one, else a copy (and the view is disposed). */
function materialize(view: NDArray): NDArray {
  const out = contiguous(view);
  if (out !== view) view.dispose();
  return out;
}

/** A uniform integer in [0, n] from one 32-bit word (bias below n / 2³², negligible here). */
function offsetUpTo(word: number, n: number): number {
  return Math.floor((word / 2 ** 32) * (n + 1));
}

/**
 * `(x − mean) / std`, per channel when `mean` and `std` are lists (torchvision's
 * `Normalize`): the channel axis is the third from last, as in [C,H,W] and [N,C,H,W]. Integer
 * inputs are converted to float32.
 */
export function normalize(mean: number | readonly number[], std: number | readonly number[]): Transform {
  const means = typeof mean === 'number' ? [mean] : numbers('normalize', 'mean', mean);
  const stds = typeof std === 'number' ? [std] : numbers('normalize', 'std', std);
  if (stds.some((s) => !(s !== 0 && Number.isFinite(s))) || means.some((m) => !Number.isFinite(m))) {
    throw new ValueError(
      'normalize',
      `needs finite means and finite non-zero stds, got mean=${mean}, std=${std}`,
    );
  }
  const perChannel = typeof mean !== 'number' || typeof std !== 'number';
  const channels = Math.max(means.length, stds.length);
  if ((means.length !== 1 && means.length !== channels) || (stds.length !== 1 && stds.length !== channels)) {
    throw new ValueError(
      'normalize',
      `mean has ${means.length} values and std ${stds.length}; they must match`,
    );
  }
  const column = (values: number[], dtype: 'float32' | 'float64') => {
    const data = Float64Array.from({ length: channels }, (_, c) => values[values.length === 1 ? 0 : c]);
    return array(dtype === 'float32' ? Float32Array.from(data) : data, {
      shape: perChannel ? [channels, 1, 1] : [],
    });
  };
  return (x) => {
    checkArray('normalize', x, 'x');
    if (perChannel && (x.ndim < 3 || x.shape[x.ndim - 3] !== channels)) {
      throw new ShapeError(
        'normalize',
        `${channels} channel means/stds need an input of shape [...,${channels},H,W], got [${x.shape.join(',')}]`,
      );
    }
    const dtype = toFloat(x.dtype);
    const input = isFloat(x.dtype) ? x : cast(x, dtype);
    const meanColumn = column(means, dtype);
    const stdColumn = column(stds, dtype);
    const centered = sub(input, meanColumn);
    const out = div(centered, stdColumn);
    for (const temporary of [meanColumn, stdColumn, centered]) temporary.dispose();
    if (input !== x) input.dispose();
    return out;
  };
}

/** One-hot encodes int32 class indices along a new last axis (float32). */
export function oneHot(numClasses: number): Transform {
  if (!Number.isInteger(numClasses) || numClasses < 1)
    throw new ValueError('oneHot', `numClasses must be a positive integer, got ${describe(numClasses)}`);
  return (x) => {
    checkArray('oneHot', x, 'x');
    return oneHotArray(x, numClasses);
  };
}

export interface RandomCropOptions extends SeedOptions {
  /**
   * Padding added before cropping, torchvision style: one number for every side, [left/right,
   * top/bottom], or [left, top, right, bottom].
   */
  readonly padding?: number | readonly [number, number] | readonly [number, number, number, number];
  /** The value of constant padding (default 0). */
  readonly fill?: number;
  /** 'constant' (default) or 'reflect'. */
  readonly paddingMode?: 'constant' | 'reflect';
}

function paddingSides(padding: RandomCropOptions['padding']): [number, number, number, number] {
  if (padding === undefined) return [0, 0, 0, 0];
  if (typeof padding === 'number') return [padding, padding, padding, padding];
  if (!Array.isArray(padding) || !padding.every((p) => typeof p === 'number')) {
    throw new ValueError(
      'randomCrop',
      `padding must be a number or a list of numbers, got ${describe(padding)}`,
    );
  }
  if (padding.length === 2) return [padding[0], padding[1], padding[0], padding[1]];
  if (padding.length === 4) return [padding[0], padding[1], padding[2], padding[3]];
  throw new ValueError(
    'randomCrop',
    `padding must be a number or a list of 2 or 4 numbers, got ${formatShape(padding)}`,
  );
}

/**
 * Pads the last two axes (H, W) and crops a random `size` window out of them (torchvision's
 * `RandomCrop`); `size` is one number for a square or [height, width].
 */
export function randomCrop(
  size: number | readonly [number, number],
  options: RandomCropOptions = {},
): Transform {
  const [height, width] = typeof size === 'number' ? [size, size] : numbers('randomCrop', 'size', size);
  checkRecord('randomCrop', 'options', options);
  const [left, top, right, bottom] = paddingSides(options.padding);
  if (![height, width].every((s) => Number.isInteger(s) && s > 0)) {
    throw new ValueError('randomCrop', `size must be positive integers, got ${describe(size)}`);
  }
  if (![left, top, right, bottom].every((p) => Number.isInteger(p) && p >= 0)) {
    throw new ValueError(
      'randomCrop',
      `padding must be non-negative integers, got ${describe(options.padding)}`,
    );
  }
  const nextKey = keyStream('randomCrop', 1, options);
  return (x, key) => {
    checkArray('randomCrop', x, 'x');
    if (x.ndim < 2)
      throw new ShapeError('randomCrop', `needs an input [...,H,W], got [${x.shape.join(',')}]`);
    const widths = x.shape.map((_, i): [number, number] =>
      i === x.ndim - 2 ? [top, bottom] : i === x.ndim - 1 ? [left, right] : [0, 0],
    );
    const padded =
      left + top + right + bottom === 0
        ? x
        : pad(x, widths, { mode: options.paddingMode, value: options.fill });
    const [h, w] = padded.shape.slice(-2);
    if (h < height || w < width) {
      throw new ShapeError(
        'randomCrop',
        `crop size [${height},${width}] is larger than the padded input [${h},${w}]`,
      );
    }
    const [wordY, wordX] = random.randomBits(nextKey(key), 2);
    const y = offsetUpTo(wordY, h - height);
    const x0 = offsetUpTo(wordX, w - width);
    const specs = padded.shape.map((_, i) =>
      i === padded.ndim - 2
        ? { start: y, stop: y + height }
        : i === padded.ndim - 1
          ? { start: x0, stop: x0 + width }
          : null,
    );
    const out = materialize(slice(padded, specs));
    if (padded !== x) padded.dispose();
    return out;
  };
}

/** Mirrors the last axis (W) with probability `p` (torchvision's `RandomHorizontalFlip`). */
export function randomHorizontalFlip(p = 0.5, options: SeedOptions = {}): Transform {
  checkRecord('randomHorizontalFlip', 'options', options);
  if (typeof p !== 'number' || !(p >= 0 && p <= 1))
    throw new ValueError('randomHorizontalFlip', `p must lie in [0, 1], got ${describe(p)}`);
  const nextKey = keyStream('randomHorizontalFlip', 2, options);
  return (x, key) => {
    checkArray('randomHorizontalFlip', x, 'x');
    if (x.ndim < 1) throw new ShapeError('randomHorizontalFlip', 'needs an input with a last axis');
    const [word] = random.randomBits(nextKey(key), 1);
    return word / 2 ** 32 < p ? materialize(flip(x, -1)) : x;
  };
}
