import * as A from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

// Gather/scatter, embedding and sort/topk: semantics against @tsgrad/tensor and PyTorch, and
// gradients by central differences in float64. (The op specs themselves are checked in
// movement.test.ts, the way the conformance harness checks them.)

const values = (x: A.Tensor | T.NDArray) => Array.from(x.toTypedArray(), Number);

function leaf(data: ArrayLike<number>, shape: readonly number[], requiresGrad = true): A.Tensor {
  return new A.Tensor(T.array(Float64Array.from(data), { shape }), { requiresGrad });
}

const int32 = (data: readonly number[], shape: readonly number[] = [data.length]) =>
  T.array(Int32Array.from(data), { shape });

function randomLeaf(shape: readonly number[], random: () => number): A.Tensor {
  return leaf(
    Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => 4 * random() - 2),
    shape,
  );
}

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/** Central differences (float64) of a scalar function against the tape's gradients. */
function expectGradcheck(fn: (xs: A.Tensor[]) => A.Tensor, xs: A.Tensor[], eps = 1e-6, tol = 1e-6): void {
  const analytic = A.gradients([fn(xs)], xs).map((g) => values(g as A.Tensor));
  xs.forEach((x, k) => {
    const base = values(x);
    base.forEach((_, i) => {
      const at = (delta: number) => {
        const moved = base.slice();
        moved[i] += delta;
        return Number(fn(xs.map((z) => (z === x ? leaf(moved, x.shape) : z))).item());
      };
      const numeric = (at(eps) - at(-eps)) / (2 * eps);
      expect(Math.abs(analytic[k][i] - numeric), `input ${k}, element ${i}`).toBeLessThan(
        tol * (1 + Math.abs(numeric)),
      );
    });
  });
}

/** Second order: the gradient of ⟨∇fn, v⟩, checked the same way. */
function expectGradgradcheck(fn: (xs: A.Tensor[]) => A.Tensor, xs: A.Tensor[], random: () => number): void {
  expectGradcheck(fn, xs);
  const directions = xs.map((x) => randomLeaf(x.shape, random).detach());
  const slope = (ys: A.Tensor[]) =>
    A.gradients([fn(ys)], ys, [], { createGraph: true }).reduce<A.Tensor>(
      (acc, g, i) => A.add(acc, A.sum(A.mul(g as A.Tensor, directions[i]))),
      A.full([], 0, 'float64'),
    );
  expectGradcheck(slope, xs, 1e-5, 1e-4);
}

const readout = (y: A.Tensor, weights: A.Tensor) => A.sum(A.mul(A.sin(y), weights));

describe('gather and takeAlongAxis', () => {
  it('equal the tensor package', () => {
    const random = seeded(1);
    const x = randomLeaf([3, 4], random);
    const index = int32([0, 3, 3, 1, 2, 2], [3, 2]);
    expect(values(A.gather(x, 1, index))).toEqual(values(T.gather(x.value, 1, index)));
    const column = int32([2, 0], [2, 1]);
    expect(values(A.takeAlongAxis(x, column, 0))).toEqual(values(T.takeAlongAxis(x.value, column, 0)));
  });

  it('accumulates the gradient of repeated indices', () => {
    const x = leaf([1, 2, 3], [3]);
    const y = A.gather(x, 0, [0, 0, 2, 0]);
    expect(y.toArray()).toEqual([1, 1, 3, 1]);
    const [g] = A.gradients([A.sum(A.mul(y, leaf([1, 10, 100, 1000], [4], false)))], [x]);
    expect(g?.toArray()).toEqual([1011, 0, 100]);
  });

  it('takeAlongAxis sums gradients over the broadcast of x (second order too)', () => {
    const random = seeded(2);
    const x = randomLeaf([3, 1], random);
    const index = int32([0, 2, 2, 1], [1, 4]);
    const w = randomLeaf([1, 4], random).detach();
    expectGradgradcheck(([z]) => readout(A.takeAlongAxis(z, index, 0), w), [x], random);
  });

  it('gradients match central differences for random shapes (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 0, max: 1000 }),
        (rows, cols, picks, seed) => {
          const random = seeded(seed);
          const x = randomLeaf([rows, cols], random);
          const index = int32(
            Array.from({ length: rows * picks }, () => Math.floor(random() * cols)),
            [rows, picks],
          );
          const w = randomLeaf([rows, picks], random).detach();
          expectGradcheck(([z]) => readout(A.gather(z, -1, index), w), [x]);
        },
      ),
      { numRuns: 20 },
    );
  });
});

