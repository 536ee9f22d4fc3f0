import { backward } from './engine.js';
import * as F from './ops/index.js';
import { type BackwardOptions, Tensor, type TensorLike } from './tensor.js';

// The Tensor methods that call ops or the tape. tensor.ts sits below the ops (they create
// tensors), so these are declared here, once, and attached by index.ts.

/** The chaining methods: `x.add(y)` is `add(x, y)`, the op function with this tensor first. */
const chaining = {
  /** Adds a tensor or number (broadcasting): {@link F.add} with this tensor first. */
  add: F.add,
  /** Subtracts a tensor or number (broadcasting): {@link F.sub} with this tensor first. */
  sub: F.sub,
  /** Multiplies elementwise (broadcasting): {@link F.mul} with this tensor first. */
  mul: F.mul,
  /** Divides (broadcasting; true division): {@link F.div} with this tensor first. */
  div: F.div,
  /** Raises to a power, elementwise: {@link F.pow} with this tensor first. */
  pow: F.pow,
  /** Floored modulo (the result has the divisor's sign): {@link F.mod} with this tensor first. */
  mod: F.mod,
  /** Elementwise maximum: {@link F.maximum} with this tensor first. */
  maximum: F.maximum,
  /** Elementwise minimum: {@link F.minimum} with this tensor first. */
  minimum: F.minimum,
  /** Elementwise `==` (a bool tensor): {@link F.eq} with this tensor first. */
  eq: F.eq,
  /** Elementwise `≠` (a bool tensor): {@link F.ne} with this tensor first. */
  ne: F.ne,
  /** Elementwise `<` (a bool tensor): {@link F.lt} with this tensor first. */
  lt: F.lt,
  /** Elementwise `≤` (a bool tensor): {@link F.le} with this tensor first. */
  le: F.le,
  /** Elementwise `>` (a bool tensor): {@link F.gt} with this tensor first. */
  gt: F.gt,
  /** Elementwise `≥` (a bool tensor): {@link F.ge} with this tensor first. */
  ge: F.ge,
  /** Negation, −x: {@link F.neg} with this tensor first. */
  neg: F.neg,
  /** Absolute value: {@link F.abs} with this tensor first. */
  abs: F.abs,
  /** Sign: −1, 0 or 1: {@link F.sign} with this tensor first. */
  sign: F.sign,
  /** eˣ, elementwise: {@link F.exp} with this tensor first. */
  exp: F.exp,
  /** Natural logarithm, elementwise: {@link F.log} with this tensor first. */
  log: F.log,
  /** log(1 + x), accurate for small x: {@link F.log1p} with this tensor first. */
  log1p: F.log1p,
  /** eˣ − 1, accurate for small x: {@link F.expm1} with this tensor first. */
  expm1: F.expm1,
  /** Sine, elementwise: {@link F.sin} with this tensor first. */
  sin: F.sin,
  /** Cosine, elementwise: {@link F.cos} with this tensor first. */
  cos: F.cos,
  /** Hyperbolic tangent, elementwise: {@link F.tanh} with this tensor first. */
  tanh: F.tanh,
  /** Square root, elementwise: {@link F.sqrt} with this tensor first. */
  sqrt: F.sqrt,
  /** 1 / √x, elementwise: {@link F.rsqrt} with this tensor first. */
  rsqrt: F.rsqrt,
  /** x², elementwise: {@link F.square} with this tensor first. */
  square: F.square,
  /** 1 / x, elementwise: {@link F.reciprocal} with this tensor first. */
  reciprocal: F.reciprocal,
  /** The Gauss error function, elementwise: {@link F.erf} with this tensor first. */
  erf: F.erf,
  /** Rounds down (zero gradient): {@link F.floor} with this tensor first. */
  floor: F.floor,
  /** Rounds up (zero gradient): {@link F.ceil} with this tensor first. */
  ceil: F.ceil,
  /** Rounds half to even (zero gradient): {@link F.round} with this tensor first. */
  round: F.round,
  /** max(x, 0): {@link F.relu} with this tensor first. */
  relu: F.relu,
  /** The logistic function 1 / (1 + e⁻ˣ): {@link F.sigmoid} with this tensor first. */
  sigmoid: F.sigmoid,
  /** Clamps into `[min, max]`: {@link F.clamp} with this tensor first. */
  clamp: F.clamp,
  /** Softmax along an axis: {@link F.softmax} with this tensor first. */
  softmax: F.softmax,
  /** Log-softmax along an axis (numerically stable): {@link F.logSoftmax} with this tensor first. */
  logSoftmax: F.logSoftmax,
  /** Sum over axes (all by default): {@link F.sum} with this tensor first. */
  sum: F.sum,
  /** Mean over axes (all by default): {@link F.mean} with this tensor first. */
  mean: F.mean,
  /** Product over axes (all by default): {@link F.prod} with this tensor first. */
  prod: F.prod,
  /** Maximum over axes (all by default): {@link F.max} with this tensor first. */
  max: F.max,
  /** Minimum over axes (all by default): {@link F.min} with this tensor first. */
  min: F.min,
  /**
   * The int32 index of the maximum along an axis (or of the flattened tensor): {@link F.argmax} with this
   * tensor first.
   */
  argmax: F.argmax,
  /**
   * The int32 index of the minimum along an axis (or of the flattened tensor): {@link F.argmin} with this
   * tensor first.
   */
  argmin: F.argmin,
  /** Variance over axes (Bessel-corrected by default): {@link F.variance} with this tensor first. */
  var: F.variance,
  /** Standard deviation over axes (Bessel-corrected by default): {@link F.std} with this tensor first. */
  std: F.std,
  /** The vector norm over axes (2-norm by default): {@link F.norm} with this tensor first. */
  norm: F.norm,
  /** log Σ eˣ over axes, computed stably: {@link F.logsumexp} with this tensor first. */
  logsumexp: F.logsumexp,
  /** Running sum along an axis: {@link F.cumsum} with this tensor first. */
  cumsum: F.cumsum,
  /** Running product along an axis: {@link F.cumprod} with this tensor first. */
  cumprod: F.cumprod,
  /** Matrix product (batched, broadcasting the batch axes): {@link F.matmul} with this tensor first. */
  matmul: F.matmul,
  /**
   * A view with another shape of the same size (one size may be −1): {@link F.reshape} with this tensor
   * first.
   */
  reshape: F.reshape,
  /** Reorders the axes: {@link F.permute} with this tensor first. */
  permute: F.permute,
  /** Swaps two axes (the last two by default): {@link F.transpose} with this tensor first. */
  transpose: F.transpose,
  /** Broadcasts size-1 axes to a larger shape, without copying: {@link F.expand} with this tensor first. */
  expand: F.expand,
  /** Broadcasts to a shape, without copying: {@link F.broadcastTo} with this tensor first. */
  broadcastTo: F.broadcastTo,
  /** Removes size-1 axes (all, or the given ones): {@link F.squeeze} with this tensor first. */
  squeeze: F.squeeze,
  /** Inserts a size-1 axis: {@link F.unsqueeze} with this tensor first. */
  unsqueeze: F.unsqueeze,
  /** Merges a range of axes into one (all by default): {@link F.flatten} with this tensor first. */
  flatten: F.flatten,
  /** A view of a range along each axis: {@link F.slice} with this tensor first. */
  slice: F.slice,
  /** Reverses the order along the given axes: {@link F.flip} with this tensor first. */
  flip: F.flip,
  /**
   * Picks values along an axis at given positions (take_along_axis): {@link F.gather} with this tensor
   * first.
   */
  gather: F.gather,
  /** Selects entries along an axis by index: {@link F.indexSelect} with this tensor first. */
  indexSelect: F.indexSelect,
  /** Converts to another dtype (differentiable between float dtypes). */
  to: F.cast,
};

