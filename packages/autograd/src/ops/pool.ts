import * as T from '@tsgrad/tensor';
import { checkList, checkTensor } from '../check.js';
import { inLibrary } from '../lifetime.js';
import { defineOp } from '../op.js';
import type { ErrorSample, InputSpec } from '../spec.js';
import type { Tensor } from '../tensor.js';
import { constant } from './convert.js';
import { matmul } from './linalg.js';

// Max and average pooling over [N, C, H, W] or [C, H, W] (and [N, C, L] or [C, L] for 1-D),
// with PyTorch semantics; each rank has its own ops, named like the kernels. The gradients are
// linear maps whose adjoints close the family: max pooling's gradient scatters by the saved
// indices and its adjoint gathers by them; average pooling's gradient spreads over windows and
// its adjoint is average pooling again. So gradients of any order stay among these ops.

type Spatial = 1 | 2;

/** The input positions (flat within a plane) of every window of a pooling, for references. */
interface PoolWindows {
  readonly outShape: number[];
  readonly planes: number;
  readonly planeSize: number;
  /** Per window: its taps inside the input, and its size clipped to the padded input. */
  readonly windows: readonly { readonly taps: readonly number[]; readonly padded: number }[];
}

interface WindowOptions {
  readonly kernelSize: number | readonly number[];
  readonly stride?: number | readonly number[];
  readonly padding?: number | readonly number[];
  readonly dilation?: number | readonly number[];
  readonly ceilMode?: boolean;
}

function perAxis(
  value: number | readonly number[] | undefined,
  rank: number,
  fallback: number | readonly number[],
): number[] {
  const v = value ?? fallback;
  return typeof v === 'number' ? new Array<number>(rank).fill(v) : [...v];
}

/** Windows along one axis (PyTorch's output size, including the ceil-mode rule). */
function axisWindows(n: number, k: number, s: number, p: number, d: number, ceil: boolean) {
  let out = Math.floor((n + 2 * p - d * (k - 1) - 1 + (ceil ? s - 1 : 0)) / s) + 1;
  if (ceil && (out - 1) * s >= n + p) out--;
  return Array.from({ length: out }, (_, o) => {
    const start = o * s - p;
    const taps = Array.from({ length: k }, (_, t) => start + t * d).filter((i) => i >= 0 && i < n);
    return { taps, padded: Math.min(start + d * (k - 1) + 1, n + p) - start };
  });
}

function poolWindows(shape: T.Shape, spatial: Spatial, options: WindowOptions): PoolWindows {
  const size = shape.slice(-spatial);
  const kernel = perAxis(options.kernelSize, spatial, 1);
  const stride = perAxis(options.stride, spatial, kernel);
  const padding = perAxis(options.padding, spatial, 0);
  const dilation = perAxis(options.dilation, spatial, 1);
  const axes = size.map((n, a) =>
    axisWindows(n, kernel[a], stride[a], padding[a], dilation[a], options.ceilMode ?? false),
  );
  const [rows, cols] = spatial === 2 ? axes : [[{ taps: [0], padded: 1 }], axes[0]];
  const width = size[spatial - 1];
  const windows = rows.flatMap((r) =>
    cols.map((c) => ({
      taps: r.taps.flatMap((h) => c.taps.map((w) => h * width + w)),
      padded: r.padded * c.padded,
    })),
  );
  return {
    outShape: [...shape.slice(0, -spatial), ...axes.map((a) => a.length)],
    planes: T.sizeOf(shape.slice(0, -spatial)),
    planeSize: T.sizeOf(size),
    windows,
  };
}

/** Values drawn without ties (max pooling has a kink where two window elements are equal). */
const distinctValues: InputSpec['values'] = (shape, _, random) => {
  const values = Array.from({ length: T.sizeOf(shape) }, (_, i) => -2 + (4 * i) / T.sizeOf(shape));
  for (let i = values.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [values[i], values[j]] = [values[j], values[i]];
  }
  return values;
};

// ---- the ops of one rank ---------------------------------------------------------------------

