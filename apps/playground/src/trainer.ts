// The playground's training, as a plain module with no DOM: the Web Worker drives it, and a
// Node test runs it with the same seed to check that the page trains exactly as Node does.
import {
  add,
  crossEntropy,
  data,
  io,
  type NDArray,
  narrow,
  nn,
  noGrad,
  optim,
  random,
  softmax,
  type Tensor,
  tensor,
} from 'tsgrad';
import { type PlaygroundConfig, problemWith, shapeOf } from './config.js';
import { type DigitSet, PIXELS } from './digits.js';

export interface Split {
  readonly x: NDArray;
  readonly y: NDArray;
}

export interface Scores {
  loss: number;
  accuracy: number;
}

export interface LayerStats {
  /** The Linear layer's name in the model (`0`, `3`…): its weight is `<name>.weight`. */
  readonly name: string;
  readonly weightNorm: number;
  /** The norm of the weight's gradient at the last step (0 before the first). */
  readonly gradNorm: number;
  /** Counts of the weights in `bins` equal bins from `low` to `high`. */
  readonly histogram: { readonly low: number; readonly high: number; readonly counts: number[] };
}

/** The model's class probabilities on a `size`×`size` grid over `extent` ([xmin, xmax, ymin, ymax]), row by row from the top. */
export interface Boundary {
  readonly size: number;
  readonly classes: number;
  readonly extent: readonly [number, number, number, number];
  readonly probabilities: Float32Array;
}

const HELD_OUT_DIGITS = 2000;
/** The training curve is evaluated on at most this many (shuffled) examples, to keep evaluation cheap. */
const TRAIN_SAMPLE = 2000;

/** The training and held-out sets of a run, drawn from the seed. */
export function makeData(config: PlaygroundConfig, digits?: DigitSet): { train: Split; test: Split } {
  const [trainKey, testKey] = random.split(random.key(config.seed), 2);
  if (config.dataset === 'digits') {
    if (digits === undefined) throw new Error('the digits data set is not loaded');
    return splitDigits(digits, config.points, trainKey);
  }
  const make = (n: number, key: random.PRNGKey): Split => {
    const noise = config.noise;
    switch (config.dataset) {
      case 'spirals':
        return data.spirals({ n, classes: 3, noise, key });
      case 'moons':
        return data.moons({ n, noise, key });
      case 'circles':
        return data.circles({ n, noise, factor: 0.5, key });
      case 'xor':
        return data.xor({ n, noise, key });
      default: {
        // Three blobs at fixed places; noise 1 makes them touch.
        const centers = [
          [-0.6, -0.4],
          [0.6, -0.4],
          [0, 0.6],
        ];
        return data.blobs({ n, centers, std: 0.05 + 0.45 * noise, key });
      }
    }
  };
  return { train: make(config.points, trainKey), test: make(Math.max(10, config.points >> 1), testKey) };
}

/** A shuffled split of the packaged digits: up to `points` for training, the last 2,000 held out. */
function splitDigits(digits: DigitSet, points: number, key: random.PRNGKey): { train: Split; test: Split } {
  const total = digits.labels.length;
  const order = random.permutation(key, total).toTypedArray();
  const trainCount = Math.min(points, total - HELD_OUT_DIGITS);
  const take = (from: number, count: number): Split => {
    const x = new Float32Array(count * PIXELS);
    const y = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      const j = Number(order[from + i]);
      for (let p = 0; p < PIXELS; p++) x[i * PIXELS + p] = digits.pixels[j * PIXELS + p] / 255;
      y[i] = digits.labels[j];
    }
    return { x: tensor(x, { shape: [count, PIXELS] }).peekValue(), y: tensor(y).peekValue() };
  };
  return { train: take(0, trainCount), test: take(total - HELD_OUT_DIGITS, HELD_OUT_DIGITS) };
}

function activation(name: PlaygroundConfig['activation']): nn.TensorModule {
  switch (name) {
    case 'relu':
      return new nn.ReLU();
    case 'tanh':
      return new nn.Tanh();
    case 'sigmoid':
      return new nn.Sigmoid();
    case 'gelu':
      return new nn.GELU();
    case 'silu':
      return new nn.SiLU();
    default:
      return new nn.LeakyReLU();
  }
}

/**
 * Linear → [norm] → activation → [dropout] per hidden layer, then a Linear to the logits. Without
 * norm and dropout the layer names match the spirals trainer's MLP (`0.weight`, `2.weight`…), so
 * its checkpoints load here.
 */
export function buildModel(config: PlaygroundConfig): nn.Sequential {
  const { inputs, classes } = shapeOf(config.dataset);
  const layers: nn.TensorModule[] = [];
  let width = inputs;
  for (const size of config.hidden) {
    layers.push(new nn.Linear(width, size));
    if (config.norm === 'batch') layers.push(new nn.BatchNorm1d(size));
    if (config.norm === 'layer') layers.push(new nn.LayerNorm(size));
    layers.push(activation(config.activation));
    if (config.dropout > 0) layers.push(new nn.Dropout(config.dropout));
    width = size;
  }
  layers.push(new nn.Linear(width, classes));
  return new nn.Sequential(...layers);
}

