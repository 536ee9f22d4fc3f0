import * as T from '@tsgrad/tensor';
import { checkOptions } from '@tsgrad/tensor';
import { checkTensor } from '../check.js';
import { defineOp } from '../op.js';
import type { OpSample } from '../spec.js';
import type { Tensor } from '../tensor.js';
import { constant } from './convert.js';
import { div, mul, where } from './elementwise.js';
import { reshape, transpose } from './movement.js';
import { sum } from './reduce.js';

// Cumulative sums and products along one axis. `reverse` scans from the end (as in JAX's
// lax.cumsum): it is the adjoint of the forward scan, so cumsum's VJP is a reversed cumsum.

/** Options of `cumsum` and `cumprod`. */
export interface ScanOptions {
  /** Accumulate from the last element backwards: y_k = Σ_{j ≥ k} x_j. */
  readonly reverse?: boolean;
}

type ScanParams = { axis: number; reverse: boolean };

function scanned(
  name: string,
  kernel: (x: T.NDArray, axis: number) => T.NDArray,
  x: T.NDArray,
  { axis, reverse }: ScanParams,
): T.NDArray {
  T.normalizeAxis(name, axis, x.ndim);
  if (!reverse) return kernel(x, axis);
  return T.flip(kernel(T.flip(x, axis), axis), axis);
}

const scanSamples: readonly OpSample<ScanParams>[] = [
  { shapes: [[5]], params: { axis: 0, reverse: false } },
  { shapes: [[4]], params: { axis: 0, reverse: true } },
  { shapes: [[2, 3]], params: { axis: 1, reverse: false } },
  { shapes: [[3, 2]], params: { axis: -2, reverse: true } },
  { shapes: [[2, 3, 4]], params: { axis: 1, reverse: false } },
  { shapes: [[3, 1]], params: { axis: 1, reverse: true } },
];

/** A float64 scan along `axis` for the specs: y = step(accumulated, x) in scan order. */
function scanReference(
  x: Float64Array,
  shape: readonly number[],
  { axis, reverse }: ScanParams,
  step: (a: number, b: number) => number,
) {
  const a = T.normalizeAxis('scan', axis, shape.length);
  const n = shape[a];
  const inner = shape.slice(a + 1).reduce((p, d) => p * d, 1);
  const out = new Float64Array(x.length);
  for (let start = 0; start < x.length; start++) {
    if (Math.floor(start / inner) % n !== 0) continue;
    let acc = Number.NaN;
    for (let k = 0; k < n; k++) {
      const at = start + (reverse ? n - 1 - k : k) * inner;
      acc = k === 0 ? x[at] : step(acc, x[at]);
      out[at] = acc;
    }
  }
  return out;
}

const badAxis = [{ shapes: [[2, 3]], params: { axis: 2, reverse: false }, throws: T.IndexError }];

const cumsumOp = defineOp<ScanParams>({
  name: 'cumsum',
  forward: ([x], params) => scanned('cumsum', T.cumsum, x, params),
  vjp: ({ params: { axis, reverse } }, [g]) => [cumsum(g, axis, { reverse: !reverse })],
  jvp: ({ params: { axis, reverse } }, [t]) => [cumsum(t, axis, { reverse })],
  save: { inputs: false },
  spec: {
    inputs: [{}],
    samples: scanSamples,
    reference: ([x], [shape], params) => [scanReference(x, shape, params, (a, b) => a + b)],
    errors: badAxis,
  },
});

/** Applies a scan op to a tensor of rank ≥ 1 (a 0-d tensor is scanned as a 1-element vector). */
function applyScan(op: typeof cumsumOp, name: string, x: Tensor, axis: number, options: ScanOptions): Tensor {
  const a = T.normalizeAxis(name, axis, x.ndim);
  const params = { axis: a, reverse: options.reverse ?? false };
  if (x.ndim === 0) return reshape(op.apply([reshape(x, [1])], params)[0], []);
  return op.apply([x], params)[0];
}

