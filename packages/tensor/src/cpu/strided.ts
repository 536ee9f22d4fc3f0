import type { TypedArray } from '../dtype.js';
import type { View } from '../primitives.js';
import { isContiguous } from '../shape.js';

export type CpuView = View<TypedArray>;

/**
 * The element offset of each position of `view`, in row-major order, or `null` when the view
 * is contiguous (then position i is at `view.offset + i`).
 */
export function stridedOffsets(view: CpuView): Int32Array | null {
  const { shape, strides } = view;
  if (isContiguous(shape, strides)) return null;
  let size = 1;
  for (const d of shape) size *= d;
  const out = new Int32Array(size);
  const ndim = shape.length;
  const index = new Array<number>(ndim).fill(0);
  let at = view.offset;
  for (let i = 0; i < size; i++) {
    out[i] = at;
    for (let d = ndim - 1; d >= 0; d--) {
      at += strides[d];
      if (++index[d] < shape[d]) break;
      at -= strides[d] * shape[d];
      index[d] = 0;
    }
  }
  return out;
}

/** Reads every element of a possibly strided view into a new contiguous array. */
export function gatherView(view: CpuView, out: TypedArray): void {
  const offsets = stridedOffsets(view);
  const src = view.handle;
  if (offsets === null) {
    out.set(src.subarray(view.offset, view.offset + out.length));
    return;
  }
  for (let i = 0; i < offsets.length; i++) out[i] = src[offsets[i]];
}
