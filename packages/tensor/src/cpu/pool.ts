import type { TypedArray } from '../dtype.js';
import type { Kernel, Pool2dParams } from '../primitives.js';

/**
 * For each output position `o` along one axis, the window starts at `o * stride - pad` and has
 * `taps` taps spaced by `dilation`. Stores three numbers per position: the first and
 * one-past-last tap inside the input `[0, inSize)`, and the number of taps inside the padded
 * input `[-pad, inSize + pad)` (the count-include-pad divisor along this axis).
 */
function windowRanges(
  taps: number,
  dilation: number,
  pad: number,
  stride: number,
  inSize: number,
  outSize: number,
) {
  const ranges = new Int32Array(3 * outSize);
  for (let o = 0; o < outSize; o++) {
    const start = o * stride - pad;
    const last = (limit: number) =>
      Math.max(0, Math.min(taps, Math.floor((limit - 1 - start) / dilation) + 1));
    ranges[3 * o] = Math.max(0, Math.ceil(-start / dilation));
    ranges[3 * o + 1] = last(inSize);
    ranges[3 * o + 2] = last(inSize + pad);
  }
  return ranges;
}

interface Geometry {
  planes: number;
  height: number;
  width: number;
  outH: number;
  outW: number;
  rows: Int32Array;
  cols: Int32Array;
}

function geometry(inShape: readonly number[], outShape: readonly number[], p: Pool2dParams): Geometry {
  const [height, width] = [inShape[2], inShape[3]];
  const [outH, outW] = [outShape[2], outShape[3]];
  const { kernelSize, dilation, padding, stride } = p;
  return {
    planes: inShape[0] * inShape[1],
    height,
    width,
    outH,
    outW,
    rows: windowRanges(kernelSize[0], dilation[0], padding[0], stride[0], height, outH),
    cols: windowRanges(kernelSize[1], dilation[1], padding[1], stride[1], width, outW),
  };
}

/** The first maximum of each window wins; NaN counts as larger than everything. */
export const maxPool2d: Kernel<'maxPool2d', TypedArray> = ([values, indices], [x], params) => {
  const { planes, height, width, outH, outW, rows, cols } = geometry(x.shape, values.shape, params);
  const [sh, sw] = params.stride;
  const [dh, dw] = params.dilation;
  const [ph, pw] = params.padding;
  const src = x.handle;
  const best = values.handle;
  const where = indices.handle;
  let o = 0;
  for (let p = 0; p < planes; p++) {
    const plane = p * height * width;
    for (let oh = 0; oh < outH; oh++) {
      const top = oh * sh - ph;
      for (let ow = 0; ow < outW; ow++, o++) {
        const left = ow * sw - pw;
        let max = Number.NEGATIVE_INFINITY;
        let argmax = -1;
        for (let i = rows[3 * oh]; i < rows[3 * oh + 1]; i++) {
          const rowStart = (top + i * dh) * width + left;
          for (let j = cols[3 * ow]; j < cols[3 * ow + 1]; j++) {
            const at = rowStart + j * dw;
            const v = src[plane + at];
            if (argmax < 0 || v > max || (Number.isNaN(v) && !Number.isNaN(max))) {
              max = v;
              argmax = at;
            }
          }
        }
        best[o] = max;
        where[o] = argmax;
      }
    }
  }
};

/** The divisor of window (oh, ow): its padded extent, or the input elements it covers. */
function divisor(g: Geometry, oh: number, ow: number, countIncludePad: boolean): number {
  const { rows, cols } = g;
  if (countIncludePad) return rows[3 * oh + 2] * cols[3 * ow + 2];
  return (rows[3 * oh + 1] - rows[3 * oh]) * (cols[3 * ow + 1] - cols[3 * ow]);
}

export const avgPool2d: Kernel<'avgPool2d', TypedArray> = ([out], [x], params) => {
  const g = geometry(x.shape, out.shape, params);
  const { planes, height, width, outH, outW, rows, cols } = g;
  const [sh, sw] = params.stride;
  const [dh, dw] = params.dilation;
  const [ph, pw] = params.padding;
  const src = x.handle;
  const dst = out.handle;
  let o = 0;
  for (let p = 0; p < planes; p++) {
    const plane = p * height * width;
    for (let oh = 0; oh < outH; oh++) {
      const top = oh * sh - ph;
      for (let ow = 0; ow < outW; ow++, o++) {
        const left = ow * sw - pw;
        let sum = 0;
        for (let i = rows[3 * oh]; i < rows[3 * oh + 1]; i++) {
          const rowStart = plane + (top + i * dh) * width + left;
          for (let j = cols[3 * ow]; j < cols[3 * ow + 1]; j++) sum += src[rowStart + j * dw];
        }
        dst[o] = sum / divisor(g, oh, ow, params.countIncludePad);
      }
    }
  }
};

/** Spreads each output gradient evenly over the input elements of its window. */
export const avgPool2dGrad: Kernel<'avgPool2dGrad', TypedArray> = ([dx], [dy], params) => {
  const g = geometry(dx.shape, dy.shape, params);
  const { planes, height, width, outH, outW, rows, cols } = g;
  const [sh, sw] = params.stride;
  const [dh, dw] = params.dilation;
  const [ph, pw] = params.padding;
  const grad = dy.handle;
  const acc = new Float64Array(dx.handle.length);
  let o = 0;
  for (let p = 0; p < planes; p++) {
    const plane = p * height * width;
    for (let oh = 0; oh < outH; oh++) {
      const top = oh * sh - ph;
      for (let ow = 0; ow < outW; ow++, o++) {
        const left = ow * sw - pw;
        const share = grad[o] / divisor(g, oh, ow, params.countIncludePad);
        for (let i = rows[3 * oh]; i < rows[3 * oh + 1]; i++) {
          const rowStart = plane + (top + i * dh) * width + left;
          for (let j = cols[3 * ow]; j < cols[3 * ow + 1]; j++) acc[rowStart + j * dw] += share;
        }
      }
    }
  }
  dx.handle.set(acc);
};
