/**
 * One safetensors file holds everything a resumed run needs: the model's tensors (`model.*`), the
 * optimizer's state tensors (`optimizer.*`), and, as JSON metadata, the optimizer's
 * hyper-parameters and step counts, the scheduler's position, the epoch reached and the settings
 * that must not change between the two halves of a run.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { io, load, type NDArray, type nn, type optim, save, type Tensor } from 'tsgrad/node';

/** What training changes: saved together, restored together. */
export interface TrainingParts {
  model: nn.Module;
  optimizer: { stateDict(): optim.OptimizerStateDict; loadStateDict(state: optim.OptimizerStateDict): void };
  scheduler: optim.LRScheduler | undefined;
}

export interface CheckpointInfo {
  /** Epochs finished (the run continues with epoch `epoch + 1`). */
  epoch: number;
  /** Optimizer steps taken. */
  step: number;
  /** Settings a resumed run must share with the saved one (data, model shape). */
  run: Record<string, optim.JsonValue>;
}

interface SavedMetadata extends CheckpointInfo {
  optimizer: optim.OptimizerStateDict['meta'];
  scheduler: optim.LRSchedulerStateDict | null;
}

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

export function saveCheckpoint(path: string, parts: TrainingParts, info: CheckpointInfo): void {
  const optimizer = parts.optimizer.stateDict();
  const tensors: Record<string, Tensor | NDArray> = {};
  for (const [name, value] of Object.entries(parts.model.stateDict())) tensors[`model.${name}`] = value;
  for (const [name, value] of Object.entries(optimizer.state)) tensors[`optimizer.${name}`] = value;
  const metadata: SavedMetadata = {
    ...info,
    optimizer: optimizer.meta,
    scheduler: parts.scheduler?.stateDict() ?? null,
  };
  mkdirSync(dirname(path), { recursive: true });
  save(tensors, path, { metadata: io.encodeJsonMetadata(metadata) });
}

/**
 * Restores `parts` from `path` and returns where the saved run stopped. Throws a CheckpointError
 * when the saved run used other `run` settings (another data set or model would not continue it).
 */
export function loadCheckpoint(
  path: string,
  parts: TrainingParts,
  run: CheckpointInfo['run'],
): CheckpointInfo {
  const { tensors, metadata } = load(path);
  const saved = io.decodeJsonMetadata(metadata) as SavedMetadata | undefined;
  if (saved === undefined)
    throw new CheckpointError(`${path}: not a training checkpoint (no tsgrad.json metadata)`);
  const changed = Object.keys(run).filter(
    (key) => JSON.stringify(run[key]) !== JSON.stringify(saved.run[key]),
  );
  if (changed.length > 0) {
    const detail = changed.map(
      (key) => `${key}: saved ${JSON.stringify(saved.run[key])}, now ${JSON.stringify(run[key])}`,
    );
    throw new CheckpointError(`${path}: cannot resume with different settings (${detail.join('; ')})`);
  }
  parts.model.loadStateDict(withoutPrefix('model.', tensors));
  parts.optimizer.loadStateDict({ state: withoutPrefix('optimizer.', tensors), meta: saved.optimizer });
  if (parts.scheduler !== undefined && saved.scheduler !== null)
    parts.scheduler.loadStateDict(saved.scheduler);
  return { epoch: saved.epoch, step: saved.step, run: saved.run };
}

function withoutPrefix(prefix: string, tensors: Record<string, NDArray>): Record<string, NDArray> {
  const out: Record<string, NDArray> = {};
  for (const [name, value] of Object.entries(tensors)) {
    if (name.startsWith(prefix)) out[name.slice(prefix.length)] = value;
  }
  return out;
}
