import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readMetrics } from '@tsgrad/app-kit';
import { io, load } from 'tsgrad/node';
import { describe, expect, it } from 'vitest';
import { CheckpointError } from '../src/checkpoint.js';
import { type SpiralsConfig, trainSpirals } from '../src/train.js';

const outDir = () => mkdtempSync(join(tmpdir(), 'spirals-'));
/** A few seconds' worth: a small data set and few epochs. */
const tiny: Partial<SpiralsConfig> = { points: 240, testPoints: 90, epochs: 4, progress: 'silent' };

function isPng(path: string): boolean {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  return signature.every((byte, i) => readFileSync(path)[i] === byte);
}

function weights(result: Awaited<ReturnType<typeof trainSpirals>>): Record<string, number[]> {
  return Object.fromEntries(
    Object.entries(result.model.stateDict()).map(([name, t]) => [name, Array.from(t.toTypedArray())]),
  );
}

describe('spirals trainer', () => {
  it('writes metrics, both pictures and a checkpoint', async () => {
    const dir = outDir();
    const result = await trainSpirals({ ...tiny, epochs: 2, outDir: dir });

    expect(result.epochs).toBe(2);
    expect(result.steps).toBe(2 * Math.ceil(240 / 64));
    expect(result.files.decisionBoundary).toBe(join(dir, 'decision-boundary.png'));
    expect(result.files.curves).toBe(join(dir, 'curves.png'));
    expect(isPng(join(dir, 'decision-boundary.png'))).toBe(true);
    expect(isPng(join(dir, 'curves.png'))).toBe(true);

    const records = readMetrics(join(dir, 'metrics.jsonl'));
    expect(records.map((r) => `${r.epoch} ${r.split}`)).toEqual(['1 train', '1 test', '2 train', '2 test']);
    expect(records.at(-2)).toMatchObject({ step: result.steps, loss: result.train.loss });
    expect(records.at(-1)?.accuracy).toBe(result.test.accuracy);

    const checkpoint = load(join(dir, 'checkpoint.safetensors'));
    expect(Object.keys(checkpoint.tensors)).toContain('model.0.weight');
    expect(Object.keys(checkpoint.tensors)).toContain('optimizer.0.expAvg');
    expect(io.decodeJsonMetadata(checkpoint.metadata)).toMatchObject({ epoch: 2, step: result.steps });
  });

  it('continues a stopped run exactly where it would have been', async () => {
    const whole = await trainSpirals({ ...tiny, plots: false, outDir: outDir() });

    const dir = outDir();
    const firstHalf = await trainSpirals({ ...tiny, plots: false, outDir: dir, stopAfterEpoch: 2 });
    expect(firstHalf.epochs).toBe(2);
    const resumed = await trainSpirals({ ...tiny, plots: false, outDir: dir, resume: true });

    expect(resumed.epochs).toBe(4);
    expect(resumed.steps).toBe(whole.steps);
    expect(weights(resumed)).toEqual(weights(whole));
    expect(resumed.history).toEqual(whole.history);
    const records = readMetrics(join(dir, 'metrics.jsonl'));
    expect(records.map((r) => r.epoch)).toEqual([1, 1, 2, 2, 3, 3, 4, 4]);
  });

  it('refuses to resume with another data set or model', async () => {
    const dir = outDir();
    await trainSpirals({ ...tiny, epochs: 1, plots: false, outDir: dir });
    await expect(
      trainSpirals({ ...tiny, plots: false, outDir: dir, resume: true, noise: 0.1 }),
    ).rejects.toThrow(CheckpointError);
    await expect(
      trainSpirals({ ...tiny, plots: false, outDir: dir, resume: true, hidden: [32, 32] }),
    ).rejects.toThrow(/hidden: saved \[64,64\], now \[32,32\]/);
    expect(existsSync(join(dir, 'checkpoint.safetensors'))).toBe(true);
  });

  it('reaches 97% training accuracy with the default settings', { timeout: 60_000 }, async () => {
    const result = await trainSpirals({ outDir: outDir(), progress: 'silent', plots: false });
    expect(result.train.accuracy).toBeGreaterThanOrEqual(0.97);
    expect(result.test.accuracy).toBeGreaterThanOrEqual(0.95);
  });
});
