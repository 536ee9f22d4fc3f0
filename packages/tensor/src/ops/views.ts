import { checkArray } from '../check.js';
import { contiguous } from '../dispatch.js';
import { describe, formatShape, IndexError, ShapeError, ValueError } from '../errors.js';
import { NDArray } from '../ndarray.js';
import { checkShape, contiguousStrides, normalizeAxes, normalizeAxis, type Shape, sizeOf } from '../shape.js';

// Movement ops that only change the view (shape, strides, offset) and share the buffer.

/** Reshape; one size may be -1 and is then inferred. Copies only if `x` is not contiguous. */
export function reshape(x: NDArray, shape: Shape): NDArray {
  checkArray('reshape', x);
  if (!Array.isArray(shape))
    throw new ValueError('reshape', `a shape must be an array of sizes, got ${describe(shape)}`);
  const dims = [...shape];
  const unknown = dims.indexOf(-1);
  if (dims.some((d, i) => !Number.isInteger(d) || d < -1 || (d === -1 && i !== unknown))) {
    throw new ValueError('reshape', `invalid target shape ${formatShape(shape)}`);
  }
  if (unknown >= 0) {
    const known = sizeOf(dims.filter((_, i) => i !== unknown));
    if (known === 0 || x.size % known !== 0) {
      throw new ShapeError(
        'reshape',
        `cannot reshape ${formatShape(x.shape)} (size ${x.size}) into ${formatShape(shape)}`,
      );
    }
    dims[unknown] = x.size / known;
  }
  if (sizeOf(dims) !== x.size) {
    throw new ShapeError(
      'reshape',
      `cannot reshape ${formatShape(x.shape)} (size ${x.size}) into ${formatShape(shape)}`,
    );
  }
  const base = contiguous(x);
  const out = NDArray.view(base, dims, contiguousStrides(dims), base.offset, 'reshape');
  if (base !== x) base.dispose();
  return out;
}

/** Another view of all of `x`: disposing one of the two never disposes the other. */
export function view(x: NDArray): NDArray {
  checkArray('view', x);
  return NDArray.view(x, x.shape, x.strides, x.offset);
}

/** Reorders the axes: output axis i is input axis `axes[i]`. */
export function permute(x: NDArray, axes: readonly number[]): NDArray {
  checkArray('permute', x);
  if (!Array.isArray(axes))
    throw new IndexError('permute', `axes must be a list of numbers, got ${describe(axes)}`);
  if (axes.length !== x.ndim) {
    throw new ShapeError(
      'permute',
      `expected ${x.ndim} axes for shape ${formatShape(x.shape)}, got ${formatShape(axes)}`,
    );
  }
  const order = axes.map((a) => normalizeAxis('permute', a, x.ndim));
  if (new Set(order).size !== order.length) {
    throw new IndexError('permute', `repeated axis in ${formatShape(axes)}`);
  }
  return NDArray.view(
    x,
    order.map((a) => x.shape[a]),
    order.map((a) => x.strides[a]),
    x.offset,
    'permute',
  );
}

/** Swaps two axes (by default the last two). */
export function transpose(x: NDArray, axis0 = -2, axis1 = -1): NDArray {
  checkArray('transpose', x);
  const a = normalizeAxis('transpose', axis0, x.ndim);
  const b = normalizeAxis('transpose', axis1, x.ndim);
  const order = x.shape.map((_, i) => (i === a ? b : i === b ? a : i));
  return permute(x, order);
}

/** Broadcasts `x` to `shape` without copying (broadcast axes get stride 0). */
export function broadcastTo(x: NDArray, shape: Shape): NDArray {
  checkArray('broadcastTo', x);
  return broadcastView('broadcastTo', x, shape);
}

function broadcastView(op: string, x: NDArray, shape: Shape): NDArray {
  checkShape(op, shape);
  const lead = shape.length - x.ndim;
  const fail = () => new ShapeError(op, `cannot broadcast ${formatShape(x.shape)} to ${formatShape(shape)}`);
  if (lead < 0) throw fail();
  const strides = shape.map((d, i) => {
    if (i < lead) return 0;
    const own = x.shape[i - lead];
    if (own === d) return x.strides[i - lead];
    if (own === 1) return 0;
    throw fail();
  });
  return NDArray.view(x, shape, strides, x.offset, op);
}

/** Like `torch.expand`: -1 keeps a size. */
export function expand(x: NDArray, shape: Shape): NDArray {
  checkArray('expand', x);
  checkShape('expand', Array.isArray(shape) ? shape.map((d) => (d === -1 ? 0 : d)) : shape);
  const lead = shape.length - x.ndim;
  return broadcastView(
    'expand',
    x,
    shape.map((d, i) => (d === -1 && i >= lead ? x.shape[i - lead] : d)),
  );
}

/** A range along one axis, Python style; a plain number selects one index and drops the axis. */
export type SliceSpec =
  | number
  | null
  | { readonly start?: number; readonly stop?: number; readonly step?: number };

