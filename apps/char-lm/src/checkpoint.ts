// A training checkpoint in one safetensors file: the model's weights, the optimizer's moment
// arrays, and (as JSON metadata) everything else needed to continue exactly where it stopped.
import { io, load, type NDArray, type optim, save } from 'tsgrad/node';
import type { CharModel, ModelConfig } from './model.js';

const FORMAT = 'tsgrad-char-lm/1';
const MODEL_PREFIX = 'model.';
const OPTIMIZER_PREFIX = 'optimizer.';

interface CheckpointMetadata {
  readonly format: typeof FORMAT;
  /** Optimizer steps taken so far. */
  readonly step: number;
  /** Epochs (evaluation periods) completed. */
  readonly epoch: number;
  readonly model: ModelConfig;
  /** The character of each id, so that the ids mean the same after a reload. */
  readonly vocab: readonly string[];
  readonly optimizer: optim.OptimizerStateDict['meta'];
  readonly scheduler: optim.LRSchedulerStateDict;
}

export interface TrainingState {
  readonly model: CharModel;
  readonly optimizer: optim.Optimizer<{ lr: number }>;
  readonly scheduler: optim.LRScheduler;
  readonly vocab: readonly string[];
  readonly step: number;
  readonly epoch: number;
}

/** Thrown when a checkpoint does not belong to the run that tries to resume from it. */
export class CheckpointMismatchError extends Error {
  override name = 'CheckpointMismatchError';
}

/** Writes the checkpoint atomically: a crash while saving leaves the previous one intact. */
export function saveCheckpoint(path: string, state: TrainingState): void {
  const tensors: Record<string, NDArray> = {};
  for (const [name, tensor] of Object.entries(state.model.stateDict()))
    tensors[MODEL_PREFIX + name] = tensor.value;
  const optimizer = state.optimizer.stateDict();
  for (const [name, array] of Object.entries(optimizer.state)) tensors[OPTIMIZER_PREFIX + name] = array;
  const metadata: CheckpointMetadata = {
    format: FORMAT,
    step: state.step,
    epoch: state.epoch,
    model: state.model.config,
    vocab: state.vocab,
    optimizer: optimizer.meta,
    scheduler: state.scheduler.stateDict(),
  };
  save(tensors, path, { metadata: io.encodeJsonMetadata(metadata) });
}

/**
 * Loads a checkpoint into a freshly built model, optimizer and scheduler (of the same
 * configuration) and returns the step and epoch to continue from.
 */
export function loadCheckpoint(
  path: string,
  into: Omit<TrainingState, 'step' | 'epoch'>,
): { step: number; epoch: number } {
  const { tensors, metadata } = load(path);
  const meta = io.decodeJsonMetadata(metadata) as CheckpointMetadata | undefined;
  if (meta?.format !== FORMAT) throw new CheckpointMismatchError(`${path} is not a ${FORMAT} checkpoint`);
  const saved = JSON.stringify(meta.model);
  const wanted = JSON.stringify(into.model.config);
  if (saved !== wanted) {
    throw new CheckpointMismatchError(`${path} holds a model ${saved}, this run builds ${wanted}`);
  }
  if (meta.vocab.join('') !== into.vocab.join('')) {
    throw new CheckpointMismatchError(`${path} was trained on a different text (its vocabulary differs)`);
  }
  const withPrefix = (prefix: string) =>
    Object.fromEntries(
      Object.entries(tensors)
        .filter(([name]) => name.startsWith(prefix))
        .map(([name, array]) => [name.slice(prefix.length), array]),
    );
  into.model.loadStateDict(withPrefix(MODEL_PREFIX));
  into.optimizer.loadStateDict({ state: withPrefix(OPTIMIZER_PREFIX), meta: meta.optimizer });
  into.scheduler.loadStateDict(meta.scheduler);
  return { step: meta.step, epoch: meta.epoch };
}
