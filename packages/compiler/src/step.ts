import { enableGrad, noGrad, Tensor, treeFlatten, treeUnflatten, zerosLike } from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';
import { checkFunction } from './check.js';
import { type Jitted, jit } from './jit.js';

// A PyTorch-style training step compiled like `torch.compile`: the loss, its backward, the
// gradient clipping, the optimizer's update and the buffers' in-place updates (BatchNorm's
// running statistics) trace into one plan. The optimizer's state and learning rates are
// arguments of the plan (its state donated, so it is updated in place), and so are PRNG keys
// in the batch (dropout masks are drawn on the host from each call's key).

/** What the loss function returns: the loss, or `[loss, aux]` with aux a tree of tensors (e.g. logits). */
export type LossResult = Tensor | readonly [Tensor, unknown];

/**
 * An optimizer whose update compiles into the step (the optimizers of @tsgrad/optim): the
 * step passes `compiledUpdateArguments()` to the plan, calls `tracedStep` inside the trace and
 * gives the new states to `commitCompiled`.
 */
export interface CompilableOptimizer {
  readonly paramGroups: readonly { readonly params: readonly Tensor[] }[];
  compiledUpdateArguments(): {
    readonly states: readonly unknown[];
    readonly learningRates: readonly T.NDArray[];
    readonly hyperParameters: unknown;
  };
  tracedStep(states: readonly unknown[], learningRates: readonly T.NDArray[]): unknown[];
  commitCompiled(states: readonly unknown[]): void;
}

/** Options of `compileStep`. */
export interface CompileStepOptions<Batch extends unknown[], R extends LossResult = Tensor> {
  /** The parameters the loss reads and the optimizer updates (e.g. `model.parameters()`). */
  readonly parameters: Iterable<Tensor>;
  /** Tensors the loss updates in place with `assign` (e.g. `model.buffers()`). */
  readonly buffers?: Iterable<Tensor>;
  /**
   * The loss of one batch, computed from the parameters as they are (a model's forward and a
   * loss), or `[loss, aux]`: aux (e.g. the logits) is returned too, not differentiated.
   */
  readonly loss: (...batch: Batch) => R;
  /**
   * Updates the parameters from their `.grad`: an optimizer of @tsgrad/optim (its update is
   * compiled into the step), or any object with `step()` (called after the plan). None:
   * gradients only.
   */
  readonly optimizer?: CompilableOptimizer | { step(): void };
  /**
   * Scales the gradients so that their total 2-norm is at most this before the update, as
   * torch's `clip_grad_norm_` (inside the plan); the step's `gradNorm` is the norm before.
   */
  readonly maxGradNorm?: number;
  /** Fuse elementwise chains (jit's option; default true). */
  readonly fusion?: boolean;
}

interface OptimizerArguments {
  readonly states: readonly unknown[];
  readonly learningRates: readonly Tensor[];
  readonly hyperParameters: unknown;
}

/** Loss, aux, gradients, buffers' new values, parameters' new values, optimizer states, gradient norm. */
type StepOutputs = [Tensor, unknown, Tensor[], Tensor[], Tensor[], unknown[] | null, Tensor | null];

/** A compiled training step: returns what the loss function does, computed before the update. */
export type CompiledStep<Batch extends unknown[], R extends LossResult = Tensor> = ((
  ...batch: Batch
) => R) & {
  /** The jitted step (its `lastCompile` reports compile times, `cacheSize` the signatures). */
  readonly compiled: Jitted<[Tensor[], Tensor[], OptimizerArguments | null, ...Batch], StepOutputs>;
  /** The gradients' total 2-norm of the last call, before clipping (with `maxGradNorm`). */
  readonly gradNorm: Tensor | null;
};

const isPair = (r: LossResult): r is readonly [Tensor, unknown] => Array.isArray(r);

/** The tensors of an iterable option, checked. */
function tensorList(name: string, value: unknown): Tensor[] {
  const iterable = typeof value === 'object' && value !== null && Symbol.iterator in value;
  const list = iterable ? [...(value as Iterable<unknown>)] : null;
  if (list === null || !list.every((t) => t instanceof Tensor))
    throw new T.ValueError('compileStep', `${name} must be an iterable of tensors, got ${T.describe(value)}`);
  return list as Tensor[];
}

const isCompilable = (o: unknown): o is CompilableOptimizer =>
  typeof o === 'object' &&
  o !== null &&
  typeof (o as Partial<CompilableOptimizer>).tracedStep === 'function' &&
  typeof (o as Partial<CompilableOptimizer>).commitCompiled === 'function' &&
  typeof (o as Partial<CompilableOptimizer>).compiledUpdateArguments === 'function';

/** The tree with every tensor detached. */
function detachAll(tree: unknown): unknown {
  const [leaves, def] = treeFlatten(tree);
  return treeUnflatten(
    def,
    leaves.map((t) => t.detach()),
  );
}

/** Runs `fn` with the tensors holding `values` (and no gradient), then puts back what they held. */
function withValues<R>(tensors: readonly Tensor[], values: readonly Tensor[], fn: () => R): R {
  const saved = tensors.map((t) => {
    const v = t.peekValue();
    return { value: T.NDArray.view(v, v.shape, v.strides, v.offset, 'compileStep'), grad: t.peekGrad() };
  });
  tensors.forEach((t, i) => {
    t.assign(values[i].peekValue());
    t.replaceGrad(null, false);
  });
  try {
    return fn();
  } finally {
    tensors.forEach((t, i) => {
      t.assign(saved[i].value);
      saved[i].value.dispose();
      t.replaceGrad(saved[i].grad, false);
    });
  }
}