/** What `maxPool*WithIndices` return: the maxima and where they were. */
export interface MaxPoolWithIndices {
  /** The maxima, differentiable (the gradient flows to the positions in `indices`). */
  readonly values: Tensor;
  /** int32 flat positions (`h * W + w`, or `l`) of each maximum within its input plane. */
  readonly indices: Tensor;
}

interface PoolKernels {
  maxPool(x: T.NDArray, options: T.MaxPool2dOptions): T.MaxPoolResult;
  maxPoolGrad(dy: T.NDArray, indices: T.NDArray, inputShape: T.Shape): T.NDArray;
  avgPool(x: T.NDArray, options: T.AvgPool2dOptions): T.NDArray;
  avgPoolGrad(dy: T.NDArray, inputShape: T.Shape, options: T.AvgPool2dOptions): T.NDArray;
}

// 1-D options hold plain numbers, which the 2-D types also allow; the kernels check them.
const kernels: Record<Spatial, PoolKernels> = {
  1: {
    maxPool: (x, options) => T.maxPool1dWithIndices(x, options as T.MaxPool1dOptions),
    maxPoolGrad: T.maxPool1dGrad,
    avgPool: (x, options) => T.avgPool1d(x, options as T.AvgPool1dOptions),
    avgPoolGrad: (dy, inputShape, options) => T.avgPool1dGrad(dy, inputShape, options as T.AvgPool1dOptions),
  },
  2: {
    maxPool: T.maxPool2dWithIndices,
    maxPoolGrad: T.maxPool2dGrad,
    avgPool: T.avgPool2d,
    avgPoolGrad: T.avgPool2dGrad,
  },
};

interface PoolFamily {
  maxPool(x: Tensor, options: T.MaxPool2dOptions): MaxPoolWithIndices;
  avgPool(x: Tensor, options: T.AvgPool2dOptions): Tensor;
}

interface AvgPoolGradParams {
  readonly options: T.AvgPool2dOptions;
  readonly inputShape: readonly number[];
}

/**
 * Defines `maxPool{1,2}d` (outputs values and int32 indices), its gradient `maxPool{1,2}dGrad`
 * (scatter by the indices) and that one's adjoint `maxPool{1,2}dGather`, and `avgPool{1,2}d`
 * with its gradient `avgPool{1,2}dGrad`.
 */
