// CI smoke test: both trainers on a tiny slice of the real files (Debian's dataset-fashion-mnist),
// a few steps each, checking the outputs and that a resumed run equals an uninterrupted one.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commonDefaults, readMetrics } from '@tsgrad/app-kit';
import { load } from 'tsgrad/node';
import { afterAll, describe, expect, it } from 'vitest';
import { CheckpointError } from '../src/checkpoint.js';
import { type TrainConfig, train } from '../src/train.js';

const root = mkdtempSync(join(tmpdir(), 'fashion-mnist-smoke-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function config(name: string, overrides: Partial<TrainConfig>): TrainConfig {
  const outDir = join(root, name);
  return {
    ...commonDefaults,
    model: 'mlp',
    hidden: 32,
    epochs: 2,
    batchSize: 64,
    schedule: 'cosine',
    limit: 128,
    checkpoint: join(outDir, 'checkpoint.safetensors'),
    resume: false,
    outDir,
    progress: 'silent',
    ...overrides,
  };
}

/** Metrics records without their wall-clock fields, which differ from run to run. */
function withoutTimes(path: string) {
  return readMetrics(path).map(({ time: _, trainSeconds: _t, evalSeconds: _e, ...rest }) => rest);
}

describe('fashion-mnist trainers', () => {
  it('trains the MLP and writes metrics, curves and a checkpoint', async () => {
    const run = config('mlp', { model: 'mlp', limit: 256, lr: 2e-3 });
    const result = await train(run);

    expect(result.epochs.map((e) => e.epoch)).toEqual([1, 2]);
    expect(result.steps).toBe(8);
    // 256 examples, 8 Adam steps: well above chance (0.1) already.
    expect(result.testAccuracy).toBeGreaterThan(0.4);
    expect(result.epochs[1].trainLoss).toBeLessThan(result.epochs[0].trainLoss);

    const records = readMetrics(result.metricsPath);
    const test = records.filter((r) => r.split === 'test');
    expect(test.map((r) => r.step)).toEqual([4, 8]);
    expect(test[1].accuracy).toBe(result.testAccuracy);
    expect(records.filter((r) => r.split === 'train')).toHaveLength(8);
    for (const path of result.plotPaths) {
      expect(readFileSync(path).subarray(1, 4).toString()).toBe('PNG');
    }
    const checkpoint = load(run.checkpoint as string);
    expect(Object.keys(checkpoint.tensors)).toContain('model.0.weight');
    expect(checkpoint.tensors['model.0.weight'].shape).toEqual([32, 784]);
  });

  it('resumes the CNN from its checkpoint exactly where an uninterrupted run would be', async () => {
    const cnn = { model: 'cnn', hidden: 16 } as const;
    const whole = await train(config('cnn-whole', cnn));
    const parts = config('cnn-parts', cnn);
    const first = await train({ ...parts, stopAfter: 1 });
    expect(first.epochs).toHaveLength(1);
    const rest = await train({ ...parts, resume: true });

    expect(rest.epochs.map((e) => e.epoch)).toEqual([2]);
    expect(rest.steps).toBe(whole.steps);
    expect(rest.testAccuracy).toBe(whole.testAccuracy);
    expect(rest.testLoss).toBe(whole.testLoss);
    const expected = whole.model.stateDict();
    for (const [name, tensor] of Object.entries(rest.model.stateDict())) {
      expect(tensor.value.toTypedArray(), name).toEqual(expected[name].value.toTypedArray());
    }
    // Same optimizer state and schedule position too: the checkpoints hold the same tensors.
    const a = load(whole.metricsPath.replace('metrics.jsonl', 'checkpoint.safetensors'));
    const b = load(rest.metricsPath.replace('metrics.jsonl', 'checkpoint.safetensors'));
    expect(b.metadata).toEqual(a.metadata);
    for (const [name, array] of Object.entries(a.tensors)) {
      expect(b.tensors[name].toTypedArray(), name).toEqual(array.toTypedArray());
    }
    expect(withoutTimes(rest.metricsPath)).toEqual(withoutTimes(whole.metricsPath));
  });

  it('refuses to resume a checkpoint written with other settings', async () => {
    const run = config('settings', { limit: 64, epochs: 1 });
    await train(run);
    expect(existsSync(run.checkpoint as string)).toBe(true);
    const other = train({ ...run, batchSize: 32, epochs: 2, resume: true });
    await expect(other).rejects.toThrow(CheckpointError);
    await expect(other).rejects.toThrow(/batchSize 64 → 32/);
  });
});
