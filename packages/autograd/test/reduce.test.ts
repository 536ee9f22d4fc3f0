import * as A from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

// Reductions and scans: values against @tsgrad/tensor and closed forms, gradients against
// float64 central differences (first and second order), and the PyTorch conventions at
// ties, zeros and large inputs. A small spec-driven loop checks each op's own spec too.

type Fn = (...xs: A.Tensor[]) => A.Tensor;

const f64 = (values: readonly number[], shape: readonly number[] = [values.length]) =>
  new A.Tensor(T.array(Float64Array.from(values), { shape, dtype: 'float64' }));
const f32 = (values: readonly number[], shape: readonly number[] = [values.length]) =>
  new A.Tensor(T.array(Float32Array.from(values), { shape }));
const leafOf = (x: A.Tensor) => new A.Tensor(x.value, { requiresGrad: true });
const numbers = (x: A.Tensor) => Array.from(x.value.toTypedArray() as ArrayLike<number>);

/** A deterministic generator for test data (mulberry32). */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomF64(shape: readonly number[], random: () => number, lo = -1, hi = 1): A.Tensor {
  return f64(
    Array.from({ length: T.sizeOf(shape) }, () => lo + (hi - lo) * random()),
    shape,
  );
}

function gradientsOf(f: Fn, xs: readonly A.Tensor[], weights: A.Tensor, createGraph = false): A.Tensor[] {
  const leaves = xs.map((x) => (x.requiresGrad ? x : leafOf(x)));
  const y = f(...leaves);
  return A.gradients([y], leaves, [weights], { createGraph }).map((g) => g as A.Tensor);
}

/**
 * Central differences (float64, eps 1e-6) of ⟨w, f(x)⟩ against reverse mode, element by
 * element; w is random. Returns the largest error seen, for reporting.
 */
function checkGradient(f: Fn, xs: readonly A.Tensor[], { atol = 1e-6, rtol = 1e-5, seed = 1 } = {}): number {
  const random = seeded(seed);
  const out = f(...xs);
  const w = randomF64(out.shape, random);
  const project = (args: readonly A.Tensor[]) => {
    const y = numbers(f(...args));
    return y.reduce((s, v, i) => s + v * numbers(w)[i], 0);
  };
  const analytic = gradientsOf(f, xs, w);
  let worst = 0;
  xs.forEach((x, i) => {
    const grad = numbers(analytic[i]);
    const base = numbers(x);
    for (let at = 0; at < x.size; at++) {
      const shifted = (delta: number) => {
        const values = base.slice();
        values[at] += delta;
        return project(xs.map((y, j) => (j === i ? f64(values, x.shape) : y)));
      };
      const numerical = (shifted(1e-6) - shifted(-1e-6)) / 2e-6;
      const error = Math.abs(numerical - grad[at]);
      worst = Math.max(worst, error);
      if (!(error <= atol + rtol * Math.abs(numerical))) {
        throw new Error(`input ${i} element ${at}: numerical ${numerical}, analytic ${grad[at]}`);
      }
    }
  });
  return worst;
}

/** checkGradient of x ↦ ⟨u, ∇⟨w, f(x)⟩⟩ (the recorded backward pass): second order. */
function checkSecondOrder(
  f: Fn,
  xs: readonly A.Tensor[],
  options: { atol?: number; rtol?: number } = {},
): number {
  const random = seeded(7);
  const w = randomF64(f(...xs).shape, random);
  const us = xs.map((x) => randomF64(x.shape, random));
  const backwardPass: Fn = (...args) => {
    const grads = gradientsOf(f, args, w, true);
    return grads.map((g, i) => A.sum(A.mul(g, us[i]))).reduce((a, b) => A.add(a, b));
  };
  return checkGradient(backwardPass, xs, { atol: 1e-5, rtol: 1e-4, ...options });
}

function expectClose(actual: readonly number[], expected: readonly number[]): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) expect(actual[i]).toBeCloseTo(expected[i], 12);
}

