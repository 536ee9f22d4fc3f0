import { mnistDigits } from '@tsgrad/data/node';
import { io, type Tensor } from 'tsgrad';
import { describe, expect, it } from 'vitest';
import { datasets, defaultConfig, type PlaygroundConfig, problemWith } from '../src/config.js';
import { decodeDigits, encodeDigits } from '../src/digits.js';
import { configOf, Trainer } from '../src/trainer.js';

const quick = (options: Partial<PlaygroundConfig> = {}): PlaygroundConfig => ({
  ...defaultConfig,
  points: 120,
  ...options,
});

const lossesOf = (trainer: Trainer, steps: number) => Array.from({ length: steps }, () => trainer.step());

describe('the playground trainer', () => {
  it('runs the same from the same seed, and differently from another', () => {
    const config = quick({ dropout: 0.2, norm: 'batch' });
    const first = lossesOf(new Trainer(config), 15);
    expect(lossesOf(new Trainer(config), 15)).toEqual(first);
    expect(lossesOf(new Trainer({ ...config, seed: 1 }), 15)).not.toEqual(first);
  }, 30_000);

  it('learns every 2-D data set with every option on', () => {
    for (const dataset of datasets.filter((d) => d !== 'digits')) {
      const trainer = new Trainer(
        quick({ dataset, norm: 'layer', dropout: 0.1, l1: 1e-4, l2: 1e-4, weightDecay: 1e-3, clipNorm: 1 }),
      );
      const before = trainer.evaluate(trainer.train).loss;
      lossesOf(trainer, 30);
      expect(trainer.evaluate(trainer.train).loss, dataset).toBeLessThan(before);
      const { probabilities, size, classes } = trainer.boundary(8);
      expect(probabilities.length).toBe(size * size * classes);
    }
  }, 30_000);

  it('shrinks the weights with decoupled decay and caps the gradient norm with clipping', () => {
    const norms = (options: Partial<PlaygroundConfig>) => {
      const trainer = new Trainer(quick({ optimizer: 'sgd', lr: 0.5, schedule: 'constant', ...options }));
      lossesOf(trainer, 1);
      return trainer.layerStats();
    };
    const plain = norms({});
    const decayed = norms({ weightDecay: 0.5 });
    expect(decayed[0].weightNorm).toBeLessThan(plain[0].weightNorm);
    const clipped = norms({ clipNorm: 1e-3 });
    const total = Math.hypot(...clipped.map((l) => l.gradNorm));
    expect(total).toBeLessThanOrEqual(1e-3 * 1.0001);
    expect(Math.hypot(...plain.map((l) => l.gradNorm))).toBeGreaterThan(1e-3);
  });

  it('follows the schedule over its horizon, then keeps its last learning rate', () => {
    const lrAt = (schedule: PlaygroundConfig['schedule'], step: number) => {
      const trainer = new Trainer(quick({ schedule, lr: 0.1, horizon: 90 }));
      trainer.steps = step;
      return trainer.lr;
    };
    expect(lrAt('cosine', 0)).toBeCloseTo(0.1, 12);
    expect(lrAt('cosine', 45)).toBeCloseTo(0.05, 12);
    expect(lrAt('cosine', 500)).toBeCloseTo(0, 12);
    expect(lrAt('step', 31)).toBeCloseTo(0.01, 12);
    expect(lrAt('exponential', 90)).toBeCloseTo(0.001, 12);
    expect(lrAt('exponential', 900)).toBeCloseTo(0.001, 12);
    expect(lrAt('constant', 900)).toBe(0.1);
  });

  it('reports a histogram of every weight of each Linear layer', () => {
    const trainer = new Trainer(quick({ hidden: [8, 4] }));
    const stats = trainer.layerStats(10);
    expect(stats.map((s) => s.name)).toEqual(['0', '2', '4']);
    expect(stats.map((s) => s.histogram.counts.reduce((a, b) => a + b, 0))).toEqual([2 * 8, 8 * 4, 4 * 3]);
    expect(stats[0].gradNorm).toBe(0);
  });

  it('exports weights that import into a fresh run with the same predictions, and carries its config', () => {
    const config = quick({ norm: 'batch', hidden: [16] });
    const trained = new Trainer(config);
    lossesOf(trained, 20);
    const bytes = trained.exportWeights();
    expect(configOf(bytes)).toEqual(config);
    const fresh = new Trainer(config);
    expect(fresh.boundary(6).probabilities).not.toEqual(trained.boundary(6).probabilities);
    fresh.importWeights(bytes);
    expect(fresh.boundary(6).probabilities).toEqual(trained.boundary(6).probabilities);
  });

  it('imports the model of a Node trainer checkpoint (model.* names beside the optimizer state)', () => {
    const config = quick({ hidden: [64, 64] });
    const source = new Trainer(config);
    lossesOf(source, 5);
    const tensors: Record<string, Tensor> = {};
    for (const [name, value] of Object.entries(source.model.stateDict())) tensors[`model.${name}`] = value;
    tensors['optimizer.0.exp_avg'] = source.model.parameters()[0];
    const target = new Trainer(config);
    target.importWeights(io.toBytes(tensors));
    expect(target.boundary(4).probabilities).toEqual(source.boundary(4).probabilities);
  });

  it('refuses weights of another architecture, leaving the model as it was', () => {
    const trainer = new Trainer(quick());
    const before = trainer.boundary(4).probabilities;
    const other = new Trainer(quick({ hidden: [5] })).exportWeights();
    expect(() => trainer.importWeights(other)).toThrow();
    expect(trainer.boundary(4).probabilities).toEqual(before);
  });

  it('trains on the packaged MNIST digits, packed as the page fetches them', () => {
    const { images, labels } = mnistDigits({ flatten: true });
    const packed = decodeDigits(encodeDigits(images.toTypedArray() as Float32Array, labels.toTypedArray()));
    expect(packed.labels.length).toBe(labels.shape[0]);
    const trainer = new Trainer(
      quick({ dataset: 'digits', points: 1000, hidden: [32], batchSize: 64 }),
      packed,
    );
    expect(trainer.test.y.shape).toEqual([2000]);
    expect(trainer.trainSample.x.shape).toEqual([1000, 784]);
    const big = new Trainer(quick({ dataset: 'digits', points: 3000 }), packed);
    expect(big.trainSample.x.shape).toEqual([2000, 784]);
    expect(big.trainSample.y.toTypedArray()).toEqual(big.train.y.toTypedArray().subarray(0, 2000));
    const before = trainer.evaluate(trainer.test).accuracy;
    lossesOf(trainer, 60);
    const after = trainer.evaluate(trainer.test).accuracy;
    expect(after).toBeGreaterThan(Math.max(0.7, before));
    const firstImage = Float32Array.from(packed.pixels.subarray(0, 784), (p) => p / 255);
    const probabilities = trainer.probabilities(firstImage, 784);
    expect(probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
  }, 30_000);

  it('checks a config from a form or a file', () => {
    expect(problemWith(defaultConfig)).toBeUndefined();
    expect(problemWith({ ...defaultConfig, dataset: 'mnist' as never })).toMatch(/dataset/);
    expect(problemWith({ ...defaultConfig, hidden: [0] })).toMatch(/hidden/);
    expect(problemWith({ ...defaultConfig, batchSize: 2.5 })).toMatch(/batchSize/);
    expect(() => new Trainer({ ...defaultConfig, lr: -1 })).toThrow(/lr/);
    expect(() => new Trainer(quick({ dataset: 'digits' }))).toThrow(/digits/);
  });
});
