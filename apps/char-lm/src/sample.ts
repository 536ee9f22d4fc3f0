// Text from the model, one character at a time.
import { type data, div, noGrad, random, slice, tensor } from 'tsgrad';
import type { CharModel } from './model.js';

export interface SampleOptions {
  /** Text to continue; every character must be in the vocabulary. */
  readonly prompt: string;
  /** Characters to generate. */
  readonly length: number;
  /** Divides the logits: < 1 sharper and safer, > 1 more varied (default 0.8). */
  readonly temperature?: number;
  readonly seed: number;
}

/**
 * Continues `prompt` by drawing each next character from softmax(logits / temperature), reading
 * at most the model's context; the same seed gives the same text. Returns only the new text.
 */
export function sampleText(model: CharModel, chars: data.CharTensor, options: SampleOptions): string {
  const temperature = options.temperature ?? 0.8;
  if (!(temperature > 0)) throw new RangeError(`sampleText: temperature must be > 0, got ${temperature}`);
  const { context } = model.config;
  const ids = Array.from(chars.encode(options.prompt).toTypedArray());
  if (ids.length === 0) throw new RangeError('sampleText: the prompt must not be empty');
  const key = random.key(options.seed);
  const wasTraining = model.training;
  model.eval();
  try {
    const generated: number[] = [];
    noGrad(() => {
      for (let i = 0; i < options.length; i++) {
        const window = ids.slice(-context);
        const logits = model.forward(tensor(Int32Array.from(window), { shape: [1, window.length] }));
        const last = slice(logits, [0, window.length - 1]); // [vocab]
        const next = random.categorical(random.foldIn(key, i), div(last, temperature).value).item() as number;
        ids.push(next);
        generated.push(next);
      }
    });
    return chars.decode(generated);
  } finally {
    model.train(wasTraining);
  }
}
