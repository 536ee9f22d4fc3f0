import type { Tensor } from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';
import { checkTensor, integerList } from './validate.js';

// Initializers, PyTorch's `nn.init`, each filling a tensor in place from a PRNG key. Without an
// explicit key they draw from a default generator that `manualSeed` resets, so whole models
// are reproducible under one seed (like `torch.manual_seed`).

let generator = new T.random.Generator(0);

/** Resets the default generator used by initializers and layer constructors. */
export function manualSeed(seed: number): void {
  generator = new T.random.Generator(seed);
}

/**
 * The next key of the default generator (for layers that need randomness). Refused while a
 * function is traced for `jit`: the plan would replay the one key drawn at trace time, so a
 * layer's random draws (dropout) must take their key from the compiled function's arguments.
 */
export function nextKey(): T.random.PRNGKey {
  if (T.isTracingBackend(T.getBackend())) {
    throw new T.ValueError(
      'nextKey',
      'a compiled function cannot draw from the default generator (the plan would replay one mask): ' +
        'pass a PRNG key to the compiled function and give it to the layer (e.g. dropout.forward(x, { key }))',
    );
  }
  return generator.next();
}

/** Options of the random initializers. */
export interface InitOptions {
  /** The PRNG key to draw from; the default generator (`manualSeed`) otherwise. */
  readonly key?: T.random.PRNGKey;
}

function fill(tensor: Tensor, value: T.NDArray): Tensor {
  return tensor.assign(T.cast(value, tensor.dtype));
}

/** fan_in and fan_out as PyTorch computes them ([out, in, ...kernel]). */
export function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  const dims = integerList('fans', 'shape', shape);
  if (typeof shape === 'number' || dims.length < 2)
    throw new T.ValueError('init', `fan in/out need at least 2 dimensions, got [${dims.join(',')}]`);
  const receptive = dims.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: dims[1] * receptive, fanOut: dims[0] * receptive };
}

// As in torch, initializing a zero-element tensor does nothing (its fan may be 0 and a bound
// infinite), and U(a, a) or N(μ, 0) is the constant.

/** Fills `tensor` in place with draws from U(low, high); returns it. */
export function uniform(tensor: Tensor, low = 0, high = 1, options: InitOptions = {}): Tensor {
  checkTensor('uniform', 'tensor', tensor);
  T.checkOptions('uniform', options);
  if (tensor.size === 0) return tensor;
  if (low === high) return constant(tensor, low);
  const dtype = tensor.dtype === 'float64' ? 'float64' : 'float32';
  return fill(tensor, T.random.uniform(options.key ?? nextKey(), tensor.shape, { low, high, dtype }));
}

/** Fills `tensor` in place with draws from N(mean, std²); returns it. */
export function normal(tensor: Tensor, mean = 0, std = 1, options: InitOptions = {}): Tensor {
  checkTensor('normal', 'tensor', tensor);
  T.checkOptions('normal', options);
  if (tensor.size === 0) return tensor;
  if (std === 0) return constant(tensor, mean);
  const dtype = tensor.dtype === 'float64' ? 'float64' : 'float32';
  return fill(tensor, T.random.normal(options.key ?? nextKey(), tensor.shape, { mean, std, dtype }));
}

/** Fills `tensor` in place with `value`; returns it. */
export function constant(tensor: Tensor, value: number): Tensor {
  checkTensor('constant', 'tensor', tensor);
  return fill(tensor, T.full(tensor.shape, value, { dtype: tensor.dtype }));
}

/** Fills `tensor` in place with zeros; returns it. */
export const zeros = (tensor: Tensor) => constant(tensor, 0);
/** Fills `tensor` in place with ones; returns it. */
export const ones = (tensor: Tensor) => constant(tensor, 1);

/** The recommended gain for a nonlinearity (`torch.nn.init.calculate_gain`). */
export function calculateGain(
  nonlinearity: 'linear' | 'sigmoid' | 'tanh' | 'relu' | 'leakyRelu' | 'selu',
  param = 0.01,
): number {
  switch (nonlinearity) {
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leakyRelu':
      return Math.sqrt(2 / (1 + param * param));
    case 'selu':
      return 3 / 4;
    default:
      return 1;
  }
}

/** Glorot uniform: U(−b, b) with b = gain · √(6 / (fanIn + fanOut)), in place; returns `tensor`. */
export function xavierUniform(tensor: Tensor, options: InitOptions & { gain?: number } = {}): Tensor {
  checkTensor('xavierUniform', 'tensor', tensor);
  T.checkOptions('xavierUniform', options);
  const { fanIn, fanOut } = fans(tensor.shape);
  const bound = (options.gain ?? 1) * Math.sqrt(6 / (fanIn + fanOut));
  return uniform(tensor, -bound, bound, options);
}

