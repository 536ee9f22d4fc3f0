import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MetricsWriter, type ProgressMode, readMetrics, Stopwatch, TrainingProgress } from '@tsgrad/app-kit';
import { compileStep, crossEntropy, data, nn, optim, random, type Tensor, tensor } from 'tsgrad';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { type Activation, countCorrect, describeMlp, evaluate, mlp } from './model.js';
import { type EpochRecord, writeBoundary, writeCurves } from './plots.js';

export const optimizers = ['adam', 'adamw', 'sgd'] as const;
export const schedules = ['constant', 'cosine', 'step'] as const;

export interface SpiralsConfig {
  /** Points in the training set, shared by the three arms. */
  points: number;
  /** Points in the held-out set (same arms, its own noise and positions). */
  testPoints: number;
  /** Standard deviation of the Gaussian noise on each coordinate (the arms reach radius 1). */
  noise: number;
  hidden: number[];
  activation: Activation;
  epochs: number;
  batchSize: number;
  lr: number;
  optimizer: (typeof optimizers)[number];
  /** Learning rate per epoch: constant, cosine annealing to 0, or ÷10 every third of the run. */
  schedule: (typeof schedules)[number];
  weightDecay: number;
  /** Seeds everything: both data sets, the initial weights and the batch order. */
  seed: number;
  /** Metrics, pictures and (by default) the checkpoint go here. */
  outDir: string;
  /** Saved after every epoch; `<outDir>/checkpoint.safetensors` by default. */
  checkpoint?: string;
  /** Continue from the checkpoint instead of starting afresh. */
  resume: boolean;
  /** Stop after this epoch, as if interrupted (the schedule still spans `epochs`). */
  stopAfterEpoch?: number;
  progress: ProgressMode;
  /** Write the two pictures (default true). */
  plots: boolean;
  /** Compile the training step with `compileStep` (default true). */
  jit: boolean;
}

export const defaultConfig: SpiralsConfig = {
  points: 1500,
  testPoints: 600,
  noise: 0.02,
  hidden: [64, 64],
  activation: 'tanh',
  epochs: 20,
  batchSize: 64,
  lr: 0.03,
  optimizer: 'adam',
  schedule: 'cosine',
  weightDecay: 0,
  seed: 0,
  outDir: 'out/spirals',
  resume: false,
  progress: 'auto',
  plots: true,
  jit: true,
};

export interface SpiralsResult {
  /** Loss and accuracy of the final model on the whole training and held-out sets. */
  train: { loss: number; accuracy: number };
  test: { loss: number; accuracy: number };
  /** Every epoch's evaluation, including those of the run a resumed run continued. */
  history: EpochRecord[];
  epochs: number;
  steps: number;
  seconds: number;
  model: nn.Sequential;
  files: { metrics: string; checkpoint: string; decisionBoundary?: string; curves?: string };
}

