// Max and average pooling over float32 planes `[planes, H, W]`, with the window rules of the
// reference kernels (packages/tensor/src/cpu/pool.ts): window (oh, ow) starts at
// (oh·sh − ph, ow·sw − pw) and has kh × kw taps spaced by the dilation; taps outside the input
// are skipped. Every kernel splits the planes into parts. The 2×2 stride-2 windows of
// typical CNNs take a SIMD path that handles four outputs at a time.

import { floorDiv, zeroRun } from './conv';

/** A pooling's sizes, written by JavaScript as consecutive i32s (keep the field order). */
@unmanaged
class PoolGeometry {
  height: i32;
  width: i32;
  outH: i32;
  outW: i32;
  kh: i32;
  kw: i32;
  strideH: i32;
  strideW: i32;
  padH: i32;
  padW: i32;
  dilationH: i32;
  dilationW: i32;
  countIncludePad: i32;
}

/** The first tap of a window starting at `start` that lies at or after 0. */
@inline
function firstTap(start: i32, dilation: i32): i32 {
  return max(0, dilation == 1 ? -start : -floorDiv(start, dilation));
}

/** One past the last of `taps` taps of a window starting at `start` that lies before `limit`. */
@inline
function endTap(start: i32, dilation: i32, taps: i32, limit: i32): i32 {
  return max(0, min(taps, dilation == 1 ? limit - start : floorDiv(limit - 1 - start, dilation) + 1));
}

/**
 * True for the windows the SIMD path covers: 2×2, stride 2, no padding or dilation, all inside,
 * at least four per row.
 */
function isPlainTwoByTwo(g: PoolGeometry): bool {
  return (
    g.kh == 2 &&
    g.kw == 2 &&
    g.strideH == 2 &&
    g.strideW == 2 &&
    g.padH == 0 &&
    g.padW == 0 &&
    g.dilationH == 1 &&
    g.dilationW == 1 &&
    2 * g.outH <= g.height &&
    2 * g.outW <= g.width &&
    g.outW >= 4
  );
}

/**
 * Whether v replaces the running maximum: it must be larger, or NaN over a number (the
 * reference's rule), so the first of equal maxima and the first NaN win.
 */
@inline
function replaces(v: f32, best: f32): bool {
  return v > best || (isNaN(v) && !isNaN(best));
}

/** The same rule on four lanes: all-ones where v replaces best. */
@inline
function replacesLanes(v: v128, best: v128): v128 {
  return v128.or(f32x4.gt(v, best), v128.andnot(f32x4.ne(v, v), f32x4.ne(best, best)));
}

/** Max pooling of one plane over 2×2 windows with stride 2 (at least four per row). */
function maxPlaneTwoByTwo(g: PoolGeometry, src: usize, values: usize, indices: usize): void {
  const width = g.width;
  const outW = g.outW;
  for (let oh = 0; oh < g.outH; oh++) {
    const top = 2 * oh * width;
    const row0 = src + (<usize>top << 2);
    const row1 = row0 + (<usize>width << 2);
    const out = <usize>(oh * outW) << 2;
    // The last four windows may overlap the previous four; they are stored again, unchanged.
    for (let step = 0; step < outW; step += 4) {
      const ow = min(step, outW - 4);
      const at = <usize>ow << 3;
      const a = v128.load(row0 + at);
      const b = v128.load(row0 + at, 16);
      const c = v128.load(row1 + at);
      const d = v128.load(row1 + at, 16);
      const first = i32x4.add(i32x4.splat(top + 2 * ow), i32x4(0, 2, 4, 6));
      // Taps in the reference's order: (0, 0), (0, 1), (1, 0), (1, 1).
      let best = f32x4.shuffle(a, b, 0, 2, 4, 6);
      let where = first;
      let v = f32x4.shuffle(a, b, 1, 3, 5, 7);
      let take = replacesLanes(v, best);
      best = v128.bitselect(v, best, take);
      where = v128.bitselect(i32x4.add(first, i32x4.splat(1)), where, take);
      v = f32x4.shuffle(c, d, 0, 2, 4, 6);
      take = replacesLanes(v, best);
      best = v128.bitselect(v, best, take);
      where = v128.bitselect(i32x4.add(first, i32x4.splat(width)), where, take);
      v = f32x4.shuffle(c, d, 1, 3, 5, 7);
      take = replacesLanes(v, best);
      best = v128.bitselect(v, best, take);
      where = v128.bitselect(i32x4.add(first, i32x4.splat(width + 1)), where, take);
      v128.store(values + out + (<usize>ow << 2), best);
      v128.store(indices + out + (<usize>ow << 2), where);
    }
  }
}

