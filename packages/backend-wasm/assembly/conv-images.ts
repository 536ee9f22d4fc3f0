// The convolutions of a batch, split over its images: each part takes a range of images and,
// for each image, band of output rows and group, fills the band's column matrix in its
// thread's own scratch (im2col, conv.ts) and runs the GEMM on it at once, while it is still in
// the cache (gemm.ts). The GEMM reads and writes the `[N, C, H, W]` arrays in place: a band's
// output positions are contiguous in every channel plane. No thread shares a column matrix, a
// GEMM workspace or an output, so the parts need no synchronisation.
//   conv2d:            y[b][Og × band]  = w[Og × K] · col                (+ bias, activation)
//   convTranspose2d:   col = w[Og × K]ᵀ · dy[b][Og × band], then col2im adds col into dx[b]
//   conv2dWeightGrad:  partial[part][Og × K] += dy[b][Og × band] · colᵀ  (then sumParts)
import { col2im, ConvGeometry, im2col } from './conv';
import { gemmBlock, gemmWorkspaceBytes } from './gemm';

/**
 * Below this many taps per group (K), the weight gradient multiplies rows directly
 * (rowProducts) instead of packing them for the GEMM: with K = 9 (a 3×3 kernel on one
 * channel) the GEMM's 4×8 tiles are half empty and packing costs more than the products.
 */
const ROW_PRODUCTS_MAX_DEPTH = 16;

/** The activation codes a forward convolution applies at write-back. */
const IDENTITY = 0;
const RELU = 1;

@inline
function share(total: i32, part: i32, parts: i32): i32 {
  return <i32>((<i64>total * part) / parts);
}

/** Column-matrix floats of a band: taps × output positions. */
@inline
function depthOf(g: ConvGeometry): i32 {
  return g.groupIn * g.kh * g.kw;
}

/** This thread's column scratch: `threadColFloats` floats per thread. */
@inline
function scratchOf(col: usize, threadColFloats: i32, thread: i32): usize {
  return col + ((<usize>thread * <usize>threadColFloats) << 2);
}

/** Where group `group`'s channels of image b start in an `[N, groups·Og, outH, outW]` array, at row oh0. */
@inline
function outputBlock(g: ConvGeometry, y: usize, b: i32, group: i32, oh0: i32): usize {
  const plane = g.outH * g.outW;
  return y + (<usize>((b * g.groups + group) * g.groupOut * plane + oh0 * g.outW) << 2);
}

@inline
function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

@inline
function lanesSum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

/**
 * c[i, j] = beta·c[i, j] + Σ_p a[i, p]·b[j, p] for p < k (row strides lda, ldb, ldc; beta 0 or
 * 1): A·Bᵀ with both operands read along their contiguous rows, four rows of B at a time.
 */
function rowProducts(m: i32, n: i32, k: i32, a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32, beta: f32): void {
  const k4 = k & ~3;
  const ldbBytes = <usize>ldb << 2;
  for (let i = 0; i < m; i++) {
    const row = a + (<usize>(i * lda) << 2);
    const out = c + (<usize>(i * ldc) << 2);
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      const b0 = b + (<usize>(j * ldb) << 2);
      const b1 = b0 + ldbBytes;
      const b2 = b1 + ldbBytes;
      const b3 = b2 + ldbBytes;
      let s0 = f32x4.splat(0);
      let s1 = s0;
      let s2 = s0;
      let s3 = s0;
      for (let p = 0; p < k4; p += 4) {
        const at = <usize>p << 2;
        const x = v128.load(row + at);
        s0 = madd(x, v128.load(b0 + at), s0);
        s1 = madd(x, v128.load(b1 + at), s1);
        s2 = madd(x, v128.load(b2 + at), s2);
        s3 = madd(x, v128.load(b3 + at), s3);
      }
      let t0 = lanesSum(s0);
      let t1 = lanesSum(s1);
      let t2 = lanesSum(s2);
      let t3 = lanesSum(s3);
      for (let p = k4; p < k; p++) {
        const at = <usize>p << 2;
        const x = load<f32>(row + at);
        t0 += x * load<f32>(b0 + at);
        t1 += x * load<f32>(b1 + at);
        t2 += x * load<f32>(b2 + at);
        t3 += x * load<f32>(b3 + at);
      }
      const to = out + (<usize>j << 2);
      // c may hold anything (NaN too) when beta is 0: it is not read then.
      if (beta != 0) {
        t0 += load<f32>(to);
        t1 += load<f32>(to, 4);
        t2 += load<f32>(to, 8);
        t3 += load<f32>(to, 12);
      }
      store<f32>(to, t0);
      store<f32>(to, t1, 4);
      store<f32>(to, t2, 8);
      store<f32>(to, t3, 12);
    }
    for (; j < n; j++) {
      const bj = b + (<usize>(j * ldb) << 2);
      let s = f32x4.splat(0);
      for (let p = 0; p < k4; p += 4) s = madd(v128.load(row + (<usize>p << 2)), v128.load(bj + (<usize>p << 2)), s);
      let t = lanesSum(s);
      for (let p = k4; p < k; p++) t += load<f32>(row + (<usize>p << 2)) * load<f32>(bj + (<usize>p << 2));
      const to = out + (<usize>j << 2);
      store<f32>(to, beta != 0 ? t + load<f32>(to) : t);
    }
  }
}

