import * as A from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

// float64 central differences against the tape: torch-style gradcheck and gradgradcheck,
// with tolerances tighter than their defaults.
const tight = { atol: 1e-6, rtol: 1e-5 };
function gradcheck(f: (...xs: A.Tensor[]) => A.Tensor, xs: A.Tensor[]): void {
  expect(A.gradcheck(f, xs, tight)).toBe(true);
  expect(A.gradgradcheck(f, xs, tight)).toBe(true);
}

const f64 = (values: ArrayLike<number>, shape: readonly number[] = [values.length]) =>
  new A.Tensor(T.array(Float64Array.from(values), { shape }), { requiresGrad: true });
const values = (x: A.Tensor) => Array.from(x.toTypedArray() as Float64Array);

/** d f(x)/dx at each point, through the tape. */
function slopes(f: (x: A.Tensor) => A.Tensor, points: number[]): number[] {
  const x = f64(points);
  A.sum(f(x)).backward();
  return values(x.grad as A.Tensor);
}

const expectClose = (got: number[], want: number[], digits = 12) => {
  expect(got.length).toBe(want.length);
  for (const [i, g] of got.entries()) expect(g, `element ${i}`).toBeCloseTo(want[i], digits);
};

// ---- closed forms ---------------------------------------------------------------------------

const points = [-3, -1.5, -0.3, 0.4, 1.2, 2.5];
const sig = (x: number) => 1 / (1 + Math.exp(-x));
const seluAlpha = 1.6732632423543772;
const seluScale = 1.0507009873554805;

const closedForms: [string, (x: A.Tensor) => A.Tensor, (x: number) => number][] = [
  ['relu', A.relu, (x) => Math.max(x, 0)],
  ['leakyRelu', (x) => A.leakyRelu(x, { negativeSlope: 0.2 }), (x) => (x > 0 ? x : 0.2 * x)],
  ['leakyRelu default', (x) => A.leakyRelu(x), (x) => (x > 0 ? x : 0.01 * x)],
  ['elu', (x) => A.elu(x, { alpha: 1.5 }), (x) => (x > 0 ? x : 1.5 * Math.expm1(x))],
  ['selu', A.selu, (x) => seluScale * (x > 0 ? x : seluAlpha * Math.expm1(x))],
  [
    'gelu tanh',
    (x) => A.gelu(x, { approximate: 'tanh' }),
    (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))),
  ],
  ['silu', A.silu, (x) => x * sig(x)],
  ['softplus', A.softplus, (x) => Math.log1p(Math.exp(x))],
  [
    'softplus beta 2, threshold 3',
    (x) => A.softplus(x, { beta: 2, threshold: 3 }),
    (x) => (2 * x > 3 ? x : Math.log1p(Math.exp(2 * x)) / 2),
  ],
  ['sigmoid', A.sigmoid, sig],
  ['logSigmoid', A.logSigmoid, (x) => Math.log(sig(x))],
  ['square', A.square, (x) => x * x],
  ['clamp', (x) => A.clamp(x, { min: -1, max: 2 }), (x) => Math.min(Math.max(x, -1), 2)],
  ['clamp min only', (x) => A.clamp(x, { min: 0.5 }), (x) => Math.max(x, 0.5)],
  ['clamp max only', (x) => A.clamp(x, { max: 0.5 }), (x) => Math.min(x, 0.5)],
  ['hardtanh', A.hardtanh, (x) => Math.min(Math.max(x, -1), 1)],
  ['relu6', (x) => A.relu6(A.mul(x, 3)), (x) => Math.min(Math.max(3 * x, 0), 6)],
];

describe('activations: values', () => {
  for (const [name, f, reference] of closedForms) {
    it(`${name} matches its closed form`, () => {
      expectClose(values(f(f64(points))), points.map(reference));
    });
  }

  it('gelu (exact) is x·Φ(x)', () => {
    // Φ(1), Φ(2), Φ(0.5) to 16 digits
    const phi = { 1: 0.8413447460685429, 2: 0.9772498680518208, 0.5: 0.6914624612740131 };
    const got = values(A.gelu(f64([1, -1, 2, 0.5, 0])));
    expectClose(got, [phi[1], -(1 - phi[1]), 2 * phi[2], 0.5 * phi[0.5], 0], 7);
    expect(() => A.gelu(f64([1]), { approximate: 'cubic' as 'tanh' })).toThrow(T.ValueError);
  });

  it('rsqrt is 1/√x', () => {
    expectClose(values(A.rsqrt(f64([0.25, 1, 4, 9]))), [2, 1, 0.5, 1 / 3]);
  });

  it('keeps float32 inputs in float32', () => {
    const x = new A.Tensor(T.array([-1, 0.5, 2], { dtype: 'float32' }));
    for (const f of [
      A.relu,
      A.sigmoid,
      A.logSigmoid,
      A.gelu,
      A.silu,
      A.softplus,
      A.elu,
      (t: A.Tensor) => A.softmax(t),
    ]) {
      expect(f(x).dtype).toBe('float32');
    }
  });
});

