import { DTypeError, isFloat, ShapeError, ValueError } from '@tsgrad/tensor';
import { checkTensor } from '../check.js';
import { gradients } from '../engine.js';
import { isForwardActive } from '../forward.js';
import { inUserCode } from '../lifetime.js';
import { enableGrad, isGradEnabled } from '../mode.js';
import { defineOp, nextOpSerial, watchOps } from '../op.js';
import { cast, full } from '../ops/index.js';
import { treeFlatten, treeMap, treeUnflattenAll } from '../pytree.js';
import type { OpSpec } from '../spec.js';
import type { Tensor } from '../tensor.js';

// What the reverse-mode transforms share: differentiable stand-ins for the inputs, and a
// record of one call of the function that tells whether an outer computation (an enclosing
// transform, a tensor that requires grad, a forward-mode level) must see through the result.

/** The spec of internal ops made with `register: false`: the conformance harness never runs it. */
export function internalSpec<P>(): OpSpec<P> {
  return { inputs: [], samples: [], order: 0 };
}

/** A switch on a copy's gradient edge. Closed, the copy is a cut point (used by `checkpoint`). */
export interface Gate {
  open: boolean;
}

const alwaysOpen: Gate = { open: true };

const copyOp = defineOp<{ gate: Gate }>(
  {
    name: 'copy',
    forward: ([x]) => x,
    vjp: ({ params }, [g]) => [params.gate.open ? g : null],
    jvp: (_, [t]) => [t],
    save: { inputs: false },
    spec: internalSpec(),
  },
  { register: false },
);

/** A new tensor equal to x, connected to it when recording; it carries x's tangents. */
export function copy(x: Tensor, gate: Gate = alwaysOpen): Tensor {
  checkTensor('copy', x);
  return copyOp.apply([x], { gate })[0];
}

/**
 * A stand-in for x that requires grad: a copy connected to x when the current mode records
 * (so gradients with respect to it can be differentiated with respect to x), else a leaf.
 */
export function track(transform: string, x: Tensor, gate: Gate = alwaysOpen): Tensor {
  checkTensor('track', x);
  if (!isFloat(x.dtype))
    throw new DTypeError(transform, `can only differentiate floating-point inputs, got ${x.dtype}`);
  const y = copy(x, gate);
  if (!y.requiresGrad) y.requiresGrad = true;
  return y;
}

/** Validates JAX-style argnums (an index or a list of distinct indices; negative from the end). */
export function normalizeArgnums(
  transform: string,
  argnums: number | readonly number[],
  count: number,
): number[] {
  const list = typeof argnums === 'number' ? [argnums] : [...argnums];
  const normalized = list.map((i) => {
    if (!Number.isInteger(i) || i < -count || i >= count) {
      throw new ValueError(transform, `argnums ${i} is out of range for a call with ${count} argument(s)`);
    }
    return i < 0 ? i + count : i;
  });
  if (new Set(normalized).size !== normalized.length)
    throw new ValueError(transform, `argnums has duplicates: [${list.join(',')}]`);
  return normalized;
}

/** One call of a function on stand-ins of some of its arguments, ready to be pulled back. */
export interface ReverseTrace {
  /** What the function returned (on the stand-ins). */
  readonly result: unknown;
  /** The stand-ins, flattened over the differentiated arguments. */
  readonly inputs: readonly Tensor[];
  /**
   * Gradients of the stand-ins (zeros where unused) for cotangents of some outputs. Can be
   * called many times; `last` says this is the last call, so the graph may be freed.
   */
  pull(outputs: readonly Tensor[], cotangents: readonly Tensor[], last?: boolean): Tensor[];
  /** Regroups flat per-input values into one tree per differentiated argument. */
  group<L>(flat: readonly L[]): unknown[];
  /** Cuts a returned tree from the graph unless an outer computation needs to see through it. */
  release<R>(tree: R): R;
  /**
   * Frees the stand-ins once the call is over, unless an outer computation sees through them.
   * Like JAX tracers they are valid only while the function runs.
   */
  finish(): void;
}

/**
 * Calls `f(...args)` with the arguments at `argnums` replaced by stand-ins that require grad.
 * The backward pass records itself (createGraph) only when the caller records and the result
 * depends on something that requires grad outside this call: an input or a closed-over tensor.
 */
export function traceReverse(
  transform: string,
  f: (...args: never[]) => unknown,
  args: readonly unknown[],
  argnums: readonly number[],
): ReverseTrace {
  const callerRecords = isGradEnabled();
  const trees = argnums.map((i) => treeFlatten(args[i]));
  const originals = trees.flatMap(([leaves]) => leaves);
  const inputs = originals.map((x) => track(transform, x));
  const traced = [...args];
  const defs = trees.map(([, def]) => def);
  treeUnflattenAll(defs, inputs).forEach((tree, k) => {
    traced[argnums[k]] = tree;
  });
  const own = new Set(inputs);
  // The ops' outputs made during the call are those numbered from here on (no set of them to keep).
  const firstCreated = nextOpSerial();
  let external = false;
  const watch = (opInputs: readonly Tensor[]) => {
    for (let i = 0; i < opInputs.length; i++) {
      const x = opInputs[i];
      if (x.requiresGrad && x.opSerial < firstCreated && !own.has(x)) external = true;
    }
  };
  const result = inUserCode(
    () => enableGrad(() => watchOps(watch, () => (f as (...a: unknown[]) => unknown)(...traced))),
    inputs,
  );
  const connected = callerRecords && (external || originals.some((x) => x.requiresGrad));
  const keep = connected || isForwardActive();

  return {
    result,
    inputs,
    pull(outputs, cotangents, last = false) {
      const live = outputs.flatMap((y, i) => {
        const g = cotangents[i];
        if (g.shape.length !== y.shape.length || g.shape.some((d, j) => d !== y.shape[j])) {
          throw new ShapeError(
            transform,
            `cotangent of shape [${g.shape.join(',')}] for an output of shape [${y.shape.join(',')}]`,
          );
        }
        return y.requiresGrad ? [[y, cast(g, y.dtype)] as const] : [];
      });
      const found =
        live.length === 0
          ? []
          : gradients(
              live.map(([y]) => y),
              inputs,
              live.map(([, g]) => g),
              { createGraph: connected, retainGraph: keep || !last, allowUnused: true },
            );
      return inputs.map((x, i) => found[i] ?? full(x.shape, 0, x.dtype));
    },
    group: (flat) => treeUnflattenAll(defs, flat),
    release(tree) {
      if (keep) return tree;
      return treeMap((t) => (t.requiresGrad ? t.detach() : t), tree) as typeof tree;
    },
    finish() {
      if (!keep) for (const x of inputs) x.dispose();
    },
  };
}

/** The single float tensor a scalar function must return. */
export function scalarOutput(transform: string, out: unknown): Tensor {
  const [leaves, def] = treeFlatten(out);
  const y = leaves[0];
  if (def.kind !== 'leaf' || !isFloat(y.dtype) || y.size !== 1) {
    const got = def.kind === 'leaf' ? `a ${y.dtype} tensor of shape [${y.shape.join(',')}]` : 'a tree';
    throw new ValueError(transform, `the function must return a floating-point scalar tensor, got ${got}`);
  }
  return y;
}

/** The [output, aux] pair of a `hasAux` function. */
export function splitAux(transform: string, result: unknown): [unknown, unknown] {
  if (!Array.isArray(result) || result.length !== 2) {
    throw new ValueError(transform, 'with hasAux the function must return a pair [output, aux]');
  }
  return [result[0], result[1]];
}
