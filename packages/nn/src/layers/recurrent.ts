import * as A from '@tsgrad/autograd';
import { inLibrary, type Tensor } from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';
import { nextKey } from '../init.js';
import { Module, markBuiltIn, type Parameter } from '../module.js';
import { checkTensor } from '../validate.js';
import { type LayerOptions, uniformParameter } from './linear.js';
import { lstmRecurrence } from './lstm-recurrence.js';

// Recurrent layers as PyTorch's nn.RNN / nn.LSTM / nn.GRU: the same constructor, the same
// parameter names and shapes (so state_dicts move between the two), the same gate order and
// the same update formulas. Time is unrolled step by step with differentiable ops.

/** Options of `RNN`, `LSTM` and `GRU`. */
export interface RNNOptions extends LayerOptions {
  /** Stacked layers, each reading the previous one's output (default 1). */
  readonly numLayers?: number;
  /** Whether the layers have bias_ih/bias_hh (default true). */
  readonly bias?: boolean;
  /** Input and output as [batch, seq, feature] instead of [seq, batch, feature] (default false). */
  readonly batchFirst?: boolean;
  /**
   * Dropout on every layer's output except the last, in training mode only (default 0); the
   * masks come from the default generator (`manualSeed`), as `Dropout`'s do.
   */
  readonly dropout?: number;
  /** A second pass over the reversed sequence; outputs are concatenated (default false). */
  readonly bidirectional?: boolean;
}

type Mode = 'RNN_TANH' | 'RNN_RELU' | 'LSTM' | 'GRU';

const gatesOf: Record<Mode, number> = { RNN_TANH: 1, RNN_RELU: 1, LSTM: 4, GRU: 3 };

/** One layer and direction's weights. */
interface CellWeights {
  readonly ih: Parameter;
  readonly hh: Parameter;
  readonly biasIh: Parameter | null;
  readonly biasHh: Parameter | null;
}

/** The state carried through time: [h] or, for the LSTM, [h, c]; each [batch, hidden]. */
type State = Tensor[];

/**
 * What RNN, LSTM and GRU share: the parameters `weight_ih_l{k}`, `weight_hh_l{k}`,
 * `bias_ih_l{k}`, `bias_hh_l{k}` (with a `_reverse` suffix for the backward direction), drawn
 * from U(−1/√hidden, 1/√hidden), and the loop over layers, directions and time steps.
 */
export abstract class RNNBase extends Module {
  // The parameters are own properties named as in PyTorch (weight_ih_l0, …), so that
  // Module finds them under PyTorch's state_dict names.
  readonly [name: `weight_${string}` | `bias_${string}`]: Parameter;
  /** The number of stacked layers. */
  readonly numLayers: number;
  /** Whether the layers have `bias_ih` and `bias_hh`. */
  readonly bias: boolean;
  /** Whether input and output are [batch, seq, feature]. */
  readonly batchFirst: boolean;
  /** Dropout probability on the outputs of every layer but the last (training mode). */
  readonly dropout: number;
  /** Whether each layer also runs backwards in time (the outputs are concatenated). */
  readonly bidirectional: boolean;
  readonly #mode: Mode;