/** Glorot normal: N(0, std²) with std = gain · √(2 / (fanIn + fanOut)), in place; returns `tensor`. */
export function xavierNormal(tensor: Tensor, options: InitOptions & { gain?: number } = {}): Tensor {
  checkTensor('xavierNormal', 'tensor', tensor);
  T.checkOptions('xavierNormal', options);
  const { fanIn, fanOut } = fans(tensor.shape);
  return normal(tensor, 0, (options.gain ?? 1) * Math.sqrt(2 / (fanIn + fanOut)), options);
}

/** Options of `kaimingUniform` and `kaimingNormal`. */
export interface KaimingOptions extends InitOptions {
  /** The negative slope of the rectifier after this layer (0 for relu). */
  readonly a?: number;
  /** Preserve the variance of the activations (`'fanIn'`, default) or of the gradients (`'fanOut'`). */
  readonly mode?: 'fanIn' | 'fanOut';
  /** The nonlinearity whose gain scales the std (default `'leakyRelu'` with slope `a`). */
  readonly nonlinearity?: 'relu' | 'leakyRelu' | 'linear' | 'tanh' | 'sigmoid' | 'selu';
}

function kaimingStd(tensor: Tensor, options: KaimingOptions): number {
  const { fanIn, fanOut } = fans(tensor.shape);
  const fan = options.mode === 'fanOut' ? fanOut : fanIn;
  return calculateGain(options.nonlinearity ?? 'leakyRelu', options.a ?? 0) / Math.sqrt(fan);
}

/** He uniform: U(−b, b) with b = √3 · gain / √fan, in place; returns `tensor`. */
export function kaimingUniform(tensor: Tensor, options: KaimingOptions = {}): Tensor {
  checkTensor('kaimingUniform', 'tensor', tensor);
  T.checkOptions('kaimingUniform', options);
  const bound = Math.sqrt(3) * kaimingStd(tensor, options);
  return uniform(tensor, -bound, bound, options);
}

/** He normal: N(0, std²) with std = gain / √fan, in place; returns `tensor`. */
export function kaimingNormal(tensor: Tensor, options: KaimingOptions = {}): Tensor {
  checkTensor('kaimingNormal', 'tensor', tensor);
  T.checkOptions('kaimingNormal', options);
  return normal(tensor, 0, kaimingStd(tensor, options), options);
}

/**
 * A (semi-)orthogonal matrix (rows or columns orthonormal), from the QR decomposition of a
 * Gaussian matrix with the signs of R's diagonal folded in, as `torch.nn.init.orthogonal_`.
 * Dimensions after the first are flattened.
 */
export function orthogonal(tensor: Tensor, options: InitOptions & { gain?: number } = {}): Tensor {
  checkTensor('orthogonal', 'tensor', tensor);
  T.checkOptions('orthogonal', options);
  if (tensor.ndim < 2)
    throw new T.ValueError('orthogonal', `needs at least 2 dimensions, got [${tensor.shape.join(',')}]`);
  if (tensor.size === 0) return tensor;
  const rows = tensor.shape[0];
  const cols = tensor.size / rows;
  const tall = rows >= cols;
  const [m, n] = tall ? [rows, cols] : [cols, rows];
  const a = T.random
    .normal(options.key ?? nextKey(), [m, n], { dtype: 'float64' })
    .toTypedArray() as Float64Array;
  const q = gramSchmidt(a, m, n);
  const gain = options.gain ?? 1;
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      if (tall) out[i * cols + j] = gain * q[i * n + j];
      else out[j * cols + i] = gain * q[i * n + j];
    }
  }
  return fill(tensor, T.array(out, { shape: tensor.shape }));
}

/** Orthonormalizes the n columns of an m×n matrix (m ≥ n), keeping each column's direction (R's diagonal > 0). */
function gramSchmidt(a: Float64Array, m: number, n: number): Float64Array {
  const q = Float64Array.from(a);
  for (let j = 0; j < n; j++) {
    for (let pass = 0; pass < 2; pass++) {
      for (let k = 0; k < j; k++) {
        let dot = 0;
        for (let i = 0; i < m; i++) dot += q[i * n + k] * q[i * n + j];
        for (let i = 0; i < m; i++) q[i * n + j] -= dot * q[i * n + k];
      }
    }
    let norm = 0;
    for (let i = 0; i < m; i++) norm += q[i * n + j] ** 2;
    norm = Math.sqrt(norm);
    for (let i = 0; i < m; i++) q[i * n + j] /= norm;
  }
  return q;
}
