import type { DType } from './dtype.js';

/**
 * The closed primitive set. Everything else in tsgrad is composed from these. Each backend
 * implements every primitive: its kernel table has the type `KernelTable`, so a missing
 * kernel is a compile error.
 */
export const UNARY_PRIMITIVES = [
  'neg',
  'abs',
  'sign',
  'exp',
  'log',
  'sin',
  'cos',
  'tanh',
  'sqrt',
  'reciprocal',
  'floor',
  'ceil',
  'round',
  'erf',
  'log1p',
  'expm1',
  'logicalNot',
] as const;
/** The name of a unary elementwise primitive (`'exp'`, `'neg'`…). */
export type UnaryPrimitive = (typeof UNARY_PRIMITIVES)[number];

/** The binary elementwise primitives: arithmetic, comparisons and logic, all broadcasting. */
export const BINARY_PRIMITIVES = [
  'add',
  'sub',
  'mul',
  'div',
  'pow',
  'maximum',
  'minimum',
  'mod',
  'eq',
  'ne',
  'lt',
  'le',
  'gt',
  'ge',
  'logicalAnd',
  'logicalOr',
] as const;
/** The name of a binary elementwise primitive (`'add'`, `'lt'`…). */
export type BinaryPrimitive = (typeof BINARY_PRIMITIVES)[number];

/** The reduction primitives, over a set of axes. */
export const REDUCE_PRIMITIVES = ['sum', 'prod', 'max', 'min'] as const;
/** The name of a reduction primitive (`'sum'`, `'prod'`, `'max'`, `'min'`). */
export type ReducePrimitive = (typeof REDUCE_PRIMITIVES)[number];

type NoParams = Record<string, never>;

/** Reduce over `axes` (sorted, distinct); the output drops those axes. */
export interface ReduceParams {
  /** The reduced axes, sorted and distinct, each in `[0, ndim)`. */
  readonly axes: readonly number[];
}
/** One axis; argmax/argmin drop it, cumsum/cumprod/sort keep it. */
export interface AxisParams {
  /** The axis, in `[0, ndim)`. */
  readonly axis: number;
}
/** The `pad` primitive's parameters: constant padding. */
export interface PadParams {
  /** `[before, after]` for every axis, non-negative. */
  readonly widths: readonly (readonly [number, number])[];
  /** The fill value. */
  readonly value: number;
}
/** The `sort` primitive's parameters. */
export interface SortParams {
  /** The axis to sort along, in `[0, ndim)`. */
  readonly axis: number;
  /** Largest first. */
  readonly descending: boolean;
}
/**
 * conv2d(x `[N, C, H, W]`, w `[O, C/groups, kh, kw]`) → `[N, O, Ho, Wo]`, a cross-correlation:
 * output (oh, ow) reads input row `oh * stride[0] - top + i * dilation[0]` through tap i (and
 * likewise for columns); positions in the zero padding contribute nothing. Output channel o
 * sees the input channels of its group, `floor(o / (O / groups)) * C/groups + c`.
 * Padding is `[top, bottom, left, right]`; every other size a pair `[h, w]`.
 */
export interface Conv2dParams {
  /** `[h, w]`, at least 1. */
  readonly stride: readonly [number, number];
  /** `[top, bottom, left, right]`, non-negative. */
  readonly padding: readonly [number, number, number, number];
  /** `[h, w]`, at least 1. */
  readonly dilation: readonly [number, number];
  /** The number of channel groups; divides C and O. */
  readonly groups: number;
}
/**
 * conv2d with an epilogue, made by the compiler's epilogue pass on backends whose
 * `convEpilogue` accepts the dtype: a third input bias `[O]` (optional) and
 * y = activation(conv2d(x, w) + bias[o]) computed as the kernel writes y.
 */
export interface Conv2dEpilogueParams extends Conv2dParams {
  /** Applied after the bias: `'relu'` is max(y, 0); `'none'` (the default) leaves y. */
  readonly activation?: 'none' | 'relu';
}
/**
 * The transpose of conv2d with respect to its input: the input gradient of conv2d and the
 * forward of ConvTranspose2d. Inputs dy `[N, O, h, w]` and w in conv2d's layout
 * `[O, C/groups, kh, kw]`; output `[N, C, ...outSize]`, where input (h, w) adds
 * `dy · w[o, c, i, j]` into row `h * stride[0] - top + i * dilation[0]` (likewise columns) and
 * positions outside `outSize` are dropped. Only the top and left padding enter; outSize fixes
 * the rest.
 */
export interface ConvTranspose2dParams extends Conv2dParams {
  /** The output's spatial size `[H, W]`. */
  readonly outSize: readonly [number, number];
}
/** conv2d's weight gradient: inputs x `[N, C, H, W]` and dy `[N, O, Ho, Wo]`, output `[O, C/groups, ...kernelSize]`. */
export interface Conv2dWeightGradParams extends Conv2dParams {
  /** The kernel's spatial size `[kh, kw]`. */
  readonly kernelSize: readonly [number, number];
}
/**
 * Pooling over x `[N, C, H, W]` → `[N, C, Ho, Wo]`: window (oh, ow) has kernelSize taps per
 * axis starting at `oh * stride[0] - padding[0]`, spaced by dilation. Taps outside the input
 * (padding, or past the end in ceil mode) are skipped; the frontend guarantees every window
 * holds at least one input element. `ceilMode` only affects the output size the frontend infers.
 */
