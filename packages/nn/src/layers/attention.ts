import * as A from '@tsgrad/autograd';
import { inLibrary, type Tensor } from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';
import { nextKey, xavierUniform } from '../init.js';
import { Module, markBuiltIn, Parameter } from '../module.js';
import { checkTensor } from '../validate.js';
import { type LayerOptions, Linear } from './linear.js';

/**
 * The masks of one attention call, already combined: `blocked` (true = may not attend) and
 * an additive float bias, both broadcastable against the scores [..., L, S].
 */
interface Masks {
  readonly blocked?: T.NDArray;
  readonly additive?: Tensor;
}

function combineBlocked(a: T.NDArray | undefined, b: T.NDArray | undefined): T.NDArray | undefined {
  return a && b ? T.logicalOr(a, b) : (a ?? b);
}

/** Top-left aligned causal mask [L, S]: query i may not see key j > i (as PyTorch's is_causal). */
function causalBlock(targetLength: number, sourceLength: number): T.NDArray {
  return T.triu(T.ones([targetLength, sourceLength], { dtype: 'bool' }), 1);
}

/**
 * softmax(q kᵀ · scale + masks) v, returning the output and the attention weights.
 *
 * Masked scores become −∞ through `where`, so their gradient is exactly zero rather than
 * 0·∞. A query row whose keys are all masked would give 0/0 = NaN in a plain softmax (and
 * the NaN would spread to every parameter in the backward pass); such rows get all-zero
 * weights and a zero output instead, and pass no gradient.
 */
function attend(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  masks: Masks,
  dropout: { p: number; key?: T.random.PRNGKey },
  scale = 1 / Math.sqrt(q.shape[q.ndim - 1]),
): { output: Tensor; weights: Tensor } {
  let scores = A.mul(A.matmul(q, A.transpose(k, -2, -1)), scale);
  if (masks.additive) scores = A.add(scores, masks.additive);
  if (masks.blocked) scores = A.where(A.constant(masks.blocked), -Infinity, scores);
  const rowMax = T.max(scores.peekValue(), { axis: -1, keepdims: true });
  const dead = T.eq(rowMax, -Infinity);
  // While traced, the dead-row-safe form (equal to softmax on live rows) serves every call.
  const anyDead = T.isTraced(dead) || (T.max(T.cast(dead, 'int32')).item() as number) > 0;
  let weights: Tensor;
  if (anyDead) {
    const deadRows = A.constant(dead);
    weights = A.where(deadRows, 0, A.softmax(A.where(deadRows, 0, scores), -1));
  } else {
    weights = A.softmax(scores, -1);
  }
  if (dropout.p > 0) {
    if (!dropout.key) throw new T.ValueError('scaledDotProductAttention', 'dropoutP > 0 needs a PRNG key');
    weights = A.dropout(weights, { p: dropout.p, key: dropout.key });
  }
  return { output: A.matmul(weights, v), weights };
}

/** Options of `scaledDotProductAttention`. */
export interface ScaledDotProductAttentionOptions {
  /**
   * Broadcastable to [..., L, S]. As in PyTorch's `scaled_dot_product_attention`, a **bool**
   * mask says which positions *take part* (true = attend, false = masked); a float mask is
   * added to the scores. (MultiheadAttention's bool masks mean the opposite, as in PyTorch.)
   */
  readonly attnMask?: Tensor;
  /** Each query i attends only to keys j ≤ i (top-left aligned); not combinable with attnMask. */
  readonly isCausal?: boolean;
  /** Dropout on the attention weights (default 0); needs `key` when positive. */
  readonly dropoutP?: number;
  /** The key of the attention dropout (required when `dropoutP` > 0). */
  readonly key?: T.random.PRNGKey;
  /** Multiplies q kᵀ (default 1/√E, E the query's last dimension). */
  readonly scale?: number;
}

/**
 * softmax(q kᵀ/√E + mask) v for q [..., L, E], k [..., S, E], v [..., S, Ev] → [..., L, Ev]
 * (PyTorch's `F.scaled_dot_product_attention`). Composed of differentiable ops. A query whose
 * keys are all masked gets a zero output (not NaN) and passes no gradient.
 */
