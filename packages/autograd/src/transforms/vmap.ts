import * as T from '@tsgrad/tensor';
import { enter, leave } from '../batch-levels.js';
import { checkFunction } from '../check.js';
import { isForwardActive } from '../forward.js';
import { inLibrary, inUserCode, letGo } from '../lifetime.js';
import { treeFlatten, treeUnflatten } from '../pytree.js';
import type { Tensor } from '../tensor.js';
import { copy } from './trace.js';

// vmap as in JAX: f runs once, on arrays of a BatchingBackend (@tsgrad/tensor) whose shapes
// are one example's; each primitive's batching rule computes all examples at once. Entering
// and leaving the level are ops on the tape (moving the batch axis is linear), so vmap
// composes with grad, jvp and jit in either order: vmap(grad(f)) differentiates inside the
// level, grad(vmap(f)) differentiates through it.

/** Where an argument (or output) is batched: an axis, null for not at all, or a tree of them. */
export type AxisSpec = number | null | readonly AxisSpec[] | { readonly [key: string]: AxisSpec };

/** Options of `vmap`: where the arguments and results are batched, and the batch size. */
export interface VmapOptions {
  /**
   * The batch axis of each argument: one spec for all (default 0), or a list with one entry
   * per argument, each a number (negative counts from the end), null (not batched: the same
   * for every example) or a tree prefix of that argument.
   */
  readonly inAxes?: AxisSpec;
  /** Where the batch axis goes in each output (default 0); null for an output that is not batched. */
  readonly outAxes?: AxisSpec;
  /** The batch size, needed when no argument is batched. */
  readonly axisSize?: number;
}

/** The spec of every leaf of `tree`, in `treeFlatten` order; `spec` is a prefix of the tree. */
function leafSpecs(spec: AxisSpec, tree: unknown, what: string, path: string): (number | null)[] {
  if (spec === null || typeof spec === 'number') {
    return treeFlatten(tree)[0].map(() => spec);
  }
  if (Array.isArray(spec)) {
    if (!Array.isArray(tree) || tree.length !== spec.length) {
      throw new T.ValueError(
        'vmap',
        `${what} at ${path || 'the root'} is a list of ${spec.length}, which does not match the tree`,
      );
    }
    return spec.flatMap((s, i) => leafSpecs(s, tree[i], what, `${path}[${i}]`));
  }
  if (typeof spec === 'object') {
    const keys = Object.keys(spec);
    const node = tree as Record<string, unknown>;
    if (typeof tree !== 'object' || tree === null || Array.isArray(tree) || keys.some((k) => !(k in node))) {
      throw new T.ValueError('vmap', `${what} at ${path || 'the root'} names keys the tree does not have`);
    }
    if (Object.keys(node).length !== keys.length) {
      throw new T.ValueError('vmap', `${what} at ${path || 'the root'} must name every key of the tree`);
    }
    return Object.keys(node).flatMap((k) =>
      leafSpecs((spec as Record<string, AxisSpec>)[k], node[k], what, `${path}.${k}`),
    );
  }
  throw new T.ValueError(
    'vmap',
    `${what} must be numbers, null, or lists and objects of them, got ${T.describe(spec)}`,
  );
}

function normalizeAxis(what: string, axis: number, ndim: number): number {
  if (!Number.isInteger(axis) || axis < -ndim || axis >= ndim) {
    throw new T.IndexError('vmap', `${what} ${axis} is out of range for ${ndim} dimension(s)`);
  }
  return axis < 0 ? axis + ndim : axis;
}

/**
 * Vectorizing map, as JAX's `vmap`: `vmap(f)(xs)` equals stacking `f(x)` over the batch axis
 * of `xs`, computed in one pass by batched kernels. Arguments and results are pytrees;
 * `inAxes`/`outAxes` say where each one's batch axis is. Nests (`vmap(vmap(f))`) and composes
 * with `grad`, `jvp`, `jit` and the Jacobians in any order: `vmap(grad(loss))` gives
 * per-example gradients. Inside f a batched value cannot be read on the host (`item()`,
 * `toArray()`): that throws a `BatchedReadError`.
 */
export function vmap<Args extends unknown[], Out>(
  f: (...args: Args) => Out,
  options: VmapOptions = {},
): (...args: Args) => Out {
  checkFunction('vmap', f);
  T.checkOptions('vmap', options);
  const inAxes = options.inAxes ?? 0;
  const outAxes = options.outAxes ?? 0;
  if (options.axisSize !== undefined && (!Number.isInteger(options.axisSize) || options.axisSize < 0)) {
    throw new T.ValueError(
      'vmap',
      `axisSize must be a non-negative integer, got ${T.describe(options.axisSize)}`,
    );
  }
  return (...args) =>
    inLibrary(() => {
      const perArgument = Array.isArray(inAxes) ? inAxes : args.map(() => inAxes as AxisSpec);
      if (perArgument.length !== args.length) {
        throw new T.ValueError(
          'vmap',
          `inAxes has ${perArgument.length} entries for ${args.length} argument(s)`,
        );
      }
      const [leaves, def] = treeFlatten(args);
      const specs = leafSpecs(perArgument, args, 'inAxes', '');
      const axes = leaves.map((x, i) => {
        const s = specs[i];
        return s === null ? null : normalizeAxis('inAxes', s, x.ndim);
      });
      const size = batchSize(leaves, axes, options.axisSize);
      const level = T.BatchingBackend.over(
        leaves.map((x) => x.peekValue()),
        size,
      );
      // f gets its own tensors: what it assigns to one (a running statistic) stays inside.
      const inside = leaves.map((x, i) => (axes[i] === null ? copy(x) : enter(x, { level, axis: axes[i] })));
      level.active = true;
      let out: Out;
      try {
        out = T.withBackend(level, () =>
          inUserCode(() => f(...(treeUnflatten(def, inside) as Args)), inside),
        );
      } finally {
        level.active = false;
      }
      const [results, outDef] = treeFlatten(out);
      const outSpecs = leafSpecs(outAxes, out, 'outAxes', '');
      const outside = results.map((y, i) => {
        const s = outSpecs[i];
        const axis = s === null ? null : normalizeAxis('outAxes', s, y.ndim + 1);
        return leave(y, { level, axis });
      });
      // The results outside are views of the buffers of f's results inside, which nothing but
      // the tape can reach now (as in JAX, a value of the level that escaped f is not usable
      // after vmap returns): let them go, so that disposing a result frees its memory.
      for (const y of new Set(results)) if (y.peekValue().backend === level) letGo(y);
      // Unless something outside recorded through the level (a tape node, a tangent), nothing
      // can use its arrays any more: free them now rather than leave them to the GC.
      if (isForwardActive() || outside.some((t) => t.requiresGrad)) level.keep();
      else level.close();
      return treeUnflatten(outDef, outside) as Out;
    });
}

function batchSize(
  leaves: readonly Tensor[],
  axes: readonly (number | null)[],
  axisSize: number | undefined,
): number {
  let size = axisSize;
  leaves.forEach((x, i) => {
    const axis = axes[i];
    if (axis === null) return;
    const n = x.shape[axis];
    if (size !== undefined && n !== size) {
      throw new T.ShapeError(
        'vmap',
        `inconsistent batch sizes: ${size} and ${n} (argument leaf ${i}, axis ${axis})`,
      );
    }
    size = n;
  });
  if (size === undefined) throw new T.ValueError('vmap', 'no argument is batched: give axisSize');
  return size;
}
