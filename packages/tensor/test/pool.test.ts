import * as T from '@tsgrad/tensor';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectClose, layoutArb, makeArray, valuesArb } from './arbitraries.js';

// Textbook float64 references with explicit window loops (PyTorch's formulation).

type Pair = [number, number];

interface PoolCase {
  shape: number[];
  kernel: Pair;
  stride: Pair;
  padding: Pair;
  dilation: Pair;
  ceilMode: boolean;
}

function pooledSize(n: number, k: number, s: number, p: number, d: number, ceilMode: boolean): number {
  const numerator = n + 2 * p - d * (k - 1) - 1 + (ceilMode ? s - 1 : 0);
  let out = Math.floor(numerator / s) + 1;
  // PyTorch: the last window must start inside the input or the left padding.
  if (ceilMode && (out - 1) * s >= n + p) out--;
  return out;
}

function poolOutShape(c: PoolCase): number[] {
  const [N, C, H, W] = c.shape;
  return [
    N,
    C,
    pooledSize(H, c.kernel[0], c.stride[0], c.padding[0], c.dilation[0], c.ceilMode),
    pooledSize(W, c.kernel[1], c.stride[1], c.padding[1], c.dilation[1], c.ceilMode),
  ];
}

/** For each window (row-major over Ho × Wo), the in-plane positions h * W + w of its taps, in tap order. */
function maxWindows(c: PoolCase): number[][] {
  const [, , H, W] = c.shape;
  const [, , HO, WO] = poolOutShape(c);
  const windows: number[][] = [];
  for (let oh = 0; oh < HO; oh++)
    for (let ow = 0; ow < WO; ow++) {
      const taps: number[] = [];
      for (let i = 0; i < c.kernel[0]; i++)
        for (let j = 0; j < c.kernel[1]; j++) {
          const h = oh * c.stride[0] - c.padding[0] + i * c.dilation[0];
          const w = ow * c.stride[1] - c.padding[1] + j * c.dilation[1];
          if (h >= 0 && h < H && w >= 0 && w < W) taps.push(h * W + w);
        }
      windows.push(taps);
    }
  return windows;
}

/** Max pooling by explicit window loops; null when some window holds padding only. */
function refMaxPool(x: number[], c: PoolCase): { values: number[]; indices: number[] } | null {
  const windows = maxWindows(c);
  if (windows.some((taps) => taps.length === 0)) return null;
  const planes = c.shape[0] * c.shape[1];
  const plane = c.shape[2] * c.shape[3];
  const values: number[] = [];
  const indices: number[] = [];
  for (let p = 0; p < planes; p++)
    for (const taps of windows) {
      let best = Number.NEGATIVE_INFINITY;
      let where = -1;
      for (const at of taps) {
        const v = x[p * plane + at];
        if (where < 0 || v > best || (Number.isNaN(v) && !Number.isNaN(best))) {
          best = v;
          where = at;
        }
      }
      values.push(best);
      indices.push(where);
    }
  return { values, indices };
}

/** Visits each average-pooling window with its input positions and its divisor. */
function forEachAvgWindow(
  c: PoolCase,
  countIncludePad: boolean,
  visit: (out: number, inputs: number[], divisor: number) => void,
): void {
  const [N, C, H, W] = c.shape;
  const [, , HO, WO] = poolOutShape(c);
  let out = 0;
  for (let n = 0; n < N; n++)
    for (let ch = 0; ch < C; ch++)
      for (let oh = 0; oh < HO; oh++)
        for (let ow = 0; ow < WO; ow++, out++) {
          const hStart = oh * c.stride[0] - c.padding[0];
          const wStart = ow * c.stride[1] - c.padding[1];
          const hEnd = Math.min(hStart + c.kernel[0], H + c.padding[0]);
          const wEnd = Math.min(wStart + c.kernel[1], W + c.padding[1]);
          const poolSize = (hEnd - hStart) * (wEnd - wStart);
          const inputs: number[] = [];
          for (let h = Math.max(hStart, 0); h < Math.min(hEnd, H); h++)
            for (let w = Math.max(wStart, 0); w < Math.min(wEnd, W); w++)
              inputs.push(((n * C + ch) * H + h) * W + w);
          visit(out, inputs, countIncludePad ? poolSize : inputs.length);
        }
}

function refAvgPool(x: number[], c: PoolCase, countIncludePad: boolean): number[] {
  const out = new Array<number>(sizeOf(poolOutShape(c))).fill(0);
  forEachAvgWindow(c, countIncludePad, (o, inputs, divisor) => {
    out[o] = inputs.reduce((s, i) => s + x[i], 0) / divisor;
  });
  return out;
}

