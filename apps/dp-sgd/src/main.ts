#!/usr/bin/env node
// DP-SGD on Fashion-MNIST with a Rényi-DP accountant: `node dist/main.js --epochs 20`.
import { join } from 'node:path';
import { formatDuration, parseArg, trainerOptions, trainerProgram } from '@tsgrad/app-kit';
import { Option } from 'commander';
import { data, optim } from 'tsgrad';
import { CheckpointError } from './checkpoint.js';
import { MODEL_KINDS, type ModelKind } from './model.js';
import { DELTA, train } from './train.js';

const TRAIN_SIZE = 60_000;

const program = trainerProgram({
  name: 'dp-sgd',
  description:
    'Train a tanh CNN on Fashion-MNIST with DP-SGD (Poisson sampling, per-example clipping, Gaussian noise) ' +
    'and report ε at δ = 1e-5 after every epoch',
  // Papernot et al.'s batch; the rate from a comparison on the full data (README): with momentum
  // 0.9 and a cosine decay, lr 6 ended at 0.8406 test accuracy, lr 4 at 0.8259, lr 0.8 at 0.7387.
  defaults: {
    epochs: 15,
    batchSize: 2048,
    lr: 6,
    optimizer: 'momentum',
    schedule: 'cosine',
  },
  optimizers: ['sgd', 'momentum', 'adam'],
  schedules: ['constant', 'cosine'],
})
  .addOption(new Option('--model <kind>', 'model to train').choices(MODEL_KINDS).default('cnn'))
  .option(
    '--max-grad-norm <C>',
    'clip each example’s gradient to this L2 norm',
    parseArg.positiveNumber,
    0.12,
  )
  .option(
    '--noise-multiplier <σ>',
    'noise standard deviation over the clipping norm (default: the smallest σ that keeps ε ≤ --target-epsilon)',
    parseArg.positiveNumber,
  )
  .option(
    '--target-epsilon <ε>',
    'privacy budget at δ = 1e-5 for the whole run',
    parseArg.positiveNumber,
    2.9,
  )
  .option(
    '--data-dir <dir>',
    'folder of the Fashion-MNIST IDX files (default: /usr/share/datasets/fashion-mnist)',
  )
  .addOption(
    new Option('--progress <mode>', 'progress display')
      .choices(['auto', 'bar', 'lines', 'silent'])
      .default('auto'),
  )
  .addHelpText(
    'after',
    '\nOutputs go to --out-dir, by default out/dp-sgd/ (metrics.jsonl, accuracy-vs-epsilon.png, loss.png, and checkpoint.safetensors unless --checkpoint is given).',
  );
program.parse();
// Checkpoints go beside the metrics unless --checkpoint says otherwise.
if (program.getOptionValue('checkpoint') === undefined) {
  program.setOptionValueWithSource(
    'checkpoint',
    join(program.getOptionValue('outDir') as string, 'checkpoint.safetensors'),
    'default',
  );
}

const options = trainerOptions(program);
const extra = program.opts<{
  model: ModelKind;
  maxGradNorm: number;
  noiseMultiplier?: number;
  targetEpsilon: number;
  dataDir?: string;
  progress: 'auto' | 'bar' | 'lines' | 'silent';
}>();
// σ for the budget: the accountant run forward over the planned steps (as Opacus's make_private_with_epsilon).
const size = Math.min(TRAIN_SIZE, options.limit ?? TRAIN_SIZE);
const sampleRate = Math.min(1, options.batchSize / size);
const noiseMultiplier =
  extra.noiseMultiplier ??
  optim.privacy.noiseMultiplierFor({
    targetEpsilon: extra.targetEpsilon,
    delta: DELTA,
    sampleRate,
    steps: options.epochs * Math.max(1, Math.round(1 / sampleRate)),
  });

const result = await train({
  ...options,
  model: extra.model,
  maxGradNorm: extra.maxGradNorm,
  noiseMultiplier,
  dataDir: extra.dataDir,
  progress: extra.progress,
}).catch((error: unknown) => {
  if (error instanceof CheckpointError || error instanceof data.DatasetNotFoundError) {
    program.error(`error: ${error.message}`);
  }
  throw error;
});

const seconds = result.epochs.reduce((sum, e) => sum + e.trainSeconds, 0);
console.log(
  `${extra.model}: test accuracy ${result.testAccuracy.toFixed(4)} at ε = ${result.epsilon.toFixed(3)} ` +
    `(δ = ${DELTA}, σ = ${noiseMultiplier.toFixed(4)}, ${result.steps} steps)` +
    (result.epochs.length > 0 ? ` | ${formatDuration(seconds)} of training` : ''),
);
console.log(
  `metrics: ${result.metricsPath} | curves: ${result.plotPaths.join(', ')} | checkpoint: ${options.checkpoint}`,
);
