import { type Tensor, vjp } from '@tsgrad/autograd';
import { jit } from '@tsgrad/compiler';
import { mismatch, type Tolerance } from './compare.js';
import { randomTensor } from './draw.js';

// The jit check, for ops and layers alike: a function of tensors compiled with `jit` gives the
// eager values (float64 to 1e-12, float32 to the float32 tolerance), gradients through the
// jitted function equal the eager ones, and so does the jitted gradient. One compiled function
// serves every draw of a sample, so later draws replay the plan rather than trace it again.

/** `f(diff, rest)`: the outputs from the differentiated inputs and the others. */
export type SplitFunction = (diff: Tensor[], rest: Tensor[]) => Tensor[];

export const FLOAT64: Tolerance = { atol: 1e-12, rtol: 1e-12 };
const EXACT: Tolerance = { atol: 0, rtol: 0 };
const numbersOf = (x: Tensor): ArrayLike<number> => x.value.toTypedArray() as ArrayLike<number>;

/** Throws unless the outputs match in shape, dtype and values (float64 to 1e-12, float32 to `float32`). */
export function compare(
  label: string,
  actual: readonly Tensor[],
  expected: readonly Tensor[],
  float32: Tolerance,
): void {
  if (actual.length !== expected.length)
    throw new Error(`${label}: ${actual.length} outputs, expected ${expected.length}`);
  actual.forEach((y, k) => {
    const e = expected[k];
    if (y.shape.join() !== e.shape.join() || y.dtype !== e.dtype) {
      throw new Error(`${label}: output ${k} is ${y.dtype} [${y.shape}], eager ${e.dtype} [${e.shape}]`);
    }
    const t = y.dtype === 'float64' ? FLOAT64 : y.dtype === 'float32' ? float32 : EXACT;
    const problem = mismatch(numbersOf(y), numbersOf(e), y.shape, t);
    if (problem) throw new Error(`${label}: output ${k} ${problem}`);
  });
}

/** The jit check for one sample: call it once per draw. */
export function jitChecker(f: SplitFunction) {
  const forward = jit(f);
  const through = jit(f);
  let gradient: ((diff: Tensor[], rest: Tensor[], cotangents: Tensor[]) => Tensor[]) | undefined;
  return (
    diff: readonly Tensor[],
    rest: readonly Tensor[],
    float32: Tolerance,
    random: () => number,
  ): void => {
    const eager = f([...diff], [...rest]);
    compare('jit(f) vs f', forward([...diff], [...rest]), eager, float32);
    // Gradients in float64 only, of the float64 outputs (as gradcheck).
    const floats = eager.flatMap((y, k) => (y.dtype === 'float64' ? [k] : []));
    if (diff.length === 0 || floats.length === 0 || diff.some((x) => x.dtype !== 'float64')) return;
    const pick = (ys: Tensor[]) => floats.map((k) => ys[k]);
    const pullback = (g: SplitFunction, d: Tensor[], r: Tensor[], c: Tensor[]) =>
      vjp((...xs: Tensor[]) => pick(g(xs, r)), ...d)[1](c);
    gradient ??= jit((d: Tensor[], r: Tensor[], c: Tensor[]) => pullback(f, d, r, c));
    const cotangents = floats.map((k) => randomTensor(eager[k].shape, random));
    const expected = pullback(f, [...diff], [...rest], cotangents);
    compare(
      'gradient through jit(f) vs eager',
      pullback(through, [...diff], [...rest], cotangents),
      expected,
      float32,
    );
    compare('jit(gradient of f) vs eager', gradient([...diff], [...rest], cotangents), expected, float32);
  };
}
