import { gradcheck, gradgradcheck, type OpSpec, Tensor, treeFlatten } from '@tsgrad/autograd';
import { functionalCall, type Module } from '@tsgrad/nn';
import * as T from '@tsgrad/tensor';
import fc from 'fast-check';
import type { Tolerance } from './compare.js';
import { drawInputs, mixSeed, seededRandom } from './draw.js';
import { jitChecker, type SplitFunction } from './jit-checks.js';
import { checkAndRestoreState, checkDotProduct, checkForward, explained, snapshot } from './layer-checks.js';
import {
  LAYER_CHECKS,
  type LayerCheckName,
  LayerConformanceError,
  type LayerFailure,
  type LayerReport,
} from './layer-report.js';
import type { CheckSummary } from './report.js';
import { checkVmap } from './vmap-checks.js';

// The conformance harness for layers: a module is checked as a pure function of its
// parameters and inputs, with float64 copies of its parameters and buffers swapped in by
// functionalCall (the module's own tensors are never written to).

/** Options of `checkLayer`. */
export interface LayerCheckOptions<M extends Module = Module> {
  /**
   * The inputs: shapes of float inputs drawn uniformly from `range`, or a function building
   * them (of any dtypes: int32 indices, bool masks, fixed targets…) from a seeded uniform
   * generator in [0, 1). Floating-point values are rounded to float32, so that both the
   * float32 and the float64 run see the same numbers.
   */
  readonly inputs: readonly T.Shape[] | ((random: () => number) => readonly Tensor[]);
  /** How to call the layer (default `module.forward(...inputs)`); every float tensor of the result is an output. */
  readonly call?: (module: M, ...inputs: Tensor[]) => unknown;
  /** The inputs to differentiate (default every floating-point one); e.g. `[0]` to hold a loss target fixed. */
  readonly differentiableInputs?: readonly number[];
  /** The highest derivative order checked (default 2); 1 for layers whose kinks make second differences noise. */
  readonly order?: 0 | 1 | 2;
  /** Check the layer in training mode (default false: eval mode); the module's modes are restored after. */
  readonly training?: boolean;
  /** The name in the report (default the class name). */
  readonly name?: string;
  /** Default: fast-check's global seed, else a fixed one. */
  readonly seed?: number;
  /** Independent draws of inputs and parameter perturbations (default 2). */
  readonly numRuns?: number;
  /** Range of the drawn float inputs (shapes form; default [-2, 2]). */
  readonly range?: readonly [number, number];
  /** Kinks of the layer: drawn inputs keep at least 0.1 away from these values (shapes form). */
  readonly avoid?: readonly number[];
  /**
   * Uniform noise of this size added to each differentiated parameter (default 0.1), so that
   * layers initialized to ones and zeros (norms, attention biases) are checked at a generic point.
   */
  readonly perturbParameters?: number;
  /** Loosens (never tightens) the float32-vs-float64 and the gradient tolerances. */
  readonly tolerance?: Partial<Tolerance>;
  /** gradgradcheck compares random projections when the differentiated inputs and outputs exceed this many elements (default 64). */
  readonly fastModeAbove?: number;
  /** The same for gradcheck (default 1024). */
  readonly gradcheckFastModeAbove?: number;
  /** Throw a LayerConformanceError on failure (default true). */
  readonly throwOnFailure?: boolean;
}

type FloatDType = 'float32' | 'float64';
const FLOATS: readonly FloatDType[] = ['float32', 'float64'];
const DEFAULT_SEED = 20261124;

/** One draw: the inputs and every parameter and buffer, in both float dtypes. */
interface Draw {
  readonly inputs: Record<FloatDType, readonly T.NDArray[]>;
  readonly state: Record<FloatDType, ReadonlyMap<string, T.NDArray>>;
}

/** What is differentiated: parameters by name, then inputs by position. */
interface Variables {
  readonly parameters: readonly string[];
  readonly inputs: readonly number[];
  /** How failures name variable k. */
  readonly labels: readonly string[];
}

/** Values rounded to float32, in both float dtypes; other dtypes as they are. */
function inBothFloats(x: T.NDArray): Record<FloatDType, T.NDArray> {
  if (!T.isFloat(x.dtype)) return { float32: x, float64: x };
  const float32 = T.contiguous(T.cast(x, 'float32'));
  return { float32, float64: T.cast(float32, 'float64') };
}

function perturbed(x: T.NDArray, size: number, random: () => number): T.NDArray {
  const values = Float64Array.from(
    x.toTypedArray() as ArrayLike<number>,
    (v) => v + size * (2 * random() - 1),
  );
  return T.array(values, { shape: x.shape, dtype: 'float64' });
}

