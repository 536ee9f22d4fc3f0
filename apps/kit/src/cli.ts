/**
 * The command line every trainer shares, so each one only adds its own flags.
 *
 * Built on `commander`: the most used Node argument parser, typed, with `--help`, choices, custom
 * value parsers and an overridable exit for tests. Pinned to 14.0.3 rather than 15.x because 15
 * requires Node ≥ 22.12 and this repository supports Node ≥ 20.
 */
import { Command, InvalidArgumentError, Option } from 'commander';

/** The options common to all trainers, parsed and validated. */
export interface TrainerOptions {
  epochs: number;
  batchSize: number;
  lr: number;
  optimizer: string;
  schedule: string;
  weightDecay: number;
  seed: number;
  /** Where to save checkpoints (safetensors); none when undefined. */
  checkpoint: string | undefined;
  /** Continue from `checkpoint` instead of starting afresh. */
  resume: boolean;
  /** Use only the first `limit` examples of each split (CI smoke runs). */
  limit: number | undefined;
  outDir: string;
  /** Compile the training step (default true; `--no-jit` runs it eagerly). */
  jit?: boolean;
}

export interface TrainerProgramConfig {
  name: string;
  description: string;
  /** Each trainer's own defaults; the rest fall back to `commonDefaults`. */
  defaults?: Partial<Omit<TrainerOptions, 'resume' | 'jit'>>;
  /** Accepted `--optimizer` names (default: sgd, adam, adamw). */
  optimizers?: readonly string[];
  /** Accepted `--schedule` names (default: constant, step, cosine). */
  schedules?: readonly string[];
}

export const commonDefaults = {
  epochs: 10,
  batchSize: 64,
  lr: 1e-3,
  optimizer: 'adam',
  schedule: 'constant',
  weightDecay: 0,
  seed: 0,
} as const;

/** Value parsers for commander options; they throw commander's InvalidArgumentError. */
export const parseArg = {
  positiveInt(value: string): number {
    const n = Number(value);
    if (value.trim() === '' || !Number.isInteger(n) || n <= 0) {
      throw new InvalidArgumentError('Expected a positive integer.');
    }
    return n;
  },
  nonNegativeInt(value: string): number {
    const n = Number(value);
    if (value.trim() === '' || !Number.isInteger(n) || n < 0) {
      throw new InvalidArgumentError('Expected an integer ≥ 0.');
    }
    return n;
  },
  positiveNumber(value: string): number {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n <= 0) {
      throw new InvalidArgumentError('Expected a positive number.');
    }
    return n;
  },
  nonNegativeNumber(value: string): number {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < 0) {
      throw new InvalidArgumentError('Expected a number ≥ 0.');
    }
    return n;
  },
};

/** A commander program with the common trainer options; add the trainer's own, then parse. */
export function trainerProgram(config: TrainerProgramConfig): Command {
  const defaults = { ...commonDefaults, outDir: `out/${config.name}`, ...config.defaults };
  const optimizers = config.optimizers ?? ['sgd', 'adam', 'adamw'];
  const schedules = config.schedules ?? ['constant', 'step', 'cosine'];
  const program = new Command(config.name)
    .description(config.description)
    .option('--epochs <n>', 'number of epochs', parseArg.positiveInt, defaults.epochs)
    .option('--batch-size <n>', 'examples per batch', parseArg.positiveInt, defaults.batchSize)
    .option('--lr <rate>', 'learning rate', parseArg.positiveNumber, defaults.lr)
    .addOption(new Option('--optimizer <name>', 'optimizer').choices(optimizers).default(defaults.optimizer))
    .addOption(
      new Option('--schedule <name>', 'learning-rate schedule').choices(schedules).default(defaults.schedule),
    )
    .option('--weight-decay <w>', 'weight decay', parseArg.nonNegativeNumber, defaults.weightDecay)
    .option('--seed <n>', 'random seed', parseArg.nonNegativeInt, defaults.seed)
    .option('--checkpoint <path>', 'save checkpoints (safetensors) to this file', defaults.checkpoint)
    .option('--resume', 'continue from --checkpoint', false)
    .option(
      '--limit <n>',
      'use only the first n examples of each split',
      parseArg.positiveInt,
      defaults.limit,
    )
    .option('--out-dir <dir>', 'directory for metrics and plots', defaults.outDir)
    .option('--no-jit', 'run the training step eagerly instead of compiled');
  return program;
}

/** The common options of a parsed `trainerProgram`, checked for consistency. */
export function trainerOptions(program: Command): TrainerOptions {
  const opts = program.opts<TrainerOptions>();
  if (opts.resume && opts.checkpoint === undefined) {
    program.error('error: --resume needs --checkpoint <path>', { code: 'tsgrad.resumeWithoutCheckpoint' });
  }
  return {
    epochs: opts.epochs,
    batchSize: opts.batchSize,
    lr: opts.lr,
    optimizer: opts.optimizer,
    schedule: opts.schedule,
    weightDecay: opts.weightDecay,
    seed: opts.seed,
    checkpoint: opts.checkpoint,
    resume: opts.resume,
    limit: opts.limit,
    outDir: opts.outDir,
    jit: opts.jit,
  };
}

/**
 * Parses the user's arguments (`['--epochs', '3']`; by default those of process.argv) and returns
 * the common options. A bad value prints an error and exits, unless `program.exitOverride()`.
 */
export function parseTrainerArgs(program: Command, args?: readonly string[]): TrainerOptions {
  if (args === undefined) program.parse();
  else program.parse(args, { from: 'user' });
  return trainerOptions(program);
}
