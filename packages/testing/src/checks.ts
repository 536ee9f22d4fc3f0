import {
  gradcheck,
  gradgradcheck,
  gradients,
  jvp,
  type Op,
  type OpSample,
  type OpSpec,
  Tensor,
  vjp,
} from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';
import { mismatch, sameShape, type Tolerance } from './compare.js';
import { type DrawnInputs, drawInputs, randomTensor, seededRandom, toTensors } from './draw.js';

// The individual checks of the conformance harness. Each throws an Error describing the first
// problem it finds; the caller records it with the op, sample and seed.

/** The tolerances of the conformance harness's comparisons, one per kind of check. */
export interface HarnessTolerances {
  /** float32 forward vs float64 forward. */
  readonly float32: Tolerance;
  /** float64 forward vs `spec.reference`. */
  readonly reference: Tolerance;
  /** Central differences (gradcheck, gradgradcheck). */
  readonly gradient: Tolerance;
}

/** Defaults, loosened (never tightened) by `spec.tolerance`. */
export function tolerancesFor<P>(spec: OpSpec<P>): HarnessTolerances {
  const loosen = (t: Tolerance): Tolerance => ({
    atol: Math.max(t.atol, spec.tolerance?.atol ?? 0),
    rtol: Math.max(t.rtol, spec.tolerance?.rtol ?? 0),
  });
  return {
    float32: loosen({ atol: 1e-4, rtol: 1e-4 }),
    reference: loosen({ atol: 1e-10, rtol: 1e-10 }),
    gradient: loosen({ atol: 1e-5, rtol: 1e-3 }),
  };
}

/** A float32 output is compared with a float64 reference at float32 precision. */
const FLOAT32_REFERENCE: Tolerance = { atol: 1e-6, rtol: 1e-5 };
const EXACT: Tolerance = { atol: 0, rtol: 0 };

const numbersOf = (x: Tensor): ArrayLike<number> => x.value.toTypedArray() as ArrayLike<number>;

function compareOutputs(
  label: string,
  actual: readonly Tensor[],
  expected: readonly Tensor[],
  tolerance: Tolerance,
): void {
  if (actual.length !== expected.length)
    throw new Error(`${label}: ${actual.length} outputs, expected ${expected.length}`);
  actual.forEach((y, k) => {
    const e = expected[k];
    if (!sameShape(y.shape, e.shape)) {
      throw new Error(
        `${label}: output ${k} has shape ${T.formatShape(y.shape)}, expected ${T.formatShape(e.shape)}`,
      );
    }
    const t = T.isFloat(y.dtype) && T.isFloat(e.dtype) ? tolerance : EXACT;
    const problem = mismatch(numbersOf(y), numbersOf(e), y.shape, t);
    if (problem) throw new Error(`${label}: output ${k} ${problem}`);
  });
}

/** The float64 forward; then the float32 forward must agree with it. */
export function checkForward<P>(
  op: Op<P>,
  params: P,
  drawn: DrawnInputs,
  tolerances: HarnessTolerances,
): Tensor[] {
  const out64 = op.apply(toTensors(drawn, 'float64'), params);
  const out32 = op.apply(toTensors(drawn, 'float32'), params);
  compareOutputs('float32 vs float64', out32, out64, tolerances.float32);
  return out64;
}

export function checkReference<P>(
  spec: OpSpec<P>,
  params: P,
  drawn: DrawnInputs,
  outputs: readonly Tensor[],
  tolerances: HarnessTolerances,
): void {
  const reference = spec.reference as NonNullable<OpSpec<P>['reference']>;
  const expected = reference(
    drawn.values.map((v) => v.slice()),
    drawn.shapes,
    params,
  );
  if (expected.length !== outputs.length)
    throw new Error(`reference returned ${expected.length} outputs, the op ${outputs.length}`);
  outputs.forEach((y, k) => {
    const t =
      y.dtype === 'float64' ? tolerances.reference : y.dtype === 'float32' ? FLOAT32_REFERENCE : EXACT;
    const problem = mismatch(numbersOf(y), expected[k], y.shape, t);
    if (problem) throw new Error(`vs reference: output ${k} ${problem}`);
  });
}

