import type {
  AvgPool2dParams,
  BinaryPrimitive,
  Conv2dParams,
  ConvTranspose2dParams,
  DType,
  Primitive,
  PrimitiveParams,
  UnaryPrimitive,
} from '@tsgrad/tensor';
import { onnxType } from '../proto.js';
import type { GraphBuilder } from './builder.js';

// The ONNX lowering of every primitive, in one table typed `{ [P in Primitive]: Lowering<P> }`:
// a new primitive without a lowering is a compile error, as a backend's missing kernel is.

/** An input of an equation as an ONNX value (the view already lowered), or an output's type. */
export interface Operand {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: DType;
}

export interface LoweringCall<P> {
  readonly inputs: readonly Operand[];
  readonly outputs: readonly Omit<Operand, 'name'>[];
  readonly params: P;
}

/** Emits the nodes computing one equation; returns the ONNX values of its outputs. */
export type Lowering<P extends Primitive> = (
  b: GraphBuilder,
  call: LoweringCall<PrimitiveParams[P]>,
) => string[];

export type LoweringTable = { readonly [P in Primitive]: Lowering<P> };

const names = (call: LoweringCall<unknown>) => call.inputs.map((x) => x.name);

/** One ONNX operator on the inputs, as they are. */
const direct =
  (opType: string): Lowering<UnaryPrimitive | BinaryPrimitive> =>
  (b, call) => [b.op(opType, names(call))];

const UNARY: { readonly [P in UnaryPrimitive]: Lowering<P> } = {
  neg: direct('Neg'),
  abs: direct('Abs'),
  sign: direct('Sign'),
  exp: direct('Exp'),
  log: direct('Log'),
  sin: direct('Sin'),
  cos: direct('Cos'),
  tanh: direct('Tanh'),
  sqrt: direct('Sqrt'),
  reciprocal: direct('Reciprocal'),
  floor: direct('Floor'),
  ceil: direct('Ceil'),
  round: direct('Round'), // half to even in both
  erf: direct('Erf'),
  log1p: (b, { inputs: [x] }) => [b.op('Log', [b.op('Add', [x.name, b.scalar(x.dtype, 1)])])],
  expm1: (b, { inputs: [x] }) => [b.op('Sub', [b.op('Exp', [x.name]), b.scalar(x.dtype, 1)])],
  logicalNot: direct('Not'),
};

/** Python's floored modulo: ONNX's Mod is C's fmod for floats (and floored for integers). */
const floorMod: Lowering<'mod'> = (b, { inputs: [x, y] }) => {
  if (x.dtype === 'int32') return [b.op('Mod', [x.name, y.name], { fmod: 0 })];
  const r = b.op('Mod', [x.name, y.name], { fmod: 1 });
  const zero = b.scalar(x.dtype, 0);
  const signsDiffer = b.op('Xor', [b.op('Less', [r, zero]), b.op('Less', [y.name, zero])]);
  const fix = b.op('And', [b.op('Not', [b.op('Equal', [r, zero])]), signsDiffer]);
  return [b.op('Where', [fix, b.op('Add', [r, y.name]), r])];
};

const BINARY: { readonly [P in BinaryPrimitive]: Lowering<P> } = {
  add: direct('Add'),
  sub: direct('Sub'),
  mul: direct('Mul'),
  div: direct('Div'),
  pow: direct('Pow'),
  maximum: direct('Max'),
  minimum: direct('Min'),
  mod: floorMod,
  eq: direct('Equal'),
  ne: (b, call) => [b.op('Not', [b.op('Equal', names(call))])],
  lt: direct('Less'),
  le: direct('LessOrEqual'),
  gt: direct('Greater'),
  ge: direct('GreaterOrEqual'),
  logicalAnd: direct('And'),
  logicalOr: direct('Or'),
};

