import * as T from '@tsgrad/tensor';
import { defineOp } from '../op.js';
import type { Tensor } from '../tensor.js';

// Shape ops. Each VJP is the inverse movement (reshape ↔ reshape, permute ↔ inverse permute,
// broadcast ↔ sum), so they are linear and their JVPs apply the forward to the tangent.

const sizeOf = (shape: T.Shape) => shape.reduce((a, b) => a * b, 1);

const reshapeOp = defineOp<{ shape: readonly number[] }>({
  name: 'reshape',
  forward: ([x], { shape }) => T.reshape(x, shape),
  vjp: ({ inputs: [x] }, [g]) => [reshape(g, x.shape)],
  jvp: ({ params }, [t]) => [reshape(t, params.shape)],
  spec: {
    inputs: [{}],
    samples: [
      { shapes: [[2, 3]], params: { shape: [3, 2] } },
      { shapes: [[4]], params: { shape: [2, -1] } },
      { shapes: [[1, 3, 1]], params: { shape: [3] } },
      { shapes: [[]], params: { shape: [1, 1] } },
    ],
    reference: ([x]) => [x],
    errors: [{ shapes: [[2, 3]], params: { shape: [4] }, throws: T.ShapeError }],
  },
});

/** Reshape (one size may be −1). */
export function reshape(x: Tensor, shape: T.Shape): Tensor {
  if (x.shape.length === shape.length && x.shape.every((d, i) => d === shape[i])) return x;
  return reshapeOp.apply([x], { shape: [...shape] })[0];
}

const broadcastToOp = defineOp<{ shape: readonly number[] }>({
  name: 'broadcastTo',
  forward: ([x], { shape }) => T.broadcastTo(x, shape),
  vjp: ({ inputs: [x] }, [g]) => [sumToShape(g, x.shape)],
  jvp: ({ params }, [t]) => [broadcastTo(t, params.shape)],
  spec: {
    inputs: [{}],
    samples: [
      { shapes: [[3]], params: { shape: [2, 3] } },
      { shapes: [[2, 1]], params: { shape: [2, 4] } },
      { shapes: [[]], params: { shape: [3, 1] } },
    ],
    reference: ([x], shapes, { shape }) => {
      const out = new Float64Array(sizeOf(shape));
      const src = shapes[0];
      const strides = src.map((_, i) => (src[i] === 1 ? 0 : sizeOf(src.slice(i + 1))));
      for (let i = 0; i < out.length; i++) {
        let rest = i;
        let at = 0;
        for (let d = shape.length - 1; d >= 0; d--) {
          const k = d - (shape.length - src.length);
          const coord = rest % shape[d];
          rest = Math.floor(rest / shape[d]);
          if (k >= 0) at += coord * strides[k];
        }
        out[i] = x[at];
      }
      return [out];
    },
    errors: [{ shapes: [[3]], params: { shape: [4] }, throws: T.ShapeError }],
  },
});

/** Broadcasts to `shape` (a view; the gradient is summed back). */
export function broadcastTo(x: Tensor, shape: T.Shape): Tensor {
  if (x.shape.length === shape.length && x.shape.every((d, i) => d === shape[i])) return x;
  return broadcastToOp.apply([x], { shape: [...shape] })[0];
}

/** Like `torch.expand`: −1 keeps a size. */
export function expand(x: Tensor, shape: T.Shape): Tensor {
  const lead = shape.length - x.ndim;
  return broadcastTo(
    x,
    shape.map((d, i) => (d === -1 && i >= lead ? x.shape[i - lead] : d)),
  );
}