/** A function of the differentiable inputs returning the op's float64 outputs. */
export type TensorFunction = (...inputs: Tensor[]) => Tensor[];

/** The op as a function of its differentiable inputs, returning its float64 outputs. */
export interface Differentiable {
  readonly f: TensorFunction;
  /** The differentiable inputs (float64 leaves without grad). */
  readonly inputs: readonly Tensor[];
  /** Positions of the differentiable inputs among all inputs. */
  readonly positions: readonly number[];
  readonly outputShapes: readonly T.Shape[];
}

export function differentiable<P>(
  op: Op<P>,
  params: P,
  drawn: DrawnInputs,
  outputs: readonly Tensor[],
): Differentiable | undefined {
  const all = toTensors(drawn, 'float64');
  const positions = drawn.differentiable.flatMap((d, i) => (d ? [i] : []));
  // Only float64 outputs: central differences of a float32 result (e.g. a cast) are noise.
  const floatOutputs = outputs.flatMap((y, k) => (y.dtype === 'float64' ? [k] : []));
  if (positions.length === 0 || floatOutputs.length === 0) return undefined;
  const f: TensorFunction = (...xs) => {
    const inputs = all.slice();
    positions.forEach((at, k) => {
      inputs[at] = xs[k];
    });
    const ys = op.apply(inputs, params);
    return floatOutputs.map((k) => ys[k]);
  };
  return {
    f,
    inputs: positions.map((at) => all[at]),
    positions,
    outputShapes: floatOutputs.map((k) => outputs[k].shape),
  };
}

const seedFrom = (random: () => number) => Math.floor(random() * 2 ** 31);

/** gradcheck numbers the differentiable inputs; say which op inputs they are. */
function inOpTerms(d: Differentiable, body: () => void): void {
  try {
    body();
  } catch (e) {
    if (!(e instanceof Error) || d.positions.every((at, k) => at === k)) throw e;
    const names = d.positions.map((at, k) => `input[${k}] is op input ${at}`).join(', ');
    throw new Error(`${e.message} (${names})`);
  }
}

export function checkGradcheck(d: Differentiable, random: () => number, tolerances: HarnessTolerances): void {
  const { atol, rtol } = tolerances.gradient;
  inOpTerms(d, () => gradcheck(d.f, d.inputs, { atol, rtol, seed: seedFrom(random) }));
}

export function checkGradgradcheck(
  d: Differentiable,
  random: () => number,
  tolerances: HarnessTolerances,
  fastMode: boolean,
): void {
  const { atol, rtol } = tolerances.gradient;
  inOpTerms(d, () => gradgradcheck(d.f, d.inputs, { atol, rtol, seed: seedFrom(random), fastMode }));
}

const sumOfProducts = (a: readonly Tensor[], b: readonly Tensor[]) =>
  a.reduce((total, x, i) => {
    const xs = numbersOf(x);
    const ys = numbersOf(b[i]);
    let s = total;
    for (let k = 0; k < xs.length; k++) s += xs[k] * ys[k];
    return s;
  }, 0);

/** ⟨J u, v⟩ = ⟨u, Jᵀ v⟩ for random u, v: the JVP (forward mode) agrees with the VJP (reverse). */
export function checkDotProduct(d: Differentiable, random: () => number): void {
  const u = d.inputs.map((x) => randomTensor(x.shape, random));
  const v = d.outputShapes.map((shape) => randomTensor(shape, random));
  const [, ju] = jvp(d.f, [...d.inputs], u);
  const [, pullback] = vjp(d.f, ...d.inputs);
  const forward = sumOfProducts(ju, v);
  const reverse = sumOfProducts(u, pullback(v));
  if (!(Math.abs(forward - reverse) <= 1e-9 + 1e-7 * Math.max(Math.abs(forward), Math.abs(reverse)))) {
    throw new Error(`⟨J u, v⟩ = ${forward} (jvp) but ⟨u, Jᵀ v⟩ = ${reverse} (vjp)`);
  }
}

