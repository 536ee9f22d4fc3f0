// Text from the model, one character at a time.
import * as A from '@tsgrad/autograd';
import type { CharTensor } from '@tsgrad/data';
import * as T from '@tsgrad/tensor';
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
export function sampleText(model: CharModel, chars: CharTensor, options: SampleOptions): string {
  const temperature = options.temperature ?? 0.8;
  if (!(temperature > 0)) throw new RangeError(`sampleText: temperature must be > 0, got ${temperature}`);
  const { context } = model.config;
  const ids = Array.from(chars.encode(options.prompt).toTypedArray());
  if (ids.length === 0) throw new RangeError('sampleText: the prompt must not be empty');
  const key = T.random.key(options.seed);
  const wasTraining = model.training;
  model.eval();
  try {
    const generated: number[] = [];
    A.noGrad(() => {
      for (let i = 0; i < options.length; i++) {
        const window = ids.slice(-context);
        const logits = model.forward(T.array(Int32Array.from(window), { shape: [1, window.length] }));
        const last = T.slice(logits.value, [0, window.length - 1]); // [vocab]
        const next = T.random.categorical(T.random.foldIn(key, i), T.div(last, temperature)).item() as number;
        ids.push(next);
        generated.push(next);
      }
    });
    return chars.decode(generated);
  } finally {
    model.train(wasTraining);
  }
}
