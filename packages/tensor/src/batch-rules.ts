import { runPrimitive } from './dispatch.js';
import type { DType } from './dtype.js';
import { NDArray } from './ndarray.js';
import { permute, reshape } from './ops/views.js';
import {
  BINARY_PRIMITIVES,
  type BinaryPrimitive,
  type Primitive,
  type PrimitiveParams,
  UNARY_PRIMITIVES,
  type UnaryPrimitive,
} from './primitives.js';

// One batching rule per primitive (vmap, see batching.ts). A rule gets the physical inputs —
// [B, ...shape] where batched, the logical shape where not — and the logical output specs,
// and returns each output as [B, ...shape], computed by primitives of the backend below.
// The table's type lists every primitive, so a new primitive without a rule does not compile.

/** An input as a batching rule sees it. */
export interface Physical {
  readonly x: NDArray;
  readonly batched: boolean;
}

interface Spec {
  readonly shape: readonly number[];
  readonly dtype: DType;
}

type BatchRule<P> = (
  inputs: readonly Physical[],
  params: P,
  outputs: readonly Spec[],
  size: number,
) => NDArray[];

/** The input with a batch axis in front (a stride-0 broadcast where it is not batched). */
function expanded(p: Physical, size: number): NDArray {
  if (p.batched) return p.x;
  return NDArray.view(p.x, [size, ...p.x.shape], [0, ...p.x.strides], p.x.offset, 'vmap');
}

const stacked = (outputs: readonly Spec[], size: number): Spec[] =>
  outputs.map((o) => ({ shape: [size, ...o.shape], dtype: o.dtype }));

/** Every input batched, the batch axis in front, the same primitive with `params`. */
function along<P extends Primitive>(primitive: P, shift: (params: PrimitiveParams[P]) => PrimitiveParams[P]) {
  const rule: BatchRule<PrimitiveParams[P]> = (inputs, params, outputs, size) =>
    runPrimitive(
      primitive,
      inputs.map((p) => expanded(p, size)),
      shift(params),
      stacked(outputs, size),
    );
  return rule;
}

const same = <P>(params: P): P => params;
const axisShifted = <P extends { readonly axis: number }>(params: P): P => ({
  ...params,
  axis: params.axis + 1,
});

const elementwise = Object.fromEntries(
  [...UNARY_PRIMITIVES, ...BINARY_PRIMITIVES].map((p) => [p, along(p, same)]),
) as { [P in UnaryPrimitive | BinaryPrimitive]: BatchRule<PrimitiveParams[P]> };

const reduction = <P extends 'sum' | 'prod' | 'max' | 'min'>(primitive: P) =>
  along(primitive, (params) => ({ axes: params.axes.map((a) => a + 1) }) as PrimitiveParams[P]);

/** [B, N, ...] → [B·N, ...]: the batch folded into the leading axis of a 4-D kernel. */
const foldBatch = (x: NDArray): NDArray => reshape(x, [x.shape[0] * x.shape[1], ...x.shape.slice(2)]);
const unfoldBatch = (x: NDArray, size: number): NDArray =>
  reshape(x, [size, x.shape[0] / size, ...x.shape.slice(1)]);

/** [B, N, C, H, W] → [N, B·C, H, W]: each batch element becomes a group of channels. */
const toGroups = (x: NDArray): NDArray => {
  const [b, n, c, ...rest] = x.shape;
  return reshape(permute(x, [1, 0, 2, 3, 4]), [n, b * c, ...rest]);
};
/** [N, B·C, H, W] → [B, N, C, H, W]. */
const fromGroups = (y: NDArray, size: number): NDArray => {
  const [n, bc, ...rest] = y.shape;
  return permute(reshape(y, [n, size, bc / size, ...rest]), [1, 0, 2, 3, 4]);
};

/** A 4-D kernel over [N, C, H, W] planes that treats each of the N independently. */
function planewise<P extends 'maxPool2d' | 'avgPool2d' | 'avgPool2dGrad'>(
  primitive: P,
): BatchRule<PrimitiveParams[P]> {
  return ([x], params, outputs, size) => {
    const folded = outputs.map((o) => ({ shape: [size * o.shape[0], ...o.shape.slice(1)], dtype: o.dtype }));
    return runPrimitive(primitive, [foldBatch(x.x)], params, folded).map((y) => unfoldBatch(y, size));
  };
}

