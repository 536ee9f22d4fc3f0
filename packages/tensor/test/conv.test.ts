import * as T from '@tsgrad/tensor';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectClose, type Layout, layoutArb, makeArray, valuesArb } from './arbitraries.js';

// Textbook float64 references, written from the definitions (not from the kernels).

type Pair = [number, number];

interface ConvGeometry {
  stride: Pair;
  dilation: Pair;
  /** [top, bottom, left, right] */
  pad: [number, number, number, number];
  groups: number;
}

function convOutShape(xShape: number[], wShape: number[], g: ConvGeometry): number[] {
  const [n, , h, w] = xShape;
  const [o, , kh, kw] = wShape;
  const ho = Math.floor((h + g.pad[0] + g.pad[1] - g.dilation[0] * (kh - 1) - 1) / g.stride[0]) + 1;
  const wo = Math.floor((w + g.pad[2] + g.pad[3] - g.dilation[1] * (kw - 1) - 1) / g.stride[1]) + 1;
  return [n, o, ho, wo];
}

/** Calls `visit` for every (output, input, weight) index triple that conv2d multiplies together. */
function forEachConvTerm(
  xShape: number[],
  wShape: number[],
  g: ConvGeometry,
  visit: (out: number, inp: number, wt: number) => void,
): void {
  const [N, C, H, W] = xShape;
  const [O, Cg, KH, KW] = wShape;
  const [, , HO, WO] = convOutShape(xShape, wShape, g);
  const perGroup = O / g.groups;
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++)
      for (let oh = 0; oh < HO; oh++)
        for (let ow = 0; ow < WO; ow++)
          for (let c = 0; c < Cg; c++)
            for (let i = 0; i < KH; i++)
              for (let j = 0; j < KW; j++) {
                const ih = oh * g.stride[0] - g.pad[0] + i * g.dilation[0];
                const iw = ow * g.stride[1] - g.pad[2] + j * g.dilation[1];
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                const channel = Math.floor(o / perGroup) * Cg + c;
                visit(
                  ((n * O + o) * HO + oh) * WO + ow,
                  ((n * C + channel) * H + ih) * W + iw,
                  ((o * Cg + c) * KH + i) * KW + j,
                );
              }
}

function refConv2d(x: number[], xShape: number[], w: number[], wShape: number[], g: ConvGeometry): number[] {
  const out = new Array<number>(sizeOf(convOutShape(xShape, wShape, g))).fill(0);
  forEachConvTerm(xShape, wShape, g, (o, i, k) => {
    out[o] += x[i] * w[k];
  });
  return out;
}

function refConv2dInputGrad(
  dy: number[],
  w: number[],
  xShape: number[],
  wShape: number[],
  g: ConvGeometry,
): number[] {
  const dx = new Array<number>(sizeOf(xShape)).fill(0);
  forEachConvTerm(xShape, wShape, g, (o, i, k) => {
    dx[i] += dy[o] * w[k];
  });
  return dx;
}

function refConv2dWeightGrad(
  x: number[],
  dy: number[],
  xShape: number[],
  wShape: number[],
  g: ConvGeometry,
): number[] {
  const dw = new Array<number>(sizeOf(wShape)).fill(0);
  forEachConvTerm(xShape, wShape, g, (o, i, k) => {
    dw[k] += dy[o] * x[i];
  });
  return dw;
}

interface TransposeGeometry {
  stride: Pair;
  dilation: Pair;
  padding: Pair;
  outputPadding: Pair;
  groups: number;
}

function transposeOutShape(xShape: number[], wShape: number[], g: TransposeGeometry): number[] {
  const size = (a: 0 | 1) =>
    (xShape[2 + a] - 1) * g.stride[a] -
    2 * g.padding[a] +
    g.dilation[a] * (wShape[2 + a] - 1) +
    g.outputPadding[a] +
    1;
  return [xShape[0], wShape[1] * g.groups, size(0), size(1)];
}

