import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  MetricsWriter,
  type ProgressMode,
  Stopwatch,
  type TrainerOptions,
  TrainingProgress,
} from '@tsgrad/app-kit';
import * as tg from 'tsgrad';
import { CheckpointError, loadCheckpoint, type RunSettings, saveCheckpoint } from './checkpoint.js';
import { loadSplit } from './data.js';
import { type ModelKind, makeModel } from './model.js';
import { writeCurves } from './report.js';

export interface TrainConfig extends TrainerOptions {
  model: ModelKind;
  /** Width of the hidden dense layer (for the CNN, 0 means none). */
  hidden: number;
  /** The folder of the Fashion-MNIST files (default: Debian's). */
  dataDir?: string;
  /** Progress output (default 'auto': a bar in a terminal, lines otherwise). */
  progress?: ProgressMode;
  /** End after this many epochs of the run, as if interrupted (to test --resume). */
  stopAfter?: number;
}

export interface EpochResult {
  /** Counted from 1. */
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  testLoss: number;
  testAccuracy: number;
  /** Wall time of the epoch's training steps, and of the evaluation after it. */
  trainSeconds: number;
  evalSeconds: number;
}

export interface TrainResult {
  model: tg.nn.Sequential;
  /** The epochs this call ran (a resumed run starts after the checkpoint's). */
  epochs: EpochResult[];
  /** Optimizer steps of the whole run so far. */
  steps: number;
  testLoss: number;
  testAccuracy: number;
  metricsPath: string;
  plotPaths: string[];
}

/** Images per forward pass when evaluating (bounded for the memory of the CNN's im2col). */
const EVAL_BATCH = 500;
/** Train records per epoch in metrics.jsonl (each averages the steps since the previous one). */
const RECORDS_PER_EPOCH = 20;

function makeOptimizer(config: TrainConfig, model: tg.nn.Module): tg.optim.Optimizer<{ lr: number }> {
  const params = model.parameters();
  const { lr, weightDecay } = config;
  switch (config.optimizer) {
    case 'sgd':
      return new tg.optim.SGD(params, { lr, momentum: 0.9, weightDecay });
    case 'adamw':
      return new tg.optim.AdamW(params, { lr, weightDecay });
    default:
      return new tg.optim.Adam(params, { lr, weightDecay });
  }
}

/** Per-step learning rates: constant, halved every epoch (`step`), or cosine to 0 over the run. */
function makeSchedule(config: TrainConfig, lr: number, stepsPerEpoch: number): tg.optim.Schedule {
  switch (config.schedule) {
    case 'step':
      return tg.optim.stepSchedule({ lr, stepSize: stepsPerEpoch, gamma: 0.5 });
    case 'cosine':
      return tg.optim.cosineAnnealingSchedule({ lr, tMax: config.epochs * stepsPerEpoch });
    default:
      return tg.optim.constantSchedule(lr);
  }
}

/** Number of examples in `labels` whose class is the argmax of their `logits` row. */
function countCorrect(logits: tg.Tensor, labels: tg.Tensor): number {
  const predicted = tg.argmax(logits, { axis: 1 }).toTypedArray();
  const truth = labels.toTypedArray();
  let correct = 0;
  for (let i = 0; i < truth.length; i++) if (predicted[i] === truth[i]) correct++;
  return correct;
}

/** Mean loss and accuracy over `data`, in eval mode and without recording gradients. */
export function evaluate(
  model: tg.nn.Module & { forward(x: tg.Tensor): tg.Tensor },
  data: tg.data.TensorDataset,
) {
  const lossSum = new tg.nn.CrossEntropyLoss({ reduction: 'sum' });
  const [images, labels] = data.arrays.map((array) => tg.tensor(array));
  let loss = 0;
  let correct = 0;
  model.eval();
  try {
    tg.noGrad(() => {
      for (let start = 0; start < data.length; start += EVAL_BATCH) {
        const rows = [{ start, stop: start + EVAL_BATCH }];
        const x = tg.slice(images, rows);
        const y = tg.slice(labels, rows);
        const logits = model.forward(x);
        loss += Number(lossSum.forward(logits, y).item());
        correct += countCorrect(logits, y);
      }
    });
  } finally {
    model.train();
  }
  return { loss: loss / data.length, accuracy: correct / data.length };
}

/**
 * Trains `config.model` on the Fashion-MNIST training set, evaluating on the test set after each
 * epoch; writes metrics.jsonl, loss and accuracy curves and (with `checkpoint`) a checkpoint per
 * epoch. With `resume`, continues the run from the checkpoint exactly as if never stopped.
 */
