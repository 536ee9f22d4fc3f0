import * as A from '@tsgrad/autograd';
import { fuseElementwise, type Graph, makeGraph, optimizeGraph, type PlanGraph } from '@tsgrad/compiler';
import * as nn from '@tsgrad/nn';
import { getBackend } from '@tsgrad/tensor';
import { describe, expect, it } from 'vitest';

// What a compiled LSTM training step is made of: the kernels per time step, counted in the
// fused plan of the loss's gradient with respect to every parameter.

const count = (g: PlanGraph, primitive: string) =>
  g.equations.filter((eq) => eq.primitive === primitive).length;
const fusedPlan = (g: Graph) => fuseElementwise(optimizeGraph(g, getBackend()), getBackend());
const values = (n: number) => A.tensor(Array.from({ length: n }, (_, i) => Math.sin(i)));

/** The fused plan of the gradient of sum(output²) of an LSTM over `seq` steps. */
function lstmGradientPlan(seq: number): PlanGraph {
  const lstm = new nn.LSTM(4, 8, { batchFirst: true });
  const names = [...lstm.namedParameters()].map(([name]) => name);
  const x = values(2 * seq * 4).reshape([2, seq, 4]);
  const loss = (...params: A.Tensor[]) =>
    nn.functionalCall(lstm, Object.fromEntries(names.map((name, i) => [name, params[i]])), (m) => {
      const [y] = m.forward(x);
      return A.sum(A.mul(y, y));
    });
  const gradient = A.grad(loss, { argnums: names.map((_, i) => i) });
  return fusedPlan(makeGraph(gradient)(...[...lstm.namedParameters()].map(([, p]) => p.detach())));
}

describe('the compiled LSTM', () => {
  it("split's gradient is one concat of the pieces' gradients, not a zero-padded copy per piece", () => {
    const f = A.grad((x: A.Tensor) => {
      const [a, b, c] = A.split(x, 3, -1);
      return A.sum(A.add(A.mul(a, b), A.exp(c)));
    });
    const g = makeGraph(f, { optimize: true })(values(12).reshape([2, 6]));
    expect(count(g, 'concat')).toBe(1);
    expect(count(g, 'pad')).toBe(0);
  });

  it('takes one matmul and one fused gate kernel per step forward, one fused kernel, a concat and a matmul backward', () => {
    const kernels = (g: PlanGraph) => {
      const counts: Record<string, number> = {};
      for (const eq of g.equations) counts[eq.primitive] = (counts[eq.primitive] ?? 0) + 1;
      return counts;
    };
    const [short, long] = [kernels(lstmGradientPlan(3)), kernels(lstmGradientPlan(6))];
    // What each added step adds to the plan (primitives whose count does not change left out).
    const perStep = Object.fromEntries(
      Object.keys(long)
        .map((primitive) => [primitive, (long[primitive] - (short[primitive] ?? 0)) / 3] as const)
        .filter(([, added]) => added !== 0),
    );
    expect(perStep).toEqual({ matmul: 2, fused: 2, concat: 1 });
    expect(count(lstmGradientPlan(3), 'pad')).toBe(0);
  });
});
