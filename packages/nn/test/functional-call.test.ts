import * as A from '@tsgrad/autograd';
import * as nn from '@tsgrad/nn';
import * as T from '@tsgrad/tensor';
import { describe, expect, it } from 'vitest';

const f64 = (values: number[], shape = [values.length]) =>
  new A.Tensor(T.array(Float64Array.from(values), { shape }));
const valuesOf = (x: A.Tensor) => Array.from(x.value.toTypedArray(), Number);

/** Two Linear layers sharing one weight (tied), as in a tied-embedding language model. */
class Tied extends nn.Module {
  readonly encoder = new nn.Linear(2, 2, { bias: false, key: T.random.key(1) });
  readonly decoder = new nn.Linear(2, 2, { bias: false, key: T.random.key(2) });

  constructor() {
    super();
    (this.decoder as unknown as { weight: nn.Parameter }).weight = this.encoder.weight;
  }

  forward(x: A.Tensor): A.Tensor {
    return this.decoder.forward(this.encoder.forward(x));
  }
}

describe('functionalCall', () => {
  it('runs the layer with the given tensors and puts its own parameters back', () => {
    const layer = new nn.Linear(2, 1, { key: T.random.key(0) });
    const { weight, bias } = layer;
    const data = weight.value;
    const x = A.tensor([[1, 2]]);
    const y = nn.functionalCall(layer, { weight: A.tensor([[3, 4]]), bias: A.tensor([0.5]) }, (m) =>
      m.forward(x),
    );
    expect(valuesOf(y)).toEqual([11.5]);
    // The originals are back, with their own data (swapped, never written into).
    expect(layer.weight).toBe(weight);
    expect(layer.bias).toBe(bias);
    expect(layer.weight.value).toBe(data);
    expect(layer.parameters()).toEqual([weight, bias]);
  });

  it('replaces only the keys given, by dotted name, in nested modules', () => {
    const net = new nn.Sequential(
      new nn.Linear(2, 2, { key: T.random.key(0) }),
      new nn.Linear(2, 1, { key: T.random.key(1) }),
    );
    const x = A.tensor([[1, -1]]);
    const first = net[0] as nn.Linear;
    const hidden = first.forward(x);
    const y = nn.functionalCall(net, { '1.weight': A.tensor([[1, 1]]), '1.bias': A.tensor([0]) }, (m) =>
      m.forward(x),
    );
    expect(valuesOf(y)[0]).toBeCloseTo(valuesOf(hidden)[0] + valuesOf(hidden)[1], 6);
  });

  it('makes the layer a function of the given tensors: gradients flow to them, not to the parameters', () => {
    const layer = new nn.Linear(3, 2, { dtype: 'float64', key: T.random.key(3) });
    const x = f64([1, 2, 3], [1, 3]);
    const w = f64([1, 0, -1, 2, 1, 0], [2, 3]);
    const b = f64([0.5, -0.5]);
    const loss = (weight: A.Tensor, bias: A.Tensor) =>
      A.sum(nn.functionalCall(layer, { weight, bias }, (m) => m.forward(x)));
    const [gw, gb] = A.grad(loss, { argnums: [0, 1] })(w, b);
    expect(valuesOf(gw)).toEqual([1, 2, 3, 1, 2, 3]);
    expect(valuesOf(gb)).toEqual([1, 1]);
    expect(layer.weight.grad).toBeNull();
    expect(A.gradcheck(loss, [w, b])).toBe(true);
  });

  it('accepts other dtypes, e.g. float64 copies of float32 weights', () => {
    const layer = new nn.Linear(2, 2, { key: T.random.key(4) });
    const params = Object.fromEntries(
      layer.namedParameters().map(([name, p]) => [name, new A.Tensor(T.cast(p.value, 'float64'))]),
    );
    const y = nn.functionalCall(layer, params, (m) => m.forward(f64([1, 2], [1, 2])));
    expect(y.dtype).toBe('float64');
    expect(layer.weight.dtype).toBe('float32');
  });

  it('replaces buffers too, so running statistics update the given tensors', () => {
    const bn = new nn.BatchNorm1d(2);
    const runningMean = new A.Tensor(T.zeros([2]));
    const counter = new A.Tensor(T.zeros([], { dtype: 'int32' }));
    const x = A.tensor([
      [1, 2],
      [3, 6],
    ]);
    nn.functionalCall(bn, { running_mean: runningMean, num_batches_tracked: counter }, (m) => m.forward(x));
    expect(valuesOf(runningMean).map((v) => Math.round(v * 1e6) / 1e6)).toEqual([0.2, 0.4]);
    expect(counter.item()).toBe(1);
    expect(valuesOf(bn.running_mean as A.Tensor)).toEqual([0, 0]);
    expect((bn.num_batches_tracked as A.Tensor).item()).toBe(0);

    bn.eval();
    const shifted = nn.functionalCall(bn, { running_mean: f64([1, 2]) }, (m) =>
      m.forward(A.tensor([[1, 2]], { dtype: 'float64' })),
    );
    expect(valuesOf(shifted).map((v) => Math.abs(v))).toEqual([0, 0]);
  });

  it('restores the originals when fn throws', () => {
    const layer = new nn.Linear(2, 2, { key: T.random.key(5) });
    const weight = layer.weight;
    expect(() =>
      nn.functionalCall(layer, { weight: A.tensor([[1, 2, 3]]) }, (m) => m.forward(A.tensor([[1, 2]]))),
    ).toThrow();
    expect(layer.weight).toBe(weight);
  });

  it('rejects unknown keys, non-tensors and (strict) missing keys before calling fn', () => {
    const net = new nn.Sequential(new nn.Linear(2, 2, { key: T.random.key(6) }));
    let called = false;
    const call = (params: Record<string, A.Tensor>, options?: nn.FunctionalCallOptions) =>
      nn.functionalCall(
        net,
        params,
        () => {
          called = true;
        },
        options,
      );
    expect(() => call({ '0.wieght': A.tensor([1]) })).toThrow(nn.StateDictError);
    expect(() => call({ '0.wieght': A.tensor([1]) })).toThrow(
      /functionalCall: Sequential: unexpected keys: 0\.wieght \(no parameter or buffer has this name\); its parameters and buffers are: 0\.weight, 0\.bias/,
    );
    expect(() => call({ '3.weight': A.tensor([1]) })).toThrow(/3\.weight \(3 is not a submodule\)/);
    expect(() => call({ '0.forward': A.tensor([1]) })).toThrow(/unexpected keys: 0\.forward/);
    expect(() => call({ '0.weight': [1] as unknown as A.Tensor })).toThrow(
      /the value for 0\.weight is not a Tensor/,
    );
    expect(() => call({ '0.weight': A.tensor([[1, 2]]) }, { strict: true })).toThrow(/missing keys: 0\.bias/);
    expect(called).toBe(false);
    call({ '0.weight': A.tensor([[1, 2]]), '0.bias': A.tensor([0]) }, { strict: true });
    expect(called).toBe(true);
  });

  it('replaces a tied weight everywhere it appears, under either name', () => {
    const tied = new Tied();
    expect(tied.namedParameters().map(([n]) => n)).toEqual(['encoder.weight']);
    const x = A.tensor([[1, 2]]);
    const double = A.tensor([
      [2, 0],
      [0, 2],
    ]);
    for (const key of ['encoder.weight', 'decoder.weight']) {
      const y = nn.functionalCall(tied, { [key]: double }, (m) => m.forward(x));
      expect(valuesOf(y)).toEqual([4, 8]);
    }
    // Untied: only the named occurrence changes.
    const once = nn.functionalCall(tied, { 'decoder.weight': double }, (m) => m.forward(x), {
      tieWeights: false,
    });
    expect(valuesOf(once)).toEqual(valuesOf(A.mul(tied.encoder.forward(x), 2)));
    expect(tied.decoder.weight).toBe(tied.encoder.weight);
    expect(() =>
      nn.functionalCall(
        tied,
        {
          'encoder.weight': double,
          'decoder.weight': A.tensor([
            [1, 0],
            [0, 1],
          ]),
        },
        () => 0,
      ),
    ).toThrow(/decoder\.weight and encoder\.weight are tied, but were given different tensors/);
  });
});
