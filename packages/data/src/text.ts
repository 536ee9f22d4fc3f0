import { array, describe, IndexError, NDArray, ValueError } from '@tsgrad/tensor';

/** A character-level encoding of a text. */
export interface CharTensor {
  /** The distinct characters (Unicode code points), sorted by code point; id i is vocab[i]. */
  readonly vocab: readonly string[];
  /** The whole text as int32 ids, shape [number of characters]. */
  readonly encoded: NDArray;
  /** The ids of `text` (every character must be in the vocabulary). */
  encode(text: string): NDArray;
  /** The text of `ids`. */
  decode(ids: NDArray | ArrayLike<number>): string;
}

function codePointLabel(char: string): string {
  return `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Builds the character vocabulary of `text` and encodes the text with it. */
export function textToCharTensor(text: string): CharTensor {
  if (typeof text !== 'string')
    throw new ValueError('textToCharTensor', `expected a string, got ${describe(text)}`);
  const chars = Array.from(text);
  const vocab = [...new Set(chars)].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
  const ids = new Map(vocab.map((c, i) => [c, i]));
  const encode = (s: string): NDArray => {
    const out = Array.from(s, (c) => {
      const id = ids.get(c);
      if (id === undefined) {
        throw new ValueError(
          'encode',
          `character ${JSON.stringify(c)} (${codePointLabel(c)}) is not in the vocabulary`,
        );
      }
      return id;
    });
    return array(Int32Array.from(out));
  };
  const decode = (given: NDArray | ArrayLike<number>): string => {
    const values = given instanceof NDArray ? given.toTypedArray() : given;
    let out = '';
    for (let i = 0; i < values.length; i++) {
      const id = values[i];
      if (!Number.isInteger(id) || id < 0 || id >= vocab.length) {
        throw new IndexError(
          'decode',
          `id ${id} is out of range for a vocabulary of ${vocab.length} characters`,
        );
      }
      out += vocab[id];
    }
    return out;
  };
  return { vocab, encoded: encode(text), encode, decode };
}