/** The scatter definition: each input element adds x · w into every output position it reaches. */
function refConvTranspose2d(
  x: number[],
  xShape: number[],
  w: number[],
  wShape: number[],
  g: TransposeGeometry,
): number[] {
  const [N, Cin, H, W] = xShape;
  const [, Cog, KH, KW] = wShape;
  const outShape = transposeOutShape(xShape, wShape, g);
  const [, Cout, HO, WO] = outShape;
  const out = new Array<number>(sizeOf(outShape)).fill(0);
  const inPerGroup = Cin / g.groups;
  for (let n = 0; n < N; n++)
    for (let ci = 0; ci < Cin; ci++)
      for (let ih = 0; ih < H; ih++)
        for (let iw = 0; iw < W; iw++)
          for (let co = 0; co < Cog; co++)
            for (let i = 0; i < KH; i++)
              for (let j = 0; j < KW; j++) {
                const oh = ih * g.stride[0] - g.padding[0] + i * g.dilation[0];
                const ow = iw * g.stride[1] - g.padding[1] + j * g.dilation[1];
                if (oh < 0 || oh >= HO || ow < 0 || ow >= WO) continue;
                const oc = Math.floor(ci / inPerGroup) * Cog + co;
                out[((n * Cout + oc) * HO + oh) * WO + ow] +=
                  x[((n * Cin + ci) * H + ih) * W + iw] * w[((ci * Cog + co) * KH + i) * KW + j];
              }
  return out;
}

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};
const absDot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] * b[i]);
  return s;
};
const read = (x: T.NDArray) => Array.from(x.toTypedArray());
const floatDTypeArb = fc.constantFrom<T.DType>('float32', 'float64');
const tolerance = (dtype: T.DType): [number, number] => (dtype === 'float32' ? [2e-5, 1e-4] : [1e-10, 1e-10]);

type PaddingChoice = Pair | 'same' | 'valid';

/** A random 2-D convolution problem whose output is non-empty. */
const convCaseArb = fc
  .record({
    batch: fc.integer({ min: 0, max: 2 }),
    groups: fc.integer({ min: 1, max: 3 }),
    groupIn: fc.integer({ min: 1, max: 2 }),
    groupOut: fc.integer({ min: 1, max: 2 }),
    kernel: fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3 })),
    stride: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
    dilation: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
    padding: fc.oneof(
      fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })),
      fc.constant<'same'>('same'),
      fc.constant<'valid'>('valid'),
    ) as fc.Arbitrary<PaddingChoice>,
    extra: fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 })),
    dtype: floatDTypeArb,
    layouts: fc.tuple(layoutArb, layoutArb, layoutArb),
    withBias: fc.boolean(),
  })
  .map((c) => {
    const stride: Pair = c.padding === 'same' ? [1, 1] : c.stride;
    const explicit: Pair = typeof c.padding === 'string' ? [0, 0] : c.padding;
    const pad: [number, number, number, number] = [0, 0, 0, 0];
    const size = [0, 1].map((a) => {
      const span = c.dilation[a] * (c.kernel[a] - 1);
      if (c.padding === 'same') {
        pad[2 * a] = Math.floor(span / 2);
        pad[2 * a + 1] = span - pad[2 * a];
        return 1 + c.extra[a];
      }
      pad[2 * a] = pad[2 * a + 1] = explicit[a];
      return Math.max(1, span + 1 - 2 * explicit[a]) + c.extra[a];
    });
    const xShape = [c.batch, c.groups * c.groupIn, size[0], size[1]];
    const wShape = [c.groups * c.groupOut, c.groupIn, c.kernel[0], c.kernel[1]];
    const geometry: ConvGeometry = { stride, dilation: c.dilation, pad, groups: c.groups };
    return { ...c, stride, xShape, wShape, geometry };
  })
  .chain((c) =>
    fc.record({
      c: fc.constant(c),
      x: valuesArb(c.xShape),
      w: valuesArb(c.wShape),
      dy: valuesArb(convOutShape(c.xShape, c.wShape, c.geometry)),
      bias: valuesArb([c.wShape[0]]),
    }),
  );