/** ReduceSum takes its axes as an input from opset 13, the others from opset 18. */
const reduce =
  (opType: string): Lowering<'sum' | 'prod' | 'max' | 'min'> =>
  (b, { inputs: [x], params }) => {
    if (params.axes.length === 0) return [b.op('Identity', [x.name])];
    const axesAsInput = opType === 'ReduceSum' || b.opset >= 18;
    return axesAsInput
      ? [b.op(opType, [x.name, b.int64(params.axes)], { keepdims: 0 })]
      : [b.op(opType, [x.name], { axes: params.axes, keepdims: 0 })];
  };

const argReduce =
  (opType: string): Lowering<'argmax' | 'argmin'> =>
  (b, { inputs: [x], params }) => [
    b.op('Cast', [b.op(opType, [x.name], { axis: params.axis, keepdims: 0 })], { to: onnxType('int32') }),
  ];

/** Slices one index of `axis`, keeping the axis. */
const sliceAt = (b: GraphBuilder, x: string, axis: number, i: number) =>
  b.op('Slice', [x, b.int64([i]), b.int64([i + 1]), b.int64([axis])]);

/** ONNX has no CumProd: a running product of the slices, concatenated. */
const cumprod: Lowering<'cumprod'> = (b, { inputs: [x], params: { axis } }) => {
  const n = x.shape[axis];
  if (n <= 1) return [b.op('Identity', [x.name])];
  const parts = [sliceAt(b, x.name, axis, 0)];
  for (let i = 1; i < n; i++) parts.push(b.op('Mul', [parts[i - 1], sliceAt(b, x.name, axis, i)]));
  return [b.op('Concat', parts, { axis })];
};

/** Conv's pads are [top, left, bottom, right]; tsgrad's [top, bottom, left, right]. */
const onnxPads = (p: Conv2dParams['padding']) => [p[0], p[2], p[1], p[3]];

const conv2d: Lowering<'conv2d'> = (b, { inputs: [x, w], params }) => [
  b.op('Conv', [x.name, w.name], {
    pads: onnxPads(params.padding),
    strides: params.stride,
    dilations: params.dilation,
    group: params.groups,
  }),
];

/**
 * conv2d's transpose to `outSize`: ConvTranspose with conv2d's weight layout (its input
 * channels are conv2d's output channels). ONNX fixes the output size by the end pads; where
 * outSize is larger than what the input reaches, the end is padded with zeros.
 */
function convTranspose(
  b: GraphBuilder,
  dy: Operand,
  w: string,
  kernel: readonly number[],
  params: ConvTranspose2dParams,
): string {
  const begin = [params.padding[0], params.padding[2]];
  const full = [0, 1].map(
    (a) => params.stride[a] * (dy.shape[2 + a] - 1) + params.dilation[a] * (kernel[a] - 1) + 1,
  );
  const end = [0, 1].map((a) => full[a] - begin[a] - params.outSize[a]);
  const y = b.op('ConvTranspose', [dy.name, w], {
    pads: [begin[0], begin[1], Math.max(0, end[0]), Math.max(0, end[1])],
    strides: params.stride,
    dilations: params.dilation,
    group: params.groups,
  });
  if (end.every((e) => e >= 0)) return y;
  const grow = end.map((e) => Math.max(0, -e));
  return b.op('Pad', [y, b.int64([0, 0, 0, 0, 0, 0, grow[0], grow[1]])]);
}

/** conv2d's weight gradient is a convolution of the input by the output gradient, per group. */
const conv2dWeightGrad: Lowering<'conv2dWeightGrad'> = (b, { inputs: [x, dy], params }) => {
  const g = params.groups;
  const cg = x.shape[1] / g;
  const og = dy.shape[1] / g;
  const swap = { perm: [1, 0, 2, 3] };
  const channels = (v: string, size: number, j: number) =>
    g === 1 ? v : b.op('Slice', [v, b.int64([j * size]), b.int64([(j + 1) * size]), b.int64([1])]);
  const parts = Array.from({ length: g }, (_, j) => {
    const xt = b.op('Transpose', [channels(x.name, cg, j)], swap);
    const dyt = b.op('Transpose', [channels(dy.name, og, j)], swap);
    const full = b.op('Conv', [xt, dyt], {
      pads: onnxPads(params.padding),
      strides: params.dilation,
      dilations: params.stride,
    });
    const [kh, kw] = params.kernelSize;
    const cut = b.op('Slice', [full, b.int64([0, 0]), b.int64([kh, kw]), b.int64([2, 3])]);
    return b.op('Transpose', [cut], swap);
  });
  return [g === 1 ? parts[0] : b.op('Concat', parts, { axis: 0 })];
};