/** y[row, 0..count) = activation(y + bias[row]) for `rows` rows `ld` floats apart. */
function epilogue(y: usize, ld: i32, rows: i32, count: i32, bias: usize, activation: i32): void {
  const zero = f32x4.splat(0);
  for (let r = 0; r < rows; r++) {
    const row = y + (<usize>(r * ld) << 2);
    const add = bias != 0 ? load<f32>(bias + (<usize>r << 2)) : 0;
    const shift = f32x4.splat(add);
    let t = 0;
    for (; t + 4 <= count; t += 4) {
      let v = f32x4.add(v128.load(row + (<usize>t << 2)), shift);
      if (activation == RELU) v = f32x4.max(v, zero);
      v128.store(row + (<usize>t << 2), v);
    }
    for (; t < count; t++) {
      let v = load<f32>(row + (<usize>t << 2)) + add;
      if (activation == RELU) v = max<f32>(v, 0);
      store<f32>(row + (<usize>t << 2), v);
    }
  }
}

/**
 * y `[N, O, outH, outW]` = conv2d(x, w) for the images of one part, then y + bias[o] (bias 0:
 * none) and the activation (IDENTITY or RELU) on each band while it is in the cache.
 */
export function conv2dImages(
  geometry: usize,
  x: usize,
  w: usize,
  y: usize,
  bias: usize,
  activation: i32,
  col: usize,
  threadColFloats: i32,
  workspace: usize,
  part: i32,
  parts: i32,
  thread: i32,
): void {
  const g = changetype<ConvGeometry>(geometry);
  const depth = depthOf(g);
  const plane = g.outH * g.outW;
  const scratch = scratchOf(col, threadColFloats, thread);
  const space = workspace + <usize>thread * <usize>gemmWorkspaceBytes();
  const end = share(g.batch, part + 1, parts);
  for (let b = share(g.batch, part, parts); b < end; b++) {
    for (let oh0 = 0; oh0 < g.outH; oh0 += g.bandRows) {
      const oh1 = min(g.outH, oh0 + g.bandRows);
      const n = (oh1 - oh0) * g.outW;
      for (let group = 0; group < g.groups; group++) {
        im2col(geometry, x, group * g.groupIn, b, 1, oh0, oh1, scratch, n, 0, 1);
        const out = outputBlock(g, y, b, group, oh0);
        const weights = w + (<usize>(group * g.groupOut * depth) << 2);
        gemmBlock(g.groupOut, n, depth, weights, depth, 1, scratch, n, 1, out, plane, 0, space);
        if (bias != 0 || activation != IDENTITY) {
          const groupBias = bias != 0 ? bias + (<usize>(group * g.groupOut) << 2) : 0;
          epilogue(out, plane, g.groupOut, n, groupBias, activation);
        }
      }
    }
  }
}

