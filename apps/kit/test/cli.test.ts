import { commonDefaults, parseArg, parseTrainerArgs, trainerProgram } from '@tsgrad/app-kit';
import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';

/** A trainer program that throws instead of exiting and prints nothing. */
function program(
  config: Parameters<typeof trainerProgram>[0] = { name: 'demo', description: 'a demo trainer' },
) {
  return trainerProgram(config)
    .exitOverride()
    .configureOutput({ writeErr: () => {}, writeOut: () => {} });
}

function parseError(args: string[]): CommanderError {
  try {
    parseTrainerArgs(program(), args);
  } catch (error) {
    if (error instanceof CommanderError) return error;
    throw error;
  }
  throw new Error(`expected ${args.join(' ')} to be rejected`);
}

describe('trainerProgram', () => {
  it('parses to the defaults when given no arguments', () => {
    expect(parseTrainerArgs(program(), [])).toEqual({
      ...commonDefaults,
      checkpoint: undefined,
      resume: false,
      jit: true,
      limit: undefined,
      outDir: 'out/demo',
    });
  });

  it('takes each trainer’s own defaults', () => {
    const options = parseTrainerArgs(
      program({ name: 'mlp', description: 'mlp', defaults: { epochs: 3, lr: 0.1, optimizer: 'sgd' } }),
      [],
    );
    expect(options).toMatchObject({
      epochs: 3,
      lr: 0.1,
      optimizer: 'sgd',
      batchSize: commonDefaults.batchSize,
    });
  });

  it('parses every option, typed', () => {
    const args =
      '--epochs 5 --batch-size 128 --lr 3e-4 --optimizer adamw --schedule cosine --weight-decay 0.01 ' +
      '--seed 42 --checkpoint out/ckpt.safetensors --resume --limit 256 --out-dir runs/a';
    const options = parseTrainerArgs(program(), args.split(' '));
    expect(options).toEqual({
      epochs: 5,
      batchSize: 128,
      lr: 3e-4,
      optimizer: 'adamw',
      schedule: 'cosine',
      weightDecay: 0.01,
      seed: 42,
      checkpoint: 'out/ckpt.safetensors',
      resume: true,
      jit: true,
      limit: 256,
      outDir: 'runs/a',
    });
  });

  it('lets a trainer add its own flags', () => {
    const cli = program().option('--hidden <n>', 'hidden units', parseArg.positiveInt, 100);
    const options = parseTrainerArgs(cli, ['--hidden', '256', '--epochs', '2']);
    expect(options.epochs).toBe(2);
    expect(cli.opts<{ hidden: number }>().hidden).toBe(256);
  });

  it('rejects bad values with a message naming the option', () => {
    for (const args of [
      ['--epochs', '0'],
      ['--epochs', '2.5'],
      ['--batch-size', 'many'],
      ['--lr', '-1'],
      ['--lr', ''],
      ['--weight-decay', 'NaN'],
      ['--seed', '-3'],
      ['--limit', '0'],
      ['--optimizer', 'adagrad'],
    ]) {
      const error = parseError(args);
      expect(error.code).toBe('commander.invalidArgument');
      expect(error.message).toContain(args[0]);
    }
    expect(parseError(['--lr', 'fast']).message).toMatch(/Expected a positive number/);
  });

  it('accepts the optimizer and schedule names a trainer lists', () => {
    const cli = program({ name: 'x', description: 'x', optimizers: ['lion'], schedules: ['onecycle'] });
    expect(parseTrainerArgs(cli, ['--optimizer', 'lion', '--schedule', 'onecycle'])).toMatchObject({
      optimizer: 'lion',
      schedule: 'onecycle',
    });
  });

  it('needs a checkpoint to resume from', () => {
    const error = parseError(['--resume']);
    expect(error.code).toBe('tsgrad.resumeWithoutCheckpoint');
    expect(error.message).toMatch(/--resume needs --checkpoint/);
  });

  it('rejects unknown options', () => {
    expect(parseError(['--epoch', '3']).code).toBe('commander.unknownOption');
  });
});
