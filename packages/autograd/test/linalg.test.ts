import * as A from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';
import { describe, expect, it } from 'vitest';

// matmul, linear and einsum: values against @tsgrad/tensor and plain loops, and gradients by
// float64 central differences at first and second order. (matmul's spec is checked with the
// convolution specs in conv.test.ts.)

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

const values = (x: A.Tensor | T.NDArray) => Array.from(x.toTypedArray(), Number);

function leaf(data: ArrayLike<number>, shape: readonly number[], requiresGrad = true): A.Tensor {
  return new A.Tensor(T.array(Float64Array.from(data), { shape }), { requiresGrad });
}

const random = seeded(17);
const randomLeaf = (shape: readonly number[], requiresGrad = true) =>
  leaf(
    Array.from({ length: T.sizeOf(shape) }, () => 4 * random() - 2),
    shape,
    requiresGrad,
  );

function closeTo(got: readonly number[], want: readonly number[], what = ''): void {
  expect(got.length, `${what} length`).toBe(want.length);
  got.forEach((g, i) => {
    expect(Math.abs(g - want[i]), `${what} element ${i}: ${g} vs ${want[i]}`).toBeLessThanOrEqual(
      1e-12 * (1 + Math.abs(want[i])),
    );
  });
}

/** gradcheck and (at order 2) gradgradcheck from @tsgrad/autograd, in float64 over every element. */
function gradcheck(
  f: (...xs: A.Tensor[]) => A.Tensor | readonly A.Tensor[],
  xs: A.Tensor[],
  order: 1 | 2 = 2,
): void {
  expect(A.gradcheck(f, xs)).toBe(true);
  if (order === 2) expect(A.gradgradcheck(f, xs)).toBe(true);
}

describe('matmul', () => {
  // biome-ignore format: one case per line
  const cases: [number[], number[]][] = [
    [[3, 4], [4, 2]], [[4], [4, 2]], [[3, 4], [4]], [[4], [4]],
    [[2, 3, 4], [4, 2]], [[2, 2, 3], [3]], [[3], [2, 3, 2]], [[2, 1, 2, 3], [3, 3, 2]],
  ];

  it('matches @tsgrad/tensor, 1-D promotion and batch broadcasting included', () => {
    for (const [aShape, bShape] of cases) {
      const a = randomLeaf(aShape);
      const b = randomLeaf(bShape);
      const got = A.matmul(a, b);
      const want = T.matmul(a.value, b.value);
      expect(got.shape).toEqual(want.shape);
      closeTo(values(got), values(want), `${aShape} × ${bShape}`);
    }
  });

  it('has correct gradients of order 1 and 2 for every case', () => {
    for (const [aShape, bShape] of cases) gradcheck(A.matmul, [randomLeaf(aShape), randomLeaf(bShape)]);
  });

  it('promotes dtypes and casts each gradient back to its input', () => {
    const a = new A.Tensor(T.cast(randomLeaf([2, 3]).value, 'float32'), { requiresGrad: true });
    const b = randomLeaf([3, 2]);
    const y = A.matmul(a, b);
    expect(y.dtype).toBe('float64');
    A.sum(y).backward();
    expect(a.grad?.dtype).toBe('float32');
    expect(b.grad?.dtype).toBe('float64');
  });

  it('reports bad shapes and dtypes naming matmul', () => {
    expect(() => A.matmul(randomLeaf([3, 4]), randomLeaf([5, 2]))).toThrow(
      /^matmul: .*inner dimensions 4 ≠ 5/,
    );
    expect(() => A.matmul(randomLeaf([]), randomLeaf([3]))).toThrow(T.ShapeError);
    expect(() => A.matmul(new A.Tensor(T.full([2, 2], true)), randomLeaf([2, 2]))).toThrow(T.DTypeError);
  });
});