function convOptions(c: {
  stride: Pair;
  dilation: Pair;
  padding: PaddingChoice;
  groups: number;
}): T.Conv2dGradOptions {
  return { stride: c.stride, dilation: c.dilation, padding: c.padding, groups: c.groups };
}

describe('conv2d', () => {
  it('matches the 7-loop reference (strides, padding incl. same/valid, dilation, groups, layouts, bias)', () => {
    fc.assert(
      fc.property(convCaseArb, ({ c, x, w, bias }) => {
        const xa = makeArray(x, c.xShape, c.dtype, c.layouts[0]);
        const wa = makeArray(w, c.wShape, c.dtype, c.layouts[1]);
        const ba = c.withBias ? makeArray(bias, [c.wShape[0]], c.dtype, c.layouts[2]) : undefined;
        const out = T.conv2d(xa, wa, { ...convOptions(c), bias: ba });
        const expected = refConv2d(read(xa), c.xShape, read(wa), c.wShape, c.geometry);
        const outShape = convOutShape(c.xShape, c.wShape, c.geometry);
        if (ba) {
          const b = read(ba);
          const plane = outShape[2] * outShape[3];
          expected.forEach((_, i) => {
            expected[i] += b[Math.floor(i / plane) % outShape[1]];
          });
        }
        expect(out.shape).toEqual(outShape);
        expect(out.dtype).toBe(c.dtype);
        if (c.padding === 'same') expect(out.shape.slice(2)).toEqual(c.xShape.slice(2));
        expectClose(out.toTypedArray(), expected, ...tolerance(c.dtype));
      }),
    );
  });

  it('computes the input and weight gradients of the references', () => {
    fc.assert(
      fc.property(convCaseArb, ({ c, x, w, dy }) => {
        const xa = makeArray(x, c.xShape, c.dtype, c.layouts[0]);
        const wa = makeArray(w, c.wShape, c.dtype, c.layouts[1]);
        const outShape = convOutShape(c.xShape, c.wShape, c.geometry);
        const dya = makeArray(dy, outShape, c.dtype, c.layouts[2]);
        const dx = T.conv2dInputGrad(dya, wa, c.xShape, convOptions(c));
        const dw = T.conv2dWeightGrad(xa, dya, c.wShape, convOptions(c));
        expect(dx.shape).toEqual(c.xShape);
        expect(dw.shape).toEqual(c.wShape);
        expect([dx.dtype, dw.dtype]).toEqual([c.dtype, c.dtype]);
        const [xs, ws, dys] = [read(xa), read(wa), read(dya)];
        expectClose(
          dx.toTypedArray(),
          refConv2dInputGrad(dys, ws, c.xShape, c.wShape, c.geometry),
          ...tolerance(c.dtype),
        );
        expectClose(
          dw.toTypedArray(),
          refConv2dWeightGrad(xs, dys, c.xShape, c.wShape, c.geometry),
          ...tolerance(c.dtype),
        );
      }),
    );
  });

  it('satisfies the adjoint identities <conv(x,w), dy> = <x, dX> = <w, dW> in float64', () => {
    fc.assert(
      fc.property(convCaseArb, ({ c, x, w, dy }) => {
        const xa = makeArray(x, c.xShape, 'float64', c.layouts[0]);
        const wa = makeArray(w, c.wShape, 'float64', c.layouts[1]);
        const dya = makeArray(dy, convOutShape(c.xShape, c.wShape, c.geometry), 'float64', c.layouts[2]);
        const y = T.conv2d(xa, wa, convOptions(c)).toTypedArray();
        const dx = T.conv2dInputGrad(dya, wa, c.xShape, convOptions(c)).toTypedArray();
        const dw = T.conv2dWeightGrad(xa, dya, c.wShape, convOptions(c)).toTypedArray();
        const scale = Math.max(1, absDot(y, dy));
        expect(Math.abs(dot(y, dy) - dot(x, dx))).toBeLessThanOrEqual(1e-9 * scale);
        expect(Math.abs(dot(y, dy) - dot(w, dw))).toBeLessThanOrEqual(1e-9 * scale);
      }),
    );
  });

  it('promotes float32 with float64 and keeps float32 results accurate (float64 accumulation)', () => {
    const x = T.array(Float32Array.from([1e8, 1, -1e8, 1]), { shape: [1, 1, 1, 4] });
    const w = T.array(Float32Array.from([1, 1, 1, 1]), { shape: [1, 1, 1, 4] });
    expect(Array.from(T.conv2d(x, w).toTypedArray())).toEqual([2]);
    const mixed = T.conv2d(x, T.cast(w, 'float64'));
    expect(mixed.dtype).toBe('float64');
  });

  it("'same' puts the extra padding of an even kernel at the bottom/right", () => {
    const x = T.array([[[0, 1, 2, 3, 4]]], { dtype: 'float64' });
    const w = T.ones([1, 1, 4], { dtype: 'float64' });
    expect(T.conv1d(x, w, { padding: 'same' }).toArray()).toEqual([[[3, 6, 10, 9, 7]]]);
    const x2 = T.reshape(x, [1, 1, 5, 1]);
    const w2 = T.ones([1, 1, 4, 1], { dtype: 'float64' });
    expect(T.reshape(T.conv2d(x2, w2, { padding: 'same' }), [5]).toArray()).toEqual([3, 6, 10, 9, 7]);
  });

  it('gives the same results on inputs large enough to be processed in chunks of output rows', () => {
    const g: ConvGeometry = { stride: [1, 1], dilation: [1, 1], pad: [1, 1, 1, 1], groups: 2 };
    const xShape = [1, 16, 121, 121];
    const wShape = [4, 8, 3, 3];
    const x = Array.from({ length: sizeOf(xShape) }, (_, i) => Math.sin(i));
    const w = Array.from({ length: sizeOf(wShape) }, (_, i) => Math.cos(i));
    const dy = Array.from({ length: sizeOf(convOutShape(xShape, wShape, g)) }, (_, i) => Math.sin(3 * i));
    const [xa, wa] = [
      T.array(Float64Array.from(x), { shape: xShape }),
      T.array(Float64Array.from(w), { shape: wShape }),
    ];
    const dya = T.array(Float64Array.from(dy), { shape: convOutShape(xShape, wShape, g) });
    const options = { padding: 1, groups: 2 };
    expectClose(T.conv2d(xa, wa, options).toTypedArray(), refConv2d(x, xShape, w, wShape, g), 1e-12, 1e-12);
    expectClose(
      T.conv2dInputGrad(dya, wa, xShape, options).toTypedArray(),
      refConv2dInputGrad(dy, w, xShape, wShape, g),
      1e-12,
      1e-12,
    );
    expectClose(
      T.conv2dWeightGrad(xa, dya, wShape, options).toTypedArray(),
      refConv2dWeightGrad(x, dy, xShape, wShape, g),
      1e-10,
      1e-10,
    );
  });

  it('handles empty batches and zero output channels', () => {
    expect(T.conv2d(T.zeros([0, 2, 3, 3]), T.zeros([4, 2, 2, 2])).shape).toEqual([0, 4, 2, 2]);
    expect(T.conv2d(T.zeros([1, 2, 3, 3]), T.zeros([0, 2, 2, 2])).shape).toEqual([1, 0, 2, 2]);
  });
});

