import * as A from '@tsgrad/autograd';
import * as nn from '@tsgrad/nn';
import * as T from '@tsgrad/tensor';
import {
  LAYER_CASES as cases,
  checkLayer,
  expectLayerConforms,
  formatLayerFailure,
  formatLayerReport,
  type LayerCheckOptions,
  LayerConformanceError,
  type LayerReport,
  NOT_LAYERS,
  summarizeLayers,
} from '@tsgrad/testing';
import { describe, expect, it } from 'vitest';
import { both, indices, uniform, warmedUp } from '../src/layer-cases.js';

// Every built-in layer of @tsgrad/nn through the layer conformance harness, as a function of
// its parameters and inputs (tiny shapes; fast mode where the layer is bigger), and a check that
// the list covers every exported Module subclass.

const SEED = 20261124;

const reports: LayerReport[] = [];

describe('every built-in layer conforms as a function of its parameters and inputs', () => {
  for (const c of cases) {
    const module = c.make();
    const label = c.check.name ?? `${module.constructor.name}${c.check.training ? ' (train)' : ''}`;
    it(label, () => {
      const report = checkLayer(module as never, { seed: SEED, ...c.check, throwOnFailure: false });
      reports.push(report);
      expect(report.failures.map(formatLayerFailure)).toEqual([]);
      expect(report.checks.gradcheck.runs).toBeGreaterThan(0);
    }, 30_000);
  }

  it('covers every exported Module subclass of @tsgrad/nn, and prints the counts', () => {
    const exported = Object.entries(nn).filter(
      ([, value]) =>
        typeof value === 'function' && value.prototype instanceof nn.Module && !NOT_LAYERS.has(value),
    );
    const covered = new Set<unknown>(cases.map((c) => c.layer));
    expect(exported.filter(([, layer]) => !covered.has(layer)).map(([name]) => name)).toEqual([]);
    for (const c of cases) expect(c.make()).toBeInstanceOf(c.layer);
    const summary = summarizeLayers(reports);
    console.log(formatLayerReport(summary));
    expect(summary.counts).toMatchObject({
      layers: cases.length,
      order1: cases.length,
      failedLayers: 0,
      underJit: cases.length,
      underVmap: cases.length,
    });
  });
});

// Layers with deliberate bugs: the harness must find each one and say where.

/** Half of the output is computed off the tape, so its gradient is missing. */
class OffTape extends nn.Module {
  readonly scale = new nn.Parameter(T.array([1.5, -0.5, 2]));

  forward(x: A.Tensor): A.Tensor {
    return A.add(A.mul(x, this.scale), A.constant(T.mul(x.value, this.scale.value)));
  }
}

/** x², with a VJP that is right once but not differentiable again (2x taken off the tape). */
const squareFirstOrderOnly = A.customVjp(
  (x: A.Tensor) => A.mul(x, x),
  (x: A.Tensor) => [A.mul(x, x), x] as const,
  (x: A.Tensor, g: A.Tensor) => [A.mul(g, A.constant(T.mul(x.value, 2)))],
);

class Square extends nn.Module {
  forward(x: A.Tensor): A.Tensor {
    return squareFirstOrderOnly(x);
  }
}

/** Computes differently in float32. */
class Float32Off extends nn.Module {
  forward(x: A.Tensor): A.Tensor {
    return A.add(x, x.dtype === 'float32' ? 0.01 : 0);
  }
}

/** Keeps a private handle on its buffer and updates it behind functionalCall's back. */
class Leaky extends nn.Module {
  readonly #count: A.Tensor;

