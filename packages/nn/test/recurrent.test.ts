import * as A from '@tsgrad/autograd';
import * as nn from '@tsgrad/nn';
import * as T from '@tsgrad/tensor';
import { describe, expect, it } from 'vitest';

// --- A float64 reference: PyTorch's documented update formulas, one sequence at a time. ---

type Vec = number[];
type Mat = number[][];
type Mode = 'tanh' | 'relu' | 'lstm' | 'gru';

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const affine = (w: Mat, x: Vec, b: Vec | null) =>
  w.map((row, i) => row.reduce((s, wij, j) => s + wij * x[j], b ? b[i] : 0));
const part = (v: Vec, k: number, hidden: number) => v.slice(k * hidden, (k + 1) * hidden);

/** One step of one cell: the new [h] or [h, c]. */
function referenceStep(
  mode: Mode,
  x: Vec,
  state: Vec[],
  w: { ih: Mat; hh: Mat; bih: Vec | null; bhh: Vec | null },
) {
  const hidden = state[0].length;
  const gx = affine(w.ih, x, w.bih);
  const gh = affine(w.hh, state[0], w.bhh);
  if (mode === 'tanh') return [gx.map((v, i) => Math.tanh(v + gh[i]))];
  if (mode === 'relu') return [gx.map((v, i) => Math.max(0, v + gh[i]))];
  if (mode === 'lstm') {
    const g = gx.map((v, i) => v + gh[i]);
    const [i, f, cand, o] = [0, 1, 2, 3].map((k) => part(g, k, hidden));
    const c = state[1].map((cj, j) => sigmoid(f[j]) * cj + sigmoid(i[j]) * Math.tanh(cand[j]));
    return [c.map((cj, j) => sigmoid(o[j]) * Math.tanh(cj)), c];
  }
  const [xr, xz, xn] = [0, 1, 2].map((k) => part(gx, k, hidden));
  const [hr, hz, hn] = [0, 1, 2].map((k) => part(gh, k, hidden));
  return [
    state[0].map((h, j) => {
      const r = sigmoid(xr[j] + hr[j]);
      const z = sigmoid(xz[j] + hz[j]);
      const n = Math.tanh(xn[j] + r * hn[j]);
      return (1 - z) * n + z * h;
    }),
  ];
}

/** The whole stacked (bi)directional network on one sequence [seq][feature]. */
function referenceRun(module: nn.RNNBase, mode: Mode, xs: Mat) {
  const directions = module.numDirections;
  const finals: Vec[][] = [];
  let steps = xs;
  for (let layer = 0; layer < module.numLayers; layer++) {
    const outputs: Mat[] = [];
    for (let d = 0; d < directions; d++) {
      const cw = module.cellWeights(layer, d);
      const w = {
        ih: cw.ih.toArray() as Mat,
        hh: cw.hh.toArray() as Mat,
        bih: cw.biasIh ? (cw.biasIh.toArray() as Vec) : null,
        bhh: cw.biasHh ? (cw.biasHh.toArray() as Vec) : null,
      };
      let state: Vec[] = Array.from({ length: mode === 'lstm' ? 2 : 1 }, () =>
        new Array(module.hiddenSize).fill(0),
      );
      const out: Mat = new Array(steps.length);
      for (let n = 0; n < steps.length; n++) {
        const t = d === 0 ? n : steps.length - 1 - n;
        state = referenceStep(mode, steps[t], state, w);
        out[t] = state[0];
      }
      outputs.push(out);
      finals.push(state);
    }
    steps = steps.map((_, t) => outputs.flatMap((o) => o[t]));
  }
  return { output: steps, finals };
}

const construct = (mode: Mode, input: number, hidden: number, options: nn.RNNOptions) =>
  mode === 'lstm'
    ? new nn.LSTM(input, hidden, options)
    : mode === 'gru'
      ? new nn.GRU(input, hidden, options)
      : new nn.RNN(input, hidden, { ...options, nonlinearity: mode });

