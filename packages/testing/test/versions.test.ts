import * as A from '@tsgrad/autograd';
import * as nn from '@tsgrad/nn';
import { SGD } from '@tsgrad/optim';
import { describe, expect, it } from 'vitest';

// Version counters across packages: an optimizer step changes parameters in place.
describe('optimizer steps and saved tensors', () => {
  it('refuses backward through a graph whose saved parameters a step has changed', () => {
    nn.manualSeed(0);
    const layer = new nn.Linear(3, 2);
    const optimizer = new SGD(layer.parameters(), { lr: 0.1 });
    const x = A.tensor([[1, 2, 3]]);
    const first = A.sum(A.square(layer.forward(x)));
    first.backward(undefined, { retainGraph: true });
    optimizer.step();
    // The step bumped the weight's version: the retained graph is stale.
    expect(() => first.backward()).toThrow(A.InPlaceModificationError);
    // (Initialization assigned each parameter once: version 1 when saved.)
    expect(() => first.backward()).toThrow(
      /input \d of '\w+' \(float32 \[[\d,]+\]\) was saved at version 1 and is now at version 2/,
    );
  });

  it('keeps training legal: each forward after a step saves the new version', () => {
    nn.manualSeed(0);
    const layer = new nn.Linear(3, 2);
    const optimizer = new SGD(layer.parameters(), { lr: 0.01 });
    const x = A.tensor([[1, 2, 3]]);
    const initial = layer.weight.version;
    const losses: number[] = [];
    for (let step = 0; step < 3; step++) {
      optimizer.zeroGrad();
      const loss = A.sum(A.square(layer.forward(x)));
      loss.backward();
      optimizer.step();
      losses.push(loss.item() as number);
    }
    expect(losses[2]).toBeLessThan(losses[0]);
    expect(layer.weight.version).toBe(initial + 3);
  });
});