function makeOptimizer(config: PlaygroundConfig, params: nn.Parameter[]): optim.Optimizer<{ lr: number }> {
  const { lr } = config;
  switch (config.optimizer) {
    case 'sgd':
      return new optim.SGD(params, { lr });
    case 'momentum':
      return new optim.SGD(params, { lr, momentum: 0.9 });
    case 'rmsprop':
      return new optim.RMSprop(params, { lr });
    default:
      return new optim.Adam(params, { lr });
  }
}

/** The learning rate at each step: it follows the schedule for `horizon` steps, then stays where it ended. */
function makeSchedule(config: PlaygroundConfig): optim.Schedule {
  const { lr, horizon } = config;
  const schedule = (() => {
    switch (config.schedule) {
      case 'cosine':
        return optim.cosineAnnealingSchedule({ lr, tMax: horizon });
      case 'step':
        return optim.stepSchedule({ lr, stepSize: Math.max(1, Math.round(horizon / 3)) });
      case 'exponential':
        // Down to lr/100 after `horizon` steps.
        return optim.exponentialSchedule({ lr, gamma: 0.01 ** (1 / horizon) });
      default:
        return optim.constantSchedule(lr);
    }
  })();
  return (step) => schedule(Math.min(step, horizon));
}

/** One run: data, model and optimizer from a config, stepped one batch at a time. */
export class Trainer {
  readonly model: nn.Sequential;
  readonly train: Split;
  readonly test: Split;
  /** The first `TRAIN_SAMPLE` training examples: what the training curve is evaluated on. */
  readonly trainSample: Split;
  /** Optimizer steps taken. */
  steps = 0;
  private readonly optimizer: optim.Optimizer<{ lr: number }>;
  private readonly schedule: optim.Schedule;
  private readonly loader: data.DataLoader<NDArray[], [NDArray, NDArray]>;
  private batches: Iterator<[NDArray, NDArray]>;
  /** The weights of the Linear layers: what the penalties, decay, norms and histograms are about. */
  private readonly weights: [string, nn.Parameter][];

  constructor(
    readonly config: PlaygroundConfig,
    digits?: DigitSet,
  ) {
    const problem = problemWith(config);
    if (problem !== undefined) throw new Error(`playground: ${problem}`);
    ({ train: this.train, test: this.test } = makeData(config, digits));
    const n = this.train.y.shape[0];
    const first = (a: NDArray) => (n <= TRAIN_SAMPLE ? a : narrow(tensor(a), 0, 0, TRAIN_SAMPLE).peekValue());
    this.trainSample = { x: first(this.train.x), y: first(this.train.y) };
    nn.manualSeed(config.seed);
    this.model = buildModel(config);
    this.optimizer = makeOptimizer(config, this.model.parameters());
    this.schedule = makeSchedule(config);
    const [, , shuffleKey] = random.split(random.key(config.seed), 3);
    this.loader = new data.DataLoader(new data.TensorDataset(this.train.x, this.train.y), {
      batchSize: Math.min(config.batchSize, this.train.y.shape[0]),
      shuffle: true,
      dropLast: true,
      key: shuffleKey,
    });
    this.batches = this.loader[Symbol.iterator]();
    this.weights = this.model
      .namedModules()
      .filter(([, m]) => m instanceof nn.Linear)
      .map(([name, m]) => [name, (m as nn.Linear).weight]);
  }

  get epoch(): number {
    return this.loader.epoch - 1;
  }

  /** The learning rate of the next step. */
  get lr(): number {
    return this.schedule(this.steps);
  }

  /** One optimizer step on the next batch; returns its cross-entropy (without the penalties). */
  step(): number {
    let next = this.batches.next();
    if (next.done) {
      this.batches = this.loader[Symbol.iterator]();
      next = this.batches.next();
    }
    const [x, y] = next.value;
    const { config } = this;
    const lr = this.lr;
    this.optimizer.paramGroups[0].lr = lr;
    this.model.train();
    this.optimizer.zeroGrad();
    const dataLoss = crossEntropy(this.model.forward(tensor(x)), tensor(y));
    const weights = this.weights.map(([, w]) => w);
    let loss = dataLoss;
    if (config.l1 > 0) loss = add(loss, optim.l1Penalty(weights, config.l1));
    if (config.l2 > 0) loss = add(loss, optim.l2Penalty(weights, config.l2));
    loss.backward();
    if (config.clipNorm > 0) optim.clipGradNorm(this.model.parameters(), config.clipNorm);
    if (config.weightDecay > 0) {
      const keep = 1 - lr * config.weightDecay;
      noGrad(() => {
        for (const w of weights) w.assign(w.mul(keep));
      });
    }
    this.optimizer.step();
    this.steps += 1;
    return Number(dataLoss.item());
  }