export function scaledDotProductAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  options: ScaledDotProductAttentionOptions = {},
): Tensor {
  for (const [name, x] of [
    ['q', q],
    ['k', k],
    ['v', v],
  ] as const)
    checkTensor('scaledDotProductAttention', name, x);
  T.checkOptions('scaledDotProductAttention', options);
  return inLibrary(() => {
    const op = 'scaledDotProductAttention';
    const [L, E] = q.shape.slice(-2);
    const [S, Ek] = k.shape.slice(-2);
    if (q.ndim < 2 || k.ndim < 2 || v.ndim < 2 || Ek !== E || v.shape[v.ndim - 2] !== S) {
      throw new T.ShapeError(
        op,
        `expected q [..., L, E], k [..., S, E], v [..., S, Ev], got ${T.formatShape(q.shape)}, ${T.formatShape(k.shape)}, ${T.formatShape(v.shape)}`,
      );
    }
    const { attnMask, isCausal = false } = options;
    if (attnMask && isCausal) throw new T.ValueError(op, 'pass either attnMask or isCausal, not both');
    let masks: Masks = {};
    if (isCausal) masks = { blocked: causalBlock(L, S) };
    else if (attnMask?.dtype === 'bool') masks = { blocked: T.logicalNot(attnMask.peekValue()) };
    else if (attnMask) masks = { additive: attnMask };
    return attend(q, k, v, masks, { p: options.dropoutP ?? 0, key: options.key }, options.scale).output;
  });
}

/** Options of the `MultiheadAttention` constructor. */
export interface MultiheadAttentionOptions extends LayerOptions {
  /** Dropout on the attention weights, in training mode only (default 0). */
  readonly dropout?: number;
  /** Biases on the input and output projections (default true). */
  readonly bias?: boolean;
  /** Inputs and output as [batch, seq, feature] instead of [seq, batch, feature] (default false). */
  readonly batchFirst?: boolean;
  /** Feature size of `key` (default embedDim). */
  readonly kdim?: number;
  /** Feature size of `value` (default embedDim). */
  readonly vdim?: number;
}

/** Options of `MultiheadAttention.forward`. */
export interface MultiheadAttentionForwardOptions {
  /** [N, S] (or [S] unbatched): bool with true = ignore this key, or float added to the scores. */
  readonly keyPaddingMask?: Tensor;
  /** [L, S] or [N·numHeads, L, S]: bool with true = may not attend, or float added to the scores. */
  readonly attnMask?: Tensor;
  /** Return the attention weights (default true). */
  readonly needWeights?: boolean;
  /** Average the returned weights over heads (default true): [N, L, S], else [N, numHeads, L, S]. */
  readonly averageAttnWeights?: boolean;
  /** Adds the causal mask (query i sees keys j ≤ i); PyTorch treats it as a hint for attnMask. */
  readonly isCausal?: boolean;
  /** The key of this call's attention dropout; the default generator (`manualSeed`) otherwise. */
  readonly key?: T.random.PRNGKey;
}

/**
 * Multi-head attention (PyTorch's `nn.MultiheadAttention`): project query, key and value,
 * attend in `numHeads` heads of size embedDim/numHeads, concatenate and project back. The
 * parameters are named as in PyTorch: `in_proj_weight` [3E, E] and `in_proj_bias` [3E] (or
 * `q_proj_weight`, `k_proj_weight`, `v_proj_weight` when kdim or vdim differ from E) and the
 * Linear `out_proj`. A query that may attend to no key at all (every key padded or masked)
 * gets zero attention weights, so its output is `out_proj.bias`, where a plain softmax would
 * give NaN; the gradients of the other queries are unaffected.
 */
export class MultiheadAttention extends Module {
  /** The packed query, key and value projections [3E, E]; null when kdim or vdim differ from E. */
  readonly in_proj_weight: Parameter | null;
  /** The query projection [E, E] when kdim or vdim differ from E; null otherwise. */
  readonly q_proj_weight: Parameter | null;
  /** The key projection [E, kdim] when kdim or vdim differ from E; null otherwise. */
  readonly k_proj_weight: Parameter | null;
  /** The value projection [E, vdim] when kdim or vdim differ from E; null otherwise. */
  readonly v_proj_weight: Parameter | null;
  /** The bias of the three input projections [3E]; null without bias. */
  readonly in_proj_bias: Parameter | null;
  /** The output projection, E → E. */
  readonly out_proj: Linear;
  /** The feature size of `key`. */
  readonly kdim: number;
  /** The feature size of `value`. */
  readonly vdim: number;
  /** The size of each head, embedDim / numHeads. */
  readonly headDim: number;
  /** The dropout probability on the attention weights (training mode). */
  readonly dropout: number;
  /** Whether inputs and outputs are [batch, seq, feature]. */
  readonly batchFirst: boolean;

