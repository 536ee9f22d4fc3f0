// The data movement around the convolution GEMMs (src/kernels/conv.ts). For one group of
// `groupIn` input channels, the column matrix `col` holds a row per kernel tap (c, i, j) and a
// column per output position (oh, ow) of each image in the chunk: image b's columns start at
// b·(oh1 − oh0)·outW, and a row is `ldcol` floats long. A tap reading the zero padding holds 0.
// Both kernels split their work over (image, channel) pairs, so threads write disjoint rows of
// `col` (im2col) or disjoint planes of dx (col2im).

/** A convolution's sizes, written by JavaScript as consecutive i32s (keep the field order). */
@unmanaged
export class ConvGeometry {
  channels: i32;
  height: i32;
  width: i32;
  groupIn: i32;
  kh: i32;
  kw: i32;
  strideH: i32;
  strideW: i32;
  padTop: i32;
  padLeft: i32;
  dilationH: i32;
  dilationW: i32;
  outH: i32;
  outW: i32;
  // Read by the per-image kernels (conv-images.ts) only.
  batch: i32;
  groups: i32;
  groupOut: i32;
  /** Output rows per band: the most whose column matrix fits a thread's scratch. */
  bandRows: i32;
}

/** floor(a / b) for b > 0. */
@inline
export function floorDiv(a: i32, b: i32): i32 {
  const q = a / b;
  return a % b != 0 && a < 0 ? q - 1 : q;
}

/** The first output position o ≥ 0 whose input position o·stride + shift is ≥ 0. */
@inline
function firstInside(shift: i32, stride: i32): i32 {
  return max(0, stride == 1 ? -shift : -floorDiv(shift, stride));
}

/** One past the last output position o < outSize whose input position o·stride + shift is < inSize. */
@inline
function endInside(shift: i32, stride: i32, inSize: i32, outSize: i32): i32 {
  const end = stride == 1 ? inSize - shift : floorDiv(inSize - 1 - shift, stride) + 1;
  return max(0, min(outSize, end));
}

/** Zeroes `count` floats at `dst` (short runs by vector stores, which beat memory.fill's call). */
export function zeroRun(dst: usize, count: i32): void {
  if (count >= 64) {
    memory.fill(dst, 0, <usize>count << 2);
    return;
  }
  if (count >= 4) {
    const zero = f32x4.splat(0);
    for (let t = 0; t < count - 4; t += 4) v128.store(dst + (<usize>t << 2), zero);
    v128.store(dst + (<usize>(count - 4) << 2), zero);
    return;
  }
  for (let t = 0; t < count; t++) store<f32>(dst + (<usize>t << 2), 0);
}

/** dst[t] = src[t·stride] for t < count. */
function copyRun(dst: usize, src: usize, count: i32, stride: i32): void {
  if (stride == 1 && count >= 4) {
    // The last vector may overlap the previous one; it stores the same values again.
    for (let t = 0; t < count - 4; t += 4) v128.store(dst + (<usize>t << 2), v128.load(src + (<usize>t << 2)));
    const last = <usize>(count - 4) << 2;
    v128.store(dst + last, v128.load(src + last));
    return;
  }
  let t = 0;
  if (stride == 2) {
    // Eight loaded floats hold four even ones; stop while the eighth is still inside the run.
    for (; t + 4 < count; t += 4) {
      const at = src + (<usize>t << 3);
      v128.store(dst + (<usize>t << 2), f32x4.shuffle(v128.load(at), v128.load(at, 16), 0, 2, 4, 6));
    }
  }
  for (; t < count; t++) store<f32>(dst + (<usize>t << 2), load<f32>(src + (<usize>(t * stride) << 2)));
}

/** dst[t·stride] += src[t] for t < count. */
function addRun(dst: usize, src: usize, count: i32, stride: i32): void {
  let t = 0;
  if (stride == 1) {
    for (; t + 4 <= count; t += 4) {
      const at = dst + (<usize>t << 2);
      v128.store(at, f32x4.add(v128.load(at), v128.load(src + (<usize>t << 2))));
    }
  }
  for (; t < count; t++) {
    const at = dst + (<usize>(t * stride) << 2);
    store<f32>(at, load<f32>(at) + load<f32>(src + (<usize>t << 2)));
  }
}

