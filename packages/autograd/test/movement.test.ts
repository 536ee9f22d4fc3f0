import * as A from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

// Movement, combining and indexing ops: their specs checked the way the conformance harness
// will (reference, gradcheck, gradgradcheck, jvp·vjp dot test, error samples), the movement
// ops' semantics against @tsgrad/tensor, and the composites' gradients numerically.

// ---- float64 numerics -------------------------------------------------------------------

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const values = (x: A.Tensor | T.NDArray) =>
  Array.from(x instanceof A.Tensor ? x.toTypedArray() : x.toTypedArray(), Number);

function leaf(data: ArrayLike<number>, shape: readonly number[], requiresGrad = true): A.Tensor {
  return new A.Tensor(T.array(Float64Array.from(data), { shape }), { requiresGrad });
}

function randomLeaf(shape: readonly number[], random: () => number, [lo, hi] = [-2, 2]): A.Tensor {
  return leaf(
    Array.from({ length: sizeOf(shape) }, () => lo + (hi - lo) * random()),
    shape,
  );
}

type ScalarFn = (xs: A.Tensor[]) => A.Tensor;

/** Central differences of a scalar function of float64 leaves against the tape's gradients. */
function expectGradcheck(fn: ScalarFn, xs: A.Tensor[], eps = 1e-6, atol = 1e-6, rtol = 1e-5): void {
  const wrt = xs.filter((x) => x.requiresGrad);
  const analytic = A.gradients([fn(xs)], wrt).map((g) => values(g as A.Tensor));
  wrt.forEach((x, k) => {
    const base = values(x);
    base.forEach((_, i) => {
      const at = (delta: number) => {
        const moved = base.slice();
        moved[i] += delta;
        return Number(fn(xs.map((z) => (z === x ? leaf(moved, x.shape) : z))).item());
      };
      const numeric = (at(eps) - at(-eps)) / (2 * eps);
      const got = analytic[k][i];
      if (!(Math.abs(got - numeric) <= atol + rtol * Math.abs(numeric))) {
        throw new Error(`gradient of input ${k}, element ${i}: analytic ${got}, numeric ${numeric}`);
      }
    });
  });
}

/** Checks first and second derivatives of fn (second: of ⟨∇fn, v⟩ for a random v). */
function expectGradgradcheck(fn: ScalarFn, xs: A.Tensor[], random: () => number): void {
  expectGradcheck(fn, xs);
  const directions = xs.filter((x) => x.requiresGrad).map((x) => randomLeaf(x.shape, random).detach());
  const slope: ScalarFn = (ys) => {
    const grads = A.gradients(
      [fn(ys)],
      ys.filter((y) => y.requiresGrad),
      [],
      { createGraph: true },
    );
    return grads.reduce<A.Tensor>(
      (acc, g, i) => A.add(acc, A.sum(A.mul(g as A.Tensor, directions[i]))),
      A.full([], 0, 'float64'),
    );
  };
  expectGradcheck(slope, xs, 1e-5, 1e-5, 1e-4);
}

/** A nonlinear readout, so second derivatives pass through the op's VJP. */
const readout = (y: A.Tensor, weights: A.Tensor) => A.sum(A.mul(A.sin(y), weights));

// ---- the specs, checked as the conformance harness checks them -----------------------------

const specOps = [
  'slice',
  'sliceBackward',
  'flip',
  'pad',
  'concat',
  'gather',
  'takeAlongAxis',
  'indexSelect',
  'scatterAdd',
  'oneHot',
];