export const BATCH_RULES: { readonly [P in Primitive]: BatchRule<PrimitiveParams[P]> } = {
  ...elementwise,
  where: along('where', same),
  cast: along('cast', same),
  copy: along('copy', same),
  sum: reduction('sum'),
  prod: reduction('prod'),
  max: reduction('max'),
  min: reduction('min'),
  argmax: along('argmax', axisShifted),
  argmin: along('argmin', axisShifted),
  cumsum: along('cumsum', axisShifted),
  cumprod: along('cumprod', axisShifted),
  pad: along('pad', (params) => ({ ...params, widths: [[0, 0], ...params.widths] })),
  concat: along('concat', axisShifted),
  gather: along('gather', axisShifted),
  scatterAdd: along('scatterAdd', axisShifted),
  sort: along('sort', axisShifted),
  indexSelect: ([x, index], { axis }, outputs, size) => {
    if (!index.batched) {
      return runPrimitive('indexSelect', [x.x, index.x], { axis: axis + 1 }, stacked(outputs, size));
    }
    // One index per batch element: a gather with the index spread over the output's shape.
    const shape = outputs[0].shape;
    const [rowStride, step] = index.x.strides;
    const spread = NDArray.view(
      index.x,
      [size, ...shape],
      [rowStride, ...shape.map((_, i) => (i === axis ? step : 0))],
      index.x.offset,
      'vmap',
    );
    return runPrimitive('gather', [expanded(x, size), spread], { axis: axis + 1 }, stacked(outputs, size));
  },
  matmul: ([a, b], params, outputs, size) => {
    if (a.batched && !b.batched && a.x.ndim === 3) {
      // [B, m, k] × [k, n] is one product with B·m rows.
      const [, m, k] = a.x.shape;
      const [y] = runPrimitive('matmul', [reshape(a.x, [size * m, k]), b.x], params, [
        { shape: [size * m, b.x.shape[1]], dtype: outputs[0].dtype },
      ]);
      return [unfoldBatch(y, size)];
    }
    if (!a.batched && b.batched && a.x.ndim === 2 && b.x.shape[2] === 1) {
      // A matrix times a vector per example ([m, k] × [B, k, 1], as in a VJP through A·x):
      // the rows of Y = X·Aᵀ ([B, k] × [k, m]), one product instead of B.
      const [m, k] = a.x.shape;
      const x = NDArray.view(b.x, [size, k], b.x.strides.slice(0, 2), b.x.offset, 'vmap');
      const [y] = runPrimitive('matmul', [x, permute(a.x, [1, 0])], params, [
        { shape: [size, m], dtype: outputs[0].dtype },
      ]);
      return [reshape(y, [size, m, 1])];
    }
    // Otherwise one batched product; per-example weight gradients ([m,1]×[1,n], k = 1) are
    // batched outer products, which backends run as one pass over the output.
    return along('matmul', same)([a, b], params, outputs, size);
  },
  conv2d: ([x, w], params, outputs, size) => {
    const [n, o, ...spatial] = outputs[0].shape;
    const dtype = outputs[0].dtype;
    if (!w.batched) {
      const [y] = runPrimitive('conv2d', [foldBatch(x.x), w.x], params, [
        { shape: [size * n, o, ...spatial], dtype },
      ]);
      return [unfoldBatch(y, size)];
    }
    // A weight per batch element: one grouped convolution, a group per element (and group).
    const ws = foldBatch(w.x);
    const grouped = { ...params, groups: params.groups * size };
    const [y] = runPrimitive('conv2d', [toGroups(expanded(x, size)), ws], grouped, [
      { shape: [n, size * o, ...spatial], dtype },
    ]);
    return [fromGroups(y, size)];
  },
  convTranspose2d: ([dy, w], params, outputs, size) => {
    const [n, c, ...spatial] = outputs[0].shape;
    const dtype = outputs[0].dtype;
    if (!w.batched) {
      const [y] = runPrimitive('convTranspose2d', [foldBatch(dy.x), w.x], params, [
        { shape: [size * n, c, ...spatial], dtype },
      ]);
      return [unfoldBatch(y, size)];
    }
    const grouped = { ...params, groups: params.groups * size };
    const [y] = runPrimitive('convTranspose2d', [toGroups(expanded(dy, size)), foldBatch(w.x)], grouped, [
      { shape: [n, size * c, ...spatial], dtype },
    ]);
    return [fromGroups(y, size)];
  },
  conv2dWeightGrad: ([x, dy], params, outputs, size) => {
    // Per-sample weight gradients: the batch folded into groups of one grouped convolution.
    const [o, ...rest] = outputs[0].shape;
    const grouped = { ...params, groups: params.groups * size };
    const [dw] = runPrimitive(
      'conv2dWeightGrad',
      [toGroups(expanded(x, size)), toGroups(expanded(dy, size))],
      grouped,
      [{ shape: [size * o, ...rest], dtype: outputs[0].dtype }],
    );
    return [unfoldBatch(dw, size)];
  },
  maxPool2d: planewise('maxPool2d'),
  avgPool2d: planewise('avgPool2d'),
  avgPool2dGrad: planewise('avgPool2dGrad'),
};
