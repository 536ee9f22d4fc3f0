import type { Tensor } from '@tsgrad/autograd';
import * as A from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';
import { dtypeOfOnnx } from '../proto.js';
import type { NodeCall } from './node.js';
import { gru, lstm, rnn } from './rnn.js';

// ONNX operators as autograd ops, so an imported model is differentiable (grad, jit, vmap…).
// Each returns the node's outputs in order.

export type Operator = (n: NodeCall) => readonly (Tensor | undefined)[];

const normAxis = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);

const unary =
  (f: (x: Tensor) => Tensor): Operator =>
  (n) => [f(n.input(0))];

const binary =
  (f: (a: Tensor, b: Tensor) => Tensor): Operator =>
  (n) => [f(n.input(0), n.input(1))];

/** Max, Min, Sum, Mean: any number of broadcast inputs. */
const variadic =
  (f: (a: Tensor, b: Tensor) => Tensor, finish = (y: Tensor, _count: number) => y): Operator =>
  (n) => {
    let y = n.input(0);
    for (let i = 1; i < n.inputCount; i++) y = f(y, n.input(i));
    return [finish(y, n.inputCount)];
  };

/** The axes of a reduction: an input from opset 13 (ReduceSum) or 18 (the others), else the attribute. */
function reduceAxes(n: NodeCall, rank: number): number[] | undefined {
  const given = n.optional(1) !== undefined ? n.ints(1) : n.intList('axes', []);
  if (given.length === 0) return n.int('noop_with_empty_axes', 0) === 1 ? [] : undefined;
  return given.map((a) => normAxis(a, rank));
}

const reduction =
  (f: (x: Tensor, options: A.ReduceOptions) => Tensor): Operator =>
  (n) => {
    const x = n.input(0);
    const axes = reduceAxes(n, x.ndim);
    if (axes !== undefined && axes.length === 0) return [x];
    return [f(x, { axis: axes ?? [...x.shape.keys()], keepdims: n.int('keepdims', 1) === 1 })];
  };

const argReduction =
  (f: typeof A.argmax): Operator =>
  (n) => {
    n.refuse('select_last_index', (a) => Number(a.i ?? 0) === 0);
    const x = n.input(0);
    return [f(x, { axis: normAxis(n.int('axis', 0), x.ndim), keepdims: n.int('keepdims', 1) === 1 })];
  };

/** C's fmod: the result has the dividend's sign. */
function fmod(a: Tensor, b: Tensor): Tensor {
  const q = A.div(a, b);
  const truncated = A.where(A.lt(q, 0), A.ceil(q), A.floor(q));
  return A.sub(a, A.mul(truncated, b));
}

function gemm(n: NodeCall): Tensor[] {
  const a = n.int('transA', 0) ? A.transpose(n.input(0)) : n.input(0);
  const b = n.int('transB', 0) ? A.transpose(n.input(1)) : n.input(1);
  let y = A.matmul(a, b);
  const alpha = n.float('alpha', 1);
  if (alpha !== 1) y = A.mul(y, alpha);
  const c = n.optional(2);
  if (c !== undefined) {
    const beta = n.float('beta', 1);
    y = A.add(y, beta === 1 ? c : A.mul(c, beta));
  }
  return [y];
}

function reshape(n: NodeCall): Tensor[] {
  const x = n.input(0);
  const allowZero = n.int('allowzero', 0) === 1;
  const shape = n.ints(1).map((d, i) => (d === 0 && !allowZero ? x.shape[i] : d));
  return [A.reshape(x, shape)];
}

function gather(n: NodeCall): Tensor[] {
  const x = n.input(0);
  const axis = normAxis(n.int('axis', 0), x.ndim);
  let index = n.input(1);
  if (index.dtype !== 'int32') index = A.cast(index, 'int32');
  index = A.where(A.lt(index, 0), A.add(index, x.shape[axis]), index);
  const picked = A.indexSelect(x, axis, A.reshape(index, [-1]));
  return [A.reshape(picked, [...x.shape.slice(0, axis), ...index.shape, ...x.shape.slice(axis + 1)])];
}

function slice(n: NodeCall): Tensor[] {
  const x = n.input(0);
  const starts = n.ints(1);
  const ends = n.ints(2);
  const axes = n.optional(3) !== undefined ? n.ints(3) : starts.map((_, i) => i);
  const steps = n.optional(4) !== undefined ? n.ints(4) : starts.map(() => 1);
  const specs: T.SliceSpec[] = x.shape.map(() => null);
  axes.forEach((a, i) => {
    const axis = normAxis(a, x.ndim);
    const size = x.shape[axis];
    // Out-of-range starts and ends clamp as in NumPy; a negative step's "before the start" is -size-1.
    const stop = steps[i] < 0 && ends[i] < -size ? undefined : ends[i];
    specs[axis] = { start: starts[i], stop, step: steps[i] };
  });
  return [A.slice(x, specs)];
}