describe('activations: conventions at kinks (PyTorch)', () => {
  it('relu′(0) = 0, leakyRelu′(0) = slope, elu′(0) = α', () => {
    expect(slopes(A.relu, [-1, 0, 1])).toEqual([0, 0, 1]);
    expect(slopes((x) => A.leakyRelu(x, { negativeSlope: 0.1 }), [-1, 0, 1])).toEqual([0.1, 0.1, 1]);
    expect(slopes((x) => A.elu(x, { alpha: 2 }), [0, 1])).toEqual([2, 1]);
  });

  it('clamp passes the gradient at its bounds, hardtanh and relu6 do not', () => {
    expect(slopes((x) => A.clamp(x, { min: -1, max: 1 }), [-2, -1, 0, 1, 2])).toEqual([0, 1, 1, 1, 0]);
    expect(slopes(A.hardtanh, [-2, -1, 0, 1, 2])).toEqual([0, 0, 1, 0, 0]);
    expect(slopes(A.relu6, [-1, 0, 3, 6, 7])).toEqual([0, 0, 1, 0, 0]);
  });

  it('softplus is x itself above the threshold (slope exactly 1)', () => {
    expect(slopes(A.softplus, [21, 30])).toEqual([1, 1]);
    expect(slopes((x) => A.softplus(x, { beta: 2, threshold: 3 }), [1.6])).toEqual([1]);
  });
});

describe('activations: stability', () => {
  it('sigmoid and logSigmoid stay finite at ±1000, with finite gradients', () => {
    expect(values(A.sigmoid(f64([-1000, 1000])))).toEqual([0, 1]);
    expect(values(A.logSigmoid(f64([-1000, 1000])))).toEqual([-1000, 0]);
    expect(slopes(A.sigmoid, [-1000, 1000])).toEqual([0, 0]);
    expect(slopes(A.logSigmoid, [-1000, 1000])).toEqual([1, 0]);
    const f32 = new A.Tensor(T.array([-1000, -100, 100, 1000], { dtype: 'float32' }));
    // log σ(100) = −e^{−100} ≈ −3.8e−44, a float32 subnormal
    expect(Array.from(A.logSigmoid(f32).toTypedArray())).toEqual([
      -1000,
      -100,
      Math.fround(-Math.exp(-100)),
      0,
    ]);
  });

  it('elu, selu, softplus and silu have no NaN gradient at ±1000', () => {
    for (const f of [A.elu, A.selu, A.softplus, A.silu, A.gelu]) {
      const s = slopes(f, [-1000, 1000]);
      expect(s.every(Number.isFinite), `${s}`).toBe(true);
    }
    expect(values(A.softplus(f64([-1000, 1000])))).toEqual([0, 1000]);
  });

  it('softmax and logSoftmax are finite for logits ±1000', () => {
    const x = f64([1000, -1000, 999, 0], [2, 2]);
    expectClose(values(A.softmax(x)), [1, 0, 1, Math.exp(-999)]);
    expectClose(values(A.logSoftmax(x)), [0, -2000, 0, -999]);
    const g = slopes(
      (t) =>
        A.mul(
          A.logSoftmax(A.reshape(t, [2, 2])),
          A.constant(
            T.array(
              [
                [1, 2],
                [3, 4],
              ],
              { dtype: 'float64' },
            ),
          ),
        ),
      [1000, -1000, 999, 0],
    );
    expect(g.every(Number.isFinite)).toBe(true);
  });
});

describe('activations: gradients (float64 central differences, orders 1 and 2)', () => {
  // points away from the kinks at 0 (and at clamp bounds)
  const away = [-2.3, -0.7, 0.6, 1.9];
  for (const [name, f] of closedForms) {
    it(name, () => gradcheck(f, [f64(away)]));
  }
  it('gelu (exact)', () => gradcheck((x) => A.gelu(x), [f64(away)]));
  it('rsqrt', () => gradcheck(A.rsqrt, [f64([0.3, 1.1, 2.5])]));
});

