import * as A from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';
import { describe, expect, it } from 'vitest';

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

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

const expectClose = (got: number[], want: number[], digits = 12) => {
  expect(got.length).toBe(want.length);
  for (const [i, g] of got.entries()) expect(g, `element ${i}`).toBeCloseTo(want[i], digits);
};

const random = seeded(5);
const data = (n: number) => Array.from({ length: n }, () => random() * 4 - 2);

/** Biased mean and variance of a list. */
function moments(xs: number[]): [number, number] {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return [m, xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length];
}

/** Row-major index helpers for a 3-D (N, C, L) array. */
const at3 = (shape: number[]) => (n: number, c: number, l: number) => (n * shape[1] + c) * shape[2] + l;

describe('layerNorm', () => {
  const x = data(2 * 3 * 4);

  it('normalizes each trailing block to mean 0 and (biased) variance 1, then applies weight and bias', () => {
    const weight = [0.5, 2, -1, 1.5];
    const bias = [0.1, 0, -0.2, 0.3];
    const y = values(A.layerNorm(f64(x, [2, 3, 4]), 4, { weight: f64(weight), bias: f64(bias), eps: 1e-5 }));
    const want: number[] = [];
    for (let r = 0; r < 6; r++) {
      const row = x.slice(4 * r, 4 * r + 4);
      const [m, v] = moments(row);
      want.push(...row.map((xi, j) => ((xi - m) / Math.sqrt(v + 1e-5)) * weight[j] + bias[j]));
    }
    expectClose(y, want);
  });

  it('normalizes over several trailing dims', () => {
    const y = values(A.layerNorm(f64(x, [2, 3, 4]), [3, 4], { eps: 0 }));
    for (const half of [y.slice(0, 12), y.slice(12)]) {
      const [m, v] = moments(half);
      expect(m).toBeCloseTo(0, 12);
      expect(v).toBeCloseTo(1, 12);
    }
  });

  it('has correct first and second derivatives (input, weight, bias)', () => {
    gradcheck(
      (t, w, b) => A.layerNorm(t, [4], { weight: w, bias: b }),
      [f64(x.slice(0, 12), [3, 4]), f64([0.5, 2, -1, 1.5]), f64([0.1, 0, -0.2, 0.3])],
    );
    gradcheck((t) => A.layerNorm(t, [2, 3]), [f64(x.slice(0, 12), [2, 2, 3])]);
  });

  it('rejects shapes that do not fit', () => {
    expect(() => A.layerNorm(f64(x, [2, 3, 4]), [3])).toThrow(T.ShapeError);
    expect(() => A.layerNorm(f64(x, [2, 3, 4]), [4], { weight: f64([1, 2, 3]) })).toThrow(
      /layerNorm: weight must have shape \[4\]/,
    );
    expect(() => A.layerNorm(f64(x, [24]), [2, 24])).toThrow(T.ShapeError);
    expect(() => A.layerNorm(new A.Tensor(T.array([1, 2], { dtype: 'int32' })), 2)).toThrow(T.DTypeError);
  });
});

