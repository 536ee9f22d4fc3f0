// CI smoke test: a tiny model on the first 20,000 characters of Moby-Dick, a few steps.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readMetrics } from '@tsgrad/app-kit';
import { afterAll, describe, expect, it } from 'vitest';
import { CheckpointMismatchError } from '../src/checkpoint.js';
import { evaluationStarts, splitCorpus, trainingBatch, unigramEntropyBits } from '../src/corpus.js';
import { type TrainOptions, train, trainDefaults } from '../src/train.js';

const root = mkdtempSync(join(tmpdir(), 'char-lm-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const tiny: TrainOptions = {
  limit: 20_000,
  dModel: 16,
  heads: 2,
  layers: 1,
  context: 16,
  batchSize: 8,
  epochs: 2,
  stepsPerEpoch: 4,
  warmupSteps: 3,
  evalWindows: 16,
  sampleLength: 40,
  seed: 3,
  progress: 'silent',
};

const parameters = (result: Awaited<ReturnType<typeof train>>) =>
  Object.fromEntries(
    Object.entries(result.model.stateDict()).map(([k, v]) => [k, Array.from(v.value.toTypedArray())]),
  );
const losses = (path: string) => readMetrics(path).map(({ time: _, ...rest }) => rest);

describe('char-lm', () => {
  it('splits the text, draws reproducible batches and computes the unigram entropy', () => {
    const corpus = splitCorpus('abracadabra, abracadabra!', 0.2);
    expect(corpus.train.length + corpus.val.length).toBe(25);
    expect(corpus.val.length).toBe(5);
    // Two equally likely symbols carry one bit, one symbol none.
    expect(unigramEntropyBits(Int32Array.from([0, 1, 0, 1]), 3)).toBeCloseTo(1, 12);
    expect(unigramEntropyBits(Int32Array.from([2, 2, 2]), 3)).toBe(0);
    const a = trainingBatch(corpus.train, 7, 5, 4, 3);
    const b = trainingBatch(corpus.train, 7, 5, 4, 3);
    expect(a.inputs.shape).toEqual([4, 3]);
    expect(a.inputs.toTypedArray()).toEqual(b.inputs.toTypedArray());
    // Targets are the inputs shifted by one character.
    const inputs = a.inputs.toTypedArray();
    const targets = a.targets.toTypedArray();
    for (const row of [0, 1, 2, 3]) expect(targets[row * 3]).toBe(inputs[row * 3 + 1]);
    expect(evaluationStarts(100, 10)).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80]);
    expect(evaluationStarts(100, 10, 3)).toEqual([0, 30, 60]);
  });

  it('trains, writes metrics, curves, a checkpoint and a sample from the vocabulary', async () => {
    const outDir = join(root, 'full');
    const checkpoint = join(outDir, 'ckpt.safetensors');
    const result = await train({ ...tiny, outDir, checkpoint });

    expect(result.unigramBpc).toBeGreaterThan(3.5);
    expect(result.unigramBpc).toBeLessThan(5);
    expect(result.epochs.map((e) => e.step)).toEqual([4, 8]);
    expect(Number.isFinite(result.finalValBpc)).toBe(true);
    // Even eight steps move the model off the uniform guess of log2(vocab) bits.
    expect(result.finalValBpc).toBeLessThan(Math.log2(result.vocab.length));

    const records = readMetrics(result.files.metrics);
    expect(records.filter((r) => r.split === 'train')).toHaveLength(8);
    expect(records.filter((r) => r.split === 'val').map((r) => r.step)).toEqual([4, 8]);
    expect(records.filter((r) => r.split === 'val-full')).toHaveLength(1);
    expect(readFileSync(result.files.plot).subarray(1, 4).toString()).toBe('PNG');
    expect(existsSync(checkpoint)).toBe(true);

    expect(Array.from(result.sample)).toHaveLength(40);
    const vocab = new Set(result.vocab);
    expect(Array.from(result.sample).every((c) => vocab.has(c))).toBe(true);
    expect(readFileSync(result.files.sample, 'utf8')).toBe(`${result.prompt}${result.sample}\n`);
  });

  it.each(['lstm', 'transformer'] as const)(
    'resumes %s training from a checkpoint exactly where an uninterrupted run would be',
    async (architecture) => {
      // Dropout on, so that the per-step dropout keys are covered too.
      const options: TrainOptions = { ...tiny, architecture, dropout: 0.1 };
      const whole = await train({
        ...options,
        outDir: join(root, `whole-${architecture}`),
        checkpoint: join(root, `whole-${architecture}.safetensors`),
      });

      const outDir = join(root, `resumed-${architecture}`);
      const checkpoint = join(outDir, 'ckpt.safetensors');
      const interrupt = new AbortController();
      interrupt.abort(); // stops after the first epoch, as Ctrl-C does
      const first = await train({ ...options, outDir, checkpoint, signal: interrupt.signal });
      expect(first.stopped).toBe(true);
      expect(first.steps).toBe(4);
      const resumed = await train({ ...options, outDir, checkpoint, resume: true });

      expect(resumed.steps).toBe(8);
      expect(resumed.epochs.map((e) => e.epoch)).toEqual([2]);
      expect(parameters(resumed)).toEqual(parameters(whole));
      expect(resumed.finalValBpc).toBe(whole.finalValBpc);
      expect(resumed.sample).toBe(whole.sample);
      expect(losses(resumed.files.metrics)).toEqual(losses(whole.files.metrics));
    },
  );

  it.each(['lstm', 'transformer'] as const)(
    'trains %s the same compiled (the default) and eager (--no-jit), dropout and clipping included',
    async (architecture) => {
      const run = (jit: boolean) =>
        train({
          ...tiny,
          architecture,
          dropout: 0.1,
          clipNorm: 0.05,
          jit,
          finalFullEval: false,
          outDir: join(root, `jit-${architecture}-${jit}`),
        });
      const [compiled, eager] = [await run(true), await run(false)];
      const trainLoss = (r: typeof compiled) =>
        readMetrics(r.files.metrics).flatMap((m) => (m.split === 'train' ? [Number(m.loss)] : []));
      const [a, b] = [trainLoss(compiled), trainLoss(eager)];
      expect(a).toHaveLength(8);
      for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(1e-4);
    },
    60_000,
  );

  // The default 64-character context made the fusion pass group two chains that depend on
  // each other through unfused equations (a cycle it used to throw on); they now run unfused.
  it('compiles the LSTM step at the default context length the same as eager', async () => {
    const run = (jit: boolean) =>
      train({
        ...tiny,
        architecture: 'lstm',
        dModel: 8,
        embedDim: 8,
        context: trainDefaults.context,
        epochs: 1,
        stepsPerEpoch: 2,
        jit,
        finalFullEval: false,
        outDir: join(root, `context-${jit}`),
      });
    const [compiled, eager] = [await run(true), await run(false)];
    const trainLoss = (r: typeof compiled) =>
      readMetrics(r.files.metrics).flatMap((m) => (m.split === 'train' ? [Number(m.loss)] : []));
    const [a, b] = [trainLoss(compiled), trainLoss(eager)];
    expect(a).toHaveLength(2);
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(1e-4);
  }, 60_000);

  it('refuses a checkpoint of another model', async () => {
    const outDir = join(root, 'mismatch');
    await expect(
      train({
        ...tiny,
        architecture: 'lstm',
        dModel: 8,
        outDir,
        checkpoint: join(root, 'whole-lstm.safetensors'),
        resume: true,
      }),
    ).rejects.toThrow(CheckpointMismatchError);
  });
});
