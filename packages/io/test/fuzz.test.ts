import { fromBytes, SafetensorsError, toBytes } from '@tsgrad/io';
import * as T from '@tsgrad/tensor';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makeFile } from './files.js';

const DTYPE_SIZES: Record<string, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  U64: 8,
  I32: 4,
  U32: 4,
  I16: 2,
  U16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

/**
 * Parses `bytes` and checks the outcome is one of the two allowed: a well-formed result, or a
 * SafetensorsError with a byte offset inside the file. Anything else (a TypeError, RangeError,
 * a tensor whose size disagrees with its shape) fails the property.
 */
function parsesOrRejects(bytes: Uint8Array): void {
  const started = performance.now();
  let result: ReturnType<typeof fromBytes> | undefined;
  try {
    result = fromBytes(bytes);
  } catch (error) {
    if (!(error instanceof SafetensorsError)) throw error;
    expect(error.offset).toBeGreaterThanOrEqual(0);
    expect(error.offset).toBeLessThanOrEqual(bytes.length);
  }
  expect(performance.now() - started).toBeLessThan(2000);
  if (result === undefined) return;
  for (const tensor of Object.values(result.tensors)) {
    expect(tensor).toBeInstanceOf(T.NDArray);
    expect(tensor.size).toBe(tensor.shape.reduce((a, b) => a * b, 1));
    expect(tensor.toTypedArray().length).toBe(tensor.size);
  }
  for (const value of Object.values(result.metadata)) expect(typeof value).toBe('string');
}

const validFile = fc
  .dictionary(
    fc.string({ maxLength: 6 }),
    fc.tuple(
      fc.constantFrom<T.DType>('float32', 'float64', 'int32', 'bool'),
      fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }),
    ),
    { maxKeys: 4 },
  )
  .filter((dict) => !('__metadata__' in dict))
  .map((dict) => {
    const tensors: Record<string, T.NDArray> = {};
    for (const [name, [dtype, shape]] of Object.entries(dict)) tensors[name] = T.ones(shape, { dtype });
    return toBytes(tensors, { format: 'pt' });
  });

/** Headers built from the format's own vocabulary, so that many get past the first checks. */
const plausibleFile = fc
  .tuple(
    fc.array(
      fc.record({
        name: fc.constantFrom('a', 'b', 'w.0', '__metadata__', 'ü'),
        dtype: fc.constantFrom(...Object.keys(DTYPE_SIZES), 'F8_E4M3', 'X'),
        shape: fc.array(
          fc.oneof(fc.integer({ min: 0, max: 4 }), fc.constantFrom(-1, 1.5, 2 ** 53, 2 ** 31)),
          { maxLength: 3 },
        ),
        offsets: fc.oneof(
          fc
            .tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 40 }))
            .map(([a, b]) => [a, a + b]),
          fc.array(fc.oneof(fc.integer({ min: -2, max: 64 }), fc.double()), { maxLength: 3 }),
        ),
      }),
      { maxLength: 4 },
    ),
    fc.uint8Array({ maxLength: 64 }),
    fc.option(
      fc.dictionary(fc.string({ maxLength: 3 }), fc.oneof(fc.string({ maxLength: 3 }), fc.integer())),
      { nil: undefined },
    ),
  )
  .map(([entries, data, metadata]) => {
    const fields = entries.map(
      (e) =>
        `${JSON.stringify(e.name)}:${JSON.stringify({ dtype: e.dtype, shape: e.shape, data_offsets: e.offsets })}`,
    );
    if (metadata) fields.push(`"__metadata__":${JSON.stringify(metadata)}`);
    return makeFile(`{${fields.join(',')}}`, data);
  });

/** A file with some bytes replaced, some cut off, or some inserted. */
function mutated(base: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return base.chain((file) => {
    const at = fc.nat({ max: Math.max(0, file.length - 1) });
    const replace = fc
      .array(fc.tuple(at, fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 })
      .map((edits) => {
        const out = file.slice();
        for (const [i, byte] of edits) out[i] = byte;
        return out;
      });
    const truncate = fc.nat({ max: file.length }).map((n) => file.slice(0, n));
    const insert = fc.tuple(at, fc.uint8Array({ minLength: 1, maxLength: 3 })).map(([i, bytes]) => {
      const out = new Uint8Array(file.length + bytes.length);
      out.set(file.subarray(0, i));
      out.set(bytes, i);
      out.set(file.subarray(i), i + bytes.length);
      return out;
    });
    // Structural characters are where a header breaks in interesting ways.
    const punctuate = fc.tuple(at, fc.constantFrom(...'{}[]",:\\0-9 e'.split(''))).map(([i, c]) => {
      const out = file.slice();
      out[i] = c.charCodeAt(0);
      return out;
    });
    return fc.oneof(replace, truncate, insert, punctuate);
  });
}

describe('the parser, fuzzed', () => {
  it('returns a valid result or throws SafetensorsError for mutated valid files', () => {
    fc.assert(fc.property(mutated(validFile), parsesOrRejects), { numRuns: 1500 });
  });

  it('does the same for random headers made of the format vocabulary, and their mutations', () => {
    fc.assert(fc.property(plausibleFile, parsesOrRejects), { numRuns: 1500 });
    fc.assert(fc.property(mutated(plausibleFile), parsesOrRejects), { numRuns: 1000 });
  });

  it('does the same for arbitrary JSON headers and arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.uint8Array({ maxLength: 16 }), (json, data) =>
        parsesOrRejects(makeFile(JSON.stringify(json) ?? '', data)),
      ),
      { numRuns: 500 },
    );
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), parsesOrRejects), { numRuns: 500 });
  });

  it('survives deeply nested and very long hostile headers', () => {
    const deep = `{"a":${'['.repeat(200_000)}${']'.repeat(200_000)}}`;
    parsesOrRejects(makeFile(deep));
    const manyKeys = `{${Array.from({ length: 10_000 }, (_, i) => `"k${i}":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}`).join(',')}}`;
    parsesOrRejects(makeFile(manyKeys));
    expect(Object.keys(fromBytes(makeFile(manyKeys)).tensors)).toHaveLength(10_000);
  });

  it('finds some valid files among the mutants (the property is not vacuous)', () => {
    let valid = 0;
    fc.assert(
      fc.property(mutated(validFile), (bytes) => {
        try {
          fromBytes(bytes);
          valid++;
        } catch {}
      }),
      { numRuns: 300 },
    );
    expect(valid).toBeGreaterThan(0);
  });
});
