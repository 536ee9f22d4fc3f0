import * as A from '@tsgrad/autograd';
import * as nn from '@tsgrad/nn';
import * as T from '@tsgrad/tensor';
import { describe, expect, it } from 'vitest';

// --- A float64 reference: PyTorch's multi-head attention written out head by head. ---

type Mat = number[][];

const randn = (seed: number, shape: number[]) =>
  A.tensor(T.random.normal(T.random.key(seed), shape, { dtype: 'float64' }));
const affine = (w: Mat, x: number[], b: number[] | null) =>
  w.map((row, i) => row.reduce((s, wij, j) => s + wij * x[j], b ? b[i] : 0));
const rows = (t: A.Tensor | null) => (t ? (t.toArray() as Mat) : null);
const vector = (t: A.Tensor | null) => (t ? (t.toArray() as number[]) : null);

/**
 * Reference attention for one batch element: xs [L][E], ks [S][kdim], vs [S][vdim]; `bias(i, j)`
 * is the mask added to the score of query i and key j (−∞ where masked).
 */
function referenceAttention(
  mha: nn.MultiheadAttention,
  xs: Mat,
  ks: Mat,
  vs: Mat,
  bias: (head: number, i: number, j: number) => number,
) {
  const E = mha.embedDim;
  const inW = rows(mha.in_proj_weight);
  const w = inW
    ? [inW.slice(0, E), inW.slice(E, 2 * E), inW.slice(2 * E)]
    : [rows(mha.q_proj_weight)!, rows(mha.k_proj_weight)!, rows(mha.v_proj_weight)!];
  const inB = vector(mha.in_proj_bias);
  const b = inB ? [inB.slice(0, E), inB.slice(E, 2 * E), inB.slice(2 * E)] : [null, null, null];
  const q = xs.map((x) => affine(w[0], x, b[0]));
  const k = ks.map((x) => affine(w[1], x, b[1]));
  const v = vs.map((x) => affine(w[2], x, b[2]));
  const d = mha.headDim;
  const concatenated: Mat = q.map(() => new Array(E).fill(0));
  const weights: Mat[] = [];
  for (let h = 0; h < mha.numHeads; h++) {
    const headWeights: Mat = [];
    for (let i = 0; i < q.length; i++) {
      const scores = k.map((kj, j) => {
        let s = 0;
        for (let c = h * d; c < (h + 1) * d; c++) s += q[i][c] * kj[c];
        return s / Math.sqrt(d) + bias(h, i, j);
      });
      const top = Math.max(...scores);
      const e = scores.map((s) => (top === -Infinity ? 0 : Math.exp(s - top)));
      const total = e.reduce((a, x) => a + x, 0);
      const p = e.map((x) => (total === 0 ? 0 : x / total));
      headWeights.push(p);
      for (let c = h * d; c < (h + 1) * d; c++)
        concatenated[i][c] = p.reduce((s, pj, j) => s + pj * v[j][c], 0);
    }
    weights.push(headWeights);
  }
  const output = concatenated.map((x) => affine(rows(mha.out_proj.weight)!, x, vector(mha.out_proj.bias)));
  const averaged = weights[0].map((row, i) =>
    row.map((_, j) => weights.reduce((s, hw) => s + hw[i][j], 0) / weights.length),
  );
  return { output, weights, averaged };
}

function maxDifference(actual: A.Tensor, expected: unknown): number {
  const a = actual.toTypedArray() as Float64Array;
  const e = (expected as unknown[]).flat(5) as number[];
  expect(a.length).toBe(e.length);
  let worst = 0;
  for (let i = 0; i < e.length; i++) worst = Math.max(worst, Math.abs(a[i] - e[i]));
  return worst;
}

/** Batch element n of a [T, N, F] tensor as nested arrays [T][F]. */
const element = (t: A.Tensor, n: number) => (t.toArray() as number[][][]).map((step) => step[n]);

const none = () => 0;