// The window of the current kernel tap within the chunk's output rows [oh0, oh1) of one image
// (set by tapWindow): output (oh, ow) reads input row oh·sh + tapRowShift and column
// ow·sw + tapColShift, which lie inside the input for rows [tapRowLo, tapRowHi) and columns
// [tapColLo, tapColHi); the other entries read the zero padding. Globals belong to one
// instance, and every thread runs its own instance, so each thread has its own window.
let tapRowShift: i32 = 0;
let tapColShift: i32 = 0;
let tapRowLo: i32 = 0;
let tapRowHi: i32 = 0;
let tapColLo: i32 = 0;
let tapColHi: i32 = 0;

/** Sets the window of tap (i, j) within output rows [oh0, oh1); false when it reads only padding. */
function tapWindow(g: ConvGeometry, i: i32, j: i32, oh0: i32, oh1: i32): bool {
  tapRowShift = i * g.dilationH - g.padTop;
  tapColShift = j * g.dilationW - g.padLeft;
  tapRowLo = min(oh1, max(oh0, firstInside(tapRowShift, g.strideH)));
  tapRowHi = max(tapRowLo, min(oh1, endInside(tapRowShift, g.strideH, g.height, g.outH)));
  tapColLo = firstInside(tapColShift, g.strideW);
  tapColHi = endInside(tapColShift, g.strideW, g.width, g.outW);
  return tapRowLo < tapRowHi && tapColLo < tapColHi;
}

/**
 * The input position read by the tap's first inside entry (tapRowLo, tapColLo) when consecutive
 * output rows read consecutive input rows end to end (stride 1 and an input as wide as the
 * output, as with 'same' padding), else -1. Then the tap's rows form one run, of
 * runLength(g) floats, and only its border columns need fixing.
 */
@inline
function runStart(g: ConvGeometry): i32 {
  if (g.strideW != 1 || g.strideH * g.width != g.outW) return -1;
  return (tapRowLo * g.strideH + tapRowShift) * g.width + tapColLo + tapColShift;
}

/** Floats from the tap's first inside entry to its last, both included, in a single run. */
@inline
function runLength(g: ConvGeometry): i32 {
  return (tapRowHi - tapRowLo - 1) * g.outW + tapColHi - tapColLo;
}

/** Zeroes the columns outside [tapColLo, tapColHi) of the tap's inside rows; `dst` is row oh0. */
function zeroBorderColumns(g: ConvGeometry, oh0: i32, dst: usize): void {
  const outW = g.outW;
  // Usually a column or two per row, so plain stores beat a call per run.
  for (let oh = tapRowLo; oh < tapRowHi; oh++) {
    const row = dst + (<usize>((oh - oh0) * outW) << 2);
    for (let t = 0; t < tapColLo; t++) store<f32>(row + (<usize>t << 2), 0);
    for (let t = tapColHi; t < outW; t++) store<f32>(row + (<usize>t << 2), 0);
  }
}

/** Fills the current tap's column row of one image; `dst` is its entry (oh0, 0). */
function im2colTap(g: ConvGeometry, oh0: i32, oh1: i32, plane: usize, dst: usize): void {
  const outW = g.outW;
  zeroRun(dst, (tapRowLo - oh0) * outW);
  zeroRun(dst + (<usize>((tapRowHi - oh0) * outW) << 2), (oh1 - tapRowHi) * outW);
  const start = runStart(g);
  if (start >= 0) {
    // Copy from the first inside entry to the last one, then zero what landed in the padding.
    const first = dst + (<usize>((tapRowLo - oh0) * outW + tapColLo) << 2);
    copyRun(first, plane + (<usize>start << 2), runLength(g), 1);
    zeroBorderColumns(g, oh0, dst);
    return;
  }
  const sw = g.strideW;
  for (let oh = tapRowLo; oh < tapRowHi; oh++) {
    const row = dst + (<usize>((oh - oh0) * outW) << 2);
    const src = plane + (<usize>((oh * g.strideH + tapRowShift) * g.width + tapColLo * sw + tapColShift) << 2);
    zeroRun(row, tapColLo);
    copyRun(row + (<usize>tapColLo << 2), src, tapColHi - tapColLo, sw);
    zeroRun(row + (<usize>tapColHi << 2), outW - tapColHi);
  }
}