describe('indexSelect and scatterAdd', () => {
  it('indexSelect equals the tensor package and index-adds its gradient', () => {
    const x = leaf([1, 2, 3, 4, 5, 6], [3, 2]);
    const y = A.indexSelect(x, 0, [2, 0, 2]);
    expect(values(y)).toEqual(values(T.indexSelect(x.value, 0, [2, 0, 2])));
    const [g] = A.gradients([A.sum(y)], [x]);
    expect(g?.toArray()).toEqual([
      [1, 1],
      [0, 0],
      [2, 2],
    ]);
    const random = seeded(3);
    const w = randomLeaf([2, 4], random).detach();
    expectGradgradcheck(
      ([z]) => readout(A.indexSelect(z, 1, new Int32Array([1, 1, 0, 1])), w),
      [randomLeaf([2, 2], random)],
      random,
    );
  });

  it('scatterAdd passes g to base and gathers g for src', () => {
    const base = leaf([0, 0, 0, 0, 0, 0], [2, 3]);
    const src = leaf([1, 2, 3, 4], [2, 2]);
    const index = int32([2, 2, 0, 1], [2, 2]);
    const y = A.scatterAdd(base, 1, index, src);
    expect(values(y)).toEqual(values(T.scatterAdd(base.value, 1, index, src.value)));
    expect(y.toArray()).toEqual([
      [0, 0, 3],
      [3, 4, 0],
    ]);
    const w = leaf([1, 2, 3, 4, 5, 6], [2, 3], false);
    const [gBase, gSrc] = A.gradients([A.sum(A.mul(y, w))], [base, src]);
    expect(values(gBase as A.Tensor)).toEqual(values(w));
    expect(gSrc?.toArray()).toEqual([
      [3, 3],
      [4, 5],
    ]);
  });

  it('scatterAdd with a src larger than the index has zero gradient off the index', () => {
    const random = seeded(4);
    const base = randomLeaf([2, 3], random);
    const src = randomLeaf([3, 3], random);
    const index = int32([1, 0, 0, 1], [2, 2]);
    const [, gSrc] = A.gradients([A.sum(A.scatterAdd(base, 1, index, src))], [base, src]);
    expect(gSrc?.toArray()).toEqual([
      [1, 1, 0],
      [1, 1, 0],
      [0, 0, 0],
    ]);
    const w = randomLeaf([2, 3], random).detach();
    expectGradgradcheck(([b, s]) => readout(A.scatterAdd(b, 1, index, s), w), [base, src], random);
  });
});

describe('oneHot and embedding', () => {
  it('oneHot equals the tensor package, infers numClasses and is a constant', () => {
    const hot = A.oneHot([2, 0, 1]);
    expect(hot.toArray()).toEqual([
      [0, 0, 1],
      [1, 0, 0],
      [0, 1, 0],
    ]);
    expect(hot.requiresGrad).toBe(false);
    expect(values(A.oneHot(int32([1, 3], [2, 1]), 5, { dtype: 'float64' }))).toEqual(
      values(T.oneHot(int32([1, 3], [2, 1]), 5)),
    );
    expect(() => A.oneHot([3], 2)).toThrow(T.IndexError);
    expect(() => A.oneHot([0.5])).toThrow(/^oneHot: /);
  });

  it('embedding looks rows up like PyTorch and accumulates repeated rows', () => {
    const weight = leaf([0, 1, 10, 11, 20, 21, 30, 31], [4, 2]);
    const indices = int32([3, 1, 3, 0], [2, 2]);
    const out = A.embedding(indices, weight);
    expect(out.shape).toEqual([2, 2, 2]);
    expect(out.toArray()).toEqual([
      [
        [30, 31],
        [10, 11],
      ],
      [
        [30, 31],
        [0, 1],
      ],
    ]);
    const [g] = A.gradients([A.sum(out)], [weight]);
    expect(g?.toArray()).toEqual([
      [1, 1],
      [1, 1],
      [0, 0],
      [2, 2],
    ]);
    const random = seeded(5);
    const w = randomLeaf([2, 2, 2], random).detach();
    expectGradgradcheck(([z]) => readout(A.embedding(indices, z), w), [randomLeaf([4, 2], random)], random);
  });

  it('the paddingIdx row is looked up but gets no gradient', () => {
    const weight = leaf([0, 1, 10, 11, 20, 21], [3, 2]);
    const out = A.embedding([2, 0, 2, 1], weight, { paddingIdx: 2 });
    expect(out.toArray()).toEqual([
      [20, 21],
      [0, 1],
      [20, 21],
      [10, 11],
    ]);
    const [g] = A.gradients([A.sum(out)], [weight]);
    expect(g?.toArray()).toEqual([
      [1, 1],
      [1, 1],
      [0, 0],
    ]);
    const [gNegative] = A.gradients([A.sum(A.embedding([2, 0], weight, { paddingIdx: -1 }))], [weight]);
    expect(values(gNegative as A.Tensor)).toEqual([1, 1, 0, 0, 0, 0]);
  });

  it('names embedding in its errors', () => {
    const weight = leaf([0, 1, 2, 3], [2, 2]);
    expect(() => A.embedding([2], weight)).toThrow(T.IndexError);
    expect(() => A.embedding([2], weight)).toThrow(/^embedding: /);
    expect(() => A.embedding([0], leaf([1, 2], [2]))).toThrow(T.ShapeError);
    expect(() => A.embedding(T.array([0], { dtype: 'float32' }), weight)).toThrow(T.DTypeError);
    expect(() => A.embedding([0], weight, { paddingIdx: 2 })).toThrow(/^embedding: paddingIdx/);
  });
});