describe('MultiheadAttention', () => {
  it('uses PyTorch parameter names, shapes and init', () => {
    nn.manualSeed(0);
    const mha = new nn.MultiheadAttention(8, 2);
    expect(mha.namedParameters().map(([n, p]) => `${n}:${p.shape.join('x')}`)).toEqual([
      'in_proj_weight:24x8',
      'in_proj_bias:24',
      'out_proj.weight:8x8',
      'out_proj.bias:8',
    ]);
    expect(mha.in_proj_bias?.toArray()).toEqual(new Array(24).fill(0));
    expect(mha.out_proj.bias?.toArray()).toEqual(new Array(8).fill(0));
    const xavierBound = Math.sqrt(6 / (8 + 24));
    const w = mha.in_proj_weight?.toTypedArray() as Float32Array;
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(xavierBound);
    expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(0.8 * xavierBound);
    const separate = new nn.MultiheadAttention(6, 3, { kdim: 4, vdim: 5, bias: false });
    expect(separate.namedParameters().map(([n, p]) => `${n}:${p.shape.join('x')}`)).toEqual([
      'q_proj_weight:6x6',
      'k_proj_weight:6x4',
      'v_proj_weight:6x5',
      'out_proj.weight:6x6',
    ]);
    expect(separate.toString()).toContain('MultiheadAttention(embedDim=6, numHeads=3, kdim=4, vdim=5\n');
    expect(() => new nn.MultiheadAttention(6, 4)).toThrow(
      /embedDim \(6\) must be divisible by numHeads \(4\)/,
    );
  });

  it('matches a per-head reference, with head-averaged and per-head weights', () => {
    const mha = new nn.MultiheadAttention(6, 3, { dtype: 'float64', key: T.random.key(1) });
    // Non-zero biases, so the reference checks where they enter.
    mha.in_proj_bias?.assign(T.random.normal(T.random.key(2), [18], { dtype: 'float64' }));
    mha.out_proj.bias?.assign(T.random.normal(T.random.key(3), [6], { dtype: 'float64' }));
    const [L, S, N] = [4, 5, 2];
    const query = randn(4, [L, N, 6]);
    const key = randn(5, [S, N, 6]);
    const value = randn(6, [S, N, 6]);
    const [out, weights] = mha.forward(query, key, value);
    const refs = [0, 1].map((n) =>
      referenceAttention(mha, element(query, n), element(key, n), element(value, n), none),
    );
    expect(out.shape).toEqual([L, N, 6]);
    expect(
      maxDifference(
        out,
        element(out, 0).map((_, i) => refs.map((r) => r.output[i])),
      ),
    ).toBeLessThan(1e-12);
    expect(weights?.shape).toEqual([N, L, S]);
    expect(
      maxDifference(
        weights!,
        refs.map((r) => r.averaged),
      ),
    ).toBeLessThan(1e-12);

    const [, perHead] = mha.forward(query, key, value, { averageAttnWeights: false });
    expect(perHead?.shape).toEqual([N, 3, L, S]);
    expect(
      maxDifference(
        perHead!,
        refs.map((r) => r.weights),
      ),
    ).toBeLessThan(1e-12);
    expect(mha.forward(query, key, value, { needWeights: false })[1]).toBeNull();
  });

  it('supports kdim/vdim, batchFirst and unbatched inputs', () => {
    const mha = new nn.MultiheadAttention(4, 2, { kdim: 3, vdim: 5, dtype: 'float64', key: T.random.key(8) });
    const query = randn(1, [3, 2, 4]);
    const key = randn(2, [6, 2, 3]);
    const value = randn(3, [6, 2, 5]);
    const [out] = mha.forward(query, key, value);
    const refs = [0, 1].map((n) =>
      referenceAttention(mha, element(query, n), element(key, n), element(value, n), none),
    );
    expect(
      maxDifference(
        out,
        element(out, 0).map((_, i) => refs.map((r) => r.output[i])),
      ),
    ).toBeLessThan(1e-12);

    const batchFirst = new nn.MultiheadAttention(4, 2, {
      kdim: 3,
      vdim: 5,
      dtype: 'float64',
      batchFirst: true,
    });
    batchFirst.loadStateDict(mha.stateDict());
    const t = (x: A.Tensor) => A.transpose(x, 0, 1);
    const [outBf, weightsBf] = batchFirst.forward(t(query), t(key), t(value));
    expect(maxDifference(t(outBf), out.toArray())).toBeLessThan(1e-12);
    expect(weightsBf?.shape).toEqual([2, 3, 6]);

    const pick = (x: A.Tensor) => A.squeeze(A.narrow(x, 1, 1, 1), 1);
    const [outU, weightsU] = mha.forward(pick(query), pick(key), pick(value));
    expect(outU.shape).toEqual([3, 4]);
    expect(weightsU?.shape).toEqual([3, 6]);
    expect(maxDifference(outU, refs[1].output)).toBeLessThan(1e-12);
    expect(() => mha.forward(query, value, value)).toThrow(/MultiheadAttention: expected query \[L, N, 4\]/);
  });

  it('applies causal, attention and key padding masks', () => {
    const mha = new nn.MultiheadAttention(4, 2, { dtype: 'float64', key: T.random.key(3) });
    const [L, N] = [4, 2];
    const x = randn(9, [L, N, 4]);
    const padded = [
      [false, false, false, true],
      [false, false, true, true],
    ];
    const keyPaddingMask = A.tensor(padded, { dtype: 'bool' });
    const [out, weights] = mha.forward(x, x, x, { isCausal: true, keyPaddingMask });
    const refs = [0, 1].map((n) =>
      referenceAttention(mha, element(x, n), element(x, n), element(x, n), (_, i, j) =>
        j > i || padded[n][j] ? -Infinity : 0,
      ),
    );
    expect(
      maxDifference(
        out,
        element(out, 0).map((_, i) => refs.map((r) => r.output[i])),
      ),
    ).toBeLessThan(1e-12);
    expect(
      maxDifference(
        weights!,
        refs.map((r) => r.averaged),
      ),
    ).toBeLessThan(1e-12);

    // The same causal mask as a bool mask (true = masked) and as an additive float mask.
    const causal = A.tensor(T.triu(T.ones([L, L], { dtype: 'bool' }), 1));
    const additive = A.where(causal, -Infinity, A.zeros([L, L], { dtype: 'float64' }));
    const [causalOnly] = mha.forward(x, x, x, { isCausal: true });
    expect(maxDifference(mha.forward(x, x, x, { attnMask: causal })[0], causalOnly.toArray())).toBe(0);
    expect(maxDifference(mha.forward(x, x, x, { attnMask: additive })[0], causalOnly.toArray())).toBeLessThan(
      1e-12,
    );

    // A float mask biases the scores; a per-head [N·H, L, S] mask reaches the right head.
    const perHead = randn(10, [N * 2, L, L]);
    const [biased] = mha.forward(x, x, x, { attnMask: perHead });
    const values = perHead.toArray() as number[][][];
    const biasedRefs = [0, 1].map((n) =>
      referenceAttention(
        mha,
        element(x, n),
        element(x, n),
        element(x, n),
        (h, i, j) => values[n * 2 + h][i][j],
      ),
    );
    expect(
      maxDifference(
        biased,
        element(biased, 0).map((_, i) => biasedRefs.map((r) => r.output[i])),
      ),
    ).toBeLessThan(1e-12);
    expect(() => mha.forward(x, x, x, { keyPaddingMask: A.tensor([[true]]) })).toThrow(
      /keyPaddingMask must have shape \[2,4\]/,
    );
  });

  it('gives zeros, not NaN, for a fully masked row, and no NaN gradients elsewhere', () => {
    const mha = new nn.MultiheadAttention(4, 2, { dtype: 'float64', key: T.random.key(4) });
    const x = randn(11, [3, 2, 4]);
    // Batch element 1 may see no key at all.
    const keyPaddingMask = A.tensor(
      [
        [false, true, false],
        [true, true, true],
      ],
      { dtype: 'bool' },
    );
    const [out, weights] = mha.forward(x, x, x, { keyPaddingMask });
    expect((out.toTypedArray() as Float64Array).every(Number.isFinite)).toBe(true);
    expect(A.narrow(weights!, 0, 1, 1).toArray()).toEqual([new Array(3).fill(new Array(3).fill(0))]);
    // Its output is just out_proj's bias (zero): the attended values are zero.
    expect(maxDifference(A.narrow(out, 1, 1, 1), new Array(12).fill(0))).toBe(0);

    A.sum(A.mul(out, randn(12, [3, 2, 4]))).backward();
    for (const [name, p] of mha.namedParameters()) {
      expect((p.grad!.toTypedArray() as Float64Array).every(Number.isFinite), name).toBe(true);
    }
    // The unmasked batch element's gradients equal those of running it alone (all but
    // out_proj.bias, which also collects the masked element's output gradient).
    const alone = new nn.MultiheadAttention(4, 2, { dtype: 'float64' });
    alone.loadStateDict(mha.stateDict());
    const first = A.narrow(x, 1, 0, 1);
    const [outAlone] = alone.forward(first, first, first, {
      keyPaddingMask: A.tensor([[false, true, false]]),
    });
    A.sum(A.mul(outAlone, A.narrow(randn(12, [3, 2, 4]), 1, 0, 1))).backward();
    for (const [name, p] of mha.namedParameters().filter(([n]) => n !== 'out_proj.bias')) {
      const q = alone.namedParameters().find(([n]) => n === name)![1];
      expect(maxDifference(p.grad!, q.grad!.toArray()), name).toBeLessThan(1e-12);
    }

    // A float mask of −∞ everywhere in one row behaves the same.
    const minusInf = A.tensor([
      [0, -Infinity, -Infinity],
      [-Infinity, -Infinity, -Infinity],
      [0, 0, -Infinity],
    ]).to('float64');
    const [outFloat, weightsFloat] = mha.forward(x, x, x, { attnMask: minusInf });
    expect((outFloat.toTypedArray() as Float64Array).every(Number.isFinite)).toBe(true);
    expect(A.narrow(weightsFloat!, 1, 1, 1).toArray()).toEqual([[[0, 0, 0]], [[0, 0, 0]]]);
  });

  it('passes gradients to every parameter and input, matching finite differences', () => {
    const mha = new nn.MultiheadAttention(4, 2, { dtype: 'float64', key: T.random.key(5) });
    const keyPaddingMask = A.tensor([[false, false, true]], { dtype: 'bool' });
    const f = (q: A.Tensor, k: A.Tensor, v: A.Tensor) =>
      mha.forward(q, k, v, { keyPaddingMask, isCausal: true, needWeights: false })[0];
    expect(A.gradcheck(f, [randn(1, [3, 1, 4]), randn(2, [3, 1, 4]), randn(3, [3, 1, 4])])).toBe(true);
    A.sum(f(randn(1, [3, 1, 4]), randn(2, [3, 1, 4]), randn(3, [3, 1, 4]))).backward();
    for (const [name, p] of mha.namedParameters()) expect(p.grad, name).not.toBeNull();
  });

  it('applies attention dropout only in training mode', () => {
    const mha = new nn.MultiheadAttention(4, 2, { dropout: 0.5, key: T.random.key(6) });
    const x = A.tensor(T.random.normal(T.random.key(1), [5, 2, 4]));
    expect(mha.forward(x, x, x)[0].toArray()).not.toEqual(mha.forward(x, x, x)[0].toArray());
    mha.eval();
    expect(mha.forward(x, x, x)[0].toArray()).toEqual(mha.forward(x, x, x)[0].toArray());
  });
});

