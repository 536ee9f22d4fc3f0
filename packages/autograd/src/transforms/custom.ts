import { type NDArray, ValueError, view } from '@tsgrad/tensor';
import { checkFunction } from '../check.js';
import { isForwardActive } from '../forward.js';
import { inUserCode } from '../lifetime.js';
import { isGradEnabled } from '../mode.js';
import { defineOp } from '../op.js';
import { type TreeDef, treeFlatten, treeSize, treeUnflatten } from '../pytree.js';
import { Tensor } from '../tensor.js';
import { internalSpec } from './trace.js';

interface CustomParams {
  /** The outputs, computed by `fwd` before the op is applied. */
  readonly values: readonly NDArray[];
  readonly backward: (cotangents: readonly Tensor[]) => (Tensor | null)[];
  /** How many of the op's inputs are the residuals' tensors, after the arguments'. */
  readonly residuals: number;
}

/**
 * A function with a hand-written VJP, with JAX's `custom_vjp` semantics. `fwd(...args)`
 * returns `[output, residuals]`; `bwd(residuals, cotangent)` returns the cotangents of the
 * arguments, an array with one tree per argument (null, or a static value, where an argument
 * or leaf has none; a single argument's cotangent may be returned bare). Without anything to
 * differentiate the call is simply `f(...args)`.
 *
 * The result is a tape node whose VJP calls `bwd`; `fwd` runs in the current grad mode, so
 * residuals stay connected to the inputs and a `bwd` written with differentiable ops can
 * itself be differentiated (higher order) and gives forward mode through the double-VJP
 * trick. Gradients reach only the arguments, not tensors that `f` closes over (pass them as
 * arguments). The node's op is not registered: check `bwd` with `gradcheck` in your tests.
 */
export function customVjp<Args extends unknown[], Out, Residuals>(
  f: (...args: Args) => Out,
  fwd: (...args: Args) => readonly [Out, Residuals],
  bwd: (residuals: Residuals, cotangent: Out) => unknown,
): (...args: Args) => Out {
  checkFunction('customVjp', f, 'f');
  checkFunction('customVjp', fwd, 'fwd');
  checkFunction('customVjp', bwd, 'bwd');
  const op = defineOp<CustomParams>(
    {
      name: `customVjp(${f.name || 'anonymous'})`,
      // Views: the op's outputs own their arrays apart from fwd's tensors, which a library
      // frame calling customVjp frees when it ends.
      forward: (_, { values }) => values.map(view),
      vjp: ({ params }, cotangents) => [
        ...params.backward(cotangents),
        ...new Array<null>(params.residuals).fill(null),
      ],
      spec: internalSpec(),
    },
    { register: false },
  );
  return (...args) => {
    const [inputs, argsDef] = treeFlatten(args);
    const differentiate = (isGradEnabled() && inputs.some((x) => x.requiresGrad)) || isForwardActive();
    if (!differentiate) return f(...args);
    const [out, residuals] = fwd(...args);
    const [outputs, outDef] = treeFlatten(out);
    if (outputs.length === 0) throw new ValueError(op.definition.name, 'the output has no tensors');
    const backward = (cotangents: readonly Tensor[]) => {
      const given = inUserCode(() => bwd(residuals, treeUnflatten(outDef, cotangents) as Out), cotangents);
      return flattenCotangents(op.definition.name, given, argsDef, args.length);
    };
    // The residuals' tensors are inputs of the node too (with no gradient of their own), so
    // that the tape keeps them alive until backward even when library code made them.
    const kept = tensorsIn(residuals);
    const results = op.apply([...inputs, ...kept], {
      values: outputs.map((y) => y.peekValue()),
      backward,
      residuals: kept.length,
    });
    return treeUnflatten(outDef, results) as Out;
  };
}

/** bwd's per-argument cotangents, flattened to match the inputs (null where missing). */
function flattenCotangents(name: string, given: unknown, argsDef: TreeDef, count: number): (Tensor | null)[] {
  const perArg = count === 1 && !Array.isArray(given) ? [given] : given;
  if (!Array.isArray(perArg) || perArg.length !== count) {
    throw new ValueError(name, `bwd must return an array of ${count} cotangent(s), one per argument`);
  }
  if (argsDef.kind !== 'array') throw new ValueError('customVjp', 'the arguments must flatten to an array');
  return argsDef.children.flatMap((def, i) => leavesMatching(name, perArg[i], def, i));
}

function leavesMatching(name: string, cotangent: unknown, def: TreeDef, arg: number): (Tensor | null)[] {
  if (cotangent === null || cotangent === undefined) return new Array<null>(treeSize(def)).fill(null);
  const mismatch = () =>
    new ValueError(name, `bwd's cotangent for argument ${arg} does not have the argument's structure`);
  switch (def.kind) {
    case 'leaf':
      if (!(cotangent instanceof Tensor)) throw mismatch();
      return [cotangent];
    case 'static':
      return [];
    case 'array':
      if (!Array.isArray(cotangent) || cotangent.length !== def.children.length) throw mismatch();
      return def.children.flatMap((child, i) => leavesMatching(name, cotangent[i], child, arg));
    case 'object': {
      if (typeof cotangent !== 'object' || Array.isArray(cotangent)) throw mismatch();
      const fields = cotangent as Record<string, unknown>;
      return def.children.flatMap((child, i) => leavesMatching(name, fields[def.keys[i]], child, arg));
    }
  }
}

/** The tensors in arrays and plain objects of `value` (residuals may hold anything else too). */
function tensorsIn(value: unknown, found: Tensor[] = [], seen = new Set<unknown>()): Tensor[] {
  if (value instanceof Tensor) found.push(value);
  else if (typeof value === 'object' && value !== null && !seen.has(value)) {
    seen.add(value);
    const isPlain = Array.isArray(value) || Object.getPrototypeOf(value) === Object.prototype;
    if (isPlain) for (const child of Object.values(value)) tensorsIn(child, found, seen);
  }
  return found;
}
