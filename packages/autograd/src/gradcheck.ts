import * as T from '@tsgrad/tensor';
import { checkFunction } from './check.js';
import { noGrad } from './mode.js';
import { constant } from './ops/index.js';
import { treeFlatten, treePaths, treeUnflatten } from './pytree.js';
import type { Tensor } from './tensor.js';
import { vjp } from './transforms/reverse.js';
import { traceReverse } from './transforms/trace.js';

// Gradient checking as in torch.autograd.gradcheck: the analytic Jacobian (from VJPs) against
// central differences, in float64.

/** Options of `gradcheck` and `gradgradcheck`. */
export interface GradcheckOptions {
  /** Finite-difference step (default 1e-6). */
  readonly eps?: number;
  /** Absolute tolerance (default 1e-5). */
  readonly atol?: number;
  /** Relative tolerance, relative to the numerical value (default 1e-3). */
  readonly rtol?: number;
  /**
   * Compare random projections vᵀJu (one per input and output) instead of every Jacobian
   * entry: one VJP per output and two evaluations per input instead of one per element. A
   * mismatch is then located by a full check of that input/output pair.
   */
  readonly fastMode?: boolean;
  /** Seed of the random projections (fast mode) and of gradgradcheck's grad outputs. */
  readonly seed?: number;
  /** Throw a GradcheckError on failure (default), or return false. */
  readonly raiseException?: boolean;
}

/** What a failed check found; the error message says the same. */
export interface GradcheckMismatch {
  /** The input the Jacobian entry belongs to, e.g. `'input 0'`. */
  readonly input: string;
  /** The output the Jacobian entry belongs to, e.g. `'output 0'`. */
  readonly output: string;
  /** Multi-indices of the Jacobian entry; absent when a fast-mode projection could not be located. */
  readonly inputElement?: readonly number[];
  /** Multi-index of the output element; absent when a fast-mode projection could not be located. */
  readonly outputElement?: readonly number[];
  /** The central-difference estimate. */
  readonly numerical: number;
  /** The value from the VJPs (or JVPs). */
  readonly analytical: number;
}

export class GradcheckError extends T.TsgradError {
  /** @param mismatch Where the analytical and numerical derivatives disagree. */
  constructor(readonly mismatch: GradcheckMismatch) {
    const m = mismatch ?? { input: '?', output: '?', numerical: Number.NaN, analytical: Number.NaN };
    const where =
      m.inputElement && m.outputElement
        ? ` at output element [${m.outputElement.join(',')}], input element [${m.inputElement.join(',')}]`
        : ' for a random projection vᵀJu';
    super(
      'gradcheck',
      `Jacobian mismatch for ${m.output} with respect to ${m.input}${where}: numerical ${m.numerical}, analytical ${m.analytical}`,
    );
  }
}

/** A function of flat float64 tensors returning flat float outputs, with names for messages. */
interface Checked {
  readonly fn: (inputs: readonly Tensor[]) => Tensor[];
  readonly inputs: readonly Tensor[];
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
}

interface Settings {
  readonly eps: number;
  readonly atol: number;
  readonly rtol: number;
  readonly key: T.random.PRNGKey;
}

const toFloat64 = (x: Tensor): Tensor => (x.dtype === 'float64' ? x : constant(T.cast(x.value, 'float64')));
const values = (x: Tensor): Float64Array => Float64Array.from(x.value.toTypedArray() as ArrayLike<number>);
const fromValues = (data: Float64Array, shape: readonly number[]): Tensor =>
  constant(T.array(data, { shape }));

function coordinates(flat: number, shape: readonly number[]): number[] {
  const coords = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    coords[d] = flat % shape[d];
    flat = Math.floor(flat / shape[d]);
  }
  return coords;
}

/**
 * Prepares `f(...inputs)` for checking. Floating-point leaves of `inputs` (pytrees allowed)
 * are cast to float64 and differentiated; other leaves are passed as they are. Only the
 * floating-point tensors of the output are compared.
 */