describe('scaledDotProductAttention', () => {
  const q = randn(1, [2, 3, 4]);
  const k = randn(2, [2, 5, 4]);
  const v = randn(3, [2, 5, 6]);

  it('is softmax(q kᵀ/√E) v', () => {
    const expected = A.matmul(A.softmax(A.div(A.matmul(q, A.transpose(k)), 2), -1), v);
    expect(maxDifference(nn.scaledDotProductAttention(q, k, v), expected.toArray())).toBeLessThan(1e-12);
    const scaled = A.matmul(A.softmax(A.mul(A.matmul(q, A.transpose(k)), 0.1), -1), v);
    expect(
      maxDifference(nn.scaledDotProductAttention(q, k, v, { scale: 0.1 }), scaled.toArray()),
    ).toBeLessThan(1e-12);
  });

  it('follows PyTorch: a bool mask marks the positions that take part', () => {
    const allowed = A.tensor(T.tril(T.ones([3, 5], { dtype: 'bool' })));
    const viaBool = nn.scaledDotProductAttention(q, k, v, { attnMask: allowed });
    const viaCausal = nn.scaledDotProductAttention(q, k, v, { isCausal: true });
    const viaFloat = nn.scaledDotProductAttention(q, k, v, {
      attnMask: A.where(allowed, 0, A.full([3, 5], -Infinity, 'float64')),
    });
    expect(viaBool.toArray()).toEqual(viaCausal.toArray());
    expect(maxDifference(viaFloat, viaBool.toArray())).toBeLessThan(1e-12);
    expect(() => nn.scaledDotProductAttention(q, k, v, { isCausal: true, attnMask: allowed })).toThrow(
      /not both/,
    );
    expect(() => nn.scaledDotProductAttention(q, v, v)).toThrow(/scaledDotProductAttention: expected q/);
  });

  it('has correct gradients, also with a fully masked row', () => {
    const allowed = A.tensor(
      [
        [true, false, true, false, false],
        [false, false, false, false, false],
        [true, true, true, true, false],
      ],
      { dtype: 'bool' },
    );
    const f = (a: A.Tensor, b: A.Tensor, c: A.Tensor) =>
      nn.scaledDotProductAttention(a, b, c, { attnMask: allowed });
    expect(A.gradcheck(f, [q, k, v])).toBe(true);
    const out = f(q, k, v);
    expect(A.narrow(out, 1, 1, 1).toArray()).toEqual([[new Array(6).fill(0)], [new Array(6).fill(0)]]);
  });

  it('applies dropout to the weights with a key', () => {
    const key = T.random.key(3);
    const a = nn.scaledDotProductAttention(q, k, v, { dropoutP: 0.5, key });
    expect(nn.scaledDotProductAttention(q, k, v, { dropoutP: 0.5, key }).toArray()).toEqual(a.toArray());
    expect(a.toArray()).not.toEqual(nn.scaledDotProductAttention(q, k, v).toArray());
    expect(() => nn.scaledDotProductAttention(q, k, v, { dropoutP: 0.5 })).toThrow(/needs a PRNG key/);
  });
});

