import type { TypedArray } from '../dtype.js';
import type { Kernel } from '../primitives.js';
import { contiguousStrides } from '../shape.js';

/**
 * Walks every position of `shape` (row-major) and calls `visit(i, offsetInTarget)` where the
 * target has `targetStrides` and the coordinate along `axis` is left at 0 (callers add it).
 */
function walkExceptAxis(
  shape: readonly number[],
  targetStrides: readonly number[],
  axis: number,
  visit: (i: number, base: number) => void,
): void {
  const ndim = shape.length;
  const size = shape.reduce((a, b) => a * b, 1);
  const index = new Array<number>(ndim).fill(0);
  let base = 0;
  for (let i = 0; i < size; i++) {
    visit(i, base);
    for (let d = ndim - 1; d >= 0; d--) {
      const step = d === axis ? 0 : targetStrides[d];
      base += step;
      if (++index[d] < shape[d]) break;
      base -= step * shape[d];
      index[d] = 0;
    }
  }
}

export const gather: Kernel<'gather', TypedArray> = ([out], [x, index], { axis }) => {
  const strides = contiguousStrides(x.shape);
  const src = x.handle;
  const idx = index.handle;
  const dst = out.handle;
  walkExceptAxis(index.shape, strides, axis, (i, base) => {
    dst[i] = src[base + idx[i] * strides[axis]];
  });
};

export const scatterAdd: Kernel<'scatterAdd', TypedArray> = ([out], [base, index, src], { axis }) => {
  const strides = contiguousStrides(base.shape);
  const dst = out.handle;
  dst.set(base.handle);
  const idx = index.handle;
  const values = src.handle;
  walkExceptAxis(index.shape, strides, axis, (i, at) => {
    dst[at + idx[i] * strides[axis]] += values[i];
  });
};

export const indexSelect: Kernel<'indexSelect', TypedArray> = ([out], [x, index], { axis }) => {
  const src = x.handle;
  const dst = out.handle;
  const idx = index.handle;
  const inner = contiguousStrides(x.shape)[axis];
  const n = x.shape[axis];
  const outer = x.shape.slice(0, axis).reduce((a, b) => a * b, 1);
  let at = 0;
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < idx.length; k++) {
      const from = (o * n + idx[k]) * inner;
      dst.set(src.subarray(from, from + inner), at);
      at += inner;
    }
  }
};