/** Max pooling of one plane, window by window and tap by tap. */
function maxPlane(g: PoolGeometry, src: usize, values: usize, indices: usize): void {
  const width = g.width;
  const dh = g.dilationH;
  const dw = g.dilationW;
  for (let oh = 0; oh < g.outH; oh++) {
    const top = oh * g.strideH - g.padH;
    const iStart = firstTap(top, dh);
    const iEnd = endTap(top, dh, g.kh, g.height);
    for (let ow = 0; ow < g.outW; ow++) {
      const left = ow * g.strideW - g.padW;
      const jStart = firstTap(left, dw);
      const jEnd = endTap(left, dw, g.kw, width);
      let best: f32 = -Infinity;
      let where = -1;
      for (let i = iStart; i < iEnd; i++) {
        const rowStart = (top + i * dh) * width + left;
        for (let j = jStart; j < jEnd; j++) {
          const at = rowStart + j * dw;
          const v = load<f32>(src + (<usize>at << 2));
          if (where < 0 || replaces(v, best)) {
            best = v;
            where = at;
          }
        }
      }
      const out = <usize>(oh * g.outW + ow) << 2;
      store<f32>(values + out, best);
      store<i32>(indices + out, where);
    }
  }
}

/**
 * values, indices `[planes, outH, outW]` = the first maximum of each window of x
 * `[planes, H, W]` and its flat position h·W + w in the plane (NaN counts as largest).
 */
export function maxPool2d(
  geometry: usize,
  x: usize,
  values: usize,
  indices: usize,
  planes: i32,
  part: i32,
  parts: i32,
): void {
  const g = changetype<PoolGeometry>(geometry);
  const inPlane = <usize>(g.height * g.width) << 2;
  const outPlane = <usize>(g.outH * g.outW) << 2;
  const plain = isPlainTwoByTwo(g);
  const end = (planes * (part + 1)) / parts;
  for (let p = (planes * part) / parts; p < end; p++) {
    const src = x + <usize>p * inPlane;
    const at = <usize>p * outPlane;
    if (plain) maxPlaneTwoByTwo(g, src, values + at, indices + at);
    else maxPlane(g, src, values + at, indices + at);
  }
}

/** The divisor of a window along one axis: its padded extent or its taps inside the input. */
@inline
function axisDivisor(g: PoolGeometry, start: i32, dilation: i32, taps: i32, size: i32, pad: i32): i32 {
  if (g.countIncludePad) return endTap(start, dilation, taps, size + pad);
  return max(0, endTap(start, dilation, taps, size) - firstTap(start, dilation));
}

/** Average pooling of one plane over 2×2 windows with stride 2 (at least four per row). */
function averagePlaneTwoByTwo(g: PoolGeometry, src: usize, dst: usize): void {
  const width = g.width;
  const outW = g.outW;
  const quarter = f32x4.splat(0.25);
  for (let oh = 0; oh < g.outH; oh++) {
    const row0 = src + (<usize>(2 * oh * width) << 2);
    const row1 = row0 + (<usize>width << 2);
    for (let step = 0; step < outW; step += 4) {
      const ow = min(step, outW - 4);
      const at = <usize>ow << 3;
      const a = v128.load(row0 + at);
      const b = v128.load(row0 + at, 16);
      const c = v128.load(row1 + at);
      const d = v128.load(row1 + at, 16);
      const top = f32x4.add(f32x4.shuffle(a, b, 0, 2, 4, 6), f32x4.shuffle(a, b, 1, 3, 5, 7));
      const sum = f32x4.add(f32x4.add(top, f32x4.shuffle(c, d, 0, 2, 4, 6)), f32x4.shuffle(c, d, 1, 3, 5, 7));
      v128.store(dst + (<usize>(oh * outW + ow) << 2), f32x4.mul(sum, quarter));
    }
  }
}

/** Average pooling of one plane, window by window; sums in float64 and divides once, like the reference. */
function averagePlane(g: PoolGeometry, src: usize, dst: usize): void {
  const width = g.width;
  const dh = g.dilationH;
  const dw = g.dilationW;
  for (let oh = 0; oh < g.outH; oh++) {
    const top = oh * g.strideH - g.padH;
    const iStart = firstTap(top, dh);
    const iEnd = endTap(top, dh, g.kh, g.height);
    const rowDivisor = axisDivisor(g, top, dh, g.kh, g.height, g.padH);
    for (let ow = 0; ow < g.outW; ow++) {
      const left = ow * g.strideW - g.padW;
      const jStart = firstTap(left, dw);
      const jEnd = endTap(left, dw, g.kw, width);
      let sum: f64 = 0;
      for (let i = iStart; i < iEnd; i++) {
        const rowStart = src + (<usize>((top + i * dh) * width + left) << 2);
        for (let j = jStart; j < jEnd; j++) sum += <f64>load<f32>(rowStart + (<usize>(j * dw) << 2));
      }
      const divisor = rowDivisor * axisDivisor(g, left, dw, g.kw, width, g.padW);
      store<f32>(dst + (<usize>(oh * g.outW + ow) << 2), <f32>(sum / <f64>divisor));
    }
  }
}