  constructor(
    /** E, the model's feature size (of the query and the output). */
    readonly embedDim: number,
    /** The number of heads; divides embedDim. */
    readonly numHeads: number,
    options: MultiheadAttentionOptions = {},
  ) {
    super();
    if (!Number.isInteger(embedDim) || !Number.isInteger(numHeads) || numHeads < 1 || embedDim < 1)
      throw new T.ValueError('MultiheadAttention', `embedDim and numHeads must be positive integers`);
    if (embedDim % numHeads !== 0) {
      throw new T.ValueError(
        'MultiheadAttention',
        `embedDim (${embedDim}) must be divisible by numHeads (${numHeads})`,
      );
    }
    this.kdim = options.kdim ?? embedDim;
    this.vdim = options.vdim ?? embedDim;
    this.headDim = embedDim / numHeads;
    this.dropout = options.dropout ?? 0;
    this.batchFirst = options.batchFirst ?? false;
    if (typeof this.dropout !== 'number' || !(this.dropout >= 0 && this.dropout <= 1))
      throw new T.ValueError(
        'MultiheadAttention',
        `dropout must lie in [0, 1], got ${T.describe(this.dropout)}`,
      );
    const dtype = options.dtype ?? 'float32';
    const [inKey, qKey, kKey, vKey, outKey] = T.random.split(options.key ?? nextKey(), 5);
    // PyTorch: xavier_uniform on the input projection(s), zero biases, out_proj as a Linear
    // whose bias is then zeroed.
    const xavier = (shape: number[], key: T.random.PRNGKey) =>
      xavierUniform(new Parameter(T.zeros(shape, { dtype })), { key }) as Parameter;
    const sameDims = this.kdim === embedDim && this.vdim === embedDim;
    this.in_proj_weight = sameDims ? xavier([3 * embedDim, embedDim], inKey) : null;
    this.q_proj_weight = sameDims ? null : xavier([embedDim, embedDim], qKey);
    this.k_proj_weight = sameDims ? null : xavier([embedDim, this.kdim], kKey);
    this.v_proj_weight = sameDims ? null : xavier([embedDim, this.vdim], vKey);
    const bias = options.bias ?? true;
    this.in_proj_bias = bias ? new Parameter(T.zeros([3 * embedDim], { dtype })) : null;
    this.out_proj = new Linear(embedDim, embedDim, { bias, dtype, key: outKey });
    if (this.out_proj.bias) this.out_proj.bias.assign(T.zeros([embedDim], { dtype }));
  }