function runModule(module: nn.RNNBase, x: A.Tensor): [A.Tensor, A.Tensor[]] {
  if (module instanceof nn.LSTM) {
    const [out, [h, c]] = module.forward(x);
    return [out, [h, c]];
  }
  const [out, h] = (module as nn.RNN | nn.GRU).forward(x);
  return [out, [h]];
}

function expectClose(actual: A.Tensor, expected: unknown, tol: number) {
  const a = actual.toTypedArray() as Float64Array;
  const e = (expected as unknown[]).flat(4) as number[];
  expect(a.length).toBe(e.length);
  let worst = 0;
  for (let i = 0; i < e.length; i++) worst = Math.max(worst, Math.abs(a[i] - e[i]));
  expect(worst).toBeLessThan(tol);
}

describe('RNN, LSTM, GRU', () => {
  it('use PyTorch parameter names, shapes and init bounds', () => {
    nn.manualSeed(0);
    const lstm = new nn.LSTM(3, 5, { numLayers: 2, bidirectional: true });
    expect(lstm.namedParameters().map(([n, p]) => `${n}:${p.shape.join('x')}`)).toEqual([
      'weight_ih_l0:20x3',
      'weight_hh_l0:20x5',
      'bias_ih_l0:20',
      'bias_hh_l0:20',
      'weight_ih_l0_reverse:20x3',
      'weight_hh_l0_reverse:20x5',
      'bias_ih_l0_reverse:20',
      'bias_hh_l0_reverse:20',
      'weight_ih_l1:20x10',
      'weight_hh_l1:20x5',
      'bias_ih_l1:20',
      'bias_hh_l1:20',
      'weight_ih_l1_reverse:20x10',
      'weight_hh_l1_reverse:20x5',
      'bias_ih_l1_reverse:20',
      'bias_hh_l1_reverse:20',
    ]);
    expect(lstm.weight_hh_l1_reverse.shape).toEqual([20, 5]);
    const bound = 1 / Math.sqrt(5);
    for (const p of lstm.parameters()) {
      const v = p.toTypedArray() as Float32Array;
      expect(Math.max(...v.map(Math.abs))).toBeLessThanOrEqual(bound);
      expect(Math.max(...v.map(Math.abs))).toBeGreaterThan(bound * 0.7);
    }
    expect(new nn.GRU(4, 6).weight_ih_l0.shape).toEqual([18, 4]);
    expect(new nn.RNN(4, 6, { bias: false }).namedParameters().map(([n]) => n)).toEqual([
      'weight_ih_l0',
      'weight_hh_l0',
    ]);
    expect(lstm.toString()).toBe('LSTM(inputSize=3, hiddenSize=5, numLayers=2, bidirectional=true)');
  });

  it('is reproducible from a key', () => {
    const a = new nn.GRU(2, 3, { key: T.random.key(7) });
    const b = new nn.GRU(2, 3, { key: T.random.key(7) });
    expect(a.weight_hh_l0.toArray()).toEqual(b.weight_hh_l0.toArray());
  });

  for (const mode of ['tanh', 'relu', 'lstm', 'gru'] as const) {
    for (const layout of [
      { numLayers: 1, bidirectional: false },
      { numLayers: 2, bidirectional: true },
      { numLayers: 2, bias: false },
    ]) {
      it(`${mode} ${JSON.stringify(layout)} matches a hand-written step loop`, () => {
        const key = T.random.key(11);
        const module = construct(mode, 3, 4, { ...layout, dtype: 'float64', key });
        const [seq, batch] = [5, 2];
        const x = A.tensor(T.random.normal(T.random.key(3), [seq, batch, 3], { dtype: 'float64' }));
        const [out, finals] = runModule(module, x);
        const directions = module.numDirections;
        expect(out.shape).toEqual([seq, batch, directions * 4]);
        const xs = x.toArray() as number[][][];
        const refs = [0, 1].map((b) =>
          referenceRun(
            module,
            mode,
            xs.map((step) => step[b]),
          ),
        );
        expectClose(
          out,
          xs.map((_, t) => refs.map((r) => r.output[t])),
          1e-12,
        );
        for (const [c, final] of finals.entries()) {
          expect(final.shape).toEqual([module.numLayers * directions, batch, 4]);
          expectClose(
            final,
            refs[0].finals.map((_, i) => refs.map((r) => r.finals[i][c])),
            1e-12,
          );
        }
      });
    }
  }

  it('accepts batchFirst, unbatched inputs and initial states', () => {
    nn.manualSeed(4);
    const lstm = new nn.LSTM(3, 4, { numLayers: 2, dtype: 'float64' });
    const batchFirst = new nn.LSTM(3, 4, { numLayers: 2, dtype: 'float64', batchFirst: true });
    batchFirst.loadStateDict(lstm.stateDict());
    const x = A.tensor(T.random.normal(T.random.key(1), [6, 2, 3], { dtype: 'float64' }));
    const h0 = A.tensor(T.random.normal(T.random.key(2), [2, 2, 4], { dtype: 'float64' }));
    const c0 = A.tensor(T.random.normal(T.random.key(3), [2, 2, 4], { dtype: 'float64' }));
    const [out, [h, c]] = lstm.forward(x, [h0, c0]);
    const [outBf, [hBf, cBf]] = batchFirst.forward(A.transpose(x, 0, 1), [h0, c0]);
    expect(outBf.shape).toEqual([2, 6, 4]);
    expect(A.transpose(outBf, 0, 1).toArray()).toEqual(out.toArray());
    expect(hBf.toArray()).toEqual(h.toArray());
    expect(cBf.toArray()).toEqual(c.toArray());

    // The second sequence alone, unbatched: [seq, feature] with [layers, hidden] states.
    const pick = (t: A.Tensor, axis: number) => A.squeeze(A.narrow(t, axis, 1, 1), axis);
    const [outU, [hU]] = lstm.forward(pick(x, 1), [pick(h0, 1), pick(c0, 1)]);
    expect(outU.shape).toEqual([6, 4]);
    expectClose(outU, pick(out, 1).toArray(), 1e-12);
    expectClose(hU, pick(h, 1).toArray(), 1e-12);

    expect(() => lstm.forward(A.zeros([6, 2, 5]))).toThrow(
      /LSTM: expected input with 3 features, got shape \[6,2,5\]/,
    );
    expect(() => lstm.forward(x, [A.zeros([1, 2, 4]), c0])).toThrow(/initial state of shape \[2,2,4\]/);
    expect(() => new nn.GRU(3, 0)).toThrow(/hiddenSize must be a positive integer/);
  });

  it('applies dropout between layers only in training mode', () => {
    nn.manualSeed(5);
    const gru = new nn.GRU(2, 8, { numLayers: 2, dropout: 0.5 });
    const x = A.tensor(T.random.normal(T.random.key(0), [4, 3, 2]));
    const first = gru.forward(x)[0].toArray();
    const second = gru.forward(x)[0].toArray();
    expect(first).not.toEqual(second);
    gru.eval();
    expect(gru.forward(x)[0].toArray()).toEqual(gru.forward(x)[0].toArray());
  });

  it('backpropagates to every parameter, matching central differences', () => {
    const lstm = new nn.LSTM(2, 3, { numLayers: 2, dtype: 'float64', key: T.random.key(9) });
    const x = A.tensor(T.random.normal(T.random.key(1), [4, 2, 2], { dtype: 'float64' }), {
      requiresGrad: true,
    });
    const probe = (shape: readonly number[], seed: number) =>
      A.tensor(T.random.normal(T.random.key(seed), shape, { dtype: 'float64' }));
    const wOut = probe([4, 2, 3], 20);
    const wH = probe([2, 2, 3], 21);
    const wC = probe([2, 2, 3], 22);
    const loss = () => {
      const [out, [h, c]] = lstm.forward(x);
      return A.add(A.add(A.sum(A.mul(out, wOut)), A.sum(A.mul(h, wH))), A.sum(A.mul(c, wC)));
    };
    loss().backward();
    for (const [name, p] of lstm.namedParameters()) {
      expect(p.grad, name).not.toBeNull();
      expect(
        (p.grad!.toTypedArray() as Float64Array).some((g) => g !== 0),
        name,
      ).toBe(true);
    }
    expect(x.grad?.shape).toEqual([4, 2, 2]);

    const eps = 1e-6;
    for (const [name, index] of [
      ['weight_ih_l0', 5],
      ['weight_hh_l0', 17],
      ['bias_hh_l0', 9],
      ['weight_ih_l1', 30],
      ['bias_ih_l1', 2],
    ] as const) {
      const p = lstm[name];
      const values = Float64Array.from(p.toTypedArray() as Float64Array);
      const at = (delta: number) => {
        const moved = Float64Array.from(values);
        moved[index] += delta;
        p.assign(T.array(moved, { shape: p.shape }));
        return A.noGrad(() => loss().item() as number);
      };
      const numeric = (at(eps) - at(-eps)) / (2 * eps);
      p.assign(T.array(values, { shape: p.shape }));
      const analytic = (p.grad!.toTypedArray() as Float64Array)[index];
      expect(Math.abs(numeric - analytic), name).toBeLessThan(1e-7 * Math.max(1, Math.abs(numeric)));
    }
  });
});

