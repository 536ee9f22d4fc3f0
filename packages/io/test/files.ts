import { SafetensorsError } from '@tsgrad/io';
import type { NDArray } from '@tsgrad/tensor';
import { expect } from 'vitest';

/** A safetensors file from a header (JSON text, or a value to stringify) and raw data bytes. */
export function makeFile(
  header: string | object,
  data: ArrayLike<number> = [],
  headerLength?: number,
): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const length = headerLength ?? json.length;
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(length), true);
  out.set(json, 8);
  out.set(Array.from(data), 8 + json.length);
  return out;
}

/** The raw bytes of an array's elements, for bit-exact comparisons (NaN payloads included). */
export function bytesOf(x: NDArray): number[] {
  const values = x.toTypedArray();
  return Array.from(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
}

/** Little-endian bytes of float32 values given as bit patterns. */
export function f32Bits(...bits: number[]): number[] {
  return Array.from(new Uint8Array(new Uint32Array(bits).buffer));
}

/** Asserts `run` throws a SafetensorsError at `offset` whose message matches `pattern`. */
export function expectSafetensorsError(
  run: () => unknown,
  offset: number,
  pattern: RegExp,
): SafetensorsError {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(SafetensorsError);
  const error = caught as SafetensorsError;
  expect(error.message).toMatch(pattern);
  expect(error.offset).toBe(offset);
  expect(error.message).toContain(`byte offset ${offset}`);
  return error;
}
