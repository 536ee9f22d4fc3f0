// The inputs every peer receives: plain typed arrays drawn from one seeded generator, so that
// all peers start from the same weights and data and their first results can be compared.

/** A small seeded generator (mulberry32): the same numbers in every run and for every peer. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `length` float32 values drawn uniformly from [low, high). */
export function uniformArray(length: number, low: number, high: number, seed: number): Float32Array {
  const next = generator(seed);
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = low + (high - low) * next();
  return out;
}

/** `length` class labels in [0, classes). */
export function labelArray(length: number, classes: number, seed: number): Int32Array {
  const next = generator(seed);
  return Int32Array.from({ length }, () => Math.floor(next() * classes));
}

/** Row `i` of the result is the one-hot encoding of `labels[i]`. */
export function oneHot(labels: Int32Array, classes: number): Float32Array {
  const out = new Float32Array(labels.length * classes);
  labels.forEach((label, i) => {
    out[i * classes + label] = 1;
  });
  return out;
}

/** Sum of squares in float64: the checksum of an array result (positive, so relative errors mean something). */
export function sumOfSquares(values: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < values.length; i++) total += values[i] * values[i];
  return total;
}

/** A layer's initial values: weight in PyTorch's layout ([out, in] or [out, in, kh, kw]), row-major. */
export interface LayerInit {
  readonly weight: Float32Array;
  readonly bias: Float32Array;
}

/** PyTorch's default initialisation: U(−1/√fanIn, 1/√fanIn) for weight and bias. */
function layerInit(outFeatures: number, fanIn: number, seed: number): LayerInit {
  const bound = 1 / Math.sqrt(fanIn);
  return {
    weight: uniformArray(outFeatures * fanIn, -bound, bound, seed),
    bias: uniformArray(outFeatures, -bound, bound, seed + 1),
  };
}

export interface MatmulProblem {
  readonly n: number;
  readonly a: Float32Array;
  readonly b: Float32Array;
}

export function matmulProblem(n: number): MatmulProblem {
  return { n, a: uniformArray(n * n, -1, 1, 1), b: uniformArray(n * n, -1, 1, 2) };
}

/** The input of y = exp(x)·x + 1. */
export function elementwiseInput(size: number): Float32Array {
  return uniformArray(size, -2, 2, 3);
}

/** One Adam step of a 784-256-256-10 ReLU MLP with softmax cross-entropy (mean over the batch). */
export interface MlpProblem {
  /** Layer widths, input first. */
  readonly widths: readonly number[];
  readonly batch: number;
  /** [batch, widths[0]] */
  readonly x: Float32Array;
  readonly labels: Int32Array;
  readonly layers: readonly LayerInit[];
  /** Adam with β = (0.9, 0.999), ε = 1e-8. */
  readonly lr: number;
}

export function mlpProblem(): MlpProblem {
  const widths = [784, 256, 256, 10];
  const batch = 128;
  return {
    widths,
    batch,
    x: uniformArray(batch * widths[0], 0, 1, 10),
    labels: labelArray(batch, widths[widths.length - 1], 11),
    layers: widths.slice(1).map((out, i) => layerInit(out, widths[i], 20 + 2 * i)),
    lr: 1e-3,
  };
}

/**
 * One SGD step of a small MNIST-shaped CNN on [batch, 1, 28, 28]: conv3×3 (padding 1) → 16,
 * ReLU, max-pool 2; conv3×3 (padding 1) → 32, ReLU, max-pool 2; flatten (channel-major, as
 * PyTorch) → dense 1568 → 10; softmax cross-entropy.
 */
export interface CnnProblem {
  readonly batch: number;
  readonly size: number;
  readonly channels: readonly [number, number, number];
  readonly classes: number;
  /** [batch, 1, size, size] (NCHW) */
  readonly x: Float32Array;
  readonly labels: Int32Array;
  /** Conv weights [out, in, 3, 3]. */
  readonly conv: readonly [LayerInit, LayerInit];
  /** [classes, channels[2]·(size/4)²], over features in (channel, row, column) order. */
  readonly dense: LayerInit;
  readonly lr: number;
}

export function cnnProblem(): CnnProblem {
  const batch = 64;
  const size = 28;
  const channels = [1, 16, 32] as const;
  const classes = 10;
  const features = channels[2] * (size / 4) ** 2;
  return {
    batch,
    size,
    channels,
    classes,
    x: uniformArray(batch * channels[0] * size * size, 0, 1, 30),
    labels: labelArray(batch, classes, 31),
    conv: [layerInit(channels[1], channels[0] * 9, 40), layerInit(channels[2], channels[1] * 9, 42)],
    dense: layerInit(classes, features, 44),
    lr: 0.01,
  };
}

/**
 * A long chain of cheap elementwise ops on a small tensor, then the gradient of its sum: this
 * measures the per-op cost of recording and replaying the graph, not arithmetic.
 */
export interface ChainProblem {
  readonly x: Float32Array;
  readonly length: number;
}

export function chainProblem(length = 2000): ChainProblem {
  return { x: uniformArray(16, -0.5, 0.5, 50), length };
}

/**
 * Op `i` of the chain, cycling exp, ·½, log, +ln 2: each cycle is the identity, so values stay
 * where they start and the gradient stays exactly 1 (a contracting chain such as sin/tanh would
 * let it underflow to denormals long before 2,000 ops).
 */
export type ChainOp = 'exp' | 'halve' | 'log' | 'shift';
const CHAIN_CYCLE: readonly ChainOp[] = ['exp', 'halve', 'log', 'shift'];
export const chainOp = (i: number): ChainOp => CHAIN_CYCLE[i % CHAIN_CYCLE.length];
export const CHAIN_SHIFT = Math.LN2;

/**
 * One Adam step of a character RNN: Embedding(vocab → embed) → LSTM(embed → hidden,
 * batch-first) → Linear(hidden → vocab), softmax cross-entropy over every position.
 */
export interface CharRnnProblem {
  readonly vocab: number;
  readonly embed: number;
  readonly hidden: number;
  readonly seq: number;
  readonly batch: number;
  /** [batch, seq] token ids and the next tokens. */
  readonly ids: Int32Array;
  readonly targets: Int32Array;
  readonly lr: number;
}

export function charRnnProblem(): CharRnnProblem {
  const [vocab, batch, seq] = [64, 16, 32];
  return {
    vocab,
    embed: 64,
    hidden: 128,
    seq,
    batch,
    ids: labelArray(batch * seq, vocab, 60),
    targets: labelArray(batch * seq, vocab, 61),
    lr: 1e-3,
  };
}