/** Adds the current tap's column row of one image (`src` is its entry (oh0, 0)) into its dx plane. */
function col2imTap(g: ConvGeometry, oh0: i32, src: usize, plane: usize): void {
  const outW = g.outW;
  const start = runStart(g);
  if (start >= 0) {
    // One run from the first inside entry to the last; the entries in the padding (the column
    // matrix is scratch) are zeroed first so that they add nothing to the neighbouring row.
    zeroBorderColumns(g, oh0, src);
    const first = src + (<usize>((tapRowLo - oh0) * outW + tapColLo) << 2);
    addRun(plane + (<usize>start << 2), first, runLength(g), 1);
    return;
  }
  const sw = g.strideW;
  for (let oh = tapRowLo; oh < tapRowHi; oh++) {
    const from = src + (<usize>((oh - oh0) * outW + tapColLo) << 2);
    const to = plane + (<usize>((oh * g.strideH + tapRowShift) * g.width + tapColLo * sw + tapColShift) << 2);
    addRun(to, from, tapColHi - tapColLo, sw);
  }
}

/**
 * Fills the columns of images [n0, n0 + images), output rows [oh0, oh1), of the group whose
 * first input channel is c0, from x `[N, C, H, W]`.
 */
export function im2col(
  geometry: usize,
  x: usize,
  c0: i32,
  n0: i32,
  images: i32,
  oh0: i32,
  oh1: i32,
  col: usize,
  ldcol: i32,
  part: i32,
  parts: i32,
): void {
  const g = changetype<ConvGeometry>(geometry);
  const groupIn = g.groupIn;
  const planeBytes = <usize>(g.height * g.width) << 2;
  const span = (oh1 - oh0) * g.outW;
  const items = images * groupIn;
  const end = (items * (part + 1)) / parts;
  for (let item = (items * part) / parts; item < end; item++) {
    const b = item / groupIn;
    const c = item % groupIn;
    const plane = x + <usize>((n0 + b) * g.channels + c0 + c) * planeBytes;
    for (let i = 0; i < g.kh; i++) {
      for (let j = 0; j < g.kw; j++) {
        const dst = col + ((<usize>((c * g.kh + i) * g.kw + j) * <usize>ldcol + <usize>(b * span)) << 2);
        if (tapWindow(g, i, j, oh0, oh1)) im2colTap(g, oh0, oh1, plane, dst);
        else zeroRun(dst, span);
      }
    }
  }
}

/**
 * The adjoint of im2col: adds every column entry into the dx `[N, C, H, W]` position it was
 * read from (and may zero entries that read padding). Without `accumulate`, each plane it
 * covers is zeroed first.
 */
export function col2im(
  geometry: usize,
  dx: usize,
  c0: i32,
  n0: i32,
  images: i32,
  oh0: i32,
  oh1: i32,
  col: usize,
  ldcol: i32,
  accumulate: i32,
  part: i32,
  parts: i32,
): void {
  const g = changetype<ConvGeometry>(geometry);
  const groupIn = g.groupIn;
  const planeFloats = g.height * g.width;
  const span = (oh1 - oh0) * g.outW;
  const items = images * groupIn;
  const end = (items * (part + 1)) / parts;
  for (let item = (items * part) / parts; item < end; item++) {
    const b = item / groupIn;
    const c = item % groupIn;
    const plane = dx + (<usize>((n0 + b) * g.channels + c0 + c) * <usize>planeFloats << 2);
    if (!accumulate) zeroRun(plane, planeFloats);
    for (let i = 0; i < g.kh; i++) {
      for (let j = 0; j < g.kw; j++) {
        const src = col + ((<usize>((c * g.kh + i) * g.kw + j) * <usize>ldcol + <usize>(b * span)) << 2);
        if (tapWindow(g, i, j, oh0, oh1)) col2imTap(g, oh0, src, plane);
      }
    }
  }
}

/**
 * Copies `outer × inner` runs of `length` floats: run (a, b) goes from
 * src + a·srcOuter + b·srcInner to dst + a·dstOuter + b·dstInner (strides in floats). It moves
 * a chunk of images between the `[N, O, P]` layout and the GEMM's `[O, images·P]` one.
 */
export function copyBlocks(
  src: usize,
  srcOuter: i32,
  srcInner: i32,
  dst: usize,
  dstOuter: i32,
  dstInner: i32,
  outer: i32,
  inner: i32,
  length: i32,
  part: i32,
  parts: i32,
): void {
  const end = (outer * (part + 1)) / parts;
  for (let a = (outer * part) / parts; a < end; a++) {
    for (let b = 0; b < inner; b++) {
      const to = dst + (<usize>(a * dstOuter + b * dstInner) << 2);
      copyRun(to, src + (<usize>(a * srcOuter + b * srcInner) << 2), length, 1);
    }
  }
}
