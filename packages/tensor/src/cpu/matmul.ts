import type { TypedArray } from '../dtype.js';
import { forEachBatch, matmulLayout } from '../kernel-layout.js';
import type { Kernel } from '../primitives.js';

// A cache-blocked GEMM in the style of BLIS/GotoBLAS. For each nc-wide slab of columns and each
// kc-deep slice of the inner dimension, a panel of B is packed once; for each mc-tall block of
// rows, a block of A is packed; a 4×4 micro-kernel then walks both packed buffers linearly,
// keeping its 16 partial sums in local variables. Packing reads through arbitrary strides
// (transposed, sliced, flipped, broadcast stride 0), so callers never copy their inputs.
//
// Floats are packed into Float64Array scratch and accumulated in float64: a float32 result is
// summed in float64 and rounded to float32 once, at the end. int32 uses Math.imul and
// wrapping adds, so it equals int32 arithmetic exactly (wrap-around included).
//
// Block sizes (measured on a 2-core EPYC, Node 20): the 4×4 tile beat 4×8 (32 accumulators
// outnumber the 16 x64 float registers), and kc ∈ {128, 256, 512} × mc ∈ {32, 64, 128} were all
// within noise of each other. With kc = 256 one packed 4-wide panel of B is 8 KiB (L1) and a
// packed block of A is 128 KiB (L2).

/** Rows of A (and columns of B) per micro-kernel tile. */
const TILE = 4;
const KC = 256;
const MC = 64;
const NC = 512;

type Scratch = Float64Array | Int32Array;

/** How one matrix operand is laid out: element (i, j) is at `offset + i * rowStride + j * colStride`. */
export interface Operand {
  readonly data: TypedArray;
  readonly offset: number;
  readonly rowStride: number;
  readonly colStride: number;
}

/** The scratch buffers and micro-kernel of one arithmetic (float64 or wrapping int32). */
interface Arithmetic<S extends Scratch> {
  alloc(size: number): S;
  packedA: S;
  packedB: S;
  readonly tile: S;
  microKernel(a: S, aStart: number, b: S, bStart: number, depth: number, tile: S): void;
}

// biome-ignore format: the 4×4 tile reads best as a grid
/** tile = (4 packed rows of A) × (4 packed columns of B) over `depth` steps, in float64. */
function floatMicroKernel(
  a: Float64Array,
  aStart: number,
  b: Float64Array,
  bStart: number,
  depth: number,
  tile: Float64Array,
): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  let i = aStart;
  let j = bStart;
  for (let p = 0; p < depth; p++, i += TILE, j += TILE) {
    const a0 = a[i], a1 = a[i + 1], a2 = a[i + 2], a3 = a[i + 3];
    const b0 = b[j], b1 = b[j + 1], b2 = b[j + 2], b3 = b[j + 3];
    c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
    c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
    c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
    c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
  }
  tile[0] = c00; tile[1] = c01; tile[2] = c02; tile[3] = c03;
  tile[4] = c10; tile[5] = c11; tile[6] = c12; tile[7] = c13;
  tile[8] = c20; tile[9] = c21; tile[10] = c22; tile[11] = c23;
  tile[12] = c30; tile[13] = c31; tile[14] = c32; tile[15] = c33;
}

// biome-ignore format: the 4×4 tile reads best as a grid
/** The same tile in int32 arithmetic: products by Math.imul, sums wrapped by `| 0`. */
function intMicroKernel(a: Int32Array, aStart: number, b: Int32Array, bStart: number, depth: number, tile: Int32Array): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  let i = aStart;
  let j = bStart;
  for (let p = 0; p < depth; p++, i += TILE, j += TILE) {
    const a0 = a[i], a1 = a[i + 1], a2 = a[i + 2], a3 = a[i + 3];
    const b0 = b[j], b1 = b[j + 1], b2 = b[j + 2], b3 = b[j + 3];
    c00 = (c00 + Math.imul(a0, b0)) | 0; c01 = (c01 + Math.imul(a0, b1)) | 0;
    c02 = (c02 + Math.imul(a0, b2)) | 0; c03 = (c03 + Math.imul(a0, b3)) | 0;
    c10 = (c10 + Math.imul(a1, b0)) | 0; c11 = (c11 + Math.imul(a1, b1)) | 0;
    c12 = (c12 + Math.imul(a1, b2)) | 0; c13 = (c13 + Math.imul(a1, b3)) | 0;
    c20 = (c20 + Math.imul(a2, b0)) | 0; c21 = (c21 + Math.imul(a2, b1)) | 0;
    c22 = (c22 + Math.imul(a2, b2)) | 0; c23 = (c23 + Math.imul(a2, b3)) | 0;
    c30 = (c30 + Math.imul(a3, b0)) | 0; c31 = (c31 + Math.imul(a3, b1)) | 0;
    c32 = (c32 + Math.imul(a3, b2)) | 0; c33 = (c33 + Math.imul(a3, b3)) | 0;
  }
  tile[0] = c00; tile[1] = c01; tile[2] = c02; tile[3] = c03;
  tile[4] = c10; tile[5] = c11; tile[6] = c12; tile[7] = c13;
  tile[8] = c20; tile[9] = c21; tile[10] = c22; tile[11] = c23;
  tile[12] = c30; tile[13] = c31; tile[14] = c32; tile[15] = c33;
}

// Scratch is kept between calls (kernels run one at a time) and grows to at most MC×KC and NC×KC.
const floatArithmetic: Arithmetic<Float64Array> = {
  alloc: (size) => new Float64Array(size),
  packedA: new Float64Array(0),
  packedB: new Float64Array(0),
  tile: new Float64Array(TILE * TILE),
  microKernel: floatMicroKernel,
};
const intArithmetic: Arithmetic<Int32Array> = {
  alloc: (size) => new Int32Array(size),
  packedA: new Int32Array(0),
  packedB: new Int32Array(0),
  tile: new Int32Array(TILE * TILE),
  microKernel: intMicroKernel,
};

