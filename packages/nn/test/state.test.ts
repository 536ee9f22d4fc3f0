import * as A from '@tsgrad/autograd';
import * as nn from '@tsgrad/nn';
import * as T from '@tsgrad/tensor';
import { describe, expect, it } from 'vitest';

// All-or-nothing loadStateDict, zero-feature layers and Module.to/double/float.

class Net extends nn.Module {
  readonly first = new nn.Linear(2, 3);
  readonly norm = new nn.BatchNorm1d(3);
  readonly last = new nn.Linear(3, 1);

  forward(x: A.Tensor): A.Tensor {
    return this.last.forward(A.tanh(this.norm.forward(this.first.forward(x))));
  }
}

/** Every parameter and buffer of `module` as dtype and plain numbers. */
const contents = (module: nn.Module) =>
  Object.entries(module.stateDict()).map(([name, t]) => [
    name,
    t.dtype,
    Array.from(t.toTypedArray(), Number),
  ]);

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

describe('Module.loadStateDict is all-or-nothing', () => {
  for (const strict of [true, false]) {
    it(`checks every key, shape and dtype before copying anything (strict: ${strict})`, () => {
      nn.manualSeed(0);
      const source = new Net();
      nn.manualSeed(1);
      const target = new Net();
      const before = contents(target);
      const good = source.stateDict();
      // 'first.weight' comes first and is fine: it must not be copied when a later entry is bad.
      const bad: [Record<string, unknown>, RegExp][] = [
        [{ ...good, 'last.bias': new A.Tensor(T.zeros([4])) }, /size mismatch for last\.bias/],
        [
          { ...good, 'last.weight': T.zeros([1, 3], { dtype: 'int32' }) },
          /dtype mismatch for last\.weight: the checkpoint has int32, the model float32/,
        ],
        [
          { ...good, 'norm.num_batches_tracked': T.zeros([]) },
          /dtype mismatch for norm\.num_batches_tracked/,
        ],
        [{ ...good, 'last.bias': [0.5] }, /the value for last\.bias is not a Tensor or an NDArray/],
      ];
      for (const [state, message] of bad) {
        const error = thrown(() => target.loadStateDict(state as never, { strict }));
        expect(error).toBeInstanceOf(nn.StateDictError);
        expect(error).toBeInstanceOf(T.TsgradError);
        expect(error.message).toMatch(/^Net\.loadStateDict: /);
        expect(error.message).toMatch(message);
        expect(contents(target)).toEqual(before);
      }
      expect(thrown(() => target.loadStateDict(null as never))).toBeInstanceOf(T.TsgradError);
      // a float64 checkpoint loads into the float32 model, converted
      const float64 = Object.fromEntries(
        Object.entries(good).map(([k, t]) => [k, t.dtype === 'float32' ? T.cast(t.value, 'float64') : t]),
      );
      target.loadStateDict(float64, { strict });
      expect(contents(target)).toEqual(contents(source));
    });
  }

  it('strict mode reports missing and unexpected keys together, and changes nothing', () => {
    const target = new Net();
    const before = contents(target);
    const { 'first.bias': _, ...partial } = new Net().stateDict();
    const error = thrown(() => target.loadStateDict({ ...partial, extra: new A.Tensor(T.zeros([1])) }));
    expect(error.message).toMatch(/missing keys: first\.bias; unexpected keys: extra/);
    expect(contents(target)).toEqual(before);
  });

  it('functionalCall throws StateDictError, a TsgradError', () => {
    const error = thrown(() => nn.functionalCall(new Net(), { nope: new A.Tensor(T.zeros([1])) }, () => 0));
    expect(error).toBeInstanceOf(T.ValueError);
    expect(error.message).toMatch(/^functionalCall: Net: unexpected keys: nope/);
  });
});

describe('zero features (as PyTorch allows)', () => {
  it('Linear(0, 3): an empty weight, a zero bias, a bias-only forward', () => {
    const layer = new nn.Linear(0, 3);
    expect(layer.weight.shape).toEqual([3, 0]);
    expect(Array.from(layer.bias!.toTypedArray())).toEqual([0, 0, 0]);
    layer.bias!.assign(T.array([1, 2, 3]));
    const y = layer.forward(A.tensor(T.zeros([2, 0])));
    expect(y.shape).toEqual([2, 3]);
    expect(y.toArray()).toEqual([
      [1, 2, 3],
      [1, 2, 3],
    ]);
    expect(new nn.Linear(3, 0).forward(A.tensor(T.ones([2, 3]))).shape).toEqual([2, 0]);
  });

  it('initializers leave zero-element tensors alone instead of dividing by a zero fan', () => {
    const empty = () => new nn.Parameter(T.zeros([4, 0]));
    for (const init of [
      nn.init.kaimingUniform,
      nn.init.kaimingNormal,
      nn.init.xavierUniform,
      nn.init.xavierNormal,
      nn.init.orthogonal,
    ]) {
      expect(init(empty()).shape).toEqual([4, 0]);
    }
  });

  it('bad feature counts are typed errors', () => {
    expect(() => new nn.Linear(-1, 3)).toThrow(
      /^Linear: inFeatures and outFeatures must be non-negative integers/,
    );
    expect(() => new nn.Linear(2.5, 3)).toThrow(T.ValueError);
    expect(() => new nn.Linear('2' as never, 3)).toThrow(T.ValueError);
  });
});

describe('Module.to / double / float', () => {
  it('converts parameters and floating buffers in place, keeping identity and integer buffers', () => {
    nn.manualSeed(2);
    const net = new Net();
    net.forward(
      A.tensor([
        [1, 2],
        [3, 4],
      ]),
    ); // updates the running statistics and the counter
    const params = net.parameters();
    const before = contents(net);
    expect(net.double()).toBe(net);
    expect(net.parameters()).toEqual(params);
    net.parameters().forEach((p, i) => {
      expect(p).toBe(params[i]);
      expect(p.dtype).toBe('float64');
      expect(p.requiresGrad).toBe(true);
    });
    const buffers = Object.fromEntries(net.namedBuffers());
    expect(buffers['norm.running_mean'].dtype).toBe('float64');
    expect(buffers['norm.num_batches_tracked'].dtype).toBe('int32');
    // float32 → float64 → float32 is exact
    net.float();
    expect(contents(net)).toEqual(before);
  });

  it('a float64 model passes gradcheck, and trains in float64', () => {
    nn.manualSeed(3);
    const model = new nn.Sequential(new nn.Linear(3, 4), new nn.Tanh(), new nn.Linear(4, 2)).double();
    const x = A.tensor(T.random.normal(T.random.key(0), [5, 3], { dtype: 'float64' }), {
      requiresGrad: true,
    });
    expect(A.gradcheck((input: A.Tensor) => model.forward(input), [x])).toBe(true);

    const loss = () => A.sum(A.square(model.forward(x.detach())));
    const start = loss().item();
    for (let i = 0; i < 5; i++) {
      model.zeroGrad();
      loss().backward();
      for (const p of model.parameters()) p.assign(T.sub(p.value, T.mul(p.grad!.value, 0.05)));
    }
    expect(model.parameters().every((p) => p.dtype === 'float64')).toBe(true);
    expect(Number(loss().item())).toBeLessThan(Number(start));
  });

  it('converts gradients too, and rejects other dtypes', () => {
    const layer = new nn.Linear(2, 2);
    A.sum(layer.forward(A.tensor([[1, 2]]))).backward();
    layer.double();
    expect(layer.weight.grad?.dtype).toBe('float64');
    expect(() => layer.to('int32' as never)).toThrow(T.DTypeError);
  });
});
