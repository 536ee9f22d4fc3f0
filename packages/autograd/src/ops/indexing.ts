import * as T from '@tsgrad/tensor';
import { checkOptions } from '@tsgrad/tensor';
import { checkTensor } from '../check.js';
import { inLibrary } from '../lifetime.js';
import { defineOp } from '../op.js';
import { Tensor } from '../tensor.js';
import { constant, full } from './convert.js';
import { coordsOf, flatOf, sizeOf, tabulate } from './coords.js';
import { where } from './elementwise.js';
import { reshape, sliceBackward } from './movement.js';

// Gather/scatter along an axis. Index inputs are int32 constants: they get no gradient. The
// VJP of a gather is a scatter-add of the gradient into zeros (repeated indices accumulate)
// and the VJP of a scatter-add is a gather, so gradients of any order stay in this family.

/** Indices: an int32 tensor or array, or plain integers (1-D). */
export type IndexInput = Tensor | T.NDArray | Int32Array | readonly number[];

const INT32_MAX = 2 ** 31 - 1;

/** The index as an int32 constant tensor, with errors naming `op`. */
function indexTensor(op: string, index: IndexInput): Tensor {
  const raw = index instanceof Tensor ? index.peekValue() : index;
  if (raw instanceof T.NDArray) {
    if (raw.dtype !== 'int32') throw new T.DTypeError(op, `indices must be int32, got ${raw.dtype}`);
    return index instanceof Tensor ? index : constant(raw);
  }
  if (raw instanceof Int32Array) return constant(T.array(raw));
  if (!Array.isArray(raw)) {
    throw new T.IndexError(
      op,
      `indices must be an int32 tensor or a list of integers, got ${T.describe(raw)}`,
    );
  }
  const bad = raw.find((v) => !Number.isInteger(v) || Math.abs(v) > INT32_MAX);
  if (bad !== undefined) throw new T.IndexError(op, `index ${T.describe(bad)} is not an int32 integer`);
  return constant(T.array(Int32Array.from(raw)));
}

type AxisParams = { axis: number };

const resolveAxis = (axis: number, ndim: number) => (axis < 0 ? axis + ndim : axis);
/** The size of `axis` of a sample shape (1 when the axis is bad, for error samples). */
const axisSize = (shape: T.Shape, axis: number) => shape[resolveAxis(axis, shape.length)] ?? 1;
const zerosShaped = (shape: T.Shape, like: Tensor) => full(shape, 0, like.dtype);

const gatherOp = defineOp<AxisParams>({
  name: 'gather',
  forward: ([x, index], { axis }) => T.gather(x, axis, index),
  vjp: ({ inputs: [x, index], params }, [g]) => [
    scatterAdd(zerosShaped(x.shape, g), params.axis, index, g),
    null,
  ],
  jvp: ({ inputs: [, index], params }, [t]) => [gather(t, params.axis, index)],
  // x is kept for its shape only.
  spec: {
    inputs: [{}, { kind: 'index', bound: ([shape], { axis }) => axisSize(shape, axis) }],
    samples: [
      { shapes: [[5], [7]], params: { axis: 0 } },
      {
        shapes: [
          [3, 4],
          [3, 6],
        ],
        params: { axis: 1 },
      },
      {
        shapes: [
          [3, 4],
          [2, 2],
        ],
        params: { axis: 0 },
      },
      {
        shapes: [
          [2, 3, 2],
          [2, 3, 1],
        ],
        params: { axis: -1 },
      },
      {
        shapes: [
          [1, 3],
          [1, 3],
        ],
        params: { axis: 0 },
      },
    ],
    reference: ([x, index], [shape, indexShape], { axis }) => {
      const a = resolveAxis(axis, shape.length);
      return [tabulate(indexShape, (c) => x[flatOf(c.with(a, index[flatOf(c, indexShape)]), shape)])];
    },
    errors: [
      { shapes: [[3, 4], [3]], params: { axis: 1 }, throws: T.ShapeError },
      {
        shapes: [
          [3, 4],
          [3, 4],
        ],
        params: { axis: 2 },
        throws: T.IndexError,
      },
      {
        shapes: [
          [3, 4],
          [4, 4],
        ],
        params: { axis: 1 },
        throws: T.ShapeError,
      },
    ],
  },
});