  constructor() {
    super();
    this.#count = new A.Tensor(T.zeros([1]));
    this.registerBuffer('count', this.#count);
  }

  forward(x: A.Tensor): A.Tensor {
    this.#count.assign(T.add(this.#count.value, 1));
    return A.mul(x, 2);
  }
}

const failuresOf = (module: nn.Module, options: LayerCheckOptions<never>) =>
  checkLayer(module as never, { seed: SEED, throwOnFailure: false, ...options }).failures;

describe('the layer harness', () => {
  it('names the parameter and the element whose gradient is wrong', () => {
    const [failure] = failuresOf(new OffTape(), { inputs: [[2, 3]] });
    expect(failure).toMatchObject({ layer: 'OffTape', check: 'gradcheck', run: 0 });
    expect(failure.message).toMatch(
      /^∂\(output 0 element \[0,0\]\) \/ ∂\(parameter scale element \[0\]\): numerical -?[\d.]+, analytical -?[\d.]+$/,
    );
  });

  it('finds a second-order error that first-order checks miss', () => {
    const failures = failuresOf(new Square(), { inputs: [[3]] });
    expect(failures.map((f) => f.check)).toEqual(['gradgradcheck']);
    expect(failures[0].message).toMatch(
      /∂\(the gradient of input 0 element \[0\]\) \/ ∂\(input 0 element \[0\]\)/,
    );
    expect(failuresOf(new Square(), { inputs: [[3]], order: 1 })).toEqual([]);
  });

  it('finds randomness in training mode and float32 results that drift from float64', () => {
    const [random] = failuresOf(new nn.Dropout(0.5), { inputs: [[4, 4]], training: true });
    expect(random).toMatchObject({ check: 'forward', layer: 'Dropout' });
    expect(random.message).toMatch(/not deterministic.*check layers with randomness in eval mode/);
    const [drift] = failuresOf(new Float32Off(), { inputs: [[2, 2]] });
    expect(drift.message).toMatch(/^float32 vs float64: output 0 element \[0,0\]/);
  });

  it('finds state changed behind its back, and restores it', () => {
    const leaky = new Leaky();
    const failure = failuresOf(leaky, { inputs: [[2]] }).find((f) => f.check === 'state');
    expect(failure).toMatchObject({ check: 'state' });
    expect(failure?.message).toMatch(/changed the module's own state \(now restored\): count/);
    expect(leaky.buffers()[0].item()).toBe(0);
  });

  it('leaves a BatchNorm checked in training mode as it was: statistics, counter and mode', () => {
    const bn = warmedUp(new nn.BatchNorm2d(2), [3, 2, 2, 2]).eval();
    const before = Object.fromEntries(
      Object.entries(bn.stateDict()).map(([k, v]) => [k, Array.from(v.value.toTypedArray(), Number)]),
    );
    const report = checkLayer(bn, { inputs: [[3, 2, 2, 2]], training: true, seed: SEED, numRuns: 1 });
    expect(report.checks.state.status).toBe('passed');
    const after = Object.fromEntries(
      Object.entries(bn.stateDict()).map(([k, v]) => [k, Array.from(v.value.toTypedArray(), Number)]),
    );
    expect(after).toEqual(before);
    expect(after.num_batches_tracked).toEqual([3]);
    expect(bn.training).toBe(false);
  });

  it('rejects unusable options and throws a readable error from expectLayerConforms', () => {
    const [setup] = failuresOf(new nn.CrossEntropyLoss(), {
      inputs: both(uniform([2, 3]), indices([2], 3)),
      differentiableInputs: [1],
    });
    expect(setup).toMatchObject({ check: 'setup' });
    expect(setup.message).toMatch(
      /differentiableInputs \[1\] are not floating-point inputs \(there are 2 inputs: float64, int32\)/,
    );
    expect(() => expectLayerConforms(new OffTape(), { inputs: [[2, 3]], seed: SEED })).toThrow(
      LayerConformanceError,
    );
    expect(() => expectLayerConforms(new OffTape(), { inputs: [[2, 3]], seed: SEED })).toThrow(
      /OffTape \(eval, order 2, w\.r\.t\. scale, input 0\): 1 failure\(s\)[\s\S]*gradcheck failed \(draw #0, seed \d+\)/,
    );
  });
});