function poolFamily(spatial: Spatial, samples: PoolSamples): PoolFamily {
  const name = `${spatial}d`;
  const kernel = kernels[spatial];
  const planeSize = (shape: T.Shape) => T.sizeOf(shape.slice(-spatial));
  const scatter = (dy: Tensor, indices: Tensor, inputShape: T.Shape): Tensor =>
    scatterOp.apply([dy, indices], { inputShape: [...inputShape] })[0];
  const gather = (x: Tensor, indices: Tensor): Tensor => gatherOp.apply([x, indices], {})[0];
  const avgPool = (x: Tensor, options: T.AvgPool2dOptions): Tensor => avgPoolOp.apply([x], options)[0];
  const avgPoolGrad = (dy: Tensor, inputShape: T.Shape, options: T.AvgPool2dOptions): Tensor =>
    avgPoolGradOp.apply([dy], { options, inputShape: [...inputShape] })[0];

  const maxPoolOp = defineOp<T.MaxPool2dOptions>({
    name: `maxPool${name}`,
    forward: ([x], options) => {
      const { values, indices } = kernel.maxPool(x, options);
      return [values, indices];
    },
    vjp: ({ inputs: [x], outputs: [, indices] }, [g]) => [scatter(g, indices, x.shape)],
    jvp: ({ outputs: [, indices] }, [t]) => [gather(t, indices)],
    save: { inputs: true, outputs: true },
    spec: {
      inputs: [{ values: distinctValues }],
      samples: samples.maxPool.map(([shape, options]) => ({ shapes: [shape], params: options })),
      reference: ([x], [shape], options) => {
        const { planes, planeSize: size, windows } = poolWindows(shape, spatial, options);
        const values: number[] = [];
        const indices: number[] = [];
        for (let p = 0; p < planes; p++) {
          for (const { taps } of windows) {
            const best = taps.reduce((b, t) => (x[p * size + t] > x[p * size + b] ? t : b), taps[0]);
            values.push(x[p * size + best]);
            indices.push(best);
          }
        }
        return [values, indices];
      },
      errors: [
        ...poolErrors(spatial),
        {
          shapes: [ofRank([1, 1, 4, 4], spatial)],
          params: { kernelSize: 2 },
          dtypes: ['bool'],
          throws: T.DTypeError,
        },
      ],
    },
  });

  /** Max pooling's gradient: adds each dy into the input position its maximum came from. */
  const scatterOp = defineOp<{ readonly inputShape: readonly number[] }>({
    name: `maxPool${name}Grad`,
    forward: ([dy, indices], { inputShape }) => kernel.maxPoolGrad(dy, indices, inputShape),
    vjp: ({ inputs: [, indices] }, [gx]) => [gather(gx, indices), null],
    jvp: ({ inputs: [, indices], params }, [t]) => [scatter(t, indices, params.inputShape)],
    spec: {
      inputs: [{}, { kind: 'index', bound: (_, { inputShape }) => planeSize(inputShape) }],
      samples: samples.scatter.map(([shape, inputShape]) => ({
        shapes: [shape, shape],
        params: { inputShape },
      })),
      reference: ([dy, indices], [shape], { inputShape }) => {
        const perPlane = planeSize(shape);
        const dx = new Float64Array(T.sizeOf(inputShape));
        dy.forEach((g, i) => {
          dx[Math.floor(i / perPlane) * planeSize(inputShape) + indices[i]] += g;
        });
        return [dx];
      },
      errors: samples.scatterErrors,
    },
  });

  /** The adjoint of the scatter: reads x at the saved indices, plane by plane. */
  const gatherOp = defineOp<Record<string, never>>({
    name: `maxPool${name}Gather`,
    forward: ([x, indices]) => {
      if (indices.ndim !== x.ndim) {
        throw new T.ShapeError(
          `maxPool${name}Gather`,
          `indices [${indices.shape.join(',')}] must have the rank of input [${x.shape.join(',')}]`,
        );
      }
      const lead = x.ndim - spatial;
      const flat = (a: T.NDArray) => T.reshape(a, [...a.shape.slice(0, lead), planeSize(a.shape)]);
      return T.reshape(T.takeAlongAxis(flat(x), flat(indices), lead), indices.shape);
    },
    vjp: ({ inputs: [x, indices] }, [g]) => [scatter(g, indices, x.shape), null],
    jvp: ({ inputs: [, indices] }, [t]) => [gather(t, indices)],
    spec: {
      inputs: [{}, { kind: 'index', bound: ([shape]) => planeSize(shape) }],
      samples: samples.scatter.map(([shape, inputShape]) => ({ shapes: [inputShape, shape], params: {} })),
      reference: ([x, indices], [shape, indexShape]) => {
        const perPlane = planeSize(indexShape);
        return [indices.map((at, i) => x[Math.floor(i / perPlane) * planeSize(shape) + at])];
      },
      errors: [{ shapes: [ofRank([1, 2, 4, 4], spatial), [2, 2]], params: {}, throws: T.ShapeError }],
    },
  });

  const avgPoolOp = defineOp<T.AvgPool2dOptions>({
    name: `avgPool${name}`,
    forward: ([x], options) => kernel.avgPool(x, options),
    vjp: ({ inputs: [x], params }, [g]) => [avgPoolGrad(g, x.shape, params)],
    jvp: ({ params }, [t]) => [avgPool(t, params)],
    spec: {
      inputs: [{}],
      samples: samples.avgPool.map(([shape, options]) => ({ shapes: [shape], params: options })),
      reference: ([x], [shape], options) => [averageReference(x, shape, spatial, options, false)],
      errors: [
        ...poolErrors(spatial),
        {
          shapes: [ofRank([1, 1, 4, 4], spatial)],
          params: { kernelSize: 2 },
          dtypes: ['int32'],
          throws: T.DTypeError,
        },
      ],
    },
  });

  /** Average pooling's gradient: spreads each dy evenly over its window. */
  const avgPoolGradOp = defineOp<AvgPoolGradParams>({
    name: `avgPool${name}Grad`,
    forward: ([dy], { options, inputShape }) => kernel.avgPoolGrad(dy, inputShape, options),
    vjp: ({ params: { options } }, [gx]) => [avgPool(gx, options)],
    jvp: ({ params: { options, inputShape } }, [t]) => [avgPoolGrad(t, inputShape, options)],
    save: { inputs: false },
    spec: {
      inputs: [{}],
      samples: samples.avgPool.map(([shape, options]) => ({
        shapes: [poolWindows(shape, spatial, options).outShape],
        params: { options, inputShape: shape },
      })),
      reference: ([dy], _, { options, inputShape }) => [
        averageReference(dy, inputShape, spatial, options, true),
      ],
      errors: [
        {
          shapes: [ofRank([1, 1, 3, 3], spatial)],
          params: { options: { kernelSize: 2 }, inputShape: ofRank([1, 1, 4, 4], spatial) },
          throws: T.ShapeError,
        },
      ],
    },
  });

  return {
    maxPool: (x, options) => {
      const [values, indices] = maxPoolOp.apply([x], options);
      return { values, indices };
    },
    avgPool,
  };
}