export async function train(config: TrainConfig): Promise<TrainResult> {
  const flatten = config.model === 'mlp';
  const source = { dir: config.dataDir, limit: config.limit, flatten };
  const trainSet = loadSplit('train', source);
  const testSet = loadSplit('test', source);
  const loader = new tg.data.DataLoader(trainSet, {
    batchSize: config.batchSize,
    shuffle: true,
    seed: config.seed,
  });
  const stepsPerEpoch = loader.length;

  tg.manualSeed(config.seed);
  const model = makeModel(config.model, config.hidden);
  const lossFn = new tg.nn.CrossEntropyLoss();
  const optimizer = makeOptimizer(config, model);
  const scheduler = new tg.optim.LRScheduler(optimizer, (lr) => makeSchedule(config, lr, stepsPerEpoch));
  const run = { model, optimizer, scheduler };
  const settings: RunSettings = {
    model: config.model,
    hidden: config.hidden,
    batchSize: config.batchSize,
    seed: config.seed,
    optimizer: config.optimizer,
    limit: config.limit ?? null,
  };

  let firstEpoch = 0;
  let step = 0;
  const resuming = config.resume && config.checkpoint !== undefined && existsSync(config.checkpoint);
  if (config.resume && !resuming)
    throw new CheckpointError(`--resume: no checkpoint at ${config.checkpoint}`);
  if (resuming && config.checkpoint !== undefined) {
    ({ epoch: firstEpoch, step } = loadCheckpoint(config.checkpoint, run, settings));
  }

  const metricsPath = join(config.outDir, 'metrics.jsonl');
  using metrics = new MetricsWriter(metricsPath, { append: resuming, keepUpToStep: step });
  using progress = new TrainingProgress({ epochs: config.epochs, stepsPerEpoch, mode: config.progress });
  progress.log(
    `${config.model}: ${model.numParameters().toLocaleString('en-US')} parameters, ` +
      `${trainSet.length} training and ${testSet.length} test images, ${stepsPerEpoch} steps per epoch` +
      (resuming ? `; resuming after epoch ${firstEpoch} (step ${step})` : ''),
  );

  const recordEvery = Math.max(1, Math.ceil(stepsPerEpoch / RECORDS_PER_EPOCH));
  const lastEpoch = Math.min(config.epochs, config.stopAfter ?? config.epochs);
  const epochs: EpochResult[] = [];
  let plotPaths: string[] = [];
  const compiled =
    (config.jit ?? true)
      ? tg.compileStep({
          parameters: model.parameters(),
          buffers: model.buffers(),
          loss: (x: tg.Tensor, y: tg.Tensor) => {
            const logits = model.forward(x);
            return [lossFn.forward(logits, y), logits] as const;
          },
          optimizer,
        })
      : undefined;
  model.train();
  loader.setEpoch(firstEpoch);
  for (let epoch = firstEpoch; epoch < lastEpoch; epoch++) {
    progress.startEpoch(epoch + 1);
    const clock = new Stopwatch();
    const totals = { loss: 0, correct: 0 };
    const window = { loss: 0, correct: 0, examples: 0 };
    let stepInEpoch = 0;
    for (const [images, labels] of loader) {
      const lr = optimizer.paramGroups[0].lr;
      const x = tg.tensor(images);
      const y = tg.tensor(labels);
      let [loss, logits] = compiled?.(x, y) ?? [];
      if (loss === undefined || logits === undefined) {
        logits = model.forward(x);
        loss = lossFn.forward(logits, y);
        optimizer.zeroGrad();
        loss.backward();
        optimizer.step();
      }
      scheduler.step();
      step++;
      stepInEpoch++;

      const n = labels.shape[0];
      const lossValue = Number(loss.item());
      const correct = countCorrect(logits, y);
      progress.step({ loss: lossValue, accuracy: correct / n, examples: n });
      totals.loss += lossValue * n;
      totals.correct += correct;
      window.loss += lossValue * n;
      window.correct += correct;
      window.examples += n;
      if (stepInEpoch % recordEvery === 0 || stepInEpoch === stepsPerEpoch) {
        metrics.write({
          step,
          epoch: epoch + 1,
          split: 'train',
          loss: window.loss / window.examples,
          accuracy: window.correct / window.examples,
          lr,
        });
        Object.assign(window, { loss: 0, correct: 0, examples: 0 });
      }
    }
    const trainSeconds = clock.lap();
    const test = evaluate(model, testSet);
    const evalSeconds = clock.lap();
    progress.endEpoch({ 'test loss': test.loss, 'test acc': test.accuracy });
    metrics.write({
      step,
      epoch: epoch + 1,
      split: 'test',
      loss: test.loss,
      accuracy: test.accuracy,
      trainSeconds,
      evalSeconds,
    });
    if (config.checkpoint !== undefined) {
      saveCheckpoint(config.checkpoint, run, { epoch: epoch + 1, step, settings });
    }
    plotPaths = await writeCurves(config.outDir, metricsPath, `Fashion-MNIST ${config.model}`, stepsPerEpoch);
    epochs.push({
      epoch: epoch + 1,
      trainLoss: totals.loss / trainSet.length,
      trainAccuracy: totals.correct / trainSet.length,
      testLoss: test.loss,
      testAccuracy: test.accuracy,
      trainSeconds,
      evalSeconds,
    });
  }
  const last = epochs.at(-1);
  const test =
    last === undefined ? evaluate(model, testSet) : { loss: last.testLoss, accuracy: last.testAccuracy };
  return {
    model,
    epochs,
    steps: step,
    testLoss: test.loss,
    testAccuracy: test.accuracy,
    metricsPath,
    plotPaths,
  };
}
