import * as A from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';
import { describe, expect, it } from 'vitest';

// Forward mode: JVPs from an op's rule or, without one, derived from its VJP (double-VJP),
// nested levels, and the interplay with reverse mode.

const f64 = (values: number[], shape?: number[]) =>
  new A.Tensor(T.array(Float64Array.from(values), { shape: shape ?? [values.length] }));
const scalar = (v: number) => f64([v], []);
const list = (x: A.Tensor) => Array.from(x.toTypedArray() as Float64Array);
const expectClose = (actual: A.Tensor, expected: readonly number[], digits = 10) => {
  const got = list(actual);
  expect(got.length).toBe(expected.length);
  for (const [i, v] of got.entries()) expect(v).toBeCloseTo(expected[i], digits);
};
const unchecked = { inputs: [], samples: [], order: 0 } as const;

// Ops without a jvp rule, not registered (the conformance harness must not see them).
const cubeOp = A.defineOp(
  {
    name: 'cubeWithoutJvp',
    forward: ([x]) => T.mul(T.mul(x, x), x),
    vjp: ({ inputs: [x] }, [g]) => [A.mul(g, A.mul(3, A.mul(x, x)))],
    spec: unchecked,
  },
  { register: false },
);
const cube = (x: A.Tensor) => cubeOp.apply([x], {})[0];

// a·b with broadcasting; its VJP returns broadcast-shaped gradients (the tape reduces them).
const productOp = A.defineOp(
  {
    name: 'productWithoutJvp',
    forward: ([a, b]) => T.mul(a, b),
    vjp: ({ inputs: [a, b] }, [g]) => [A.mul(g, b), A.mul(g, a)],
    spec: unchecked,
  },
  { register: false },
);
const product = (a: A.Tensor, b: A.Tensor) => productOp.apply([a, b], {})[0];

// Two outputs, sin and cos.
const sinCosOp = A.defineOp(
  {
    name: 'sinCosWithoutJvp',
    forward: ([x]) => [T.sin(x), T.cos(x)],
    vjp: ({ inputs: [x] }, [gs, gc]) => [A.sub(A.mul(gs, A.cos(x)), A.mul(gc, A.sin(x)))],
    spec: unchecked,
  },
  { register: false },
);

describe('jvp rules and the double-VJP trick', () => {
  it('uses an op’s jvp rule', () => {
    const [y, t] = A.jvp((x: A.Tensor) => A.sin(x), [f64([0.1, 0.7])], [f64([1, 2])]);
    expectClose(y, [Math.sin(0.1), Math.sin(0.7)]);
    expectClose(t, [Math.cos(0.1), 2 * Math.cos(0.7)]);
  });

  it('derives a JVP from the VJP when the op has no rule', () => {
    const [y, t] = A.jvp(cube, [f64([0.5, -2])], [f64([1, 0.5])]);
    expectClose(y, [0.125, -8]);
    expectClose(t, [0.75, 6]);
  });

  it('derives the JVP of a broadcasting op, tangents of both inputs', () => {
    const a = f64([1, 2, 3], [3]);
    const b = f64([10, 20], [2, 1]);
    const [, t] = A.jvp(product, [a, b], [f64([1, 0, -1], [3]), f64([0.5, 2], [2, 1])]);
    // ta·b + a·tb, broadcast to [2,3]
    expect(t.shape).toEqual([2, 3]);
    expectClose(t, [10 + 0.5, 1, -10 + 1.5, 20 + 2, 4, -20 + 6]);
    // Only one input carries a tangent: the other counts as zero.
    const [, only] = A.jvp((x: A.Tensor) => product(x, b), [a], [f64([1, 1, 1])]);
    expectClose(only, [10, 10, 10, 20, 20, 20]);
  });

  it('derives the JVPs of every output of a multi-output op', () => {
    const x = f64([0.3, 1.2]);
    const [, [ts, tc]] = A.jvp((v: A.Tensor) => sinCosOp.apply([v], {}), [x], [f64([1, 2])]);
    expectClose(ts, [Math.cos(0.3), 2 * Math.cos(1.2)]);
    expectClose(tc, [-Math.sin(0.3), -2 * Math.sin(1.2)]);
  });

  it('nests derived JVPs: third derivative of x³ is 6', () => {
    const d = (g: (x: A.Tensor) => A.Tensor) => (x: A.Tensor) => A.jvp(g, [x], [scalar(1)])[1];
    expect(d(d(d(cube)))(scalar(0.7)).item()).toBeCloseTo(6, 10);
    expect(d(d(cube))(scalar(0.7)).item()).toBeCloseTo(4.2, 10);
  });

  it('mixes derived JVPs with reverse mode both ways', () => {
    const x = scalar(0.7);
    const forwardOfReverse = A.jvp(A.grad(cube), [x], [scalar(1)])[1];
    const reverseOfForward = A.grad((v: A.Tensor) => A.jvp(cube, [v], [scalar(1)])[1])(x);
    expect(forwardOfReverse.item()).toBeCloseTo(4.2, 10);
    expect(reverseOfForward.item()).toBeCloseTo(4.2, 10);
  });

  it('gives int and bool inputs no tangent, and int/bool outputs zero tangents', () => {
    const x = f64([1, -2, 3]);
    const mask = A.gt(x, 0);
    const [y, t] = A.jvp((v: A.Tensor) => A.where(mask, v, A.mul(v, 10)), [x], [f64([1, 1, 1])]);
    expectClose(y, [1, -20, 3]);
    expectClose(t, [1, 10, 1]);
    const [b, tb] = A.jvp((v: A.Tensor) => A.gt(v, 0), [x], [f64([1, 1, 1])]);
    expect(b.dtype).toBe('bool');
    expect(tb.dtype).toBe('bool');
  });
});

