import { checkArray, checkArrayList } from '../check.js';
import { runPrimitive } from '../dispatch.js';
import { DTypeError, describe, formatShape, ShapeError, ValueError } from '../errors.js';
import type { NDArray } from '../ndarray.js';
import { normalizeAxis } from '../shape.js';
import { arange, zeros } from './creation.js';
import { cast, eq, ge, le, resultType, sub, where } from './elementwise.js';
import { checkIndexRange, indexSelect } from './indexing.js';
import { disposeTemporaries, disposing } from './temporaries.js';
import { reshape, slice, unsqueeze } from './views.js';

/** How `pad` fills: with a constant, or by reflecting the array at its edges (the edge not repeated). */
export type PadMode = 'constant' | 'reflect';

/**
 * Pads with `widths[i] = [before, after]` for the leading axes (missing ones are not padded).
 * 'reflect' mirrors without repeating the edge (NumPy's 'reflect', PyTorch's 'reflect') and
 * is composed from indexSelect, so it needs no kernel of its own.
 */
export function pad(
  x: NDArray,
  widths: readonly (readonly [number, number])[],
  options: { mode?: PadMode; value?: number } = {},
): NDArray {
  checkArray('pad', x);
  if (!Array.isArray(widths))
    throw new ValueError('pad', `widths must be a list of [before, after] pairs, got ${describe(widths)}`);
  if (widths.length > x.ndim) {
    throw new ValueError('pad', `${widths.length} pad widths for an array of rank ${x.ndim}`);
  }
  const full = x.shape.map((_, i) => widths[i] ?? ([0, 0] as const));
  if (!full.every((w) => Array.isArray(w) && w.length === 2)) {
    throw new ValueError('pad', 'widths must be a list of [before, after] pairs');
  }
  for (const [before, after] of full) {
    if (!Number.isInteger(before) || !Number.isInteger(after) || before < 0 || after < 0) {
      throw new ValueError(
        'pad',
        `pad widths must be non-negative integers, got [${widths.map(formatShape).join(',')}]`,
      );
    }
  }
  const mode = options.mode ?? 'constant';
  if (mode === 'reflect') {
    return full.reduce((acc, w, axis) => {
      const next = reflectAxis(acc, axis, w);
      if (next !== acc) disposeTemporaries([acc], [x]);
      return next;
    }, x);
  }
  if (mode !== 'constant') {
    throw new ValueError('pad', `unknown mode '${mode}' (expected 'constant' or 'reflect')`);
  }
  const shape = x.shape.map((d, i) => d + full[i][0] + full[i][1]);
  const given = options.value ?? 0;
  // A bool array holds 0 or 1, so the fill value is converted the way cast converts to bool.
  const value = x.dtype === 'bool' ? Number(given !== 0) : given;
  return runPrimitive('pad', [x], { widths: full, value }, [{ shape, dtype: x.dtype }])[0];
}

function reflectAxis(x: NDArray, axis: number, [before, after]: readonly [number, number]): NDArray {
  if (before === 0 && after === 0) return x;
  const n = x.shape[axis];
  if (before >= n || after >= n) {
    throw new ValueError(
      'pad',
      `reflect padding [${before},${after}] must be smaller than axis ${axis} of size ${n}`,
    );
  }
  const index = Int32Array.from({ length: n + before + after }, (_, i) => {
    const j = i - before;
    return j < 0 ? -j : j >= n ? 2 * (n - 1) - j : j;
  });
  return indexSelect(x, axis, index);
}

/** Joins arrays along an existing axis; they must agree on every other axis. */
export function concat(arrays: readonly NDArray[], axis = 0): NDArray {
  checkArrayList('concat', arrays);
  if (arrays.length === 0) throw new ValueError('concat', 'needs at least one array');
  const first = arrays[0];
  if (first.ndim === 0) throw new ShapeError('concat', 'cannot concatenate 0-d arrays (stack them instead)');
  const a = normalizeAxis('concat', axis, first.ndim);
  for (const x of arrays) {
    if (x.ndim !== first.ndim || x.shape.some((d, i) => i !== a && d !== first.shape[i])) {
      throw new ShapeError(
        'concat',
        `shapes ${arrays.map((y) => formatShape(y.shape)).join(', ')} differ outside axis ${a}`,
      );
    }
  }
  const dtype = resultType(...arrays);
  const inputs = arrays.map((x) => cast(x, dtype));
  const shape = first.shape.map((d, i) => (i === a ? inputs.reduce((s, x) => s + x.shape[a], 0) : d));
  return disposing(inputs, arrays, () => runPrimitive('concat', inputs, { axis: a }, [{ shape, dtype }])[0]);
}