  /** Loss and accuracy on a whole split, in eval mode (no dropout, running batch statistics). */
  evaluate(split: Split): Scores {
    this.model.eval();
    return noGrad(() => {
      const logits = this.model.forward(tensor(split.x));
      const loss = Number(crossEntropy(logits, tensor(split.y)).item());
      const predicted = logits.argmax({ axis: 1 }).toTypedArray();
      const truth = split.y.toTypedArray();
      let correct = 0;
      for (let i = 0; i < truth.length; i++) if (predicted[i] === truth[i]) correct++;
      return { loss, accuracy: correct / truth.length };
    });
  }

  /** Class probabilities for rows of inputs [n, features]. */
  probabilities(inputs: Float32Array, features: number): Float32Array {
    this.model.eval();
    return noGrad(() => {
      const x = tensor(inputs, { shape: [inputs.length / features, features] });
      return softmax(this.model.forward(x), -1).toTypedArray() as Float32Array;
    });
  }

  /** The decision boundary of a 2-D run: probabilities over a grid a little wider than the data. */
  boundary(size = 48): Boundary {
    const points = this.train.x.toTypedArray();
    let [xmin, xmax, ymin, ymax] = [Infinity, -Infinity, Infinity, -Infinity];
    for (let i = 0; i < points.length; i += 2) {
      xmin = Math.min(xmin, Number(points[i]));
      xmax = Math.max(xmax, Number(points[i]));
      ymin = Math.min(ymin, Number(points[i + 1]));
      ymax = Math.max(ymax, Number(points[i + 1]));
    }
    const pad = 0.1 * Math.max(xmax - xmin, ymax - ymin);
    const extent = [xmin - pad, xmax + pad, ymin - pad, ymax + pad] as const;
    const grid = new Float32Array(size * size * 2);
    for (let row = 0; row < size; row++) {
      for (let col = 0; col < size; col++) {
        const i = row * size + col;
        grid[2 * i] = extent[0] + ((col + 0.5) / size) * (extent[1] - extent[0]);
        grid[2 * i + 1] = extent[3] - ((row + 0.5) / size) * (extent[3] - extent[2]);
      }
    }
    const { classes } = shapeOf(this.config.dataset);
    return { size, classes, extent, probabilities: this.probabilities(grid, 2) };
  }

  /** Weight and gradient norms and a weight histogram for each Linear layer. */
  layerStats(bins = 24): LayerStats[] {
    return this.weights.map(([name, w]) => {
      const values = w.toTypedArray();
      const gradient = w.grad?.toTypedArray();
      let [low, high, squares, gradSquares] = [Infinity, -Infinity, 0, 0];
      for (let i = 0; i < values.length; i++) {
        const v = Number(values[i]);
        low = Math.min(low, v);
        high = Math.max(high, v);
        squares += v * v;
        if (gradient !== undefined) gradSquares += Number(gradient[i]) ** 2;
      }
      const counts = new Array<number>(bins).fill(0);
      const width = (high - low) / bins || 1;
      for (let i = 0; i < values.length; i++)
        counts[Math.min(bins - 1, Math.floor((Number(values[i]) - low) / width))] += 1;
      return {
        name,
        weightNorm: Math.sqrt(squares),
        gradNorm: Math.sqrt(gradSquares),
        histogram: { low, high, counts },
      };
    });
  }

  /** The weights as safetensors: `model.<name>` tensors (as the Node trainers' checkpoints) and the config as metadata. */
  exportWeights(): Uint8Array {
    const tensors: Record<string, Tensor> = {};
    for (const [name, value] of Object.entries(this.model.stateDict())) tensors[`model.${name}`] = value;
    return io.toBytes(tensors, io.encodeJsonMetadata({ playground: this.config }));
  }

  /** Loads weights exported here or written by a Node trainer (`model.*` names, or bare ones); all or nothing. */
  importWeights(bytes: Uint8Array): void {
    const { tensors } = io.fromBytes(bytes, { file: 'weights.safetensors' });
    const prefixed = Object.keys(tensors).some((name) => name.startsWith('model.'));
    const state: Record<string, NDArray> = {};
    for (const [name, value] of Object.entries(tensors)) {
      if (!prefixed) state[name] = value;
      else if (name.startsWith('model.')) state[name.slice('model.'.length)] = value;
    }
    this.model.loadStateDict(state);
  }
}

/** The config stored in an exported weights file, if it has one. */
export function configOf(bytes: Uint8Array): PlaygroundConfig | undefined {
  const { metadata } = io.fromBytes(bytes, { file: 'weights.safetensors' });
  const saved = io.decodeJsonMetadata(metadata) as { playground?: PlaygroundConfig } | undefined;
  return saved?.playground;
}
