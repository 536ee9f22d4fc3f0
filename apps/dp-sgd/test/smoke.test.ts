// CI smoke test: DP-SGD on a tiny slice of the real files (Debian's dataset-fashion-mnist), a few
// steps, checking the outputs, the reported ε, the per-example gradients and an exact resume.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commonDefaults, readMetrics } from '@tsgrad/app-kit';
import * as tg from 'tsgrad';
import { load } from 'tsgrad/node';
import { afterAll, describe, expect, it } from 'vitest';
import { CheckpointError } from '../src/checkpoint.js';
import { tanhCnn } from '../src/model.js';
import { perExampleGradients } from '../src/per-example.js';
import { DELTA, type TrainConfig, train } from '../src/train.js';

const root = mkdtempSync(join(tmpdir(), 'dp-sgd-smoke-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function config(name: string, overrides: Partial<TrainConfig> = {}): TrainConfig {
  const outDir = join(root, name);
  return {
    ...commonDefaults,
    model: 'mlp',
    epochs: 2,
    batchSize: 32,
    lr: 2,
    optimizer: 'sgd',
    schedule: 'cosine',
    noiseMultiplier: 1.1,
    maxGradNorm: 0.5,
    limit: 128,
    checkpoint: join(outDir, 'checkpoint.safetensors'),
    resume: false,
    outDir,
    progress: 'silent',
    chunk: 48,
    ...overrides,
  };
}

const withoutTimes = (path: string) =>
  readMetrics(path).map(({ time: _, trainSeconds: _t, ...rest }) => rest);

describe('dp-sgd trainer', () => {
  it('trains, reports the accountant’s ε after every epoch and writes curves and a checkpoint', async () => {
    const run = config('run');
    const result = await train(run);
    // 128 images, q = 32/128: 4 Poisson-sampled steps per epoch.
    expect(result.steps).toBe(8);
    const accountant = new tg.optim.privacy.RdpAccountant();
    accountant.step({ noiseMultiplier: 1.1, sampleRate: 0.25, steps: 4 });
    expect(result.epochs[0].epsilon).toBe(accountant.getPrivacySpent(DELTA).epsilon);
    accountant.step({ noiseMultiplier: 1.1, sampleRate: 0.25, steps: 4 });
    expect(result.epsilon).toBe(accountant.getPrivacySpent(DELTA).epsilon);
    expect(result.epochs[1].epsilonClassic).toBeGreaterThan(result.epochs[1].epsilon);
    // 8 noisy steps on 128 images: better than chance (0.1) already.
    expect(result.testAccuracy).toBeGreaterThan(0.3);

    const records = readMetrics(result.metricsPath);
    const test = records.filter((r) => r.split === 'test');
    expect(test.map((r) => r.epsilon)).toEqual(result.epochs.map((e) => e.epsilon));
    const train_ = records.filter((r) => r.split === 'train');
    expect(train_).toHaveLength(8);
    // Poisson batches vary in size around q·N = 32.
    expect(new Set(train_.map((r) => r.batchSize)).size).toBeGreaterThan(1);
    for (const path of result.plotPaths) expect(readFileSync(path).subarray(1, 4).toString()).toBe('PNG');
    const checkpoint = load(run.checkpoint as string);
    expect(checkpoint.tensors['model.0.weight'].shape).toEqual([128, 784]);
  });

  it('resumes from its checkpoint exactly where an uninterrupted run would be', async () => {
    const whole = await train(config('whole'));
    const parts = config('parts');
    await train({ ...parts, stopAfter: 1 });
    const rest = await train({ ...parts, resume: true });
    expect(rest.epochs.map((e) => e.epoch)).toEqual([2]);
    expect(rest.epsilon).toBe(whole.epsilon);
    const expected = whole.model.stateDict();
    for (const [name, tensor] of Object.entries(rest.model.stateDict())) {
      expect(tensor.value.toTypedArray(), name).toEqual(expected[name].value.toTypedArray());
    }
    expect(withoutTimes(rest.metricsPath)).toEqual(withoutTimes(whole.metricsPath));
  });

  it('refuses to resume a checkpoint written with other settings', async () => {
    const run = config('settings', { epochs: 1 });
    await train(run);
    const other = train({ ...run, noiseMultiplier: 2, epochs: 2, resume: true });
    await expect(other).rejects.toThrow(CheckpointError);
    await expect(other).rejects.toThrow(/noiseMultiplier 1.1 → 2/);
  });
});

describe('perExampleGradients', () => {
  it('gives each example the gradient of its own loss (padded batch): their mean is the batch gradient', () => {
    tg.manualSeed(1);
    const model = tanhCnn();
    const ce = new tg.nn.CrossEntropyLoss();
    const x = tg.randn(tg.random.key(2), [5, 1, 28, 28]);
    const y = tg.tensor(Int32Array.from([0, 3, 9, 3, 1]));
    const { grads, losses } = perExampleGradients(model, (logits, t) => ce.forward(logits, t), 8)(x, y);
    const loss = ce.forward(model.forward(x), y);
    loss.backward();
    expect(losses.reduce((a, b) => a + b, 0) / 5).toBeCloseTo(Number(loss.item()), 5);
    model.parameters().forEach((p, i) => {
      expect(grads[i].shape).toEqual([5, ...p.shape]);
      const mean = tg.mean(tg.tensor(grads[i]), { axis: 0 }).toTypedArray();
      const batch = (p.grad as tg.Tensor).toTypedArray();
      mean.forEach((m, j) => {
        expect(Math.abs(m - batch[j])).toBeLessThan(1e-5 + 1e-4 * Math.abs(batch[j]));
      });
    });
  });
});