function unsqueeze(n: NodeCall): Tensor[] {
  let x = n.input(0);
  const given = n.optional(1) !== undefined ? n.ints(1) : n.intList('axes', []);
  const rank = x.ndim + given.length;
  for (const axis of given.map((a) => normAxis(a, rank)).sort((a, b) => a - b)) x = A.unsqueeze(x, axis);
  return [x];
}

function squeeze(n: NodeCall): Tensor[] {
  const x = n.input(0);
  const given = n.optional(1) !== undefined ? n.ints(1) : n.intList('axes', []);
  return [
    given.length === 0
      ? A.squeeze(x)
      : A.squeeze(
          x,
          given.map((a) => normAxis(a, x.ndim)),
        ),
  ];
}

function flatten(n: NodeCall): Tensor[] {
  const x = n.input(0);
  const axis = normAxis(n.int('axis', 1), x.ndim);
  const outer = x.shape.slice(0, axis).reduce((p, d) => p * d, 1);
  return [A.reshape(x, [outer, -1])];
}

function expand(n: NodeCall): Tensor[] {
  const x = n.input(0);
  return [A.broadcastTo(x, T.broadcastShapes('Expand', x.shape, n.ints(1)))];
}

function split(n: NodeCall): Tensor[] {
  const x = n.input(0);
  const axis = normAxis(n.int('axis', 0), x.ndim);
  const count = (n.node.output ?? []).length;
  const sizes =
    n.optional(1) !== undefined
      ? n.ints(1)
      : n.has('split')
        ? n.intList('split', [])
        : Array.from({ length: count }, (_, i) => {
            const chunk = Math.ceil(x.shape[axis] / count);
            return Math.max(0, Math.min(chunk, x.shape[axis] - i * chunk));
          });
  return A.split(x, sizes, axis);
}

function pad(n: NodeCall): Tensor[] {
  const x = n.input(0);
  const mode = n.string('mode', 'constant');
  if (mode !== 'constant' && mode !== 'reflect') throw n.unsupported(`mode ${mode}`);
  const pads = n.optional(1) !== undefined ? n.ints(1) : n.intList('pads', []);
  const axes = n.optional(3) !== undefined ? n.ints(3).map((a) => normAxis(a, x.ndim)) : [...x.shape.keys()];
  if (pads.some((p) => p < 0)) throw n.unsupported('negative padding');
  const widths = x.shape.map((): [number, number] => [0, 0]);
  axes.forEach((axis, i) => {
    widths[axis] = [pads[i], pads[i + axes.length]];
  });
  const value = n.optional(2) !== undefined ? n.number(2) : 0;
  return [A.pad(x, widths, { mode, value })];
}

/** ONNX pads [begin..., end...] as symmetric tsgrad padding, or explicit padding first. */
function symmetric(n: NodeCall, x: Tensor, spatial: number, fill: number): [Tensor, number[]] {
  n.refuse('auto_pad', (a) => ['NOTSET', ''].includes(new TextDecoder().decode(a.s ?? new Uint8Array())));
  const pads = n.intList('pads', new Array(2 * spatial).fill(0));
  const begin = pads.slice(0, spatial);
  const end = pads.slice(spatial);
  if (begin.every((p, i) => p === end[i])) return [x, begin];
  const widths = x.shape.map((_, d): [number, number] => (d < 2 ? [0, 0] : [begin[d - 2], end[d - 2]]));
  return [A.pad(x, widths, { value: fill }), begin.map(() => 0)];
}

/** A 1-D spatial op run as its 2-D form on [N, C, 1, L]. */
function as2d(x: Tensor, spatial: number): Tensor {
  return spatial === 1 ? A.unsqueeze(x, 2) : x;
}
const from2d = (y: Tensor, spatial: number) => (spatial === 1 ? A.squeeze(y, [2]) : y);
const pair = (values: readonly number[], spatial: number, fill: number): [number, number] =>
  spatial === 1 ? [fill, values[0]] : [values[0], values[1]];

function spatialRank(n: NodeCall, x: Tensor): number {
  const spatial = x.ndim - 2;
  if (spatial !== 1 && spatial !== 2) throw n.unsupported(`a ${spatial}-D ${n.node.opType}`);
  return spatial;
}