/** A random transposed-convolution problem with a non-empty output. */
const transposeCaseArb = fc
  .record({
    batch: fc.integer({ min: 0, max: 2 }),
    groups: fc.integer({ min: 1, max: 3 }),
    groupIn: fc.integer({ min: 1, max: 2 }),
    groupOut: fc.integer({ min: 1, max: 2 }),
    kernel: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
    stride: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
    dilation: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
    padding: fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })),
    outputPaddingSeed: fc.tuple(fc.nat(), fc.nat()),
    size: fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })),
    dtype: floatDTypeArb,
    layouts: fc.tuple(layoutArb, layoutArb, layoutArb),
    withBias: fc.boolean(),
  })
  .map((c) => {
    const outputPadding = [0, 1].map(
      (a) => c.outputPaddingSeed[a] % Math.max(c.stride[a], c.dilation[a]),
    ) as Pair;
    const geometry: TransposeGeometry = { ...c, outputPadding };
    const wShape = [c.groups * c.groupIn, c.groupOut, c.kernel[0], c.kernel[1]];
    const xShape = [c.batch, c.groups * c.groupIn, c.size[0], c.size[1]];
    // Grow the input until the output is non-empty.
    while (transposeOutShape(xShape, wShape, geometry)[2] < 1) xShape[2]++;
    while (transposeOutShape(xShape, wShape, geometry)[3] < 1) xShape[3]++;
    return { ...c, outputPadding, geometry, xShape, wShape };
  })
  .chain((c) =>
    fc.record({
      c: fc.constant(c),
      x: valuesArb(c.xShape),
      w: valuesArb(c.wShape),
      y: valuesArb(transposeOutShape(c.xShape, c.wShape, c.geometry)),
      bias: valuesArb([c.wShape[1] * c.groups]),
    }),
  );