// --- Training: an inline Adam (nn may not import @tsgrad/optim). ---

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
        const mHat = m[k][i] / (1 - 0.9 ** t);
        const vHat = v[k][i] / (1 - 0.999 ** t);
        w[i] -= (lr * mHat) / (Math.sqrt(vHat) + 1e-8);
      }
      p.assign(T.array(w, { shape: p.shape }));
      p.grad = null;
    });
  };
}

/** Random bit sequences [batch, seq, 1] with the running parity (XOR of the prefix) as labels. */
function paritySet(key: T.random.PRNGKey, batch: number, seq: number) {
  const bits = T.random.bernoulli(key, 0.5, [batch, seq]).toTypedArray() as Uint8Array;
  const labels = new Float32Array(batch * seq);
  for (let b = 0; b < batch; b++) {
    let parity = 0;
    for (let t = 0; t < seq; t++) {
      parity ^= bits[b * seq + t];
      labels[b * seq + t] = parity;
    }
  }
  return {
    x: A.tensor(T.array(Float32Array.from(bits), { shape: [batch, seq, 1] })),
    y: A.tensor(T.array(labels, { shape: [batch, seq, 1] })),
  };
}

class ParityNet extends nn.Module {
  readonly lstm = new nn.LSTM(1, 12, { batchFirst: true });
  readonly head = new nn.Linear(12, 1);

