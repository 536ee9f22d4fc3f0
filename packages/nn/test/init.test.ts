import * as A from '@tsgrad/autograd';
import * as nn from '@tsgrad/nn';
import * as T from '@tsgrad/tensor';
import { describe, expect, it } from 'vitest';

// The initializers' statistics against their definitions (bounds, standard deviations, fans
// and gains as torch.nn.init computes them), orthogonality, and seeding.

const { init } = nn;
const blank = (shape: number[], dtype: 'float32' | 'float64' = 'float32') =>
  new nn.Parameter(T.zeros(shape, { dtype }));
const valuesOf = (x: A.Tensor | T.NDArray) =>
  Array.from((x instanceof A.Tensor ? x.value : x).toTypedArray(), Number);

function stats(x: A.Tensor): { mean: number; std: number; maxAbs: number; n: number } {
  const v = valuesOf(x);
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
  return { mean, std, maxAbs: v.reduce((m, b) => Math.max(m, Math.abs(b)), 0), n: v.length };
}

// Tolerances of five standard errors: of the mean σ/√n, and of the sample std about
// σ·√((κ − 1)/4n) (kurtosis κ = 3 for a normal, 1.8 for a uniform).

/** A uniform U(−b, b) sample: within the bound, reaching near it, with std b/√3. */
function expectUniform(x: A.Tensor, bound: number): void {
  const { mean, std, maxAbs, n } = stats(x);
  const sigma = bound / Math.sqrt(3);
  expect(maxAbs).toBeLessThanOrEqual(bound);
  expect(maxAbs).toBeGreaterThan(0.99 * bound);
  expect(Math.abs(mean)).toBeLessThan((5 * sigma) / Math.sqrt(n));
  expect(Math.abs(std / sigma - 1)).toBeLessThan(5 * Math.sqrt(0.8 / (4 * n)));
}

function expectNormal(x: A.Tensor, expectedStd: number, expectedMean = 0): void {
  const { mean, std, n } = stats(x);
  expect(Math.abs(mean - expectedMean)).toBeLessThan((5 * expectedStd) / Math.sqrt(n));
  expect(Math.abs(std / expectedStd - 1)).toBeLessThan(5 * Math.sqrt(2 / (4 * n)));
}

describe('basic initializers', () => {
  it('uniform, normal, constant, zeros and ones', () => {
    expectUniform(init.uniform(blank([100, 100]), -3, 3), 3);
    const shifted = init.uniform(blank([100, 100]), 2, 4);
    expect(valuesOf(shifted).every((v) => v >= 2 && v < 4)).toBe(true);
    expectNormal(init.normal(blank([100, 100]), 1.5, 0.5), 0.5, 1.5);
    expect(valuesOf(init.constant(blank([2, 3]), 0.25))).toEqual(new Array(6).fill(0.25));
    expect(valuesOf(init.ones(blank([4])))).toEqual([1, 1, 1, 1]);
    expect(valuesOf(init.zeros(init.ones(blank([3]))))).toEqual([0, 0, 0]);
  });

  it('fill in place, keeping the tensor and its dtype', () => {
    const p = blank([3, 3], 'float64');
    expect(init.normal(p)).toBe(p);
    expect(p.dtype).toBe('float64');
    expect(p.requiresGrad).toBe(true);
  });

  it('are seeded: the same key gives the same values, manualSeed replays the default generator', () => {
    const key = T.random.key(42);
    expect(valuesOf(init.normal(blank([5]), 0, 1, { key }))).toEqual(
      valuesOf(init.normal(blank([5]), 0, 1, { key })),
    );
    nn.manualSeed(3);
    const a = valuesOf(init.uniform(blank([5])));
    const b = valuesOf(init.uniform(blank([5])));
    expect(a).not.toEqual(b);
    nn.manualSeed(3);
    expect(valuesOf(init.uniform(blank([5])))).toEqual(a);
  });
});

describe('fans and gains', () => {
  it('compute fan in/out like PyTorch, conv kernels included', () => {
    expect(init.fans([20, 30])).toEqual({ fanIn: 30, fanOut: 20 });
    expect(init.fans([16, 3, 5, 5])).toEqual({ fanIn: 75, fanOut: 400 });
    expect(() => init.fans([7])).toThrow(T.ValueError);
  });

  it('recommend PyTorch’s gains', () => {
    expect(init.calculateGain('linear')).toBe(1);
    expect(init.calculateGain('sigmoid')).toBe(1);
    expect(init.calculateGain('tanh')).toBeCloseTo(5 / 3, 15);
    expect(init.calculateGain('relu')).toBeCloseTo(Math.SQRT2, 15);
    expect(init.calculateGain('leakyRelu', 0.2)).toBeCloseTo(Math.sqrt(2 / 1.04), 15);
    expect(init.calculateGain('selu')).toBe(0.75);
  });
});

