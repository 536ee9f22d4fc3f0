import type { TypedArray } from '../dtype.js';
import { type ConvShape, convShape } from '../kernel-layout.js';
import type { Conv2dParams, Kernel } from '../primitives.js';
import { floatProduct } from './matmul.js';

// Convolutions as matrix products (im2col). For one image n and one group, the "column"
// matrix `col[K × P]` holds, for every kernel tap (c, i, j) of the group's K = C/g·kh·kw taps,
// the input value each of the P = Ho·Wo output positions reads through that tap (0 in the
// padding). Then
//   conv2d:            y[Og × P]  = w[Og × K] · col
//   conv2dWeightGrad:  dw[Og × K] += dy[Og × P] · colᵀ
//   input gradient:    dcol[K × P] = w[Og × K]ᵀ · dy, scattered back into x (col2im)
// and the products run on the CPU matmul GEMM (`floatProduct`: blocked, float64 accumulation). Output rows
// are processed in chunks so that `col` stays within COL_BUDGET elements.

const COL_BUDGET = 1 << 20;

/**
 * For each kernel tap `t` (0 ≤ t < taps): the range `[lo, hi)` of output positions `o` in
 * `[0, outSize)` whose input position `o * stride - pad + t * dilation` lies in `[0, inSize)`.
 */
function tapRanges(
  taps: number,
  dilation: number,
  pad: number,
  stride: number,
  inSize: number,
  outSize: number,
) {
  const ranges = new Int32Array(2 * taps);
  for (let t = 0; t < taps; t++) {
    const shift = t * dilation - pad;
    ranges[2 * t] = Math.max(0, Math.ceil(-shift / stride));
    ranges[2 * t + 1] = Math.max(0, Math.min(outSize, Math.floor((inSize - 1 - shift) / stride) + 1));
  }
  return ranges;
}

/** A convolution's sizes, with what the reference kernels precompute for its taps. */
interface Geometry extends ConvShape {
  readonly params: Conv2dParams;
  readonly rows: Int32Array;
  readonly cols: Int32Array;
  /** Output rows per chunk. */
  readonly chunkRows: number;
}

function geometry(
  x: readonly number[],
  w: readonly number[],
  y: readonly number[],
  params: Conv2dParams,
): Geometry {
  const shape = convShape(x, w, y, params);
  const { kh, kw, height, width, outH, outW, depth } = shape;
  const [padTop, , padLeft] = params.padding;
  return {
    ...shape,
    params,
    rows: tapRanges(kh, params.dilation[0], padTop, params.stride[0], height, outH),
    cols: tapRanges(kw, params.dilation[1], padLeft, params.stride[1], width, outW),
    chunkRows: Math.max(1, Math.min(outH, Math.floor(COL_BUDGET / Math.max(1, depth * outW)))),
  };
}

/**
 * Calls `run(colAt, inputAt, count)` for every run of in-bounds taps of image n, `group`,
 * output rows [oh0, oh1): `col[colAt + t]` pairs with `x[inputAt + t * strideW]`, t < count.
 * `col` has the chunk's (oh1 - oh0) · Wo columns.
 */
function forEachTapRun(
  g: Geometry,
  n: number,
  group: number,
  oh0: number,
  oh1: number,
  run: (colAt: number, inputAt: number, count: number) => void,
): void {
  const { kh, kw, outW, rows, cols, width, params } = g;
  const [sh, sw] = params.stride;
  const [dh, dw] = params.dilation;
  const [padTop, , padLeft] = params.padding;
  const columns = (oh1 - oh0) * outW;
  for (let c = 0; c < g.groupIn; c++) {
    const plane = (n * g.channels + group * g.groupIn + c) * g.height * width;
    for (let i = 0; i < kh; i++) {
      const rowLo = Math.max(rows[2 * i], oh0);
      const rowHi = Math.min(rows[2 * i + 1], oh1);
      for (let j = 0; j < kw; j++) {
        const colLo = cols[2 * j];
        const count = cols[2 * j + 1] - colLo;
        if (count <= 0) continue;
        const tapRow = ((c * kh + i) * kw + j) * columns;
        for (let oh = rowLo; oh < rowHi; oh++) {
          const inputAt = plane + (oh * sh + i * dh - padTop) * width + colLo * sw + j * dw - padLeft;
          run(tapRow + (oh - oh0) * outW + colLo, inputAt, count);
        }
      }
    }
  }
}

function im2col(
  g: Geometry,
  x: TypedArray,
  n: number,
  group: number,
  oh0: number,
  oh1: number,
  col: Float64Array,
) {
  const sw = g.params.stride[1];
  col.fill(0, 0, g.depth * (oh1 - oh0) * g.outW);
  forEachTapRun(g, n, group, oh0, oh1, (colAt, inputAt, count) => {
    for (let t = 0; t < count; t++) col[colAt + t] = x[inputAt + t * sw];
  });
}