const sumToShapeOp = defineOp<{ shape: readonly number[] }>({
  name: 'sumToShape',
  forward: ([x], { shape }) => {
    const lead = x.ndim - shape.length;
    const axes = x.shape.flatMap((d, i) => (i < lead || (shape[i - lead] === 1 && d !== 1) ? [i] : []));
    return T.reshape(T.sum(x, { axis: axes }), shape);
  },
  vjp: ({ inputs: [x] }, [g]) => [broadcastTo(g, x.shape)],
  jvp: ({ params }, [t]) => [sumToShape(t, params.shape)],
  spec: {
    inputs: [{}],
    samples: [
      { shapes: [[2, 3]], params: { shape: [3] } },
      { shapes: [[2, 3]], params: { shape: [2, 1] } },
      { shapes: [[2, 3, 4]], params: { shape: [] } },
    ],
    reference: ([x], shapes, { shape }) => {
      const src = shapes[0];
      const out = new Float64Array(sizeOf(shape));
      const lead = src.length - shape.length;
      for (let i = 0; i < x.length; i++) {
        let rest = i;
        let at = 0;
        let stride = 1;
        for (let d = src.length - 1; d >= lead; d--) {
          const coord = rest % src[d];
          rest = Math.floor(rest / src[d]);
          const k = d - lead;
          at += (shape[k] === 1 ? 0 : coord) * stride;
          stride *= shape[k];
        }
        out[at] += x[i];
      }
      return [out];
    },
    errors: [{ shapes: [[2, 3]], params: { shape: [4] }, throws: T.ShapeError }],
  },
});

/** Sums a broadcast gradient back to `shape` (the adjoint of broadcastTo). */
export function sumToShape(x: Tensor, shape: T.Shape): Tensor {
  if (x.shape.length === shape.length && x.shape.every((d, i) => d === shape[i])) return x;
  T.broadcastShapes('sumToShape', shape, x.shape);
  if (x.ndim < shape.length || T.broadcastShapes('sumToShape', shape, x.shape).some((d, i) => d !== x.shape[i])) {
    throw new T.ShapeError('sumToShape', `cannot sum [${x.shape.join(',')}] to [${shape.join(',')}]`);
  }
  return sumToShapeOp.apply([x], { shape: [...shape] })[0];
}

const permuteOp = defineOp<{ axes: readonly number[] }>({
  name: 'permute',
  forward: ([x], { axes }) => T.permute(x, axes),
  vjp: (_, [g]) => [permute(g, inversePermutation(_.params.axes, g.ndim))],
  jvp: ({ params }, [t]) => [permute(t, params.axes)],
  save: { inputs: false },
  spec: {
    inputs: [{}],
    samples: [
      { shapes: [[2, 3]], params: { axes: [1, 0] } },
      { shapes: [[2, 3, 4]], params: { axes: [2, 0, 1] } },
      { shapes: [[2, 1, 3]], params: { axes: [-1, 0, 1] } },
    ],
    errors: [{ shapes: [[2, 3]], params: { axes: [0, 0] }, throws: T.IndexError }],
  },
});

function inversePermutation(axes: readonly number[], ndim: number): number[] {
  const inverse = new Array<number>(ndim);
  axes.forEach((a, i) => {
    inverse[a < 0 ? a + ndim : a] = i;
  });
  return inverse;
}

/** Reorders axes: output axis i is input axis `axes[i]`. */
export function permute(x: Tensor, axes: readonly number[]): Tensor {
  return permuteOp.apply([x], { axes: [...axes] })[0];
}

/** Swaps two axes (by default the last two). */
export function transpose(x: Tensor, axis0 = -2, axis1 = -1): Tensor {
  const a = T.normalizeAxis('transpose', axis0, x.ndim);
  const b = T.normalizeAxis('transpose', axis1, x.ndim);
  return permute(
    x,
    x.shape.map((_, i) => (i === a ? b : i === b ? a : i)),
  );
}

/** Removes size-1 axes (the given ones, or all). */
export function squeeze(x: Tensor, axes?: number | readonly number[]): Tensor {
  return reshape(x, T.squeeze(x.value, axes).shape);
}

/** Inserts a size-1 axis at `axis`. */
export function unsqueeze(x: Tensor, axis: number): Tensor {
  return reshape(x, T.unsqueeze(x.value, axis).shape);
}

/** Merges axes `startAxis..endAxis` into one. */
export function flatten(x: Tensor, startAxis = 0, endAxis = -1): Tensor {
  return reshape(x, T.flatten(x.value, startAxis, endAxis).shape);
}
