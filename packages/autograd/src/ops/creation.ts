import * as T from '@tsgrad/tensor';
import { checkOptions } from '@tsgrad/tensor';
import { checkTensor } from '../check.js';
import { Tensor } from '../tensor.js';
import { full } from './convert.js';

// Creating tensors: the @tsgrad/tensor constructors, wrapped as leaf Tensors. `requiresGrad`
// makes a trainable leaf (float dtypes only).

/** Options of the tensor constructors. */
export interface TensorOptions {
  /** The dtype (default float32, or inferred from the data by `tensor`). */
  readonly dtype?: T.DType;
  /** Make the tensor a leaf that records gradients in `.grad` (default false). */
  readonly requiresGrad?: boolean;
}

function leaf(value: T.NDArray, options: TensorOptions): Tensor {
  T.checkOptions('tensor', options);
  const t = new Tensor(value);
  if (options.requiresGrad) t.requiresGrad = true;
  return t;
}

/**
 * A tensor from nested arrays, a typed array (with `shape`) or a scalar, like `torch.tensor`.
 *
 * @example
 * ```ts
 * const x = tensor([[1, 2], [3, 4]], { requiresGrad: true });
 * x.matmul(x).tanh().sum().backward();
 * x.grad; // the gradient, shape [2, 2]
 * const labels = tensor([0, 2, 1], { dtype: 'int32' });
 * ```
 */
export function tensor(
  values: T.NestedArray | T.TypedArray | T.NDArray,
  options: TensorOptions & { shape?: T.Shape } = {},
): Tensor {
  checkOptions('tensor', options);
  if (values instanceof T.NDArray)
    return leaf(options.dtype ? T.cast(values, options.dtype) : values, options);
  return leaf(T.array(values, options), options);
}

/** A tensor of `shape` filled with zeros (float32 unless `options.dtype`). */
export const zeros = (shape: T.Shape, options: TensorOptions = {}) => leaf(T.zeros(shape, options), options);
/** A tensor of `shape` filled with ones (float32 unless `options.dtype`). */
export const ones = (shape: T.Shape, options: TensorOptions = {}) => leaf(T.ones(shape, options), options);
/** Zeros with the shape and (unless `options.dtype`) the dtype of `x`. */
export function zerosLike(x: Tensor, options: TensorOptions = {}): Tensor {
  checkTensor('zerosLike', x);
  return zeros(x.shape, { dtype: x.dtype, ...checkOptions('zerosLike', options) });
}
/** Ones with the shape and (unless `options.dtype`) the dtype of `x`. */
export function onesLike(x: Tensor, options: TensorOptions = {}): Tensor {
  checkTensor('onesLike', x);
  return ones(x.shape, { dtype: x.dtype, ...checkOptions('onesLike', options) });
}
/** `value` everywhere, with the shape and (unless `options.dtype`) the dtype of `x`. */
export function fullLike(x: Tensor, value: number, options: TensorOptions = {}): Tensor {
  checkTensor('fullLike', x);
  return full(x.shape, value, { dtype: x.dtype, ...checkOptions('fullLike', options) });
}
/** The values `start, start + step, …` below `stop` (`arange(n)` is `0 … n − 1`), like `torch.arange`. */
export const arange = (start: number, stop?: number, step = 1, options: TensorOptions = {}) =>
  leaf(T.arange(start, stop, step, options), options);
/** `num` evenly spaced values from `start` to `stop`, both included. */
export const linspace = (start: number, stop: number, num: number, options: TensorOptions = {}) =>
  leaf(T.linspace(start, stop, num, options), options);
/**
 * An `n × m` matrix with ones on the `k`-th diagonal (0: the main one; positive: above it) and zeros
 * elsewhere.
 */
export const eye = (n: number, m = n, k = 0, options: TensorOptions = {}) =>
  leaf(T.eye(n, m, k, options), options);

/** Standard normal values from a PRNG key (`T.random.key(seed)`), like `torch.randn`. */
export const randn = (key: T.random.PRNGKey, shape: T.Shape, options: TensorOptions = {}) =>
  leaf(
    T.random.normal(key, shape, {
      dtype: T.checkOptions('randn', options).dtype === 'float64' ? 'float64' : 'float32',
    }),
    options,
  );

/** Uniform values in [0, 1) from a PRNG key, like `torch.rand`. */
export const rand = (key: T.random.PRNGKey, shape: T.Shape, options: TensorOptions = {}) =>
  leaf(
    T.random.uniform(key, shape, {
      dtype: T.checkOptions('rand', options).dtype === 'float64' ? 'float64' : 'float32',
    }),
    options,
  );
