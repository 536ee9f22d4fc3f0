import * as T from '@tsgrad/tensor';
import { checkOptions } from '@tsgrad/tensor';
import { checkList, checkTensor } from '../check.js';
import { inLibrary } from '../lifetime.js';
import { defineOp } from '../op.js';
import type { OpSample } from '../spec.js';
import type { Tensor } from '../tensor.js';
import { constant } from './convert.js';
import { abs, cast, div, exp, mul, sqrt, sub, where } from './elementwise.js';
import { broadcastTo, permute, reshape } from './movement.js';

/** Options of the reductions (`sum`, `mean`, `max`…). */
export interface ReduceOptions {
  /** Axes to reduce; all of them when omitted. */
  readonly axis?: number | readonly number[];
  /** Keep each reduced axis with size 1, so the result broadcasts against the input (default false). */
  readonly keepdims?: boolean;
}

type ReduceParams = { axes: readonly number[]; keepdims: boolean };

/** The reduced shape with the reduced axes kept as size 1, for broadcasting gradients back. */
export function keptShape(shape: readonly number[], axes: readonly number[]): number[] {
  checkList('keptShape', shape, 'shape');
  checkList('keptShape', axes, 'axes');
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

/** The reduced shape without the reduced axes (keepdims false). */
function droppedShape(shape: readonly number[], axes: readonly number[]): number[] {
  return shape.filter((_, i) => !axes.includes(i));
}

/** Sorted, checked axes; a 0-d tensor accepts axis 0 (like PyTorch), which reduces nothing. */
function resolveAxes(op: string, axis: ReduceOptions['axis'], ndim: number): number[] {
  return T.normalizeAxes(op, axis, ndim).filter((a) => a < ndim);
}

function reduceParams(op: string, x: Tensor, options: ReduceOptions): ReduceParams {
  checkTensor(op, x);
  checkOptions(op, options);
  return { axes: resolveAxes(op, options.axis, x.ndim), keepdims: options.keepdims ?? false };
}

/** A reduced tensor (keepdims or not) reshaped to broadcast against the input. */
function unreduce(y: Tensor, inputShape: readonly number[], axes: readonly number[]): Tensor {
  return reshape(y, keptShape(inputShape, axes));
}

function floating(x: Tensor): Tensor {
  return T.isFloat(x.dtype) ? x : cast(x, 'float32');
}

// ---- float64 references for the specs --------------------------------------------------------

/** Applies `f` to each group of values reduced together (in row-major order within a group). */
function groupReference(
  x: Float64Array,
  shape: readonly number[],
  axes: readonly number[],
  f: (values: number[]) => number,
): Float64Array {
  const outShape = keptShape(shape, axes);
  const groups: number[][] = Array.from({ length: outShape.reduce((a, b) => a * b, 1) }, () => []);
  for (let i = 0; i < x.length; i++) {
    let rest = i;
    let at = 0;
    let stride = 1;
    for (let d = shape.length - 1; d >= 0; d--) {
      const coord = rest % shape[d];
      rest = Math.floor(rest / shape[d]);
      at += (outShape[d] === 1 ? 0 : coord) * stride;
      stride *= outShape[d];
    }
    groups[at].push(x[i]);
  }
  return Float64Array.from(groups, f);
}

const total = (values: number[]) => values.reduce((a, b) => a + b, 0);
const product = (values: number[]) => values.reduce((a, b) => a * b, 1);
const firstIndexOf = (better: (a: number, b: number) => boolean) => (values: number[]) =>
  values.reduce((best, v, i) => (better(v, values[best]) ? i : best), 0);

/** Distinct values at least 0.25 apart, so max/min/argmax samples have no ties. */
function distinctValues(shape: T.Shape, random: () => number): number[] {
  const n = shape.reduce((a, b) => a * b, 1);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order.map((k) => (k - n / 2) * 0.3 + random() * 0.05);
}

const reduceSamples: readonly OpSample<ReduceParams>[] = [
  { shapes: [[5]], params: { axes: [0], keepdims: false } },
  { shapes: [[2, 3]], params: { axes: [1], keepdims: true } },
  { shapes: [[2, 3, 4]], params: { axes: [0, 2], keepdims: false } },
  { shapes: [[2, 1, 3]], params: { axes: [0, 1, 2], keepdims: false } },
  { shapes: [[3, 1]], params: { axes: [1], keepdims: true } },
  { shapes: [[]], params: { axes: [], keepdims: false } },
];

const badAxis = [{ shapes: [[2, 3]], params: { axes: [2], keepdims: false }, throws: T.IndexError }];

// ---- sum and mean --------------------------------------------------------------------------

const sumOp = defineOp<ReduceParams>({
  name: 'sum',
  forward: ([x], { axes, keepdims }) => T.sum(x, { axis: axes, keepdims }),
  vjp: ({ inputs: [x], params }, [g]) => [broadcastTo(unreduce(g, x.shape, params.axes), x.shape)],
  jvp: ({ params }, [t]) => [sum(t, { axis: params.axes, keepdims: params.keepdims })],
  spec: {
    inputs: [{}],
    samples: reduceSamples,
    reference: ([x], [shape], { axes }) => [groupReference(x, shape, axes, total)],
    errors: badAxis,
  },
});

/** Sum over `axis` (all axes by default). */
export function sum(x: Tensor, options: ReduceOptions = {}): Tensor {
  checkTensor('sum', x);
  checkOptions('sum', options);
  const axes = T.normalizeAxes('sum', options.axis, x.ndim);
  return sumOp.apply([x], { axes, keepdims: options.keepdims ?? false })[0];
}

/** Arithmetic mean over `axis` (all axes by default). */
export function mean(x: Tensor, options: ReduceOptions = {}): Tensor {
  checkTensor('mean', x);
  checkOptions('mean', options);
  return inLibrary(() => {
    const axes = T.normalizeAxes('mean', options.axis, x.ndim);
    const count = axes.reduce((n, a) => n * x.shape[a], 1);
    return div(sum(x, options), count);
  });
}

// ---- prod ----------------------------------------------------------------------------------

/** Whether x may hold a zero (always, while traced: the zero-safe formula is exact everywhere). */
function hasZero(x: Tensor): boolean {
  return T.isTraced(x.peekValue()) || x.peekValue().toTypedArray().includes(0);
}

/** A bool constant [n, n]: `relation(row, column)`. */
function indexRelation(n: number, relation: (rows: T.NDArray, cols: T.NDArray) => T.NDArray): Tensor {
  const positions = T.arange(n);
  return constant(relation(T.reshape(positions, [n, 1]), T.reshape(positions, [1, n])));
}

/**
 * ∂prod/∂x_i = the product of the other elements of x_i's group, with x's shape. Without zeros
 * that is y / x_i. With a zero anywhere it is computed exactly, without division, as the
 * product over each group with x_i replaced by 1 (O(n²) per group of n). Both are exact
 * formulas of x near the point, so their derivatives (higher orders) are exact too.
 */
function productOfOthers(x: Tensor, y: Tensor, axes: readonly number[]): Tensor {
  if (!hasZero(x)) return div(unreduce(y, x.shape, axes), x);
  const kept = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const order = [...kept, ...axes];
  const n = axes.reduce((p, a) => p * x.shape[a], 1);
  const keptDims = kept.map((a) => x.shape[a]);
  const groups = reshape(permute(x, order), [...keptDims, 1, n]);
  const others = prod(where(indexRelation(n, T.eq), 1, groups), { axis: -1 });
  const permutedShape = order.map((a) => x.shape[a]);
  const inverse = order.map((_, i) => order.indexOf(i));
  return permute(reshape(others, permutedShape), inverse);
}

const prodOp = defineOp<ReduceParams>({
  name: 'prod',
  forward: ([x], { axes, keepdims }) => T.prod(x, { axis: axes, keepdims }),
  vjp: ({ inputs: [x], outputs: [y], params }, [g]) => [
    mul(unreduce(g, x.shape, params.axes), productOfOthers(x, y, params.axes)),
  ],
  jvp: ({ inputs: [x], outputs: [y], params: { axes, keepdims } }, [t]) => [
    sum(mul(t, productOfOthers(x, y, axes)), { axis: axes, keepdims }),
  ],
  save: { inputs: true, outputs: true },
  spec: {
    // Exact zeros (a quarter of the values) exercise the zero-safe gradient; prod is a
    // polynomial, so finite differences are accurate there too.
    inputs: [{ values: (shape, _, random) => withZeros(shape, random) }],
    samples: reduceSamples,
    reference: ([x], [shape], { axes }) => [groupReference(x, shape, axes, product)],
    errors: badAxis,
  },
});

/** Uniform in [-1.5, 1.5) with about a quarter of the values exactly 0. */
function withZeros(shape: T.Shape, random: () => number): number[] {
  return Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () =>
    random() < 0.25 ? 0 : 3 * random() - 1.5,
  );
}

