import { checkOptions, ValueError } from '@tsgrad/tensor';
import { checkFunction } from '../check.js';
import { inLibrary } from '../lifetime.js';
import { full } from '../ops/index.js';
import { sameStructure, treeFlatten } from '../pytree.js';
import type { Tensor } from '../tensor.js';
import { normalizeArgnums, scalarOutput, splitAux, traceReverse } from './trace.js';
import type { Argnums, GradOf } from './types.js';

// Reverse-mode transforms in JAX's style: `grad`, `valueAndGrad` and `vjp` return functions.
// Arguments and results may be pytrees; the gradient of an argument has its structure.

/** Options of `grad`. */
export interface GradOptions<N extends Argnums = Argnums> {
  /** The argument(s) to differentiate: an index (the default, 0) or a list of indices. */
  readonly argnums?: N;
}

/** Options of `valueAndGrad` (and of `grad` with an auxiliary output). */
export interface ValueAndGradOptions<N extends Argnums = Argnums> extends GradOptions<N> {
  /** The function returns `[output, aux]`; aux is passed through, not differentiated. */
  readonly hasAux?: boolean;
}

/** Runs f once and differentiates its scalar output; the core of grad and valueAndGrad. */
function evaluate(
  transform: string,
  f: (...args: never[]) => unknown,
  args: readonly unknown[],
  options: ValueAndGradOptions,
) {
  return inLibrary(() => {
    const argnums = normalizeArgnums(transform, options.argnums ?? 0, args.length);
    const trace = traceReverse(transform, f, args, argnums);
    const [out, aux] = options.hasAux ? splitAux(transform, trace.result) : [trace.result, undefined];
    const y = scalarOutput(transform, out);
    const grads = trace.group(trace.pull([y], [full(y.shape, 1, y.dtype)], true));
    const gradient = typeof (options.argnums ?? 0) === 'number' ? grads[0] : grads;
    const result = { value: trace.release(y), aux: trace.release(aux), gradient };
    trace.finish();
    return result;
  });
}

/**
 * The gradient of a scalar function with respect to its argument(s) `argnums`. With
 * `hasAux`, f returns `[output, aux]` and the result is `[gradient, aux]`.
 *
 * Nesting works (`grad(grad(f))`), as does differentiating a function that closes over
 * tensors an enclosing transform differentiates. As JAX tracers, the tensors f receives are
 * valid only while it runs (unless an enclosing computation differentiates through them).
 *
 * @example
 * ```ts
 * const f = (x: Tensor) => sum(tanh(x));
 * grad(f)(tensor([0.5, -1])); // 1 − tanh²(x), elementwise
 * grad(grad(f))(tensor([0.5])); // the second derivative at 0.5
 * const mse = (w: Tensor, x: Tensor, y: Tensor) => mean(square(sub(matmul(x, w), y)));
 * const gw = grad(mse)(w, x, y); // with respect to w (argnums 0), shaped like w
 * ```
 */
export function grad<Args extends unknown[], const N extends Argnums = 0>(
  f: (...args: Args) => Tensor,
  options?: GradOptions<N> & { readonly hasAux?: false },
): (...args: Args) => GradOf<Args, N>;
export function grad<Args extends unknown[], Aux, const N extends Argnums = 0>(
  f: (...args: Args) => readonly [Tensor, Aux],
  options: GradOptions<N> & { readonly hasAux: true },
): (...args: Args) => [GradOf<Args, N>, Aux];
export function grad(f: (...args: never[]) => unknown, options: ValueAndGradOptions = {}) {
  checkFunction('grad', f);
  checkOptions('grad', options);
  return (...args: unknown[]) => {
    const { aux, gradient } = evaluate('grad', f, args, options);
    return options.hasAux ? [gradient, aux] : gradient;
  };
}

/**
 * Like `grad`, returning `[value, gradient]`, or `[[value, aux], gradient]` with `hasAux`.
 */
export function valueAndGrad<Args extends unknown[], const N extends Argnums = 0>(
  f: (...args: Args) => Tensor,
  options?: ValueAndGradOptions<N> & { readonly hasAux?: false },
): (...args: Args) => [Tensor, GradOf<Args, N>];
export function valueAndGrad<Args extends unknown[], Aux, const N extends Argnums = 0>(
  f: (...args: Args) => readonly [Tensor, Aux],
  options: ValueAndGradOptions<N> & { readonly hasAux: true },
): (...args: Args) => [[Tensor, Aux], GradOf<Args, N>];
export function valueAndGrad(f: (...args: never[]) => unknown, options: ValueAndGradOptions = {}) {
  checkFunction('valueAndGrad', f);
  checkOptions('valueAndGrad', options);
  return (...args: unknown[]) => {
    const { value, aux, gradient } = evaluate('valueAndGrad', f, args, options);
    return options.hasAux ? [[value, aux], gradient] : [value, gradient];
  };
}

/**
 * Evaluates `f(...primals)` and returns `[output, vjpFn]`: `vjpFn(cotangent)` (a tree shaped
 * like the output) gives the cotangents of all primals, one tree per primal. vjpFn can be
 * called many times.
 */
export function vjp<Args extends unknown[], Out>(
  f: (...args: Args) => Out,
  ...primals: Args
): [Out, (cotangent: Out) => Args] {
  checkFunction('vjp', f);
  const trace = traceReverse(
    'vjp',
    f as (...args: never[]) => unknown,
    primals,
    primals.map((_, i) => i),
  );
  const [outputs, def] = treeFlatten(trace.result);
  const pullback = (cotangent: Out): Args => {
    const [cotangents, cotangentDef] = treeFlatten(cotangent);
    if (!sameStructure(def, cotangentDef))
      throw new ValueError('vjp', 'the cotangent must have the structure of the output');
    return trace.group(trace.pull(outputs, cotangents)) as Args;
  };
  return [trace.release(trace.result) as Out, pullback];
}