/** The number of taps of each output position along one axis that count for the average. */
function tapCounts(
  size: number,
  outSize: number,
  k: number,
  s: number,
  p: number,
  d: number,
  includePad: boolean,
): number[] {
  const [lo, hi] = includePad ? [-p, size + p] : [0, size];
  return Array.from({ length: outSize }, (_, o) => {
    let n = 0;
    for (let i = 0; i < k; i++) {
      const at = o * s - p + i * d;
      if (at >= lo && at < hi) n++;
    }
    return n;
  });
}

/** The divisors of an average pool, an [Ho, Wo] constant. */
function poolCounts(
  b: GraphBuilder,
  dtype: DType,
  inputSize: readonly number[],
  outSize: readonly number[],
  p: AvgPool2dParams,
): string {
  const [rows, cols] = [0, 1].map((a) =>
    tapCounts(
      inputSize[a],
      outSize[a],
      p.kernelSize[a],
      p.stride[a],
      p.padding[a],
      p.dilation[a],
      p.countIncludePad,
    ),
  );
  const data = Float64Array.from(
    { length: rows.length * cols.length },
    (_, i) => rows[Math.floor(i / cols.length)] * cols[i % cols.length],
  );
  return b.constant(dtype, outSize, dtype === 'float32' ? Float32Array.from(data) : data);
}

/** Depthwise all-ones kernels `[C, 1, kh, kw]`: a sum over each pooling window. */
function onesKernel(b: GraphBuilder, dtype: DType, channels: number, kernel: readonly number[]): string {
  const n = channels * kernel[0] * kernel[1];
  const data = dtype === 'float32' ? new Float32Array(n).fill(1) : new Float64Array(n).fill(1);
  return b.constant(dtype, [channels, 1, kernel[0], kernel[1]], data);
}

/**
 * Average pooling as a window sum (a depthwise convolution with ones) divided by constant
 * counts: exact for every padding, dilation and ceil mode (AveragePool has no dilation
 * before opset 19, and runtimes disagree on ceil-mode windows).
 */
const avgPool2d: Lowering<'avgPool2d'> = (b, { inputs: [x], outputs: [out], params }) => {
  const outSize = out.shape.slice(2);
  const extra = [0, 1].map((a) => {
    const reach = (outSize[a] - 1) * params.stride[a] + params.dilation[a] * (params.kernelSize[a] - 1) + 1;
    return Math.max(0, reach - (x.shape[2 + a] + 2 * params.padding[a]));
  });
  const [ph, pw] = params.padding;
  const padded =
    ph + pw + extra[0] + extra[1] === 0
      ? x.name
      : b.op('Pad', [x.name, b.int64([0, 0, ph, pw, 0, 0, ph + extra[0], pw + extra[1]])]);
  const sums = b.op('Conv', [padded, onesKernel(b, x.dtype, x.shape[1], params.kernelSize)], {
    strides: params.stride,
    dilations: params.dilation,
    group: x.shape[1],
  });
  return [b.op('Div', [sums, poolCounts(b, x.dtype, x.shape.slice(2), outSize, params)])];
};

const avgPool2dGrad: Lowering<'avgPool2dGrad'> = (b, { inputs: [dy], params }) => {
  const scaled = b.op('Div', [dy.name, poolCounts(b, dy.dtype, params.inputSize, dy.shape.slice(2), params)]);
  const channels = dy.shape[1];
  const [ph, pw] = params.padding;
  const transposed = convTranspose(
    b,
    { ...dy, name: scaled },
    onesKernel(b, dy.dtype, channels, params.kernelSize),
    params.kernelSize,
    {
      stride: params.stride,
      padding: [ph, ph, pw, pw],
      dilation: params.dilation,
      groups: channels,
      outSize: params.inputSize,
    },
  );
  return [transposed];
};

