import type { Conv2dParams, View } from './primitives.js';

// Layout arithmetic that every backend's kernels need, whatever their memory: shared so that
// the CPU reference and the fast backends read their operands the same way.

/**
 * How a batched matmul [...batch, m, k] × [...batch, k, n] → contiguous [...batch, m, n] walks
 * its operands. When B is the same matrix for every batch (activations × weights) and A's batch
 * axes merge with its rows, the batch is folded into the rows (`batch` empty, `rows` = all of
 * them), so a backend packs B once rather than once per batch.
 */
export interface MatmulLayout {
  /** The broadcast batch shape of the product (empty when the batch is folded into the rows). */
  readonly batch: readonly number[];
  /** Rows of each product: m, or every row of A when the batch is folded in. */
  readonly rows: number;
  /** Columns of each product (B's last axis). */
  readonly n: number;
  /** The inner dimension (A's last axis, B's second to last). */
  readonly k: number;
  /** The stride between A's rows (of the merged axis when the batch is folded in). */
  readonly aRowStride: number;
}

/**
 * When the batch axes and the row axis of `view` (axes 0..rowAxis) can be walked as one axis,
 * the stride of that merged axis; otherwise null.
 */
function mergedRowStride<H>(view: View<H>, rowAxis: number): number | null {
  let stride: number | null = null;
  let expected = 0;
  for (let d = rowAxis; d >= 0; d--) {
    const size = view.shape[d];
    if (size === 1) continue;
    if (stride === null) stride = view.strides[d];
    else if (view.strides[d] !== expected) return null;
    expected = view.strides[d] * size;
  }
  return stride ?? 0;
}

/** The layout of matmul(a, b) → out, whose batch axes the frontend has already broadcast. */
export function matmulLayout<H>(out: View<H>, a: View<H>, b: View<H>): MatmulLayout {
  const rank = out.shape.length;
  const [m, n] = out.shape.slice(rank - 2);
  const k = a.shape[rank - 1];
  const batch = out.shape.slice(0, rank - 2);
  const bShared = batch.every((size, d) => size === 1 || b.strides[d] === 0);
  const merged = bShared ? mergedRowStride(a, rank - 2) : null;
  if (merged === null) return { batch, rows: m, n, k, aRowStride: a.strides[rank - 2] };
  return {
    batch: [],
    rows: out.shape.slice(0, rank - 1).reduce((x, y) => x * y, 1),
    n,
    k,
    aRowStride: merged,
  };
}

/** Runs `body` with the element offsets of a and b for every batch index, in row-major order. */
export function forEachBatch<H>(
  batch: readonly number[],
  a: View<H>,
  b: View<H>,
  body: (index: number, aOffset: number, bOffset: number) => void,
): void {
  const rank = batch.length;
  const count = batch.reduce((x, y) => x * y, 1);
  const position = new Array<number>(rank).fill(0);
  let aAt = a.offset;
  let bAt = b.offset;
  for (let index = 0; index < count; index++) {
    body(index, aAt, bAt);
    for (let d = rank - 1; d >= 0; d--) {
      aAt += a.strides[d];
      bAt += b.strides[d];
      if (++position[d] < batch[d]) break;
      aAt -= a.strides[d] * batch[d];
      bAt -= b.strides[d] * batch[d];
      position[d] = 0;
    }
  }
}

/** The sizes of one convolution x `[N, C, H, W]` * w `[O, C/g, kh, kw]` → y `[N, O, Ho, Wo]`. */
export interface ConvShape {
  /** N, the batch size. */
  readonly batch: number;
  /** C, the input channels. */
  readonly channels: number;
  /** H, the input height. */
  readonly height: number;
  /** W, the input width. */
  readonly width: number;
  /** O, the output channels. */
  readonly outChannels: number;
  /** The number of channel groups. */
  readonly groups: number;
  /** Input channels per group, C / groups. */
  readonly groupIn: number;
  /** Output channels per group, O / groups. */
  readonly groupOut: number;
  /** Kernel height. */
  readonly kh: number;
  /** Kernel width. */
  readonly kw: number;
  /** Output height Ho. */
  readonly outH: number;
  /** Output width Wo. */
  readonly outW: number;
  /** Taps per output position within a group: K = groupIn · kh · kw. */
  readonly depth: number;
  /** Output positions per image: P = Ho · Wo. */
  readonly plane: number;
}

/** The sizes of a convolution from the shapes of x, w and y (whichever of them is the output). */
export function convShape(
  x: readonly number[],
  w: readonly number[],
  y: readonly number[],
  params: Conv2dParams,
): ConvShape {
  const [batch, channels, height, width] = x;
  const [outChannels, groupIn, kh, kw] = w;
  const [outH, outW] = [y[2], y[3]];
  return {
    batch,
    channels,
    height,
    width,
    outChannels,
    groups: params.groups,
    groupIn,
    groupOut: outChannels / params.groups,
    kh,
    kw,
    outH,
    outW,
    depth: groupIn * kh * kw,
    plane: outH * outW,
  };
}