function conv(n: NodeCall): Tensor[] {
  const spatial = spatialRank(n, n.input(0));
  const [x, padding] = symmetric(n, n.input(0), spatial, 0);
  const w = n.input(1);
  const bias = n.optional(2);
  const y = A.conv2d(as2d(x, spatial), as2d(w, spatial), {
    stride: pair(n.intList('strides', [1, 1]), spatial, 1),
    padding: pair(padding, spatial, 0),
    dilation: pair(n.intList('dilations', [1, 1]), spatial, 1),
    groups: n.int('group', 1),
    bias,
  });
  return [from2d(y, spatial)];
}

/** The full transposed convolution, then ONNX's pads trimmed (and output_padding added) at each end. */
function convTranspose(n: NodeCall): Tensor[] {
  const x = n.input(0);
  const spatial = spatialRank(n, x);
  if (n.has('output_shape')) throw n.unsupported('attribute output_shape');
  n.refuse('auto_pad', (a) => ['NOTSET', ''].includes(new TextDecoder().decode(a.s ?? new Uint8Array())));
  const pads = n.intList('pads', new Array(2 * spatial).fill(0));
  const extra = n.intList('output_padding', new Array(spatial).fill(0));
  let y = A.convTranspose2d(as2d(x, spatial), as2d(n.input(1), spatial), {
    stride: pair(n.intList('strides', [1, 1]), spatial, 1),
    dilation: pair(n.intList('dilations', [1, 1]), spatial, 1),
    groups: n.int('group', 1),
  });
  y = from2d(y, spatial);
  if (extra.some((e) => e > 0))
    y = A.pad(
      y,
      y.shape.map((_, d): [number, number] => [0, d < 2 ? 0 : extra[d - 2]]),
    );
  const specs: T.SliceSpec[] = y.shape.map((size, d) =>
    d < 2 ? null : { start: pads[d - 2], stop: size - pads[spatial + d - 2] },
  );
  y = A.slice(y, specs);
  const bias = n.optional(2);
  if (bias !== undefined) y = A.add(y, A.reshape(bias, [-1, ...new Array(spatial).fill(1)]));
  return [y];
}

function maxPool(n: NodeCall): Tensor[] {
  const spatial = spatialRank(n, n.input(0));
  n.refuse('storage_order', (a) => Number(a.i ?? 0) === 0);
  const [x, padding] = symmetric(n, n.input(0), spatial, Number.NEGATIVE_INFINITY);
  const kernel = n.intList('kernel_shape', []);
  const { values, indices } = A.maxPool2dWithIndices(as2d(x, spatial), {
    kernelSize: pair(kernel, spatial, 1),
    stride: pair(
      n.intList(
        'strides',
        kernel.map(() => 1),
      ),
      spatial,
      1,
    ),
    padding: pair(padding, spatial, 0),
    dilation: pair(
      n.intList(
        'dilations',
        kernel.map(() => 1),
      ),
      spatial,
      1,
    ),
    ceilMode: n.int('ceil_mode', 0) === 1,
  });
  if (!(n.node.output ?? [])[1]) return [from2d(values, spatial)];
  if (x !== n.input(0)) throw n.unsupported('the Indices output with asymmetric pads');
  // tsgrad indexes each plane; ONNX the whole tensor.
  const [batch, channels] = x.shape;
  const plane = x.shape.slice(2).reduce((p, d) => p * d, 1);
  const planeStart = A.reshape(
    A.tensor(
      Array.from({ length: batch * channels }, (_, i) => i * plane),
      { dtype: 'int32' },
    ),
    [batch, channels, 1, 1],
  );
  return [from2d(values, spatial), from2d(A.add(indices, planeStart), spatial)];
}

function averagePool(n: NodeCall): Tensor[] {
  const x = n.input(0);
  const spatial = spatialRank(n, x);
  const kernel = n.intList('kernel_shape', []);
  const pads = n.intList('pads', new Array(2 * spatial).fill(0));
  if (pads.slice(0, spatial).some((p, i) => p !== pads[spatial + i])) throw n.unsupported('asymmetric pads');
  if (
    n
      .intList(
        'dilations',
        kernel.map(() => 1),
      )
      .some((d) => d !== 1)
  )
    throw n.unsupported('dilations');
  const y = A.avgPool2d(as2d(x, spatial), {
    kernelSize: pair(kernel, spatial, 1),
    stride: pair(
      n.intList(
        'strides',
        kernel.map(() => 1),
      ),
      spatial,
      1,
    ),
    padding: pair(pads, spatial, 0),
    ceilMode: n.int('ceil_mode', 0) === 1,
    countIncludePad: n.int('count_include_pad', 0) === 1,
  });
  return [from2d(y, spatial)];
}