function refAvgPoolGrad(dy: number[], c: PoolCase, countIncludePad: boolean): number[] {
  const dx = new Array<number>(sizeOf(c.shape)).fill(0);
  forEachAvgWindow(c, countIncludePad, (o, inputs, divisor) => {
    for (const i of inputs) dx[i] += dy[o] / divisor;
  });
  return dx;
}

function refMaxPoolGrad(dy: number[], indices: number[], c: PoolCase): number[] {
  const dx = new Array<number>(sizeOf(c.shape)).fill(0);
  const plane = c.shape[2] * c.shape[3];
  const outPlane = sizeOf(poolOutShape(c).slice(2));
  dy.forEach((g, o) => {
    dx[Math.floor(o / outPlane) * plane + indices[o]] += g;
  });
  return dx;
}

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};
const read = (x: T.NDArray) => Array.from(x.toTypedArray());
const pairArb = (min: number, max: number) =>
  fc.tuple(fc.integer({ min, max }), fc.integer({ min, max })) as fc.Arbitrary<Pair>;

/** A random pooling problem (padding ≤ kernel/2; inputs at least as large as a padded window). */
function poolCaseArb({ dilated }: { dilated: boolean }) {
  return fc
    .record({
      batch: fc.integer({ min: 0, max: 2 }),
      channels: fc.integer({ min: 0, max: 3 }),
      kernel: pairArb(1, 3),
      stride: pairArb(1, 3),
      defaultStride: fc.boolean(),
      padSeed: pairArb(0, 9),
      dilation: dilated ? pairArb(1, 2) : fc.constant<Pair>([1, 1]),
      ceilMode: fc.boolean(),
      extra: pairArb(0, 4),
      countIncludePad: fc.boolean(),
      layout: layoutArb,
    })
    .map((r) => {
      const padding = [0, 1].map((a) => r.padSeed[a] % (Math.floor(r.kernel[a] / 2) + 1)) as Pair;
      const size = [0, 1].map(
        (a) => Math.max(1, r.dilation[a] * (r.kernel[a] - 1) + 1 - 2 * padding[a]) + r.extra[a],
      );
      const c: PoolCase = {
        shape: [r.batch, r.channels, size[0], size[1]],
        kernel: r.kernel,
        stride: r.defaultStride ? r.kernel : r.stride,
        padding,
        dilation: r.dilation,
        ceilMode: r.ceilMode,
      };
      return { ...r, c };
    });
}