/** An `[N, C, H, W]` shape for 2-D ops, or `[N, C, W]` for 1-D ones. */
const ofRank = (shape: readonly number[], spatial: Spatial) =>
  shape.slice(0, 2).concat(shape.slice(4 - spatial));

/** Bad inputs shared by max and average pooling. */
function poolErrors(spatial: Spatial): ErrorSample<{ kernelSize: number; padding?: number }>[] {
  return [
    { shapes: [ofRank([1, 1, 2, 2], spatial)], params: { kernelSize: 3 }, throws: T.ShapeError },
    { shapes: [ofRank([1, 1, 4, 4], spatial)], params: { kernelSize: 2, padding: 2 }, throws: T.ValueError },
    { shapes: [[4]], params: { kernelSize: 2 }, throws: T.ShapeError },
  ];
}

/** Average pooling (or, `inverse`, its gradient) by plain loops, with PyTorch's divisors. */
function averageReference(
  x: Float64Array,
  shape: T.Shape,
  spatial: Spatial,
  options: T.AvgPool2dOptions,
  inverse: boolean,
): Float64Array {
  const { planes, planeSize, windows } = poolWindows(shape, spatial, options);
  const out = new Float64Array(inverse ? planes * planeSize : planes * windows.length);
  for (let p = 0; p < planes; p++) {
    windows.forEach(({ taps, padded }, o) => {
      const divisor = (options.countIncludePad ?? true) ? padded : taps.length;
      for (const t of taps) {
        if (inverse) out[p * planeSize + t] += x[p * windows.length + o] / divisor;
        else out[p * windows.length + o] += x[p * planeSize + t] / divisor;
      }
    });
  }
  return out;
}

/** Spec samples of one rank: [input shape, options], and [dy/indices shape, input shape] for the scatter. */
interface PoolSamples {
  readonly maxPool: readonly (readonly [T.Shape, T.MaxPool2dOptions])[];
  readonly avgPool: readonly (readonly [T.Shape, T.AvgPool2dOptions])[];
  readonly scatter: readonly (readonly [T.Shape, T.Shape])[];
  readonly scatterErrors: readonly ErrorSample<{ readonly inputShape: readonly number[] }>[];
}