const globalPool =
  (f: (x: Tensor, options: A.ReduceOptions) => Tensor): Operator =>
  (n) => {
    const x = n.input(0);
    return [f(x, { axis: [...x.shape.keys()].slice(2), keepdims: true })];
  };

function batchNormalization(n: NodeCall): Tensor[] {
  if (n.int('training_mode', 0) !== 0) throw n.unsupported('training_mode 1');
  const y = A.batchNorm(n.input(0), {
    weight: n.input(1),
    bias: n.input(2),
    runningMean: n.input(3),
    runningVar: n.input(4),
    eps: n.float('epsilon', 1e-5),
  });
  return [y];
}

function layerNormalization(n: NodeCall): Tensor[] {
  if ((n.node.output ?? []).slice(1).some(Boolean)) throw n.unsupported('the Mean and InvStdDev outputs');
  const x = n.input(0);
  const axis = normAxis(n.int('axis', -1), x.ndim);
  const y = A.layerNorm(x, x.shape.slice(axis), {
    weight: n.input(1),
    bias: n.optional(2),
    eps: n.float('epsilon', 1e-5),
  });
  return [y];
}

function cast(n: NodeCall): Tensor[] {
  return [A.cast(n.input(0), dtypeOfOnnx('importOnnx', n.int('to', 1)))];
}

function constantOfShape(n: NodeCall): Tensor[] {
  const value = n.tensor('value');
  const shape = n.ints(0);
  const v = value === undefined ? 0 : Number((value.value.toTypedArray() as ArrayLike<number>)[0]);
  return [A.full(shape, v, { dtype: value?.dtype ?? 'float32' })];
}

function constant(n: NodeCall): Tensor[] {
  const t = n.tensor('value');
  if (t !== undefined) return [t];
  if (n.has('value_float')) return [A.tensor(n.float('value_float', 0))];
  if (n.has('value_int')) return [A.tensor(n.int('value_int', 0), { dtype: 'int32' })];
  if (n.has('value_ints')) return [A.tensor(n.intList('value_ints', []), { dtype: 'int32' })];
  const floats = n.floatList('value_floats');
  if (floats !== undefined) return [A.tensor(floats)];
  throw n.unsupported('this kind of value');
}

function range(n: NodeCall): Tensor[] {
  const [start, limit, delta] = [0, 1, 2].map((i) => n.number(i));
  const count = Math.max(0, Math.ceil((limit - start) / delta));
  const values = Array.from({ length: count }, (_, i) => start + i * delta);
  return [A.tensor(values, { dtype: n.input(0).dtype })];
}

function shape(n: NodeCall): Tensor[] {
  const dims = n.input(0).shape;
  const start = normAxis(Math.max(-dims.length, n.int('start', 0)), dims.length);
  const end = n.has('end')
    ? normAxis(Math.max(-dims.length, n.int('end', dims.length)), dims.length)
    : dims.length;
  return [A.tensor(dims.slice(start, end), { dtype: 'int32' })];
}

function topK(n: NodeCall): Tensor[] {
  const x = n.input(0);
  const { values, indices } = A.topk(x, n.number(1), {
    axis: normAxis(n.int('axis', -1), x.ndim),
    largest: n.int('largest', 1) === 1,
  });
  return [values, indices];
}

function dropout(n: NodeCall): (Tensor | undefined)[] {
  const training = n.optional(2);
  if (training !== undefined && n.number(2) !== 0) throw n.unsupported('training mode');
  const x = n.input(0);
  return [x, A.full(x.shape, 1, { dtype: 'bool' })];
}

function clip(n: NodeCall): Tensor[] {
  const min = n.optional(1) !== undefined ? n.number(1) : undefined;
  const max = n.optional(2) !== undefined ? n.number(2) : undefined;
  return [A.clamp(n.input(0), { min, max })];
}

function selu(n: NodeCall): Tensor[] {
  const x = n.input(0);
  const alpha = n.float('alpha', 1.6732632423543772);
  const gamma = n.float('gamma', 1.0507009873554805);
  return [A.mul(A.where(A.gt(x, 0), x, A.mul(A.expm1(x), alpha)), gamma)];
}

function softmaxLike(f: (x: Tensor, axis: number) => Tensor): Operator {
  return (n) => [f(n.input(0), n.int('axis', -1))];
}