/**
 * `torch.gather`: out[i][j] = x[i][index[i][j]] along axis 1 (likewise for other axes). The
 * index has x's rank and may be smaller than x off the axis. Gradients of repeated indices add.
 */
export function gather(x: Tensor, axis: number, index: IndexInput): Tensor {
  checkTensor('gather', x);
  return inLibrary(() => gatherOp.apply([x, indexTensor('gather', index)], { axis })[0]);
}

const takeAlongAxisOp = defineOp<AxisParams>({
  name: 'takeAlongAxis',
  forward: ([x, index], { axis }) => T.takeAlongAxis(x, index, axis),
  vjp: ({ inputs: [x, index], params }, [g]) => {
    // Scatter into x broadcast off the axis; the tape sums that back to x's shape.
    const a = resolveAxis(params.axis, x.ndim);
    const spread = constant(T.broadcastTo(index.peekValue(), g.shape));
    const base = zerosShaped(
      g.shape.map((d, i) => (i === a ? x.shape[a] : d)),
      g,
    );
    return [scatterAdd(base, a, spread, g), null];
  },
  jvp: ({ inputs: [, index], params }, [t]) => [takeAlongAxis(t, index, params.axis)],
  spec: {
    inputs: [{}, { kind: 'index', bound: ([shape], { axis }) => axisSize(shape, axis) }],
    samples: [
      { shapes: [[4], [6]], params: { axis: 0 } },
      {
        shapes: [
          [3, 4],
          [3, 2],
        ],
        params: { axis: 1 },
      },
      {
        shapes: [
          [3, 1],
          [1, 2],
        ],
        params: { axis: 0 },
      },
      {
        shapes: [
          [2, 1, 3],
          [2, 4, 2],
        ],
        params: { axis: -1 },
      },
    ],
    reference: ([x, index], [shape, indexShape], { axis }) => {
      const a = resolveAxis(axis, shape.length);
      const outShape = shape.map((d, i) => (i === a ? indexShape[a] : Math.max(d, indexShape[i])));
      return [
        tabulate(outShape, (c) => {
          const k =
            index[
              flatOf(
                c.map((v, i) => (indexShape[i] === 1 ? 0 : v)),
                indexShape,
              )
            ];
          return x[
            flatOf(
              c.map((v, i) => (i === a ? k : shape[i] === 1 ? 0 : v)),
              shape,
            )
          ];
        }),
      ];
    },
    errors: [
      {
        shapes: [
          [3, 4],
          [2, 4],
        ],
        params: { axis: 1 },
        throws: T.ShapeError,
      },
      { shapes: [[3, 4], [3]], params: { axis: 0 }, throws: T.ShapeError },
    ],
  },
});

/** NumPy's `take_along_axis`: gather with the index broadcast against x off the axis. */
export function takeAlongAxis(x: Tensor, index: IndexInput, axis: number): Tensor {
  checkTensor('takeAlongAxis', x);
  return inLibrary(() => takeAlongAxisOp.apply([x, indexTensor('takeAlongAxis', index)], { axis })[0]);
}