export interface Pool2dParams {
  /** The window size `[kh, kw]`. */
  readonly kernelSize: readonly [number, number];
  /** The step between windows `[h, w]`. */
  readonly stride: readonly [number, number];
  /** The padding on both sides `[h, w]`. */
  readonly padding: readonly [number, number];
  /** The spacing between taps `[h, w]`. */
  readonly dilation: readonly [number, number];
  /** Whether the output size was rounded up. */
  readonly ceilMode: boolean;
}
export interface AvgPool2dParams extends Pool2dParams {
  /**
   * Divide by the number of taps inside the padded input `[-padding, size + padding)` (true;
   * a ceil-mode window hanging past that is not counted, like PyTorch) or by the number of
   * input elements in the window (false).
   */
  readonly countIncludePad: boolean;
}
/** avgPool2d's input gradient: input dy `[N, C, Ho, Wo]`, output `[N, C, ...inputSize]`. */
export interface AvgPool2dGradParams extends AvgPool2dParams {
  /** The forward input's spatial size `[H, W]`. */
  readonly inputSize: readonly [number, number];
}

/** Each primitive's parameters (what `runPrimitive` passes to its kernel besides the arrays). */
export type PrimitiveParams = { [P in UnaryPrimitive | BinaryPrimitive]: NoParams } & {
  [P in ReducePrimitive]: ReduceParams;
} & {
  /** where(cond: bool, a, b); a and b share a dtype. */
  where: NoParams;
  /** Convert to the output's dtype. */
  cast: NoParams;
  /** Materialize a strided view as a contiguous array. */
  copy: NoParams;
  argmax: AxisParams;
  argmin: AxisParams;
  cumsum: AxisParams;
  cumprod: AxisParams;
  /** Constant padding. */
  pad: PadParams;
  /** Any number of inputs joined along `axis`. */
  concat: AxisParams;
  /** take_along_axis(x, index): index has x's rank, output has index's shape. */
  gather: AxisParams;
  /** x.index_select(axis, index) with a 1-D index. */
  indexSelect: AxisParams;
  /** out = base; out[... index[i] ...] += src[i] along `axis` (torch.scatter_add). */
  scatterAdd: AxisParams;
  /** Stable sort along `axis`; outputs values and int32 indices. */
  sort: SortParams;
  /** Batched matmul [..., m, k] × [..., k, n]; batch dims already broadcast. */
  matmul: NoParams;
  conv2d: Conv2dParams;
  convTranspose2d: ConvTranspose2dParams;
  conv2dWeightGrad: Conv2dWeightGradParams;
  /** The maxima (the first on ties; NaN counts as largest) and their int32 flat index h * W + w in the plane. */
  maxPool2d: Pool2dParams;
  avgPool2d: AvgPool2dParams;
  avgPool2dGrad: AvgPool2dGradParams;
};

/** The name of any primitive: the closed set every backend implements. */
export type Primitive = keyof PrimitiveParams;

/**
 * Primitives whose kernels accept strided (non-contiguous, broadcast) views. All other
 * kernels receive contiguous inputs with offset 0.
 */
export const STRIDED_PRIMITIVES: ReadonlySet<Primitive> = new Set<Primitive>([
  ...UNARY_PRIMITIVES,
  ...BINARY_PRIMITIVES,
  'where',
  'cast',
  'copy',
  'matmul',
]);

/** A view of backend memory as a kernel sees it. Strides and offset are in elements. */
export interface View<H> {
  /** The backend's handle of the buffer (a byte offset in the wasm memory, a typed array on the CPU). */
  readonly handle: H;
  /** The element type. */
  readonly dtype: DType;
  /** The size of each axis. */
  readonly shape: readonly number[];
  /** The step, in elements, along each axis. */
  readonly strides: readonly number[];
  /** The position of the first element, in elements. */
  readonly offset: number;
}

/**
 * A kernel writes into freshly allocated, contiguous `outputs` whose shapes and dtypes the
 * frontend has already inferred and checked. (Declared as a method so that kernel tables
 * are checked bivariantly in the handle type.)
 */
export type KernelFn<Params, H> = {
  kernel(outputs: readonly View<H>[], inputs: readonly View<H>[], params: Params): void;
}['kernel'];

/** The kernel of primitive `P` on a backend whose buffers have handle type `H`. */
export type Kernel<P extends Primitive, H> = KernelFn<PrimitiveParams[P], H>;

/** A backend's kernels: one per primitive, so a missing kernel is a compile error. */
export type KernelTable<H> = { readonly [P in Primitive]: Kernel<P, H> };

/** Any primitive's kernel, for code that passes params through untyped (dispatch, tracing, jit). */
export type AnyKernel = KernelFn<unknown, unknown>;