// --- Transformer encoder. ---

function adam(params: readonly nn.Parameter[], lr: number) {
  const m = params.map((p) => new Float64Array(p.size));
  const v = params.map((p) => new Float64Array(p.size));
  let t = 0;
  return () => {
    t++;
    params.forEach((p, k) => {
      const g = p.grad?.toTypedArray() as Float32Array | undefined;
      if (!g) return;
      const w = Float32Array.from(p.toTypedArray() as Float32Array);
      for (let i = 0; i < w.length; i++) {
        m[k][i] = 0.9 * m[k][i] + 0.1 * g[i];
        v[k][i] = 0.999 * v[k][i] + 0.001 * g[i] * g[i];
        w[i] -= (lr * m[k][i]) / (1 - 0.9 ** t) / (Math.sqrt(v[k][i] / (1 - 0.999 ** t)) + 1e-8);
      }
      p.assign(T.array(w, { shape: p.shape }));
      p.grad = null;
    });
  };
}

describe('TransformerEncoderLayer', () => {
  it("names its submodules and parameters as PyTorch's", () => {
    nn.manualSeed(0);
    const layer = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16 });
    expect(layer.namedChildren().map(([n]) => n)).toEqual([
      'self_attn',
      'linear1',
      'dropout',
      'linear2',
      'norm1',
      'norm2',
      'dropout1',
      'dropout2',
    ]);
    expect(layer.namedParameters().map(([n, p]) => `${n}:${p.shape.join('x')}`)).toEqual([
      'self_attn.in_proj_weight:24x8',
      'self_attn.in_proj_bias:24',
      'self_attn.out_proj.weight:8x8',
      'self_attn.out_proj.bias:8',
      'linear1.weight:16x8',
      'linear1.bias:16',
      'linear2.weight:8x16',
      'linear2.bias:8',
      'norm1.weight:8',
      'norm1.bias:8',
      'norm2.weight:8',
      'norm2.bias:8',
    ]);
    expect(layer.toString().split('\n')[0]).toBe(
      'TransformerEncoderLayer(dModel=8, nhead=2, activation=relu',
    );
    expect(() => new nn.TransformerEncoderLayer(8, 2, { activation: 'tanh' as 'relu' })).toThrow(
      /activation must be/,
    );
  });

  for (const normFirst of [false, true]) {
    for (const activation of ['relu', 'gelu'] as const) {
      it(`computes the ${normFirst ? 'pre' : 'post'}-norm block with ${activation} (eval mode)`, () => {
        const layer = new nn.TransformerEncoderLayer(4, 2, {
          dimFeedforward: 6,
          normFirst,
          activation,
          dtype: 'float64',
          key: T.random.key(2),
        }).eval();
        const x = randn(1, [5, 3, 4]);
        const act = activation === 'relu' ? A.relu : (t: A.Tensor) => A.gelu(t);
        const sa = (t: A.Tensor) => layer.self_attn.forward(t, t, t)[0];
        const ff = (t: A.Tensor) => layer.linear2.forward(act(layer.linear1.forward(t)));
        let expected: A.Tensor;
        if (normFirst) {
          const h = A.add(x, sa(layer.norm1.forward(x)));
          expected = A.add(h, ff(layer.norm2.forward(h)));
        } else {
          const h = layer.norm1.forward(A.add(x, sa(x)));
          expected = layer.norm2.forward(A.add(h, ff(h)));
        }
        expect(maxDifference(layer.forward(x), expected.toArray())).toBeLessThan(1e-12);
      });
    }
  }

  it('keeps shapes for seq-first, batchFirst and unbatched input and respects masks', () => {
    nn.manualSeed(3);
    const layer = new nn.TransformerEncoderLayer(8, 4, {
      dimFeedforward: 12,
      batchFirst: true,
      dtype: 'float64',
    });
    layer.eval();
    const x = randn(2, [3, 5, 8]);
    expect(layer.forward(x).shape).toEqual([3, 5, 8]);
    expect(layer.forward(A.narrow(x, 0, 0, 1).squeeze(0)).shape).toEqual([5, 8]);
    expect(
      new nn.TransformerEncoderLayer(8, 4, { dimFeedforward: 12 }).forward(A.zeros([5, 3, 8])).shape,
    ).toEqual([5, 3, 8]);

    // Causal: changing the last position leaves the earlier outputs alone.
    const changedLast = A.concat([A.narrow(x, 1, 0, 4), randn(3, [3, 1, 8])], 1);
    const early = (t: A.Tensor) => A.narrow(layer.forward(t, { isCausal: true }), 1, 0, 4);
    expect(maxDifference(early(changedLast), early(x).toArray())).toBeLessThan(1e-12);
    // Key padding: changing a padded position leaves the other positions alone.
    const srcKeyPaddingMask = A.tensor(T.broadcastTo(T.array([false, false, true, false, false]), [3, 5]));
    const changedPad = A.concat([A.narrow(x, 1, 0, 2), randn(4, [3, 1, 8]), A.narrow(x, 1, 3, 2)], 1);
    const others = (t: A.Tensor) => A.indexSelect(layer.forward(t, { srcKeyPaddingMask }), 1, [0, 1, 3, 4]);
    expect(maxDifference(others(changedPad), others(x).toArray())).toBeLessThan(1e-12);
  });

  it('passes gradients to every parameter; dropout only while training', () => {
    nn.manualSeed(4);
    const layer = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, normFirst: true });
    const x = A.tensor(T.random.normal(T.random.key(5), [4, 2, 8]));
    A.sum(A.square(layer.forward(x))).backward();
    for (const [name, p] of layer.namedParameters()) {
      expect(p.grad, name).not.toBeNull();
      expect(
        (p.grad!.toTypedArray() as Float32Array).some((g) => g !== 0),
        name,
      ).toBe(true);
    }
    const key = T.random.key(1);
    expect(layer.forward(x, { key }).toArray()).toEqual(layer.forward(x, { key }).toArray());
    expect(layer.forward(x).toArray()).not.toEqual(layer.forward(x).toArray());
    layer.eval();
    expect(layer.forward(x).toArray()).toEqual(layer.forward(x).toArray());
  });

  it('overfits a small batch', () => {
    nn.manualSeed(6);
    const layer = new nn.TransformerEncoderLayer(16, 2, { dimFeedforward: 32, dropout: 0, batchFirst: true });
    const head = new nn.Linear(16, 5);
    const x = A.tensor(T.random.normal(T.random.key(7), [8, 6, 16]));
    const labels = A.tensor(T.random.randint(T.random.key(8), [8, 6], 0, 5));
    const logits = () => A.reshape(head.forward(layer.forward(x)), [48, 5]);
    const loss = () => A.crossEntropy(logits(), A.reshape(labels, [48]));
    const step = adam([...layer.parameters(), ...head.parameters()], 0.01);
    const started = performance.now();
    const first = loss().item() as number;
    let last = first;
    let steps = 0;
    for (; steps < 200 && last > 0.01 * first; steps++) {
      const value = loss();
      value.backward();
      step();
      last = value.item() as number;
    }
    last = loss().item() as number;
    console.log(
      `Transformer overfit: loss ${first.toFixed(3)} → ${last.toFixed(4)} in ${steps} steps, ${(performance.now() - started).toFixed(0)} ms`,
    );
    expect(last).toBeLessThanOrEqual(0.1 * first);
    expect(A.argmax(logits(), { axis: 1 }).toArray()).toEqual(A.reshape(labels, [48]).toArray());
  });
});

