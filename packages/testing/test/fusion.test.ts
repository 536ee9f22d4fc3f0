import * as A from '@tsgrad/autograd';
import { jit } from '@tsgrad/compiler';
import * as T from '@tsgrad/tensor';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

// The fusion pass on random programs of elementwise ops, broadcasts, reductions (which fused
// kernels absorb) and their gradients: jit with fusion gives what jit without it gives, on the CPU reference backend
// (whose interpreter rounds every step as the unfused kernels do: exactly) and on the
// default backend (generated wasm kernels: float64 to 1e-12, float32 to a few ulps).

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
  erf: A.erf,
  softmax: (t) => A.softmax(t),
  centeredSquare: (t) => A.square(A.sub(t, A.mean(t, { axis: -1, keepdims: true }))),
  logSumExpRow: (t) => A.sub(t, A.log(A.sum(A.exp(A.minimum(t, 5)), { axis: -1, keepdims: true }))),
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
  rowSum: (a) => A.add(a, A.sum(a, { axis: -1, keepdims: true })),
  columnMax: (a) => A.mul(a, A.max(a, { axis: 0 })),
};

interface Recipe {
  readonly steps: readonly { readonly op: string; readonly a: number; readonly b: number }[];
}

/** A random program: each step applies an op to earlier values (0 and 1 are the inputs). */
const recipeArb: fc.Arbitrary<Recipe> = fc.record({
  steps: fc.array(
    fc.record({
      op: fc.constantFrom(...Object.keys(UNARY), ...Object.keys(BINARY)),
      a: fc.nat(),
      b: fc.nat(),
    }),
    { minLength: 1, maxLength: 12 },
  ),
});

/** The last value, and intermediates read from outside the chain (a reduction, an output). */
function run(recipe: Recipe, x: A.Tensor, y: A.Tensor): A.Tensor[] {
  const values = [x, y];
  for (const { op, a, b } of recipe.steps) {
    const u = values[a % values.length];
    const v = values[b % values.length];
    values.push(op in UNARY ? UNARY[op](u) : BINARY[op](u, v));
  }
  return [values[values.length - 1], A.sum(values[2]), values[Math.floor(values.length / 2)]];
}

function expectClose(actual: A.Tensor[], expected: A.Tensor[], tol: number): void {
  actual.forEach((t, k) => {
    const a = t.toTypedArray();
    const e = expected[k].toTypedArray();
    for (let i = 0; i < a.length; i++) {
      const [x, y] = [Number(a[i]), Number(e[i])];
      const same = Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y));
      if (!same && !(Math.abs(x - y) <= tol * Math.max(1, Math.abs(y)))) {
        expect.fail(`output ${k}, element ${i}: fused ${x}, unfused ${y}`);
      }
    }
  });
}

function fusedMatchesUnfused(backend: T.Backend, dtype: 'float32' | 'float64', tol: number): void {
  let kernels = 0;
  T.withBackend(backend, () =>
    fc.assert(
      fc.property(recipeArb, fc.integer({ min: 1, max: 1000 }), fc.boolean(), (recipe, seed, gradient) => {
        const input = (s: number, shape: number[]) =>
          new A.Tensor(T.random.uniform(T.random.key(s), shape, { dtype, low: -2, high: 2 }));
        const x = input(seed, [3, 5]);
        const y = input(seed + 1, [5]);
        const forward = (u: A.Tensor, v: A.Tensor) => run(recipe, u, v);
        // The gradient's graph holds the forward's and the backward's chains.
        const f = gradient
          ? (u: A.Tensor, v: A.Tensor) =>
              A.grad((p: A.Tensor, q: A.Tensor) => A.sum(forward(p, q)[0]), { argnums: [0, 1] })(u, v)
          : forward;
        const fused = jit(f);
        expectClose(fused(x, y), jit(f, { fusion: false })(x, y), tol);
        kernels += fused.lastCompile?.stats.fused ?? 0;
      }),
    ),
  );
  // The property says something only if most programs fused.
  expect(kernels).toBeGreaterThan(40);
}

describe('fused equals unfused on random programs', () => {
  it('CPU reference backend, float64: exactly', () => fusedMatchesUnfused(T.cpuBackend, 'float64', 0));
  it('CPU reference backend, float32: exactly', () => fusedMatchesUnfused(T.cpuBackend, 'float32', 0));
  it('default backend, float64: to 1e-12', () => fusedMatchesUnfused(T.getBackend(), 'float64', 1e-12));
  it('default backend, float32: to a few ulps', () =>
    fusedMatchesUnfused(T.getBackend(), 'float32', 8 * 2 ** -23));
});

describe('fused reductions equal unfused ones on the generated wasm kernels', () => {
  // Rows long enough for SIMD lanes, a tail, and several rows per thread.
  const cases: Record<string, (x: A.Tensor, t: A.Tensor) => unknown> = {
    softmax: (x) => A.softmax(x),
    'softmax gradient': A.grad((x: A.Tensor, t: A.Tensor) => A.sum(A.mul(A.softmax(x), t))),
    'cross-entropy gradient': A.grad((x: A.Tensor, t: A.Tensor) => A.crossEntropy(x, A.softmax(t))),
    'layer norm gradient': A.grad((x: A.Tensor, t: A.Tensor) => A.sum(A.mul(A.layerNorm(x, [75]), t))),
    'max and min': (x) => [A.sub(x, A.max(x, { axis: 1, keepdims: true })), A.min(A.mul(x, 3), { axis: 1 })],
    'product and full sum': (x) => [A.prod(A.add(A.abs(x), 0.9), { axis: 1 }), A.sum(A.exp(x))],
    // Reductions over leading axes: a bias gradient (a column sum), a column max, channel sums.
    'column reductions': (x, t) => {
      const g = A.mul(A.relu(x), t);
      return [g, A.sum(g, { axis: 0 }), A.sub(x, A.max(x, { axis: 0, keepdims: true }))];
    },
    'channel sums of NCHW': (x) => A.sum(A.square(A.reshape(x, [37, 3, 5, 5])), { axis: [0, 2, 3] }),
  };
  for (const dtype of ['float64', 'float32'] as const) {
    for (const [name, f] of Object.entries(cases)) {
      it(`${name}, ${dtype}`, () => {
        const x = new A.Tensor(T.random.uniform(T.random.key(1), [37, 75], { dtype, low: -3, high: 3 }));
        const t = new A.Tensor(T.random.uniform(T.random.key(2), [37, 75], { dtype, low: -1, high: 1 }));
        const fused = jit(f);
        const [actual] = A.treeFlatten(fused(x, t));
        const [expected] = A.treeFlatten(jit(f, { fusion: false })(x, t));
        expect(fused.lastCompile?.stats.fused).toBeGreaterThan(0);
        expectClose(actual, expected, dtype === 'float64' ? 1e-12 : 8 * 2 ** -23);
      });
    }
  }
});