const leaf = (x: Tensor, shape: T.Shape = x.shape) =>
  new Tensor(T.reshape(x.value, shape), { requiresGrad: true });

/** Whether every output has the broadcast shape of all the inputs (an elementwise-style op). */
function broadcasts(shapes: readonly T.Shape[], outputs: readonly Tensor[]): boolean {
  if (shapes.length < 2) return false;
  try {
    const shape = T.broadcastShapes('conformance', ...shapes);
    return outputs.every((y) => sameShape(y.shape, shape));
  } catch {
    return false;
  }
}

/**
 * Gradients come back with their inputs' shapes (the tape sums broadcast gradients). For an op
 * that broadcasts, also a variant where the first differentiable input gets a leading size-1
 * dim: the same values and gradients must come out, in the broadcast shapes.
 */
export function checkBroadcasting(d: Differentiable, drawn: DrawnInputs, random: () => number): void {
  const leaves = d.inputs.map((x) => leaf(x));
  const outputs = d.f(...leaves);
  const seeds = outputs.map((y) => randomTensor(y.shape, random));
  const grads = gradients(outputs, leaves, seeds, { allowUnused: true });
  grads.forEach((g, k) => {
    if (g !== null && (!sameShape(g.shape, leaves[k].shape) || g.dtype !== leaves[k].dtype)) {
      throw new Error(
        `the gradient of input ${d.positions[k]} is ${g.dtype} ${T.formatShape(g.shape)}, ` +
          `expected ${leaves[k].dtype} ${T.formatShape(leaves[k].shape)}`,
      );
    }
  });
  if (!broadcasts(drawn.shapes, outputs)) return;

  const widenedShapes = drawn.shapes.map((s, i) => (i === d.positions[0] ? [1, ...s] : s));
  const outShape = T.broadcastShapes('conformance', ...widenedShapes);
  const wideLeaves = leaves.map((x, k) => (k === 0 ? leaf(x, [1, ...x.shape]) : leaf(x)));
  const wideOutputs = d.f(...wideLeaves);
  const label = `with a leading size-1 dim on input ${d.positions[0]} (${T.formatShape(widenedShapes[d.positions[0]])})`;
  const same: Tolerance = { atol: 1e-12, rtol: 1e-9 };
  wideOutputs.forEach((y, k) => {
    if (!sameShape(y.shape, outShape))
      throw new Error(
        `${label}: output ${k} has shape ${T.formatShape(y.shape)}, expected ${T.formatShape(outShape)}`,
      );
    const problem = mismatch(numbersOf(y), numbersOf(outputs[k]), y.shape, same);
    if (problem) throw new Error(`${label}: output ${k} changed, ${problem}`);
  });
  const wideSeeds = seeds.map((s) => new Tensor(T.reshape(s.value, outShape)));
  const wideGrads = gradients(wideOutputs, wideLeaves, wideSeeds, { allowUnused: true });
  wideGrads.forEach((g, k) => {
    if (g === null) return;
    if (!sameShape(g.shape, wideLeaves[k].shape)) {
      throw new Error(
        `${label}: the gradient of input ${d.positions[k]} has shape ${T.formatShape(g.shape)}, expected ${T.formatShape(wideLeaves[k].shape)}`,
      );
    }
    const before = grads[k];
    const problem = before === null ? undefined : mismatch(numbersOf(g), numbersOf(before), g.shape, same);
    if (problem) throw new Error(`${label}: the gradient of input ${d.positions[k]} changed, ${problem}`);
  });
}