function prepare(f: (...args: never[]) => unknown, inputs: readonly unknown[]): Checked {
  checkFunction('gradcheck', f);
  if (!Array.isArray(inputs))
    throw new T.ValueError('gradcheck', `inputs must be a list, got ${T.describe(inputs)}`);
  const [leaves, def] = treeFlatten(inputs);
  const paths = treePaths(def);
  const float = leaves.flatMap((x, i) => (T.isFloat(x.dtype) ? [i] : []));
  if (float.length === 0) throw new T.ValueError('gradcheck', 'no floating-point input to differentiate');
  const fixed = leaves.map(toFloat64);
  const fn = (xs: readonly Tensor[]) => {
    const all = [...fixed];
    float.forEach((i, k) => {
      all[i] = xs[k];
    });
    const out = (f as (...args: unknown[]) => unknown)(...(treeUnflatten(def, all) as unknown[]));
    return treeFlatten(out)[0].filter((y) => T.isFloat(y.dtype));
  };
  const [outs, outDef] = treeFlatten(
    noGrad(() => (f as (...args: unknown[]) => unknown)(...(treeUnflatten(def, fixed) as unknown[]))),
  );
  const outPaths = treePaths(outDef);
  return {
    fn,
    inputs: float.map((i) => fixed[i]),
    inputNames: float.map((i) => `input${paths[i]}`),
    outputNames: outs.flatMap((y, i) => (T.isFloat(y.dtype) ? [`output${outPaths[i]}`] : [])),
  };
}

function settings(options: GradcheckOptions): Settings {
  return {
    eps: options.eps ?? 1e-6,
    atol: options.atol ?? 1e-5,
    rtol: options.rtol ?? 1e-3,
    key: T.random.key(options.seed ?? 0),
  };
}

const close = (analytical: number, numerical: number, s: Settings) =>
  Math.abs(analytical - numerical) <= s.atol + s.rtol * Math.abs(numerical);

/** Central differences of every output along `direction` of input j. */
function directional(c: Checked, j: number, direction: Float64Array, eps: number): Float64Array[] {
  const x = c.inputs[j];
  const base = values(x);
  const shifted = (sign: number) => {
    const moved = base.map((v, e) => v + sign * eps * direction[e]);
    const xs = c.inputs.map((input, i) => (i === j ? fromValues(moved, x.shape) : input));
    return noGrad(() => c.fn(xs)).map(values);
  };
  const plus = shifted(1);
  const minus = shifted(-1);
  return plus.map((p, a) => p.map((v, k) => (v - minus[a][k]) / (2 * eps)));
}

/** Analytic VJPs: for cotangent seeds of output a, the gradient of every input. */
function analyticPullback(c: Checked) {
  const trace = traceReverse(
    'gradcheck',
    (...xs: Tensor[]) => c.fn(xs),
    c.inputs,
    c.inputs.map((_, i) => i),
  );
  const outputs = trace.result as Tensor[];
  if (outputs.length !== c.outputNames.length)
    throw new T.ValueError('gradcheck', 'the function returned a different number of outputs');
  return {
    outputs,
    pull: (a: number, seed: Tensor) => trace.pull([outputs[a]], [seed]).map(values),
  };
}

/** The full Jacobian comparison for the given input/output pairs; the first mismatch or null. */
function fullCheck(
  c: Checked,
  s: Settings,
  pairs?: readonly (readonly [number, number])[],
): GradcheckMismatch | null {
  const { outputs, pull } = analyticPullback(c);
  const wanted = pairs ?? c.inputs.flatMap((_, j) => outputs.map((__, a) => [j, a] as const));
  const inputsUsed = [...new Set(wanted.map(([j]) => j))];
  const outputsUsed = [...new Set(wanted.map(([, a]) => a))];
  // analytic[a][k][j]: d output a[k] / d input j (row k of the Jacobian of output a).
  const analytic = new Map(
    outputsUsed.map((a) => {
      const y = outputs[a];
      return [
        a,
        Array.from({ length: y.size }, (_, k) => {
          const seed = new Float64Array(y.size);
          seed[k] = 1;
          return pull(a, fromValues(seed, y.shape));
        }),
      ] as const;
    }),
  );
  // numerical[j][e][a]: central difference of output a along element e of input j.
  const numerical = new Map(
    inputsUsed.map((j) => {
      const n = c.inputs[j].size;
      return [
        j,
        Array.from({ length: n }, (_, e) => {
          const direction = new Float64Array(n);
          direction[e] = 1;
          return directional(c, j, direction, s.eps);
        }),
      ] as const;
    }),
  );
  for (const [j, a] of wanted) {
    const x = c.inputs[j];
    const y = outputs[a];
    for (let k = 0; k < y.size; k++) {
      for (let e = 0; e < x.size; e++) {
        const num = (numerical.get(j) as Float64Array[][])[e][a][k];
        const ana = (analytic.get(a) as Float64Array[][])[k][j][e];
        if (!close(ana, num, s)) {
          return {
            input: c.inputNames[j],
            output: c.outputNames[a],
            inputElement: coordinates(e, x.shape),
            outputElement: coordinates(k, y.shape),
            numerical: num,
            analytical: ana,
          };
        }
      }
    }
  }
  return null;
}

