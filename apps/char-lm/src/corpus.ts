// The text as character ids: a train/validation split, random training windows, evaluation windows.
import { data, random, type Tensor, tensor } from 'tsgrad';

export interface Corpus {
  readonly chars: data.CharTensor;
  /** The first (1 − valFraction) of the text, as ids. */
  readonly train: Int32Array;
  /** The rest: text the model never trains on. */
  readonly val: Int32Array;
}

/** Encodes `text` (vocabulary from the whole text) and holds out its last `valFraction` for validation. */
export function splitCorpus(text: string, valFraction: number): Corpus {
  if (!(valFraction > 0 && valFraction < 1)) {
    throw new RangeError(`splitCorpus: valFraction must lie in (0, 1), got ${valFraction}`);
  }
  const chars = data.textToCharTensor(text);
  const ids = chars.encoded.toTypedArray() as Int32Array;
  const cut = Math.round(ids.length * (1 - valFraction));
  return { chars, train: ids.subarray(0, cut), val: ids.subarray(cut) };
}

/**
 * The entropy −Σ p·log₂ p of the character frequencies of `ids`, in bits: the loss of the best
 * model that ignores context, the baseline a language model has to beat.
 */
export function unigramEntropyBits(ids: Int32Array, vocabSize: number): number {
  const counts = new Float64Array(vocabSize);
  for (const id of ids) counts[id] += 1;
  let bits = 0;
  for (const count of counts) {
    if (count > 0) {
      const p = count / ids.length;
      bits -= p * Math.log2(p);
    }
  }
  return bits;
}

/** Inputs [batch, context] and their next-character targets (shifted by one), as int32. */
export interface Batch {
  readonly inputs: Tensor;
  readonly targets: Tensor;
}

/** The windows of `ids` starting at `starts`: inputs ids[s … s+context), targets one further. */
export function windowsAt(ids: Int32Array, starts: ArrayLike<number>, context: number): Batch {
  const inputs = new Int32Array(starts.length * context);
  const targets = new Int32Array(starts.length * context);
  for (let b = 0; b < starts.length; b++) {
    const s = starts[b];
    inputs.set(ids.subarray(s, s + context), b * context);
    targets.set(ids.subarray(s + 1, s + 1 + context), b * context);
  }
  const shape = [starts.length, context];
  return { inputs: tensor(inputs, { shape }), targets: tensor(targets, { shape }) };
}

/**
 * Training batch `step` of a run: windows at random places, drawn from a key derived from the
 * seed and the step alone, so a resumed run sees exactly the batches the uninterrupted one would.
 */
export function trainingBatch(
  ids: Int32Array,
  seed: number,
  step: number,
  batchSize: number,
  context: number,
): Batch {
  const key = random.foldIn(random.key(seed), step);
  const starts = random.randint(key, [batchSize], 0, ids.length - context).toTypedArray();
  return windowsAt(ids, starts, context);
}

/**
 * Start offsets of non-overlapping windows covering `ids` (each needs context + 1 characters);
 * at most `maxWindows` of them, spread evenly over the whole text when there are more.
 */
export function evaluationStarts(
  length: number,
  context: number,
  maxWindows = Number.POSITIVE_INFINITY,
): number[] {
  const available = Math.floor((length - 1) / context);
  const count = Math.min(available, maxWindows);
  return Array.from({ length: count }, (_, i) => Math.floor((i * available) / count) * context);
}
