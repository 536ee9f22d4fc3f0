import * as A from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';
import { getBackend } from '@tsgrad/tensor';
import fc from 'fast-check';
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
      return [y, A.sum(h)];
    }, x);
    expect(primitives(g)).toEqual(['fused', 'sum']);
    expect(g.equations[0].outputs).toHaveLength(2);
  });

  it('stops at reductions, matmuls and views that do not line up elementwise', () => {
    const g = fused((v) => A.exp(A.add(A.transpose(A.neg(v)), 1)), x);
    // neg alone is not worth a kernel; the transposed read of its output must be in memory.
    expect(primitives(g)).toEqual(['neg', 'fused']);
    const h = fused((v) => A.exp(A.sum(A.mul(v, v), { axis: 1 })), x);
    expect(primitives(h)).toEqual(['mul', 'sum', 'exp']);
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

// ---- random elementwise graphs: fused equals unfused --------------------------------------

type Unary = (t: A.Tensor) => A.Tensor;
type Binary = (a: A.Tensor, b: A.Tensor) => A.Tensor;
const UNARY: Record<string, Unary> = {
  exp: (t) => A.exp(A.minimum(t, 5)),
  log: (t) => A.log(A.add(A.abs(t), 0.5)),
  tanh: A.tanh,
  neg: A.neg,
  abs: A.abs,
  sqrt: (t) => A.sqrt(A.abs(t)),
  sin: A.sin,
  relu: A.relu,
  sigmoid: A.sigmoid,
  floor: A.floor,
  sign: A.sign,
  square: (t) => A.mul(t, t),
};
const BINARY: Record<string, Binary> = {
  add: A.add,
  sub: A.sub,
  mul: A.mul,
  div: (a, c) => A.div(a, A.add(A.abs(c), 0.25)),
  maximum: A.maximum,
  minimum: A.minimum,
  where: (a, c) => A.where(A.gt(a, c), a, A.mul(c, 0.5)),
  pow: (a, c) => A.pow(A.abs(a), c),
  sum: (a) => A.add(a, A.sum(a, { axis: -1, keepdims: true })),
};

interface Recipe {
  readonly steps: readonly { readonly op: string; readonly a: number; readonly b: number }[];
}

/** A random program over values 0..1 (the inputs): each step reads earlier values; all are returned. */
const recipeArb = fc.record({
  steps: fc.array(
    fc.record({
      op: fc.constantFrom(...Object.keys(UNARY), ...Object.keys(BINARY)),
      a: fc.nat(),
      b: fc.nat(),
    }),
    { minLength: 1, maxLength: 12 },
  ),
});

function run(recipe: Recipe, x: A.Tensor, y: A.Tensor): A.Tensor[] {
  const values = [x, y];
  for (const { op, a, b } of recipe.steps) {
    const u = values[a % values.length];
    const v = values[b % values.length];
    values.push(op in UNARY ? UNARY[op](u) : BINARY[op](u, v));
  }
  // The last value, and a few intermediates read from outside the chain.
  return [values[values.length - 1], A.sum(values[2]), values[Math.floor(values.length / 2)]];
}

function fusedMatchesUnfused(dtype: 'float32' | 'float64', tol: number): void {
  let kernels = 0;
  fc.assert(
    fc.property(recipeArb, fc.integer({ min: 1, max: 1000 }), (recipe, seed) => {
      const x = new A.Tensor(T.random.uniform(T.random.key(seed), [3, 5], { dtype, low: -2, high: 2 }));
      const y = new A.Tensor(T.random.uniform(T.random.key(seed + 1), [5], { dtype, low: -2, high: 2 }));
      const f = (u: A.Tensor, v: A.Tensor) => run(recipe, u, v);
      const withFusion = jit(f);
      expectClose(withFusion(x, y), jit(f, { fusion: false })(x, y), tol);
      kernels += withFusion.lastCompile?.stats.fused ?? 0;
    }),
  );
  // The property is only worth something if most programs fused.
  expect(kernels).toBeGreaterThan(30);
}

describe('fused equals unfused on random elementwise graphs (CPU reference backend)', () => {
  it('float64, exactly', () => fusedMatchesUnfused('float64', 0));
  it('float32, exactly', () => fusedMatchesUnfused('float32', 0));
});
