// The training loop: random windows of the training text, AdamW with warmup and cosine decay,
// gradient clipping, validation in bits per character after every epoch, checkpoints, a sample.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  MetricsWriter,
  type ProgressMode,
  readMetrics,
  Stopwatch,
  TrainingProgress,
  writeLinePlot,
} from '@tsgrad/app-kit';
import * as tg from 'tsgrad';
import { mobyDick } from 'tsgrad/node';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import {
  type Batch,
  evaluationStarts,
  splitCorpus,
  trainingBatch,
  unigramEntropyBits,
  windowsAt,
} from './corpus.js';
import { type Architecture, type CharModel, createModel } from './model.js';
import { sampleText } from './sample.js';

/** Every option is optional; `trainDefaults` holds the defaults. */
export interface TrainOptions {
  /** The text to learn (default: Moby-Dick). */
  text?: string;
  /** Use only the first `limit` characters of the text. */
  limit?: number;
  /** The share of the text, taken from its end, held out for validation. */
  valFraction?: number;
  architecture?: Architecture;
  /** The Transformer's width, the LSTM's hidden size. */
  dModel?: number;
  /** The LSTM's embedding width (the Transformer embeds into dModel). */
  embedDim?: number;
  heads?: number;
  layers?: number;
  /** Characters the model reads to predict the next one. */
  context?: number;
  dropout?: number;
  /** An epoch here is `stepsPerEpoch` random batches followed by a validation pass. */
  epochs?: number;
  stepsPerEpoch?: number;
  /** Windows of `context` characters per step. */
  batchSize?: number;
  optimizer?: 'adamw' | 'adam' | 'sgd';
  /** The peak learning rate, reached after the warmup. */
  lr?: number;
  /** 'cosine' decays from lr to lr·minLrFactor after the warmup; 'constant' stays at lr. */
  schedule?: 'cosine' | 'constant';
  warmupSteps?: number;
  minLrFactor?: number;
  /** Decoupled weight decay on weight matrices and embeddings (not on biases and norms). */
  weightDecay?: number;
  /** Clip the gradients' total L2 norm to this. */
  clipNorm?: number;
  /**
   * Compile the whole step into one plan (`compileStep`, default true): the loss, its backward,
   * gradient clipping and the optimizer's update; dropout draws each step's masks from the
   * key the step is given.
   */
  jit?: boolean;
  seed?: number;
  /** Validation windows per epoch, spread evenly over the held-out text. */
  evalWindows?: number;
  /** Evaluate the whole held-out text at the end. */
  finalFullEval?: boolean;
  /** Save a checkpoint here after every epoch. */
  checkpoint?: string;
  /** Continue from `checkpoint`. */
  resume?: boolean;
  outDir?: string;
  sampleLength?: number;
  temperature?: number;
  /** Text the sample continues (default "Call me Ishmael. "). */
  prompt?: string;
  progress?: ProgressMode;
  /** When aborted, training stops at the end of the current epoch (after its checkpoint). */
  signal?: AbortSignal;
}

export interface EpochRecord {
  readonly epoch: number;
  readonly step: number;
  /** Mean training bits per character over the epoch's steps. */
  readonly trainBpc: number;
  readonly valBpc: number;
}

export interface TrainResult {
  readonly model: CharModel;
  readonly vocab: readonly string[];
  readonly trainChars: number;
  readonly valChars: number;
  /** The unigram entropy of the training text, in bits per character. */
  readonly unigramBpc: number;
  /** Epochs run by this call (a resumed run lists only the new ones). */
  readonly epochs: readonly EpochRecord[];
  /** Bits per character on the whole validation text (or the last epoch's estimate without finalFullEval). */
  readonly finalValBpc: number;
  /** The prompt the sample continues, and the sampled continuation. */
  readonly prompt: string;
  readonly sample: string;
  /** True when `signal` stopped the run early (then there is no final evaluation or sample). */
  readonly stopped: boolean;
  readonly steps: number;
  readonly seconds: number;
  readonly files: { readonly metrics: string; readonly plot: string; readonly sample: string };
}

