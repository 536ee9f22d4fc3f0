import * as A from '@tsgrad/autograd';
import { functionalCall, type Module } from '@tsgrad/nn';
import * as T from '@tsgrad/tensor';
import { drawInputs, LAYER_CASES, mismatch, mixSeed, seededRandom, toTensors } from '@tsgrad/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exportOnnx, importOnnx } from '../src/index.js';

// Export → import gives back the same function: equal outputs (float64, to 1e-10) and equal
// gradients through the imported model (vjp against the original's, and gradcheck), for every
// registered op at its sample shapes and every layer configuration of the layer harness.

const SEED = fc.readConfigureGlobal().seed ?? 20261124;
const CLOSE = { atol: 1e-10, rtol: 1e-10 };
const numbersOf = (x: A.Tensor) => x.value.toTypedArray() as ArrayLike<number>;

function expectClose(actual: readonly A.Tensor[], expected: readonly A.Tensor[], label: string): void {
  expect(actual.length, label).toBe(expected.length);
  expected.forEach((e, k) => {
    expect(`${actual[k].dtype}[${actual[k].shape}]`, `${label} ${k}`).toBe(`${e.dtype}[${e.shape}]`);
    const tolerance = T.isFloat(e.dtype) ? CLOSE : { atol: 0, rtol: 0 };
    expect(mismatch(numbersOf(actual[k]), numbersOf(e), e.shape, tolerance), `${label} ${k}`).toBeUndefined();
  });
}

/** The VJP of `f` w.r.t. the float64 inputs marked in `diff`, for cotangents on its float64 outputs. */
function pullback(
  f: (...xs: A.Tensor[]) => A.Tensor[],
  inputs: readonly A.Tensor[],
  diff: readonly boolean[],
  random: () => number,
) {
  const at = inputs.filter((_, i) => diff[i]);
  const merged = (xs: A.Tensor[]) => {
    let k = 0;
    return inputs.map((x, i) => (diff[i] ? xs[k++] : x));
  };
  const floats = (ys: A.Tensor[]) => ys.filter((y) => y.dtype === 'float64');
  const [outputs, pull] = A.vjp((...xs: A.Tensor[]) => floats(f(...merged(xs))), ...at);
  const cotangents = outputs.map(
    (y) =>
      new A.Tensor(
        T.array(
          Float64Array.from({ length: y.size }, () => 2 * random() - 1),
          { shape: y.shape, dtype: 'float64' },
        ),
      ),
  );
  return pull(cotangents);
}

describe('export → import of every registered op gives the same outputs and gradients', () => {
  for (const op of A.registeredOps()) {
    const { name, spec } = op.definition;
    it(name, () => {
      for (const [index, sample] of spec.samples.entries()) {
        const drawn = drawInputs(spec, sample, seededRandom(mixSeed(SEED, name, index)));
        const inputs = toTensors(drawn, 'float64');
        const f = (...xs: A.Tensor[]) => op.apply(xs, sample.params as never);
        const imported = importOnnx(exportOnnx(f, inputs));
        const g = (...xs: A.Tensor[]) => imported.run(...xs);
        expectClose(g(...inputs), f(...inputs), `sample ${index} output`);
        if ((spec.order ?? 2) === 0 || !drawn.differentiable.some(Boolean)) continue;
        const random = seededRandom(mixSeed(SEED, name, index, 'vjp'));
        const expected = pullback(f, inputs, drawn.differentiable, random);
        const random2 = seededRandom(mixSeed(SEED, name, index, 'vjp'));
        expectClose(pullback(g, inputs, drawn.differentiable, random2), expected, `sample ${index} gradient`);
      }
    });
  }
});

describe('export → import of every layer configuration: same outputs, and gradcheck through the imported model', () => {
  for (const c of LAYER_CASES) {
    const module = c.make();
    const label = c.check.name ?? module.constructor.name;
    it(label, () => {
      module.eval();
      module.to('float64');
      const random = seededRandom(mixSeed(SEED, label));
      const given = c.check.inputs;
      const inputs =
        typeof given === 'function'
          ? given(random)
          : toTensors(
              drawInputs(
                { inputs: given.map(() => ({ range: c.check.range, avoid: c.check.avoid })), samples: [] },
                { shapes: given },
                random,
              ),
              'float64',
            );
      const call = c.check.call as ((m: Module, ...xs: A.Tensor[]) => unknown) | undefined;
      const forward = (...xs: A.Tensor[]) =>
        A.treeFlatten(
          call
            ? call(module, ...xs)
            : (module as unknown as { forward(...a: A.Tensor[]): unknown }).forward(...xs),
        )[0];
      const imported = importOnnx(exportOnnx(call ? forward : module, inputs));
      expectClose(imported.run(...inputs), forward(...inputs), 'output');
      const diff = inputs.map(
        (x, i) => x.dtype === 'float64' && (c.check.differentiableInputs ?? [i]).includes(i),
      );
      const params = imported.parameters().filter((p) => p.dtype === 'float64');
      const through = (...xs: A.Tensor[]) => {
        let k = 0;
        const all = inputs.map((x, i) => (diff[i] ? xs[k++] : x));
        return imported.run(...all).filter((y) => y.dtype === 'float64');
      };
      if (diff.some(Boolean))
        expect(
          A.gradcheck(
            through,
            inputs.filter((_, i) => diff[i]),
            { fastMode: true, seed: 5 },
          ),
          'gradcheck w.r.t. the inputs',
        ).toBe(true);
      if (params.length > 0) {
        const ofParams = (...ps: A.Tensor[]) => {
          const state = Object.fromEntries(imported.namedParameters().map(([n], i) => [n, ps[i]]));
          return functionalCall(imported, state, (m) =>
            m.run(...inputs).filter((y) => y.dtype === 'float64'),
          );
        };
        expect(
          A.gradcheck(ofParams, params, { fastMode: true, seed: 6 }),
          'gradcheck w.r.t. the parameters',
        ).toBe(true);
      }
    });
  }
});
