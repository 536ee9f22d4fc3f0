import type { TypedArray } from '../dtype.js';
import type { Kernel } from '../primitives.js';
import { contiguousStrides } from '../shape.js';

/** Ascending order with NaN last (largest), as in NumPy and PyTorch. */
function compareAscending(a: number, b: number): number {
  if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : 1;
  if (Number.isNaN(b)) return -1;
  return a - b;
}

/** A stable sort of every line along `axis`: Array.prototype.sort is stable. */
export const sort: Kernel<'sort', TypedArray> = ([values, indices], [x], { axis, descending }) => {
  const src = x.handle;
  const n = x.shape[axis];
  const inner = contiguousStrides(x.shape)[axis];
  const outer = n * inner === 0 ? 0 : src.length / (n * inner);
  const order = Array.from({ length: n }, (_, i) => i);
  const line = new Float64Array(n);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const start = o * n * inner + i;
      for (let k = 0; k < n; k++) {
        line[k] = src[start + k * inner];
        order[k] = k;
      }
      order.sort((p, q) =>
        descending ? compareAscending(line[q], line[p]) : compareAscending(line[p], line[q]),
      );
      for (let k = 0; k < n; k++) {
        values.handle[start + k * inner] = line[order[k]];
        indices.handle[start + k * inner] = order[k];
      }
    }
  }
};