/**
 * Product over `axis` (all axes by default). The gradient is exact also when the input has
 * zeros (the product of the other elements, not y / x), to every order.
 */
export function prod(x: Tensor, options: ReduceOptions = {}): Tensor {
  checkTensor('prod', x);
  checkOptions('prod', options);
  return prodOp.apply([x], reduceParams('prod', x, options))[0];
}

// ---- max / min -----------------------------------------------------------------------------

/** 1/k at each of the k elements of a group equal to its extremum y, 0 elsewhere (a constant). */
function tieWeights(x: Tensor, y: Tensor, axes: readonly number[]): Tensor {
  const hits = T.cast(T.eq(x.peekValue(), T.reshape(y.peekValue(), keptShape(x.shape, axes))), x.dtype);
  return constant(T.div(hits, T.sum(hits, { axis: axes, keepdims: true })));
}

function extremum(name: 'max' | 'min', kernel: typeof T.max, better: (a: number, b: number) => boolean) {
  const op = defineOp<ReduceParams>({
    name,
    forward: ([x], { axes, keepdims }) => kernel(x, { axis: axes, keepdims }),
    vjp: ({ inputs: [x], outputs: [y], params }, [g]) => [
      mul(unreduce(g, x.shape, params.axes), tieWeights(x, y, params.axes)),
    ],
    jvp: ({ inputs: [x], outputs: [y], params: { axes, keepdims } }, [t]) => [
      sum(mul(t, tieWeights(x, y, axes)), { axis: axes, keepdims }),
    ],
    save: { inputs: true, outputs: true },
    spec: {
      inputs: [{ values: (shape, _, random) => distinctValues(shape, random) }],
      samples: reduceSamples,
      reference: ([x], [shape], { axes }) => [
        groupReference(x, shape, axes, (v) => v[firstIndexOf(better)(v)]),
      ],
      errors: [
        ...badAxis,
        { shapes: [[0, 2]], params: { axes: [0], keepdims: false }, throws: T.ValueError },
      ],
    },
  });
  return (x: Tensor, options: ReduceOptions = {}): Tensor => op.apply([x], reduceParams(name, x, options))[0];
}