function col2im(
  g: Geometry,
  col: Float64Array,
  n: number,
  group: number,
  oh0: number,
  oh1: number,
  dx: Float64Array,
) {
  const sw = g.params.stride[1];
  forEachTapRun(g, n, group, oh0, oh1, (colAt, inputAt, count) => {
    for (let t = 0; t < count; t++) dx[inputAt + t * sw] += col[colAt + t];
  });
}

/** Runs `body(n, group, oh0, oh1)` over every image, group and chunk of output rows. */
function forEachChunk(g: Geometry, body: (n: number, group: number, oh0: number, oh1: number) => void): void {
  for (let n = 0; n < g.batch; n++) {
    for (let group = 0; group < g.groups; group++) {
      for (let oh0 = 0; oh0 < g.outH; oh0 += g.chunkRows)
        body(n, group, oh0, Math.min(g.outH, oh0 + g.chunkRows));
    }
  }
}

export const conv2d: Kernel<'conv2d', TypedArray> = ([out], [x, w], params) => {
  const g = geometry(x.shape, w.shape, out.shape, params);
  const plane = g.outH * g.outW;
  const col = new Float64Array(g.depth * g.chunkRows * g.outW);
  const y = new Float64Array(g.groupOut * g.chunkRows * g.outW);
  forEachChunk(g, (n, group, oh0, oh1) => {
    const columns = (oh1 - oh0) * g.outW;
    im2col(g, x.handle, n, group, oh0, oh1, col);
    const weights = {
      data: w.handle,
      offset: group * g.groupOut * g.depth,
      rowStride: g.depth,
      colStride: 1,
    };
    floatProduct(
      g.groupOut,
      columns,
      g.depth,
      weights,
      { data: col, offset: 0, rowStride: columns, colStride: 1 },
      y,
    );
    for (let o = 0; o < g.groupOut; o++) {
      const channel = n * g.outChannels + group * g.groupOut + o;
      out.handle.set(y.subarray(o * columns, (o + 1) * columns), channel * plane + oh0 * g.outW);
    }
  });
};

/**
 * The adjoint of conv2d in its input: x here is conv2d's output gradient `[N, O, h, w]`, w
 * has conv2d's layout `[O, C/g, kh, kw]`, and the output is conv2d's input `[N, C, outSize]`.
 */
export const convTranspose2d: Kernel<'convTranspose2d', TypedArray> = ([out], [dy, w], params) => {
  const g = geometry(out.shape, w.shape, dy.shape, params);
  const plane = g.outH * g.outW;
  const dx = new Float64Array(out.handle.length);
  const dcol = new Float64Array(g.depth * g.chunkRows * g.outW);
  forEachChunk(g, (n, group, oh0, oh1) => {
    const columns = (oh1 - oh0) * g.outW;
    const weightsT = {
      data: w.handle,
      offset: group * g.groupOut * g.depth,
      rowStride: 1,
      colStride: g.depth,
    };
    const grads = {
      data: dy.handle,
      offset: (n * g.outChannels + group * g.groupOut) * plane + oh0 * g.outW,
      rowStride: plane,
      colStride: 1,
    };
    floatProduct(g.depth, columns, g.groupOut, weightsT, grads, dcol);
    col2im(g, dcol, n, group, oh0, oh1, dx);
  });
  out.handle.set(dx);
};

/** dw[o, c, i, j] = Σ over n, oh, ow of dy[n, o, oh, ow] · x[n, group(o)·C/g + c, tap position]. */
export const conv2dWeightGrad: Kernel<'conv2dWeightGrad', TypedArray> = ([out], [x, dy], params) => {
  const g = geometry(x.shape, out.shape, dy.shape, params);
  const plane = g.outH * g.outW;
  const col = new Float64Array(g.depth * g.chunkRows * g.outW);
  const partial = new Float64Array(g.groupOut * g.depth);
  const dw = new Float64Array(out.handle.length);
  forEachChunk(g, (n, group, oh0, oh1) => {
    const columns = (oh1 - oh0) * g.outW;
    im2col(g, x.handle, n, group, oh0, oh1, col);
    const grads = {
      data: dy.handle,
      offset: (n * g.outChannels + group * g.groupOut) * plane + oh0 * g.outW,
      rowStride: plane,
      colStride: 1,
    };
    floatProduct(
      g.groupOut,
      g.depth,
      columns,
      grads,
      { data: col, offset: 0, rowStride: 1, colStride: columns },
      partial,
    );
    const at = group * g.groupOut * g.depth;
    for (let e = 0; e < partial.length; e++) dw[at + e] += partial[e];
  });
  out.handle.set(dw);
};