/**
 * NumPy-style basic indexing: one spec per leading axis (missing ones take the whole axis).
 * Negative starts/stops count from the end, out-of-range ones clamp, negative steps walk
 * backwards; all without copying.
 */
export function slice(x: NDArray, specs: readonly SliceSpec[]): NDArray {
  checkArray('slice', x);
  if (!Array.isArray(specs))
    throw new IndexError('slice', `expected a list of slice specs, got ${describe(specs)}`);
  if (specs.length > x.ndim) {
    throw new IndexError('slice', `${specs.length} indices given for an array of rank ${x.ndim}`);
  }
  const shape: number[] = [];
  const strides: number[] = [];
  let offset = x.offset;
  x.shape.forEach((n, axis) => {
    const spec = specs[axis] ?? null;
    const stride = x.strides[axis];
    if (typeof spec === 'number') {
      if (!Number.isInteger(spec) || spec < -n || spec >= n) {
        throw new IndexError('slice', `index ${spec} is out of range for axis ${axis} of size ${n}`);
      }
      offset += (spec < 0 ? spec + n : spec) * stride;
      return;
    }
    const step = spec?.step ?? 1;
    if (!Number.isInteger(step) || step === 0) {
      throw new ValueError('slice', `step must be a non-zero integer, got ${describe(step)}`);
    }
    for (const bound of [spec?.start, spec?.stop]) {
      if (bound !== undefined && !Number.isInteger(bound)) {
        throw new IndexError(
          'slice',
          `slice bounds must be integers, got ${describe(bound)} for axis ${axis}`,
        );
      }
    }
    const [start, length] = sliceRange(n, spec?.start, spec?.stop, step);
    if (length > 0) offset += start * stride;
    shape.push(length);
    strides.push(stride * step);
  });
  return NDArray.view(x, shape, strides, offset, 'slice');
}

/** Python's `slice.indices`: the first index and the number of elements. */
function sliceRange(
  n: number,
  start: number | undefined,
  stop: number | undefined,
  step: number,
): [number, number] {
  const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  const resolve = (v: number, lo: number, hi: number) => clamp(v < 0 ? v + n : v, lo, hi);
  if (step > 0) {
    const s = start === undefined ? 0 : resolve(start, 0, n);
    const e = stop === undefined ? n : resolve(stop, 0, n);
    return [s, Math.max(0, Math.ceil((e - s) / step))];
  }
  const s = start === undefined ? n - 1 : resolve(start, -1, n - 1);
  const e = stop === undefined ? -1 : resolve(stop, -1, n - 1);
  return [s, Math.max(0, Math.ceil((e - s) / step))];
}

/** Reverses the order along `axes` (all axes by default) by negating strides. */
export function flip(x: NDArray, axes?: number | readonly number[]): NDArray {
  checkArray('flip', x);
  const which = normalizeAxes('flip', axes, x.ndim);
  let offset = x.offset;
  const strides = x.strides.map((s, i) => {
    if (!which.includes(i) || x.shape[i] === 0) return s;
    offset += (x.shape[i] - 1) * s;
    return -s;
  });
  return NDArray.view(x, x.shape, strides, offset, 'flip');
}

/** Removes size-1 axes (the given ones, or all). */
export function squeeze(x: NDArray, axes?: number | readonly number[]): NDArray {
  checkArray('squeeze', x);
  // A 0-d array accepts axis 0 (normalizeAxis allows it), which names no axis to remove.
  const which =
    axes === undefined
      ? x.shape.flatMap((d, i) => (d === 1 ? [i] : []))
      : normalizeAxes('squeeze', axes, x.ndim).filter((a) => a < x.ndim);
  for (const a of which) {
    if (x.shape[a] !== 1) {
      throw new ShapeError('squeeze', `axis ${a} of ${formatShape(x.shape)} has size ${x.shape[a]}, not 1`);
    }
  }
  const keep = (_: number, i: number) => !which.includes(i);
  return NDArray.view(x, x.shape.filter(keep), x.strides.filter(keep), x.offset, 'squeeze');
}

/** Inserts a size-1 axis at `axis` (which may be -1 for the end). */
export function unsqueeze(x: NDArray, axis: number): NDArray {
  checkArray('unsqueeze', x);
  const at = normalizeAxis('unsqueeze', axis, x.ndim + 1);
  const shape = [...x.shape];
  const strides = [...x.strides];
  shape.splice(at, 0, 1);
  strides.splice(at, 0, at < x.ndim ? x.strides[at] * x.shape[at] : 1);
  return NDArray.view(x, shape, strides, x.offset, 'unsqueeze');
}

/** Merges axes `startAxis..endAxis` into one. */
export function flatten(x: NDArray, startAxis = 0, endAxis = -1): NDArray {
  checkArray('flatten', x);
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normalizeAxis('flatten', startAxis, x.ndim);
  const e = normalizeAxis('flatten', endAxis, x.ndim);
  if (e < s) throw new IndexError('flatten', `endAxis ${endAxis} comes before startAxis ${startAxis}`);
  return reshape(x, [...x.shape.slice(0, s), sizeOf(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)]);
}

export { contiguous };