/**
 * Packs `count` lanes (rows of A, or rows of Bᵀ) of `depth` elements each into groups of
 * TILE lanes, interleaved so that step p of a group is TILE consecutive values. Lanes past
 * `count` are zero-filled so the micro-kernel can always compute a whole tile.
 */
function packPanels(
  src: TypedArray,
  start: number,
  laneStride: number,
  stepStride: number,
  count: number,
  depth: number,
  dst: Scratch,
): void {
  let d = 0;
  for (let lane0 = 0; lane0 < count; lane0 += TILE) {
    const lanes = Math.min(TILE, count - lane0);
    let at = start + lane0 * laneStride;
    for (let p = 0; p < depth; p++, at += stepStride, d += TILE) {
      let l = 0;
      for (; l < lanes; l++) dst[d + l] = src[at + l * laneStride];
      for (; l < TILE; l++) dst[d + l] = 0;
    }
  }
}

/** Adds the top-left `rows × cols` of a tile into C (row stride `ldc`); int32 stores wrap. */
function addTile(tile: Scratch, c: Scratch, at: number, ldc: number, rows: number, cols: number): void {
  for (let i = 0; i < rows; i++, at += ldc) {
    for (let j = 0; j < cols; j++) c[at + j] += tile[i * TILE + j];
  }
}

/** Packs rows r0..r0+count of `x`, columns c0..c0+depth, as `packPanels` does. */
function packRows(x: Operand, r0: number, count: number, c0: number, depth: number, dst: Scratch): void {
  const start = x.offset + r0 * x.rowStride + c0 * x.colStride;
  packPanels(x.data, start, x.rowStride, x.colStride, count, depth, dst);
}

/** C[m×n] (contiguous from `cStart`) += A[m×k] · B[k×n], with B given as its transpose `bT`. */
function gemm<S extends Scratch>(
  m: number,
  n: number,
  k: number,
  a: Operand,
  bT: Operand,
  c: S,
  cStart: number,
  arith: Arithmetic<S>,
): void {
  const kcMax = Math.min(KC, k);
  const aSize = Math.ceil(Math.min(MC, m) / TILE) * TILE * kcMax;
  const bSize = Math.ceil(Math.min(NC, n) / TILE) * TILE * kcMax;
  if (arith.packedA.length < aSize) arith.packedA = arith.alloc(aSize);
  if (arith.packedB.length < bSize) arith.packedB = arith.alloc(bSize);
  const { packedA, packedB, tile, microKernel } = arith;
  for (let j0 = 0; j0 < n; j0 += NC) {
    const nc = Math.min(NC, n - j0);
    for (let p0 = 0; p0 < k; p0 += KC) {
      const kc = Math.min(KC, k - p0);
      packRows(bT, j0, nc, p0, kc, packedB);
      for (let i0 = 0; i0 < m; i0 += MC) {
        const mc = Math.min(MC, m - i0);
        packRows(a, i0, mc, p0, kc, packedA);
        for (let jr = 0; jr < nc; jr += TILE) {
          for (let ir = 0; ir < mc; ir += TILE) {
            microKernel(packedA, ir * kc, packedB, jr * kc, kc, tile);
            const at = cStart + (i0 + ir) * n + j0 + jr;
            addTile(tile, c, at, n, Math.min(TILE, mc - ir), Math.min(TILE, nc - jr));
          }
        }
      }
    }
  }
}

/** out[m × n] (float64, contiguous) = a[m × k] · b[k × n] for float operands of any layout. */
export function floatProduct(
  m: number,
  n: number,
  k: number,
  a: Operand,
  b: Operand,
  out: Float64Array,
): void {
  out.fill(0, 0, m * n);
  const bT = { data: b.data, offset: b.offset, rowStride: b.colStride, colStride: b.rowStride };
  gemm(m, n, k, a, bT, out, 0, floatArithmetic);
}

/**
 * Batched matmul [...batch, m, k] × [...batch, k, n] → contiguous [...batch, m, n]. Inputs have
 * the output's batch shape already (broadcast axes have stride 0) and its dtype.
 */
export const matmul: Kernel<'matmul', TypedArray> = ([out], [a, b]) => {
  const rank = out.shape.length;
  const { batch, rows, n, k, aRowStride } = matmulLayout(out, a, b);
  const operandA = (offset: number): Operand => ({
    data: a.handle,
    offset,
    rowStride: aRowStride,
    colStride: a.strides[rank - 1],
  });
  const operandBT = (offset: number): Operand => ({
    data: b.handle,
    offset,
    rowStride: b.strides[rank - 1],
    colStride: b.strides[rank - 2],
  });
  const plane = rows * n;
  const dst = out.handle;
  if (dst instanceof Float64Array || dst instanceof Int32Array) {
    const arith: Arithmetic<Scratch> = dst instanceof Int32Array ? intArithmetic : floatArithmetic;
    forEachBatch(batch, a, b, (index, aOffset, bOffset) => {
      dst.fill(0, index * plane, (index + 1) * plane);
      gemm(rows, n, k, operandA(aOffset), operandBT(bOffset), dst, index * plane, arith);
    });
    return;
  }
  // float32: accumulate each plane in float64, round once when copying it out.
  const sums = new Float64Array(plane);
  forEachBatch(batch, a, b, (index, aOffset, bOffset) => {
    sums.fill(0);
    gemm(rows, n, k, operandA(aOffset), operandBT(bOffset), sums, 0, floatArithmetic);
    dst.set(sums, index * plane);
  });
};