describe('softmax and logSoftmax', () => {
  const x3 = () => f64([0.3, -1.2, 0.8, 2.1, -0.4, 0.05, 1.5, -2, 0.7, 0.2, -0.9, 1.1], [2, 3, 2]);

  it('normalize along the chosen axis', () => {
    for (const axis of [0, 1, 2, -1]) {
      const p = A.softmax(x3(), axis);
      expect(values(A.sum(p, { axis })).every((s) => Math.abs(s - 1) < 1e-12)).toBe(true);
      expectClose(values(A.exp(A.logSoftmax(x3(), axis))), values(p));
    }
  });

  it('match the closed form on a row', () => {
    const row = [0.5, -1, 2];
    const total = row.reduce((s, v) => s + Math.exp(v), 0);
    expectClose(
      values(A.softmax(f64(row))),
      row.map((v) => Math.exp(v) / total),
    );
    expectClose(
      values(A.logSoftmax(f64(row))),
      row.map((v) => v - Math.log(total)),
    );
  });

  it('are invariant to shifting the logits (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -50, max: 50, noNaN: true }), { minLength: 1, maxLength: 6 }),
        fc.double({ min: -500, max: 500, noNaN: true }),
        (row, c) => {
          const a = values(A.softmax(f64(row)));
          const b = values(A.softmax(f64(row.map((v) => v + c))));
          for (const [i, v] of a.entries()) expect(Math.abs(v - b[i])).toBeLessThan(1e-9);
        },
      ),
    );
  });

  it('of a 0-d tensor are 1 and 0', () => {
    expect(A.softmax(f64([3], [])).item()).toBe(1);
    expect(A.logSoftmax(f64([3], [])).item()).toBe(0);
  });

  it('have correct first and second derivatives on every axis', () => {
    for (const axis of [0, 1, -1]) {
      gradcheck((x) => A.softmax(x, axis), [x3()]);
      gradcheck((x) => A.logSoftmax(x, axis), [x3()]);
    }
  });

  it('use the VJPs y·(g − Σg·y) and g − softmax·Σg', () => {
    const x = f64([0.2, -0.5, 1.0]);
    const g = A.constant(T.array([1, -2, 0.5], { dtype: 'float64' }));
    const y = values(A.softmax(x));
    const [ds] = A.gradients([A.softmax(x)], [x], [g]);
    const dot = [1, -2, 0.5].reduce((s, gi, i) => s + gi * y[i], 0);
    expectClose(
      values(ds as A.Tensor),
      y.map((yi, i) => yi * ([1, -2, 0.5][i] - dot)),
    );
    const [dl] = A.gradients([A.logSoftmax(x)], [x], [g]);
    expectClose(
      values(dl as A.Tensor),
      y.map((yi, i) => [1, -2, 0.5][i] - yi * -0.5),
    );
  });

  it('reject integer inputs and bad axes', () => {
    const ints = new A.Tensor(T.array([1, 2, 3], { dtype: 'int32' }));
    expect(() => A.softmax(ints)).toThrow(T.DTypeError);
    expect(() => A.logSoftmax(f64([1, 2]), 1)).toThrow(T.IndexError);
    expect(() => A.softmax(f64([1, 2], [1, 2]), -3)).toThrow(/softmax/);
  });
});

describe('clamp', () => {
  it('needs a bound and keeps integer dtypes', () => {
    expect(() => A.clamp(f64([1]), {})).toThrow(T.ValueError);
    const ints = new A.Tensor(T.array([-3, 0, 5], { dtype: 'int32' }));
    const c = A.clamp(ints, { min: -1, max: 2 });
    expect(c.dtype).toBe('int32');
    expect(Array.from(c.toTypedArray())).toEqual([-1, 0, 2]);
  });
});

describe('dropout', () => {
  const key = T.random.key(42);
  const ones = (n: number) => new A.Tensor(T.ones([n], { dtype: 'float64' }), { requiresGrad: true });

  it('is reproducible under a key, and different keys give different masks', () => {
    const a = values(A.dropout(ones(64), { p: 0.3, key }));
    expect(values(A.dropout(ones(64), { p: 0.3, key }))).toEqual(a);
    const [other] = T.random.split(key, 2);
    expect(values(A.dropout(ones(64), { p: 0.3, key: other }))).not.toEqual(a);
  });

  it('zeroes about p of the elements and scales survivors by 1/(1 − p), preserving the mean', () => {
    const n = 20_000;
    const p = 0.3;
    const y = values(A.dropout(ones(n), { p, key }));
    const zeros = y.filter((v) => v === 0).length;
    expect(y.every((v) => v === 0 || Math.abs(v - 1 / (1 - p)) < 1e-12)).toBe(true);
    // binomial standard deviation √(n·p·(1 − p)) ≈ 65 elements; allow 5σ
    expect(Math.abs(zeros - n * p)).toBeLessThan(5 * Math.sqrt(n * p * (1 - p)));
    expect(Math.abs(y.reduce((s, v) => s + v, 0) / n - 1)).toBeLessThan(0.025);
  });

  it('passes the gradient through the kept elements only (the mask is a constant)', () => {
    const x = ones(32);
    const y = A.dropout(x, { p: 0.5, key });
    A.sum(A.mul(y, y)).backward();
    const kept = values(y);
    expect(values(x.grad as A.Tensor)).toEqual(kept.map((v) => 2 * v * v));
    gradcheck((t) => A.dropout(t, { p: 0.4, key }), [f64([0.5, -1, 2, 0.3, 1.5, -0.2])]);
  });

  it('is the identity when not training or p = 0, and zero for p = 1', () => {
    const x = ones(5);
    expect(A.dropout(x, { p: 0.5, training: false })).toBe(x);
    expect(A.dropout(x, { p: 0 })).toBe(x);
    expect(values(A.dropout(x, { p: 1 }))).toEqual([0, 0, 0, 0, 0]);
  });

  it('validates p, the key and the dtype', () => {
    expect(() => A.dropout(ones(3), { p: 1.5, key })).toThrow(T.ValueError);
    expect(() => A.dropout(ones(3), { p: 0.5 })).toThrow(/key/);
    expect(() => A.dropout(new A.Tensor(T.array([1, 2], { dtype: 'int32' })), { key })).toThrow(T.DTypeError);
  });
});