/** out `[planes, outH, outW]` = the mean of each window of x (divisor as in the reference). */
export function avgPool2d(geometry: usize, x: usize, out: usize, planes: i32, part: i32, parts: i32): void {
  const g = changetype<PoolGeometry>(geometry);
  const inPlane = <usize>(g.height * g.width) << 2;
  const outPlane = <usize>(g.outH * g.outW) << 2;
  const plain = isPlainTwoByTwo(g);
  const end = (planes * (part + 1)) / parts;
  for (let p = (planes * part) / parts; p < end; p++) {
    if (plain) averagePlaneTwoByTwo(g, x + <usize>p * inPlane, out + <usize>p * outPlane);
    else averagePlane(g, x + <usize>p * inPlane, out + <usize>p * outPlane);
  }
}

/**
 * Spreads one plane of dy over 2×2 windows with stride 2 into a zeroed dx plane: the windows
 * are disjoint, so each input gets exactly one share, stored rather than added.
 */
function spreadPlaneTwoByTwo(g: PoolGeometry, src: usize, dst: usize): void {
  const width = g.width;
  const outW = g.outW;
  const quarter = f32x4.splat(0.25);
  for (let oh = 0; oh < g.outH; oh++) {
    const row0 = dst + (<usize>(2 * oh * width) << 2);
    const row1 = row0 + (<usize>width << 2);
    for (let step = 0; step < outW; step += 4) {
      const ow = min(step, outW - 4);
      const share = f32x4.mul(v128.load(src + (<usize>(oh * outW + ow) << 2)), quarter);
      const low = f32x4.shuffle(share, share, 0, 0, 1, 1);
      const high = f32x4.shuffle(share, share, 2, 2, 3, 3);
      const at = <usize>ow << 3;
      v128.store(row0 + at, low);
      v128.store(row0 + at, high, 16);
      v128.store(row1 + at, low);
      v128.store(row1 + at, high, 16);
    }
  }
}

/** Adds each dy of one plane, divided by its window's divisor, to the zeroed dx plane's taps. */
function spreadPlane(g: PoolGeometry, src: usize, dst: usize): void {
  const width = g.width;
  const dh = g.dilationH;
  const dw = g.dilationW;
  for (let oh = 0; oh < g.outH; oh++) {
    const top = oh * g.strideH - g.padH;
    const iStart = firstTap(top, dh);
    const iEnd = endTap(top, dh, g.kh, g.height);
    const rowDivisor = axisDivisor(g, top, dh, g.kh, g.height, g.padH);
    for (let ow = 0; ow < g.outW; ow++) {
      const left = ow * g.strideW - g.padW;
      const jStart = firstTap(left, dw);
      const jEnd = endTap(left, dw, g.kw, width);
      const divisor = rowDivisor * axisDivisor(g, left, dw, g.kw, width, g.padW);
      const share = <f32>(<f64>load<f32>(src + (<usize>(oh * g.outW + ow) << 2)) / <f64>divisor);
      for (let i = iStart; i < iEnd; i++) {
        const rowStart = dst + (<usize>((top + i * dh) * width + left) << 2);
        for (let j = jStart; j < jEnd; j++) {
          const at = rowStart + (<usize>(j * dw) << 2);
          store<f32>(at, load<f32>(at) + share);
        }
      }
    }
  }
}

/** dx `[planes, H, W]` = each dy spread evenly over the input taps of its window. */
export function avgPool2dGrad(geometry: usize, dy: usize, dx: usize, planes: i32, part: i32, parts: i32): void {
  const g = changetype<PoolGeometry>(geometry);
  const inPlane = <usize>(g.height * g.width) << 2;
  const outPlane = <usize>(g.outH * g.outW) << 2;
  const plain = isPlainTwoByTwo(g);
  const end = (planes * (part + 1)) / parts;
  for (let p = (planes * part) / parts; p < end; p++) {
    const dst = dx + <usize>p * inPlane;
    zeroRun(dst, g.height * g.width);
    if (plain) spreadPlaneTwoByTwo(g, dy + <usize>p * outPlane, dst);
    else spreadPlane(g, dy + <usize>p * outPlane, dst);
  }
}