const grad = (f: Fn, x: A.Tensor): number[] => {
  const leaf = leafOf(x);
  A.sum(f(leaf)).backward();
  return numbers(leaf.grad as A.Tensor);
};

describe('prod', () => {
  it('matches @tsgrad/tensor over axes, with keepdims', () => {
    const x = f32([1, 2, 3, 4, 5, 6], [2, 3]);
    expect(numbers(A.prod(x))).toEqual(numbers(new A.Tensor(T.prod(x.value))));
    expect(A.prod(x, { axis: 1, keepdims: true }).shape).toEqual([2, 1]);
    expect(numbers(A.prod(x, { axis: 0 }))).toEqual([4, 10, 18]);
  });

  it('has the exact gradient with zeros in the input (one zero, two zeros)', () => {
    expect(grad((x) => A.prod(x), f64([2, 0, 3]))).toEqual([0, 6, 0]);
    expect(grad((x) => A.prod(x), f64([0, 2, 0]))).toEqual([0, 0, 0]);
    expect(grad((x) => A.prod(x, { axis: 1 }), f64([2, 0, 3, 1, 4, 5], [2, 3]))).toEqual([0, 6, 0, 20, 5, 4]);
  });

  it('passes first- and second-order numeric checks, with and without zeros', () => {
    for (const [values, shape, axis] of [
      [[0.5, -1.2, 0.8, 1.5, -0.7, 0.9], [2, 3], 1],
      [[0, -1.2, 0.8, 0, -0.7, 0.9], [2, 3], 0],
      [[0, 2, 0, 1.5], [4], undefined],
      [
        [1.1, 0, 0.8, 0.6, 2, -1, 0, 3, 0.5, 0.4, 1, 0.2],
        [2, 3, 2],
        [0, 2],
      ],
    ] as const) {
      const x = f64(values, shape);
      checkGradient((t) => A.prod(t, { axis }), [x]);
      checkSecondOrder((t) => A.prod(t, { axis }), [x]);
    }
    // The Hessian of x·y·z at (2, 0, 3): ∂²/∂x∂y = z = 3, ∂²/∂y∂z = x = 2, ∂²/∂x∂z = y = 0.
    const x = leafOf(f64([2, 0, 3]));
    const [g] = A.gradients([A.prod(x)], [x], [], { createGraph: true });
    const [h0] = A.gradients([A.sum(A.mul(g as A.Tensor, f64([0, 1, 0])))], [x]);
    expect(numbers(h0 as A.Tensor)).toEqual([3, 0, 2]);
  });
});

describe('max / min', () => {
  it('matches @tsgrad/tensor (amax semantics) with keepdims', () => {
    const x = f32([3, -1, 7, 2, 9, 0], [2, 3]);
    expect(numbers(A.max(x, { axis: 1 }))).toEqual([7, 9]);
    expect(numbers(A.min(x, { axis: 0, keepdims: true }))).toEqual([2, -1, 0]);
    expect(A.min(x, { axis: 0, keepdims: true }).shape).toEqual([1, 3]);
    expect(numbers(A.max(x))).toEqual(numbers(new A.Tensor(T.max(x.value))));
  });

  it('splits the gradient evenly among ties', () => {
    expect(grad((x) => A.max(x), f64([1, 3, 3, 2]))).toEqual([0, 0.5, 0.5, 0]);
    expect(grad((x) => A.min(x), f64([1, 1, 1, 2]))).toEqual([1 / 3, 1 / 3, 1 / 3, 0]);
    expect(grad((x) => A.max(x, { axis: 0 }), f64([5, 1, 5, 2], [2, 2]))).toEqual([0.5, 0, 0.5, 1]);
  });

  it('passes numeric checks away from ties, with a zero second derivative', () => {
    const x = f64([0.3, -1.1, 0.9, 1.7, -0.2, 0.5], [3, 2]);
    checkGradient((t) => A.max(t, { axis: 0, keepdims: true }), [x]);
    checkGradient((t) => A.min(t), [x]);
    checkSecondOrder((t) => A.mul(A.max(t, { axis: 1 }), A.min(t, { axis: 1 })), [x]);
  });

  it('maxAlong/minAlong return values and int32 indices; the gradient goes to the index', () => {
    const x = f64([3, 1, 3, 0, 4, 4], [2, 3]);
    const { values, indices } = A.maxAlong(x, 1);
    expect(numbers(values)).toEqual([3, 4]);
    expect(indices.dtype).toBe('int32');
    expect(numbers(indices)).toEqual([0, 1]);
    expect(grad((t) => A.maxAlong(t, 1).values, x)).toEqual([1, 0, 0, 0, 1, 0]);
    expect(grad((t) => A.minAlong(t, 0, { keepdims: true }).values, x)).toEqual([0, 1, 1, 1, 0, 0]);
    expect(A.minAlong(x, 0, { keepdims: true }).indices.shape).toEqual([1, 3]);
  });
});