/**
 * The defaults: a one-layer LSTM, which learned faster per CPU-second than a small Transformer
 * on this CPU backend (see README), trained with AdamW at a high peak rate.
 */
export const trainDefaults = {
  valFraction: 0.1,
  architecture: 'lstm' as Architecture,
  dModel: 128,
  embedDim: 32,
  heads: 4,
  layers: 1,
  context: 64,
  dropout: 0,
  epochs: 10,
  stepsPerEpoch: 100,
  batchSize: 16,
  optimizer: 'adamw' as 'adamw' | 'adam' | 'sgd',
  lr: 2e-2,
  schedule: 'cosine' as 'cosine' | 'constant',
  warmupSteps: 30,
  minLrFactor: 0.1,
  weightDecay: 0.01,
  clipNorm: 1,
  seed: 0,
  evalWindows: 256,
  finalFullEval: true,
  outDir: 'out/char-lm',
  sampleLength: 400,
  temperature: 0.8,
} as const;

const D = trainDefaults;

const BITS_PER_NAT = 1 / Math.LN2;

/** Mean cross-entropy (nats per character) of the model on a batch. */
function batchLoss(model: CharModel, batch: Batch, key?: tg.random.PRNGKey): tg.Tensor {
  const logits = model.forward(batch.inputs, key);
  const [n, length, vocab] = logits.shape;
  return tg.crossEntropy(tg.reshape(logits, [n * length, vocab]), tg.reshape(batch.targets, [n * length]));
}

/** Mean bits per character of the model on the windows of `ids` at `starts`, without recording. */
export function evaluateBpc(
  model: CharModel,
  ids: Int32Array,
  starts: readonly number[],
  batchSize = 64,
): number {
  const wasTraining = model.training;
  model.eval();
  let totalNats = 0;
  tg.noGrad(() => {
    for (let i = 0; i < starts.length; i += batchSize) {
      const chunk = starts.slice(i, i + batchSize);
      totalNats +=
        (batchLoss(model, windowsAt(ids, chunk, model.config.context)).item() as number) * chunk.length;
    }
  });
  model.train(wasTraining);
  return (totalNats / starts.length) * BITS_PER_NAT;
}

function createOptimizer(
  name: string,
  model: CharModel,
  lr: number,
  weightDecay: number,
): tg.optim.Optimizer<{ lr: number }> {
  // Decay weight matrices and embeddings only, as GPT-2 and nanoGPT do.
  const params = model.parameters();
  const groups = [
    { params: params.filter((p) => p.ndim >= 2), weightDecay },
    { params: params.filter((p) => p.ndim < 2), weightDecay: 0 },
  ];
  if (name === 'adamw') return new tg.optim.AdamW(groups, { lr });
  if (name === 'adam') return new tg.optim.Adam(groups, { lr });
  if (name === 'sgd') return new tg.optim.SGD(groups, { lr, momentum: 0.9 });
  throw new RangeError(`train: unknown optimizer '${name}' (adamw, adam, sgd)`);
}

/** Melville's first line, or the text's first character when training on a slice without it. */
function defaultPrompt(text: string): string {
  const opening = 'Call me Ishmael. ';
  return [...opening].every((c) => text.includes(c)) ? opening : text.slice(0, 1);
}

/** Keeps the metrics of steps up to `step` (a resumed run rewrites what came after its checkpoint). */
function truncateMetrics(path: string, step: number): void {
  if (!existsSync(path)) return;
  const kept = readMetrics(path).filter((r) => r.step <= step && (r.split === 'train' || r.split === 'val'));
  writeFileSync(path, kept.map((r) => `${JSON.stringify(r)}\n`).join(''));
}