describe('linear', () => {
  it('is x·Wᵀ + b, with batched inputs and a 1-D weight', () => {
    const x = randomLeaf([2, 3, 4]);
    const w = randomLeaf([5, 4]);
    const b = randomLeaf([5]);
    const want = T.add(T.matmul(x.value, T.transpose(w.value)), b.value);
    closeTo(values(A.linear(x, w, b)), values(want));
    closeTo(values(A.linear(x, w)), values(T.matmul(x.value, T.transpose(w.value))));
    const v = randomLeaf([4]);
    expect(A.linear(x, v).shape).toEqual([2, 3]);
    closeTo(values(A.linear(x, v)), values(T.matmul(x.value, v.value)));
  });

  it('has correct gradients of order 1 and 2', () => {
    gradcheck((x, w, b) => A.linear(x, w, b), [randomLeaf([3, 4]), randomLeaf([2, 4]), randomLeaf([2])]);
  });

  it("gives the weight a gradient in the weight's own layout (contiguous), per example too", () => {
    const x = randomLeaf([3, 4]);
    const w = randomLeaf([5, 4]);
    const [, dw] = A.grad((xs: A.Tensor, v: A.Tensor) => A.sum(A.linear(xs, v)), { argnums: [0, 1] })(x, w);
    expect(dw.peekValue().isContiguous).toBe(true);
    // d/dW of the sum of x·Wᵀ: every row is the sum of x's rows.
    closeTo(values(dw), values(T.matmul(T.ones([5, 3], { dtype: 'float64' }), x.value)));
    const perExample = A.vmap(
      A.grad((xi: A.Tensor, v: A.Tensor) => A.sum(A.linear(xi, v)), { argnums: 1 }),
      {
        inAxes: [0, null],
      },
    )(x, w);
    expect(perExample.shape).toEqual([3, 5, 4]);
    expect(perExample.peekValue().isContiguous).toBe(true);
  });

  it('rejects a weight that is not [out, in] or [in]', () => {
    expect(() => A.linear(randomLeaf([2, 3]), randomLeaf([1, 2, 3]))).toThrow(/^linear: /);
    expect(() => A.linear(randomLeaf([2, 3]), randomLeaf([2, 4]))).toThrow(T.ShapeError);
  });
});

// ---- einsum ----------------------------------------------------------------------------------

/** Einsum by brute force: loop over every assignment of the letters (explicit '->' only). */
function einsumReference(
  equation: string,
  operands: readonly A.Tensor[],
): { shape: number[]; data: number[] } {
  const [lhs, output] = equation.split('->');
  const terms = lhs.split(',');
  const sizes = new Map<string, number>();
  terms.forEach((term, i) => {
    [...term].forEach((label, axis) => {
      sizes.set(label, operands[i].shape[axis]);
    });
  });
  const labels = [...sizes.keys()];
  const shape = [...output].map((l) => sizes.get(l) as number);
  const data = new Array<number>(T.sizeOf(shape)).fill(0);
  const inputs = operands.map(values);
  const flatIndex = (term: string, at: Map<string, number>) =>
    [...term].reduce((flat, l) => flat * (sizes.get(l) as number) + (at.get(l) as number), 0);
  const total = T.sizeOf(labels.map((l) => sizes.get(l) as number));
  for (let n = 0; n < total; n++) {
    const at = new Map<string, number>();
    let rest = n;
    for (let i = labels.length - 1; i >= 0; i--) {
      const size = sizes.get(labels[i]) as number;
      at.set(labels[i], rest % size);
      rest = Math.floor(rest / size);
    }
    const product = terms.reduce((p, term, i) => p * inputs[i][flatIndex(term, at)], 1);
    data[flatIndex(output, at)] += product;
  }
  return { shape, data };
}