/**
 * torch's `clip_grad_norm_` on traced gradients: the total 2-norm (accumulated in float64) and
 * each gradient scaled by min(1, maxNorm / (norm + 1e-6)); returns the norm.
 */
function clipGradients(parameters: readonly Tensor[], maxNorm: number): Tensor {
  const grads = parameters.flatMap((p) => {
    const g = p.peekGrad();
    return g === null ? [] : [{ p, g: g.peekValue() }];
  });
  let total: T.NDArray = T.scalar(0, { dtype: 'float64' });
  for (const { g } of grads) {
    const x = T.cast(g, 'float64');
    total = T.add(total, T.sum(T.mul(x, x)));
  }
  const norm = T.pow(total, 0.5);
  const coefficient = T.minimum(T.div(maxNorm, T.add(norm, 1e-6)), 1);
  for (const { p, g } of grads) p.grad = new Tensor(T.mul(g, T.cast(coefficient, g.dtype)));
  return new Tensor(norm);
}

/**
 * Compiles a training step: `loss(...batch)`, `backward()`, gradient clipping, the
 * optimizer's update and the buffer updates run as one compiled plan (traced on the first
 * call for each batch shape); then each parameter holds its new value and its `.grad` the
 * gradient of this step. The loss must be a function of the parameters, buffers and batch
 * (tensors and PRNG keys in the batch are arguments of the plan, other values static), so
 * dropout takes its key from the batch. Learning rates are read at every call (schedulers
 * work); changing another hyper-parameter traces the step again.
 */
export function compileStep<Batch extends unknown[], R extends LossResult = Tensor>(
  options: CompileStepOptions<Batch, R>,
): CompiledStep<Batch, R> {
  T.checkRecord('compileStep', 'options', options);
  const parameters = tensorList('parameters', options.parameters);
  const buffers = tensorList('buffers', options.buffers ?? []);
  checkFunction('compileStep', 'loss', options.loss);
  const { optimizer, maxGradNorm } = options;
  if (
    optimizer !== undefined &&
    !isCompilable(optimizer) &&
    typeof (optimizer as { step?: unknown })?.step !== 'function'
  )
    throw new T.ValueError(
      'compileStep',
      `optimizer must have a step() method, got ${T.describe(optimizer)}`,
    );
  if (maxGradNorm !== undefined && !(typeof maxGradNorm === 'number' && maxGradNorm >= 0)) {
    throw new T.ValueError('compileStep', `maxGradNorm must be a number ≥ 0, got ${T.describe(maxGradNorm)}`);
  }
  const traced = optimizer !== undefined && isCompilable(optimizer) ? optimizer : undefined;
  if (traced !== undefined) {
    const known = new Set(parameters);
    if (traced.paramGroups.some((g) => g.params.some((p) => !known.has(p)))) {
      throw new T.ValueError(
        'compileStep',
        'the optimizer updates a tensor that is not among the parameters',
      );
    }
  }
  let hasAux = false;
  const compiled = jit(
    (ps: Tensor[], bs: Tensor[], opt: OptimizerArguments | null, ...batch: Batch): StepOutputs =>
      enableGrad(() =>
        withValues([...parameters, ...buffers], [...ps, ...bs], () => {
          const result = options.loss(...batch);
          hasAux = isPair(result);
          const [loss, aux] = isPair(result) ? result : [result, null];
          loss.backward();
          const gradNorm = maxGradNorm === undefined ? null : clipGradients(parameters, maxGradNorm);
          const grads = parameters.map((p) => p.peekGrad() ?? zerosLike(p));
          const states =
            traced !== undefined && opt !== null
              ? traced.tracedStep(
                  opt.states,
                  opt.learningRates.map((t) => t.peekValue()),
                )
              : null;
          const updated = states === null ? [] : parameters.map((p) => p.detach());
          return [
            loss.detach(),
            detachAll(aux),
            grads,
            buffers.map((b) => b.detach()),
            updated,
            states,
            gradNorm,
          ];
        }),
      ),
    { donateArgnums: 2, fusion: options.fusion },
  );
  /** The gradients this step put in `.grad`, freed when the next step replaces them. */
  let given: Tensor[] = [];
  let gradNorm: Tensor | null = null;
  const step = (...batch: Batch): R => {
    const opt = traced?.compiledUpdateArguments();
    const optArgs =
      opt === undefined ? null : { ...opt, learningRates: opt.learningRates.map((lr) => new Tensor(lr)) };
    const [loss, aux, grads, updatedBuffers, updatedParams, states, norm] = noGrad(() =>
      compiled(parameters, buffers, optArgs, ...batch),
    );
    parameters.forEach((p, i) => {
      const previous = p.peekGrad();
      p.grad = grads[i];
      if (previous !== null && given.includes(previous)) previous.dispose();
    });
    given = grads;
    buffers.forEach((b, i) => {
      b.assign(updatedBuffers[i].peekValue());
      updatedBuffers[i].dispose();
    });
    if (traced !== undefined && states !== null) {
      parameters.forEach((p, i) => {
        p.assign(updatedParams[i].peekValue());
        updatedParams[i].dispose();
      });
      traced.commitCompiled(states);
    } else if (optimizer !== undefined) {
      (optimizer as { step(): void }).step();
    }
    gradNorm = norm;
    return (hasAux ? [loss, aux] : loss) as R;
  };
  return Object.defineProperties(step, {
    compiled: { value: compiled },
    gradNorm: { get: () => gradNorm },
  }) as CompiledStep<Batch, R>;
}