describe('argmax / argmin', () => {
  it('returns int32 first indices, matching @tsgrad/tensor, and is not differentiable', () => {
    const x = leafOf(f64([1, 5, 5, 0, -2, 5], [2, 3]));
    const flat = A.argmax(x);
    expect(flat.dtype).toBe('int32');
    expect(flat.requiresGrad).toBe(false);
    expect(flat.item()).toBe(1);
    expect(numbers(A.argmax(x, { axis: 1 }))).toEqual([1, 2]);
    expect(numbers(A.argmin(x, { axis: 0, keepdims: true }))).toEqual([1, 1, 0]);
    expect(numbers(A.argmin(x, { axis: 1 }))).toEqual(numbers(new A.Tensor(T.argmin(x.value, { axis: 1 }))));
  });
});

describe('cumsum / cumprod', () => {
  it('match @tsgrad/tensor and the reversed scans', () => {
    const x = f32([1, 2, 3, 4, 5, 6], [2, 3]);
    expect(numbers(A.cumsum(x, 1))).toEqual(numbers(new A.Tensor(T.cumsum(x.value, 1))));
    expect(numbers(A.cumprod(x, 0))).toEqual([1, 2, 3, 4, 10, 18]);
    expect(numbers(A.cumsum(x, -1, { reverse: true }))).toEqual([6, 5, 3, 15, 11, 6]);
    expect(numbers(A.cumprod(x, 1, { reverse: true }))).toEqual([6, 6, 3, 120, 30, 6]);
    expect(A.cumsum(f32([2], []), 0).shape).toEqual([]);
  });

  it('cumsum backward is the reversed cumsum of the gradient', () => {
    const x = leafOf(f64([1, 2, 3, 4]));
    A.cumsum(x, 0).backward(f64([1, 10, 100, 1000]));
    expect(numbers(x.grad as A.Tensor)).toEqual([1111, 1110, 1100, 1000]);
    const x3 = f64([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.1, 1.2], [2, 3, 2]);
    checkGradient((t) => A.cumsum(t, 1, { reverse: true }), [x3]);
  });

  it('cumprod has exact gradients with zeros, to second order', () => {
    expect(grad((x) => A.cumprod(x, 0), f64([2, 0, 3]))).toEqual([1, 2 + 6, 0]);
    for (const [values, shape, axis, reverse] of [
      [[0.5, -1.2, 0.8, 1.5, -0.7, 0.9], [2, 3], 1, false],
      [[0.5, 0, 0.8, 1.5, 0, 0.9], [2, 3], 1, false],
      [[0, 2, 0, 1.5], [4], 0, true],
      [[1.1, 0, 0.8, 0.6, 2, -1, 0, 3, 0.5, 0.4, 1, 0.2], [2, 3, 2], -2, false],
    ] as const) {
      const x = f64(values, shape);
      checkGradient((t) => A.cumprod(t, axis, { reverse }), [x]);
      checkSecondOrder((t) => A.cumprod(t, axis, { reverse }), [x]);
    }
  });

  it('cumsum and cumprod gradients match central differences on random arrays (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }),
        fc.nat(),
        fc.boolean(),
        fc.integer({ min: 1, max: 1_000_000 }),
        (shape, axisSeed, reverse, seed) => {
          const random = seeded(seed);
          const values = Array.from({ length: T.sizeOf(shape) }, () =>
            random() < 0.2 ? 0 : 2 * random() - 1,
          );
          const x = f64(values, shape);
          const axis = axisSeed % shape.length;
          checkGradient((t) => A.cumsum(t, axis, { reverse }), [x], { seed });
          checkGradient((t) => A.cumprod(t, axis, { reverse }), [x], { seed });
        },
      ),
      { numRuns: 30 },
    );
  });
});