const indexSelectOp = defineOp<AxisParams>({
  name: 'indexSelect',
  forward: ([x, index], { axis }) => T.indexSelect(x, axis, index),
  vjp: ({ inputs: [x, index], params }, [g]) => {
    // index_add: spread the 1-D index over g's shape and scatter-add g into zeros.
    const a = resolveAxis(params.axis, x.ndim);
    const column = T.reshape(
      index.peekValue(),
      g.shape.map((_, i) => (i === a ? index.size : 1)),
    );
    return [scatterAdd(zerosShaped(x.shape, g), a, constant(T.broadcastTo(column, g.shape)), g), null];
  },
  jvp: ({ inputs: [, index], params }, [t]) => [indexSelect(t, params.axis, index)],
  spec: {
    inputs: [{}, { kind: 'index', bound: ([shape], { axis }) => axisSize(shape, axis) }],
    samples: [
      { shapes: [[4], [6]], params: { axis: 0 } },
      { shapes: [[3, 4], [5]], params: { axis: 0 } },
      { shapes: [[2, 3, 2], [2]], params: { axis: -2 } },
      { shapes: [[1, 3], [3]], params: { axis: 0 } },
    ],
    reference: ([x, index], [shape, [count]], { axis }) => {
      const a = resolveAxis(axis, shape.length);
      return [tabulate(shape.with(a, count), (c) => x[flatOf(c.with(a, index[c[a]]), shape)])];
    },
    errors: [
      {
        shapes: [
          [3, 4],
          [2, 2],
        ],
        params: { axis: 0 },
        throws: T.ShapeError,
      },
      { shapes: [[3, 4], [2]], params: { axis: -3 }, throws: T.IndexError },
    ],
  },
});

/** `torch.index_select`: whole slices along `axis` picked by a 1-D index. */
export function indexSelect(x: Tensor, axis: number, index: IndexInput): Tensor {
  checkTensor('indexSelect', x);
  return inLibrary(() => indexSelectOp.apply([x, indexTensor('indexSelect', index)], { axis })[0]);
}

const scatterAddOp = defineOp<AxisParams>({
  name: 'scatterAdd',
  forward: ([base, index, src], { axis }) => T.scatterAdd(base, axis, index, src),
  vjp: ({ inputs: [, index, src], params, needsInputGrad }, [g]) => [
    needsInputGrad[0] ? g : null,
    null,
    needsInputGrad[2] ? padTo(gather(g, params.axis, index), src.shape) : null,
  ],
  jvp: ({ inputs: [, index], params }, [tBase, , tSrc]) => [scatterAdd(tBase, params.axis, index, tSrc)],
  // src is kept for its shape only.
  spec: {
    inputs: [{}, { kind: 'index', bound: ([shape], { axis }) => axisSize(shape, axis) }, {}],
    samples: [
      { shapes: [[4], [6], [6]], params: { axis: 0 } },
      {
        shapes: [
          [3, 4],
          [2, 4],
          [2, 4],
        ],
        params: { axis: 0 },
      },
      {
        shapes: [
          [3, 4],
          [2, 3],
          [3, 5],
        ],
        params: { axis: 1 },
      },
      {
        shapes: [
          [2, 1, 3],
          [2, 2, 3],
          [2, 2, 3],
        ],
        params: { axis: -2 },
      },
    ],
    reference: ([base, index, src], [shape, indexShape, srcShape], { axis }) => {
      const a = resolveAxis(axis, shape.length);
      const out = Float64Array.from(base);
      for (let i = 0; i < sizeOf(indexShape); i++) {
        const c = coordsOf(i, indexShape);
        out[flatOf(c.with(a, index[i]), shape)] += src[flatOf(c, srcShape)];
      }
      return [out];
    },
    errors: [
      {
        shapes: [
          [3, 4],
          [2, 5],
          [2, 5],
        ],
        params: { axis: 0 },
        throws: T.ShapeError,
      },
      {
        shapes: [
          [3, 4],
          [2, 4],
          [1, 4],
        ],
        params: { axis: 0 },
        throws: T.ShapeError,
      },
    ],
  },
});

/** Pads a gradient with trailing zeros up to `shape` (src may be larger than the index). */
function padTo(x: Tensor, shape: T.Shape): Tensor {
  if (x.shape.every((d, i) => d === shape[i])) return x;
  return sliceBackward(
    x,
    shape,
    x.shape.map((d) => ({ stop: d })),
  );
}

/**
 * `torch.scatter_add`: a copy of `base` where src[i][j] is added at [i][index[i][j]] along
 * axis 1 (likewise for other axes); repeated indices accumulate. The gradient of base is the
 * output gradient, that of src the output gradient gathered at the index.
 */
