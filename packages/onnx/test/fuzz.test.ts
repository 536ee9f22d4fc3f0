import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as A from '@tsgrad/autograd';
import * as nn from '@tsgrad/nn';
import * as T from '@tsgrad/tensor';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { exportOnnx, importOnnx } from '../src/index.js';

// Hostile arguments and damaged files: exportOnnx and importOnnx (and an imported model's
// forward) return or throw a TsgradError, never a TypeError or a crash. (The package fuzz of
// @tsgrad/testing cannot import this package: it is a dev dependency of it.)

const isTyped = (e: unknown) => e instanceof T.TsgradError;

function returnsOrThrowsTyped(call: () => unknown): boolean {
  try {
    call();
    return true;
  } catch (e) {
    if (!isTyped(e)) throw e;
    return true;
  }
}

const hostile = fc.oneof(
  fc.anything(),
  fc.constant(undefined),
  fc.constant([A.tensor([1, 2])]),
  fc.constant([A.tensor([[1, 2]]), 'x']),
  fc.constant(new nn.Linear(2, 2)),
  fc.constant((x: A.Tensor) => A.exp(x)),
  fc.record({
    opset: fc.oneof(fc.integer({ min: -5, max: 30 }), fc.anything()),
    inputNames: fc.oneof(fc.array(fc.string(), { maxLength: 2 }), fc.anything()),
    outputNames: fc.anything(),
    dynamicAxes: fc.oneof(
      fc.anything(),
      fc.constant({ input_0: { 0: 'n' } }),
      fc.constant({ input_0: { 7: 'n' } }),
    ),
  }),
);

it('exportOnnx throws only typed errors for hostile arguments', () => {
  fc.assert(
    fc.property(hostile, hostile, hostile, (model, inputs, options) =>
      returnsOrThrowsTyped(() => exportOnnx(model as never, inputs as never, options as never)),
    ),
    { numRuns: 300 },
  );
});

it('importOnnx throws only typed errors for random and damaged models, and their forward too', () => {
  const valid = new Uint8Array(readFileSync(join(import.meta.dirname, 'fixtures', 'cnn.onnx')));
  const x = A.randn(T.random.key(1), [2, 1, 6, 6]);
  const damaged = fc
    .array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), {
      minLength: 1,
      maxLength: 4,
    })
    .map((edits) => {
      const bytes = valid.slice();
      for (const [at, value] of edits) bytes[at] = value;
      return bytes;
    });
  const truncated = fc.nat(valid.length).map((n) => valid.slice(0, n));
  fc.assert(
    fc.property(fc.oneof(damaged, truncated, fc.uint8Array({ maxLength: 64 }), hostile), (bytes) =>
      returnsOrThrowsTyped(() => {
        const model = importOnnx(bytes as never);
        model.forward(x);
      }),
    ),
    { numRuns: 300 },
  );
});

it('an imported model refuses hostile inputs with typed errors', () => {
  const model = importOnnx(new Uint8Array(readFileSync(join(import.meta.dirname, 'fixtures', 'mlp.onnx'))));
  fc.assert(
    fc.property(fc.array(hostile, { maxLength: 3 }), (inputs) =>
      returnsOrThrowsTyped(() => model.forward(...(inputs as A.Tensor[]))),
    ),
    { numRuns: 100 },
  );
  expect(() => model.forward(A.tensor([1, 2]))).toThrow(T.TsgradError);
});