/**
 * Maximum over `axis` (all axes by default), like `torch.amax`. Where several elements tie
 * for the maximum, the gradient is split evenly among them. NaN propagates.
 */
export const max = extremum('max', T.max, (a, b) => a > b);
/** Minimum over `axis`, like `torch.amin`; ties split the gradient evenly. */
export const min = extremum('min', T.min, (a, b) => a < b);

// ---- argmax / argmin and max/min along an axis with indices ----------------------------------

/** Options of `argmax` and `argmin`. */
export interface ArgOptions {
  /** The axis to search; the flattened tensor when omitted. */
  readonly axis?: number;
  /** Keep the searched axis with size 1 (default false). */
  readonly keepdims?: boolean;
}

type ArgParams = { axis: number | null; keepdims: boolean };

function argReduction(
  name: 'argmax' | 'argmin',
  kernel: typeof T.argmax,
  better: (a: number, b: number) => boolean,
) {
  const op = defineOp<ArgParams>({
    name,
    forward: ([x], { axis, keepdims }) => kernel(x, { axis: axis ?? undefined, keepdims }),
    vjp: () => [null],
    save: { inputs: false },
    spec: {
      // Few distinct values, so ties occur: the first index wins.
      inputs: [
        {
          values: (shape, _, random) =>
            Array.from({ length: T.sizeOf(shape) }, () => Math.floor(random() * 3)),
        },
      ],
      samples: [
        { shapes: [[5]], params: { axis: 0, keepdims: false } },
        { shapes: [[2, 3]], params: { axis: 1, keepdims: true } },
        { shapes: [[2, 3, 4]], params: { axis: null, keepdims: false } },
        { shapes: [[3, 1]], params: { axis: -1, keepdims: false } },
        { shapes: [[]], params: { axis: null, keepdims: false } },
      ],
      order: 0,
      reference: ([x], [shape], { axis }) => {
        const axes = axis === null ? shape.map((_, i) => i) : [T.normalizeAxis(name, axis, shape.length)];
        return [groupReference(x, shape, axes, firstIndexOf(better))];
      },
      errors: [
        { shapes: [[2, 3]], params: { axis: 2, keepdims: false }, throws: T.IndexError },
        { shapes: [[2]], params: { axis: 0, keepdims: false }, dtypes: ['bool'], throws: T.DTypeError },
      ],
    },
  });
  return (x: Tensor, options: ArgOptions = {}): Tensor => {
    const { axis, keepdims } = checkOptions(name, options);
    return op.apply([x], { axis: axis ?? null, keepdims: keepdims ?? false })[0];
  };
}