/** Joins same-shaped arrays along a new axis. */
export function stack(arrays: readonly NDArray[], axis = 0): NDArray {
  checkArrayList('stack', arrays);
  if (arrays.length === 0) throw new ValueError('stack', 'needs at least one array');
  const first = arrays[0];
  for (const x of arrays) {
    if (x.ndim !== first.ndim || x.shape.some((d, i) => d !== first.shape[i])) {
      throw new ShapeError(
        'stack',
        `all arrays must have one shape, got ${arrays.map((y) => formatShape(y.shape)).join(', ')}`,
      );
    }
  }
  const a = normalizeAxis('stack', axis, first.ndim + 1);
  const columns = arrays.map((x) => unsqueeze(x, a));
  return disposing(columns, [], () => concat(columns, a));
}

/** The most sections `split` makes beyond the axis length (each an empty piece). */
const MAX_EMPTY_SECTIONS = 1024;

/**
 * Splits along `axis` into pieces of the given sizes (which must add up to the axis length),
 * or into `sections` equal pieces. The pieces are views.
 */
export function split(x: NDArray, sizesOrSections: number | readonly number[], axis = 0): NDArray[] {
  checkArray('split', x);
  if (x.ndim === 0) throw new ShapeError('split', 'cannot split a 0-d array');
  const a = normalizeAxis('split', axis, x.ndim);
  const n = x.shape[a];
  let sizes: number[];
  if (typeof sizesOrSections === 'number') {
    // Sections beyond the axis length are empty pieces: a few are fine, 2^31 exhaust memory.
    const tooMany = sizesOrSections > Math.max(n, MAX_EMPTY_SECTIONS);
    if (!Number.isInteger(sizesOrSections) || sizesOrSections <= 0 || tooMany || n % sizesOrSections !== 0) {
      throw new ValueError(
        'split',
        `axis ${a} of size ${n} cannot be split into ${sizesOrSections} equal sections`,
      );
    }
    sizes = new Array<number>(sizesOrSections).fill(n / sizesOrSections);
  } else {
    if (!Array.isArray(sizesOrSections)) {
      throw new ValueError(
        'split',
        `expected a number of sections or a list of sizes, got ${describe(sizesOrSections)}`,
      );
    }
    sizes = [...sizesOrSections];
    if (sizes.some((s) => !Number.isInteger(s) || s < 0) || sizes.reduce((s, t) => s + t, 0) !== n) {
      throw new ValueError('split', `sizes ${formatShape(sizes)} do not add up to axis ${a} of size ${n}`);
    }
  }
  let start = 0;
  return sizes.map((size) => {
    const piece = slice(
      x,
      x.shape.map((_, i) => (i === a ? { start, stop: start + size } : null)),
    );
    start += size;
    return piece;
  });
}

function triangle(op: 'tril' | 'triu', x: NDArray, k: number): NDArray {
  checkArray(op, x);
  if (x.ndim < 2) throw new ShapeError(op, `needs at least 2 dimensions, got ${formatShape(x.shape)}`);
  if (!Number.isInteger(k))
    throw new ValueError(op, `diagonal offset must be an integer, got ${describe(k)}`);
  const [rows, cols] = x.shape.slice(-2);
  const [j, i] = [arange(cols), arange(rows)];
  const [row, column] = [reshape(j, [1, cols]), reshape(i, [rows, 1])];
  const offset = sub(row, column);
  // Offsets beyond the matrix act like its edge; clamping keeps k inside int32.
  const edge = Math.min(Math.max(k, -rows), cols);
  const keep = op === 'tril' ? le(offset, edge) : ge(offset, edge);
  const zero = zeros([], { dtype: x.dtype });
  return disposing([j, i, row, column, offset, keep, zero], [], () => where(keep, x, zero));
}

/** Keeps the lower triangle (j − i ≤ k) of the last two axes and zeroes the rest. */
export const tril = (x: NDArray, k = 0) => triangle('tril', x, k);
/** Keeps the upper triangle (j − i ≥ k) of the last two axes and zeroes the rest. */
export const triu = (x: NDArray, k = 0) => triangle('triu', x, k);

/** One-hot encodes int32 class indices in [0, numClasses) along a new last axis. */
export function oneHot(
  indices: NDArray,
  numClasses: number,
  options: { dtype?: 'float32' | 'float64' | 'int32' } = {},
): NDArray {
  checkArray('oneHot', indices, 'indices');
  if (indices.dtype !== 'int32') {
    throw new DTypeError('oneHot', `indices must be int32, got ${indices.dtype}`);
  }
  if (!Number.isInteger(numClasses) || numClasses < 0) {
    throw new ValueError('oneHot', `numClasses must be a non-negative integer, got ${describe(numClasses)}`);
  }
  checkIndexRange('oneHot', indices, numClasses);
  const column = unsqueeze(indices, -1);
  const classes = arange(numClasses);
  const hot = disposing([column, classes], [], () => eq(column, classes));
  // hot is bool and the result is not, so the cast makes a new array.
  return disposing([hot], [], () => cast(hot, options.dtype ?? 'float32'));
}
