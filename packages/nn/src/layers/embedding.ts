import { embedding, type IndexInput, Tensor } from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';
import { nextKey, normal } from '../init.js';
import { Module, markBuiltIn, Parameter } from '../module.js';
import type { LayerOptions } from './linear.js';

/** Options of the `Embedding` constructor. */
export interface EmbeddingLayerOptions extends LayerOptions {
  /**
   * This row starts at zero and gets no gradient (PyTorch's `padding_idx`); a negative index
   * counts from the end and is stored normalized.
   */
  readonly paddingIdx?: number;
}

function checkPaddingIdx(numEmbeddings: number, paddingIdx: number | undefined): number | null {
  if (paddingIdx === undefined) return null;
  if (!Number.isInteger(paddingIdx) || paddingIdx < -numEmbeddings || paddingIdx >= numEmbeddings) {
    throw new T.IndexError(
      'Embedding',
      `paddingIdx ${paddingIdx} is out of range for ${numEmbeddings} embeddings`,
    );
  }
  return paddingIdx < 0 ? paddingIdx + numEmbeddings : paddingIdx;
}

/**
 * A lookup table (PyTorch's `nn.Embedding`): int32 indices of any shape → their rows of
 * `weight` `[numEmbeddings, embeddingDim]`, shaped `[...indices.shape, embeddingDim]`. The
 * weight starts as N(0, 1), with the padding row (if any) zeroed.
 */
export class Embedding extends Module {
  /** The table of vectors, [numEmbeddings, embeddingDim]. */
  readonly weight: Parameter;
  /** The row that gets no gradient (normalized to be non-negative), or null. */
  readonly paddingIdx: number | null;

  constructor(
    /** The number of rows: valid indices are 0 … numEmbeddings − 1. */
    readonly numEmbeddings: number,
    /** The length of each vector. */
    readonly embeddingDim: number,
    options: EmbeddingLayerOptions = {},
  ) {
    super();
    T.checkOptions('Embedding', options);
    if ([numEmbeddings, embeddingDim].some((n) => !Number.isInteger(n) || n <= 0)) {
      throw new T.ValueError(
        'Embedding',
        `numEmbeddings and embeddingDim must be positive integers, got ${T.describe(numEmbeddings)} and ${T.describe(embeddingDim)}`,
      );
    }
    this.paddingIdx = checkPaddingIdx(numEmbeddings, options.paddingIdx);
    this.weight = new Parameter(
      T.zeros([numEmbeddings, embeddingDim], { dtype: options.dtype ?? 'float32' }),
    );
    normal(this.weight, 0, 1, { key: options.key ?? nextKey() });
    if (this.paddingIdx !== null) {
      const rows = T.arange(numEmbeddings, undefined, 1, { dtype: 'int32' });
      const live = T.reshape(T.ne(rows, this.paddingIdx), [numEmbeddings, 1]);
      this.weight.assign(T.where(live, this.weight.peekValue(), 0));
    }
  }

  /**
   * An embedding holding `embeddings` `[numEmbeddings, embeddingDim]`, frozen unless
   * `freeze: false`; the padding row is kept as given, as in PyTorch's `from_pretrained`.
   */
  static fromPretrained(
    embeddings: Tensor | T.NDArray,
    options: { readonly freeze?: boolean; readonly paddingIdx?: number } = {},
  ): Embedding {
    const value = embeddings instanceof Tensor ? embeddings.peekValue() : embeddings;
    if (value.shape.length !== 2 || !T.isFloat(value.dtype)) {
      throw new T.ShapeError(
        'Embedding.fromPretrained',
        `embeddings must be a 2-D float tensor, got ${value.dtype} [${value.shape.join(',')}]`,
      );
    }
    const [count, dim] = value.shape;
    const dtype = value.dtype === 'float64' ? 'float64' : 'float32';
    const layer = new Embedding(count, dim, { dtype, paddingIdx: options.paddingIdx, key: T.random.key(0) });
    layer.weight.assign(T.contiguous(T.cast(value, dtype)));
    layer.weight.requiresGrad = !(options.freeze ?? true);
    return layer;
  }

  forward(indices: IndexInput): Tensor {
    return embedding(indices, this.weight, this.paddingIdx === null ? {} : { paddingIdx: this.paddingIdx });
  }

  override extraRepr(): string {
    const padding = this.paddingIdx === null ? '' : `, paddingIdx=${this.paddingIdx}`;
    return `${this.numEmbeddings}, ${this.embeddingDim}${padding}`;
  }
}

markBuiltIn(Embedding);
