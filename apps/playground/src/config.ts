// Everything that defines a run: the page's form edits it, the worker trains from it, and an
// exported weights file carries it so that a fresh page can rebuild the same model.

export const datasets = ['spirals', 'moons', 'circles', 'xor', 'blobs', 'digits'] as const;
export const activations = ['relu', 'tanh', 'sigmoid', 'gelu', 'silu', 'leakyRelu'] as const;
export const norms = ['none', 'batch', 'layer'] as const;
export const optimizers = ['sgd', 'momentum', 'adam', 'rmsprop'] as const;
export const schedules = ['constant', 'cosine', 'step', 'exponential'] as const;

export interface PlaygroundConfig {
  dataset: (typeof datasets)[number];
  /** Training examples (the held-out set has half as many; digits: at most 8,000 and 2,000). */
  points: number;
  /** Standard deviation of the noise on each coordinate of the 2-D sets. */
  noise: number;
  /** Widths of the hidden layers. */
  hidden: number[];
  activation: (typeof activations)[number];
  /** Dropout probability after each hidden activation (0: none). */
  dropout: number;
  /** Normalization after each hidden Linear, before the activation. */
  norm: (typeof norms)[number];
  optimizer: (typeof optimizers)[number];
  lr: number;
  /** The learning rate per step: cosine decays to 0 and step divides by 10 at each third of `horizon`. */
  schedule: (typeof schedules)[number];
  /** The number of steps the schedule spans; after them the learning rate stays where it ended. */
  horizon: number;
  batchSize: number;
  /** λ of the L1 penalty λ·Σ|w| added to the loss. */
  l1: number;
  /** λ of the L2 penalty λ·Σw² added to the loss. */
  l2: number;
  /** Decoupled weight decay (AdamW's): w ← w − lr·decay·w before each step, outside the loss. */
  weightDecay: number;
  /** The largest total gradient norm (0: no clipping). */
  clipNorm: number;
  seed: number;
}

export const defaultConfig: PlaygroundConfig = {
  dataset: 'spirals',
  points: 600,
  noise: 0.03,
  hidden: [32, 32],
  activation: 'tanh',
  dropout: 0,
  norm: 'none',
  optimizer: 'adam',
  lr: 0.03,
  schedule: 'cosine',
  horizon: 1500,
  batchSize: 32,
  l1: 0,
  l2: 0,
  weightDecay: 0,
  clipNorm: 0,
  seed: 0,
};

/** The class count and input size of a data set. */
export function shapeOf(dataset: PlaygroundConfig['dataset']): { inputs: number; classes: number } {
  if (dataset === 'digits') return { inputs: 784, classes: 10 };
  return { inputs: 2, classes: dataset === 'spirals' || dataset === 'blobs' ? 3 : 2 };
}

/** A check of a config that came from a form or a file: the first problem found, or undefined. */
export function problemWith(config: PlaygroundConfig): string | undefined {
  const choices: [keyof PlaygroundConfig, readonly string[]][] = [
    ['dataset', datasets],
    ['activation', activations],
    ['norm', norms],
    ['optimizer', optimizers],
    ['schedule', schedules],
  ];
  for (const [key, allowed] of choices) {
    if (!allowed.includes(config[key] as string)) return `${key} must be one of ${allowed.join(', ')}`;
  }
  const ranges: [keyof PlaygroundConfig, number, number, boolean][] = [
    ['points', 10, 8000, true],
    ['noise', 0, 1, false],
    ['dropout', 0, 0.9, false],
    ['lr', 0, 10, false],
    ['horizon', 1, 1e7, true],
    ['batchSize', 1, 1024, true],
    ['l1', 0, 1, false],
    ['l2', 0, 1, false],
    ['weightDecay', 0, 1, false],
    ['clipNorm', 0, 1e6, false],
    ['seed', 0, 2 ** 31 - 1, true],
  ];
  for (const [key, low, high, integer] of ranges) {
    const value = config[key];
    if (
      typeof value !== 'number' ||
      !(value >= low && value <= high) ||
      (integer && !Number.isInteger(value))
    )
      return `${key} must be ${integer ? 'an integer' : 'a number'} in [${low}, ${high}], got ${String(value)}`;
  }
  const { hidden } = config;
  if (
    !Array.isArray(hidden) ||
    hidden.length > 6 ||
    hidden.some((w) => !Number.isInteger(w) || w < 1 || w > 512)
  )
    return 'hidden must list at most 6 widths, each an integer in [1, 512]';
  return undefined;
}