/** Index of the first maximum (over the flattened tensor unless `axis` is given), as int32. */
export const argmax = argReduction('argmax', T.argmax, (a, b) => a > b);
/** Index of the first minimum, as int32. */
export const argmin = argReduction('argmin', T.argmin, (a, b) => a < b);

type AlongParams = { axis: number; keepdims: boolean };

/** 1 at the selected index of each line along `axis`, 0 elsewhere, as a constant of x's dtype. */
function selected(x: Tensor, indices: Tensor, axis: number): Tensor {
  if (x.ndim === 0) return constant(T.ones([], { dtype: x.dtype }));
  const a = T.normalizeAxis('selected', axis, x.ndim);
  const positions = T.reshape(
    T.arange(x.shape[a]),
    x.shape.map((d, i) => (i === a ? d : 1)),
  );
  return constant(T.cast(T.eq(positions, T.reshape(indices.peekValue(), keptShape(x.shape, [a]))), x.dtype));
}

function alongAxis(name: 'maxAlong' | 'minAlong', better: (a: number, b: number) => boolean) {
  const reduce = name === 'maxAlong' ? T.max : T.min;
  const search = name === 'maxAlong' ? T.argmax : T.argmin;
  const op = defineOp<AlongParams>({
    name,
    forward: ([x], { axis, keepdims }) => {
      T.normalizeAxis(name, axis, x.ndim);
      return [reduce(x, { axis, keepdims }), search(x, { axis, keepdims })];
    },
    vjp: ({ inputs: [x], outputs: [, indices], params }, [g]) => [
      mul(
        reshape(g, keptShape(x.shape, [T.normalizeAxis(name, params.axis, x.ndim)])),
        selected(x, indices, params.axis),
      ),
    ],
    jvp: ({ inputs: [x], outputs: [, indices], params: { axis, keepdims } }, [t]) => [
      // The int32 indices get no tangent.
      sum(mul(t, selected(x, indices, axis)), { axis, keepdims }),
    ],
    save: { inputs: true, outputs: true },
    spec: {
      inputs: [{ values: (shape, _, random) => distinctValues(shape, random) }],
      samples: [
        { shapes: [[5]], params: { axis: 0, keepdims: false } },
        { shapes: [[2, 3]], params: { axis: 1, keepdims: true } },
        { shapes: [[2, 3, 4]], params: { axis: -3, keepdims: false } },
        { shapes: [[3, 1]], params: { axis: 1, keepdims: false } },
      ],
      reference: ([x], [shape], { axis }) => {
        const axes = [T.normalizeAxis(name, axis, shape.length)];
        const pick = firstIndexOf(better);
        return [groupReference(x, shape, axes, (v) => v[pick(v)]), groupReference(x, shape, axes, pick)];
      },
      errors: [{ shapes: [[2, 3]], params: { axis: 2, keepdims: false }, throws: T.IndexError }],
    },
  });
  return (
    x: Tensor,
    axis: number,
    options: { readonly keepdims?: boolean } = {},
  ): { values: Tensor; indices: Tensor } => {
    const [values, indices] = op.apply([x], {
      axis,
      keepdims: checkOptions(name, options).keepdims ?? false,
    });
    return { values, indices };
  };
}

/**
 * Maximum along one axis with its index, like `torch.max(x, dim)`: `{ values, indices }`
 * (int32). The gradient goes to the returned index only (the first maximum on ties).
 */