export const OPERATORS: Readonly<Record<string, Operator>> = {
  Identity: unary((x) => x),
  Neg: unary(A.neg),
  Abs: unary(A.abs),
  Sign: unary(A.sign),
  Exp: unary(A.exp),
  Log: unary(A.log),
  Sin: unary(A.sin),
  Cos: unary(A.cos),
  Tanh: unary(A.tanh),
  Sqrt: unary(A.sqrt),
  Reciprocal: unary(A.reciprocal),
  Floor: unary(A.floor),
  Ceil: unary(A.ceil),
  Round: unary(A.round),
  Erf: unary(A.erf),
  Not: unary(A.logicalNot),
  Relu: unary(A.relu),
  Sigmoid: unary(A.sigmoid),
  Softplus: unary((x) => A.softplus(x)),
  LeakyRelu: (n) => [A.leakyRelu(n.input(0), { negativeSlope: n.float('alpha', 0.01) })],
  Elu: (n) => [A.elu(n.input(0), { alpha: n.float('alpha', 1) })],
  Selu: selu,
  HardSigmoid: (n) => [
    A.clamp(A.add(A.mul(n.input(0), n.float('alpha', 0.2)), n.float('beta', 0.5)), { min: 0, max: 1 }),
  ],
  Gelu: (n) => [
    A.gelu(n.input(0), { approximate: n.string('approximate', 'none') === 'tanh' ? 'tanh' : 'none' }),
  ],
  Clip: clip,
  Dropout: dropout,
  Add: binary(A.add),
  Sub: binary(A.sub),
  Mul: binary(A.mul),
  Div: binary(A.div),
  Pow: binary(A.pow),
  Mod: (n) => [n.int('fmod', 0) === 1 ? fmod(n.input(0), n.input(1)) : A.mod(n.input(0), n.input(1))],
  Max: variadic(A.maximum),
  Min: variadic(A.minimum),
  Sum: variadic(A.add),
  Mean: variadic(A.add, (y, count) => A.div(y, count)),
  Equal: binary(A.eq),
  Less: binary(A.lt),
  LessOrEqual: binary(A.le),
  Greater: binary(A.gt),
  GreaterOrEqual: binary(A.ge),
  And: binary(A.logicalAnd),
  Or: binary(A.logicalOr),
  Xor: binary(A.ne),
  Where: (n) => [A.where(n.input(0), n.input(1), n.input(2))],
  MatMul: binary(A.matmul),
  Gemm: gemm,
  ReduceSum: reduction(A.sum),
  ReduceMean: reduction(A.mean),
  ReduceMax: reduction(A.max),
  ReduceMin: reduction(A.min),
  ReduceProd: reduction(A.prod),
  ArgMax: argReduction(A.argmax),
  ArgMin: argReduction(A.argmin),
  Softmax: softmaxLike(A.softmax),
  LogSoftmax: softmaxLike(A.logSoftmax),
  CumSum: (n) => {
    if (n.int('exclusive', 0) !== 0) throw n.unsupported('exclusive 1');
    const x = n.input(0);
    return [A.cumsum(x, normAxis(n.number(1), x.ndim), { reverse: n.int('reverse', 0) === 1 })];
  },
  TopK: topK,
  Reshape: reshape,
  Transpose: (n) => {
    const x = n.input(0);
    return [A.permute(x, n.intList('perm', [...x.shape.keys()].reverse()))];
  },
  Concat: (n) => {
    const xs = Array.from({ length: n.inputCount }, (_, i) => n.input(i));
    return [A.concat(xs, normAxis(n.int('axis', 0), xs[0].ndim))];
  },
  Split: split,
  Slice: slice,
  Gather: gather,
  GatherElements: (n) => [A.gather(n.input(0), normAxis(n.int('axis', 0), n.input(0).ndim), n.input(1))],
  ScatterElements: (n) => {
    if (n.string('reduction', 'none') !== 'add')
      throw n.unsupported(`reduction ${n.string('reduction', 'none')}`);
    return [A.scatterAdd(n.input(0), normAxis(n.int('axis', 0), n.input(0).ndim), n.input(1), n.input(2))];
  },
  Squeeze: squeeze,
  Unsqueeze: unsqueeze,
  Flatten: flatten,
  Expand: expand,
  Tile: (n) => [A.tile(n.input(0), n.ints(1))],
  Pad: pad,
  Shape: shape,
  Constant: constant,
  ConstantOfShape: constantOfShape,
  Range: range,
  Cast: cast,
  Conv: conv,
  ConvTranspose: convTranspose,
  MaxPool: maxPool,
  AveragePool: averagePool,
  GlobalAveragePool: globalPool(A.mean),
  GlobalMaxPool: globalPool(A.max),
  BatchNormalization: batchNormalization,
  LayerNormalization: layerNormalization,
  LSTM: lstm,
  GRU: gru,
  RNN: rnn,
};