describe('xavier and kaiming', () => {
  it('xavier: bound √(6/(fanIn + fanOut))·gain, std √(2/(fanIn + fanOut))·gain', () => {
    expectUniform(init.xavierUniform(blank([200, 300])), Math.sqrt(6 / 500));
    expectUniform(init.xavierUniform(blank([200, 300]), { gain: 2 }), 2 * Math.sqrt(6 / 500));
    expectNormal(init.xavierNormal(blank([200, 300])), Math.sqrt(2 / 500));
    expectNormal(
      init.xavierNormal(blank([32, 16, 3, 3]), { gain: 5 / 3 }),
      (5 / 3) * Math.sqrt(2 / (144 + 288)),
    );
  });

  it('kaiming: std gain/√fan, leaky-relu gain by default (a = 0: √2)', () => {
    expectUniform(init.kaimingUniform(blank([300, 200])), Math.sqrt(6 / 200));
    expectNormal(init.kaimingNormal(blank([300, 200])), Math.sqrt(2 / 200));
    expectNormal(
      init.kaimingNormal(blank([300, 200]), { mode: 'fanOut', nonlinearity: 'relu' }),
      Math.sqrt(2 / 300),
    );
    expectUniform(
      init.kaimingUniform(blank([64, 32, 3, 3]), { nonlinearity: 'tanh' }),
      (5 / 3) * Math.sqrt(3 / 288),
    );
    // a = √5: the bound 1/√fanIn that Linear and Conv layers use by default.
    expectUniform(init.kaimingUniform(blank([300, 200]), { a: Math.sqrt(5) }), 1 / Math.sqrt(200));
  });

  it('match the default init of Linear', () => {
    nn.manualSeed(8);
    const linear = new nn.Linear(400, 300);
    expectUniform(linear.weight, 1 / Math.sqrt(400));
    expect(stats(linear.bias!).maxAbs).toBeLessThanOrEqual(1 / Math.sqrt(400));
  });
});

describe('orthogonal', () => {
  /** The Gram matrix of the rows (rows orthonormal: I) or of the columns. */
  function gram(q: A.Tensor, of: 'rows' | 'columns'): number[][] {
    const m = q.shape[0];
    const flat = A.reshape(q, [m, q.size / m]);
    const g = of === 'rows' ? A.matmul(flat, A.transpose(flat)) : A.matmul(A.transpose(flat), flat);
    return g.toArray() as number[][];
  }

  function expectIdentity(g: number[][], scale = 1): void {
    g.forEach((row, i) => {
      row.forEach((v, j) => {
        expect(v).toBeCloseTo(i === j ? scale : 0, 10);
      });
    });
  }

  it('gives orthonormal rows for a wide matrix (Q·Qᵀ = I) and columns for a tall one', () => {
    expectIdentity(gram(init.orthogonal(blank([4, 9], 'float64')), 'rows'));
    expectIdentity(gram(init.orthogonal(blank([9, 4], 'float64')), 'columns'));
    const square = init.orthogonal(blank([6, 6], 'float64'));
    expectIdentity(gram(square, 'rows'));
    expectIdentity(gram(square, 'columns'));
  });

  it('scales by the gain, flattens trailing dims and is seeded', () => {
    expectIdentity(gram(init.orthogonal(blank([5, 5], 'float64'), { gain: 2 }), 'rows'), 4);
    expectIdentity(gram(init.orthogonal(blank([4, 2, 3, 3], 'float64')), 'rows'));
    const key = T.random.key(5);
    expect(valuesOf(init.orthogonal(blank([3, 3]), { key }))).toEqual(
      valuesOf(init.orthogonal(blank([3, 3]), { key })),
    );
    expect(() => init.orthogonal(blank([3]))).toThrow(/orthogonal/);
  });

  it('is the Q of a Gaussian matrix: its entries have std 1/√rows', () => {
    expectNormal(init.orthogonal(blank([400, 400], 'float64')), 1 / Math.sqrt(400));
  });
});