// biome-ignore format: sample tables
const pool2d = poolFamily(2, {
  maxPool: [
    [[1, 2, 4, 4], { kernelSize: 2 }],
    [[2, 1, 5, 5], { kernelSize: 3, stride: 2, padding: 1 }],
    [[1, 1, 5, 5], { kernelSize: 2, ceilMode: true }],
    [[1, 1, 5, 5], { kernelSize: 2, stride: 1, dilation: 2 }],
    [[2, 3, 3], { kernelSize: [2, 1], stride: 1 }],
  ],
  avgPool: [
    [[1, 2, 4, 4], { kernelSize: 2 }],
    [[2, 1, 5, 5], { kernelSize: 3, stride: 2, padding: 1 }],
    [[1, 1, 5, 5], { kernelSize: 3, stride: 2, padding: 1, countIncludePad: false }],
    [[1, 1, 5, 5], { kernelSize: 2, ceilMode: true }],
    [[2, 3, 3], { kernelSize: 2, stride: 1 }],
  ],
  scatter: [
    [[1, 2, 2, 2], [1, 2, 4, 4]],
    [[2, 2, 2], [2, 3, 3]],
  ],
  scatterErrors: [
    { shapes: [[1, 2, 2, 2], [1, 2, 2, 1]], params: { inputShape: [1, 2, 4, 4] }, throws: T.ShapeError },
    { shapes: [[1, 3, 2, 2], [1, 3, 2, 2]], params: { inputShape: [1, 2, 4, 4] }, throws: T.ShapeError },
  ],
});

// biome-ignore format: sample tables
const pool1d = poolFamily(1, {
  maxPool: [
    [[2, 2, 6], { kernelSize: 2 }],
    [[3, 7], { kernelSize: 3, stride: 2, padding: 1 }],
    [[1, 2, 7], { kernelSize: 2, stride: 2, ceilMode: true, dilation: 2 }],
  ],
  avgPool: [
    [[2, 2, 6], { kernelSize: 2 }],
    [[3, 7], { kernelSize: 3, stride: 2, padding: 1, countIncludePad: false }],
    [[1, 2, 5], { kernelSize: 2, ceilMode: true }],
  ],
  scatter: [
    [[2, 3], [2, 6]],
    [[1, 2, 3], [1, 2, 5]],
  ],
  scatterErrors: [{ shapes: [[2, 3], [2, 2]], params: { inputShape: [2, 6] }, throws: T.ShapeError }],
});

// ---- public functions -------------------------------------------------------------------------

/**
 * Max pooling over `[N, C, H, W]` or `[C, H, W]` (padding counts as −∞). The gradient goes to
 * the first maximum of each window, as in PyTorch; overlapping windows add up.
 */
export function maxPool2d(x: Tensor, options: T.MaxPool2dOptions): Tensor {
  checkTensor('maxPool2d', x);
  return inLibrary(() => pool2d.maxPool(x, options).values);
}

/** Max pooling that also returns the int32 position of each maximum within its plane. */
export function maxPool2dWithIndices(x: Tensor, options: T.MaxPool2dOptions): MaxPoolWithIndices {
  checkTensor('maxPool2dWithIndices', x);
  return pool2d.maxPool(x, options);
}

/** Max pooling over `[N, C, L]` or `[C, L]`. */
export function maxPool1d(x: Tensor, options: T.MaxPool1dOptions): Tensor {
  checkTensor('maxPool1d', x);
  return inLibrary(() => pool1d.maxPool(x, options).values);
}

/** `maxPool1d` over x `[N, C, L]` (or `[C, L]`) that also returns the int32 position of each maximum. */
export function maxPool1dWithIndices(x: Tensor, options: T.MaxPool1dOptions): MaxPoolWithIndices {
  checkTensor('maxPool1dWithIndices', x);
  return pool1d.maxPool(x, options);
}

/** Average pooling over `[N, C, H, W]` or `[C, H, W]` with zero padding (PyTorch semantics). */
export function avgPool2d(x: Tensor, options: T.AvgPool2dOptions): Tensor {
  checkTensor('avgPool2d', x);
  return pool2d.avgPool(x, options);
}