/** Trains an MLP on the spirals set and writes metrics, a checkpoint and (by default) the pictures. */
export async function trainSpirals(options: Partial<SpiralsConfig> = {}): Promise<SpiralsResult> {
  const config = { ...defaultConfig, ...options };
  const clock = new Stopwatch();
  const [trainKey, testKey, shuffleKey] = random.split(random.key(config.seed), 3);
  const train = data.spirals({ n: config.points, classes: 3, noise: config.noise, key: trainKey });
  const test = data.spirals({ n: config.testPoints, classes: 3, noise: config.noise, key: testKey });
  const loader = new data.DataLoader(new data.TensorDataset(train.x, train.y), {
    batchSize: config.batchSize,
    shuffle: true,
    key: shuffleKey,
  });

  nn.manualSeed(config.seed);
  const shape = { inputs: 2, hidden: config.hidden, classes: 3, activation: config.activation };
  const model = mlp(shape);
  const optimizer = makeOptimizer(config, model.parameters());
  const scheduler = makeScheduler(config, optimizer);
  const parts = { model, optimizer, scheduler };
  // What a resumed run must share with the saved one.
  const run = {
    seed: config.seed,
    points: config.points,
    testPoints: config.testPoints,
    noise: config.noise,
    ...shape,
    optimizer: config.optimizer,
  };

  const files = {
    metrics: join(config.outDir, 'metrics.jsonl'),
    checkpoint: config.checkpoint ?? join(config.outDir, 'checkpoint.safetensors'),
  };
  let start = { epoch: 0, step: 0 };
  let history: EpochRecord[] = [];
  if (config.resume) {
    start = loadCheckpoint(files.checkpoint, parts, run);
    history = keepMetricsUpTo(files.metrics, start.epoch);
  }
  loader.setEpoch(start.epoch);

  using metrics = new MetricsWriter(files.metrics, { append: config.resume });
  using progress = new TrainingProgress({
    epochs: config.epochs,
    stepsPerEpoch: loader.length,
    mode: config.progress,
    // An epoch takes a fraction of a second: without a TTY its summary line is enough, so no
    // lines within it (n % ∞ is never 0).
    logEvery: Number.POSITIVE_INFINITY,
  });
  progress.log(
    `spirals: ${config.points} training points (3 arms, noise ${config.noise}), ${config.testPoints} held out; ` +
      `MLP ${describeMlp(shape)} (${model.numParameters().toLocaleString('en-US')} parameters); ` +
      `${config.optimizer} lr ${config.lr} (${config.schedule}), ${config.epochs} epochs of ${loader.length} batches of ${config.batchSize}` +
      (start.epoch > 0 ? `; resuming after epoch ${start.epoch}` : ''),
  );

  const compiled = config.jit
    ? compileStep({
        parameters: model.parameters(),
        buffers: model.buffers(),
        loss: (x: Tensor, y: Tensor) => {
          const logits = model.forward(x);
          return [crossEntropy(logits, y), logits] as const;
        },
        optimizer,
      })
    : undefined;
  let step = start.step;
  const lastEpoch = Math.min(config.epochs, config.stopAfterEpoch ?? config.epochs);
  for (let epoch = start.epoch + 1; epoch <= lastEpoch; epoch++) {
    const lr = optimizer.paramGroups[0].lr;
    progress.startEpoch(epoch);
    model.train();
    for (const [x, y] of loader) {
      let [loss, logits] = compiled?.(tensor(x), tensor(y)) ?? [];
      if (loss === undefined || logits === undefined) {
        logits = model.forward(tensor(x));
        loss = crossEntropy(logits, tensor(y));
        optimizer.zeroGrad();
        loss.backward();
        optimizer.step();
      }
      step += 1;
      const examples = y.shape[0];
      progress.step({
        loss: Number(loss.item()),
        accuracy: countCorrect(logits, y) / examples,
        examples,
      });
    }
    scheduler?.step();

    model.eval();
    const onTrain = evaluate(model, train.x, train.y);
    const onTest = evaluate(model, test.x, test.y);
    history.push({
      epoch,
      trainLoss: onTrain.loss,
      trainAccuracy: onTrain.accuracy,
      testLoss: onTest.loss,
      testAccuracy: onTest.accuracy,
    });
    progress.endEpoch({ 'test loss': onTest.loss, 'test acc': onTest.accuracy });
    metrics.write({ step, epoch, split: 'train', ...onTrain, lr });
    metrics.write({ step, epoch, split: 'test', ...onTest });
    saveCheckpoint(files.checkpoint, parts, { epoch, step, run });
  }

  model.eval();
  const final = { train: evaluate(model, train.x, train.y), test: evaluate(model, test.x, test.y) };
  const result: SpiralsResult = {
    ...final,
    history,
    epochs: history.at(-1)?.epoch ?? start.epoch,
    steps: step,
    seconds: 0,
    model,
    files,
  };
  if (config.plots) {
    const percent = (value: number) => `${(100 * value).toFixed(1)}%`;
    const decisionBoundary = join(config.outDir, 'decision-boundary.png');
    const curves = join(config.outDir, 'curves.png');
    await writeBoundary(
      decisionBoundary,
      model,
      train,
      `MLP ${describeMlp(shape)} on spirals: train ${percent(final.train.accuracy)}, test ${percent(final.test.accuracy)}`,
    );
    await writeCurves(curves, history, 'Spirals: loss and accuracy after each epoch');
    result.files = { ...files, decisionBoundary, curves };
  }
  result.seconds = clock.elapsed();
  return result;
}

function makeOptimizer(config: SpiralsConfig, params: nn.Parameter[]): optim.Adam | optim.AdamW | optim.SGD {
  const { lr, weightDecay } = config;
  if (config.optimizer === 'sgd') return new optim.SGD(params, { lr, momentum: 0.9, weightDecay });
  if (config.optimizer === 'adamw') return new optim.AdamW(params, { lr, weightDecay });
  return new optim.Adam(params, { lr, weightDecay });
}

function makeScheduler(
  config: SpiralsConfig,
  optimizer: optim.Adam | optim.AdamW | optim.SGD,
): optim.LRScheduler | undefined {
  if (config.schedule === 'cosine') return new optim.CosineAnnealingLR(optimizer, { tMax: config.epochs });
  if (config.schedule === 'step') {
    return new optim.StepLR(optimizer, { stepSize: Math.max(1, Math.round(config.epochs / 3)), gamma: 0.1 });
  }
  return undefined;
}

/**
 * The history of a resumed run: drops any records written after the checkpoint's epoch (the
 * run was stopped between the two), so the file and the curves continue without duplicates.
 */
function keepMetricsUpTo(path: string, epoch: number): EpochRecord[] {
  if (!existsSync(path)) return [];
  const kept = readMetrics(path).filter((record) => record.epoch <= epoch);
  writeFileSync(path, kept.map((record) => `${JSON.stringify(record)}\n`).join(''));
  const test = new Map(kept.filter((r) => r.split === 'test').map((r) => [r.epoch, r]));
  return kept
    .filter((r) => r.split === 'train' && test.has(r.epoch))
    .map((r) => ({
      epoch: r.epoch,
      trainLoss: r.loss,
      trainAccuracy: r.accuracy ?? Number.NaN,
      testLoss: test.get(r.epoch)?.loss ?? Number.NaN,
      testAccuracy: test.get(r.epoch)?.accuracy ?? Number.NaN,
    }));
}