function drawInput(
  spec: A.InputSpec,
  shape: readonly number[],
  shapes: readonly (readonly number[])[],
  params: unknown,
  random: () => number,
  dtype: T.DType = 'float64',
): A.Tensor {
  const size = sizeOf(shape);
  if (spec.kind === 'index') {
    const bound = spec.bound?.(shapes, params) ?? 1;
    const data = Int32Array.from({ length: size }, () => Math.floor(random() * bound));
    return new A.Tensor(T.array(data, { shape }));
  }
  if (spec.kind === 'mask')
    return new A.Tensor(
      T.array(
        Uint8Array.from({ length: size }, () => (random() < 0.5 ? 1 : 0)),
        { shape, dtype: 'bool' },
      ),
    );
  const [lo, hi] = spec.range ?? [-2, 2];
  const data =
    spec.values?.(shape, params, random) ?? Array.from({ length: size }, () => lo + (hi - lo) * random());
  return new A.Tensor(T.cast(T.array(Float64Array.from(data), { shape }), dtype), {
    requiresGrad: dtype === 'float64',
  });
}

function closeTo(got: readonly number[], want: readonly number[], tol: number): void {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => {
    if (!(Math.abs(g - want[i]) <= tol * (1 + Math.abs(want[i]))))
      throw new Error(`element ${i}: ${g} vs ${want[i]}`);
  });
}

describe('op specs', () => {
  const random = seeded(7);
  for (const name of specOps) {
    const op = A.registeredOps().find((o) => o.definition.name === name);
    it(`${name}: reference, gradients of order ≤ ${op?.definition.spec.order ?? 2}, jvp·vjp, errors`, () => {
      if (op === undefined) throw new Error(`${name} is not registered`);
      const { spec, jvp, vjp } = op.definition;
      for (const sample of spec.samples) {
        const params = sample.params;
        const inputs = sample.shapes.map((shape, i) =>
          drawInput(spec.inputs[i], shape, sample.shapes, params, random),
        );
        const [out] = op.apply(inputs, params);
        const floats = inputs.map((x) => Float64Array.from(values(x)));
        if (spec.reference)
          closeTo(values(out), Array.from(spec.reference(floats, sample.shapes, params)[0]), 1e-12);
        const single = inputs.map((x) => (x.requiresGrad ? new A.Tensor(T.cast(x.value, 'float32')) : x));
        closeTo(values(op.apply(single, params)[0]), values(out), 1e-6);
        if ((spec.order ?? 2) === 0) continue;

        const weights = randomLeaf(out.shape, random).detach();
        const fn: ScalarFn = (xs) => readout(op.apply(xs, params)[0], weights);
        if (spec.order === 1) expectGradcheck(fn, inputs);
        else expectGradgradcheck(fn, inputs, random);

        // ⟨J u, v⟩ = ⟨u, Jᵀ v⟩ with the op's own rules.
        const context = { inputs, outputs: [out], params, needsInputGrad: inputs.map((x) => x.requiresGrad) };
        const tangents = inputs.map((x) =>
          x.requiresGrad ? randomLeaf(x.shape, random).detach() : A.full(x.shape, 0, x.dtype),
        );
        const cotangent = randomLeaf(out.shape, random).detach();
        if (jvp === undefined) throw new Error(`${name} has no jvp`);
        const [pushed] = jvp(context, tangents);
        const pulled = vjp(context, [cotangent]);
        const left = Number(A.sum(A.mul(pushed, cotangent)).item());
        const right = pulled.reduce(
          (acc, g, i) =>
            g === null
              ? acc
              : acc + Number(A.sum(A.mul(A.sumToShape(g, inputs[i].shape), tangents[i])).item()),
          0,
        );
        expect(left).toBeCloseTo(right, 10);
      }
      for (const bad of spec.errors ?? []) {
        const inputs = bad.shapes.map((shape, i) =>
          drawInput(spec.inputs[i], shape, bad.shapes, bad.params, random, bad.dtypes?.[i] ?? 'float64'),
        );
        expect(() => op.apply(inputs, bad.params)).toThrow(bad.throws);
        expect(() => op.apply(inputs, bad.params)).toThrow(new RegExp(`^${name}: `));
      }
    });
  }
});

// ---- semantics against @tsgrad/tensor -------------------------------------------------------

