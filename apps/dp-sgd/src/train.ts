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
import { perExampleGradients } from './per-example.js';
import { writeCurves } from './report.js';

const { privacy } = tg.optim;

/** The δ at which ε is reported: below 1/N for the 60,000 training images. */
export const DELTA = 1e-5;

export interface TrainConfig extends TrainerOptions {
  model: ModelKind;
  /** σ: the noise's standard deviation over the clipping norm. */
  noiseMultiplier: number;
  /** C: each example's gradient is clipped to this L2 norm. */
  maxGradNorm: number;
  dataDir?: string;
  progress?: ProgressMode;
  /** End after this many epochs of the run, as if interrupted (to test --resume). */
  stopAfter?: number;
  /** Examples whose gradients are computed and clipped together (default 256; bounds memory). */
  chunk?: number;
}

export interface EpochResult {
  epoch: number;
  trainLoss: number;
  testLoss: number;
  testAccuracy: number;
  /** ε at δ = 1e-5 after this epoch (the tight conversion), and by the classic one. */
  epsilon: number;
  epsilonClassic: number;
  trainSeconds: number;
}

export interface TrainResult {
  model: tg.nn.Sequential;
  epochs: EpochResult[];
  steps: number;
  testAccuracy: number;
  epsilon: number;
  metricsPath: string;
  plotPaths: string[];
}

const EVAL_BATCH = 1000;

function makeOptimizer(config: TrainConfig, model: tg.nn.Module): tg.optim.Optimizer<{ lr: number }> {
  const params = model.parameters();
  const { lr } = config;
  switch (config.optimizer) {
    case 'sgd':
      return new tg.optim.SGD(params, { lr });
    case 'momentum':
      return new tg.optim.SGD(params, { lr, momentum: 0.9 });
    default:
      return new tg.optim.Adam(params, { lr });
  }
}

/** Per-step learning rates: constant, or cosine from `lr` to 0 over the run. */
function makeSchedule(config: TrainConfig, lr: number, steps: number): tg.optim.Schedule {
  return config.schedule === 'cosine'
    ? tg.optim.cosineAnnealingSchedule({ lr, tMax: steps })
    : tg.optim.constantSchedule(lr);
}

export function evaluate(model: tg.nn.Sequential, dataset: tg.data.TensorDataset) {
  const lossSum = new tg.nn.CrossEntropyLoss({ reduction: 'sum' });
  const [images, labels] = dataset.arrays.map((array) => tg.tensor(array));
  let loss = 0;
  let correct = 0;
  tg.noGrad(() => {
    for (let start = 0; start < dataset.length; start += EVAL_BATCH) {
      const rows = [{ start, stop: start + EVAL_BATCH }];
      const y = tg.slice(labels, rows);
      const logits = model.forward(tg.slice(images, rows));
      loss += Number(lossSum.forward(logits, y).item());
      const predicted = tg.argmax(logits, { axis: 1 }).toTypedArray();
      const truth = y.toTypedArray();
      for (let i = 0; i < truth.length; i++) if (predicted[i] === truth[i]) correct++;
    }
  });
  return { loss: loss / dataset.length, accuracy: correct / dataset.length };
}

/**
 * DP-SGD (Abadi et al. 2016) on Fashion-MNIST. Every step draws a Poisson sample (each training
 * image with probability q = batchSize / N), computes each sampled example's gradient, clips it
 * to `maxGradNorm`, sums, adds Gaussian noise of σ·C and divides by the expected batch size;
 * the optimizer takes that as the gradient. An epoch is round(1/q) steps. The accountant adds
 * each step's Rényi DP and ε at δ = 1e-5 is reported after every epoch.
 */
