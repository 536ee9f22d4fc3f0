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
  const index = new Array<number>(ndim).fill(0);
  let at = offset;
  for (let i = 0; i < src.length; i++) {
    dst[at] = src[i];
    for (let d = ndim - 1; d >= 0; d--) {
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
