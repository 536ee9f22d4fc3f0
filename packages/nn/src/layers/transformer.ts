import * as A from '@tsgrad/autograd';
import { inLibrary, inUserCode, type Tensor } from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';
import { ModuleList } from '../containers.js';
import { nextKey } from '../init.js';
import { callForward, Module, markBuiltIn } from '../module.js';
import { MultiheadAttention } from './attention.js';
import { Dropout } from './dropout.js';
import { type LayerOptions, Linear } from './linear.js';
import { LayerNorm } from './normalization.js';

/** The feed-forward activation: `'relu'`, `'gelu'` or any function of a tensor. */
export type TransformerActivation = 'relu' | 'gelu' | ((x: Tensor) => Tensor);

/** Options of `TransformerEncoderLayer`. */
export interface TransformerEncoderLayerOptions extends LayerOptions {
  /** Width of the feed-forward block (default 2048). */
  readonly dimFeedforward?: number;
  /** Dropout after attention, inside and after the feed-forward block (default 0.1). */
  readonly dropout?: number;
  /** The feed-forward activation (default 'relu'). */
  readonly activation?: TransformerActivation;
  /** LayerNorm's eps (default 1e-5). */
  readonly layerNormEps?: number;
  /** Input and output as [batch, seq, feature] instead of [seq, batch, feature] (default false). */
  readonly batchFirst?: boolean;
  /** Pre-norm (normalize before attention and feed-forward) instead of post-norm (default false). */
  readonly normFirst?: boolean;
  /** Biases in the linear layers and the layer norms (default true). */
  readonly bias?: boolean;
}

/** Options of `TransformerEncoderLayer.forward`. */
export interface TransformerEncoderLayerForwardOptions {
  /** Attention mask [S, S] or [N·nhead, S, S]: bool with true = may not attend, or additive float. */
  readonly srcMask?: Tensor;
  /** Key padding mask [N, S]: bool with true = padding (ignored as a key), or additive float. */
  readonly srcKeyPaddingMask?: Tensor;
  /** Adds the causal mask (position i attends to j ≤ i). */
  readonly isCausal?: boolean;
  /** The key of this call's dropout masks; the default generator (`manualSeed`) otherwise. */
  readonly key?: T.random.PRNGKey;
}

const activations = { relu: A.relu, gelu: (x: Tensor) => A.gelu(x) };

/**
 * One Transformer encoder block (PyTorch's `nn.TransformerEncoderLayer`), self-attention and
 * a feed-forward block, each with a residual connection and a LayerNorm:
 * post-norm x = norm1(x + sa(x)); x = norm2(x + ff(x)), or with normFirst
 * x = x + sa(norm1(x)); x = x + ff(norm2(x)). Submodules are named as in PyTorch, so state
 * dicts carry over (`self_attn.in_proj_weight`, `linear1.weight`, `norm2.bias`, …).
 */
export class TransformerEncoderLayer extends Module {
  /** The self-attention block. */
  readonly self_attn: MultiheadAttention;
  /** The first feed-forward layer, dModel → dimFeedforward. */
  readonly linear1: Linear;
  /** The dropout after the feed-forward activation. */
  readonly dropout: Dropout;
  /** The second feed-forward layer, dimFeedforward → dModel. */
  readonly linear2: Linear;
  /** The LayerNorm around the attention block. */
  readonly norm1: LayerNorm;
  /** The LayerNorm around the feed-forward block. */
  readonly norm2: LayerNorm;
  /** The dropout on the attention block's output. */
  readonly dropout1: Dropout;
  /** The dropout on the feed-forward block's output. */
  readonly dropout2: Dropout;
  /** Whether the norms come before the blocks (pre-norm). */
  readonly normFirst: boolean;
  /** Whether inputs and outputs are [batch, seq, feature]. */
  readonly batchFirst: boolean;
  readonly #activation: (x: Tensor) => Tensor;
  readonly #options: TransformerEncoderLayerOptions;

  constructor(
    /** The model's feature size. */
    readonly dModel: number,
    /** The number of attention heads; divides dModel. */
    readonly nhead: number,
    options: TransformerEncoderLayerOptions = {},
  ) {
    super();
    T.checkOptions('TransformerEncoderLayer', options);
    const { dimFeedforward = 2048, dropout = 0.1, dtype, bias = true } = options;
    const eps = options.layerNormEps ?? 1e-5;
    this.batchFirst = options.batchFirst ?? false;
    this.normFirst = options.normFirst ?? false;
    const activation = options.activation ?? 'relu';
    if (typeof activation === 'string' && !(activation in activations)) {
      throw new T.ValueError(
        'TransformerEncoderLayer',
        `activation must be 'relu', 'gelu' or a function, got '${activation}'`,
      );
    }
    // A function given here is user code: what it makes and sees is the user's.
    this.#activation =
      typeof activation === 'string' ? activations[activation] : (x) => inUserCode(() => activation(x), [x]);
    this.#options = options;
    const [attnKey, key1, key2] = T.random.split(options.key ?? nextKey(), 3);
    this.self_attn = new MultiheadAttention(dModel, nhead, {
      dropout,
      bias,
      batchFirst: this.batchFirst,
      dtype,
      key: attnKey,
    });
    this.linear1 = new Linear(dModel, dimFeedforward, { bias, dtype, key: key1 });
    this.dropout = new Dropout(dropout);
    this.linear2 = new Linear(dimFeedforward, dModel, { bias, dtype, key: key2 });
    this.norm1 = new LayerNorm(dModel, { eps, bias, dtype });
    this.norm2 = new LayerNorm(dModel, { eps, bias, dtype });
    this.dropout1 = new Dropout(dropout);
    this.dropout2 = new Dropout(dropout);
  }

