import { inLibrary, type Tensor } from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';
import { averageInto, checkEmaOptions, EMA_RULES, type EmaOptions, emaDecay } from './transforms/ema.js';
import * as V from './validate.js';

/** The state of an ExponentialMovingAverage, split like an optimizer's for checkpointing. */
export interface EmaStateDict {
  /** The averages by parameter index. */
  readonly state: Record<string, T.NDArray>;
  /** The decay settings and the number of updates so far. */
  readonly meta: { readonly decay: number; readonly useNumUpdates: boolean; readonly numUpdates: number };
}

/**
 * An exponential moving average of parameters (TensorFlow's ExponentialMovingAverage,
 * torch_ema): `update()` after each optimizer step folds the current values into the
 * averages; `apply()` swaps the averages into the parameters (e.g. for evaluation) and
 * `restore()` swaps the trained values back. It owns its arrays (views of the parameters'
 * values where it keeps those) and frees the averages it replaces.
 */
export class ExponentialMovingAverage {
  /** The parameters whose values are averaged. */
  readonly params: readonly Tensor[];
  /** The decay and whether it warms up with the number of updates. */
  options: Required<EmaOptions>;
  /** The number of `update()` calls so far. */
  numUpdates = 0;
  private shadow: T.NDArray[];
  private stored: T.NDArray[] | null = null;

  constructor(params: Iterable<Tensor>, options: EmaOptions) {
    this.params = V.tensorList('ExponentialMovingAverage', 'params', params);
    checkEmaOptions('ExponentialMovingAverage', options);
    this.options = { decay: options.decay, useNumUpdates: options.useNumUpdates ?? false };
    this.shadow = this.params.map((p) => T.view(p.peekValue()));
  }

  /** The averaged values, in parameter order (views the caller owns). */
  get averages(): readonly T.NDArray[] {
    return this.shadow.map((s) => T.view(s));
  }

  /** Folds the parameters' current values into the averages. */
  update(): void {
    this.numUpdates += 1;
    const decay = emaDecay(this.options, this.numUpdates);
    const previous = this.shadow;
    this.shadow = inLibrary(() =>
      averageInto(
        previous,
        this.params.map((p) => p.peekValue()),
        decay,
      ),
    );
    for (const s of previous) if (!this.shadow.includes(s)) s.dispose();
  }

  /** Copies the averages into `params` (by default the tracked parameters themselves). */
  copyTo(params: readonly Tensor[] = this.params): void {
    if (params.length !== this.shadow.length) {
      throw new T.ValueError(
        'ExponentialMovingAverage.copyTo',
        `${params.length} parameters given, ${this.shadow.length} tracked`,
      );
    }
    inLibrary(() => {
      params.forEach((p, i) => {
        p.assign(T.cast(this.shadow[i], p.dtype));
      });
    });
  }

  /** Saves the current parameter values and puts the averages in their place. */
  apply(): void {
    this.stored = this.params.map((p) => T.view(p.peekValue()));
    this.copyTo();
  }

  /** Puts back the values saved by `apply()`. */
  restore(): void {
    if (this.stored === null) {
      throw new T.ValueError('ExponentialMovingAverage.restore', 'nothing to restore: call apply() first');
    }
    const stored = this.stored;
    this.params.forEach((p, i) => {
      p.assign(stored[i]);
      stored[i].dispose();
    });
    this.stored = null;
  }

  /** The averages and counters, to save with a checkpoint (`loadStateDict` restores them). */
  stateDict(): EmaStateDict {
    const state: Record<string, T.NDArray> = {};
    this.shadow.forEach((s, i) => {
      state[String(i)] = T.view(s);
    });
    return { state, meta: { ...this.options, numUpdates: this.numUpdates } };
  }

  /** Restores `stateDict()`; a bad state (keys, shapes, dtypes, values) throws and changes nothing. */
  loadStateDict(dict: EmaStateDict): void {
    const op = 'ExponentialMovingAverage.loadStateDict';
    V.checkFields(op, 'state', { state: V.record, meta: V.any }, dict);
    V.checkFields(op, 'meta', { ...EMA_RULES, numUpdates: V.count }, dict.meta);
    const expected = new Set(this.params.map((_, i) => String(i)));
    const extra = Object.keys(dict.state).filter((k) => !expected.has(k));
    if (extra.length > 0) throw new T.ValueError(op, `unexpected keys ${extra.join(', ')}`);
    this.params.forEach((p, i) => {
      const saved: unknown = dict.state[String(i)];
      if (saved === undefined) throw new T.ValueError(op, `missing the average of parameter ${i}`);
      V.checkStateArray(op, `average ${i}`, saved);
      if (saved.ndim !== p.ndim || saved.shape.some((d, axis) => d !== p.shape[axis])) {
        throw new T.ShapeError(op, `average ${i} has shape [${saved.shape}], parameter has [${p.shape}]`);
      }
    });
    const shadow = this.params.map((p, i) => {
      const saved = dict.state[String(i)];
      const converted = T.cast(saved, p.dtype);
      return converted === saved ? T.view(saved) : converted;
    });
    for (const s of this.shadow) s.dispose();
    this.shadow = shadow;
    this.numUpdates = dict.meta.numUpdates;
    this.options = { decay: dict.meta.decay, useNumUpdates: dict.meta.useNumUpdates };
  }
}
