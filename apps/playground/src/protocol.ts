// The messages between the page and the training worker.
import type { PlaygroundConfig } from './config.js';
import type { Boundary, LayerStats, Scores } from './trainer.js';

export type ToWorker =
  | { type: 'reset'; config: PlaygroundConfig; digitsUrl: string }
  | { type: 'play' }
  | { type: 'pause' }
  | { type: 'step' }
  | { type: 'export' }
  | { type: 'import'; bytes: Uint8Array; digitsUrl: string }
  | { type: 'predict'; pixels: Float32Array };

/** Evaluations on the training sample and the whole held-out set, every `EVALUATE_EVERY` steps. */
export interface Evaluation {
  readonly step: number;
  readonly train: Scores;
  readonly test: Scores;
  /** The mean loss of the training batches since the previous evaluation (NaN at step 0). */
  readonly batchLoss: number;
}

export interface Update {
  readonly type: 'update';
  readonly running: boolean;
  /** The first update after a reset or an import: the page clears its history. */
  readonly fresh: boolean;
  readonly step: number;
  readonly epoch: number;
  readonly lr: number;
  /** The evaluations since the previous update. */
  readonly evaluations: Evaluation[];
  /** 2-D data sets only. */
  readonly boundary?: Boundary;
  /** The training points (2-D data sets only, in fresh updates): x [n·2] and labels. */
  readonly points?: { readonly x: Float32Array; readonly y: Int32Array };
  readonly layers: LayerStats[];
}

export type FromWorker =
  | { type: 'backend'; threads: number; isolated: boolean }
  | Update
  | { type: 'exported'; bytes: Uint8Array }
  | { type: 'imported'; config: PlaygroundConfig }
  | { type: 'prediction'; probabilities: number[] }
  | { type: 'error'; message: string };

export const EVALUATE_EVERY = 20;