/** The error sample throws its declared class, with a message naming the op. */
export function checkError<P>(
  op: Op<P>,
  spec: OpSpec<P>,
  sample: OpSample<P> & { throws: abstract new (...args: never[]) => Error },
  random: () => number,
): void {
  const name = op.definition.name;
  let inputs: Tensor[];
  try {
    inputs = toTensors(drawInputs(spec, sample, random), 'float32');
  } catch (e) {
    throw new Error(`could not build the inputs: ${(e as Error).message}`);
  }
  let thrown: unknown;
  try {
    op.apply(inputs, (sample.params ?? {}) as P);
  } catch (e) {
    thrown = e;
  }
  const expected = sample.throws.name;
  if (thrown === undefined) throw new Error(`expected ${expected}, but nothing was thrown`);
  if (!(thrown instanceof sample.throws)) {
    throw new Error(
      `expected ${expected}, got ${(thrown as Error)?.name ?? typeof thrown}: ${(thrown as Error)?.message ?? String(thrown)}`,
    );
  }
  const message = (thrown as Error).message;
  if (!message.startsWith(`${name}:`) && !message.includes(name)) {
    throw new Error(`the ${expected} message does not name the op: "${message}"`);
  }
}

/** Host copies of tensors' values (null stays null), so they can be compared across backends. */
function hostValues(xs: readonly (Tensor | null)[]): (T.TypedArray | null)[] {
  return xs.map((x) => (x === null ? null : x.value.toTypedArray()));
}

/** The float32 outputs and input gradients (for `cotangents`) of the op on the current backend. */
function float32Run<P>(op: Op<P>, params: P, drawn: DrawnInputs, cotangentSeed: number) {
  const random = seededRandom(cotangentSeed);
  const inputs = toTensors(drawn, 'float32', true);
  const outputs = op.apply(inputs, params);
  const floatOutputs = outputs.filter((y) => y.dtype === 'float32' && y.requiresGrad);
  const wrt = inputs.filter((x) => x.requiresGrad);
  const grads =
    floatOutputs.length > 0 && wrt.length > 0
      ? gradients(
          floatOutputs,
          wrt,
          floatOutputs.map((y) => randomTensor(y.shape, random).to('float32')),
        )
      : [];
  return {
    outputs: hostValues(outputs),
    shapes: outputs.map((y) => y.shape),
    grads: hostValues(grads),
    gradShapes: wrt.map((x) => x.shape),
  };
}

/**
 * The current backend against `reference` (the CPU backend): the float32 forward and, for
 * differentiable ops, the float32 input gradients agree at float32 tolerance.
 */
export function checkBackend<P>(
  op: Op<P>,
  params: P,
  drawn: DrawnInputs,
  reference: T.Backend,
  random: () => number,
  tolerances: HarnessTolerances,
): void {
  const cotangentSeed = seedFrom(random);
  const actual = float32Run(op, params, drawn, cotangentSeed);
  const expected = T.withBackend(reference, () => float32Run(op, params, drawn, cotangentSeed));
  const compare = (
    label: string,
    a: (T.TypedArray | null)[],
    e: (T.TypedArray | null)[],
    shapes: T.Shape[],
  ) => {
    a.forEach((values, k) => {
      const want = e[k];
      if (values === null || want === null) {
        if (values !== want) throw new Error(`${label} ${k}: null on one backend only`);
        return;
      }
      const t = values instanceof Float32Array ? tolerances.float32 : EXACT;
      const problem = mismatch(
        values as ArrayLike<number>,
        want as ArrayLike<number>,
        shapes[k] ?? [values.length],
        t,
      );
      if (problem)
        throw new Error(`${label} ${k} on ${T.getBackend().name} vs ${reference.name}: ${problem}`);
    });
  };
  compare('output', actual.outputs, expected.outputs, actual.shapes);
  compare('gradient of input', actual.grads, expected.grads, actual.gradShapes);
}