describe('einsum', () => {
  // biome-ignore format: one equation per line
  const cases: [string, number[][]][] = [
    ['ij,jk->ik', [[3, 4], [4, 2]]],
    ['bij,bjk->bik', [[2, 3, 4], [2, 4, 2]]],
    ['i,i->', [[5], [5]]],
    ['ij->ji', [[2, 3]]],
    ['ij->', [[2, 3]]],
    ['bhqd,bhkd->bhqk', [[2, 2, 3, 4], [2, 2, 5, 4]]],
    ['i,j->ij', [[3], [4]]],
    ['ii->', [[4, 4]]],
    ['ii->i', [[3, 3]]],
    ['iij->j', [[2, 2, 3]]],
    ['ij,ij->ij', [[2, 3], [2, 3]]],
    ['ij,j->i', [[3, 4], [4]]],
    ['bij,jk->bik', [[2, 3, 4], [4, 5]]],
    ['ijk,ikl,il->jl', [[2, 3, 4], [2, 4, 3], [2, 3]]],
    ['abc,cba->', [[2, 3, 4], [4, 3, 2]]],
    ['ab,cd->dacb', [[2, 1], [3, 2]]],
    ['i,j->j', [[3], [4]]],
    [',i->i', [[], [3]]],
  ];

  it('matches brute-force loops on common equations', () => {
    for (const [equation, shapes] of cases) {
      const operands = shapes.map((s) => randomLeaf(s));
      const got = A.einsum(equation, ...operands);
      const want = einsumReference(equation, operands);
      expect(got.shape, equation).toEqual(want.shape);
      closeTo(values(got), want.data, equation);
    }
  });

  it('infers the output in implicit mode: letters seen once, sorted', () => {
    const a = randomLeaf([3, 4]);
    const b = randomLeaf([4, 2]);
    closeTo(values(A.einsum('ij,jk', a, b)), values(A.einsum('ij,jk->ik', a, b)));
    closeTo(values(A.einsum('ba', a)), values(A.einsum('ba->ab', a)));
    const m = randomLeaf([3, 3]);
    closeTo(values(A.einsum('ii', m)), einsumReference('ii->', [m]).data);
  });

  it('broadcasts ellipsis axes like matmul and sums them when the output leaves them out', () => {
    const a = randomLeaf([2, 1, 3, 4]);
    const b = randomLeaf([5, 4, 2]);
    const got = A.einsum('...ij,...jk->...ik', a, b);
    expect(got.shape).toEqual([2, 5, 3, 2]);
    closeTo(values(got), values(T.matmul(a.value, b.value)));
    closeTo(values(A.einsum('...ij,...jk', a, b)), values(got));
    const x = randomLeaf([2, 3, 4]);
    closeTo(values(A.einsum('...i->i...', x)), values(T.permute(x.value, [2, 0, 1])));
    const v = randomLeaf([2]);
    closeTo(values(A.einsum('i...->i', v)), values(v));
    const y = randomLeaf([3, 2, 4]);
    closeTo(values(A.einsum('i...->i', y)), values(T.sum(y.value, { axis: [1, 2] })));
  });

  it('has correct gradients of order 1 and 2', () => {
    gradcheck((a, b) => A.einsum('bij,bjk->bik', a, b), [randomLeaf([2, 2, 3]), randomLeaf([2, 3, 2])]);
    gradcheck((a) => A.einsum('ii->i', a), [randomLeaf([3, 3])]);
    gradcheck(
      (a, b, c) => A.einsum('ijk,ikl,il->jl', a, b, c),
      [randomLeaf([2, 2, 3]), randomLeaf([2, 3, 2]), randomLeaf([2, 2])],
    );
    gradcheck(
      (a, b) => A.einsum('...ij,...jk->...ik', a, b),
      [randomLeaf([2, 1, 2, 3]), randomLeaf([3, 3, 2])],
    );
    gradcheck(
      (a, b) => A.einsum('bhqd,bhkd->bhqk', a, b),
      [randomLeaf([1, 2, 3, 2]), randomLeaf([1, 2, 2, 2])],
    );
  });

  it('reports malformed equations with typed errors naming einsum', () => {
    const m = randomLeaf([2, 3]);
    expect(() => A.einsum('ij,jk->ik', m)).toThrow(T.ValueError);
    expect(() => A.einsum('ijk->i', m)).toThrow(T.ShapeError);
    expect(() => A.einsum('ij,ij->i', m, randomLeaf([3, 2]))).toThrow(/^einsum: subscript 'i' has size 3/);
    expect(() => A.einsum('ij->k', m)).toThrow(T.ValueError);
    expect(() => A.einsum('ij->ii', m)).toThrow(T.ValueError);
    expect(() => A.einsum('i1->i', m)).toThrow(T.ValueError);
    expect(() => A.einsum('ij->i->j', m)).toThrow(T.ValueError);
    expect(() => A.einsum('ij')).toThrow(T.ValueError);
  });
});
