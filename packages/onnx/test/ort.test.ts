import * as A from '@tsgrad/autograd';
import { makeGraph } from '@tsgrad/compiler';
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
/** The primitives the exported graphs contained: every lowering must have run. */
const lowered = new Set<string>();

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
        for (const eq of makeGraph(f)(...inputs).equations) lowered.add(eq.primitive);
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

// Export follows PyTorch's exporter: a module is traced in eval mode (dropout off, batch norm on
// its running statistics), so the harness's training-mode cases are checked in eval mode here.
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

it('sorts stably (sort is no registered op: its tests are here)', async () => {
  const x = A.tensor([
    [3, 1, 2, 1, 3],
    [0, -1, 0, 5, -1],
  ]);
  const sorts = (x: A.Tensor) => {
    const up = A.sort(x, { axis: 1 });
    const down = A.sort(x, { axis: 0, descending: true });
    const top = A.topk(x, 2, { axis: 1 });
    return [up.values, up.indices, down.values, down.indices, top.values, top.indices];
  };
  for (const eq of makeGraph(sorts)(x).equations) lowered.add(eq.primitive);
  expectSame(await runOrt(exportOnnx(sorts, [x]), [x]), sorts(x), { atol: 0, rtol: 0 });
});

it('exercised the lowering of every primitive', () => {
  const primitives = Object.keys(T.cpuBackend.kernels);
  expect(primitives.length).toBeGreaterThan(50);
  expect(primitives.filter((p) => !lowered.has(p))).toEqual([]);
});

it('exports a gradient: the backward graph of a loss runs in onnxruntime', async () => {
  const w = A.randn(T.random.key(7), [3, 4]);
  const x = A.randn(T.random.key(8), [5, 3]);
  const loss = (w: A.Tensor, x: A.Tensor) => A.mean(A.square(A.tanh(A.matmul(x, w))));
  const gradient = (w: A.Tensor, x: A.Tensor) => A.grad(loss)(w, x);
  expectSame(await runOrt(exportOnnx(gradient, [w, x]), [w, x]), [gradient(w, x)], {
    atol: 1e-5,
    rtol: 1e-4,
  });
});

it('matched every registered op and every layer configuration (none is skipped)', () => {
  expect(matched.ops.size).toBe(A.registeredOps().length);
  expect(matched.layers).toBe(LAYER_CASES.length);
});

afterAll(() => {
  console.log(`onnx: ${matched.ops.size} ops, ${matched.layers} layers exported and matched`);
});