describe('TransformerEncoder', () => {
  it('stacks copies of a layer under layers.i, with an optional final norm', () => {
    nn.manualSeed(7);
    const layer = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, dtype: 'float64' });
    const encoder = new nn.TransformerEncoder(layer, 2, { norm: new nn.LayerNorm(8, { dtype: 'float64' }) });
    const names = encoder.namedParameters().map(([n]) => n);
    expect(names.slice(0, 2)).toEqual([
      'layers.0.self_attn.in_proj_weight',
      'layers.0.self_attn.in_proj_bias',
    ]);
    expect(names).toContain('layers.1.norm2.bias');
    expect(names.slice(-2)).toEqual(['norm.weight', 'norm.bias']);
    expect(encoder.layers[1].linear1.weight.toArray()).toEqual(layer.linear1.weight.toArray());
    expect(encoder.layers[1].linear1.weight).not.toBe(encoder.layers[0].linear1.weight);

    encoder.eval();
    const x = randn(1, [5, 2, 8]);
    const expected = encoder.norm!.forward(
      encoder.layers[1].forward(encoder.layers[0].forward(x, { isCausal: true }), { isCausal: true }),
    );
    expect(maxDifference(encoder.forward(x, { isCausal: true }), expected.toArray())).toBe(0);

    const built = new nn.TransformerEncoder(
      (i) => new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 4 * (i + 1) }),
      3,
    );
    expect(built.layers[2].linear1.weight.shape).toEqual([12, 8]);
    expect(built.norm).toBeNull();
  });
});