describe('convTranspose2d', () => {
  it('matches the scatter definition (stride, padding, outputPadding, dilation, groups, bias)', () => {
    fc.assert(
      fc.property(transposeCaseArb, ({ c, x, w, bias }) => {
        const xa = makeArray(x, c.xShape, c.dtype, c.layouts[0]);
        const wa = makeArray(w, c.wShape, c.dtype, c.layouts[1]);
        const outShape = transposeOutShape(c.xShape, c.wShape, c.geometry);
        const ba = c.withBias ? makeArray(bias, [outShape[1]], c.dtype, c.layouts[2]) : undefined;
        const { stride, padding, outputPadding, dilation, groups } = c.geometry;
        const out = T.convTranspose2d(xa, wa, { stride, padding, outputPadding, dilation, groups, bias: ba });
        const expected = refConvTranspose2d(read(xa), c.xShape, read(wa), c.wShape, c.geometry);
        if (ba) {
          const b = read(ba);
          const plane = outShape[2] * outShape[3];
          expected.forEach((_, i) => {
            expected[i] += b[Math.floor(i / plane) % outShape[1]];
          });
        }
        expect(out.shape).toEqual(outShape);
        expect(out.dtype).toBe(c.dtype);
        expectClose(out.toTypedArray(), expected, ...tolerance(c.dtype));
      }),
    );
  });

  it('is the adjoint of conv2d with the same weight: <convT(x, w), y> = <x, conv2d(y, w)>', () => {
    fc.assert(
      fc.property(transposeCaseArb, ({ c, x, w, y }) => {
        const { stride, padding, dilation, groups } = c.geometry;
        // With outputPadding ≥ stride the conv2d output would be larger than x.
        const outputPadding = c.outputPadding.map((p, a) => Math.min(p, stride[a] - 1)) as Pair;
        const geometry = { ...c.geometry, outputPadding };
        const outShape = transposeOutShape(c.xShape, c.wShape, geometry);
        if (outShape[2] < 1 || outShape[3] < 1) return;
        const xa = makeArray(x, c.xShape, 'float64', c.layouts[0]);
        const wa = makeArray(w, c.wShape, 'float64', c.layouts[1]);
        const ya = T.array(
          Float64Array.from({ length: sizeOf(outShape) }, (_, i) => y[i % y.length] ?? 1),
          {
            shape: outShape,
          },
        );
        const forward = T.convTranspose2d(xa, wa, {
          stride,
          padding,
          outputPadding,
          dilation,
          groups,
        }).toTypedArray();
        const back = T.conv2d(ya, wa, { stride, padding, dilation, groups });
        expect(back.shape).toEqual(c.xShape);
        const [lhs, rhs] = [dot(forward, ya.toTypedArray()), dot(x, back.toTypedArray())];
        expect(Math.abs(lhs - rhs)).toBeLessThanOrEqual(
          1e-9 * Math.max(1, absDot(forward, ya.toTypedArray())),
        );
      }),
    );
  });
});