export const maxAlong = alongAxis('maxAlong', (a, b) => a > b);
/** Minimum along one axis with its index, like `torch.min(x, dim)`. */
export const minAlong = alongAxis('minAlong', (a, b) => a < b);

// ---- logsumexp -----------------------------------------------------------------------------

/** The group max as a kept-shape constant: 0 where it is ±inf or the group is empty. */
function maxShift(x: T.NDArray, axes: readonly number[]): T.NDArray {
  const m =
    x.size === 0
      ? T.zeros(keptShape(x.shape, axes), { dtype: x.dtype })
      : T.max(x, { axis: axes, keepdims: true });
  return T.where(T.eq(T.abs(m), Number.POSITIVE_INFINITY), 0, m);
}

/**
 * The softmax over each group, exp(x − m) / Σ exp(x − m) with m the group max as a constant
 * (it cancels, so the derivatives are exact): no overflow, and accurate also when |x| is large.
 */
function softmaxOf(x: Tensor, axes: readonly number[]): Tensor {
  const e = exp(sub(x, constant(maxShift(x.peekValue(), axes))));
  return div(e, sum(e, { axis: axes, keepdims: true }));
}

const logsumexpOp = defineOp<ReduceParams>({
  name: 'logsumexp',
  forward: ([raw], { axes, keepdims }) => {
    T.normalizeAxes('logsumexp', axes, raw.ndim);
    const x = T.isFloat(raw.dtype) ? raw : T.cast(raw, 'float32');
    const shift = maxShift(x, axes);
    const y = T.add(T.log(T.sum(T.exp(T.sub(x, shift)), { axis: axes, keepdims: true })), shift);
    return keepdims ? y : T.reshape(y, droppedShape(x.shape, axes));
  },
  vjp: ({ inputs: [x], params: { axes } }, [g]) => [mul(unreduce(g, x.shape, axes), softmaxOf(x, axes))],
  jvp: ({ inputs: [x], params: { axes, keepdims } }, [t]) => [
    sum(mul(t, softmaxOf(x, axes)), { axis: axes, keepdims }),
  ],
  spec: {
    inputs: [{ range: [-3, 3] }],
    samples: reduceSamples,
    reference: ([x], [shape], { axes }) => [
      groupReference(x, shape, axes, (v) => {
        const m = Math.max(...v);
        return m + Math.log(total(v.map((e) => Math.exp(e - m))));
      }),
    ],
    errors: badAxis,
  },
});

/**
 * log(Σ exp(x)) over `axis` (all axes by default), computed stably: the group maximum is
 * subtracted first (and treated as a constant), so inputs like 1000 do not overflow. The
 * gradient is softmax(x)·g.
 */
export function logsumexp(x: Tensor, options: ReduceOptions = {}): Tensor {
  checkTensor('logsumexp', x);
  checkOptions('logsumexp', options);
  return logsumexpOp.apply([x], reduceParams('logsumexp', x, options))[0];
}

// ---- var / std -----------------------------------------------------------------------------

/** Options of `variance` and `std`. */
export interface VarianceOptions extends ReduceOptions {
  /** Subtracted from the count in the denominator (1: Bessel's correction, the default). */
  readonly correction?: number;
}

/**
 * Variance over `axis` (all axes by default): Σ(x − mean)² / (N − correction), like
 * `torch.var`. With N ≤ correction the result is inf or NaN, as in PyTorch.
 */
export function variance(x: Tensor, options: VarianceOptions = {}): Tensor {
  checkTensor('variance', x);
  checkOptions('variance', options);
  return inLibrary(() => {
    const axes = resolveAxes('var', options.axis, x.ndim);
    const count = axes.reduce((n, a) => n * x.shape[a], 1);
    const input = floating(x);
    const centered = sub(input, mean(input, { axis: axes, keepdims: true }));
    const squares = sum(mul(centered, centered), { axis: axes, keepdims: options.keepdims ?? false });
    return div(squares, Math.max(count - (options.correction ?? 1), 0));
  });
}

export { variance as var };

/**
 * Standard deviation: √var (see `var` for the options). Its gradient is NaN where the
 * standard deviation is 0 (a constant group), as in PyTorch.
 */