export async function train(options: TrainOptions = {}): Promise<TrainResult> {
  const {
    valFraction = D.valFraction,
    architecture = D.architecture,
    dModel = D.dModel,
    embedDim = D.embedDim,
    heads = D.heads,
    layers = D.layers,
    context = D.context,
    dropout = D.dropout,
    epochs = D.epochs,
    stepsPerEpoch = D.stepsPerEpoch,
    batchSize = D.batchSize,
    optimizer: optimizerName = D.optimizer,
    lr = D.lr,
    schedule = D.schedule,
    warmupSteps = D.warmupSteps,
    minLrFactor = D.minLrFactor,
    weightDecay = D.weightDecay,
    clipNorm = D.clipNorm,
    seed = D.seed,
    evalWindows = D.evalWindows,
    finalFullEval = D.finalFullEval,
    outDir = D.outDir,
    sampleLength = D.sampleLength,
    temperature = D.temperature,
  } = options;
  const clock = new Stopwatch();
  mkdirSync(outDir, { recursive: true });

  const fullText = options.text ?? mobyDick();
  const text = options.limit === undefined ? fullText : fullText.slice(0, options.limit);
  const corpus = splitCorpus(text, valFraction);
  const { chars, train: trainIds, val: valIds } = corpus;
  const unigramBpc = unigramEntropyBits(trainIds, chars.vocab.length);
  const valStarts = evaluationStarts(valIds.length, context, evalWindows);
  if (valStarts.length === 0 || trainIds.length <= context) {
    throw new RangeError(`train: the text is too short for a context of ${context} characters`);
  }

  tg.manualSeed(seed);
  const model = createModel({
    architecture,
    vocabSize: chars.vocab.length,
    context,
    dModel,
    embedDim: architecture === 'lstm' ? embedDim : dModel,
    layers,
    heads,
    dropout,
  });
  const optimizer = createOptimizer(optimizerName, model, lr, weightDecay);
  const totalSteps = epochs * stepsPerEpoch;
  const warmup = Math.min(warmupSteps, totalSteps);
  const scheduler = new tg.optim.LRScheduler(optimizer, (base) => {
    const after =
      schedule === 'cosine'
        ? tg.optim.cosineAnnealingSchedule({
            lr: base,
            tMax: Math.max(1, totalSteps - warmup),
            etaMin: base * minLrFactor,
          })
        : tg.optim.constantSchedule(base);
    return warmup > 0
      ? tg.optim.linearWarmup(after, { warmupSteps: warmup, startFactor: 1 / warmup })
      : after;
  });

  let step = 0;
  let startEpoch = 0;
  const metricsPath = join(outDir, 'metrics.jsonl');
  if (options.resume) {
    if (options.checkpoint === undefined) throw new RangeError('train: resume needs a checkpoint path');
    ({ step, epoch: startEpoch } = loadCheckpoint(options.checkpoint, {
      model,
      optimizer,
      scheduler,
      vocab: chars.vocab,
    }));
    truncateMetrics(metricsPath, step);
  }
  using metrics = new MetricsWriter(metricsPath, { append: options.resume === true });
  const log = (line: string) => progress.log(line);
  using progress = new TrainingProgress({ epochs, stepsPerEpoch, mode: options.progress });
  log(
    `char-lm: ${architecture}, ${model.numParameters()} parameters, vocabulary ${chars.vocab.length}, ` +
      `${trainIds.length} training / ${valIds.length} validation characters, ` +
      `unigram entropy ${unigramBpc.toFixed(3)} bits/char` +
      (step > 0 ? `, resuming at step ${step} (epoch ${startEpoch})` : ''),
  );

  const dropoutKey = tg.random.key(seed + 1);
  const compiled =
    (options.jit ?? true)
      ? tg.compileStep({
          parameters: model.parameters(),
          buffers: model.buffers(),
          loss: (inputs: tg.Tensor, targets: tg.Tensor, key?: tg.random.PRNGKey) =>
            batchLoss(model, { inputs, targets }, key),
          optimizer,
          maxGradNorm: clipNorm,
        })
      : undefined;
  const records: EpochRecord[] = [];
  let stopped = false;
  for (let epoch = startEpoch + 1; epoch <= epochs; epoch++) {
    progress.startEpoch(epoch);
    let epochNats = 0;
    for (let i = 0; i < stepsPerEpoch; i++) {
      const batch = trainingBatch(trainIds, seed, step, batchSize, context);
      const lrNow = optimizer.paramGroups[0].lr;
      const key = dropout > 0 ? tg.random.foldIn(dropoutKey, step) : undefined;
      let loss: tg.Tensor;
      let gradNorm: number;
      if (compiled) {
        // One plan: loss, backward, clipping and the optimizer's update.
        loss = compiled(batch.inputs, batch.targets, key);
        gradNorm = compiled.gradNorm?.item() as number;
      } else {
        loss = batchLoss(model, batch, key);
        optimizer.zeroGrad();
        loss.backward();
        gradNorm = tg.optim.clipGradNorm(model.parameters(), clipNorm);
        optimizer.step();
      }
      scheduler.step();
      step += 1;
      const nats = loss.item() as number;
      epochNats += nats;
      metrics.write({
        step,
        epoch,
        split: 'train',
        loss: nats,
        bpc: nats * BITS_PER_NAT,
        lr: lrNow,
        gradNorm,
      });
      progress.step({ loss: nats, examples: batchSize * context });
    }
    const valBpc = evaluateBpc(model, valIds, valStarts);
    const trainBpc = (epochNats / stepsPerEpoch) * BITS_PER_NAT;
    metrics.write({ step, epoch, split: 'val', loss: valBpc / BITS_PER_NAT, bpc: valBpc, unigramBpc });
    records.push({ epoch, step, trainBpc, valBpc });
    progress.endEpoch({ 'train bpc': trainBpc, 'val bpc': valBpc, lr: optimizer.paramGroups[0].lr });
    if (options.checkpoint !== undefined) {
      saveCheckpoint(options.checkpoint, { model, optimizer, scheduler, vocab: chars.vocab, step, epoch });
    }
    if (options.signal?.aborted && epoch < epochs) {
      stopped = true;
      log(
        `stopped after epoch ${epoch}${options.checkpoint ? `; continue with --resume from ${options.checkpoint}` : ''}`,
      );
      break;
    }
  }

  let finalValBpc = records.at(-1)?.valBpc ?? Number.NaN;
  if (finalFullEval && !stopped) {
    const allStarts = evaluationStarts(valIds.length, context);
    finalValBpc = evaluateBpc(model, valIds, allStarts);
    metrics.write({
      step,
      epoch: epochs,
      split: 'val-full',
      loss: finalValBpc / BITS_PER_NAT,
      bpc: finalValBpc,
    });
    log(
      `validation on all ${allStarts.length * context} held-out characters: ${finalValBpc.toFixed(3)} bits/char`,
    );
  }
  metrics.close();

  const files = {
    metrics: metricsPath,
    plot: join(outDir, 'bpc.png'),
    sample: join(outDir, 'sample.txt'),
  };
  const history = readMetrics(metricsPath);
  const curve = (split: string) => {
    const rows = history.filter((r) => r.split === split);
    return { x: rows.map((r) => r.step), y: rows.map((r) => r.bpc as number) };
  };
  const lastStep = Math.max(step, 1);
  await writeLinePlot(files.plot, {
    title: `char-lm (${architecture}): bits per character`,
    x: 'step',
    y: 'bits per character',
    series: {
      train: curve('train'),
      validation: curve('val'),
      'unigram entropy': { x: [1, lastStep], y: [unigramBpc, unigramBpc] },
    },
  });

  const prompt = options.prompt ?? defaultPrompt(text);
  const sample = stopped ? '' : sampleText(model, chars, { prompt, length: sampleLength, temperature, seed });
  if (!stopped) writeFileSync(files.sample, `${prompt}${sample}\n`);
  return {
    model,
    vocab: chars.vocab,
    trainChars: trainIds.length,
    valChars: valIds.length,
    unigramBpc,
    epochs: records,
    finalValBpc,
    prompt,
    sample,
    stopped,
    steps: step,
    seconds: clock.elapsed(),
    files,
  };
}
