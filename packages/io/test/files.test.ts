import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileError, load, save, writeFileAtomic } from '@tsgrad/io/node';
import * as T from '@tsgrad/tensor';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

// Paths that cannot be read or written, and the temporary files of saves that were killed.

let directory: string;
beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'tsgrad-io-files-'));
});
afterEach(() => {
  rmSync(directory, { recursive: true, force: true });
});

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

describe('unreadable and unwritable paths are FileErrors naming the path', () => {
  it('load of a directory, a missing file, a bad path', () => {
    const error = thrown(() => load(directory));
    expect(error).toBeInstanceOf(FileError);
    expect(error).toBeInstanceOf(T.TsgradError);
    expect(error.message).toBe(`load: ${directory}: is a directory, not a file (EISDIR)`);
    expect((error as FileError).code).toBe('EISDIR');
    const missing = join(directory, 'missing.safetensors');
    expect(thrown(() => load(missing)).message).toBe(`load: ${missing}: no such file or directory (ENOENT)`);
    expect(thrown(() => load(42 as never))).toBeInstanceOf(T.ValueError);
  });

  it('permission errors (mapped from the code Node gives; chmod cannot make one for root)', () => {
    const denied = Object.assign(new Error('EACCES: permission denied, open'), { code: 'EACCES' });
    const error = FileError.from('load', '/x/model.safetensors', denied);
    expect(error.message).toBe('load: /x/model.safetensors: permission denied (EACCES)');
    expect(error.path).toBe('/x/model.safetensors');
    expect(FileError.from('load', '/x', new Error('odd')).message).toBe('load: /x: odd');
  });

  it('save into a missing directory or onto a directory', () => {
    const inMissing = join(directory, 'no', 'such', 'model.safetensors');
    const error = thrown(() => save({ x: T.zeros([2]) }, inMissing));
    expect(error).toBeInstanceOf(FileError);
    expect(error.message).toMatch(/^writeFileAtomic: .*model\.safetensors: no such file or directory/);
    mkdirSync(join(directory, 'taken'));
    expect(thrown(() => save({ x: T.zeros([2]) }, join(directory, 'taken')))).toBeInstanceOf(FileError);
    expect(readdirSync(directory)).toEqual(['taken']);
    expect(thrown(() => save(null as never, join(directory, 'a')))).toBeInstanceOf(T.ValueError);
  });
});

/** A temporary file named as a save of `target` by process `pid` names it. */
const temporaryOf = (target: string, pid: number, hex = 'abcdef012345') => `.${target}.${pid}.${hex}.tmp`;

describe('temporary files of killed saves are cleaned up by the next save', () => {
  it('a child process killed mid-write: its temporary file goes at the next save', async () => {
    const target = join(directory, 'model.safetensors');
    // The child does what a save does (a temporary file named after the target and its pid,
    // written in part) and then hangs, until SIGKILL: the way a killed trainer leaves it.
    const script = `
      const { openSync, writeSync } = require('node:fs');
      const fd = openSync(${JSON.stringify(join(directory, '.model.safetensors.'))} + process.pid + '.0123456789ab.tmp', 'wx');
      writeSync(fd, Buffer.alloc(1 << 16, 1));
      process.stdout.write('written\\n');
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
    const leftover = temporaryOf('model.safetensors', child.pid!, '0123456789ab');
    expect(readdirSync(directory)).toEqual([leftover]);

    save({ x: T.array([1, 2]) }, target);
    expect(readdirSync(directory)).toEqual(['model.safetensors']);
    expect(Array.from(load(target).tensors.x.toTypedArray())).toEqual([1, 2]);
  });

  it('keeps a fresh save of a live process and files of other targets; removes old ones', () => {
    const target = join(directory, 'model.safetensors');
    const live = temporaryOf('model.safetensors', process.pid);
    const old = temporaryOf('model.safetensors', process.pid, '0000000000aa');
    const others = [temporaryOf('other.safetensors', 999_999_999), '.model.safetensors.backup', 'notes.tmp'];
    for (const name of [live, old, ...others]) writeFileSync(join(directory, name), 'partial');
    const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
    utimesSync(join(directory, old), twoHoursAgo, twoHoursAgo);

    save({ x: T.zeros([1]) }, target);
    expect(readdirSync(directory).sort()).toEqual([live, ...others, 'model.safetensors'].sort());
    // with a shorter staleness, the live one is old enough too
    writeFileAtomic(target, new Uint8Array(4), { staleTemporaryMs: -1 });
    expect(existsSync(join(directory, live))).toBe(false);
  });
});

describe('other public functions check their arguments', () => {
  it('fromBytes, toBytes, decodeJsonMetadata, save', async () => {
    const io = await import('@tsgrad/io');
    const untyped = (value: unknown) => value as never;
    for (const [call, message] of [
      [() => io.fromBytes(untyped(-1)), /^fromBytes: expected a Uint8Array or an ArrayBuffer/],
      [() => io.toBytes(untyped(undefined)), /^toBytes: tensors must be a record/],
      [() => io.toBytes(untyped([T.zeros([1])])), /^toBytes: tensors must be a record/],
      [() => io.decodeJsonMetadata(untyped(undefined)), /^decodeJsonMetadata: expected a metadata record/],
      [
        () => save({ x: T.zeros([1]) }, join(directory, 'a'), untyped(null)),
        /^save: options must be an object/,
      ],
    ] as const) {
      const error = thrown(call);
      expect(error).toBeInstanceOf(T.TsgradError);
      expect(error.message).toMatch(message);
    }
  });
});
