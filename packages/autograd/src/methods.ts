import { backward } from './engine.js';
import * as F from './ops/index.js';
import { type BackwardOptions, Tensor, type TensorLike } from './tensor.js';

// The Tensor methods that call ops or the tape. tensor.ts sits below the ops (they create
// tensors), so these are declared here, once, and attached by index.ts.

/** The chaining methods: `x.add(y)` is `add(x, y)`, the op function with this tensor first. */
const chaining = {
  add: F.add,
  sub: F.sub,
  mul: F.mul,
  div: F.div,
  pow: F.pow,
  mod: F.mod,
  maximum: F.maximum,
  minimum: F.minimum,
  eq: F.eq,
  ne: F.ne,
  lt: F.lt,
  le: F.le,
  gt: F.gt,
  ge: F.ge,
  neg: F.neg,
  abs: F.abs,
  sign: F.sign,
  exp: F.exp,
  log: F.log,
  log1p: F.log1p,
  expm1: F.expm1,
  sin: F.sin,
  cos: F.cos,
  tanh: F.tanh,
  sqrt: F.sqrt,
  rsqrt: F.rsqrt,
  square: F.square,
  reciprocal: F.reciprocal,
  erf: F.erf,
  floor: F.floor,
  ceil: F.ceil,
  round: F.round,
  relu: F.relu,
  sigmoid: F.sigmoid,
  clamp: F.clamp,
  softmax: F.softmax,
  logSoftmax: F.logSoftmax,
  sum: F.sum,
  mean: F.mean,
  prod: F.prod,
  max: F.max,
  min: F.min,
  argmax: F.argmax,
  argmin: F.argmin,
  var: F.variance,
  std: F.std,
  norm: F.norm,
  logsumexp: F.logsumexp,
  cumsum: F.cumsum,
  cumprod: F.cumprod,
  matmul: F.matmul,
  reshape: F.reshape,
  permute: F.permute,
  transpose: F.transpose,
  expand: F.expand,
  broadcastTo: F.broadcastTo,
  squeeze: F.squeeze,
  unsqueeze: F.unsqueeze,
  flatten: F.flatten,
  slice: F.slice,
  flip: F.flip,
  gather: F.gather,
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
