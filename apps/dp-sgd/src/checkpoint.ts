/**
 * Checkpoints as one safetensors file: the model's state dict under `model.*`, the optimizer's
 * state under `optimizer.*`, and as JSON metadata where the run stopped, its settings, the
 * scheduler's position and the accountant's history (so a resumed run reports the same ε).
 */
import { io, load, type NDArray, type nn, type optim, save } from 'tsgrad/node';

/** The settings a resumed run must share with the run that wrote the checkpoint. */
export interface RunSettings {
  model: string;
  batchSize: number;
  noiseMultiplier: number;
  maxGradNorm: number;
  seed: number;
  optimizer: string;
  schedule: string;
  limit: number | null;
}

export interface CheckpointInfo {
  /** Epochs finished. */
  epoch: number;
  /** Optimizer steps taken. */
  step: number;
  settings: RunSettings;
}

interface Metadata extends CheckpointInfo {
  optimizer: optim.OptimizerStateDict['meta'];
  scheduler: optim.LRSchedulerStateDict;
  accountant: optim.privacy.RdpAccountantStateDict;
}

export interface Trainable {
  model: nn.Module;
  optimizer: optim.Optimizer<{ lr: number }>;
  scheduler: optim.LRScheduler;
  accountant: optim.privacy.RdpAccountant;
}

const MODEL = 'model.';
const OPTIMIZER = 'optimizer.';

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

export function saveCheckpoint(path: string, run: Trainable, info: CheckpointInfo): void {
  const tensors: io.StateDict = {};
  for (const [name, tensor] of Object.entries(run.model.stateDict())) tensors[MODEL + name] = tensor;
  const { state, meta } = run.optimizer.stateDict();
  for (const [name, array] of Object.entries(state)) tensors[OPTIMIZER + name] = array;
  const metadata: Metadata = {
    ...info,
    optimizer: meta,
    scheduler: run.scheduler.stateDict(),
    accountant: run.accountant.stateDict(),
  };
  save(tensors, path, { metadata: io.encodeJsonMetadata(metadata) });
}

/** Restores model, optimizer and accountant in place; throws if the run's settings differ. */
export function loadCheckpoint(path: string, run: Trainable, settings: RunSettings): CheckpointInfo {
  const { tensors, metadata } = load(path);
  const saved = io.decodeJsonMetadata(metadata) as Metadata | undefined;
  if (saved === undefined) throw new CheckpointError(`${path} has no tsgrad.json metadata`);
  const differences = (Object.keys(settings) as (keyof RunSettings)[])
    .filter((key) => saved.settings[key] !== settings[key])
    .map((key) => `${key} ${JSON.stringify(saved.settings[key])} → ${JSON.stringify(settings[key])}`);
  if (differences.length > 0) {
    throw new CheckpointError(
      `${path} was written by a run with other settings (${differences.join(', ')}); resume with the same ones`,
    );
  }
  run.model.loadStateDict(withPrefix(tensors, MODEL));
  run.optimizer.loadStateDict({ state: withPrefix(tensors, OPTIMIZER), meta: saved.optimizer });
  run.scheduler.loadStateDict(saved.scheduler);
  run.accountant.loadStateDict(saved.accountant);
  return { epoch: saved.epoch, step: saved.step, settings: saved.settings };
}

function withPrefix(tensors: Record<string, NDArray>, prefix: string): Record<string, NDArray> {
  const out: Record<string, NDArray> = {};
  for (const [name, array] of Object.entries(tensors)) {
    if (name.startsWith(prefix)) out[name.slice(prefix.length)] = array;
  }
  return out;
}
