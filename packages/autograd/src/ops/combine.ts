import * as T from '@tsgrad/tensor';
import { checkTensor, checkTensorList } from '../check.js';
import { inLibrary } from '../lifetime.js';
import { defineOp } from '../op.js';
import type { Tensor } from '../tensor.js';
import { constant } from './convert.js';
import { flatOf, tabulate } from './coords.js';
import { where } from './elementwise.js';
import { narrow, unsqueeze } from './movement.js';

// Joining and splitting along an axis, and triangular masks. concat and split are ops of
// their own, each the other's VJP; the rest compose differentiable ops.

const concatOp = defineOp<{ axis: number }>({
  name: 'concat',
  forward: (arrays, { axis }) => T.concat(arrays, axis),
  vjp: ({ inputs, params, needsInputGrad }, [g]) => {
    const axis = T.normalizeAxis('concat', params.axis, g.ndim);
    let start = 0;
    return inputs.map((x, i) => {
      const length = x.shape[axis];
      const piece = needsInputGrad[i] ? narrow(g, axis, start, length) : null;
      start += length;
      return piece;
    });
  },
  jvp: ({ params }, tangents) => [concat(tangents, params.axis)],
  // The inputs are kept for their sizes along the axis.
  spec: {
    inputs: [{}, {}, {}],
    samples: [
      { shapes: [[2], [3], [1]], params: { axis: 0 } },
      {
        shapes: [
          [2, 3],
          [2, 1],
          [2, 2],
        ],
        params: { axis: 1 },
      },
      {
        shapes: [
          [1, 2, 2],
          [3, 2, 2],
          [1, 2, 2],
        ],
        params: { axis: -3 },
      },
    ],
    reference: (arrays, shapes, { axis }) => {
      const a = axis < 0 ? axis + shapes[0].length : axis;
      const outShape = shapes[0].map((d, i) => (i === a ? shapes.reduce((s, shape) => s + shape[a], 0) : d));
      return [
        tabulate(outShape, (c) => {
          let k = c[a];
          let which = 0;
          while (k >= shapes[which][a]) k -= shapes[which++][a];
          return arrays[which][
            flatOf(
              c.map((v, i) => (i === a ? k : v)),
              shapes[which],
            )
          ];
        }),
      ];
    },
    errors: [
      {
        shapes: [
          [2, 3],
          [3, 3],
          [2, 2],
        ],
        params: { axis: 1 },
        throws: T.ShapeError,
      },
      { shapes: [[2], [2], [2]], params: { axis: 1 }, throws: T.IndexError },
    ],
  },
});

/** Joins tensors along an existing axis; they must agree on every other axis. */
export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  checkTensorList('concat', tensors);
  return concatOp.apply(tensors, { axis })[0];
}

/** Joins same-shaped tensors along a new axis. */
export function stack(tensors: readonly Tensor[], axis = 0): Tensor {
  checkTensorList('stack', tensors);
  if (tensors.length === 0) throw new T.ValueError('stack', 'needs at least one tensor');
  const first = tensors[0].shape;
  if (tensors.some((x) => x.ndim !== first.length || x.shape.some((d, i) => d !== first[i]))) {
    throw new T.ShapeError(
      'stack',
      `all tensors must have one shape, got ${tensors.map((x) => `[${x.shape.join(',')}]`).join(', ')}`,
    );
  }
  const a = T.normalizeAxis('stack', axis, first.length + 1);
  return inLibrary(() =>
    concat(
      tensors.map((x) => unsqueeze(x, a)),
      a,
    ),
  );
}

// One op rather than a slice per piece: the gradient is one concat of the pieces' gradients,
// where slices would each pad theirs to the whole input and add them up (an LSTM's split of
// its 32-step input projection made 32 full-size pads and adds per backward pass).
const splitOp = defineOp<{ sizes: readonly number[]; axis: number }>({
  name: 'split',
  forward: ([x], { sizes, axis }) => T.split(x, sizes, axis),
  vjp: ({ params, needsInputGrad }, gradOutputs) => [
    needsInputGrad[0] ? concat(gradOutputs, params.axis) : null,
  ],
  jvp: ({ params }, [t]) => split(t, params.sizes, params.axis),
  save: { inputs: false },
  spec: {
    inputs: [{}],
    samples: [
      { shapes: [[5]], params: { sizes: [2, 3], axis: 0 } },
      { shapes: [[2, 6]], params: { sizes: [2, 2, 2], axis: -1 } },
      { shapes: [[3, 2, 4]], params: { sizes: [1, 0, 2], axis: 0 } },
    ],
    reference: ([x], [shape], { sizes, axis }) => {
      const a = axis < 0 ? axis + shape.length : axis;
      let start = 0;
      return sizes.map((size) => {
        const pieceShape = shape.map((d, i) => (i === a ? size : d));
        const at = start;
        start += size;
        return tabulate(
          pieceShape,
          (c) =>
            x[
              flatOf(
                c.map((v, i) => (i === a ? v + at : v)),
                shape,
              )
            ],
        );
      });
    },
    errors: [
      { shapes: [[5]], params: { sizes: [2, 2], axis: 0 }, throws: T.ValueError },
      { shapes: [[5]], params: { sizes: [5], axis: 1 }, throws: T.IndexError },
    ],
  },
});

/**
 * Splits along `axis` as `T.split` does: into pieces of the given sizes (which must add up to
 * the axis length) or into `sections` equal pieces (NumPy's meaning of a number, not
 * PyTorch's chunk size). The pieces are views; gradients flow back into their positions.
 */
export function split(x: Tensor, sizesOrSections: number | readonly number[], axis = 0): Tensor[] {
  checkTensor('split', x);
  // T.split validates (and names split in its errors); its pieces give the sizes.
  const a = T.normalizeAxis('split', axis, x.ndim);
  const sizes = T.split(x.peekValue(), sizesOrSections, axis).map((piece) => piece.shape[a]);
  return splitOp.apply([x], { sizes, axis: a });
}

function triangle(op: 'tril' | 'triu', x: Tensor, k: number): Tensor {
  if (x.ndim < 2) throw new T.ShapeError(op, `needs at least 2 dimensions, got [${x.shape.join(',')}]`);
  return inLibrary(() => {
    const all = T.ones(x.shape.slice(-2), { dtype: 'bool' });
    const keep = op === 'tril' ? T.tril(all, k) : T.triu(all, k);
    return where(constant(keep), x, 0);
  });
}

/** Keeps the lower triangle (j − i ≤ k) of the last two axes; the gradient is masked alike. */
export function tril(x: Tensor, k = 0): Tensor {
  checkTensor('tril', x);
  return triangle('tril', x, k);
}

/** Keeps the upper triangle (j − i ≥ k) of the last two axes; the gradient is masked alike. */
export function triu(x: Tensor, k = 0): Tensor {
  checkTensor('triu', x);
  return triangle('triu', x, k);
}
