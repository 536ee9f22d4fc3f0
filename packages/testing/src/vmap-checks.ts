import { narrow, squeeze, stack, type Tensor, vjp, vmap } from '@tsgrad/autograd';
import type { Tolerance } from './compare.js';
import { randomTensor } from './draw.js';
import { compare, type SplitFunction } from './jit-checks.js';

// The vmap check, for ops and layers alike: `vmap(f)` over a batch of independently drawn
// examples equals `f` on each example, stacked, and `vmap` of f's pullback equals the
// per-example gradients. Each input gets a random batch axis (negative ones too) or null (then
// every example uses the first one's value); the output axis is 0 or -1; the batch size is
// whatever the caller drew (1 included).

/** One example: the differentiated inputs and the others, in `SplitFunction` order. */
export interface Example {
  readonly diff: readonly Tensor[];
  readonly rest: readonly Tensor[];
}

/** A random batch axis for an input of `ndim` dimensions, or null (one time in four). */
function drawAxis(ndim: number, random: () => number): number | null {
  if (random() < 0.25) return null;
  const choices = 2 * (ndim + 1);
  return Math.floor(random() * choices) - (ndim + 1);
}

const positive = (axis: number, ndim: number) => (axis < 0 ? axis + ndim + 1 : axis);

/** The examples' values of one input, stacked at `axis` (or the first one's for null). */
function batchOf(values: readonly Tensor[], axis: number | null): Tensor {
  return axis === null ? values[0] : stack(values, positive(axis, values[0].ndim));
}

/** The stacked results of `each` over the examples, per output, at `axis` (0 or -1). */
function stackedResults(results: readonly Tensor[][], axis: number): Tensor[] {
  return results[0].map((y, k) =>
    stack(
      results.map((r) => r[k]),
      positive(axis, y.ndim),
    ),
  );
}

/** Throws unless vmap(f) and vmap of f's pullback agree with the per-example results. */
export function checkVmap(
  f: SplitFunction,
  examples: readonly Example[],
  float32: Tolerance,
  random: () => number,
): void {
  const first = examples[0];
  const diffAxes = first.diff.map((x) => drawAxis(x.ndim, random));
  const restAxes = first.rest.map((x) => drawAxis(x.ndim, random));
  // An unbatched input has the first example's value in every example.
  const effective = examples.map((e) => ({
    diff: e.diff.map((x, i) => (diffAxes[i] === null ? first.diff[i] : x)),
    rest: e.rest.map((x, i) => (restAxes[i] === null ? first.rest[i] : x)),
  }));
  const diff = first.diff.map((_, i) =>
    batchOf(
      effective.map((e) => e.diff[i]),
      diffAxes[i],
    ),
  );
  const rest = first.rest.map((_, i) =>
    batchOf(
      effective.map((e) => e.rest[i]),
      restAxes[i],
    ),
  );
  const outAxis = random() < 0.5 ? 0 : -1;
  const inAxes = [diffAxes, restAxes];
  const axesText = `inAxes ${JSON.stringify(inAxes)}, outAxes ${outAxis}, batch ${examples.length}`;
  const eager = effective.map((e) => f([...e.diff], [...e.rest]));
  compare(
    `vmap(f) vs f per example (${axesText})`,
    vmap(f, { inAxes, outAxes: outAxis, axisSize: examples.length })(diff, rest),
    stackedResults(eager, outAxis),
    float32,
  );
  // Per-example gradients in float64 only, of the float64 outputs (as gradcheck).
  const floats = eager[0].flatMap((y, k) => (y.dtype === 'float64' ? [k] : []));
  if (first.diff.length === 0 || floats.length === 0 || first.diff.some((x) => x.dtype !== 'float64')) return;
  const pullback = (d: Tensor[], r: Tensor[], c: Tensor[]) =>
    vjp(
      (...xs: Tensor[]) => {
        const ys = f(xs, r);
        return floats.map((k) => ys[k]);
      },
      ...d,
    )[1](c);
  const cotangents = floats.map((k) => randomTensor([examples.length, ...eager[0][k].shape], random));
  const perExample = effective.map((e, b) =>
    pullback(
      [...e.diff],
      [...e.rest],
      cotangents.map((c) => squeeze(narrow(c, 0, b, 1), 0)),
    ),
  );
  compare(
    `vmap(gradient of f) vs per-example gradients (${axesText})`,
    vmap(pullback, { inAxes: [diffAxes, restAxes, 0], axisSize: examples.length })(diff, rest, cotangents),
    stackedResults(perExample, 0),
    float32,
  );
}