describe('var / std', () => {
  const x = f64([1, 2, 4, 7, 0, -3], [2, 3]);

  it('use the correction (default 1) and keepdims like torch', () => {
    // Row 0: mean 7/3, squared deviations sum 14/3; row 1: mean 4/3, sum 158/3.
    expect(numbers(A.var(x, { axis: 1 }))[0]).toBeCloseTo(7 / 3, 12);
    expect(numbers(A.variance(x, { axis: 1, correction: 0 }))[1]).toBeCloseTo(158 / 9, 12);
    expect(A.std(x, { axis: 0, keepdims: true }).shape).toEqual([1, 3]);
    expect(numbers(A.std(x, { axis: 0 }))).toEqual([Math.sqrt(18), Math.sqrt(2), Math.sqrt(24.5)]);
    const all = numbers(x);
    const m = all.reduce((a, b) => a + b) / 6;
    const ss = all.reduce((s, v) => s + (v - m) ** 2, 0);
    expect(A.var(x).item()).toBeCloseTo(ss / 5, 12);
    expect(A.var(x, { correction: 2 }).item()).toBeCloseTo(ss / 4, 12);
    expect(A.var(f64([3]))).toBeDefined();
    expect(A.var(f64([3])).item()).toBeNaN();
  });

  it('pass first- and second-order numeric checks', () => {
    checkGradient((t) => A.var(t, { axis: 1 }), [x]);
    checkGradient((t) => A.std(t, { axis: [0, 1], correction: 0 }), [x]);
    checkSecondOrder((t) => A.var(t, { axis: 0, keepdims: true }), [x]);
    checkSecondOrder((t) => A.std(t, { axis: 1 }), [x]);
  });
});

describe('logsumexp', () => {
  it('matches a float64 formula, with keepdims', () => {
    const x = f64([0.5, -1, 2, 0, 3, -2], [2, 3]);
    const expected = [
      [0.5, -1, 2],
      [0, 3, -2],
    ].map((row) => Math.log(row.reduce((s, v) => s + Math.exp(v), 0)));
    expectClose(numbers(A.logsumexp(x, { axis: 1 })), expected);
    expect(A.logsumexp(x, { axis: 1, keepdims: true }).shape).toEqual([2, 1]);
  });

  it('does not overflow or underflow for large inputs, in float32 and float64', () => {
    for (const make of [f32, f64]) {
      expect(A.logsumexp(make([1000, 1000])).item()).toBeCloseTo(1000 + Math.LN2, 3);
      expect(A.logsumexp(make([-1000, -1000])).item()).toBeCloseTo(-1000 + Math.LN2, 3);
      expect(A.logsumexp(make([1000, 0, -1000])).item()).toBeCloseTo(1000, 3);
      expect(grad((t) => A.logsumexp(t), make([1000, 1000]))).toEqual([0.5, 0.5]);
    }
    expect(A.logsumexp(f32([Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY])).item()).toBe(
      Number.NEGATIVE_INFINITY,
    );
    expect(A.logsumexp(f32([Number.POSITIVE_INFINITY, 1])).item()).toBe(Number.POSITIVE_INFINITY);
  });

  it('has the softmax gradient; numeric checks to second order', () => {
    const x = f64([0.5, -1, 2, 0, 3, -2], [2, 3]);
    const g = grad((t) => A.logsumexp(t, { axis: 1 }), x);
    const row = [0.5, -1, 2].map(Math.exp);
    const z = row.reduce((a, b) => a + b);
    expectClose(
      g.slice(0, 3),
      row.map((e) => e / z),
    );
    checkGradient((t) => A.logsumexp(t, { axis: 0 }), [x]);
    checkSecondOrder((t) => A.logsumexp(t, { axis: 1, keepdims: true }), [x]);
    checkSecondOrder((t) => A.logsumexp(t), [f64([400, 401, 399.5])]);
  });
});