describe('batchNorm', () => {
  const shape = [4, 3, 2];
  const x = data(4 * 3 * 2);
  const idx = at3(shape);
  const channel = (c: number) => Array.from({ length: 8 }, (_, k) => x[idx(Math.floor(k / 2), c, k % 2)]);
  const stats = [0, 1, 2].map((c) => moments(channel(c)));

  it('in training normalizes with the batch mean and biased variance', () => {
    const weight = [0.5, 2, -1];
    const bias = [0.1, 0, -0.2];
    const y = values(A.batchNorm(f64(x, shape), { training: true, weight: f64(weight), bias: f64(bias) }));
    const want = x.map((xi, i) => {
      const c = Math.floor(i / 2) % 3;
      const [m, v] = stats[c];
      return ((xi - m) / Math.sqrt(v + 1e-5)) * weight[c] + bias[c];
    });
    expectClose(y, want);
  });

  it('updates the running stats in place like PyTorch (unbiased variance, momentum)', () => {
    const runningMean = new A.Tensor(T.array(Float64Array.from([0.5, -0.5, 0])));
    const runningVar = new A.Tensor(T.array(Float64Array.from([1, 2, 0.5])));
    let wantMean = [0.5, -0.5, 0];
    let wantVar = [1, 2, 0.5];
    for (let step = 0; step < 3; step++) {
      A.batchNorm(f64(x, shape), { training: true, runningMean, runningVar, momentum: 0.2 });
      wantMean = wantMean.map((r, c) => 0.8 * r + 0.2 * stats[c][0]);
      wantVar = wantVar.map((r, c) => 0.8 * r + 0.2 * stats[c][1] * (8 / 7));
    }
    expectClose(values(runningMean), wantMean);
    expectClose(values(runningVar), wantVar);
    // float32 running stats stay float32 when the input is float64
    const rm32 = new A.Tensor(T.zeros([3]));
    A.batchNorm(f64(x, shape), { training: true, runningMean: rm32 });
    expect(rm32.dtype).toBe('float32');
    expectClose(
      Array.from(rm32.toTypedArray()),
      stats.map(([m]) => 0.1 * m),
      6,
    );
  });

  it('in eval mode normalizes with the running stats and leaves them alone', () => {
    const runningMean = new A.Tensor(T.array(Float64Array.from([0.5, -0.5, 0])));
    const runningVar = new A.Tensor(T.array(Float64Array.from([1, 2, 0.5])));
    const y = values(A.batchNorm(f64(x, shape), { runningMean, runningVar, bias: f64([1, 2, 3]) }));
    const want = x.map((xi, i) => {
      const c = Math.floor(i / 2) % 3;
      return (xi - [0.5, -0.5, 0][c]) / Math.sqrt([1, 2, 0.5][c] + 1e-5) + [1, 2, 3][c];
    });
    expectClose(y, want);
    expect(values(runningMean)).toEqual([0.5, -0.5, 0]);
    expect(values(runningVar)).toEqual([1, 2, 0.5]);
  });

  it('works on (N, C) and (N, C, H, W) inputs', () => {
    const y = values(A.batchNorm(f64(x.slice(0, 12), [4, 3]), { training: true, eps: 0 }));
    for (let c = 0; c < 3; c++) {
      const [m, v] = moments([0, 1, 2, 3].map((n) => y[n * 3 + c]));
      expect(m).toBeCloseTo(0, 12);
      expect(v).toBeCloseTo(1, 12);
    }
    expect(A.batchNorm(f64(x, [2, 3, 2, 2]), { training: true }).shape).toEqual([2, 3, 2, 2]);
  });

  it('has correct first and second derivatives in training and eval mode', () => {
    const weight = f64([0.5, 2, -1]);
    const bias = f64([0.1, 0, -0.2]);
    gradcheck(
      (t, w, b) => A.batchNorm(t, { training: true, weight: w, bias: b }),
      [f64(x.slice(0, 12), [2, 3, 2]), weight, bias],
    );
    const runningMean = new A.Tensor(T.array(Float64Array.from([0.5, -0.5, 0])));
    const runningVar = new A.Tensor(T.array(Float64Array.from([1, 2, 0.5])));
    gradcheck(
      (t, w) => A.batchNorm(t, { runningMean, runningVar, weight: w }),
      [f64(x.slice(0, 12), [2, 3, 2]), weight],
    );
  });

  it('rejects missing running stats in eval mode, single values per channel and bad shapes', () => {
    expect(() => A.batchNorm(f64(x, shape))).toThrow(/eval mode/);
    expect(() => A.batchNorm(f64([1, 2, 3], [1, 3]), { training: true })).toThrow(
      /more than 1 value per channel/,
    );
    expect(() => A.batchNorm(f64(x, shape), { training: true, weight: f64([1, 2]) })).toThrow(T.ShapeError);
    expect(() => A.batchNorm(f64(x), { training: true })).toThrow(T.ShapeError);
  });
});

describe('groupNorm', () => {
  const shape = [2, 4, 3];
  const x = data(2 * 4 * 3);

  it('normalizes each (sample, group) over its channels and positions', () => {
    const weight = [0.5, 2, -1, 1.5];
    const bias = [0.1, 0, -0.2, 0.3];
    const y = values(A.groupNorm(f64(x, shape), 2, { weight: f64(weight), bias: f64(bias) }));
    // channels 0–1 form group 0 and channels 2–3 group 1: 6 contiguous values each
    const want = x.map((xi, i) => {
      const block = Math.floor(i / 6);
      const [m, v] = moments(x.slice(block * 6, block * 6 + 6));
      const c = Math.floor(i / 3) % 4;
      return ((xi - m) / Math.sqrt(v + 1e-5)) * weight[c] + bias[c];
    });
    expectClose(y, want);
  });

  it('with one group is layerNorm over (C, L), with C groups instance norm', () => {
    expectClose(values(A.groupNorm(f64(x, shape), 1)), values(A.layerNorm(f64(x, shape), [4, 3])));
    const instance = values(A.groupNorm(f64(x, shape), 4, { eps: 0 }));
    for (let r = 0; r < 8; r++) {
      const [m, v] = moments(instance.slice(3 * r, 3 * r + 3));
      expect(m).toBeCloseTo(0, 12);
      expect(v).toBeCloseTo(1, 12);
    }
  });

  it('has correct first and second derivatives', () => {
    gradcheck(
      (t, w, b) => A.groupNorm(t, 2, { weight: w, bias: b }),
      [f64(x.slice(0, 12), [1, 4, 3]), f64([0.5, 2, -1, 1.5]), f64([0.1, 0, -0.2, 0.3])],
    );
  });

  it('rejects group counts that do not divide the channels', () => {
    expect(() => A.groupNorm(f64(x, shape), 3)).toThrow(T.ValueError);
    expect(() => A.groupNorm(f64(x, shape), 0)).toThrow(T.ValueError);
    expect(() => A.groupNorm(f64(x, shape), 2, { bias: f64([1]) })).toThrow(T.ShapeError);
  });
});
