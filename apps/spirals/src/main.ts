// The command line: `node dist/main.js [--epochs 20] [--hidden 64,64] [--resume] …` (see --help).
import { join, relative, resolve, sep } from 'node:path';
import { formatDuration, parseArg, trainerOptions, trainerProgram } from '@tsgrad/app-kit';
import { Option } from 'commander';
import { CheckpointError } from './checkpoint.js';
import { type Activation, activations } from './model.js';
import { defaultConfig, optimizers, schedules, trainSpirals } from './train.js';

const program = trainerProgram({
  name: 'spirals',
  description:
    'Train an MLP to separate the three arms of the spirals set; write pictures, metrics and a checkpoint.',
  defaults: {
    epochs: defaultConfig.epochs,
    batchSize: defaultConfig.batchSize,
    lr: defaultConfig.lr,
    optimizer: defaultConfig.optimizer,
    schedule: defaultConfig.schedule,
    weightDecay: defaultConfig.weightDecay,
    seed: defaultConfig.seed,
    outDir: defaultConfig.outDir,
  },
  optimizers,
  schedules,
})
  .option('--points <n>', 'training points', parseArg.positiveInt, defaultConfig.points)
  .option('--noise <std>', 'noise on each coordinate', parseArg.nonNegativeNumber, defaultConfig.noise)
  .addOption(
    new Option('--hidden <widths>', 'hidden layer widths, comma-separated')
      .argParser(parseWidths)
      .default(defaultConfig.hidden, defaultConfig.hidden.join(',')),
  )
  .addOption(
    new Option('--activation <name>', 'activation').choices(activations).default(defaultConfig.activation),
  )
  .parse();

// `pnpm --filter @tsgrad/spirals start` runs in apps/spirals: relative paths are taken from where
// the command was typed (INIT_CWD, which npm and pnpm set), so `out/spirals` is where one expects it.
const here = process.env.INIT_CWD ?? process.cwd();
const outDir = resolve(here, program.getOptionValue('outDir'));
const checkpoint: string | undefined = program.getOptionValue('checkpoint');
program.setOptionValue('outDir', outDir);
// Unless told otherwise, the checkpoint lives with the other outputs (and --resume finds it there).
program.setOptionValue(
  'checkpoint',
  checkpoint === undefined ? join(outDir, 'checkpoint.safetensors') : resolve(here, checkpoint),
);
const options = trainerOptions(program);
const own = program.opts<{ points: number; noise: number; hidden: number[]; activation: Activation }>();
const limit = options.limit ?? Number.POSITIVE_INFINITY;

const result = await trainSpirals({
  ...options,
  optimizer: options.optimizer as SpiralsOptimizer,
  schedule: options.schedule as SpiralsSchedule,
  points: Math.min(own.points, limit),
  testPoints: Math.min(defaultConfig.testPoints, limit),
  noise: own.noise,
  hidden: own.hidden,
  activation: own.activation,
}).catch((error: unknown) => {
  // A checkpoint that cannot be resumed is the user's to fix: say why, without a stack trace.
  if (!(error instanceof CheckpointError)) throw error;
  return program.error(`error: ${error.message}`);
});

const percent = (value: number) => `${(100 * value).toFixed(1)}%`;
/** A path as short as it can be said from where the command was typed. */
const show = (path: string) => (path.startsWith(here + sep) ? relative(here, path) : path);
const { files } = result;
console.log(`final accuracy: train ${percent(result.train.accuracy)}, test ${percent(result.test.accuracy)}`);
const pictures = [files.decisionBoundary, files.curves].filter((path) => path !== undefined);
console.log(`wrote ${pictures.map(show).join(', ')}`);
console.log(`metrics in ${show(files.metrics)}, checkpoint in ${show(files.checkpoint)}`);
console.log(`done in ${formatDuration(result.seconds)} (${result.steps} steps)`);

type SpiralsOptimizer = (typeof optimizers)[number];
type SpiralsSchedule = (typeof schedules)[number];

function parseWidths(value: string): number[] {
  return value.split(',').map((width) => parseArg.positiveInt(width.trim()));
}