function drawInputValues(options: LayerCheckOptions<never>, random: () => number): T.NDArray[] {
  const given = options.inputs;
  if (typeof given === 'function') return given(random).map((x) => x.value);
  const spec = { inputs: given.map(() => ({ range: options.range, avoid: options.avoid })), samples: [] };
  const drawn = drawInputs(spec as OpSpec, { shapes: given }, random);
  return drawn.values.map((v, i) => T.array(v, { shape: given[i], dtype: 'float64' }));
}

function draw(
  module: Module,
  variables: Variables,
  options: LayerCheckOptions<never>,
  random: () => number,
): Draw {
  const inputs = drawInputValues(options, random).map(inBothFloats);
  const perturbation = options.perturbParameters ?? 0.1;
  const differentiated = new Set(variables.parameters);
  const state = [...module.namedParameters(), ...module.namedBuffers()].map(([name, tensor]) => {
    const moved = differentiated.has(name) && perturbation > 0;
    return [
      name,
      inBothFloats(moved ? perturbed(tensor.value, perturbation, random) : tensor.value),
    ] as const;
  });
  const pick = (dtype: FloatDType) => ({
    inputs: inputs.map((x) => x[dtype]),
    state: new Map(state.map(([name, x]) => [name, x[dtype]])),
  });
  const [f32, f64] = FLOATS.map(pick);
  return {
    inputs: { float32: f32.inputs, float64: f64.inputs },
    state: { float32: f32.state, float64: f64.state },
  };
}

/** The layer's float outputs; `variables` replace the differentiated parameters and inputs. */
type Evaluate = (dtype: FloatDType, variables?: readonly Tensor[]) => Tensor[];

/**
 * The layer's float outputs, with the draw's state swapped in (fresh wrappers each call, so an
 * in-place update such as a running statistic never carries over) and `values` (if given) in
 * place of the differentiated parameters and inputs.
 */
function evaluator<M extends Module>(
  module: M,
  d: Draw,
  variables: Variables,
  options: LayerCheckOptions<M>,
): Evaluate {
  const call =
    options.call ??
    ((m: M, ...xs: Tensor[]) => (m as unknown as { forward(...a: Tensor[]): unknown }).forward(...xs));
  return (dtype, values) => {
    const state: Record<string, Tensor> = {};
    for (const [name, value] of d.state[dtype]) state[name] = new Tensor(value);
    const inputs = d.inputs[dtype].map((x) => new Tensor(x));
    if (values !== undefined) {
      variables.parameters.forEach((name, k) => {
        state[name] = values[k];
      });
      variables.inputs.forEach((at, k) => {
        inputs[at] = values[variables.parameters.length + k];
      });
    }
    const result = functionalCall(module, state, (m) => call(m, ...inputs));
    return treeFlatten(result)[0].filter((y) => T.isFloat(y.dtype));
  };
}

class Recorder {
  readonly failures: LayerFailure[] = [];
  readonly #tally = new Map<LayerCheckName, { runs: number; failed: boolean }>(
    LAYER_CHECKS.map((c) => [c, { runs: 0, failed: false }]),
  );

  constructor(readonly layer: string) {}

  run(check: LayerCheckName, where: { run?: number; seed?: number }, body: () => void): boolean {
    const tally = this.#tally.get(check) as { runs: number; failed: boolean };
    tally.runs++;
    try {
      body();
      return true;
    } catch (e) {
      tally.failed = true;
      this.fail(check, where, e instanceof Error ? e.message : String(e));
      return false;
    }
  }

  fail(check: LayerCheckName | 'setup', where: { run?: number; seed?: number }, message: string): void {
    this.failures.push({ layer: this.layer, check, ...where, message });
  }

  summaries(): Record<LayerCheckName, CheckSummary> {
    const entries = LAYER_CHECKS.map((c): [LayerCheckName, CheckSummary] => {
      const { runs, failed } = this.#tally.get(c) as { runs: number; failed: boolean };
      return [c, { runs, status: failed ? 'failed' : runs === 0 ? 'skipped' : 'passed' }];
    });
    return Object.fromEntries(entries) as Record<LayerCheckName, CheckSummary>;
  }
}

function loosen(base: Tolerance, by: Partial<Tolerance> | undefined): Tolerance {
  return { atol: Math.max(base.atol, by?.atol ?? 0), rtol: Math.max(base.rtol, by?.rtol ?? 0) };
}

