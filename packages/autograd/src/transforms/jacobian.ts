import * as T from '@tsgrad/tensor';
import { checkFunction } from '../check.js';
import { constant, full, reshape } from '../ops/index.js';
import { type TreeDef, treeFlatten, treeUnflatten, treeUnflattenAll } from '../pytree.js';
import type { Tensor } from '../tensor.js';
import { jvp } from './jvp.js';
import type { GradOptions } from './reverse.js';
import { normalizeArgnums, traceReverse } from './trace.js';
import type { Argnums, GradOf, ReplaceLeaves } from './types.js';
import { vmap } from './vmap.js';

// Jacobians as in JAX: for an output leaf of shape O and an input leaf of shape I the block
// has shape [...O, ...I]. The result nests the input structure (per `argnums`) inside the
// output structure. jacrev pulls back the basis cotangents of an output, jacfwd pushes forward
// the basis tangents of an input, each as one pass vmapped over the basis.

type Jacobian<Args extends readonly unknown[], Out, N extends Argnums> = ReplaceLeaves<Out, GradOf<Args, N>>;

/** The standard basis of x's space as one constant: [x.size, ...x.shape], row k is e_k. */
function basis(x: Tensor): Tensor {
  return constant(T.reshape(T.eye(x.size, x.size, 0, { dtype: x.dtype }), [x.size, ...x.shape]));
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

/** The Jacobian by reverse mode: one backward pass, vmapped over the output's basis. */
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
      // rows[j]: [y.size, ...x_j.shape], the gradients of every output element.
      const rows = vmap((cotangent: Tensor) => trace.pull([y], [cotangent]))(basis(y));
      const perInput = trace.inputs.map((x, j) => reshape(rows[j], [...y.shape, ...x.shape]));
      return arrange(perInput, trace.group, argnums);
    });
    return trace.release(treeUnflatten(def, blocks)) as Jacobian<Args, Out, N>;
  };
}

/** The Jacobian by forward mode: one jvp per input, vmapped over the input's basis. */
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
    let outDef: TreeDef | undefined;
    // columns[j][a]: output a's tangents for every basis direction of input j, [...O, x_j.size].
    const columns = inputs.map((x, j) =>
      vmap(
        (direction: Tensor) => {
          const tangents = zeros.map((z, i) => (i === j ? direction : z));
          const [leaves, def] = treeFlatten(jvp(partial, primals, regroup(tangents))[1]);
          outDef = def;
          return leaves;
        },
        { outAxes: -1 },
      )(basis(x)),
    );
    outDef ??= treeFlatten(f(...args))[1];
    const blocks = (columns[0] ?? []).map((_, a) => {
      const perInput = inputs.map((x, j) => {
        const column = columns[j][a];
        return reshape(column, [...column.shape.slice(0, -1), ...x.shape]);
      });
      return arrange(perInput, regroup, argnums);
    });
    return treeUnflatten(outDef, blocks) as Jacobian<Args, Out, N>;
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