  protected constructor(
    mode: Mode,
    /** The feature size of the input. */
    readonly inputSize: number,
    /** The feature size of the hidden state. */
    readonly hiddenSize: number,
    options: RNNOptions = {},
  ) {
    super();
    const name = new.target.name;
    T.checkOptions(name, options);
    this.numLayers = options.numLayers ?? 1;
    this.bias = options.bias ?? true;
    this.batchFirst = options.batchFirst ?? false;
    this.dropout = options.dropout ?? 0;
    this.bidirectional = options.bidirectional ?? false;
    this.#mode = mode;
    for (const [what, n] of [
      ['inputSize', inputSize],
      ['hiddenSize', hiddenSize],
      ['numLayers', this.numLayers],
    ] as const) {
      if (!Number.isInteger(n) || n < 1)
        throw new T.ValueError(name, `${what} must be a positive integer, got ${T.describe(n)}`);
    }
    if (typeof this.dropout !== 'number' || !(this.dropout >= 0 && this.dropout <= 1))
      throw new T.ValueError(name, `dropout must lie in [0, 1], got ${T.describe(this.dropout)}`);

    const dtype = options.dtype ?? 'float32';
    const gateSize = gatesOf[mode] * hiddenSize;
    const directions = this.bidirectional ? 2 : 1;
    const keys = T.random.split(options.key ?? nextKey(), 4 * this.numLayers * directions);
    const bound = 1 / Math.sqrt(hiddenSize);
    const own = this as unknown as Record<string, Parameter>;
    let k = 0;
    for (let layer = 0; layer < this.numLayers; layer++) {
      const layerInput = layer === 0 ? inputSize : hiddenSize * directions;
      for (let direction = 0; direction < directions; direction++) {
        const suffix = `_l${layer}${direction === 1 ? '_reverse' : ''}`;
        own[`weight_ih${suffix}`] = uniformParameter([gateSize, layerInput], bound, dtype, keys[k++]);
        own[`weight_hh${suffix}`] = uniformParameter([gateSize, hiddenSize], bound, dtype, keys[k++]);
        if (this.bias) {
          own[`bias_ih${suffix}`] = uniformParameter([gateSize], bound, dtype, keys[k++]);
          own[`bias_hh${suffix}`] = uniformParameter([gateSize], bound, dtype, keys[k++]);
        }
      }
    }
  }

  /** 2 when bidirectional, else 1. */
  get numDirections(): number {
    return this.bidirectional ? 2 : 1;
  }

  /** The weights of one layer and direction (0 forward, 1 reverse). */
  cellWeights(layer: number, direction = 0): CellWeights {
    const suffix = `_l${layer}${direction === 1 ? '_reverse' : ''}`;
    return {
      ih: this[`weight_ih${suffix}`],
      hh: this[`weight_hh${suffix}`],
      biasIh: this.bias ? this[`bias_ih${suffix}`] : null,
      biasHh: this.bias ? this[`bias_hh${suffix}`] : null,
    };
  }

