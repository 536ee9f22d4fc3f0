import { type BufferInfo, isWholeView, type ViewRef } from '@tsgrad/compiler';
import type { GraphBuilder } from './builder.js';

// An equation reads its inputs through strided views (shape, strides, offset) of contiguous
// buffers; ONNX has no views, so each distinct view becomes a few movement operators:
// Reshape (a whole buffer read in order), Slice + Transpose (a box of the buffer seen as some
// parent shape, with steps, in any axis order), Reshape + Expand (broadcast and size-1 axes).
// A view that does not decompose (overlapping windows, negative strides) becomes a Gather
// with constant flat indices: always correct, but its indices are as large as the view.

/** The flat (element) offsets a view reads, row-major over its shape. */
export function viewOffsets(v: Pick<ViewRef, 'shape' | 'strides' | 'offset'>): number[] {
  const out: number[] = [];
  const walk = (axis: number, at: number) => {
    if (axis === v.shape.length) {
      out.push(at);
      return;
    }
    for (let i = 0; i < v.shape[axis]; i++) walk(axis + 1, at + i * v.strides[axis]);
  };
  walk(0, v.offset);
  return out;
}

/** A view with every size > 1 and every stride > 0, as a Slice of the buffer (seen as some parent shape) and a Transpose, or null. */
function asSliceAndTranspose(
  b: GraphBuilder,
  flat: string,
  size: number,
  shape: readonly number[],
  strides: readonly number[],
  offset: number,
): string | null {
  const k = shape.length;
  if (k === 0)
    return b.op('Reshape', [b.op('Slice', [flat, b.int64([offset]), b.int64([offset + 1])]), b.int64([])]);
  if (strides.some((s) => s <= 0)) return null;
  const order = [...shape.keys()].sort((i, j) => strides[j] - strides[i]);
  const n = order.map((d) => shape[d]);
  const s = order.map((d) => strides[d]);
  // The parent shape: the innermost axis has stride 1 and reads every s[k-1]-th element; each
  // outer axis steps by its own stride, so parent sizes are ratios of consecutive strides.
  const parent = new Array<number>(k);
  const steps = new Array<number>(k).fill(1);
  steps[k - 1] = s[k - 1];
  for (let i = k - 1; i >= 1; i--) {
    const outer = s[i - 1];
    const inner = i === k - 1 ? 1 : s[i];
    if (outer % inner !== 0) return null;
    parent[i] = outer / inner;
  }
  const parentStrides = k === 1 ? [1] : [s[0], ...s.slice(1, k - 1), 1];
  const starts = new Array<number>(k);
  const rest = offset;
  for (let i = 0; i < k; i++) {
    starts[i] =
      i === 0 ? Math.floor(rest / parentStrides[0]) : Math.floor(rest / parentStrides[i]) % parent[i];
    if (i > 0 && starts[i] + (n[i] - 1) * steps[i] >= parent[i]) return null;
  }
  parent[0] = starts[0] + (n[0] - 1) * steps[0] + 1;
  const total = parent[0] * parentStrides[0];
  let source = flat;
  if (total > size) source = b.op('Pad', [flat, b.int64([0, total - size])]);
  else if (total < size) source = b.op('Slice', [flat, b.int64([0]), b.int64([total])]);
  if (k > 1) source = b.op('Reshape', [source, b.int64(parent)]);
  const ends = starts.map((start, i) => start + (n[i] - 1) * steps[i] + 1);
  const whole = starts.every((start, i) => start === 0 && ends[i] === parent[i] && steps[i] === 1);
  if (!whole) {
    const axes = [...shape.keys()];
    source = b.op('Slice', [source, b.int64(starts), b.int64(ends), b.int64(axes), b.int64(steps)]);
  }
  if (order.some((d, i) => d !== i)) {
    const perm = [...shape.keys()].map((d) => order.indexOf(d));
    source = b.op('Transpose', [source], { perm });
  }
  return source;
}

/**
 * The ONNX value holding view `v` of buffer `buffer` (held in ONNX value `name`, of the
 * buffer's shape).
 */
export function lowerView(b: GraphBuilder, name: string, buffer: BufferInfo, v: ViewRef): string {
  const sameShape = v.shape.length === buffer.shape.length && v.shape.every((d, i) => d === buffer.shape[i]);
  if (isWholeView(v, buffer)) return sameShape ? name : b.op('Reshape', [name, b.int64(v.shape)]);
  const flat = buffer.shape.length === 1 ? name : b.op('Reshape', [name, b.int64([-1])]);
  // Size-1 and broadcast (stride 0) axes come back by a Reshape and an Expand.
  const core = [...v.shape.keys()].filter((d) => v.shape[d] !== 1 && v.strides[d] !== 0);
  const coreShape = core.map((d) => v.shape[d]);
  const sliced = asSliceAndTranspose(
    b,
    flat,
    buffer.size,
    coreShape,
    core.map((d) => v.strides[d]),
    v.offset,
  );
  if (sliced === null) {
    const indices = b.int64(viewOffsets(v), v.shape);
    return b.op('Gather', [flat, indices], { axis: 0 });
  }
  const kept = v.shape.map((d, i) => (core.includes(i) ? d : 1));
  const reshaped = kept.length === coreShape.length ? sliced : b.op('Reshape', [sliced, b.int64(kept)]);
  return kept.every((d, i) => d === v.shape[i]) ? reshaped : b.op('Expand', [reshaped, b.int64(v.shape)]);
}
