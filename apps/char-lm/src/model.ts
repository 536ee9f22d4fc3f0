// Two next-character models with one interface: ids [batch, time] → logits [batch, time, vocab].

import { add, arange, mul, nn, noGrad, random, ShapeError, type Tensor } from 'tsgrad';

export type Architecture = 'transformer' | 'lstm';

export interface ModelConfig {
  readonly architecture: Architecture;
  readonly vocabSize: number;
  /** The longest input the model reads (the Transformer's positional table has this many rows). */
  readonly context: number;
  /** The Transformer's width; the LSTM's hidden size. */
  readonly dModel: number;
  /**
   * The LSTM's character embedding width. Small is enough for ~90 characters; the input
   * projection (one matmul over the whole sequence) grows with it.
   */
  readonly embedDim: number;
  readonly layers: number;
  /** Attention heads (Transformer only). */
  readonly heads: number;
  readonly dropout: number;
}

/** What the trainer and the sampler need of a model. */
export interface CharModel extends nn.Module {
  readonly config: ModelConfig;
  /** ids int32 [batch, time] (time ≤ context) → logits [batch, time, vocab]; `key` seeds dropout. */
  forward(ids: Tensor, key?: random.PRNGKey): Tensor;
}

/**
 * A GPT-style decoder made of PyTorch's encoder blocks: token plus learned position embeddings,
 * pre-norm TransformerEncoderLayers with a causal mask (position t sees only 0…t), a final
 * LayerNorm and a linear head. Pre-norm trains more reliably than post-norm at this size.
 */
export class CharTransformer extends nn.Module implements CharModel {
  readonly tokenEmbedding: nn.Embedding;
  readonly positionEmbedding: nn.Embedding;
  readonly encoder: nn.TransformerEncoder;
  readonly head: nn.Linear;

  constructor(readonly config: ModelConfig) {
    super();
    const { vocabSize, context, dModel, heads, layers, dropout } = config;
    this.tokenEmbedding = new nn.Embedding(vocabSize, dModel);
    this.positionEmbedding = new nn.Embedding(context, dModel);
    // GPT-2's embedding scale: N(0, 0.02²) instead of nn.Embedding's N(0, 1).
    for (const table of [this.tokenEmbedding, this.positionEmbedding]) {
      noGrad(() => table.weight.assign(mul(table.weight, 0.02)));
    }
    const block = () =>
      new nn.TransformerEncoderLayer(dModel, heads, {
        dimFeedforward: 4 * dModel,
        dropout,
        activation: 'gelu',
        batchFirst: true,
        normFirst: true,
      });
    this.encoder = new nn.TransformerEncoder(block, layers, { norm: new nn.LayerNorm(dModel) });
    this.head = new nn.Linear(dModel, vocabSize);
  }

  forward(ids: Tensor, key?: random.PRNGKey): Tensor {
    const time = ids.shape[1];
    if (time > this.config.context) {
      throw new ShapeError(
        'CharTransformer',
        `input of ${time} steps exceeds the context of ${this.config.context}`,
      );
    }
    const positions = arange(time, undefined, 1, { dtype: 'int32' });
    const x = add(this.tokenEmbedding.forward(ids), this.positionEmbedding.forward(positions));
    return this.head.forward(this.encoder.forward(x, { isCausal: true, key }));
  }
}

/**
 * Embedding → stacked LSTM → linear head (PyTorch's classic char-rnn), with dropout on the
 * LSTM's input and output (not between its layers, whose masks would come from the default
 * generator rather than the step's key, and a resumed run could not repeat them).
 */
export class CharLSTM extends nn.Module implements CharModel {
  readonly embedding: nn.Embedding;
  readonly lstm: nn.LSTM;
  readonly dropout: nn.Dropout;
  readonly head: nn.Linear;

  constructor(readonly config: ModelConfig) {
    super();
    const { vocabSize, embedDim, dModel, layers, dropout } = config;
    this.embedding = new nn.Embedding(vocabSize, embedDim);
    this.lstm = new nn.LSTM(embedDim, dModel, { numLayers: layers, batchFirst: true });
    this.dropout = new nn.Dropout(dropout);
    this.head = new nn.Linear(dModel, vocabSize);
  }

  forward(ids: Tensor, key?: random.PRNGKey): Tensor {
    const [inputKey, outputKey] = key ? random.split(key) : [];
    const [output] = this.lstm.forward(this.dropout.forward(this.embedding.forward(ids), { key: inputKey }));
    return this.head.forward(this.dropout.forward(output, { key: outputKey }));
  }
}

export function createModel(config: ModelConfig): CharModel {
  return config.architecture === 'transformer' ? new CharTransformer(config) : new CharLSTM(config);
}
