// Two next-character models with one interface: ids [batch, time] → logits [batch, time, vocab].

import type { Tensor } from '@tsgrad/autograd';
import * as A from '@tsgrad/autograd';
import {
  Dropout,
  Embedding,
  LayerNorm,
  Linear,
  LSTM,
  Module,
  TransformerEncoder,
  TransformerEncoderLayer,
} from '@tsgrad/nn';
import * as T from '@tsgrad/tensor';

export type Architecture = 'transformer' | 'lstm';

export interface ModelConfig {
  readonly architecture: Architecture;
  readonly vocabSize: number;
  /** The longest input the model reads (the Transformer's positional table has this many rows). */
  readonly context: number;
  /** The Transformer's width; the LSTM's hidden size. */
  readonly dModel: number;
  /**
   * The LSTM's character embedding width. Small is enough for ~90 characters, and it matters:
   * nn.LSTM projects the input at every time step, so its cost grows with this width.
   */
  readonly embedDim: number;
  readonly layers: number;
  /** Attention heads (Transformer only). */
  readonly heads: number;
  readonly dropout: number;
}

/** What the trainer and the sampler need of a model. */
export interface CharModel extends Module {
  readonly config: ModelConfig;
  /** ids int32 [batch, time] (time ≤ context) → logits [batch, time, vocab]; `key` seeds dropout. */
  forward(ids: T.NDArray, key?: T.random.PRNGKey): Tensor;
}

/**
 * A GPT-style decoder made of PyTorch's encoder blocks: token plus learned position embeddings,
 * pre-norm TransformerEncoderLayers with a causal mask (position t sees only 0…t), a final
 * LayerNorm and a linear head. Pre-norm trains more reliably than post-norm at this size.
 */
export class CharTransformer extends Module implements CharModel {
  readonly tokenEmbedding: Embedding;
  readonly positionEmbedding: Embedding;
  readonly encoder: TransformerEncoder;
  readonly head: Linear;

  constructor(readonly config: ModelConfig) {
    super();
    const { vocabSize, context, dModel, heads, layers, dropout } = config;
    this.tokenEmbedding = new Embedding(vocabSize, dModel);
    this.positionEmbedding = new Embedding(context, dModel);
    // GPT-2's embedding scale: N(0, 0.02²) instead of nn.Embedding's N(0, 1).
    for (const table of [this.tokenEmbedding, this.positionEmbedding]) {
      table.weight.assign(T.mul(table.weight.value, 0.02));
    }
    const block = () =>
      new TransformerEncoderLayer(dModel, heads, {
        dimFeedforward: 4 * dModel,
        dropout,
        activation: 'gelu',
        batchFirst: true,
        normFirst: true,
      });
    this.encoder = new TransformerEncoder(block, layers, { norm: new LayerNorm(dModel) });
    this.head = new Linear(dModel, vocabSize);
  }

  forward(ids: T.NDArray, key?: T.random.PRNGKey): Tensor {
    const time = ids.shape[1];
    if (time > this.config.context) {
      throw new T.ShapeError(
        'CharTransformer',
        `input of ${time} steps exceeds the context of ${this.config.context}`,
      );
    }
    const positions = T.arange(time, undefined, 1, { dtype: 'int32' });
    const x = A.add(this.tokenEmbedding.forward(ids), this.positionEmbedding.forward(positions));
    return this.head.forward(this.encoder.forward(x, { isCausal: true, key }));
  }
}

/**
 * Embedding → stacked LSTM → linear head (PyTorch's classic char-rnn), with dropout on the
 * LSTM's input and output (not between its layers, whose masks would come from the default
 * generator rather than the step's key, and a resumed run could not repeat them).
 */
export class CharLSTM extends Module implements CharModel {
  readonly embedding: Embedding;
  readonly lstm: LSTM;
  readonly dropout: Dropout;
  readonly head: Linear;

  constructor(readonly config: ModelConfig) {
    super();
    const { vocabSize, embedDim, dModel, layers, dropout } = config;
    this.embedding = new Embedding(vocabSize, embedDim);
    this.lstm = new LSTM(embedDim, dModel, { numLayers: layers, batchFirst: true });
    this.dropout = new Dropout(dropout);
    this.head = new Linear(dModel, vocabSize);
  }

  forward(ids: T.NDArray, key?: T.random.PRNGKey): Tensor {
    const [inputKey, outputKey] = key ? T.random.split(key) : [];
    const [output] = this.lstm.forward(this.dropout.forward(this.embedding.forward(ids), { key: inputKey }));
    return this.head.forward(this.dropout.forward(output, { key: outputKey }));
  }
}

export function createModel(config: ModelConfig): CharModel {
  return config.architecture === 'transformer' ? new CharTransformer(config) : new CharLSTM(config);
}