/** Every check on one draw; returns whether all passed. */
function checkDraw<M extends Module>(
  module: M,
  variables: Variables,
  options: LayerCheckOptions<M>,
  recorder: Recorder,
  where: { run: number; seed: number },
  underJit: ReturnType<typeof jitChecker>,
  split: SplitFunction,
): boolean {
  const random = seededRandom(where.seed);
  const before = recorder.failures.length;
  let d: Draw;
  try {
    d = draw(module, variables, options as LayerCheckOptions<never>, random);
  } catch (e) {
    recorder.fail('setup', where, `cannot draw the inputs: ${(e as Error).message}`);
    return false;
  }
  const evaluate = evaluator(module, d, variables, options);
  const float32 = loosen({ atol: 1e-4, rtol: 1e-4 }, options.tolerance);
  let outputs: Tensor[] = [];
  if (!recorder.run('forward', where, () => (outputs = checkForward(evaluate, float32)))) return false;
  const jitRandom = seededRandom(mixSeed(where.seed, 'jit'));
  recorder.run('jit', where, () => {
    for (const dtype of FLOATS) {
      const { diff, rest } = splitDraw(d, variables, dtype);
      underJit(diff, rest, float32, jitRandom);
    }
  });
  const vmapRandom = seededRandom(mixSeed(where.seed, 'vmap'));
  recorder.run('vmap', where, () => {
    // 1 to 3 examples: this draw and fresh ones (inputs and parameter perturbations).
    const more = Array.from({ length: Math.floor(vmapRandom() * 3) }, () =>
      draw(module, variables, options as LayerCheckOptions<never>, vmapRandom),
    );
    for (const dtype of FLOATS) {
      checkVmap(
        split,
        [d, ...more].map((e) => splitDraw(e, variables, dtype)),
        float32,
        vmapRandom,
      );
    }
  });
  const order = options.order ?? 2;
  if (order === 0) return recorder.failures.length === before;
  const count = variables.labels.length;
  if (count === 0 || outputs.length === 0) {
    recorder.fail(
      'setup',
      where,
      `order ${order}, but the layer has no ${count === 0 ? 'float parameter or input' : 'float output'} to differentiate`,
    );
    return false;
  }
  const xs = [
    ...variables.parameters.map((name) => new Tensor(d.state.float64.get(name) as T.NDArray)),
    ...variables.inputs.map((at) => new Tensor(d.inputs.float64[at])),
  ];
  const f = (...values: Tensor[]) => evaluate('float64', values);
  const size = [...xs, ...outputs].reduce((n, x) => n + x.size, 0);
  const { atol, rtol } = loosen({ atol: 1e-5, rtol: 1e-3 }, options.tolerance);
  const seedOf = () => Math.floor(random() * 2 ** 31);
  const labels = variables.labels;
  recorder.run('gradcheck', where, () =>
    explained(
      () =>
        gradcheck(f, xs, {
          atol,
          rtol,
          seed: seedOf(),
          fastMode: size > (options.gradcheckFastModeAbove ?? 1024),
        }),
      labels,
    ),
  );
  recorder.run('dotProduct', where, () =>
    checkDotProduct(
      f,
      xs,
      outputs.map((y) => y.shape),
      labels,
      random,
    ),
  );
  if (order === 2) {
    recorder.run('gradgradcheck', where, () =>
      explained(
        () =>
          gradgradcheck(f, xs, {
            atol,
            rtol,
            seed: seedOf(),
            fastMode: size > (options.fastModeAbove ?? 64),
          }),
        labels,
      ),
    );
  }
  return recorder.failures.length === before;
}

/** The draw's state and inputs as tensors: the differentiated ones, and the rest (in draw order). */
function splitDraw(d: Draw, variables: Variables, dtype: FloatDType) {
  const state = d.state[dtype];
  const inputs = d.inputs[dtype];
  const wrap = (x: T.NDArray | undefined) => new Tensor(x as T.NDArray);
  return {
    diff: [
      ...variables.parameters.map((n) => wrap(state.get(n))),
      ...variables.inputs.map((i) => wrap(inputs[i])),
    ],
    rest: [
      ...[...state.keys()].filter((n) => !variables.parameters.includes(n)).map((n) => wrap(state.get(n))),
      ...inputs.flatMap((x, i) => (variables.inputs.includes(i) ? [] : [wrap(x)])),
    ],
  };
}