const maxPool2d: Lowering<'maxPool2d'> = (b, { inputs: [x], outputs: [out], params }) => {
  const [ph, pw] = params.padding;
  let [values, indices] = b.node(
    'MaxPool',
    [x.name],
    {
      kernel_shape: params.kernelSize,
      strides: params.stride,
      pads: [ph, pw, ph, pw],
      dilations: params.dilation,
      ceil_mode: params.ceilMode ? 1 : 0,
    },
    2,
  );
  if (params.ceilMode) {
    // ONNX's ceil mode may add a window that starts in the end padding; tsgrad's (PyTorch's) does not.
    const cut = (v: string) =>
      b.op('Slice', [v, b.int64([0, 0]), b.int64(out.shape.slice(2)), b.int64([2, 3])]);
    [values, indices] = [cut(values), cut(indices)];
  }
  // ONNX indexes the whole tensor; tsgrad the plane.
  const plane = b.op('Mod', [indices, b.int64([x.shape[2] * x.shape[3]], [])]);
  return [values, b.op('Cast', [plane], { to: onnxType('int32') })];
};

export const LOWERINGS: LoweringTable = {
  ...UNARY,
  ...BINARY,
  sum: reduce('ReduceSum'),
  prod: reduce('ReduceProd'),
  max: reduce('ReduceMax'),
  min: reduce('ReduceMin'),
  where: (b, call) => {
    const [c, x, y] = names(call);
    if (call.inputs[1].dtype !== 'bool') return [b.op('Where', [c, x, y])];
    // onnxruntime has no boolean Where: (c ∧ x) ∨ (¬c ∧ y).
    return [b.op('Or', [b.op('And', [c, x]), b.op('And', [b.op('Not', [c]), y])])];
  },
  cast: (b, { inputs: [x], outputs: [out] }) => [b.op('Cast', [x.name], { to: onnxType(out.dtype) })],
  copy: (b, { inputs: [x] }) => [b.op('Identity', [x.name])],
  argmax: argReduce('ArgMax'),
  argmin: argReduce('ArgMin'),
  cumsum: (b, { inputs: [x], params }) => [b.op('CumSum', [x.name, b.int64([params.axis], [])])],
  cumprod,
  pad: (b, { inputs: [x], params }) => [
    b.op('Pad', [
      x.name,
      b.int64([...params.widths.map((w) => w[0]), ...params.widths.map((w) => w[1])]),
      b.scalar(x.dtype, params.value),
    ]),
  ],
  concat: (b, call) => [b.op('Concat', names(call), { axis: call.params.axis })],
  gather: (b, call) => [b.op('GatherElements', names(call), { axis: call.params.axis })],
  indexSelect: (b, call) => [b.op('Gather', names(call), { axis: call.params.axis })],
  scatterAdd: (b, { inputs: [base, index, src], params }) => {
    const same = index.shape.every((d, i) => d === src.shape[i]);
    const updates = same
      ? src.name
      : b.op('Slice', [
          src.name,
          b.int64(index.shape.map(() => 0)),
          b.int64(index.shape),
          b.int64([...index.shape.keys()]),
        ]);
    return [
      b.op('ScatterElements', [base.name, index.name, updates], { axis: params.axis, reduction: 'add' }),
    ];
  },
  sort: (b, { inputs: [x], params }) => {
    // TopK puts the lower index first among equal values: a stable sort.
    const k = b.int64([x.shape[params.axis]]);
    const [values, indices] = b.node(
      'TopK',
      [x.name, k],
      { axis: params.axis, largest: params.descending ? 1 : 0, sorted: 1 },
      2,
    );
    return [values, b.op('Cast', [indices], { to: onnxType('int32') })];
  },
  matmul: (b, call) => [b.op('MatMul', names(call))],
  conv2d,
  convTranspose2d: (b, { inputs: [dy, w], params }) => [
    convTranspose(b, dy, w.name, w.shape.slice(2), params),
  ],
  conv2dWeightGrad,
  maxPool2d,
  avgPool2d,
  avgPool2dGrad,
};
