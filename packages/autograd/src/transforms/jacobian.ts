import * as T from '@tsgrad/tensor';
import { checkFunction } from '../check.js';
import { constant, full, permute, reshape, stack } from '../ops/index.js';
import { treeFlatten, treeUnflatten, treeUnflattenAll } from '../pytree.js';
import type { Tensor } from '../tensor.js';
import { jvp } from './jvp.js';
import type { GradOptions } from './reverse.js';
import { normalizeArgnums, traceReverse } from './trace.js';
import type { Argnums, GradOf, ReplaceLeaves } from './types.js';

// Jacobians as in JAX: for an output leaf of shape O and an input leaf of shape I the block
// has shape [...O, ...I]. The result nests the input structure (per `argnums`) inside the
// output structure. jacrev pulls back one basis cotangent per output element; jacfwd pushes
// forward one basis tangent per input element.

type Jacobian<Args extends readonly unknown[], Out, N extends Argnums> = ReplaceLeaves<Out, GradOf<Args, N>>;

/** A constant like x with 1 at flat position k and 0 elsewhere. */
function basis(x: Tensor, k: number): Tensor {
  const data = T.allocTyped(x.dtype, x.size);
  data[k] = 1;
  return constant(T.array(data, { shape: x.shape }));
}

/** Stacks `parts` (each of shape `shape`) along a new leading axis; empty lists give size 0. */
function stackParts(parts: readonly Tensor[], shape: readonly number[], dtype: T.DType): Tensor {
  return parts.length === 0 ? full([0, ...shape], 0, dtype) : stack(parts);
}

/** Nests per-input blocks of one output leaf into the argument structure(s). */
function arrange(
  blocks: readonly Tensor[],
  group: (flat: readonly Tensor[]) => unknown[],
  argnums: Argnums,
): unknown {
  const trees = group(blocks);
  return typeof argnums === 'number' ? trees[0] : trees;
}

/** The Jacobian by reverse mode: one backward pass per output element. */
export function jacrev<Args extends unknown[], Out, const N extends Argnums = 0>(
  f: (...args: Args) => Out,
  options: GradOptions<N> = {},
): (...args: Args) => Jacobian<Args, Out, N> {
  checkFunction('jacrev', f);
  T.checkOptions('jacrev', options);
  return (...args) => {
    const argnums = options.argnums ?? 0;
    const trace = traceReverse(
      'jacrev',
      f as (...a: never[]) => unknown,
      args,
      normalizeArgnums('jacrev', argnums, args.length),
    );
    const [outputs, def] = treeFlatten(trace.result);
    const blocks = outputs.map((y) => {
      if (!T.isFloat(y.dtype))
        throw new T.DTypeError('jacrev', `can only differentiate floating-point outputs, got ${y.dtype}`);
      const rows = Array.from({ length: y.size }, (_, k) => trace.pull([y], [basis(y, k)]));
      const perInput = trace.inputs.map((x, j) =>
        reshape(
          stackParts(
            rows.map((row) => row[j]),
            x.shape,
            x.dtype,
          ),
          [...y.shape, ...x.shape],
        ),
      );
      return arrange(perInput, trace.group, argnums);
    });
    return trace.release(treeUnflatten(def, blocks)) as Jacobian<Args, Out, N>;
  };
}

/** The Jacobian by forward mode: one jvp per input element. */
export function jacfwd<Args extends unknown[], Out, const N extends Argnums = 0>(
  f: (...args: Args) => Out,
  options: GradOptions<N> = {},
): (...args: Args) => Jacobian<Args, Out, N> {
  checkFunction('jacfwd', f);
  T.checkOptions('jacfwd', options);
  return (...args) => {
    const argnums = options.argnums ?? 0;
    const indices = normalizeArgnums('jacfwd', argnums, args.length);
    const trees = indices.map((i) => treeFlatten(args[i]));
    const inputs = trees.flatMap(([leaves]) => leaves);
    for (const x of inputs) {
      if (!T.isFloat(x.dtype))
        throw new T.DTypeError('jacfwd', `can only differentiate floating-point inputs, got ${x.dtype}`);
    }
    const primals = indices.map((i) => args[i]);
    const partial = (...diff: unknown[]) => {
      const all = [...args];
      indices.forEach((i, k) => {
        all[i] = diff[k];
      });
      return f(...(all as Args));
    };
    const zeros = inputs.map((x) => full(x.shape, 0, x.dtype));
    const regroup = (flat: readonly Tensor[]): unknown[] =>
      treeUnflattenAll(
        trees.map(([, def]) => def),
        flat,
      );
    // columns[j][k]: the output tangents for basis direction k of input j.
    let out: unknown;
    const columns = inputs.map((x, j) =>
      Array.from({ length: x.size }, (_, k) => {
        const tangents = zeros.map((z, i) => (i === j ? basis(x, k) : z));
        const [y, tangentOut] = jvp(partial, primals, regroup(tangents));
        out = y;
        return treeFlatten(tangentOut)[0];
      }),
    );
    out ??= f(...args);
    const [outputs, def] = treeFlatten(out);
    const blocks = outputs.map((y, a) => {
      const perInput = inputs.map((x, j) => {
        const stacked = stackParts(
          columns[j].map((column) => column[a]),
          y.shape,
          y.dtype,
        );
        // [n, ...O] → [...O, n] → [...O, ...I]
        const moved = permute(stacked, [...y.shape.map((_, i) => i + 1), 0]);
        return reshape(moved, [...y.shape, ...x.shape]);
      });
      return arrange(perInput, regroup, argnums);
    });
    return treeUnflatten(def, blocks) as Jacobian<Args, Out, N>;
  };
}

/** The Hessian of a scalar function, `jacfwd(jacrev(f))` (forward over reverse). */
export function hessian<Args extends unknown[], const N extends Argnums = 0>(
  f: (...args: Args) => Tensor,
  options: GradOptions<N> = {},
): (...args: Args) => ReplaceLeaves<GradOf<Args, N>, GradOf<Args, N>> {
  checkFunction('hessian', f);
  const inner = jacrev(f, options) as (...args: Args) => GradOf<Args, N>;
  return jacfwd(inner, options) as (...args: Args) => ReplaceLeaves<GradOf<Args, N>, GradOf<Args, N>>;
}
