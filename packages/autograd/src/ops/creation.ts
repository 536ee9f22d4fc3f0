import * as T from '@tsgrad/tensor';
import { checkOptions } from '@tsgrad/tensor';
import { checkTensor } from '../check.js';
import { Tensor } from '../tensor.js';
import { full } from './convert.js';

// Creating tensors: the @tsgrad/tensor constructors, wrapped as leaf Tensors. `requiresGrad`
// makes a trainable leaf (float dtypes only).

export interface TensorOptions {
  readonly dtype?: T.DType;
  readonly requiresGrad?: boolean;
}

function leaf(value: T.NDArray, options: TensorOptions): Tensor {
  T.checkOptions('tensor', options);
  const t = new Tensor(value);
  if (options.requiresGrad) t.requiresGrad = true;
  return t;
}

/** A tensor from nested arrays, a typed array (with `shape`) or a scalar, like `torch.tensor`. */
export function tensor(
  values: T.NestedArray | T.TypedArray | T.NDArray,
  options: TensorOptions & { shape?: T.Shape } = {},
): Tensor {
  checkOptions('tensor', options);
  if (values instanceof T.NDArray)
    return leaf(options.dtype ? T.cast(values, options.dtype) : values, options);
  return leaf(T.array(values, options), options);
}

export const zeros = (shape: T.Shape, options: TensorOptions = {}) => leaf(T.zeros(shape, options), options);
export const ones = (shape: T.Shape, options: TensorOptions = {}) => leaf(T.ones(shape, options), options);
export function zerosLike(x: Tensor, options: TensorOptions = {}): Tensor {
  checkTensor('zerosLike', x);
  return zeros(x.shape, { dtype: x.dtype, ...checkOptions('zerosLike', options) });
}
export function onesLike(x: Tensor, options: TensorOptions = {}): Tensor {
  checkTensor('onesLike', x);
  return ones(x.shape, { dtype: x.dtype, ...checkOptions('onesLike', options) });
}
export function fullLike(x: Tensor, value: number, options: TensorOptions = {}): Tensor {
  checkTensor('fullLike', x);
  return full(x.shape, value, { dtype: x.dtype, ...checkOptions('fullLike', options) });
}
export const arange = (start: number, stop?: number, step = 1, options: TensorOptions = {}) =>
  leaf(T.arange(start, stop, step, options), options);
export const linspace = (start: number, stop: number, num: number, options: TensorOptions = {}) =>
  leaf(T.linspace(start, stop, num, options), options);
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