export async function train(config: TrainConfig): Promise<TrainResult> {
  const flatten = config.model === 'mlp';
  const source = { dir: config.dataDir, limit: config.limit, flatten };
  const trainSet = loadSplit('train', source);
  const testSet = loadSplit('test', source);
  const [images, labels] = trainSet.arrays.map((array) => tg.tensor(array));
  const size = trainSet.length;
  const sampleRate = Math.min(1, config.batchSize / size);
  const stepsPerEpoch = Math.max(1, Math.round(1 / sampleRate));

  tg.manualSeed(config.seed);
  const model = makeModel(config.model);
  const ce = new tg.nn.CrossEntropyLoss();
  const chunk = config.chunk ?? 256;
  const gradients = perExampleGradients(model, (logits, y) => ce.forward(logits, y), chunk);
  const optimizer = makeOptimizer(config, model);
  const scheduler = new tg.optim.LRScheduler(optimizer, (lr) =>
    makeSchedule(config, lr, config.epochs * stepsPerEpoch),
  );
  const accountant = new privacy.RdpAccountant();
  const run = { model, optimizer, scheduler, accountant };
  const settings: RunSettings = {
    model: config.model,
    batchSize: config.batchSize,
    noiseMultiplier: config.noiseMultiplier,
    maxGradNorm: config.maxGradNorm,
    seed: config.seed,
    optimizer: config.optimizer,
    schedule: config.schedule,
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
    `${config.model}: ${model.numParameters().toLocaleString('en-US')} parameters, ${size} training images, ` +
      `q = ${sampleRate.toPrecision(4)} (expected batch ${config.batchSize}), σ = ${config.noiseMultiplier}, ` +
      `C = ${config.maxGradNorm}, ${stepsPerEpoch} steps per epoch` +
      (resuming ? `; resuming after epoch ${firstEpoch} (step ${step})` : ''),
  );

  const rootKey = tg.random.key(config.seed);
  const params = model.parameters();
  const epochs: EpochResult[] = [];
  let plotPaths: string[] = [];
  const lastEpoch = Math.min(config.epochs, config.stopAfter ?? config.epochs);
  for (let epoch = firstEpoch; epoch < lastEpoch; epoch++) {
    progress.startEpoch(epoch + 1);
    const clock = new Stopwatch();
    let lossTotal = 0;
    let examples = 0;
    for (let s = 0; s < stepsPerEpoch; s++) {
      // Step keys depend on the step number only, so a resumed run draws the same samples and noise.
      const [sampleKey, noiseKey] = tg.random.split(tg.random.foldIn(rootKey, step));
      const chosen = privacy.poissonSample(sampleKey, size, sampleRate);
      // An empty Poisson sample still takes a step: noise only.
      let sums = params.map((p) => tg.zerosLike(p));
      let lossSum = 0;
      let clipped = 0;
      for (let start = 0; start < chosen.length; start += chunk) {
        const rows = chosen.subarray(start, start + chunk);
        const result = gradients(tg.indexSelect(images, 0, rows), tg.indexSelect(labels, 0, rows));
        const part = privacy.clipAndSum(result.grads, config.maxGradNorm);
        sums = sums.map((sum, i) => tg.add(sum, tg.tensor(part.sums[i])));
        for (const norm of part.norms.toTypedArray()) if (norm > config.maxGradNorm) clipped++;
        for (const loss of result.losses) lossSum += loss;
      }
      const noisy = privacy.noisyMean(
        (sums ?? []).map((sum) => sum.value),
        {
          maxGradNorm: config.maxGradNorm,
          noiseMultiplier: config.noiseMultiplier,
          expectedBatchSize: sampleRate * size,
          key: noiseKey,
        },
      );
      params.forEach((p, i) => {
        p.grad = tg.tensor(noisy[i]);
      });
      const lr = optimizer.paramGroups[0].lr;
      optimizer.step();
      scheduler.step();
      accountant.step({ noiseMultiplier: config.noiseMultiplier, sampleRate });
      step++;
      const n = chosen.length;
      lossTotal += lossSum;
      examples += n;
      progress.step({ loss: n > 0 ? lossSum / n : Number.NaN, examples: n });
      metrics.write({
        step,
        epoch: epoch + 1,
        split: 'train',
        loss: n > 0 ? lossSum / n : Number.NaN,
        batchSize: n,
        clippedFraction: n > 0 ? clipped / n : 0,
        lr,
      });
    }
    const trainSeconds = clock.lap();
    const test = evaluate(model, testSet);
    const spent = accountant.getPrivacySpent(DELTA);
    const classic = accountant.getPrivacySpent(DELTA, { conversion: 'classic' });
    progress.endEpoch({ 'test acc': test.accuracy, ε: spent.epsilon });
    metrics.write({
      step,
      epoch: epoch + 1,
      split: 'test',
      loss: test.loss,
      accuracy: test.accuracy,
      epsilon: spent.epsilon,
      epsilonClassic: classic.epsilon,
      delta: DELTA,
      trainSeconds,
    });
    if (config.checkpoint !== undefined)
      saveCheckpoint(config.checkpoint, run, { epoch: epoch + 1, step, settings });
    plotPaths = await writeCurves(config.outDir, metricsPath, stepsPerEpoch);
    epochs.push({
      epoch: epoch + 1,
      trainLoss: lossTotal / Math.max(1, examples),
      testLoss: test.loss,
      testAccuracy: test.accuracy,
      epsilon: spent.epsilon,
      epsilonClassic: classic.epsilon,
      trainSeconds,
    });
  }
  const last = epochs.at(-1);
  return {
    model,
    epochs,
    steps: step,
    testAccuracy: last?.testAccuracy ?? evaluate(model, testSet).accuracy,
    epsilon: accountant.getPrivacySpent(DELTA).epsilon,
    metricsPath,
    plotPaths,
  };
}
