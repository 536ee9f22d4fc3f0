import { type Op, type OpDefinition, type OpSample, registeredOps, type Tensor } from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';
import fc from 'fast-check';
import {
  checkBackend,
  checkBroadcasting,
  checkDotProduct,
  checkError,
  checkForward,
  checkGradcheck,
  checkGradgradcheck,
  checkReference,
  differentiable,
  tolerancesFor,
} from './checks.js';
import { type DrawnInputs, drawInputs, mixSeed, seededRandom, toTensors } from './draw.js';
import { jitChecker } from './jit-checks.js';
import {
  CHECKS,
  type CheckName,
  type CheckSummary,
  ConformanceError,
  type ConformanceFailure,
  type ConformanceReport,
  formatCounts,
  type OpReport,
  summarize,
} from './report.js';
import { checkVmap } from './vmap-checks.js';

/** Options of `checkOp`. */
export interface ConformanceOptions {
  /** The fast-check seed (default: fast-check's global seed, else a fixed one). */
  readonly seed?: number;
  /** Random draws of the input values per sample (default 3). */
  readonly numRuns?: number;
  /** Throw a ConformanceError with the readable report on failure (default true). */
  readonly throwOnFailure?: boolean;
  /**
   * gradgradcheck compares random projections (fast mode) instead of the full Jacobian when the
   * differentiable inputs and outputs hold more elements than this together (default 64).
   */
  readonly fastModeAbove?: number;
  /**
   * Also run every draw's float32 forward and input gradients on this backend (the CPU
   * reference) and compare them with the current backend's at float32 tolerance.
   */
  readonly compareWith?: T.Backend;
}

/** Options of `checkAllOps`. */
export interface CheckAllOptions<Params extends readonly unknown[] = readonly unknown[]>
  extends ConformanceOptions {
  /** The ops to check, of any params types (default: `registeredOps()`, every op defined with defineOp). */
  readonly ops?: { readonly [K in keyof Params]: Op<Params[K]> };
  /** Where the counts line goes at the end of the run (default console.log; false for none). */
  readonly log?: ((line: string) => void) | false;
}

const DEFAULT_SEED = 20261124;

/** What is wrong with an op's spec, if anything (an op without a spec fails the suite). */
function specProblem(definition: OpDefinition<unknown>): string | undefined {
  const spec = definition.spec;
  if (spec === undefined || spec === null) return 'the op has no spec: every op needs one (see OpSpec)';
  if (!Array.isArray(spec.inputs)) return 'spec.inputs must be an array of InputSpec';
  if (!Array.isArray(spec.samples) || spec.samples.length === 0)
    return 'spec.samples must list at least one sample';
  if (spec.order !== undefined && ![0, 1, 2].includes(spec.order))
    return `spec.order must be 0, 1 or 2, got ${spec.order}`;
  const all: readonly OpSample<unknown>[] = [...spec.samples, ...(spec.errors ?? [])];
  const bad = all.find((s) => !Array.isArray(s.shapes) || s.shapes.length !== spec.inputs.length);
  if (bad)
    return `a sample has ${bad.shapes?.length} shapes for ${spec.inputs.length} inputs: ${JSON.stringify(bad.shapes)}`;
  return undefined;
}

class Recorder {
  readonly failures: ConformanceFailure[] = [];
  private readonly runs = new Map<CheckName, { runs: number; failed: boolean }>(
    CHECKS.map((c) => [c, { runs: 0, failed: false }]),
  );

  constructor(readonly op: string) {}

