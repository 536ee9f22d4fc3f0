import * as T from '@tsgrad/tensor';
import { defineOp } from '../op.js';
import type { Tensor } from '../tensor.js';
import { div } from './elementwise.js';
import { broadcastTo, reshape } from './movement.js';

export interface ReduceOptions {
  /** Axes to reduce; all of them when omitted. */
  readonly axis?: number | readonly number[];
  readonly keepdims?: boolean;
}

type ReduceParams = { axes: readonly number[]; keepdims: boolean };

/** The reduced shape with the reduced axes kept as size 1, for broadcasting gradients back. */
export function keptShape(shape: readonly number[], axes: readonly number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

function sumReference(x: Float64Array, shape: readonly number[], axes: readonly number[]): Float64Array {
  const outShape = keptShape(shape, axes);
  const out = new Float64Array(outShape.reduce((a, b) => a * b, 1));
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
    out[at] += x[i];
  }
  return out;
}

const reduceSamples = [
  { shapes: [[5]], params: { axes: [0], keepdims: false } },
  { shapes: [[2, 3]], params: { axes: [1], keepdims: true } },
  { shapes: [[2, 3, 4]], params: { axes: [0, 2], keepdims: false } },
  { shapes: [[2, 1, 3]], params: { axes: [0, 1, 2], keepdims: false } },
  { shapes: [[]], params: { axes: [], keepdims: false } },
];

const sumOp = defineOp<ReduceParams>({
  name: 'sum',
  forward: ([x], { axes, keepdims }) => T.sum(x, { axis: axes, keepdims }),
  vjp: ({ inputs: [x], params }, [g]) => [broadcastTo(reshape(g, keptShape(x.shape, params.axes)), x.shape)],
  jvp: ({ params }, [t]) => [sum(t, { axis: params.axes, keepdims: params.keepdims })],
  spec: {
    inputs: [{}],
    samples: reduceSamples,
    reference: ([x], [shape], { axes }) => [sumReference(x, shape, axes)],
    errors: [{ shapes: [[2, 3]], params: { axes: [2], keepdims: false }, throws: T.IndexError }],
  },
});

/** Sum over `axis` (all axes by default). */
export function sum(x: Tensor, options: ReduceOptions = {}): Tensor {
  const axes = T.normalizeAxes('sum', options.axis, x.ndim);
  return sumOp.apply([x], { axes, keepdims: options.keepdims ?? false })[0];
}

/** Arithmetic mean over `axis` (all axes by default). */
export function mean(x: Tensor, options: ReduceOptions = {}): Tensor {
  const axes = T.normalizeAxes('mean', options.axis, x.ndim);
  const count = axes.reduce((n, a) => n * x.shape[a], 1);
  return div(sum(x, options), count);
}