  /** The projection weight and bias for query (0), key (1) or value (2). */
  #projection(which: 0 | 1 | 2): [Tensor, Tensor | undefined] {
    const E = this.embedDim;
    const weight =
      this.in_proj_weight !== null
        ? A.narrow(this.in_proj_weight, 0, which * E, E)
        : [this.q_proj_weight, this.k_proj_weight, this.v_proj_weight][which]!;
    const bias = this.in_proj_bias ? A.narrow(this.in_proj_bias, 0, which * E, E) : undefined;
    return [weight, bias];
  }

  /** [N, T, E] → [N, heads, T, headDim]. */
  #splitHeads(x: Tensor): Tensor {
    const [N, length] = x.shape;
    return A.permute(A.reshape(x, [N, length, this.numHeads, this.headDim]), [0, 2, 1, 3]);
  }

  /**
   * query [L, N, E], key [S, N, kdim], value [S, N, vdim] ([N, ·, ·] with batchFirst, or
   * unbatched [L, E], [S, kdim], [S, vdim]). Returns [output like query, weights or null]:
   * the weights are [N, L, S] averaged over heads, or [N, numHeads, L, S].
   */
  forward(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    options: MultiheadAttentionForwardOptions = {},
  ): [Tensor, Tensor | null] {
    for (const [what, x] of [
      ['query', query],
      ['key', key],
      ['value', value],
    ] as const)
      checkTensor('MultiheadAttention', what, x);
    T.checkOptions('MultiheadAttention', options);
    return inLibrary(() => {
      const name = 'MultiheadAttention';
      const batched = query.ndim === 3;
      const expectedRank = batched ? 3 : 2;
      if (
        (query.ndim !== 2 && query.ndim !== 3) ||
        key.ndim !== expectedRank ||
        value.ndim !== expectedRank ||
        query.shape[expectedRank - 1] !== this.embedDim ||
        key.shape[expectedRank - 1] !== this.kdim ||
        value.shape[expectedRank - 1] !== this.vdim
      ) {
        throw new T.ShapeError(
          name,
          `expected query [L, N, ${this.embedDim}], key [S, N, ${this.kdim}], value [S, N, ${this.vdim}] (or unbatched 2-D), got ${T.formatShape(query.shape)}, ${T.formatShape(key.shape)}, ${T.formatShape(value.shape)}`,
        );
      }
      // Work batch-first: [N, L, E].
      const toBatchFirst = (x: Tensor) =>
        !batched ? A.unsqueeze(x, 0) : this.batchFirst ? x : A.transpose(x, 0, 1);
      const [q, k, v] = [query, key, value].map(toBatchFirst);
      const [N, L] = q.shape;
      const S = k.shape[1];
      if (v.shape[0] !== N || k.shape[0] !== N || v.shape[1] !== S) {
        throw new T.ShapeError(
          name,
          `query, key and value disagree on batch or key length: ${T.formatShape(query.shape)}, ${T.formatShape(key.shape)}, ${T.formatShape(value.shape)}`,
        );
      }

      const masks = this.#masks(options, N, L, S, batched);
      const heads = [q, k, v].map((x, i) =>
        this.#splitHeads(A.linear(x, ...this.#projection(i as 0 | 1 | 2))),
      );
      const p = this.training ? this.dropout : 0;
      const { output, weights } = attend(heads[0], heads[1], heads[2], masks, {
        p,
        key: p > 0 ? (options.key ?? nextKey()) : undefined,
      });
      const merged = A.reshape(A.permute(output, [0, 2, 1, 3]), [N, L, this.embedDim]);
      const projected = this.out_proj.forward(merged);
      const out = !batched
        ? A.squeeze(projected, 0)
        : this.batchFirst
          ? projected
          : A.transpose(projected, 0, 1);

      if (!(options.needWeights ?? true)) return [out, null];
      const perHead = (options.averageAttnWeights ?? true) ? A.mean(weights, { axis: 1 }) : weights;
      return [out, batched ? perHead : A.squeeze(perHead, 0)];
    });
  }

  /** The key padding, attention and causal masks as one blocked mask and one additive bias. */
  #masks(
    options: MultiheadAttentionForwardOptions,
    N: number,
    L: number,
    S: number,
    batched: boolean,
  ): Masks {
    const name = 'MultiheadAttention';
    let blocked: T.NDArray | undefined;
    let additive: Tensor | undefined;
    const add = (mask: Tensor, shape: number[]) => {
      if (mask.dtype === 'bool') blocked = combineBlocked(blocked, T.reshape(mask.peekValue(), shape));
      else {
        const bias = A.reshape(mask, shape);
        additive = additive ? A.add(additive, bias) : bias;
      }
    };
    const padding = options.keyPaddingMask;
    if (padding) {
      const expected = batched ? [N, S] : [S];
      if (padding.ndim !== expected.length || padding.shape.some((d, i) => d !== expected[i]))
        throw new T.ShapeError(
          name,
          `keyPaddingMask must have shape ${T.formatShape(expected)}, got ${T.formatShape(padding.shape)}`,
        );
      add(padding, [N, 1, 1, S]);
    }
    const attnMask = options.attnMask;
    if (attnMask) {
      const is2d = attnMask.ndim === 2 && attnMask.shape[0] === L && attnMask.shape[1] === S;
      const is3d =
        attnMask.ndim === 3 &&
        attnMask.shape[0] === N * this.numHeads &&
        attnMask.shape[1] === L &&
        attnMask.shape[2] === S;
      if (!is2d && !is3d)
        throw new T.ShapeError(
          name,
          `attnMask must have shape [${L},${S}] or [${N * this.numHeads},${L},${S}], got ${T.formatShape(attnMask.shape)}`,
        );
      add(attnMask, is2d ? [1, 1, L, S] : [N, this.numHeads, L, S]);
    }
    if (options.isCausal) blocked = combineBlocked(blocked, causalBlock(L, S));
    return { blocked, additive };
  }

  override extraRepr(): string {
    const parts = [`embedDim=${this.embedDim}`, `numHeads=${this.numHeads}`];
    if (this.dropout !== 0) parts.push(`dropout=${this.dropout}`);
    if (this.kdim !== this.embedDim) parts.push(`kdim=${this.kdim}`);
    if (this.vdim !== this.embedDim) parts.push(`vdim=${this.vdim}`);
    if (this.batchFirst) parts.push('batchFirst=true');
    return parts.join(', ');
  }
}

markBuiltIn(MultiheadAttention);