  /** Runs one check; a throw becomes a failure with `where`. Returns whether it passed. */
  run(
    check: CheckName,
    where: Omit<ConformanceFailure, 'op' | 'check' | 'message'>,
    body: () => void,
  ): boolean {
    const tally = this.runs.get(check) as { runs: number; failed: boolean };
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

  fail(
    check: CheckName | 'spec',
    where: Omit<ConformanceFailure, 'op' | 'check' | 'message'>,
    message: string,
  ): void {
    this.failures.push({ op: this.op, check, ...where, message });
  }

  runsOf(check: CheckName): number {
    return (this.runs.get(check) as { runs: number }).runs;
  }

  summaries(): Record<CheckName, CheckSummary> {
    const entries = CHECKS.map((c): [CheckName, CheckSummary] => {
      const { runs, failed } = this.runs.get(c) as { runs: number; failed: boolean };
      return [c, { runs, status: failed ? 'failed' : runs === 0 ? 'skipped' : 'passed' }];
    });
    return Object.fromEntries(entries) as Record<CheckName, CheckSummary>;
  }
}

/** Every check on one draw of one sample's inputs; returns whether all passed. */
function checkDraw<P>(
  op: Op<P>,
  sampleIndex: number,
  drawSeed: number,
  recorder: Recorder,
  options: ResolvedOptions,
  checkerFor: (drawn: DrawnInputs) => ReturnType<typeof jitChecker>,
): boolean {
  const spec = op.definition.spec;
  const sample = spec.samples[sampleIndex];
  const params = (sample.params ?? {}) as P;
  const where = { sample: sampleIndex, shapes: sample.shapes, params: sample.params, seed: drawSeed };
  const random = seededRandom(mixSeed(drawSeed, op.definition.name, sampleIndex));
  const tolerances = tolerancesFor(spec);
  const before = recorder.failures.length;
  const drawn = (() => {
    try {
      return drawInputs(spec, sample, random);
    } catch (e) {
      recorder.fail('spec', where, `cannot draw the inputs: ${(e as Error).message}`);
      return undefined;
    }
  })();
  if (drawn === undefined) return false;

  let outputs: ReturnType<typeof checkForward> = [];
  if (!recorder.run('forward', where, () => (outputs = checkForward(op, params, drawn, tolerances))))
    return false;
  if (spec.reference)
    recorder.run('reference', where, () => checkReference(spec, params, drawn, outputs, tolerances));
  const jitRandom = seededRandom(mixSeed(drawSeed, op.definition.name, sampleIndex, 'jit'));
  recorder.run('jit', where, () => {
    for (const float of ['float64', 'float32'] as const) {
      const [diff, rest] = split(drawn, toTensors(drawn, float));
      checkerFor(drawn)(diff, rest, tolerances.float32, jitRandom);
    }
  });
  const vmapRandom = seededRandom(mixSeed(drawSeed, op.definition.name, sampleIndex, 'vmap'));
  recorder.run('vmap', where, () => {
    // 1 to 3 examples: this draw and fresh ones.
    const more = Array.from({ length: Math.floor(vmapRandom() * 3) }, () =>
      drawInputs(spec, sample, vmapRandom),
    );
    const f = splitOp(op, params, drawn.differentiable);
    for (const float of ['float64', 'float32'] as const) {
      const examples = [drawn, ...more].map((d) => {
        const [diff, rest] = split(drawn, toTensors(d, float));
        return { diff, rest };
      });
      checkVmap(f, examples, tolerances.float32, vmapRandom);
    }
  });
  const { compareWith } = options;
  if (compareWith && compareWith !== T.getBackend())
    recorder.run('backend', where, () => checkBackend(op, params, drawn, compareWith, random, tolerances));
  const order = spec.order ?? 2;
  const d = order >= 1 ? differentiable(op, params, drawn, outputs) : undefined;
  if (d !== undefined) {
    recorder.run('gradcheck', where, () => checkGradcheck(d, random, tolerances));
    recorder.run('dotProduct', where, () => checkDotProduct(d, random));
    const shapesDiffer = sample.shapes.some((s) => s.join() !== sample.shapes[0].join());
    if (shapesDiffer) recorder.run('broadcasting', where, () => checkBroadcasting(d, drawn, random));
    if (order === 2) {
      const size = [...d.inputs.map((x) => x.size), ...d.outputShapes.map(T.sizeOf)].reduce(
        (n, k) => n + k,
        0,
      );
      recorder.run('gradgradcheck', where, () =>
        checkGradgradcheck(d, random, tolerances, size > options.fastModeAbove),
      );
    }
  }
  return recorder.failures.length === before;
}

type ResolvedOptions = Required<Omit<ConformanceOptions, 'compareWith'>> &
  Pick<ConformanceOptions, 'compareWith'>;

function resolve(options: ConformanceOptions): ResolvedOptions {
  return {
    compareWith: options.compareWith,
    seed: options.seed ?? fc.readConfigureGlobal().seed ?? DEFAULT_SEED,
    numRuns: options.numRuns ?? 3,
    throwOnFailure: options.throwOnFailure ?? true,
    fastModeAbove: options.fastModeAbove ?? 64,
  };
}

/** The drawn inputs split into the differentiated ones and the rest. */
function split(drawn: DrawnInputs, all: readonly Tensor[]): [Tensor[], Tensor[]] {
  return [all.filter((_, i) => drawn.differentiable[i]), all.filter((_, i) => !drawn.differentiable[i])];
}

/** The op as a function of (differentiated inputs, the others), for the jit check. */
function splitOp<P>(op: Op<P>, params: P, differentiable: readonly boolean[]) {
  return (diff: Tensor[], rest: Tensor[]) => {
    let d = 0;
    let r = 0;
    return op.apply(
      differentiable.map((isDiff) => (isDiff ? diff[d++] : rest[r++])),
      params,
    );
  };
}

function runChecks<P>(op: Op<P>, recorder: Recorder, options: ResolvedOptions): void {
  const spec = op.definition.spec;
  spec.samples.forEach((sample, sampleIndex) => {
    const before = recorder.failures.length;
    let underJit: ReturnType<typeof jitChecker> | undefined;
    const checkerFor = (drawn: DrawnInputs) => {
      underJit ??= jitChecker(splitOp(op, (sample.params ?? {}) as P, drawn.differentiable));
      return underJit;
    };
    try {
      fc.assert(
        fc.property(fc.integer(), (drawSeed) =>
          checkDraw(op, sampleIndex, drawSeed, recorder, options, checkerFor),
        ),
        { seed: options.seed, numRuns: options.numRuns, endOnFailure: true },
      );
    } catch (e) {
      // Failures are recorded with their draw seed; anything else is a harness bug.
      if (recorder.failures.length === before) throw e;
    }
  });
  const errorRandom = seededRandom(mixSeed(options.seed, op.definition.name, 'errors'));
  (spec.errors ?? []).forEach((sample, index) => {
    const where = { sample: index, shapes: sample.shapes, params: sample.params };
    recorder.run('errors', where, () => checkError(op, spec, sample, errorRandom));
  });
  const order = spec.order ?? 2;
  if (order >= 1 && recorder.runsOf('gradcheck') === 0 && recorder.failures.length === 0) {
    recorder.fail(
      'spec',
      {},
      `spec.order is ${order}, but no sample has a floating-point input and output to differentiate`,
    );
  }
}

/**
 * Checks one op against its spec: forward (float32 vs float64, and vs `spec.reference`),
 * gradcheck, gradgradcheck (order 2), the jvp/vjp dot-product identity, broadcasting and the
 * error samples, on every sample with `numRuns` seeded draws of the input values.
 * Throws a ConformanceError on failure unless `throwOnFailure: false`; returns the report.
 */
export function checkOp<P>(op: Op<P>, options: ConformanceOptions = {}): OpReport {
  const resolved = resolve(options);
  const start = performance.now();
  const definition = op.definition as OpDefinition<unknown>;
  const recorder = new Recorder(definition.name);
  const problem = specProblem(definition);
  if (problem !== undefined) recorder.fail('spec', {}, problem);
  else runChecks(op, recorder, resolved);
  const report: OpReport = {
    op: definition.name,
    order: problem === undefined ? (definition.spec.order ?? 2) : 0,
    checks: recorder.summaries(),
    failures: recorder.failures,
    milliseconds: performance.now() - start,
    ...(definition.batch ? { batchedByLoop: definition.batch.loop } : {}),
  };
  if (resolved.throwOnFailure && report.failures.length > 0) throw new ConformanceError(report);
  return report;
}

/** The one call for a library author's test: throws a readable ConformanceError on failure. */
export function expectOpConforms<P>(
  op: Op<P>,
  options: Omit<ConformanceOptions, 'throwOnFailure'> = {},
): void {
  checkOp(op, { ...options, throwOnFailure: true });
}

/**
 * Checks every registered op (built-in and user-defined) or `options.ops`, prints the counts
 * (ops; checked at order 1; at order 2) and returns the report; throws if any op failed.
 */
export function checkAllOps<const Params extends readonly unknown[]>(
  options: CheckAllOptions<Params> = {},
): ConformanceReport {
  const ops: readonly Op<unknown>[] = (options.ops as readonly Op<unknown>[] | undefined) ?? registeredOps();
  const reports = ops.map((op) => checkOp(op, { ...options, throwOnFailure: false }));
  const report = summarize(reports);
  const log = options.log ?? ((line: string) => console.log(line));
  if (log !== false) log(`conformance: ${formatCounts(report.counts)}`);
  if ((options.throwOnFailure ?? true) && report.failures.length > 0) throw new ConformanceError(report);
  return report;
}
