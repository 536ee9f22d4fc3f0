import * as T from '@tsgrad/tensor';
import { checkList, checkTensor } from '../check.js';
import { inLibrary } from '../lifetime.js';
import { defineOp } from '../op.js';
import type { Tensor } from '../tensor.js';
import { flatOf, tabulate } from './coords.js';

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
  checkTensor('reshape', x);
  checkList('reshape', shape, 'shape');
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
  checkTensor('broadcastTo', x);
  checkList('broadcastTo', shape, 'shape');
  if (x.shape.length === shape.length && x.shape.every((d, i) => d === shape[i])) return x;
  return broadcastToOp.apply([x], { shape: [...shape] })[0];
}

/** Like `torch.expand`: −1 keeps a size. */
export function expand(x: Tensor, shape: T.Shape): Tensor {
  checkTensor('expand', x);
  checkList('expand', shape, 'shape');
  const lead = shape.length - x.ndim;
  return broadcastTo(
    x,
    shape.map((d, i) => (d === -1 && i >= lead ? x.shape[i - lead] : d)),
  );
}

const sumToShapeOp = defineOp<{ shape: readonly number[] }>({
  name: 'sumToShape',
  forward: ([x], { shape }) => {
    if (
      x.ndim < shape.length ||
      T.broadcastShapes('sumToShape', shape, x.shape).some((d, i) => d !== x.shape[i])
    ) {
      throw new T.ShapeError('sumToShape', `cannot sum [${x.shape.join(',')}] to ${T.formatShape(shape)}`);
    }
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
  checkTensor('sumToShape', x);
  checkList('sumToShape', shape, 'shape');
  if (x.shape.length === shape.length && x.shape.every((d, i) => d === shape[i])) return x;
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
  checkTensor('permute', x);
  checkList('permute', axes, 'axes');
  return permuteOp.apply([x], { axes: [...axes] })[0];
}

/** Swaps two axes (by default the last two). */
export function transpose(x: Tensor, axis0 = -2, axis1 = -1): Tensor {
  checkTensor('transpose', x);
  const a = T.normalizeAxis('transpose', axis0, x.ndim);
  const b = T.normalizeAxis('transpose', axis1, x.ndim);
  return permute(
    x,
    x.shape.map((_, i) => (i === a ? b : i === b ? a : i)),
  );
}

/** The shape of the view `viewOf` makes of x's array (the view itself is dropped at once). */
function shapeOfView(x: Tensor, viewOf: (array: T.NDArray) => T.NDArray): readonly number[] {
  const view = viewOf(x.peekValue());
  view.dispose();
  return view.shape;
}

/** Removes size-1 axes (the given ones, or all). */
export function squeeze(x: Tensor, axes?: number | readonly number[]): Tensor {
  checkTensor('squeeze', x);
  return reshape(
    x,
    shapeOfView(x, (v) => T.squeeze(v, axes)),
  );
}

/** Inserts a size-1 axis at `axis`. */
export function unsqueeze(x: Tensor, axis: number): Tensor {
  checkTensor('unsqueeze', x);
  return reshape(
    x,
    shapeOfView(x, (v) => T.unsqueeze(v, axis)),
  );
}

/** Merges axes `startAxis..endAxis` into one. */
export function flatten(x: Tensor, startAxis = 0, endAxis = -1): Tensor {
  checkTensor('flatten', x);
  return reshape(
    x,
    shapeOfView(x, (v) => T.flatten(v, startAxis, endAxis)),
  );
}

// ---- slicing, flipping, padding, tiling -----------------------------------------------------

type SliceParams = { specs: readonly T.SliceSpec[] };

const sliceOp = defineOp<SliceParams>({
  name: 'slice',
  forward: ([x], { specs }) => T.slice(x, specs),
  vjp: ({ inputs: [x], params }, [g]) => [sliceBackward(g, x.shape, params.specs)],
  jvp: ({ params }, [t]) => [slice(t, params.specs)],
  // x is kept for its shape; the output is a view of x's buffer, so this costs nothing.
  spec: {
    inputs: [{}],
    samples: [
      { shapes: [[5]], params: { specs: [{ start: 1, stop: 4 }] } },
      { shapes: [[3, 4]], params: { specs: [1] } },
      { shapes: [[3, 4]], params: { specs: [null, { start: -1, step: -2 }] } },
      { shapes: [[2, 1, 5]], params: { specs: [{ stop: 1 }, 0, { start: -4, step: 2 }] } },
      { shapes: [[4, 3]], params: { specs: [{ start: -9, stop: 9, step: 3 }, -1] } },
    ],
    reference: ([x], [shape], { specs }) => [sliceReference(x, shape, specs)],
    errors: [
      { shapes: [[3]], params: { specs: [3] }, throws: T.IndexError },
      { shapes: [[3]], params: { specs: [{ step: 0 }] }, throws: T.ValueError },
      { shapes: [[3]], params: { specs: [null, null] }, throws: T.IndexError },
    ],
  },
});

/**
 * NumPy-style basic indexing, one spec per leading axis (as `T.slice`): a number picks one
 * index and drops the axis; `{start, stop, step}` is a Python range (negative values count
 * from the end, out-of-range bounds clamp, negative steps walk backwards). A view.
 */
export function slice(x: Tensor, specs: readonly T.SliceSpec[]): Tensor {
  checkTensor('slice', x);
  checkList('slice', specs, 'specs');
  return sliceOp.apply([x], { specs: [...specs] })[0];
}

/** `torch.narrow`: `length` elements of `axis` from `start`. */
export function narrow(x: Tensor, axis: number, start: number, length: number): Tensor {
  checkTensor('narrow', x);
  const a = T.normalizeAxis('narrow', axis, x.ndim);
  const n = x.shape[a];
  if (
    !Number.isInteger(start) ||
    !Number.isInteger(length) ||
    start < 0 ||
    length < 0 ||
    start + length > n
  ) {
    throw new T.IndexError(
      'narrow',
      `range [${start}, ${start + length}) does not fit axis ${a} of size ${n}`,
    );
  }
  return slice(
    x,
    x.shape.map((_, i) => (i === a ? { start, stop: start + length } : null)),
  );
}

type SliceBackwardParams = { shape: readonly number[]; specs: readonly T.SliceSpec[] };

const sliceBackwardOp = defineOp<SliceBackwardParams>({
  name: 'sliceBackward',
  forward: ([src], { shape, specs }) => placeSlice(src, shape, specs),
  vjp: ({ params }, [g]) => [slice(g, params.specs)],
  jvp: ({ params }, [t]) => [sliceBackward(t, params.shape, params.specs)],
  save: { inputs: false },
  spec: {
    inputs: [{}],
    samples: [
      { shapes: [[3]], params: { shape: [5], specs: [{ start: 1, stop: 4 }] } },
      { shapes: [[4]], params: { shape: [3, 4], specs: [-2] } },
      { shapes: [[3, 2]], params: { shape: [3, 4], specs: [null, { start: -1, step: -2 }] } },
      { shapes: [[1, 3]], params: { shape: [2, 1, 5], specs: [{ stop: 1 }, 0, { step: 2 }] } },
    ],
    reference: ([src], _, { shape, specs }) => {
      const out = new Float64Array(sizeOf(shape));
      const positions = sliceReference(Float64Array.from(out.keys()), shape, specs);
      positions.forEach((at, i) => {
        out[at] = src[i];
      });
      return [out];
    },
    errors: [{ shapes: [[2]], params: { shape: [5], specs: [{ start: 1, stop: 4 }] }, throws: T.ShapeError }],
  },
});

/**
 * The adjoint of `slice` (PyTorch's `slice_backward`): zeros of `shape` with `src` written at
 * the positions `slice(·, specs)` selects. Linear; its own VJP is `slice`.
 */
export function sliceBackward(src: Tensor, shape: T.Shape, specs: readonly T.SliceSpec[]): Tensor {
  checkTensor('sliceBackward', src, 'src');
  checkList('sliceBackward', shape, 'shape');
  checkList('sliceBackward', specs, 'specs');
  return sliceBackwardOp.apply([src], { shape: [...shape], specs: [...specs] })[0];
}

function placeSlice(src: T.NDArray, shape: T.Shape, specs: readonly T.SliceSpec[]): T.NDArray {
  // Slicing a broadcast scalar checks the specs and gives the region's shape without copying.
  const region = T.slice(T.broadcastTo(T.zeros([]), shape), specs).shape;
  if (region.length !== src.ndim || region.some((d, i) => d !== src.shape[i])) {
    throw new T.ShapeError(
      'sliceBackward',
      `src [${src.shape.join(',')}] does not fit the slice [${region.join(',')}] of [${shape.join(',')}]`,
    );
  }
  const padding = unitStepPadding(shape, specs, region);
  if (padding !== null) return T.pad(T.reshape(src, padding.keptShape), padding.widths);
  // General steps: scatter into a flat zero array at the positions the slice picks.
  const positions = T.reshape(T.slice(T.reshape(T.arange(sizeOf(shape)), shape), specs), [-1]);
  const flat = T.scatterAdd(
    T.zeros([sizeOf(shape)], { dtype: src.dtype }),
    0,
    positions,
    T.reshape(src, [-1]),
  );
  return T.reshape(flat, shape);
}

/** When every range has step 1, the slice is a crop: its adjoint pads with zeros. */
function unitStepPadding(shape: T.Shape, specs: readonly T.SliceSpec[], region: T.Shape) {
  const widths: [number, number][] = [];
  const keptShape: number[] = [];
  let axis = 0;
  for (let i = 0; i < shape.length; i++) {
    const n = shape[i];
    const spec = specs[i] ?? null;
    if (typeof spec === 'number') {
      const at = spec < 0 ? spec + n : spec;
      widths.push([at, n - at - 1]);
      keptShape.push(1);
      continue;
    }
    if ((spec?.step ?? 1) !== 1) return null;
    const start =
      spec?.start === undefined ? 0 : Math.min(Math.max(spec.start < 0 ? spec.start + n : spec.start, 0), n);
    const length = region[axis++];
    widths.push([start, n - start - length]);
    keptShape.push(length);
  }
  return { widths, keptShape };
}

/** Row-major values of `x` (of `shape`) picked by `specs`, walked like Python's `slice`. */
function sliceReference(x: Float64Array, shape: T.Shape, specs: readonly T.SliceSpec[]): Float64Array {
  const picks = shape.map((n, i): number | number[] => {
    const spec = specs[i] ?? null;
    if (typeof spec === 'number') return spec < 0 ? spec + n : spec;
    const step = spec?.step ?? 1;
    const resolve = (v: number | undefined, fallback: number, lo: number, hi: number) =>
      v === undefined ? fallback : Math.min(Math.max(v < 0 ? v + n : v, lo), hi);
    const picked: number[] = [];
    if (step > 0) {
      const stop = resolve(spec?.stop, n, 0, n);
      for (let k = resolve(spec?.start, 0, 0, n); k < stop; k += step) picked.push(k);
    } else {
      const stop = resolve(spec?.stop, -1, -1, n - 1);
      for (let k = resolve(spec?.start, n - 1, -1, n - 1); k > stop; k += step) picked.push(k);
    }
    return picked;
  });
  const outShape = picks.flatMap((p) => (typeof p === 'number' ? [] : [p.length]));
  return tabulate(outShape, (coords) => {
    let axis = 0;
    const source = picks.map((p) => (typeof p === 'number' ? p : p[coords[axis++]]));
    return x[flatOf(source, shape)];
  });
}

const flipOp = defineOp<{ axes: readonly number[] }>({
  name: 'flip',
  forward: ([x], { axes }) => T.flip(x, axes),
  vjp: ({ params }, [g]) => [flip(g, params.axes)],
  jvp: ({ params }, [t]) => [flip(t, params.axes)],
  save: { inputs: false },
  spec: {
    inputs: [{}],
    samples: [
      { shapes: [[5]], params: { axes: [0] } },
      { shapes: [[2, 3]], params: { axes: [0, 1] } },
      { shapes: [[2, 1, 3]], params: { axes: [-1] } },
      { shapes: [[]], params: { axes: [] } },
    ],
    reference: ([x], [shape], { axes }) => {
      const which = axes.map((a) => (a < 0 ? a + shape.length : a));
      return [
        tabulate(
          shape,
          (c) =>
            x[
              flatOf(
                c.map((k, i) => (which.includes(i) ? shape[i] - 1 - k : k)),
                shape,
              )
            ],
        ),
      ];
    },
    errors: [{ shapes: [[2, 3]], params: { axes: [2] }, throws: T.IndexError }],
  },
});

/** Reverses the order along `axes` (all axes by default). A view. */
export function flip(x: Tensor, axes?: number | readonly number[]): Tensor {
  checkTensor('flip', x);
  return flipOp.apply([x], { axes: T.normalizeAxes('flip', axes, x.ndim) })[0];
}

function checkRepetitions(op: string, reps: readonly number[]): void {
  checkList(op, reps, 'repetitions');
  if (reps.some((r) => !Number.isInteger(r) || r < 0)) {
    throw new T.ValueError(op, `repetitions must be non-negative integers, got ${T.formatShape(reps)}`);
  }
}

/**
 * NumPy's `tile`: `reps[i]` copies along each axis (missing leading reps count as 1, extra
 * ones add leading axes). Composed from reshape and broadcastTo, so the gradient sums copies.
 */
export function tile(x: Tensor, reps: readonly number[]): Tensor {
  checkTensor('tile', x);
  checkRepetitions('tile', reps);
  const ndim = Math.max(x.ndim, reps.length);
  const shape = [...new Array<number>(ndim - x.ndim).fill(1), ...x.shape];
  const times = [...new Array<number>(ndim - reps.length).fill(1), ...reps];
  return inLibrary(() => {
    const spread = reshape(
      x,
      shape.flatMap((d) => [1, d]),
    );
    const copies = broadcastTo(
      spread,
      shape.flatMap((d, i) => [times[i], d]),
    );
    return reshape(
      copies,
      shape.map((d, i) => d * times[i]),
    );
  });
}

/** `torch.Tensor.repeat`: like `tile`, but `repeats` must cover every axis of x. */
export function repeat(x: Tensor, repeats: readonly number[]): Tensor {
  checkTensor('repeat', x);
  checkList('repeat', repeats, 'repeats');
  if (repeats.length < x.ndim) {
    throw new T.ValueError(
      'repeat',
      `${repeats.length} repeats for a tensor of rank ${x.ndim} (need at least ${x.ndim})`,
    );
  }
  checkRepetitions('repeat', repeats);
  return tile(x, repeats);
}
