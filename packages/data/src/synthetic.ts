import { array, checkRecord, describe, type NDArray, random, ValueError } from '@tsgrad/tensor';
import { keyFrom, permutationOf, type SeedOptions } from './seed.js';

/** A labelled 2-D point set: float32 points [n, 2] and int32 labels [n]. */
export interface Classification {
  /** The points, float32 [n, 2]. */
  readonly x: NDArray;
  /** The class labels, int32 [n]. */
  readonly y: NDArray;
}

/** A regression set: float32 inputs [n, 1] and float32 targets [n, 1]. */
export interface Regression {
  /** The inputs, float32 [n, 1]. */
  readonly x: NDArray;
  /** The targets, float32 [n, 1]. */
  readonly y: NDArray;
}

export interface SyntheticOptions extends SeedOptions {
  /** The number of samples in total. */
  readonly n?: number;
  /** The standard deviation of Gaussian noise added to every coordinate (default 0). */
  readonly noise?: number;
  /** Shuffle the samples (default true); otherwise they come class by class. */
  readonly shuffle?: boolean;
}

/** Points generated class by class, before noise and shuffling. */
interface Draft {
  readonly points: number[][];
  readonly labels: number[];
}

function checkOptions(op: string, options: SyntheticOptions, n: number): void {
  if (!Number.isInteger(n) || n < 1)
    throw new ValueError(op, `n must be a positive integer, got ${describe(n)}`);
  const noise = options.noise ?? 0;
  if (typeof noise !== 'number' || !(noise >= 0 && Number.isFinite(noise))) {
    throw new ValueError(op, `noise must be a finite number ≥ 0, got ${describe(noise)}`);
  }
}

/** Sizes of `parts` groups that share `n` as evenly as possible (the first ones get the rest). */
function evenSizes(n: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(n / parts) + (i < n % parts ? 1 : 0));
}

/** `count` evenly spaced values from `start`, stepping `(stop − start) / divisions`. */
function spaced(start: number, stop: number, count: number, divisions: number): number[] {
  const step = divisions === 0 ? 0 : (stop - start) / divisions;
  return Array.from({ length: count }, (_, i) => start + i * step);
}

function standardNormals(key: random.PRNGKey, count: number): Float64Array {
  return random.normal(key, [count], { dtype: 'float64' }).toTypedArray() as Float64Array;
}

function uniforms(key: random.PRNGKey, count: number, low = 0, high = 1): Float64Array {
  return random.uniform(key, [count], { low, high, dtype: 'float64' }).toTypedArray() as Float64Array;
}

/** Adds noise, shuffles (both from `key`) and packs a draft into arrays. */
function finish(draft: Draft, key: random.PRNGKey, options: SyntheticOptions): Classification {
  const [noiseKey, orderKey] = random.split(key);
  const n = draft.labels.length;
  const dims = draft.points[0]?.length ?? 0;
  const noise = options.noise ?? 0;
  const jitter = noise > 0 ? standardNormals(noiseKey, n * dims) : undefined;
  const order = (options.shuffle ?? true) ? permutationOf(orderKey, n) : draft.labels.map((_, i) => i);
  const x = new Float32Array(n * dims);
  const y = new Int32Array(n);
  order.forEach((from, i) => {
    for (let d = 0; d < dims; d++) {
      x[i * dims + d] = draft.points[from][d] + (jitter === undefined ? 0 : noise * jitter[from * dims + d]);
    }
    y[i] = draft.labels[from];
  });
  return { x: array(x, { shape: [n, dims] }), y: array(y) };
}

export interface SpiralsOptions extends SyntheticOptions {
  /** The number of arms, one per class (default 3). */
  readonly classes?: number;
  /** How many full turns each arm makes (default 1). */
  readonly turns?: number;
}

/**
 * Interleaved spiral arms, one per class (the CS231n toy problem): point i of an arm with m
 * points lies at radius r = (i + 1) / m and angle 2π·(turns·r + c / classes), plus noise.
 */
export function spirals(options: SpiralsOptions = {}): Classification {
  checkRecord('spirals', 'options', options);
  const { n = 300, classes = 3, turns = 1 } = options;
  checkOptions('spirals', options, n);
  if (!Number.isInteger(classes) || classes < 1) {
    throw new ValueError('spirals', `classes must be a positive integer, got ${describe(classes)}`);
  }
  if (typeof turns !== 'number' || !(turns > 0 && Number.isFinite(turns)))
    throw new ValueError('spirals', `turns must be > 0, got ${describe(turns)}`);
  const points: number[][] = [];
  const labels: number[] = [];
  evenSizes(n, classes).forEach((m, c) => {
    for (let i = 0; i < m; i++) {
      const r = (i + 1) / m;
      const angle = 2 * Math.PI * (turns * r + c / classes);
      points.push([r * Math.cos(angle), r * Math.sin(angle)]);
      labels.push(c);
    }
  });
  return finish({ points, labels }, keyFrom('spirals', options), options);
}

/** Two interleaving half circles (scikit-learn's `make_moons`): label 0 above, 1 below. */
export function moons(options: SyntheticOptions = {}): Classification {
  checkRecord('moons', 'options', options);
  const { n = 200 } = options;
  checkOptions('moons', options, n);
  const [outer, inner] = [Math.floor(n / 2), n - Math.floor(n / 2)];
  const points = [
    ...spaced(0, Math.PI, outer, outer - 1).map((t) => [Math.cos(t), Math.sin(t)]),
    ...spaced(0, Math.PI, inner, inner - 1).map((t) => [1 - Math.cos(t), 0.5 - Math.sin(t)]),
  ];
  const labels = [...Array<number>(outer).fill(0), ...Array<number>(inner).fill(1)];
  return finish({ points, labels }, keyFrom('moons', options), options);
}