/** The layer as a function of (differentiated tensors, the rest), in `splitDraw`'s order, for jit. */
function splitLayer<M extends Module>(
  module: M,
  variables: Variables,
  options: LayerCheckOptions<M>,
): SplitFunction {
  const call =
    options.call ??
    ((m: M, ...xs: Tensor[]) => (m as unknown as { forward(...a: Tensor[]): unknown }).forward(...xs));
  const names = [...module.namedParameters(), ...module.namedBuffers()].map(([name]) => name);
  const restNames = names.filter((n) => !variables.parameters.includes(n));
  return (diff, rest) => {
    const state: Record<string, Tensor> = {};
    variables.parameters.forEach((name, k) => {
      state[name] = diff[k];
    });
    restNames.forEach((name, k) => {
      state[name] = rest[k];
    });
    let nextDiff = variables.parameters.length;
    let nextRest = restNames.length;
    const count = diff.length - variables.parameters.length + rest.length - restNames.length;
    const inputs = Array.from({ length: count }, (_, i) =>
      variables.inputs.includes(i) ? diff[nextDiff++] : rest[nextRest++],
    );
    const result = functionalCall(module, state, (m) => call(m, ...inputs));
    return treeFlatten(result)[0].filter((y) => T.isFloat(y.dtype));
  };
}

/** The differentiated parameters (float, requiring grad) and inputs, or why the options are unusable. */
function chooseVariables(module: Module, options: LayerCheckOptions<never>): Variables {
  const parameters = module
    .namedParameters()
    .filter(([, p]) => p.requiresGrad && T.isFloat(p.dtype))
    .map(([name]) => name);
  const probe = drawInputValues(options, seededRandom(0));
  const floats = probe.flatMap((x, i) => (T.isFloat(x.dtype) ? [i] : []));
  const inputs = options.differentiableInputs ?? floats;
  const bad = inputs.filter((i) => !floats.includes(i));
  if (bad.length > 0) {
    throw new Error(
      `differentiableInputs [${bad.join(', ')}] are not floating-point inputs (there are ${probe.length} inputs: ${probe.map((x) => x.dtype).join(', ')})`,
    );
  }
  return {
    parameters,
    inputs,
    labels: [...parameters.map((name) => `parameter ${name}`), ...inputs.map((i) => `input ${i}`)],
  };
}

/**
 * Checks a layer as a function of its parameters and inputs, in float64 (parameters and
 * buffers copied to float64 and swapped in with functionalCall): the forward is deterministic
 * and float32 agrees with float64, gradcheck and (order 2) gradgradcheck against central
 * differences, and the jvp/vjp dot-product identity, on `numRuns` seeded draws of the inputs
 * and of small parameter perturbations. The layer is put in eval mode (or training mode with
 * `training`), and its modes, parameters and buffers (e.g. BatchNorm's running statistics)
 * are the same afterwards, which the 'state' check verifies. Throws a LayerConformanceError on
 * failure unless `throwOnFailure: false`; returns the report.
 */
export function checkLayer<M extends Module>(module: M, options: LayerCheckOptions<M>): LayerReport {
  const start = performance.now();
  const training = options.training ?? false;
  const layer = options.name ?? module.constructor.name;
  const seed = options.seed ?? fc.readConfigureGlobal().seed ?? DEFAULT_SEED;
  const recorder = new Recorder(layer);
  const modes = module.modules().map((m) => [m, m.training] as const);
  const saved = snapshot(module);
  let variables: Variables = { parameters: [], inputs: [], labels: [] };
  try {
    variables = chooseVariables(module, options as LayerCheckOptions<never>);
    module.train(training);
    const split = splitLayer(module, variables, options);
    const underJit = jitChecker(split);
    for (let run = 0; run < (options.numRuns ?? 2); run++) {
      const where = { run, seed: mixSeed(seed, layer, run) };
      if (!checkDraw(module, variables, options, recorder, where, underJit, split)) break;
    }
  } catch (e) {
    recorder.fail('setup', {}, e instanceof Error ? e.message : String(e));
  } finally {
    for (const [m, mode] of modes) m.training = mode;
    recorder.run('state', {}, () => checkAndRestoreState(module, saved));
  }
  const report: LayerReport = {
    layer,
    training,
    order: options.order ?? 2,
    parameters: variables.parameters,
    inputs: variables.inputs,
    checks: recorder.summaries(),
    failures: recorder.failures,
    milliseconds: performance.now() - start,
  };
  if ((options.throwOnFailure ?? true) && report.failures.length > 0) throw new LayerConformanceError(report);
  return report;
}

/** The one call for a test: throws a readable LayerConformanceError on failure. */
export function expectLayerConforms<M extends Module>(
  module: M,
  options: Omit<LayerCheckOptions<M>, 'throwOnFailure'>,
): void {
  checkLayer(module, { ...options, throwOnFailure: true });
}