export function scatterAdd(base: Tensor, axis: number, index: IndexInput, src: Tensor): Tensor {
  checkTensor('scatterAdd', base, 'base');
  checkTensor('scatterAdd', src, 'src');
  return inLibrary(() => scatterAddOp.apply([base, indexTensor('scatterAdd', index), src], { axis })[0]);
}

type OneHotParams = { numClasses: number; dtype: 'float32' | 'float64' | 'int32' };

const oneHotOp = defineOp<OneHotParams>({
  name: 'oneHot',
  forward: ([indices], { numClasses, dtype }) => T.oneHot(indices, numClasses, { dtype }),
  vjp: () => [null],
  save: { inputs: false },
  spec: {
    inputs: [{ kind: 'index', bound: (_, { numClasses }) => Math.max(1, Math.floor(numClasses)) }],
    samples: [
      { shapes: [[4]], params: { numClasses: 3, dtype: 'float32' } },
      { shapes: [[2, 3]], params: { numClasses: 5, dtype: 'float64' } },
      { shapes: [[]], params: { numClasses: 2, dtype: 'int32' } },
    ],
    order: 0,
    reference: ([indices], _, { numClasses }) => [
      tabulate([indices.length, numClasses], ([i, k]) => (indices[i] === k ? 1 : 0)),
    ],
    errors: [{ shapes: [[3]], params: { numClasses: 2.5, dtype: 'float32' }, throws: T.ValueError }],
  },
});

/**
 * One-hot encoding of int32 class indices along a new last axis (`F.one_hot`); a constant.
 * `numClasses` defaults to the largest index + 1.
 */
export function oneHot(
  indices: IndexInput,
  numClasses?: number,
  options: { dtype?: OneHotParams['dtype'] } = {},
): Tensor {
  checkOptions('oneHot', options);
  if (numClasses !== undefined && typeof numClasses !== 'number') {
    throw new T.ValueError('oneHot', `numClasses must be a number, got ${T.describe(numClasses)}`);
  }
  return inLibrary(() => {
    const index = indexTensor('oneHot', indices);
    const classes =
      numClasses ??
      Array.from(index.peekValue().toTypedArray(), Number).reduce((m, v) => Math.max(m, v + 1), 0);
    return oneHotOp.apply([index], { numClasses: classes, dtype: options.dtype ?? 'float32' })[0];
  });
}

/** Options of `embedding`. */
export interface EmbeddingOptions {
  /** This row is looked up as usual but gets no gradient (PyTorch's `padding_idx`). */
  readonly paddingIdx?: number;
}

/**
 * `F.embedding`: the rows of `weight` ([numEmbeddings, dim]) at int32 `indices`, shaped
 * [...indices.shape, dim]. Gradients of repeated indices add up in the row.
 */
export function embedding(indices: IndexInput, weight: Tensor, options: EmbeddingOptions = {}): Tensor {
  checkTensor('embedding', weight, 'weight');
  checkOptions('embedding', options);
  return inLibrary(() => {
    const index = indexTensor('embedding', indices);
    if (weight.ndim !== 2) {
      throw new T.ShapeError(
        'embedding',
        `weight must be 2-D [numEmbeddings, dim], got [${weight.shape.join(',')}]`,
      );
    }
    const [count, dim] = weight.shape;
    const flat = T.reshape(index.peekValue(), [-1]);
    T.checkIndexRange('embedding', flat, count);
    let rows = indexSelect(weight, 0, flat);
    if (options.paddingIdx !== undefined) {
      const padding = options.paddingIdx;
      if (!Number.isInteger(padding) || padding < -count || padding >= count) {
        throw new T.IndexError('embedding', `paddingIdx ${padding} is out of range for ${count} embeddings`);
      }
      const live = T.reshape(T.ne(flat, padding < 0 ? padding + count : padding), [-1, 1]);
      rows = where(constant(live), rows, rows.detach());
    }
    return reshape(rows, [...index.shape, dim]);
  });
}