describe('maxPool2d', () => {
  const caseArb = poolCaseArb({ dilated: true }).chain((r) =>
    fc.record({
      r: fc.constant(r),
      dtype: fc.constantFrom<T.DType>('float32', 'float64', 'int32'),
      // Small integers make ties common: the first maximum must win.
      x: fc.oneof(valuesArb(r.c.shape), valuesArb(r.c.shape, { integer: true, min: -2, max: 2 })),
    }),
  );

  it('matches explicit window loops (values, first-max indices, padding, dilation, ceil mode, layouts)', () => {
    fc.assert(
      fc.property(caseArb, ({ r, dtype, x }) => {
        const { c } = r;
        const values = dtype === 'int32' ? x.map(Math.round) : x;
        const xa = makeArray(values, c.shape, dtype, r.layout);
        const options = {
          kernelSize: c.kernel,
          stride: r.defaultStride ? undefined : c.stride,
          padding: c.padding,
          dilation: c.dilation,
          ceilMode: c.ceilMode,
        };
        const expected = refMaxPool(read(xa), c);
        if (expected === null) {
          expect(() => T.maxPool2dWithIndices(xa, options)).toThrow(T.ValueError);
          return;
        }
        const out = T.maxPool2dWithIndices(xa, options);
        expect(out.values.shape).toEqual(poolOutShape(c));
        expect(out.values.dtype).toBe(dtype);
        expect(out.indices.dtype).toBe('int32');
        expect(read(out.values)).toEqual(expected.values);
        expect(read(out.indices)).toEqual(expected.indices);
        expect(read(T.maxPool2d(xa, options))).toEqual(expected.values);
      }),
    );
  });

  it('maxPool2dGrad scatters dy to the argmax positions and satisfies the adjoint identity', () => {
    fc.assert(
      fc.property(
        caseArb.chain(({ r }) =>
          fc.record({
            r: fc.constant(r),
            // A permutation gives distinct values, so no window has a tie.
            order: fc.shuffledSubarray(
              Array.from({ length: sizeOf(r.c.shape) }, (_, i) => i),
              { minLength: sizeOf(r.c.shape), maxLength: sizeOf(r.c.shape) },
            ),
            dyLayout: layoutArb,
          }),
        ),
        fc.nat(),
        ({ r, order, dyLayout }, seed) => {
          const { c } = r;
          const x = order.map((k) => k * 0.37 - 5);
          const options = {
            kernelSize: c.kernel,
            stride: c.stride,
            padding: c.padding,
            dilation: c.dilation,
            ceilMode: c.ceilMode,
          };
          const expected = refMaxPool(x, c);
          if (expected === null) return;
          const outShape = poolOutShape(c);
          const dy = Array.from({ length: sizeOf(outShape) }, (_, i) => Math.sin(i + seed));
          const xa = makeArray(x, c.shape, 'float64', r.layout);
          const { values, indices } = T.maxPool2dWithIndices(xa, options);
          const dx = T.maxPool2dGrad(makeArray(dy, outShape, 'float64', dyLayout), indices, c.shape);
          expect(dx.shape).toEqual(c.shape);
          expectClose(dx.toTypedArray(), refMaxPoolGrad(dy, expected.indices, c), 1e-12, 1e-12);
          const [lhs, rhs] = [dot(values.toTypedArray(), dy), dot(x, dx.toTypedArray())];
          expect(Math.abs(lhs - rhs)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(lhs)));
        },
      ),
    );
  });

  it('propagates NaN (the first NaN of a window wins) and treats padding as -Infinity', () => {
    const x = T.array([[[[1, Number.NaN, 3, Number.NaN]]]], { dtype: 'float64' });
    const { values, indices } = T.maxPool2dWithIndices(x, { kernelSize: [1, 4] });
    expect(Number.isNaN(values.item() as number)).toBe(true);
    expect(indices.item()).toBe(1);
    const negative = T.array([[[[-5, -7]]]]);
    const padded = T.maxPool2dWithIndices(negative, { kernelSize: [1, 2], padding: [0, 1] });
    expect(padded.values.toArray()).toEqual([[[[-5, -7]]]]);
    expect(padded.indices.toArray()).toEqual([[[[0, 1]]]]);
  });

  it('matches known PyTorch results in ceil mode', () => {
    const x = T.reshape(T.arange(0, 25, 1, { dtype: 'float32' }), [1, 1, 5, 5]);
    const { values, indices } = T.maxPool2dWithIndices(x, { kernelSize: 2, stride: 2, ceilMode: true });
    const expected = [
      [
        [
          [6, 8, 9],
          [16, 18, 19],
          [21, 23, 24],
        ],
      ],
    ];
    expect(values.toArray()).toEqual(expected);
    expect(indices.toArray()).toEqual(expected);
    // The would-be 4th window starts in the right padding, so ceil mode drops it.
    expect(T.maxPool2d(x, { kernelSize: 2, stride: 2, padding: 1, ceilMode: true }).shape).toEqual([
      1, 1, 3, 3,
    ]);
  });

  it('accepts unbatched [C, H, W] input and 1-D input', () => {
    const x = T.reshape(T.arange(0, 24, 1, { dtype: 'float64' }), [2, 3, 4]);
    const batched = T.maxPool2dWithIndices(T.unsqueeze(x, 0), { kernelSize: 2, padding: 1 });
    const unbatched = T.maxPool2dWithIndices(x, { kernelSize: 2, padding: 1 });
    expect(unbatched.values.shape).toEqual([2, 2, 3]);
    expect(unbatched.values.toArray()).toEqual((batched.values.toArray() as T.NestedArray[])[0]);
    const dx = T.maxPool2dGrad(T.onesLike(unbatched.values), unbatched.indices, x.shape);
    expect(dx.shape).toEqual([2, 3, 4]);
    expect(T.sum(dx).item()).toBe(12);
  });
});

