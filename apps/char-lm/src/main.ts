#!/usr/bin/env node
// char-lm: a character-level language model on Moby-Dick, from the command line.

import {
  formatDuration,
  type ProgressMode,
  parseArg,
  parseTrainerArgs,
  trainerProgram,
} from '@tsgrad/app-kit';
import { Option } from 'commander';
import { trainDefaults as D, train } from './train.js';

const program = trainerProgram({
  name: 'char-lm',
  description: 'Trains a character-level language model (a causal Transformer or an LSTM) on Moby-Dick',
  defaults: {
    epochs: D.epochs,
    batchSize: D.batchSize,
    lr: D.lr,
    optimizer: D.optimizer,
    schedule: D.schedule,
    weightDecay: D.weightDecay,
    seed: D.seed,
    outDir: D.outDir,
  },
  optimizers: ['adamw', 'adam', 'sgd'],
  schedules: ['cosine', 'constant'],
})
  .addOption(new Option('--arch <name>', 'model').choices(['transformer', 'lstm']).default(D.architecture))
  .option('--d-model <n>', 'Transformer width, LSTM hidden size', parseArg.positiveInt, D.dModel)
  .option('--embed-dim <n>', 'LSTM character embedding width', parseArg.positiveInt, D.embedDim)
  .option('--heads <n>', 'attention heads', parseArg.positiveInt, D.heads)
  .option('--layers <n>', 'Transformer blocks or LSTM layers', parseArg.positiveInt, D.layers)
  .option('--context <n>', 'characters of context', parseArg.positiveInt, D.context)
  .option('--dropout <p>', 'dropout probability', parseArg.nonNegativeNumber, D.dropout)
  .option(
    '--steps-per-epoch <n>',
    'training steps between validations',
    parseArg.positiveInt,
    D.stepsPerEpoch,
  )
  .option('--warmup <n>', 'linear warmup steps', parseArg.nonNegativeInt, D.warmupSteps)
  .option('--clip <norm>', 'clip the gradient norm to this', parseArg.positiveNumber, D.clipNorm)
  .option(
    '--val-fraction <f>',
    'share of the text held out (its end)',
    parseArg.positiveNumber,
    D.valFraction,
  )
  .option('--eval-windows <n>', 'validation windows per epoch', parseArg.positiveInt, D.evalWindows)
  .option('--sample-length <n>', 'characters to sample at the end', parseArg.nonNegativeInt, D.sampleLength)
  .option('--temperature <t>', 'sampling temperature', parseArg.positiveNumber, D.temperature)
  .option('--prompt <text>', 'text the sample continues')
  .addOption(
    new Option('--progress <mode>', 'progress display')
      .choices(['auto', 'bar', 'lines', 'silent'])
      .default('auto'),
  );

const common = parseTrainerArgs(program);
const own = program.opts<{
  arch: 'transformer' | 'lstm';
  dModel: number;
  embedDim: number;
  heads: number;
  layers: number;
  context: number;
  dropout: number;
  stepsPerEpoch: number;
  warmup: number;
  clip: number;
  valFraction: number;
  evalWindows: number;
  sampleLength: number;
  temperature: number;
  prompt: string | undefined;
  progress: ProgressMode;
}>();

// The first Ctrl-C finishes the epoch and saves the checkpoint; a second one quits at once.
const interrupt = new AbortController();
process.on('SIGINT', () => {
  if (interrupt.signal.aborted) process.exit(130);
  console.log('\nstopping at the end of this epoch (Ctrl-C again to quit now)');
  interrupt.abort();
});

const result = await train({
  ...common,
  optimizer: common.optimizer as 'adamw' | 'adam' | 'sgd',
  schedule: common.schedule as 'cosine' | 'constant',
  architecture: own.arch,
  dModel: own.dModel,
  embedDim: own.embedDim,
  heads: own.heads,
  layers: own.layers,
  context: own.context,
  dropout: own.dropout,
  stepsPerEpoch: own.stepsPerEpoch,
  warmupSteps: own.warmup,
  clipNorm: own.clip,
  valFraction: own.valFraction,
  evalWindows: own.evalWindows,
  sampleLength: own.sampleLength,
  temperature: own.temperature,
  prompt: own.prompt,
  progress: own.progress,
  signal: interrupt.signal,
});
if (result.stopped) process.exit(130);

const below = result.unigramBpc - result.finalValBpc;
console.log(
  `\nvalidation: ${result.finalValBpc.toFixed(3)} bits/char, unigram entropy ${result.unigramBpc.toFixed(3)} ` +
    `(${below >= 0 ? `${below.toFixed(3)} bits below it` : `${(-below).toFixed(3)} bits above it`}), ${result.steps} steps in ${formatDuration(result.seconds)}`,
);
console.log(`\nsample (temperature ${own.temperature}, seed ${common.seed}):\n`);
console.log(`${result.prompt}${result.sample}\n`);
console.log(`metrics ${result.files.metrics}, curves ${result.files.plot}, sample ${result.files.sample}`);
