import * as A from '@tsgrad/autograd';
import * as nn from '@tsgrad/nn';
import * as T from '@tsgrad/tensor';
import { describe, expect, it } from 'vitest';

class Net extends nn.Module {
  readonly layers = new nn.Sequential(new nn.Linear(2, 3), new nn.Linear(3, 1));
  readonly scale = new nn.Parameter(T.ones([1]));

  constructor() {
    super();
    this.registerBuffer('steps', new A.Tensor(T.zeros([], { dtype: 'int32' })));
  }

  forward(x: A.Tensor): A.Tensor {
    return A.mul(this.layers.forward(x), this.scale);
  }
}

describe('Module', () => {
  it('names parameters and buffers like a PyTorch state_dict', () => {
    nn.manualSeed(0);
    const net = new Net();
    expect(net.namedParameters().map(([n]) => n)).toEqual([
      'scale',
      'layers.0.weight',
      'layers.0.bias',
      'layers.1.weight',
      'layers.1.bias',
    ]);
    // PyTorch's order: module by module, each module's parameters and then its buffers.
    expect(Object.keys(net.stateDict())).toEqual([
      'scale',
      'steps',
      'layers.0.weight',
      'layers.0.bias',
      'layers.1.weight',
      'layers.1.bias',
    ]);
    expect(net.numParameters()).toBe(1 + 6 + 3 + 3 + 1);
    expect(net.toString()).toContain('(0): Linear(inFeatures=2, outFeatures=3, bias=true)');
  });

  it('loads a state dict in place, strictly by default', () => {
    nn.manualSeed(1);
    const a = new Net();
    const b = new Net();
    const weight = b.layers[0] as nn.Linear;
    const before = weight.weight;
    b.loadStateDict(a.stateDict());
    expect(weight.weight).toBe(before);
    expect(b.layers[0].forward(A.tensor([[1, 2]])).toArray()).toEqual(
      a.layers[0].forward(A.tensor([[1, 2]])).toArray(),
    );
    const { steps: _, ...partial } = a.stateDict();
    expect(() => b.loadStateDict(partial)).toThrow(/missing keys: steps/);
    expect(b.loadStateDict(partial, { strict: false }).missingKeys).toEqual(['steps']);
    expect(() => b.loadStateDict({ ...a.stateDict(), 'layers.0.bias': new A.Tensor(T.zeros([4])) })).toThrow(
      /size mismatch for layers.0.bias/,
    );
  });

  it('trains: gradients reach every parameter', () => {
    nn.manualSeed(2);
    const net = new Net();
    A.sum(
      net.forward(
        A.tensor([
          [1, 2],
          [3, 4],
        ]),
      ),
    ).backward();
    for (const p of net.parameters()) expect(p.grad).not.toBeNull();
    net.zeroGrad();
    expect(net.parameters().every((p) => p.grad === null)).toBe(true);
    expect(net.eval().layers[1].training).toBe(false);
  });
});