/** Average pooling over `[N, C, L]` or `[C, L]`. */
export function avgPool1d(x: Tensor, options: T.AvgPool1dOptions): Tensor {
  checkTensor('avgPool1d', x);
  return pool1d.avgPool(x, options);
}

// ---- adaptive average pooling ------------------------------------------------------------------

/**
 * The averaging matrix of PyTorch's adaptive windows [⌊i·n/out⌋, ⌈(i+1)·n/out⌉) along an axis
 * of size n: `[out, n]` to multiply from the left (rows), or its transpose `[n, out]` (columns).
 */
function adaptiveWindows(op: string, n: number, out: number, dtype: T.DType, side: 'left' | 'right'): Tensor {
  if (n * out * Float64Array.BYTES_PER_ELEMENT > T.MAX_ARRAY_BYTES)
    throw new T.OutOfMemoryError(
      op,
      `outputSize ${out} needs a [${out},${n}] float64 window matrix, over the array size limit`,
    );
  const data = new Float64Array(n * out);
  for (let i = 0; i < out; i++) {
    const start = Math.floor((i * n) / out);
    const end = Math.ceil(((i + 1) * n) / out);
    for (let j = start; j < end; j++) data[side === 'left' ? i * n + j : j * out + i] = 1 / (end - start);
  }
  return constant(T.cast(T.array(data, { shape: side === 'left' ? [out, n] : [n, out] }), dtype));
}

function adaptiveAvgPool(
  op: string,
  x: Tensor,
  requested: readonly (number | null)[],
  spatial: Spatial,
): Tensor {
  if (x.ndim !== spatial + 1 && x.ndim !== spatial + 2) {
    const layout = spatial === 2 ? '[N, C, H, W] or [C, H, W]' : '[N, C, L] or [C, L]';
    throw new T.ShapeError(op, `input must be ${layout}, got [${x.shape.join(',')}]`);
  }
  if (!T.isFloat(x.dtype)) throw new T.DTypeError(op, `input must be float32 or float64, got ${x.dtype}`);
  const size = x.shape.slice(-spatial);
  checkList(op, requested, 'outputSize');
  const out = requested.map((o, a) => o ?? size[a]);
  if (out.some((o) => !Number.isInteger(o) || o < 1)) {
    throw new T.ValueError(op, `outputSize must be positive integers, got ${T.formatShape(out)}`);
  }
  if (size.every((n, a) => n % out[a] === 0)) {
    const kernelSize = size.map((n, a) => n / out[a]);
    return spatial === 1
      ? avgPool1d(x, { kernelSize: kernelSize[0] })
      : avgPool2d(x, { kernelSize: [kernelSize[0], kernelSize[1]] });
  }
  // Windows of uneven size: average along each axis with a constant matrix (rows, then columns).
  return inLibrary(() => {
    let y = x;
    if (spatial === 2) y = matmul(adaptiveWindows(op, size[0], out[0], x.dtype, 'left'), y);
    return matmul(y, adaptiveWindows(op, size[spatial - 1], out[spatial - 1], x.dtype, 'right'));
  });
}

/**
 * PyTorch's `adaptive_avg_pool2d`: output window i along an axis of size n averages
 * [⌊i·n/out⌋, ⌈(i+1)·n/out⌉). `null` keeps an axis' size.
 */
export function adaptiveAvgPool2d(
  x: Tensor,
  outputSize: number | readonly [number | null, number | null],
): Tensor {
  checkTensor('adaptiveAvgPool2d', x);
  return adaptiveAvgPool(
    'adaptiveAvgPool2d',
    x,
    typeof outputSize === 'number' ? [outputSize, outputSize] : outputSize,
    2,
  );
}

/** PyTorch's `adaptive_avg_pool1d` over `[N, C, L]` or `[C, L]`. */
export function adaptiveAvgPool1d(x: Tensor, outputSize: number): Tensor {
  checkTensor('adaptiveAvgPool1d', x);
  return adaptiveAvgPool('adaptiveAvgPool1d', x, [outputSize], 1);
}