  /** One time step of an RNN or GRU: the new state from the input projection W_ih x + b_ih and the old one. */
  #step(inputProjection: Tensor, state: State, w: CellWeights): State {
    const [h] = state;
    const hidden = A.linear(h, w.hh, w.biasHh ?? undefined);
    switch (this.#mode) {
      case 'RNN_TANH':
        return [A.tanh(A.add(inputProjection, hidden))];
      case 'RNN_RELU':
        return [A.relu(A.add(inputProjection, hidden))];
      default: {
        // GRU (the LSTM runs its loop in lstmRecurrence).
        const [xr, xz, xn] = A.split(inputProjection, 3, -1);
        const [hr, hz, hn] = A.split(hidden, 3, -1);
        const r = A.sigmoid(A.add(xr, hr));
        const z = A.sigmoid(A.add(xz, hz));
        // PyTorch's GRU: the reset gate scales W_hn h + b_hn, not h.
        const n = A.tanh(A.add(xn, A.mul(r, hn)));
        return [A.add(n, A.mul(z, A.sub(h, n)))];
      }
    }
  }

  /**
   * Runs every layer over the sequence. `input` is [seq, batch, feature] (time-major, whatever
   * `batchFirst` says) and `initial` holds one [numLayers·directions, batch, hidden] tensor per
   * state component. Returns the last layer's outputs [seq, batch, directions·hidden] and the
   * final states in the same layout as `initial`.
   */
  protected run(input: Tensor, initial: State | undefined): { output: Tensor; final: State } {
    const name = this.constructor.name;
    const [seqLength, batch, features] = input.shape;
    if (features !== this.inputSize) {
      throw new T.ShapeError(
        name,
        `expected input with ${this.inputSize} features, got shape ${T.formatShape(input.shape)}`,
      );
    }
    if (seqLength === 0) throw new T.ShapeError(name, 'the input sequence is empty');
    const components = this.#mode === 'LSTM' ? 2 : 1;
    const stateShape = [this.numLayers * this.numDirections, batch, this.hiddenSize];
    const start =
      initial ?? Array.from({ length: components }, () => A.zeros(stateShape, { dtype: input.dtype }));
    for (const s of start) {
      if (s.ndim !== 3 || s.shape.some((d, i) => d !== stateShape[i])) {
        throw new T.ShapeError(
          name,
          `expected an initial state of shape ${T.formatShape(stateShape)}, got ${T.formatShape(s.shape)}`,
        );
      }
    }

    // Each layer's input projection W_ih x + b_ih for all time steps is one matmul over the
    // [seq, batch, feature] input.
    let layerInput = input;
    const finals: State[] = [];
    for (let layer = 0; layer < this.numLayers; layer++) {
      const perDirection: Tensor[] = [];
      for (let direction = 0; direction < this.numDirections; direction++) {
        const w = this.cellWeights(layer, direction);
        // The LSTM adds b_ih in its gate kernel, step by step.
        const projected = A.linear(
          layerInput,
          w.ih,
          this.#mode === 'LSTM' ? undefined : (w.biasIh ?? undefined),
        );
        const index = layer * this.numDirections + direction;
        const state = start.map((s) => A.squeeze(A.narrow(s, 0, index, 1), 0));
        const { output, final } = this.#overTime(projected, state, w, direction === 1);
        perDirection.push(output);
        finals.push(final);
      }
      layerInput = this.numDirections === 1 ? perDirection[0] : A.concat(perDirection, -1);
      if (layer < this.numLayers - 1 && this.training && this.dropout > 0) {
        layerInput = A.dropout(layerInput, { p: this.dropout, key: nextKey() });
      }
    }
    const final = Array.from({ length: components }, (_, c) =>
      A.stack(
        finals.map((s) => s[c]),
        0,
      ),
    );
    return { output: layerInput, final };
  }

  /**
   * One layer and direction over the sequence: the outputs [seq, batch, hidden] and the final
   * state, from the input projections [seq, batch, gates] and the start state.
   */
  #overTime(
    projected: Tensor,
    start: State,
    w: CellWeights,
    reverse: boolean,
  ): { output: Tensor; final: State } {
    if (this.#mode === 'LSTM') {
      const biases = w.biasIh && w.biasHh ? ([w.biasIh, w.biasHh] as const) : null;
      const [output, h, c] = lstmRecurrence(projected, w.hh, biases, start[0], start[1], reverse);
      return { output, final: [h, c] };
    }
    const seqLength = projected.shape[0];
    const projections = A.split(projected, seqLength, 0).map((x) => A.squeeze(x, 0));
    let state = start;
    const outputs: Tensor[] = new Array(seqLength);
    for (let n = 0; n < seqLength; n++) {
      const t = reverse ? seqLength - 1 - n : n;
      state = this.#step(projections[t], state, w);
      outputs[t] = state[0];
    }
    return { output: A.stack(outputs, 0), final: state };
  }

  /**
   * Brings input and states to the time-major batched layout `run` expects, runs it and
   * restores the caller's layout. A 2-D input [seq, feature] is one unbatched sequence.
   */
  protected runInLayout(input: Tensor, initial: State | undefined): { output: Tensor; final: State } {
    const name = this.constructor.name;
    checkTensor(name, 'input', input);
    initial?.forEach((s, i) => {
      checkTensor(name, `initial state ${i}`, s);
    });
    if (input.ndim === 2) {
      for (const s of initial ?? []) {
        if (s.ndim !== 2)
          throw new T.ShapeError(
            name,
            `an unbatched input needs 2-D initial states, got ${T.formatShape(s.shape)}`,
          );
      }
      const { output, final } = this.run(
        A.unsqueeze(input, 1),
        initial?.map((s) => A.unsqueeze(s, 1)),
      );
      return { output: A.squeeze(output, 1), final: final.map((s) => A.squeeze(s, 1)) };
    }
    if (input.ndim !== 3) {
      throw new T.ShapeError(
        name,
        `expected an input of shape [seq, batch, feature]${this.batchFirst ? ' (batchFirst: [batch, seq, feature])' : ''} or [seq, feature], got ${T.formatShape(input.shape)}`,
      );
    }
    const { output, final } = this.run(this.batchFirst ? A.transpose(input, 0, 1) : input, initial);
    return { output: this.batchFirst ? A.transpose(output, 0, 1) : output, final };
  }

  override extraRepr(): string {
    const parts = [`inputSize=${this.inputSize}`, `hiddenSize=${this.hiddenSize}`];
    if (this.#mode === 'RNN_RELU') parts.push("nonlinearity='relu'");
    if (this.numLayers !== 1) parts.push(`numLayers=${this.numLayers}`);
    if (!this.bias) parts.push('bias=false');
    if (this.batchFirst) parts.push('batchFirst=true');
    if (this.dropout !== 0) parts.push(`dropout=${this.dropout}`);
    if (this.bidirectional) parts.push('bidirectional=true');
    return parts.join(', ');
  }
}