describe('sort, argsort, topk', () => {
  it('sort equals the tensor package; the gradient follows the values back', () => {
    const random = seeded(6);
    const x = randomLeaf([3, 4], random);
    for (const descending of [false, true]) {
      for (const axis of [0, -1]) {
        const mine = A.sort(x, { axis, descending });
        const theirs = T.sort(x.value, { axis, descending });
        expect(values(mine.values)).toEqual(values(theirs.values));
        expect(values(mine.indices)).toEqual(values(theirs.indices));
        expect(mine.indices.dtype).toBe('int32');
      }
    }
    expect(values(A.argsort(x, { descending: true }))).toEqual(
      values(T.argsort(x.value, { descending: true })),
    );
    const w = randomLeaf([3, 4], random).detach();
    expectGradgradcheck(([z]) => readout(A.sort(z, { axis: 0 }).values, w), [x], random);
  });

  it('topk gradient lands on the selected positions only', () => {
    const x = leaf([0.5, 3, -1, 2, 7, 0], [2, 3]);
    const { values: top, indices } = A.topk(x, 2);
    expect(top.toArray()).toEqual([
      [3, 0.5],
      [7, 2],
    ]);
    expect(indices.toArray()).toEqual([
      [1, 0],
      [1, 0],
    ]);
    const [g] = A.gradients([A.sum(A.mul(top, leaf([1, 2, 3, 4], [2, 2], false)))], [x]);
    expect(g?.toArray()).toEqual([
      [2, 1, 0],
      [4, 3, 0],
    ]);
    const smallest = A.topk(x, 1, { axis: 0, largest: false });
    expect(smallest.values.toArray()).toEqual([[0.5, 3, -1]]);
    const random = seeded(7);
    const w = randomLeaf([2, 3], random).detach();
    expectGradcheck(([z]) => readout(A.topk(z, 2, { axis: 0 }).values, w), [randomLeaf([4, 3], random)]);
  });

  it('errors name the op', () => {
    const x = leaf([1, 2, 3], [3]);
    expect(() => A.topk(x, 4)).toThrow(T.ValueError);
    expect(() => A.topk(x, 4)).toThrow(/^topk: /);
    expect(() => A.sort(x, { axis: 1 })).toThrow(T.IndexError);
    expect(() => A.sort(new A.Tensor(T.array([true, false])))).toThrow(/^sort: /);
  });
});

describe('index errors', () => {
  const x = leaf([1, 2, 3, 4, 5, 6], [2, 3]);
  it('bad axes, out-of-range and non-integer indices, wrong dtypes and shapes', () => {
    expect(() => A.gather(x, 2, int32([0, 0], [1, 2]))).toThrow(T.IndexError);
    expect(() => A.gather(x, 1, int32([0, 3], [1, 2]))).toThrow(/^gather: index 3 is out of range/);
    expect(() => A.gather(x, 1, int32([0, 1]))).toThrow(T.ShapeError);
    expect(() => A.indexSelect(x, 0, [1.5])).toThrow(/^indexSelect: index 1.5/);
    expect(() => A.indexSelect(x, 0, [-1])).toThrow(T.IndexError);
    expect(() => A.indexSelect(x, 0, T.array([0], { dtype: 'float32' }))).toThrow(T.DTypeError);
    expect(() => A.indexSelect(x, 0, leaf([0], [1]))).toThrow(/^indexSelect: indices must be int32/);
    expect(() => A.takeAlongAxis(x, int32([0, 0, 0], [3, 1]), 1)).toThrow(/^takeAlongAxis: /);
    expect(() => A.scatterAdd(x, 0, int32([0, 0, 0, 0], [1, 4]), x)).toThrow(/^scatterAdd: /);
  });
});