  forward(x: A.Tensor): A.Tensor {
    return this.head.forward(this.lstm.forward(x)[0]);
  }
}

describe('LSTM training', () => {
  it('learns the running parity of bit sequences', () => {
    nn.manualSeed(123);
    const net = new ParityNet();
    const step = adam(net.parameters(), 0.02);
    const started = performance.now();
    let iterations = 0;
    for (; iterations < 300; iterations++) {
      const { x, y } = paritySet(T.random.key(1000 + iterations), 32, 8);
      A.binaryCrossEntropyWithLogits(net.forward(x), y).backward();
      step();
      if (iterations % 25 === 24) {
        const probe = paritySet(T.random.key(7), 64, 8);
        const predicted = A.noGrad(() => net.forward(probe.x))
          .gt(0)
          .to('float32');
        if ((A.mean(predicted.eq(probe.y).to('float32')).item() as number) > 0.99) break;
      }
    }
    const test = paritySet(T.random.key(99), 256, 8);
    const predicted = A.noGrad(() => net.forward(test.x))
      .gt(0)
      .to('float32');
    const correct = predicted.eq(test.y).to('float32');
    const stepAccuracy = A.mean(correct).item() as number;
    const finalAccuracy = A.mean(A.narrow(correct, 1, 7, 1)).item() as number;
    console.log(
      `LSTM parity: ${iterations + 1} steps, ${(performance.now() - started).toFixed(0)} ms, per-step accuracy ${stepAccuracy}, final-parity accuracy ${finalAccuracy}`,
    );
    expect(stepAccuracy).toBeGreaterThanOrEqual(0.95);
    expect(finalAccuracy).toBeGreaterThanOrEqual(0.95);
    // About 2 s alone; a machine shared by several jobs can take three times that.
  }, 30_000);
});
