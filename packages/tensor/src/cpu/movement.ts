import type { TypedArray } from '../dtype.js';
import type { Kernel } from '../primitives.js';
import { contiguousStrides } from '../shape.js';

/** Copies contiguous `src` of `shape` into `dst` at `offset` with `strides` (a sub-block). */
export function writeBlock(
  dst: TypedArray,
  offset: number,
  strides: readonly number[],
  src: TypedArray,
  shape: readonly number[],
): void {
  const ndim = shape.length;
  if (src.length === 0) return;
  const inner = ndim === 0 ? 1 : shape[ndim - 1];
  // Rows of a few elements or more are copied whole (a native copy each), not one by one.
  const byRows = ndim > 0 && strides[ndim - 1] === 1 && inner >= 8;
  const step = byRows ? inner : 1;
  const dims = byRows ? ndim - 1 : ndim;
  const index = new Array<number>(dims).fill(0);
  let at = offset;
  for (let i = 0; i < src.length; i += step) {
    if (byRows) dst.set(src.subarray(i, i + inner), at);
    else dst[at] = src[i];
    for (let d = dims - 1; d >= 0; d--) {
      at += strides[d];
      if (++index[d] < shape[d]) break;
      at -= strides[d] * shape[d];
      index[d] = 0;
    }
  }
}

export const pad: Kernel<'pad', TypedArray> = ([out], [x], { widths, value }) => {
  out.handle.fill(value);
  const strides = contiguousStrides(out.shape);
  const offset = widths.reduce((acc, [before], d) => acc + before * strides[d], 0);
  writeBlock(out.handle, offset, strides, x.handle, x.shape);
};

export const concat: Kernel<'concat', TypedArray> = ([out], inputs, { axis }) => {
  const strides = contiguousStrides(out.shape);
  let start = 0;
  for (const x of inputs) {
    writeBlock(out.handle, start * strides[axis], strides, x.handle, x.shape);
    start += x.shape[axis];
  }
};