describe('norm', () => {
  const v = f64([3, -4, 0, 12]);

  it('matches the closed forms for ord 1, 2, ∞ and Frobenius', () => {
    expect(A.norm(v).item()).toBeCloseTo(13, 12);
    expect(A.norm(v, { ord: 1 }).item()).toBe(19);
    expect(A.norm(v, { ord: Number.POSITIVE_INFINITY }).item()).toBe(12);
    const m = f64([1, 2, 3, 4, 5, 6], [2, 3]);
    expect(A.norm(m, { ord: 'fro' }).item()).toBeCloseTo(Math.sqrt(91), 12);
    const rows = A.norm(m, { axis: 1, keepdims: true });
    expect(rows.shape).toEqual([2, 1]);
    expect(numbers(rows)[1]).toBeCloseTo(Math.sqrt(77), 12);
    const batch = A.norm(f64([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2]), { ord: 'fro' });
    expect(numbers(batch)).toEqual([Math.sqrt(30), Math.sqrt(174)]);
  });

  it('does not overflow in float32 and has gradient 0 at the zero vector', () => {
    // Squaring would overflow (9e60) or underflow (9e-60) in float32; the scaled form does not.
    expect((A.norm(f32([3e30, 4e30])).item() as number) / 5e30).toBeCloseTo(1, 6);
    expect((A.norm(f32([3e-30, 4e-30])).item() as number) / 5e-30).toBeCloseTo(1, 6);
    expect(grad((t) => A.norm(t), f64([0, 0, 0]))).toEqual([0, 0, 0]);
    expect(grad((t) => A.norm(t, { ord: 'fro' }), f64([0, 0, 0, 0], [2, 2]))).toEqual([0, 0, 0, 0]);
  });

  it('gradients: x/‖x‖, sign(x), and ties split for ∞', () => {
    const g2 = grad((t) => A.norm(t), v);
    expectClose(g2, [3 / 13, -4 / 13, 0, 12 / 13]);
    expect(grad((t) => A.norm(t, { ord: 1 }), v)).toEqual([1, -1, 0, 1]);
    expect(grad((t) => A.norm(t, { ord: Number.POSITIVE_INFINITY }), f64([-5, 2, 5]))).toEqual([
      -0.5, 0, 0.5,
    ]);
    const m = f64([0.4, -1.3, 0.7, 2.1, -0.8, 1.1], [3, 2]);
    checkGradient((t) => A.norm(t, { axis: 0 }), [m]);
    checkGradient((t) => A.norm(t, { ord: 'fro' }), [m]);
    checkGradient((t) => A.norm(t, { ord: 1, axis: 1 }), [m]);
    checkSecondOrder((t) => A.norm(t, { axis: 1, keepdims: true }), [m]);
  });

  it('rejects unsupported orders and Frobenius norms of vectors', () => {
    expect(() => A.norm(v, { ord: 3 })).toThrow(T.ValueError);
    expect(() => A.norm(v, { ord: 'fro' })).toThrow(T.ShapeError);
    expect(() => A.norm(f64([1, 2, 3, 4], [2, 2]), { ord: 'fro', axis: 0 })).toThrow(T.ValueError);
  });
});

// ---- each op against its own spec -----------------------------------------------------------

const OWN_OPS = [
  'sum',
  'prod',
  'max',
  'min',
  'argmax',
  'argmin',
  'maxAlong',
  'minAlong',
  'logsumexp',
  'norm2',
  'cumsum',
  'cumprod',
];

