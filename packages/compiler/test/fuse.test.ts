import * as A from '@tsgrad/autograd';
import { getBackend } from '@tsgrad/tensor';
import { describe, expect, it } from 'vitest';
import { fuseElementwise, graphText, jit, makeGraph, optimizeGraph, type PlanGraph } from '../src/index.js';
import { expectClose, seeded } from './helpers.js';

const primitives = (g: PlanGraph) => g.equations.map((eq) => eq.primitive);
const fused = (f: (...args: A.Tensor[]) => unknown, ...args: A.Tensor[]) =>
  fuseElementwise(optimizeGraph(makeGraph(f)(...args), getBackend()), getBackend());

describe('elementwise fusion', () => {
  const x = seeded([2, 3], 1);
  const b = seeded([3], 2);

  it('fuses a chain with a broadcast input and scalar constants into one kernel', () => {
    const g = fused((v, w) => A.add(A.mul(A.exp(A.add(v, w)), v), 1), x, b);
    expect(primitives(g)).toEqual(['fused']);
    expect(graphText(g)).toContain(
      'fused{ t2 = add(in0, in1); t3 = exp(t2); t4 = mul(t3, in0); t6 = add(t4, 1) → t6 } a b.view([2,3] strides [0,1])',
    );
  });

  it('writes an intermediate that another equation reads as a second output', () => {
    const g = fused((v) => {
      const h = A.tanh(A.mul(v, 2));
      const y = A.neg(A.exp(h));
      return [y, A.matmul(h, A.transpose(h))];
    }, x);
    expect(primitives(g)).toEqual(['fused', 'matmul']);
    expect(g.equations[0].outputs).toHaveLength(2);
  });

  it('moves a chain past an equation that reads it but does not feed it', () => {
    const g = fused((v) => {
      const h = A.tanh(A.mul(v, 2));
      const s = A.matmul(h, A.transpose(h)); // reads h, and the chain below does not depend on it
      return [s, A.neg(A.exp(h))];
    }, x);
    expect(primitives(g)).toEqual(['fused', 'matmul']);
    expect(g.equations[0].outputs).toHaveLength(2);
  });

  it('does not fuse across a matmul of the chain itself (the kernels would wait for each other)', () => {
    const w = seeded([3, 3], 4);
    const f = (v: A.Tensor) => {
      const h = A.mul(A.exp(v), 3);
      return A.sub(h, A.matmul(h, w));
    };
    expect(primitives(fused(f, x))).toEqual(['fused', 'matmul', 'sub']);
    expectClose(jit(f)(x), f(x));
  });

  it('stops at matmuls and views that do not line up elementwise', () => {
    const g = fused((v) => A.exp(A.add(A.transpose(A.neg(v)), 1)), x);
    // neg alone is not worth a kernel; the transposed read of its output must be in memory.
    expect(primitives(g)).toEqual(['neg', 'fused']);
  });

  it('computes a matmul transposed when everything reads it transposed (a weight gradient)', () => {
    const w = seeded([4, 3], 5);
    // The gradient of a [4, 3] weight used as x·wᵀ comes out as gᵀ·x: the update reads it in order.
    const f = (v: A.Tensor, u: A.Tensor) => {
      const g = A.grad((p: A.Tensor) => A.sum(A.tanh(A.matmul(v, A.transpose(p)))))(u);
      return A.sub(u, A.mul(g, 0.1));
    };
    const g = fused(f, x, w);
    const product = g.equations.find(
      (eq) => eq.primitive === 'matmul' && g.buffers[eq.outputs[0]].shape[0] === 4,
    );
    expect(product).toBeDefined();
    const update = g.equations[g.equations.length - 1];
    expect(update.primitive).toBe('fused');
    expect(update.inputs.every((v) => v.strides[v.strides.length - 1] <= 1)).toBe(true);
    expectClose(jit(f)(x, w), jit(f, { fusion: false })(x, w));
  });

  it('fuses the forward and backward of a ReLU layer, mask included', () => {
    const f = A.grad((v: A.Tensor, w: A.Tensor) => A.sum(A.mul(A.relu(A.add(v, w)), 3)));
    const g = fused(f, x, b);
    expect(primitives(g)).toEqual(['fused']);
    expectClose(jit(f)(x, b), f(x, b));
  });

  it('leaves makeGraph unfused', () => {
    expect(primitives(makeGraph((v: A.Tensor) => A.exp(A.neg(v)), { optimize: true })(x))).toEqual([
      'neg',
      'exp',
    ]);
  });

  it('jit fuses by default and can be told not to', () => {
    const f = (v: A.Tensor) => A.sigmoid(A.mul(v, v));
    const on = jit(f);
    const off = jit(f, { fusion: false });
    expectClose(on(x), off(x), 0);
    expect(on.lastCompile?.stats.fused).toBe(1);
    expect(off.lastCompile?.stats.fused).toBe(0);
  });
});