describe('1-D convolutions', () => {
  const case1dArb = fc
    .record({
      batch: fc.integer({ min: 0, max: 2 }),
      groups: fc.integer({ min: 1, max: 2 }),
      groupIn: fc.integer({ min: 1, max: 2 }),
      groupOut: fc.integer({ min: 1, max: 2 }),
      kernel: fc.integer({ min: 1, max: 4 }),
      stride: fc.integer({ min: 1, max: 3 }),
      dilation: fc.integer({ min: 1, max: 2 }),
      padding: fc.integer({ min: 0, max: 2 }),
      extra: fc.integer({ min: 0, max: 5 }),
      dtype: floatDTypeArb,
      layout: layoutArb,
    })
    .map((c) => {
      const length = Math.max(1, c.dilation * (c.kernel - 1) + 1 - 2 * c.padding) + c.extra;
      const geometry: ConvGeometry = {
        stride: [1, c.stride],
        dilation: [1, c.dilation],
        pad: [0, 0, c.padding, c.padding],
        groups: c.groups,
      };
      const xShape = [c.batch, c.groups * c.groupIn, 1, length];
      const wShape = [c.groups * c.groupOut, c.groupIn, 1, c.kernel];
      return { ...c, geometry, xShape, wShape };
    })
    .chain((c) =>
      fc.record({
        c: fc.constant(c),
        x: valuesArb(c.xShape),
        w: valuesArb(c.wShape),
        dy: valuesArb(convOutShape(c.xShape, c.wShape, c.geometry)),
      }),
    );
  const drop = (shape: number[]) => [shape[0], shape[1], shape[3]];

  it('conv1d and its gradients match the 2-D references with height 1', () => {
    fc.assert(
      fc.property(case1dArb, ({ c, x, w, dy }) => {
        const options = { stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups };
        const xa = makeArray(x, drop(c.xShape), c.dtype, c.layout);
        const wa = makeArray(w, drop(c.wShape), c.dtype, c.layout);
        const outShape = convOutShape(c.xShape, c.wShape, c.geometry);
        const dya = makeArray(dy, drop(outShape), c.dtype, c.layout);
        const [xs, ws, dys] = [read(xa), read(wa), read(dya)];
        const out = T.conv1d(xa, wa, options);
        expect(out.shape).toEqual(drop(outShape));
        expectClose(
          out.toTypedArray(),
          refConv2d(xs, c.xShape, ws, c.wShape, c.geometry),
          ...tolerance(c.dtype),
        );
        const dx = T.conv1dInputGrad(dya, wa, drop(c.xShape), options);
        expect(dx.shape).toEqual(drop(c.xShape));
        expectClose(
          dx.toTypedArray(),
          refConv2dInputGrad(dys, ws, c.xShape, c.wShape, c.geometry),
          ...tolerance(c.dtype),
        );
        const dw = T.conv1dWeightGrad(xa, dya, drop(c.wShape), options);
        expect(dw.shape).toEqual(drop(c.wShape));
        expectClose(
          dw.toTypedArray(),
          refConv2dWeightGrad(xs, dys, c.xShape, c.wShape, c.geometry),
          ...tolerance(c.dtype),
        );
      }),
    );
  });

  it('convTranspose1d matches the scatter definition', () => {
    fc.assert(
      fc.property(
        fc.record({
          cin: fc.integer({ min: 1, max: 3 }),
          cout: fc.integer({ min: 1, max: 3 }),
          length: fc.integer({ min: 1, max: 5 }),
          kernel: fc.integer({ min: 1, max: 3 }),
          stride: fc.integer({ min: 1, max: 3 }),
          padding: fc.integer({ min: 0, max: 1 }),
          layout: layoutArb as fc.Arbitrary<Layout>,
        }),
        fc.nat(),
        ({ cin, cout, length, kernel, stride, padding, layout }, seed) => {
          const geometry: TransposeGeometry = {
            stride: [1, stride],
            dilation: [1, 1],
            padding: [0, padding],
            outputPadding: [0, seed % stride],
            groups: 1,
          };
          const xShape = [2, cin, 1, length];
          const wShape = [cin, cout, 1, kernel];
          const outShape = transposeOutShape(xShape, wShape, geometry);
          if (outShape[3] < 1) return;
          const x = Array.from({ length: sizeOf(xShape) }, (_, i) => Math.sin(i + seed));
          const w = Array.from({ length: sizeOf(wShape) }, (_, i) => Math.cos(3 * i));
          const out = T.convTranspose1d(
            makeArray(x, drop(xShape), 'float64', layout),
            makeArray(w, drop(wShape), 'float64', layout),
            {
              stride,
              padding,
              outputPadding: geometry.outputPadding[1],
            },
          );
          expect(out.shape).toEqual(drop(outShape));
          expectClose(out.toTypedArray(), refConvTranspose2d(x, xShape, w, wShape, geometry), 1e-12, 1e-12);
        },
      ),
    );
  });
});