type Chaining = typeof chaining;
/**
 * The types the inferred type of `chaining` names. Exported so that the declaration file
 * imports them: without it, dist/methods.d.ts names Tensor and TensorLike unimported, which
 * a consumer's `tsc` without skipLibCheck rejects (packaging.test.ts).
 */
export type ChainingTypes = [Tensor, TensorLike];
/** The parameters of an op function after its first (the tensor a method is called on). */
type Rest<Fn> = Fn extends (first: never, ...rest: infer R) => unknown ? R : never;

/** The chaining methods as they appear on a tensor. */
export type TensorMethods = {
  [K in keyof Chaining]: (...args: Rest<Chaining[K]>) => ReturnType<Chaining[K]>;
};

declare module './tensor.js' {
  interface Tensor extends TensorMethods {
    /**
     * Computes gradients of this tensor with respect to every leaf that requires grad and adds
     * them to the leaves' `.grad`. `gradOutput` defaults to 1 for a single-element tensor.
     */
    backward(gradOutput?: Tensor, options?: BackwardOptions): void;
    /** Keeps the gradient of a non-leaf tensor in `.grad` after backward (like PyTorch). */
    retainGrad(): void;
  }
}

type Method = (this: Tensor, ...args: never[]) => unknown;

const methods: Record<string, Method> = {
  backward(gradOutput?: Tensor, options: BackwardOptions = {}) {
    backward([this], [gradOutput], options);
  },
  retainGrad() {
    if (this.node === null) return;
    this.registerHook((g) => {
      this.grad = this.grad === null ? g : F.add(this.grad, g);
      return undefined;
    });
  },
};
for (const [name, op] of Object.entries(chaining)) {
  const apply = op as (x: Tensor, ...args: unknown[]) => unknown;
  methods[name] = function (this: Tensor, ...args: unknown[]) {
    return apply(this, ...args);
  };
}

/** Puts the methods on Tensor.prototype (index.ts does, once), not enumerable like the class's own. */
export function attachTensorMethods(): void {
  for (const [name, method] of Object.entries(methods)) {
    Object.defineProperty(Tensor.prototype, name, { value: method, writable: true, configurable: true });
  }
}
