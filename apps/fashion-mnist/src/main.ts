#!/usr/bin/env node
// Trains an MLP or a CNN on Fashion-MNIST: `node dist/main.js --model cnn --epochs 3`.
import { join } from 'node:path';
import { formatDuration, parseArg, trainerOptions, trainerProgram } from '@tsgrad/app-kit';
import { Option } from 'commander';
import { data } from 'tsgrad';
import { CheckpointError } from './checkpoint.js';
import { MODEL_KINDS, type ModelKind } from './model.js';
import { train } from './train.js';

/** Defaults per model: sizes and epochs chosen so that training fits minutes on the CPU backend. */
const MODEL_DEFAULTS: Record<ModelKind, { hidden: number; epochs: number; batchSize: number; lr: number }> = {
  mlp: { hidden: 128, epochs: 5, batchSize: 256, lr: 2e-3 },
  cnn: { hidden: 0, epochs: 3, batchSize: 64, lr: 2e-3 },
};

const program = trainerProgram({
  name: 'fashion-mnist',
  description: 'Train an MLP or a CNN on Fashion-MNIST and evaluate it on the 10,000 test images',
  // These depend on --model (see MODEL_DEFAULTS); left unset here so --help does not show the kit's.
  defaults: { epochs: undefined, batchSize: undefined, lr: undefined, schedule: 'cosine', outDir: undefined },
})
  .addOption(new Option('--model <kind>', 'model to train').choices(MODEL_KINDS).default('mlp'))
  .option(
    '--hidden <n>',
    'width of the hidden dense layer (for the CNN, 0 for none)',
    parseArg.nonNegativeInt,
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
    `\nDefaults by model: ${Object.entries(MODEL_DEFAULTS)
      .map(
        ([kind, d]) =>
          `${kind}: --hidden ${d.hidden} --epochs ${d.epochs} --batch-size ${d.batchSize} --lr ${d.lr}`,
      )
      .join('; ')}.\n` +
      'Outputs go to out/fashion-mnist/<model>/ (metrics.jsonl, loss.png, accuracy.png, checkpoint.safetensors).',
  );
program.parse();

// Defaults that depend on --model: only where the user gave no value.
const model = program.getOptionValue('model') as ModelKind;
const fallback = (name: string, value: unknown) => {
  if (program.getOptionValueSource(name) === 'default' || program.getOptionValue(name) === undefined) {
    program.setOptionValueWithSource(name, value, 'default');
  }
};
const defaults = MODEL_DEFAULTS[model];
fallback('epochs', defaults.epochs);
fallback('batchSize', defaults.batchSize);
fallback('lr', defaults.lr);
fallback('hidden', defaults.hidden);
fallback('outDir', join('out', 'fashion-mnist', model));
fallback('checkpoint', join(program.getOptionValue('outDir') as string, 'checkpoint.safetensors'));

const options = trainerOptions(program);
const extra = program.opts<{
  hidden: number;
  dataDir?: string;
  progress: 'auto' | 'bar' | 'lines' | 'silent';
}>();
const result = await train({
  ...options,
  model,
  hidden: extra.hidden,
  dataDir: extra.dataDir,
  progress: extra.progress,
}).catch((error: unknown) => {
  // Errors the user can fix (no data set installed, a wrong checkpoint): the message, no stack.
  if (error instanceof CheckpointError || error instanceof data.DatasetNotFoundError) {
    program.error(`error: ${error.message}`);
  }
  throw error;
});

const times = result.epochs.map((e) => e.trainSeconds);
const mean = times.reduce((a, b) => a + b, 0) / Math.max(1, times.length);
console.log(
  `${model}: test accuracy ${result.testAccuracy.toFixed(4)}, test loss ${result.testLoss.toFixed(4)}` +
    (times.length > 0
      ? ` | ${formatDuration(mean)} per epoch of training (${times.map((t) => t.toFixed(1)).join(', ')} s)`
      : ''),
);
console.log(
  `metrics: ${result.metricsPath} | curves: ${result.plotPaths.join(', ')} | checkpoint: ${options.checkpoint}`,
);