/** |actual − expected| ≤ tolerance·(1 + |expected|) elementwise. */
function expectWithin(actual: readonly number[], expected: readonly number[], tolerance: number): void {
  expect(actual.length).toBe(expected.length);
  const bad = actual.findIndex(
    (v, i) => !(Math.abs(v - expected[i]) <= tolerance * (1 + Math.abs(expected[i]))),
  );
  expect(bad < 0 ? 'all close' : `element ${bad}: ${actual[bad]} vs ${expected[bad]}`).toBe('all close');
}

function drawValues(
  input: A.InputSpec<unknown>,
  shape: readonly number[],
  params: unknown,
  random: () => number,
): number[] {
  if (input.values) return Array.from(input.values(shape, params, random), (v) => Math.fround(v));
  const [lo, hi] = input.range ?? [-2, 2];
  return Array.from({ length: T.sizeOf(shape) }, () => {
    let v = 0;
    do v = Math.fround(lo + (hi - lo) * random());
    while ((input.avoid ?? []).some((p) => Math.abs(v - p) < 0.1));
    return v;
  });
}

describe('the ops against their specs', () => {
  const ops = A.registeredOps().filter((op) => OWN_OPS.includes(op.definition.name));

  it('registers every op of this module', () => {
    expect(ops.map((op) => op.definition.name).sort()).toEqual([...OWN_OPS].sort());
  });

  for (const op of ops) {
    const { name, spec } = op.definition;
    it(`${name}: reference, float32, gradients (order ${spec.order ?? 2}), jvp·vjp and errors`, () => {
      const random = seeded(11);
      for (const sample of spec.samples) {
        const params = sample.params as unknown;
        const values = spec.inputs.map((input, i) => drawValues(input, sample.shapes[i], params, random));
        const xs = values.map((v, i) => f64(v, sample.shapes[i]));
        const outputs = op.apply(xs, params);
        const expected = spec.reference?.(
          values.map((v) => Float64Array.from(v)),
          sample.shapes,
          params,
        );
        const outputs32 = op.apply(
          values.map((v, i) => f32(v, sample.shapes[i])),
          params,
        );
        outputs.forEach((y, k) => {
          expectWithin(numbers(y), Array.from(expected?.[k] ?? []), 1e-10);
          expectWithin(numbers(outputs32[k]), numbers(y), 1e-4);
        });
        if ((spec.order ?? 2) === 0) continue;
        const first: Fn = (...args) => op.apply(args, params)[0];
        checkGradient(first, xs);
        if ((spec.order ?? 2) === 2) checkSecondOrder(first, xs);
        // ⟨J u, w⟩ from the jvp rule equals ⟨u, Jᵀ w⟩ from the vjp rule.
        const { jvp, vjp } = op.definition;
        if (jvp === undefined) continue;
        const context = { inputs: xs, outputs, params, needsInputGrad: xs.map(() => true) };
        const u = xs.map((x) => randomF64(x.shape, random));
        const w = outputs.map((y) =>
          T.isFloat(y.dtype)
            ? randomF64(y.shape, random)
            : new A.Tensor(T.zeros(y.shape, { dtype: y.dtype })),
        );
        const forward = jvp(context, u).reduce(
          (s, t, k) => s + numbers(A.mul(t, w[k])).reduce((a, b) => a + b, 0),
          0,
        );
        const reverse = vjp(context, w).reduce(
          (s, g, i) =>
            s +
            (g === null ? 0 : numbers(A.mul(A.sumToShape(g, xs[i].shape), u[i])).reduce((a, b) => a + b, 0)),
          0,
        );
        expect(Math.abs(forward - reverse)).toBeLessThanOrEqual(1e-10 * (1 + Math.abs(forward)));
      }
      for (const bad of spec.errors ?? []) {
        const xs = spec.inputs.map(
          (_, i) => new A.Tensor(T.zeros(bad.shapes[i], { dtype: bad.dtypes?.[i] ?? 'float32' })),
        );
        expect(() => op.apply(xs, bad.params as unknown)).toThrow(bad.throws);
        expect(() => op.apply(xs, bad.params as unknown)).toThrow(name);
      }
    });
  }
});