describe('avgPool2d', () => {
  const caseArb = poolCaseArb({ dilated: false }).chain((r) =>
    fc.record({
      r: fc.constant(r),
      dtype: fc.constantFrom<T.DType>('float32', 'float64'),
      x: valuesArb(r.c.shape),
      dy: valuesArb(poolOutShape(r.c)),
    }),
  );
  const optionsOf = (r: { c: PoolCase; defaultStride: boolean; countIncludePad: boolean }) => ({
    kernelSize: r.c.kernel,
    stride: r.defaultStride ? undefined : r.c.stride,
    padding: r.c.padding,
    ceilMode: r.c.ceilMode,
    countIncludePad: r.countIncludePad,
  });

  it('matches explicit window loops (padding, ceil mode, countIncludePad, layouts)', () => {
    fc.assert(
      fc.property(caseArb, ({ r, dtype, x }) => {
        const xa = makeArray(x, r.c.shape, dtype, r.layout);
        const out = T.avgPool2d(xa, optionsOf(r));
        expect(out.shape).toEqual(poolOutShape(r.c));
        expect(out.dtype).toBe(dtype);
        const tol = dtype === 'float32' ? 1e-6 : 1e-12;
        expectClose(out.toTypedArray(), refAvgPool(read(xa), r.c, r.countIncludePad), tol, tol);
      }),
    );
  });

  it('avgPool2dGrad matches the window scatter and the adjoint identity in float64', () => {
    fc.assert(
      fc.property(caseArb, ({ r, x, dy }) => {
        const outShape = poolOutShape(r.c);
        const dya = makeArray(dy, outShape, 'float64', r.layout);
        const dx = T.avgPool2dGrad(dya, r.c.shape, optionsOf(r));
        expect(dx.shape).toEqual(r.c.shape);
        expectClose(dx.toTypedArray(), refAvgPoolGrad(dy, r.c, r.countIncludePad), 1e-12, 1e-12);
        const y = T.avgPool2d(makeArray(x, r.c.shape, 'float64', r.layout), optionsOf(r)).toTypedArray();
        const [lhs, rhs] = [dot(y, dy), dot(x, dx.toTypedArray())];
        expect(Math.abs(lhs - rhs)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(lhs)));
      }),
    );
  });

  it('matches known PyTorch results for ceil mode with padding', () => {
    const x = T.ones([1, 1, 4, 4], { dtype: 'float64' });
    const options = { kernelSize: 3, stride: 2, padding: 1, ceilMode: true };
    const out = T.avgPool2d(x, options);
    expectClose(
      out.toTypedArray(),
      [4 / 9, 6 / 9, 1 / 3, 6 / 9, 1, 1 / 2, 1 / 3, 1 / 2, 1 / 4],
      1e-15,
      1e-15,
    );
    expect(read(T.avgPool2d(x, { ...options, countIncludePad: false }))).toEqual(new Array(9).fill(1));
  });
});

describe('1-D pooling', () => {
  const caseArb = poolCaseArb({ dilated: true }).map((r) => {
    const c: PoolCase = {
      shape: [r.c.shape[0], r.c.shape[1], 1, r.c.shape[3]],
      kernel: [1, r.c.kernel[1]],
      stride: [1, r.c.stride[1]],
      padding: [0, r.c.padding[1]],
      dilation: [1, r.c.dilation[1]],
      ceilMode: r.c.ceilMode,
    };
    return { ...r, c };
  });
  const drop = (shape: number[]) => [shape[0], shape[1], shape[3]];

  it('maxPool1d, avgPool1d and their gradients match the 2-D references with height 1', () => {
    fc.assert(
      fc.property(
        caseArb.chain((r) =>
          fc.record({ r: fc.constant(r), x: valuesArb(r.c.shape), dy: valuesArb(poolOutShape(r.c)) }),
        ),
        ({ r, x, dy }) => {
          const { c } = r;
          const xa = makeArray(x, drop(c.shape), 'float64', r.layout);
          const outShape = drop(poolOutShape(c));
          const maxOptions = {
            kernelSize: c.kernel[1],
            stride: c.stride[1],
            padding: c.padding[1],
            dilation: c.dilation[1],
            ceilMode: c.ceilMode,
          };
          const expected = refMaxPool(x, c);
          if (expected !== null) {
            const { values, indices } = T.maxPool1dWithIndices(xa, maxOptions);
            expect(values.shape).toEqual(outShape);
            expect(read(values)).toEqual(expected.values);
            expect(read(indices)).toEqual(expected.indices);
            expect(read(T.maxPool1d(xa, maxOptions))).toEqual(expected.values);
            const dx = T.maxPool1dGrad(
              T.array(Float64Array.from(dy), { shape: outShape }),
              indices,
              drop(c.shape),
            );
            expectClose(dx.toTypedArray(), refMaxPoolGrad(dy, expected.indices, c), 1e-12, 1e-12);
          } else {
            expect(() => T.maxPool1d(xa, maxOptions)).toThrow(T.ValueError);
          }
          if (c.dilation[1] !== 1) return;
          const avgOptions = { ...maxOptions, dilation: undefined, countIncludePad: r.countIncludePad };
          const avg = T.avgPool1d(xa, avgOptions);
          expect(avg.shape).toEqual(outShape);
          expectClose(avg.toTypedArray(), refAvgPool(x, c, r.countIncludePad), 1e-12, 1e-12);
          const dx = T.avgPool1dGrad(
            T.array(Float64Array.from(dy), { shape: outShape }),
            drop(c.shape),
            avgOptions,
          );
          expectClose(dx.toTypedArray(), refAvgPoolGrad(dy, c, r.countIncludePad), 1e-12, 1e-12);
        },
      ),
    );
  });
});

