import * as A from '@tsgrad/autograd';
import type { Module } from '@tsgrad/nn';
import * as T from '@tsgrad/tensor';
import {
  drawInputs,
  LAYER_CASES,
  type LayerCase,
  mismatch,
  mixSeed,
  seededRandom,
  type Tolerance,
  tolerancesFor,
  toTensors,
} from '@tsgrad/testing';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { exportOnnx } from '../src/index.js';
import { runOrt } from './ort.js';

// Every registered op at its spec's sample shapes and every layer configuration of the layer
// harness: exported, run in onnxruntime-node, compared with tsgrad's own output (float32
// tolerance for floats, exact for integers and booleans).

const SEED = fc.readConfigureGlobal().seed ?? 20261124;
const LAYER_TOLERANCE: Tolerance = { atol: 1e-4, rtol: 1e-4 };

const numbersOf = (x: A.Tensor) => x.value.toTypedArray() as ArrayLike<number>;

function expectSame(actual: readonly A.Tensor[], expected: readonly A.Tensor[], float32: Tolerance): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((e, k) => {
    const y = actual[k];
    expect(`${y.dtype}[${y.shape}]`, `output ${k}`).toBe(`${e.dtype}[${e.shape}]`);
    const tolerance = T.isFloat(e.dtype) ? float32 : { atol: 0, rtol: 0 };
    expect(mismatch(numbersOf(y), numbersOf(e), e.shape, tolerance), `output ${k}`).toBeUndefined();
  });
}

const matched = { ops: new Set<string>(), layers: 0 };

describe('every registered op exports and runs in onnxruntime with equal outputs', () => {
  for (const op of A.registeredOps()) {
    const { name, spec } = op.definition;
    it(name, async () => {
      expect(spec.samples.length).toBeGreaterThan(0);
      for (const [index, sample] of spec.samples.entries()) {
        const random = seededRandom(mixSeed(SEED, name, index));
        const inputs = toTensors(drawInputs(spec, sample, random), 'float32');
        const f = (...xs: A.Tensor[]) => op.apply(xs, sample.params as never);
        const expected = f(...inputs);
        const actual = await runOrt(exportOnnx(f, inputs), inputs);
        expectSame(actual, expected, tolerancesFor(spec).float32);
      }
      matched.ops.add(name);
    });
  }
});

/** The layer's inputs as the layer harness draws them, in float32. */
function layerInputs(c: LayerCase, random: () => number): A.Tensor[] {
  const given = c.check.inputs;
  const xs =
    typeof given === 'function'
      ? given(random)
      : toTensors(
          drawInputs(
            { inputs: given.map(() => ({ range: c.check.range })), samples: [] },
            { shapes: given },
            random,
          ),
          'float64',
        );
  return xs.map((x) => (T.isFloat(x.dtype) ? x.to('float32') : x));
}

describe('every layer configuration of the layer harness exports (eval mode) with equal outputs', () => {
  for (const c of LAYER_CASES) {
    const module = c.make();
    const label = c.check.name ?? module.constructor.name;
    it(label, async () => {
      module.eval();
      module.to('float32');
      const inputs = layerInputs(c, seededRandom(mixSeed(SEED, label)));
      const call = c.check.call as ((m: Module, ...xs: A.Tensor[]) => unknown) | undefined;
      const model = call ? (...xs: A.Tensor[]) => call(module, ...xs) : module;
      const expected = A.treeFlatten(
        call
          ? call(module, ...inputs)
          : (module as unknown as { forward(...xs: A.Tensor[]): unknown }).forward(...inputs),
      )[0];
      const actual = await runOrt(exportOnnx(model, inputs), inputs);
      expectSame(actual, expected, LAYER_TOLERANCE);
      matched.layers++;
    });
  }
});

afterAll(() => {
  console.log(`onnx: ${matched.ops.size} ops, ${matched.layers} layers exported and matched`);
});
