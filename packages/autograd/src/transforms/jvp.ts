import { isFloat, ShapeError, ValueError } from '@tsgrad/tensor';
import { checkFunction } from '../check.js';
import { withNewLevel } from '../forward.js';
import { cast, full } from '../ops/index.js';
import { sameStructure, treeFlatten, treeUnflatten } from '../pytree.js';
import { copy } from './trace.js';

/**
 * Forward mode: evaluates `f(...primals)` and its directional derivative along `tangents`
 * (trees shaped like the primals), returning `[output, tangentOut]`. Exact: each op uses its
 * `jvp` rule, or one derived from its VJP. Nested calls (jvp of jvp, jvp of grad) work.
 * Non-float primals carry no tangent (theirs is ignored); an output that does not depend on
 * the primals gets a zero tangent.
 */
export function jvp<Args extends unknown[], Out>(
  f: (...args: Args) => Out,
  primals: Args,
  tangents: Args,
): [Out, Out] {
  checkFunction('jvp', f);
  if (!Array.isArray(primals) || !Array.isArray(tangents)) {
    throw new ValueError('jvp', 'primals and tangents must be lists of arguments');
  }
  const [xs, def] = treeFlatten(primals);
  const [ts, tangentDef] = treeFlatten(tangents);
  if (!sameStructure(def, tangentDef))
    throw new ValueError('jvp', 'the tangents must have the structure of the primals');
  return withNewLevel((level) => {
    const inputs = xs.map((x, i) => {
      const t = ts[i];
      if (t.shape.length !== x.shape.length || t.shape.some((d, j) => d !== x.shape[j])) {
        throw new ShapeError(
          'jvp',
          `tangent of shape [${t.shape.join(',')}] for a primal of shape [${x.shape.join(',')}]`,
        );
      }
      const stand = copy(x);
      if (isFloat(x.dtype)) stand.setTangent(level, cast(t, x.dtype));
      return stand;
    });
    const out = f(...(treeUnflatten(def, inputs) as Args));
    const [ys, outDef] = treeFlatten(out);
    const tangentOut = ys.map((y) => y.tangentAt(level) ?? full(y.shape, 0, y.dtype));
    return [out, treeUnflatten(outDef, tangentOut) as Out];
  });
}