const dot = (a: Float64Array, b: Float64Array) => a.reduce((sum, v, i) => sum + v * b[i], 0);

function unitVector(key: T.random.PRNGKey, n: number): Float64Array {
  const v = Float64Array.from(T.random.normal(key, [n], { dtype: 'float64' }).toTypedArray() as Float64Array);
  const norm = Math.sqrt(dot(v, v)) || 1;
  return v.map((x) => x / norm);
}

/** Fast mode: vᵀJu per input/output pair against the directional difference. */
function fastCheck(c: Checked, s: Settings): GradcheckMismatch | null {
  const { outputs, pull } = analyticPullback(c);
  const us = c.inputs.map((x, j) => unitVector(T.random.foldIn(s.key, j), x.size));
  const vs = outputs.map((y, a) => unitVector(T.random.foldIn(s.key, 1_000_000 + a), y.size));
  const analytic = outputs.map((y, a) => pull(a, fromValues(vs[a], y.shape)).map((g, j) => dot(g, us[j])));
  for (let j = 0; j < c.inputs.length; j++) {
    const differences = directional(c, j, us[j], s.eps);
    for (let a = 0; a < outputs.length; a++) {
      const num = dot(vs[a], differences[a]);
      const ana = analytic[a][j];
      if (!close(ana, num, s)) {
        const located = fullCheck(c, s, [[j, a]]);
        return (
          located ?? { input: c.inputNames[j], output: c.outputNames[a], numerical: num, analytical: ana }
        );
      }
    }
  }
  return null;
}

function report(mismatch: GradcheckMismatch | null, options: GradcheckOptions): boolean {
  if (mismatch === null) return true;
  if (options.raiseException ?? true) throw new GradcheckError(mismatch);
  return false;
}

/**
 * Checks the gradients of `f(...inputs)` against central finite differences, like
 * `torch.autograd.gradcheck`. Inputs and outputs may be pytrees. Floating-point inputs are
 * cast to float64 (so pass float64 data for a meaningful check: a float32 input loses
 * precision before the check starts) and all of them are differentiated; f must then compute
 * in float64. Every Jacobian entry must satisfy |analytical − numerical| ≤ atol + rtol·|numerical|.
 * Returns true, or on failure throws a GradcheckError naming the input, the output, the
 * element and both values (or returns false with `raiseException: false`).
 */
export function gradcheck(
  f: (...args: never[]) => unknown,
  inputs: readonly unknown[],
  options: GradcheckOptions = {},
): boolean {
  T.checkOptions('gradcheck', options);
  const c = prepare(f, inputs);
  const s = settings(options);
  return report(options.fastMode ? fastCheck(c, s) : fullCheck(c, s), options);
}

/**
 * Checks second derivatives, like `torch.autograd.gradgradcheck`: gradcheck of the map
 * (inputs, v) ↦ vᵀ ∂f/∂inputs, with random (seeded) grad outputs v for f's float outputs.
 */
export function gradgradcheck(
  f: (...args: never[]) => unknown,
  inputs: readonly unknown[],
  options: GradcheckOptions = {},
): boolean {
  T.checkOptions('gradgradcheck', options);
  const first = prepare(f, inputs);
  const s = settings(options);
  const shapes = noGrad(() => first.fn(first.inputs)).map((y) => y.shape);
  const key = T.random.foldIn(s.key, 7);
  const gradOutputs = shapes.map((shape, a) =>
    constant(T.random.normal(T.random.foldIn(key, a), shape, { dtype: 'float64' })),
  );
  const n = first.inputs.length;
  const second: Checked = {
    fn: (xs) => {
      const [, pullback] = vjp((...ins: Tensor[]) => first.fn(ins), ...xs.slice(0, n));
      return pullback(xs.slice(n));
    },
    inputs: [...first.inputs, ...gradOutputs],
    inputNames: [...first.inputNames, ...first.outputNames.map((name) => `gradOutput for ${name}`)],
    outputNames: first.inputNames.map((name) => `the gradient of ${name}`),
  };
  return report(options.fastMode ? fastCheck(second, s) : fullCheck(second, s), options);
}