describe('pooling errors', () => {
  const x = T.zeros([1, 2, 5, 5]);
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

  it('rejects bad kernel sizes, strides, paddings and dilations', () => {
    expectError(() => T.maxPool2d(x, { kernelSize: 0 }), T.ValueError, 'maxPool2d', /kernelSize/);
    expectError(() => T.maxPool2d(x, { kernelSize: 2, stride: [1, 0] }), T.ValueError, 'maxPool2d', /stride/);
    expectError(() => T.maxPool2d(x, { kernelSize: 2, dilation: 0 }), T.ValueError, 'maxPool2d', /dilation/);
    expectError(
      () => T.maxPool2d(x, { kernelSize: 3, padding: 2 }),
      T.ValueError,
      'maxPool2d',
      /half of kernelSize/,
    );
    expectError(() => T.avgPool2d(x, { kernelSize: 2, padding: -1 }), T.ValueError, 'avgPool2d', /padding/);
    expectError(
      () => T.avgPool1d(T.zeros([1, 2, 5]), { kernelSize: 2, stride: 1.5 }),
      T.ValueError,
      'avgPool1d',
    );
    expectError(
      () => T.maxPool2d(x, { kernelSize: [2, 2, 2] as unknown as [number, number] }),
      T.ValueError,
      'maxPool2d',
    );
  });

  it('rejects bad ranks, too-small inputs and windows made of padding only', () => {
    expectError(() => T.maxPool2d(T.zeros([5, 5]), { kernelSize: 2 }), T.ShapeError, 'maxPool2d', /\[5,5\]/);
    expectError(
      () => T.avgPool1d(T.zeros([1, 1, 1, 5]), { kernelSize: 2 }),
      T.ShapeError,
      'avgPool1d',
      /\[1,1,1,5\]/,
    );
    expectError(
      () => T.maxPool2d(T.zeros([1, 1, 2, 2]), { kernelSize: 3 }),
      T.ShapeError,
      'maxPool2d',
      /too small/,
    );
    expectError(
      () => T.maxPool2d(T.zeros([1, 1, 1, 1]), { kernelSize: 2, dilation: 2, padding: 1 }),
      T.ValueError,
      'maxPool2d',
      /padding/,
    );
  });

  it('rejects unsupported dtypes', () => {
    expectError(
      () => T.maxPool2d(T.zeros([1, 1, 2, 2], { dtype: 'bool' }), { kernelSize: 2 }),
      T.DTypeError,
      'maxPool2d',
      /bool/,
    );
    expectError(
      () => T.avgPool2d(T.zeros([1, 1, 2, 2], { dtype: 'int32' }), { kernelSize: 2 }),
      T.DTypeError,
      'avgPool2d',
      /int32/,
    );
    const { values, indices } = T.maxPool2dWithIndices(x, { kernelSize: 2 });
    expectError(
      () => T.maxPool2dGrad(values, T.cast(indices, 'float32'), x.shape),
      T.DTypeError,
      'maxPool2dGrad',
      /int32/,
    );
  });

  it('checks gradient shapes', () => {
    const { values, indices } = T.maxPool2dWithIndices(x, { kernelSize: 2 });
    expectError(
      () => T.maxPool2dGrad(values, indices, [1, 3, 5, 5]),
      T.ShapeError,
      'maxPool2dGrad',
      /dy \[1,2,2,2\]/,
    );
    expectError(
      () => T.maxPool2dGrad(values, T.reshape(indices, [1, 2, 4]), x.shape),
      T.ShapeError,
      'maxPool2dGrad',
      /indices/,
    );
    const dy = T.zeros([1, 2, 3, 3]);
    expectError(
      () => T.avgPool2dGrad(dy, x.shape, { kernelSize: 2 }),
      T.ShapeError,
      'avgPool2dGrad',
      /dy \[1,2,3,3\]/,
    );
    expect(T.avgPool2dGrad(dy, x.shape, { kernelSize: 2, stride: 2, ceilMode: true }).shape).toEqual([
      1, 2, 5, 5,
    ]);
  });
});
