import * as A from '@tsgrad/autograd';
import { type FusedProgram, getBackend } from '@tsgrad/tensor';
import { describe, expect, it } from 'vitest';
import { fuseElementwise, jit, makeGraph, optimizeGraph, type PlanGraph } from '../src/index.js';
import { expectClose, seeded } from './helpers.js';

// Reductions in fused kernels (on the CPU reference backend here; the generated wasm kernels
// are checked against unfused plans in @tsgrad/testing's fusion tests).

const primitives = (g: PlanGraph) => g.equations.map((eq) => eq.primitive);
const fused = (f: (...args: A.Tensor[]) => unknown, ...args: A.Tensor[]) =>
  fuseElementwise(optimizeGraph(makeGraph(f)(...args), getBackend()), getBackend());
const programs = (g: PlanGraph) =>
  g.equations.flatMap((eq) => (eq.primitive === 'fused' ? [eq.params as FusedProgram] : []));
const reductions = (p: FusedProgram) => p.steps.filter((s) => s.kind === 'reduce').map((s) => s.op);

describe('fusion with reductions', () => {
  const x = seeded([5, 7], 1);
  const t = seeded([5, 7], 2);

  it('runs softmax as one kernel: max, Σ exp and the quotient', () => {
    const g = fused((v) => A.softmax(v), x);
    expect(primitives(g)).toEqual(['fused']);
    const [p] = programs(g);
    expect(reductions(p)).toEqual(['max', 'sum']);
    expect(p.reduce).toEqual({ shape: [5, 7], axes: [1] });
    expectClose(jit((v: A.Tensor) => A.softmax(v))(x), A.softmax(x), 0);
  });

  it('runs the gradients of softmax and cross-entropy as one kernel each', () => {
    const soft = A.grad((v: A.Tensor, w: A.Tensor) => A.sum(A.mul(A.softmax(v), w)));
    const cross = A.grad((v: A.Tensor, w: A.Tensor) => A.crossEntropy(v, A.softmax(w)));
    for (const f of [soft, cross]) {
      expect(primitives(fused(f, x, t))).toEqual(['fused']);
      expectClose(jit(f)(x, t), jit(f, { fusion: false })(x, t), 0);
    }
  });

  it('runs layer norm, forward and backward, as one kernel', () => {
    const f = A.grad((v: A.Tensor) => A.sum(A.mul(A.layerNorm(v, [7]), t)));
    expect(primitives(fused(f, x))).toEqual(['fused']);
    expectClose(jit(f)(x), jit(f, { fusion: false })(x), 0);
  });

  it('computes per-row work after a reduction (logsumexp) and writes row outputs', () => {
    const f = (v: A.Tensor) => {
      const m = A.max(v, { axis: 1 });
      const lse = A.add(A.log(A.sum(A.exp(A.sub(v, A.reshape(m, [5, 1]))), { axis: 1 })), m);
      return [lse, m];
    };
    const g = fused(f, x);
    expect(primitives(g)).toEqual(['fused']);
    expect(g.equations[0].outputs.map((id) => g.buffers[id].shape)).toEqual([[5], [5]]);
    expectClose(jit(f)(x), jit(f, { fusion: false })(x), 0);
  });

  it('fuses reductions over leading axes and over every axis', () => {
    const column = (v: A.Tensor) => A.exp(A.sum(A.mul(v, v), { axis: 0 }));
    const all = (v: A.Tensor) => A.mul(A.sum(A.square(v)), 2);
    for (const f of [column, all]) {
      expect(primitives(fused(f, x))).toEqual(['fused']);
      expectClose(jit(f)(x), jit(f, { fusion: false })(x), 0);
    }
  });

  it('keeps reductions of different axes in different kernels', () => {
    const f = (v: A.Tensor) => A.add(A.sum(A.exp(v), { axis: 0 }), A.sum(A.exp(v), { axis: 1 }).sum());
    const g = fused(f, x);
    for (const p of programs(g)) expect(new Set(p.reduce?.axes.map(String)).size).toBeLessThanOrEqual(1);
    expectClose(jit(f)(x), jit(f, { fusion: false })(x), 0);
  });
});