  /** `src` [S, N, dModel] ([N, S, dModel] with batchFirst, or unbatched [S, dModel]) → same shape. */
  forward(src: Tensor, options: TransformerEncoderLayerForwardOptions = {}): Tensor {
    T.checkOptions('TransformerEncoderLayer.forward', options);
    return inLibrary(() => {
      const keys = options.key ? T.random.split(options.key, 4) : [];
      const selfAttention = (x: Tensor) => {
        const [attended] = this.self_attn.forward(x, x, x, {
          attnMask: options.srcMask,
          keyPaddingMask: options.srcKeyPaddingMask,
          isCausal: options.isCausal,
          needWeights: false,
          key: keys[0],
        });
        return this.dropout1.forward(attended, { key: keys[1] });
      };
      const feedForward = (x: Tensor) => {
        const hidden = this.dropout.forward(this.#activation(this.linear1.forward(x)), { key: keys[2] });
        return this.dropout2.forward(this.linear2.forward(hidden), { key: keys[3] });
      };
      if (this.normFirst) {
        const x = A.add(src, selfAttention(this.norm1.forward(src)));
        return A.add(x, feedForward(this.norm2.forward(x)));
      }
      const x = this.norm1.forward(A.add(src, selfAttention(src)));
      return this.norm2.forward(A.add(x, feedForward(x)));
    });
  }

  /** A new layer with the same configuration and a copy of this one's parameters. */
  clone(): TransformerEncoderLayer {
    const copy = new TransformerEncoderLayer(this.dModel, this.nhead, this.#options);
    copy.loadStateDict(this.stateDict());
    return copy.train(this.training);
  }

  override extraRepr(): string {
    const activation = this.#options.activation ?? 'relu';
    const parts = [`dModel=${this.dModel}`, `nhead=${this.nhead}`];
    parts.push(`activation=${typeof activation === 'string' ? activation : activation.name || 'custom'}`);
    if (this.normFirst) parts.push('normFirst=true');
    if (this.batchFirst) parts.push('batchFirst=true');
    return parts.join(', ');
  }
}

/** Options of `TransformerEncoder.forward`, passed to every layer. */
export interface TransformerEncoderForwardOptions {
  /** As the layer's srcMask. */
  readonly mask?: Tensor;
  /** As the layer's srcKeyPaddingMask. */
  readonly srcKeyPaddingMask?: Tensor;
  /** As the layer's isCausal. */
  readonly isCausal?: boolean;
  /** The key of this call's dropout masks; the default generator (`manualSeed`) otherwise. */
  readonly key?: T.random.PRNGKey;
}

/**
 * A stack of encoder layers (PyTorch's `nn.TransformerEncoder`), registered as `layers.0`,
 * `layers.1`, …, with an optional final `norm`. Given a layer, every layer starts as a copy of
 * it (PyTorch deep-copies too); given a factory, `makeLayer(i)` builds layer i.
 */
export class TransformerEncoder extends Module {
  /** The encoder layers, registered as `layers.0`, `layers.1`, …. */
  readonly layers: ModuleList<TransformerEncoderLayer>;
  /** The final LayerNorm, or null. */
  readonly norm: LayerNorm | null;

  constructor(
    layer: TransformerEncoderLayer | ((index: number) => TransformerEncoderLayer),
    /** The number of layers. */
    readonly numLayers: number,
    options: { norm?: LayerNorm } = {},
  ) {
    super();
    T.checkOptions('TransformerEncoder', options);
    if (typeof layer !== 'function' && !(layer instanceof TransformerEncoderLayer))
      throw new T.ValueError(
        'TransformerEncoder',
        'layer must be a TransformerEncoderLayer or a function making one',
      );
    if (!Number.isInteger(numLayers) || numLayers < 1)
      throw new T.ValueError(
        'TransformerEncoder',
        `numLayers must be a positive integer, got ${T.describe(numLayers)}`,
      );
    const make = typeof layer === 'function' ? layer : () => layer.clone();
    this.layers = new ModuleList(Array.from({ length: numLayers }, (_, i) => make(i)));
    this.norm = options.norm ?? null;
  }

  forward(src: Tensor, options: TransformerEncoderForwardOptions = {}): Tensor {
    T.checkOptions('TransformerEncoder.forward', options);
    return inLibrary(() => {
      const keys = options.key ? T.random.split(options.key, this.numLayers) : [];
      let x = src;
      for (const [i, layer] of [...this.layers].entries()) {
        const input = x;
        x = callForward(layer, [input], () =>
          layer.forward(input, {
            srcMask: options.mask,
            srcKeyPaddingMask: options.srcKeyPaddingMask,
            isCausal: options.isCausal,
            key: keys[i],
          }),
        );
      }
      return this.norm ? this.norm.forward(x) : x;
    });
  }
}

markBuiltIn(TransformerEncoderLayer, TransformerEncoder);