/** dx `[N, C, H, W]` = the input gradient of conv2d for dy `[N, O, outH, outW]`, for the images of one part. */
export function convTranspose2dImages(
  geometry: usize,
  dy: usize,
  w: usize,
  dx: usize,
  col: usize,
  threadColFloats: i32,
  workspace: usize,
  part: i32,
  parts: i32,
  thread: i32,
): void {
  const g = changetype<ConvGeometry>(geometry);
  const depth = depthOf(g);
  const plane = g.outH * g.outW;
  const scratch = scratchOf(col, threadColFloats, thread);
  const space = workspace + <usize>thread * <usize>gemmWorkspaceBytes();
  const end = share(g.batch, part + 1, parts);
  for (let b = share(g.batch, part, parts); b < end; b++) {
    for (let oh0 = 0; oh0 < g.outH; oh0 += g.bandRows) {
      const oh1 = min(g.outH, oh0 + g.bandRows);
      const n = (oh1 - oh0) * g.outW;
      for (let group = 0; group < g.groups; group++) {
        const grads = outputBlock(g, dy, b, group, oh0);
        const weights = w + (<usize>(group * g.groupOut * depth) << 2);
        gemmBlock(depth, n, g.groupOut, weights, 1, depth, grads, plane, 1, scratch, n, 0, space);
        // The first band of an image zeroes its planes; later ones add to them.
        col2im(geometry, dx, group * g.groupIn, b, 1, oh0, oh1, scratch, n, oh0 > 0 ? 1 : 0, 0, 1);
      }
    }
  }
}

/**
 * partials[part] `[O, K]` = the weight gradient of conv2d over the images of one part (every
 * part must have at least one image); sumParts adds the parts up in a fixed order.
 */
export function conv2dWeightGradImages(
  geometry: usize,
  x: usize,
  dy: usize,
  partials: usize,
  col: usize,
  threadColFloats: i32,
  workspace: usize,
  part: i32,
  parts: i32,
  thread: i32,
): void {
  const g = changetype<ConvGeometry>(geometry);
  const depth = depthOf(g);
  const plane = g.outH * g.outW;
  const scratch = scratchOf(col, threadColFloats, thread);
  const space = workspace + <usize>thread * <usize>gemmWorkspaceBytes();
  const dw = partials + (<usize>(part * g.groups * g.groupOut * depth) << 2);
  const first = share(g.batch, part, parts);
  const end = share(g.batch, part + 1, parts);
  for (let b = first; b < end; b++) {
    for (let oh0 = 0; oh0 < g.outH; oh0 += g.bandRows) {
      const oh1 = min(g.outH, oh0 + g.bandRows);
      const n = (oh1 - oh0) * g.outW;
      const beta: f32 = b == first && oh0 == 0 ? 0 : 1;
      for (let group = 0; group < g.groups; group++) {
        im2col(geometry, x, group * g.groupIn, b, 1, oh0, oh1, scratch, n, 0, 1);
        const grads = outputBlock(g, dy, b, group, oh0);
        const out = dw + (<usize>(group * g.groupOut * depth) << 2);
        if (depth < ROW_PRODUCTS_MAX_DEPTH) rowProducts(g.groupOut, depth, n, grads, plane, scratch, n, out, depth, beta);
        else gemmBlock(g.groupOut, depth, n, grads, plane, 1, scratch, 1, n, out, depth, beta, space);
      }
    }
  }
}

/** dst[i] = Σ over p of src[p·count + i], for p = 0, 1, … in order (float32). */
export function sumParts(dst: usize, src: usize, count: i32, parts: i32): void {
  const stride = <usize>count << 2;
  let i = 0;
  for (; i + 4 <= count; i += 4) {
    let at = src + (<usize>i << 2);
    let acc = v128.load(at);
    for (let p = 1; p < parts; p++) {
      at += stride;
      acc = f32x4.add(acc, v128.load(at));
    }
    v128.store(dst + (<usize>i << 2), acc);
  }
  for (; i < count; i++) {
    let at = src + (<usize>i << 2);
    let acc = load<f32>(at);
    for (let p = 1; p < parts; p++) {
      at += stride;
      acc += load<f32>(at);
    }
    store<f32>(dst + (<usize>i << 2), acc);
  }
}

/** y `[N, O, P]` = activation(y + bias[o]) (bias 0: none), for the images of one part. */
export function convEpilogue(
  y: usize,
  batch: i32,
  channels: i32,
  plane: i32,
  bias: usize,
  activation: i32,
  part: i32,
  parts: i32,
): void {
  const end = share(batch, part + 1, parts);
  for (let b = share(batch, part, parts); b < end; b++) {
    epilogue(y + (<usize>(b * channels * plane) << 2), plane, channels, plane, bias, activation);
  }
}
