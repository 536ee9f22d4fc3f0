import { enableGrad, noGrad, type Tensor, treeFlatten, treeUnflatten, zerosLike } from '@tsgrad/autograd';
import { NDArray } from '@tsgrad/tensor';
import { type Jitted, jit } from './jit.js';

// A PyTorch-style training step compiled like `torch.compile`: the loss, its backward and
// the buffers' in-place updates (BatchNorm's running statistics) trace into one plan; each
// call replays it, puts the gradients in the parameters' `.grad` and runs the optimizer.

/** What the loss function returns: the loss, or `[loss, aux]` with aux a tree of tensors (e.g. logits). */
export type LossResult = Tensor | readonly [Tensor, unknown];

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
  /** Updates the parameters from their `.grad` (a torch-style optimizer); none: gradients only. */
  readonly optimizer?: { step(): void };
  /** Fuse elementwise chains (jit's option; default true). */
  readonly fusion?: boolean;
}

/** Loss, aux, gradients and the buffers' new values. */
type StepOutputs = [Tensor, unknown, Tensor[], Tensor[]];

/** A compiled training step: returns what the loss function does, computed before the update. */
export type CompiledStep<Batch extends unknown[], R extends LossResult = Tensor> = ((
  ...batch: Batch
) => R) & {
  /** The jitted loss-and-gradients function (its `lastCompile` reports compile times). */
  readonly compiled: Jitted<[Tensor[], Tensor[], ...Batch], StepOutputs>;
};

const isPair = (r: LossResult): r is readonly [Tensor, unknown] => Array.isArray(r);

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
    return { value: NDArray.view(v, v.shape, v.strides, v.offset, 'compileStep'), grad: t.peekGrad() };
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
 * Compiles a training step: `loss(...batch)`, `backward()` and the buffer updates run as one
 * compiled plan (traced on the first call for each batch shape); then each parameter's
 * `.grad` holds its gradient and `optimizer.step()` updates it. The loss must be a function
 * of the parameters, buffers and batch (tensors in the batch are inputs, other values static).
 */
export function compileStep<Batch extends unknown[], R extends LossResult = Tensor>(
  options: CompileStepOptions<Batch, R>,
): CompiledStep<Batch, R> {
  const parameters = [...options.parameters];
  const buffers = [...(options.buffers ?? [])];
  let hasAux = false;
  const compiled = jit(
    (ps: Tensor[], bs: Tensor[], ...batch: Batch): StepOutputs =>
      enableGrad(() =>
        withValues([...parameters, ...buffers], [...ps, ...bs], () => {
          const result = options.loss(...batch);
          hasAux = isPair(result);
          const [loss, aux] = isPair(result) ? result : [result, null];
          loss.backward();
          const grads = parameters.map((p) => p.peekGrad() ?? zerosLike(p));
          return [loss.detach(), detachAll(aux), grads, buffers.map((b) => b.detach())];
        }),
      ),
    { fusion: options.fusion },
  );
  /** The gradients this step put in `.grad`, freed when the next step replaces them. */
  let given: Tensor[] = [];
  const step = (...batch: Batch): R => {
    const [loss, aux, grads, updated] = noGrad(() => compiled(parameters, buffers, ...batch));
    parameters.forEach((p, i) => {
      const previous = p.peekGrad();
      p.grad = grads[i];
      if (previous !== null && given.includes(previous)) previous.dispose();
    });
    given = grads;
    buffers.forEach((b, i) => {
      b.assign(updated[i].peekValue());
      updated[i].dispose();
    });
    options.optimizer?.step();
    return (hasAux ? [loss, aux] : loss) as R;
  };
  return Object.defineProperty(step, 'compiled', { value: compiled }) as CompiledStep<Batch, R>;
}