const shapeArb = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 });
const specArb = (n: number): fc.Arbitrary<T.SliceSpec> =>
  fc.oneof(
    fc.constant(null),
    fc.integer({ min: -n, max: n - 1 }),
    fc.record(
      {
        start: fc.integer({ min: -n - 1, max: n + 1 }),
        stop: fc.integer({ min: -n - 1, max: n + 1 }),
        step: fc.constantFrom(1, 1, 2, -1, -2, 3),
      },
      { requiredKeys: [] },
    ),
  );
const sliceCase = shapeArb.chain((shape) => fc.tuple(fc.constant(shape), fc.tuple(...shape.map(specArb))));

describe('slice', () => {
  it('equals T.slice and its gradient lands on the sliced positions (property)', () => {
    fc.assert(
      fc.property(sliceCase, ([shape, specs]) => {
        const x = leaf(
          Array.from({ length: sizeOf(shape) }, (_, i) => i),
          shape,
        );
        const y = A.slice(x, specs);
        expect(y.shape).toEqual(T.slice(x.value, specs).shape);
        expect(values(y)).toEqual(values(T.slice(x.value, specs)));
        // Each element is picked at most once, so the gradient is the weights at those positions.
        const weights = Array.from({ length: y.size }, (_, i) => i + 1);
        const [g] = A.gradients([A.sum(A.mul(y, leaf(weights, y.shape, false)))], [x]);
        const expected = new Array<number>(x.size).fill(0);
        values(y).forEach((position, i) => {
          expected[position] = weights[i];
        });
        expect(values(g as A.Tensor)).toEqual(expected);
      }),
    );
  });

  it('has second derivatives through a strided, reversed slice', () => {
    const random = seeded(1);
    const x = randomLeaf([4, 5], random);
    const w = randomLeaf([2, 3], random).detach();
    expectGradgradcheck(
      ([z]) =>
        readout(
          A.slice(z, [
            { start: 3, step: -2 },
            { start: 1, stop: -1 },
          ]),
          w,
        ),
      [x],
      random,
    );
  });

  it('sliceBackward pads for unit steps and scatters otherwise, with the same result', () => {
    const src = leaf([1, 2, 3, 4, 5, 6], [2, 3]);
    const crop = A.sliceBackward(src, [4, 5], [{ start: 1, stop: 3 }, { start: 2 }]);
    expect(crop.toArray()).toEqual([
      [0, 0, 0, 0, 0],
      [0, 0, 1, 2, 3],
      [0, 0, 4, 5, 6],
      [0, 0, 0, 0, 0],
    ]);
    // A reversed range takes the scatter path; reversing src too must give the same array.
    const reversed = A.sliceBackward(
      A.flip(src, 1),
      [4, 5],
      [
        { start: 1, stop: 3 },
        { start: 4, stop: 1, step: -1 },
      ],
    );
    expect(reversed.toArray()).toEqual(crop.toArray());
    const stepped = A.sliceBackward(src, [3, 6], [{ start: -1, step: -2 }, { step: 2 }]);
    expect(stepped.toArray()).toEqual([
      [4, 0, 5, 0, 6, 0],
      [0, 0, 0, 0, 0, 0],
      [1, 0, 2, 0, 3, 0],
    ]);
    expect(A.sliceBackward(leaf([], [0]), [3], [{ start: 2, stop: 1 }]).toArray()).toEqual([0, 0, 0]);
  });

  it('narrow picks a range and names itself in errors', () => {
    const x = leaf([0, 1, 2, 3, 4, 5], [2, 3]);
    expect(A.narrow(x, 1, 1, 2).toArray()).toEqual([
      [1, 2],
      [4, 5],
    ]);
    expect(() => A.narrow(x, 1, 2, 2)).toThrow(T.IndexError);
    expect(() => A.narrow(x, 2, 0, 1)).toThrow(/^narrow: /);
  });

  it('reports bad specs with typed errors naming slice', () => {
    const x = leaf([1, 2, 3], [3]);
    expect(() => A.slice(x, [3])).toThrow(T.IndexError);
    expect(() => A.slice(x, [{ step: 0 }])).toThrow(/^slice: /);
  });
});