/** Options of `RNN`: those of every recurrent layer and the activation. */
export interface ElmanRNNOptions extends RNNOptions {
  /** The activation, 'tanh' (default) or 'relu'. */
  readonly nonlinearity?: 'tanh' | 'relu';
}

/** Elman RNN, h' = act(W_ih x + b_ih + W_hh h + b_hh) (PyTorch's `nn.RNN`). */
export class RNN extends RNNBase {
  /** The activation of the hidden state. */
  readonly nonlinearity: 'tanh' | 'relu';

  constructor(inputSize: number, hiddenSize: number, options: ElmanRNNOptions = {}) {
    T.checkOptions('RNN', options);
    const nonlinearity = options.nonlinearity ?? 'tanh';
    if (nonlinearity !== 'tanh' && nonlinearity !== 'relu')
      throw new T.ValueError('RNN', `nonlinearity must be 'tanh' or 'relu', got ${T.describe(nonlinearity)}`);
    super(nonlinearity === 'tanh' ? 'RNN_TANH' : 'RNN_RELU', inputSize, hiddenSize, options);
    this.nonlinearity = nonlinearity;
  }

  /**
   * `input` [seq, batch, inputSize] (or [batch, seq, …] with batchFirst, or unbatched
   * [seq, inputSize]) and `h0` [numLayers·directions, batch, hidden] (zeros by default).
   * Returns [output [seq, batch, directions·hidden], hN].
   */
  forward(input: Tensor, h0?: Tensor): [Tensor, Tensor] {
    return inLibrary(() => {
      const { output, final } = this.runInLayout(input, h0 ? [h0] : undefined);
      return [output, final[0]];
    });
  }
}

/**
 * Long short-term memory (PyTorch's `nn.LSTM`), gates stacked in the order i, f, g, o:
 * c' = σ(f)·c + σ(i)·tanh(g), h' = σ(o)·tanh(c').
 */
export class LSTM extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, options: RNNOptions = {}) {
    super('LSTM', inputSize, hiddenSize, options);
    T.checkOptions('LSTM', options);
  }

  /** As `RNN.forward`, with the state a pair [h, c]; returns [output, [hN, cN]]. */
  forward(input: Tensor, state?: readonly [Tensor, Tensor]): [Tensor, [Tensor, Tensor]] {
    return inLibrary(() => {
      const { output, final } = this.runInLayout(input, state ? [...state] : undefined);
      return [output, [final[0], final[1]]];
    });
  }
}

/**
 * Gated recurrent unit (PyTorch's `nn.GRU`), gates stacked in the order r, z, n:
 * n = tanh(W_in x + b_in + r·(W_hn h + b_hn)), h' = (1 − z)·n + z·h.
 */
export class GRU extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, options: RNNOptions = {}) {
    super('GRU', inputSize, hiddenSize, options);
    T.checkOptions('GRU', options);
  }

  /** As `RNN.forward`: returns [output, hN]. */
  forward(input: Tensor, h0?: Tensor): [Tensor, Tensor] {
    return inLibrary(() => {
      const { output, final } = this.runInLayout(input, h0 ? [h0] : undefined);
      return [output, final[0]];
    });
  }
}

markBuiltIn(RNN, LSTM, GRU);