describe('nested levels', () => {
  it('does not confuse the perturbations of nested jvp calls', () => {
    // d/dx [ d/dy (x·y) at y = 2 ] = d/dx x = 1 (not 2, the classic perturbation confusion).
    const inner = (x: A.Tensor) => A.jvp((y: A.Tensor) => A.mul(x, y), [scalar(2)], [scalar(1)])[1];
    const [value, slope] = A.jvp(inner, [scalar(3)], [scalar(1)]);
    expect(value.item()).toBeCloseTo(3, 12);
    expect(slope.item()).toBeCloseTo(1, 12);
  });

  it('computes d³/dx³ tanh with jvp of jvp of jvp and with forward over reverse', () => {
    const x0 = 0.4;
    const t = Math.tanh(x0);
    const third = -2 * (1 - t * t) * (1 - 3 * t * t);
    const d = (g: (x: A.Tensor) => A.Tensor) => (x: A.Tensor) => A.jvp(g, [x], [scalar(1)])[1];
    expect(d(d(d(A.tanh)))(scalar(x0)).item()).toBeCloseTo(third, 10);
    expect(d(A.grad(d(A.tanh)))(scalar(x0)).item()).toBeCloseTo(third, 10);
  });

  it('keeps working inside noGrad', () => {
    const [, t] = A.noGrad(() => A.jvp(cube, [scalar(2)], [scalar(1)]));
    expect(t.item()).toBeCloseTo(12, 12);
    expect(t.requiresGrad).toBe(false);
  });
});

describe('agreement with reverse mode', () => {
  const functions: [string, (x: A.Tensor) => A.Tensor][] = [
    ['tanh∘sin', (x) => A.tanh(A.sin(x))],
    ['x·Σx', (x) => A.mul(x, A.sum(x))],
    ['exp(x)/Σexp(x)', (x) => A.div(A.exp(x), A.sum(A.exp(x)))],
    ['cube', (x) => cube(x)],
    ['reshape/permute', (x) => A.permute(A.reshape(A.mul(x, x), [2, 3]), [1, 0])],
  ];

  it.each(functions)('satisfies the dot-product test ⟨J u, v⟩ = ⟨u, Jᵀ v⟩ for %s', (_, f) => {
    const key = T.random.key(3);
    const [k1, k2, k3] = T.random.split(key, 3);
    const x = new A.Tensor(T.random.normal(k1, [6], { dtype: 'float64' }));
    const u = new A.Tensor(T.random.normal(k2, [6], { dtype: 'float64' }));
    const [y, ju] = A.jvp(f, [x], [u]);
    const v = new A.Tensor(T.random.normal(k3, y.shape, { dtype: 'float64' }));
    const [, pullback] = A.vjp(f, x);
    const [jtv] = pullback(v);
    const left = A.sum(A.mul(ju, v)).item() as number;
    const right = A.sum(A.mul(u, jtv)).item() as number;
    expect(left).toBeCloseTo(right, 10);
  });
});