describe('flip and pad', () => {
  it('flip equals T.flip and is its own adjoint', () => {
    const random = seeded(2);
    const x = randomLeaf([2, 3, 2], random);
    expect(values(A.flip(x, [0, -1]))).toEqual(values(T.flip(x.value, [0, -1])));
    expect(values(A.flip(x))).toEqual(values(T.flip(x.value)));
    const w = randomLeaf([2, 3, 2], random).detach();
    const [g] = A.gradients([A.sum(A.mul(A.flip(x, 1), w))], [x]);
    expect(values(g as A.Tensor)).toEqual(values(T.flip(w.value, 1)));
    expect(() => A.flip(x, 3)).toThrow(T.IndexError);
  });

  it('constant pad equals T.pad; the fill value gets no gradient', () => {
    const random = seeded(3);
    const x = randomLeaf([2, 3], random);
    const y = A.pad(
      x,
      [
        [1, 0],
        [2, 1],
      ],
      { value: 7 },
    );
    expect(values(y)).toEqual(
      values(
        T.pad(
          x.value,
          [
            [1, 0],
            [2, 1],
          ],
          { value: 7 },
        ),
      ),
    );
    const [g] = A.gradients([A.sum(y)], [x]);
    expect(values(g as A.Tensor)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(() => A.pad(x, [[-1, 0]])).toThrow(T.ValueError);
    expect(() => A.pad(x, [[0, 0]], { mode: 'edge' as 'reflect' })).toThrow(/^pad: unknown mode/);
  });

  it('reflect pad equals T.pad and its gradient adds the mirrored positions', () => {
    const random = seeded(4);
    const x = randomLeaf([3, 4], random);
    const widths = [
      [2, 1],
      [1, 3],
    ] as const;
    expect(values(A.pad(x, widths, { mode: 'reflect' }))).toEqual(
      values(T.pad(x.value, widths, { mode: 'reflect' })),
    );
    const row = leaf([1, 2, 3], [3]);
    // [3, 2, 1, 2, 3, 2, 1]: x0 appears twice, x1 three times, x2 twice.
    const [rowGrad] = A.gradients([A.sum(A.pad(row, [[2, 2]], { mode: 'reflect' }))], [row]);
    expect(values(rowGrad as A.Tensor)).toEqual([2, 3, 2]);
    const w = randomLeaf([6, 8], random).detach();
    expectGradgradcheck(([z]) => readout(A.pad(z, widths, { mode: 'reflect' }), w), [x], random);
    expect(() => A.pad(x, [[3, 0]], { mode: 'reflect' })).toThrow(T.ValueError);
  });
});

describe('tile and repeat', () => {
  it('tile matches NumPy and sums the gradient over copies', () => {
    const x = leaf([1, 2, 3, 4], [2, 2]);
    expect(A.tile(x, [2]).toArray()).toEqual([
      [1, 2, 1, 2],
      [3, 4, 3, 4],
    ]);
    expect(A.tile(leaf([1, 2], [2]), [2, 2]).toArray()).toEqual([
      [1, 2, 1, 2],
      [1, 2, 1, 2],
    ]);
    expect(A.repeat(x, [1, 3]).shape).toEqual([2, 6]);
    const [g] = A.gradients([A.sum(A.repeat(x, [2, 3]))], [x]);
    expect(values(g as A.Tensor)).toEqual([6, 6, 6, 6]);
    const random = seeded(5);
    const w = randomLeaf([3, 2, 4], random).detach();
    expectGradcheck(([z]) => readout(A.tile(z, [3, 1, 2]), w), [randomLeaf([2, 2], random)]);
    expect(() => A.repeat(x, [2])).toThrow(/^repeat: /);
    expect(() => A.tile(x, [-1])).toThrow(T.ValueError);
  });
});

// ---- combining ------------------------------------------------------------------------------

describe('concat, stack, split', () => {
  it('concat and stack equal the tensor package and promote dtypes', () => {
    const random = seeded(6);
    const a = randomLeaf([2, 3], random);
    const b = randomLeaf([2, 1], random);
    expect(values(A.concat([a, b], 1))).toEqual(values(T.concat([a.value, b.value], 1)));
    const c = randomLeaf([2, 3], random);
    expect(values(A.stack([a, c], -1))).toEqual(values(T.stack([a.value, c.value], -1)));
    const single = new A.Tensor(T.ones([2, 1], { dtype: 'float32' }));
    expect(A.concat([a, single], 1).dtype).toBe('float64');
  });

  it('split then concat is the identity, for values and gradients', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 1, max: 3 }),
        (sizes, rows) => {
          const total = sizes.reduce((s, t) => s + t, 0);
          const x = leaf(
            Array.from({ length: rows * total }, (_, i) => i),
            [rows, total],
          );
          const pieces = A.split(x, sizes, 1);
          expect(pieces.map((p) => p.shape[1])).toEqual(sizes);
          pieces.forEach((p, i) => {
            expect(values(p)).toEqual(values(T.split(x.value, sizes, 1)[i]));
          });
          const back = A.concat(pieces, 1);
          expect(values(back)).toEqual(values(x));
          const w = leaf(
            Array.from({ length: x.size }, (_, i) => 2 * i - 1),
            x.shape,
            false,
          );
          const [g] = A.gradients([A.sum(A.mul(back, w))], [x]);
          expect(values(g as A.Tensor)).toEqual(values(w));
        },
      ),
    );
  });

  it('split into sections, gradients of unused pieces are zero', () => {
    const x = leaf([0, 1, 2, 3, 4, 5], [6]);
    const [, middle] = A.split(x, 3);
    expect(middle.toArray()).toEqual([2, 3]);
    const [g] = A.gradients([A.sum(middle)], [x]);
    expect(values(g as A.Tensor)).toEqual([0, 0, 1, 1, 0, 0]);
    expect(() => A.split(x, 4)).toThrow(T.ValueError);
    expect(() => A.split(x, [2, 2])).toThrow(/^split: /);
  });

  it('stack has correct first and second derivatives', () => {
    const random = seeded(8);
    const xs = [randomLeaf([2, 3], random), randomLeaf([2, 3], random), randomLeaf([2, 3], random)];
    const w = randomLeaf([2, 3, 3], random).detach();
    expectGradgradcheck((ys) => readout(A.stack(ys, 2), w), xs, random);
  });

  it('names the op in shape errors', () => {
    const a = leaf([1, 2], [2]);
    const b = leaf([1, 2, 3], [3]);
    expect(() => A.stack([a, b])).toThrow(T.ShapeError);
    expect(() => A.stack([a, b])).toThrow(/^stack: /);
    expect(() => A.concat([leaf([1, 2], [1, 2]), leaf([1, 2, 3], [1, 3])], 0)).toThrow(/^concat: /);
    expect(() => A.concat([a, b], 1)).toThrow(T.IndexError);
    expect(() => A.concat([])).toThrow(T.ValueError);
  });
});

describe('tril and triu', () => {
  it('equal the tensor package and mask the gradient alike', () => {
    const random = seeded(9);
    const x = randomLeaf([2, 3, 4], random);
    for (const k of [-1, 0, 2]) {
      expect(values(A.tril(x, k))).toEqual(values(T.tril(x.value, k)));
      expect(values(A.triu(x, k))).toEqual(values(T.triu(x.value, k)));
    }
    const [g] = A.gradients([A.sum(A.triu(x, 1))], [x]);
    expect(values(g as A.Tensor)).toEqual(values(T.triu(T.onesLike(x.value), 1)));
    const w = randomLeaf([2, 3, 4], random).detach();
    expectGradgradcheck(([z]) => readout(A.tril(z, -1), w), [x], random);
    expect(() => A.tril(leaf([1, 2], [2]))).toThrow(T.ShapeError);
    expect(() => A.triu(x, 0.5)).toThrow(/^triu: /);
  });
});