describe('convolution errors', () => {
  const x = T.zeros([2, 4, 5, 5]);
  const w = T.zeros([6, 2, 3, 3]);
  const expectError = (
    fn: () => unknown,
    type: new (...args: never[]) => Error,
    op: string,
    detail?: RegExp,
  ) => {
    try {
      fn();
    } catch (e) {
      expect(e).toBeInstanceOf(type);
      expect((e as Error).message.startsWith(`${op}: `)).toBe(true);
      if (detail) expect((e as Error).message).toMatch(detail);
      return;
    }
    throw new Error(`expected ${op} to throw`);
  };

  it('rejects bad ranks, channels and groups with ShapeErrors naming the op and shapes', () => {
    expectError(() => T.conv2d(T.zeros([4, 5, 5]), w), T.ShapeError, 'conv2d', /\[4,5,5\]/);
    expectError(() => T.conv2d(x, T.zeros([6, 2, 3])), T.ShapeError, 'conv2d', /\[6,2,3\]/);
    expectError(
      () => T.conv2d(x, w),
      T.ShapeError,
      'conv2d',
      /\[2,4,5,5\].*4 channels.*\[6,2,3,3\].*expects 2/,
    );
    expectError(() => T.conv2d(x, w, { groups: 3 }), T.ShapeError, 'conv2d', /groups=3/);
    expectError(
      () => T.conv2d(x, T.zeros([5, 2, 3, 3]), { groups: 2 }),
      T.ShapeError,
      'conv2d',
      /5 output channels/,
    );
    expectError(() => T.conv2d(x, T.zeros([6, 4, 0, 3])), T.ShapeError, 'conv2d', /empty kernel/);
    expectError(() => T.conv1d(T.zeros([1, 2, 5]), T.zeros([3, 3, 2])), T.ShapeError, 'conv1d', /\[1,2,5\]/);
    expectError(
      () => T.conv1d(T.zeros([1, 2, 1, 5]), T.zeros([3, 2, 2])),
      T.ShapeError,
      'conv1d',
      /\[N, C, L\]/,
    );
    expectError(
      () => T.conv2dWeightGrad(T.zeros([4, 5, 5]), T.zeros([1, 6, 3, 3]), [6, 4, 3, 3]),
      T.ShapeError,
      'conv2dWeightGrad',
    );
    expectError(() => T.conv2d(x, w, { groups: 2, bias: T.zeros([5]) }), T.ShapeError, 'conv2d', /bias/);
  });

  it('rejects bad stride, dilation, padding and groups values with ValueErrors', () => {
    expectError(() => T.conv2d(x, w, { groups: 2, stride: 0 }), T.ValueError, 'conv2d', /stride/);
    expectError(() => T.conv2d(x, w, { groups: 2, stride: [1, 1.5] }), T.ValueError, 'conv2d', /stride/);
    expectError(() => T.conv2d(x, w, { groups: 2, dilation: [1, 0] }), T.ValueError, 'conv2d', /dilation/);
    expectError(() => T.conv2d(x, w, { groups: 2, padding: -1 }), T.ValueError, 'conv2d', /padding/);
    expectError(() => T.conv2d(x, w, { groups: 0 }), T.ValueError, 'conv2d', /groups/);
    expectError(
      () => T.conv2d(x, w, { groups: 2, stride: 2, padding: 'same' }),
      T.ValueError,
      'conv2d',
      /same/,
    );
    expectError(
      () => T.conv1d(T.zeros([1, 2, 5]), T.zeros([3, 2, 2]), { stride: -1 }),
      T.ValueError,
      'conv1d',
    );
  });

  it('rejects inputs smaller than the (dilated) kernel', () => {
    expectError(
      () => T.conv2d(T.zeros([1, 4, 2, 5]), w, { groups: 2 }),
      T.ShapeError,
      'conv2d',
      /output size/,
    );
    expectError(() => T.conv2d(x, w, { groups: 2, dilation: 3 }), T.ShapeError, 'conv2d', /dilated/);
  });

  it('rejects int and bool inputs with DTypeErrors', () => {
    expectError(
      () => T.conv2d(T.zeros([1, 2, 3, 3], { dtype: 'int32' }), T.zeros([1, 2, 1, 1])),
      T.DTypeError,
      'conv2d',
      /int32/,
    );
    expectError(
      () => T.conv2d(T.zeros([1, 2, 3, 3]), T.zeros([1, 2, 1, 1], { dtype: 'bool' })),
      T.DTypeError,
      'conv2d',
      /bool/,
    );
    expectError(
      () => T.convTranspose2d(T.zeros([1, 2, 3, 3], { dtype: 'int32' }), T.zeros([2, 1, 1, 1])),
      T.DTypeError,
      'convTranspose2d',
    );
  });

  it('checks the gradient helpers against the forward geometry', () => {
    const dy = T.zeros([2, 6, 3, 3]);
    expect(T.conv2dInputGrad(dy, w, [2, 4, 5, 5], { groups: 2 }).shape).toEqual([2, 4, 5, 5]);
    expectError(
      () => T.conv2dInputGrad(dy, w, [2, 4, 6, 5], { groups: 2 }),
      T.ShapeError,
      'conv2dInputGrad',
      /dy \[2,6,3,3\]/,
    );
    expectError(() => T.conv2dInputGrad(dy, w, [2, 4, 5], { groups: 2 }), T.ShapeError, 'conv2dInputGrad');
    expectError(
      () => T.conv2dWeightGrad(x, dy, [6, 2, 2, 3], { groups: 2 }),
      T.ShapeError,
      'conv2dWeightGrad',
      /dy/,
    );
    expectError(
      () => T.conv2dWeightGrad(x, T.zeros([2, 6, 3, 3], { dtype: 'int32' }), [6, 2, 3, 3], { groups: 2 }),
      T.DTypeError,
      'conv2dWeightGrad',
    );
  });

  it('validates convTranspose2d arguments', () => {
    const xt = T.zeros([1, 4, 3, 3]);
    expectError(
      () => T.convTranspose2d(xt, T.zeros([3, 2, 3, 3])),
      T.ShapeError,
      'convTranspose2d',
      /expects 3/,
    );
    expectError(
      () => T.convTranspose2d(xt, T.zeros([4, 2, 3, 3]), { groups: 3 }),
      T.ShapeError,
      'convTranspose2d',
      /groups=3/,
    );
    expectError(
      () => T.convTranspose2d(xt, T.zeros([4, 2, 3, 3]), { stride: 2, outputPadding: 2 }),
      T.ValueError,
      'convTranspose2d',
      /outputPadding/,
    );
    expectError(
      () => T.convTranspose2d(xt, T.zeros([4, 2, 1, 1]), { padding: 2 }),
      T.ShapeError,
      'convTranspose2d',
      /output size/,
    );
    expect(
      T.convTranspose2d(xt, T.zeros([4, 2, 3, 3]), { stride: 2, outputPadding: 1, groups: 2 }).shape,
    ).toEqual([1, 4, 8, 8]);
  });
});