export interface CirclesOptions extends SyntheticOptions {
  /** The inner circle's radius relative to the outer one's, in [0, 1) (default 0.8). */
  readonly factor?: number;
}

/** A circle inside another (scikit-learn's `make_circles`): label 0 outer, 1 inner. */
export function circles(options: CirclesOptions = {}): Classification {
  checkRecord('circles', 'options', options);
  const { n = 200, factor = 0.8 } = options;
  checkOptions('circles', options, n);
  if (typeof factor !== 'number' || !(factor >= 0 && factor < 1))
    throw new ValueError('circles', `factor must lie in [0, 1), got ${describe(factor)}`);
  const [outer, inner] = [Math.floor(n / 2), n - Math.floor(n / 2)];
  const ring = (count: number, radius: number) =>
    spaced(0, 2 * Math.PI, count, count).map((t) => [radius * Math.cos(t), radius * Math.sin(t)]);
  const points = [...ring(outer, 1), ...ring(inner, factor)];
  const labels = [...Array<number>(outer).fill(0), ...Array<number>(inner).fill(1)];
  return finish({ points, labels }, keyFrom('circles', options), options);
}

/** Options of `blobs`. */
export interface BlobsOptions extends Omit<SyntheticOptions, 'noise'> {
  /** The number of blobs (default 3), drawn uniformly in `box`, or their centres. */
  readonly centers?: number | readonly (readonly number[])[];
  /** Dimensions of each point when `centers` is a count (default 2). */
  readonly features?: number;
  /** The standard deviation of each blob (default 1). */
  readonly std?: number;
  /** The range the random centres are drawn from (default [-10, 10]). */
  readonly box?: readonly [number, number];
}

/** Isotropic Gaussian blobs (scikit-learn's `make_blobs`); label c is blob c. */
export function blobs(options: BlobsOptions = {}): Classification & { readonly centers: NDArray } {
  checkRecord('blobs', 'options', options);
  const { n = 300, centers = 3, features = 2, std = 1, box = [-10, 10] } = options;
  checkOptions('blobs', { ...options, noise: std }, n);
  const [centerKey, key] = random.split(keyFrom('blobs', options));
  let middles: number[][];
  if (typeof centers === 'number') {
    if (!Number.isInteger(centers) || centers < 1 || !Number.isInteger(features) || features < 1) {
      throw new ValueError(
        'blobs',
        `centers and features must be positive integers, got ${describe(centers)} and ${describe(features)}`,
      );
    }
    const coords = uniforms(centerKey, centers * features, box[0], box[1]);
    middles = Array.from({ length: centers }, (_, c) =>
      Array.from(coords.subarray(c * features, (c + 1) * features)),
    );
  } else {
    middles = centers.map((c) => [...c]);
    if (middles.length === 0 || middles.some((c) => c.length !== middles[0].length || c.length === 0)) {
      throw new ValueError('blobs', 'centers must be a non-empty list of equally long, non-empty points');
    }
  }
  const points: number[][] = [];
  const labels: number[] = [];
  evenSizes(n, middles.length).forEach((m, c) => {
    for (let i = 0; i < m; i++) {
      points.push(middles[c]);
      labels.push(c);
    }
  });
  const { x, y } = finish({ points, labels }, key, { ...options, noise: std });
  const dims = middles[0].length;
  return { x, y, centers: array(Float32Array.from(middles.flat()), { shape: [middles.length, dims] }) };
}

/** Points uniform in [-1, 1]², labelled 1 when exactly one coordinate is positive. */
export function xor(options: SyntheticOptions = {}): Classification {
  checkRecord('xor', 'options', options);
  const { n = 200 } = options;
  checkOptions('xor', options, n);
  const [pointKey, key] = random.split(keyFrom('xor', options));
  const coords = uniforms(pointKey, 2 * n, -1, 1);
  const points = Array.from({ length: n }, (_, i) => [coords[2 * i], coords[2 * i + 1]]);
  const labels = points.map(([a, b]) => (a > 0 !== b > 0 ? 1 : 0));
  return finish({ points, labels }, key, { ...options, shuffle: false });
}

/** Options of `sineRegression`: y = amplitude · sin(frequency · x + phase) + noise. */
export interface SineRegressionOptions extends Omit<SyntheticOptions, 'shuffle'> {
  /** The input range (default [-π, π]). */
  readonly range?: readonly [number, number];
  /** The amplitude (default 1). */
  readonly amplitude?: number;
  /** The angular frequency (default 1). */
  readonly frequency?: number;
  /** The phase in radians (default 0). */
  readonly phase?: number;
}

/** x uniform in `range`, y = amplitude · sin(frequency · x + phase) + noise; both [n, 1] float32. */
export function sineRegression(options: SineRegressionOptions = {}): Regression {
  checkRecord('sineRegression', 'options', options);
  const { n = 200, range = [-Math.PI, Math.PI], amplitude = 1, frequency = 1, phase = 0 } = options;
  checkOptions('sineRegression', options, n);
  const noise = options.noise ?? 0;
  const [inputKey, noiseKey] = random.split(keyFrom('sineRegression', options));
  const inputs = uniforms(inputKey, n, range[0], range[1]);
  const jitter = noise > 0 ? standardNormals(noiseKey, n) : new Float64Array(n);
  const targets = inputs.map((v, i) => amplitude * Math.sin(frequency * v + phase) + noise * jitter[i]);
  return {
    x: array(Float32Array.from(inputs), { shape: [n, 1] }),
    y: array(Float32Array.from(targets), { shape: [n, 1] }),
  };
}