export function std(x: Tensor, options: VarianceOptions = {}): Tensor {
  checkTensor('std', x);
  checkOptions('std', options);
  return inLibrary(() => sqrt(variance(x, options)));
}

// ---- norms ---------------------------------------------------------------------------------

/** 1 where y is 0, else y: dividing by it leaves x/y = 0/1 = 0 for an all-zero group. */
function nonzero(y: Tensor): Tensor {
  return where(constant(T.eq(y.peekValue(), 0)), 1, y);
}

const norm2Op = defineOp<ReduceParams>({
  name: 'norm2',
  forward: ([raw], { axes, keepdims }) => {
    T.normalizeAxes('norm2', axes, raw.ndim);
    const x = T.isFloat(raw.dtype) ? raw : T.cast(raw, 'float32');
    // Scaled by the group's max |x| (1 when it is 0 or inf), so squares cannot overflow.
    const m =
      x.size === 0
        ? T.ones(keptShape(x.shape, axes), { dtype: x.dtype })
        : T.max(T.abs(x), { axis: axes, keepdims: true });
    const scale = T.where(T.logicalOr(T.eq(m, 0), T.eq(m, Number.POSITIVE_INFINITY)), 1, m);
    const scaled = T.div(x, scale);
    const y = T.mul(T.sqrt(T.sum(T.mul(scaled, scaled), { axis: axes, keepdims: true })), scale);
    return keepdims ? y : T.reshape(y, droppedShape(x.shape, axes));
  },
  vjp: ({ inputs: [x], outputs: [y], params: { axes } }, [g]) => [
    div(mul(unreduce(g, x.shape, axes), x), nonzero(unreduce(y, x.shape, axes))),
  ],
  jvp: ({ inputs: [x], outputs: [y], params: { axes, keepdims } }, [t]) => [
    div(sum(mul(t, x), { axis: axes, keepdims }), nonzero(y)),
  ],
  save: { inputs: true, outputs: true },
  spec: {
    // Groups of one element are |x|, with a kink at 0.
    inputs: [{ avoid: [0] }],
    samples: reduceSamples,
    reference: ([x], [shape], { axes }) => [
      groupReference(x, shape, axes, (v) => Math.sqrt(total(v.map((e) => e * e)))),
    ],
    errors: badAxis,
  },
});

/** Options of `norm`. */
export interface NormOptions extends ReduceOptions {
  /**
   * 1, 2 (default) or Infinity: the vector norm of the elements over `axis` (all axes by
   * default), like `torch.linalg.vector_norm`; 'fro': the Frobenius norm over two axes
   * (default the last two), like `torch.linalg.matrix_norm(x, 'fro')`.
   */
  readonly ord?: number | 'fro';
}

/**
 * Vector norms and the Frobenius norm. Gradients follow PyTorch's subgradients: 0 for the
 * 2-norm (and Frobenius) of an all-zero group, sign(x)·g for the 1-norm (0 at x = 0), and
 * for ∞ the gradient is split evenly among the elements tied for the largest |x|.
 */
export function norm(x: Tensor, options: NormOptions = {}): Tensor {
  checkTensor('norm', x);
  checkOptions('norm', options);
  return inLibrary(() => {
    const ord = options.ord ?? 2;
    const keepdims = options.keepdims ?? false;
    const input = floating(x);
    if (ord === 'fro') {
      if (x.ndim < 2)
        throw new T.ShapeError('norm', `the Frobenius norm needs a matrix, got shape [${x.shape.join(',')}]`);
      const axes = resolveAxes('norm', options.axis ?? [-2, -1], x.ndim);
      if (axes.length !== 2)
        throw new T.ValueError('norm', `the Frobenius norm reduces exactly two axes, got ${axes.length}`);
      return norm2Op.apply([input], { axes, keepdims })[0];
    }
    const axes = resolveAxes('norm', options.axis, x.ndim);
    if (ord === 1) return sum(abs(input), { axis: axes, keepdims });
    if (ord === 2) return norm2Op.apply([input], { axes, keepdims })[0];
    if (ord === Number.POSITIVE_INFINITY) return max(abs(input), { axis: axes, keepdims });
    throw new T.ValueError('norm', `ord must be 1, 2, Infinity or 'fro', got ${String(ord)}`);
  });
}