/** Cumulative sum along `axis`, like `torch.cumsum` (`reverse` sums from the end). */
export function cumsum(x: Tensor, axis: number, options: ScanOptions = {}): Tensor {
  checkTensor('cumsum', x);
  checkOptions('cumsum', options);
  return applyScan(cumsumOp, 'cumsum', x, axis, options);
}

/** A bool constant [n, n]: `relation(row, column)`. */
function indexRelation(n: number, relation: (rows: T.NDArray, cols: T.NDArray) => T.NDArray): Tensor {
  const positions = T.arange(n);
  return constant(relation(T.reshape(positions, [n, 1]), T.reshape(positions, [1, n])));
}

/**
 * The Jacobian of a cumprod along the last axis, W[…, i, k] = ∂y_k/∂x_i, computed without
 * division: the scan of x with x_i replaced by 1, kept where y_k depends on x_i. O(n²) per
 * line, so it is used only when the input has zeros, where y / x breaks down.
 */
function cumprodJacobian(x: Tensor, reverse: boolean): Tensor {
  const n = x.shape[x.ndim - 1];
  const lines = reshape(x, [...x.shape.slice(0, -1), 1, n]);
  const partial = cumprod(where(indexRelation(n, T.eq), 1, lines), -1, { reverse });
  return where(indexRelation(n, reverse ? T.ge : T.le), partial, 0);
}

/** f applied with `axis` swapped to the end (a swap is its own inverse). */
function alongLast(x: Tensor, axis: number, f: (last: Tensor) => Tensor): Tensor {
  return transpose(f(transpose(x, axis, -1)), axis, -1);
}

/** Whether x may hold a zero (always, while traced: the zero-safe formula is exact everywhere). */
function hasZero(x: Tensor): boolean {
  return T.isTraced(x.peekValue()) || x.peekValue().toTypedArray().includes(0);
}

const cumprodOp = defineOp<ScanParams>({
  name: 'cumprod',
  forward: ([x], params) => scanned('cumprod', T.cumprod, x, params),
  vjp: ({ inputs: [x], outputs: [y], params: { axis, reverse } }, [g]) => {
    if (!hasZero(x)) return [div(cumsum(mul(g, y), axis, { reverse: !reverse }), x)];
    return [
      alongLast(x, axis, (xs) => {
        const gs = transpose(g, axis, -1);
        return sum(
          mul(
            cumprodJacobian(xs, reverse),
            reshape(gs, [...gs.shape.slice(0, -1), 1, gs.shape[gs.ndim - 1]]),
          ),
          { axis: -1 },
        );
      }),
    ];
  },
  jvp: ({ inputs: [x], outputs: [y], params: { axis, reverse } }, [t]) => {
    if (!hasZero(x)) return [mul(y, cumsum(div(t, x), axis, { reverse }))];
    return [
      alongLast(x, axis, (xs) => {
        const ts = transpose(t, axis, -1);
        return sum(mul(cumprodJacobian(xs, reverse), reshape(ts, [...ts.shape, 1])), { axis: -2 });
      }),
    ];
  },
  save: { inputs: true, outputs: true },
  spec: {
    // Exact zeros exercise the division-free gradient; cumprod is a polynomial, so finite
    // differences stay accurate there.
    inputs: [
      {
        values: (shape, _, random) =>
          Array.from({ length: T.sizeOf(shape) }, () => (random() < 0.25 ? 0 : 3 * random() - 1.5)),
      },
    ],
    samples: scanSamples,
    reference: ([x], [shape], params) => [scanReference(x, shape, params, (a, b) => a * b)],
    errors: badAxis,
  },
});

/**
 * Cumulative product along `axis`, like `torch.cumprod` (`reverse` multiplies from the end).
 * Its gradient is exact also at zeros in the input, to every order: y / x is used only when
 * the input has no zero, otherwise a division-free O(n²)-per-line formula.
 */
export function cumprod(x: Tensor, axis: number, options: ScanOptions = {}): Tensor {
  checkTensor('cumprod', x);
  checkOptions('cumprod', options);
  return applyScan(cumprodOp, 'cumprod', x, axis, options);
}
