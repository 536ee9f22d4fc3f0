// The Web Worker that trains, so that the page stays responsive: it steps the Trainer in slices
// of about 40 ms while playing and posts what the page shows after each slice.
import type { WasmBackend } from '@tsgrad/backend-wasm';
import { getBackend } from 'tsgrad';
import { type PlaygroundConfig, shapeOf } from './config.js';
import { type DigitSet, decodeDigits } from './digits.js';
import { EVALUATE_EVERY, type Evaluation, type FromWorker, type ToWorker } from './protocol.js';
import { configOf, Trainer } from './trainer.js';

const SLICE_MS = 40;

let trainer: Trainer | undefined;
let digits: DigitSet | undefined;
let running = false;
let fresh = true;
let evaluations: Evaluation[] = [];
let batchLosses: number[] = [];

function post(message: FromWorker, transfer: Transferable[] = []): void {
  (self as unknown as Worker).postMessage(message, transfer);
}

async function loadDigits(config: PlaygroundConfig, url: string): Promise<DigitSet | undefined> {
  if (config.dataset !== 'digits' || digits !== undefined) return digits;
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  digits = decodeDigits(new Uint8Array(await response.arrayBuffer()));
  return digits;
}

async function start(config: PlaygroundConfig, digitsUrl: string, weights?: Uint8Array): Promise<void> {
  trainer = new Trainer(config, await loadDigits(config, digitsUrl));
  if (weights !== undefined) trainer.importWeights(weights);
  fresh = true;
  batchLosses = [];
  evaluations = [];
  evaluate(trainer);
}

function evaluate(t: Trainer): void {
  const mean = batchLosses.length ? batchLosses.reduce((s, l) => s + l, 0) / batchLosses.length : Number.NaN;
  evaluations.push({
    step: t.steps,
    train: t.evaluate(t.trainSample),
    test: t.evaluate(t.test),
    batchLoss: mean,
  });
  batchLosses = [];
}

function stepOnce(t: Trainer): void {
  batchLosses.push(t.step());
  if (t.steps % EVALUATE_EVERY === 0) evaluate(t);
}

function sendUpdate(t: Trainer): void {
  const twoD = shapeOf(t.config.dataset).inputs === 2;
  const boundary = twoD ? t.boundary() : undefined;
  const points =
    twoD && fresh
      ? {
          x: Float32Array.from(t.train.x.toTypedArray() as Float32Array),
          y: Int32Array.from(t.train.y.toTypedArray() as Int32Array),
        }
      : undefined;
  post({
    type: 'update',
    running,
    fresh,
    step: t.steps,
    epoch: t.epoch,
    lr: t.lr,
    evaluations,
    boundary,
    points,
    layers: t.layerStats(),
  });
  fresh = false;
  evaluations = [];
}

function loop(): void {
  if (!running || trainer === undefined) return;
  const t = trainer;
  const until = performance.now() + SLICE_MS;
  do stepOnce(t);
  while (performance.now() < until);
  sendUpdate(t);
  setTimeout(loop, 0);
}

async function handle(message: ToWorker): Promise<void> {
  switch (message.type) {
    case 'reset':
      running = false;
      await start(message.config, message.digitsUrl);
      break;
    case 'import': {
      running = false;
      const config = configOf(message.bytes) ?? trainer?.config;
      if (config === undefined) throw new Error('the file has no playground config and no run is loaded');
      await start(config, message.digitsUrl, message.bytes);
      post({ type: 'imported', config });
      break;
    }
    case 'play':
      if (!running) {
        running = true;
        setTimeout(loop, 0);
      }
      return;
    case 'pause':
      running = false;
      break;
    case 'step':
      running = false;
      if (trainer) stepOnce(trainer);
      break;
    case 'export':
      if (trainer) {
        const bytes = trainer.exportWeights();
        post({ type: 'exported', bytes }, [bytes.buffer]);
      }
      return;
    case 'predict':
      if (trainer) {
        const probabilities = Array.from(trainer.probabilities(message.pixels, message.pixels.length));
        post({ type: 'prediction', probabilities });
      }
      return;
  }
  if (trainer) sendUpdate(trainer);
}

// Messages are handled one at a time, in order (a reset fetching the digits must finish before
// the play that follows it).
let queue = Promise.resolve();
self.onmessage = (event: MessageEvent<ToWorker>) => {
  queue = queue.then(() =>
    handle(event.data).catch((e: unknown) => {
      running = false;
      post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
    }),
  );
};

/** Tells the page how the backend runs: threads only when cross-origin isolated. */
async function reportBackend(): Promise<void> {
  const { pool } = (getBackend() as WasmBackend).runtime;
  const started = performance.now();
  while (pool.threads > 1 && !pool.ready && performance.now() - started < 10_000)
    await new Promise((resolve) => setTimeout(resolve, 20));
  post({ type: 'backend', threads: pool.activeThreads, isolated: self.crossOriginIsolated });
}
void reportBackend();
