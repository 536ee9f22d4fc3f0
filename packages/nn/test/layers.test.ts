import * as A from '@tsgrad/autograd';
import * as nn from '@tsgrad/nn';
import * as T from '@tsgrad/tensor';
import { describe, expect, it } from 'vitest';

// Each layer against a direct functional computation with its own parameters, its shapes,
// PyTorch's state_dict names and parameter counts, and its gradients (gradcheck in float64 as
// a function of the input and the parameters).

let seed = 0;
const randn = (shape: number[], dtype: 'float32' | 'float64' = 'float64') =>
  A.randn(T.random.key(++seed), shape, { dtype });

const f64 = (values: number[], shape = [values.length]) => T.array(Float64Array.from(values), { shape });
const maxAbs = (values: number[]) => values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const valuesOf = (x: A.Tensor | T.NDArray) =>
  Array.from((x instanceof A.Tensor ? x.value : x).toTypedArray(), Number);

function expectClose(actual: A.Tensor | T.NDArray, expected: A.Tensor | T.NDArray, tol = 1e-9): void {
  expect([...actual.shape]).toEqual([...expected.shape]);
  const a = valuesOf(actual);
  const e = valuesOf(expected);
  const worst = a.reduce((m, v, i) => Math.max(m, Math.abs(v - e[i]) / (1 + Math.abs(e[i]))), 0);
  expect(worst).toBeLessThanOrEqual(tol);
}

/** The module's forward as a function of its input and its own parameters, for gradcheck. */
function asFunction(module: nn.Module, forward: (x: A.Tensor) => A.Tensor) {
  const names = Object.entries(module)
    .filter(([, v]) => v instanceof nn.Parameter)
    .map(([n]) => n);
  const slots = module as unknown as Record<string, unknown>;
  const params = names.map((n) => slots[n] as nn.Parameter);
  const fn = (x: A.Tensor, ...values: A.Tensor[]) => {
    names.forEach((n, i) => {
      slots[n] = values[i];
    });
    try {
      return forward(x);
    } finally {
      names.forEach((n, i) => {
        slots[n] = params[i];
      });
    }
  };
  return { fn, params };
}

function gradcheckLayer(
  module: nn.Module,
  x: A.Tensor,
  forward = (t: A.Tensor) => (module as nn.TensorModule).forward(t),
) {
  const { fn, params } = asFunction(module, forward);
  expect(A.gradcheck(fn, [x, ...params], { fastMode: true, seed: 3 })).toBe(true);
}

const stateKeys = (m: nn.Module) => Object.keys(m.stateDict());

describe('Conv2d', () => {
  it('matches conv2d with its weight and bias, in every geometry', () => {
    const x = randn([2, 4, 7, 6]);
    const cases: [nn.ConvOptions<T.Size2d>, number[]][] = [
      [{}, [2, 6, 5, 4]],
      [{ padding: 1 }, [2, 6, 7, 6]],
      [{ padding: 'same' }, [2, 6, 7, 6]],
      [{ padding: 'same', dilation: 2 }, [2, 6, 7, 6]],
      [{ padding: 'valid', stride: 2 }, [2, 6, 3, 2]],
      [{ stride: [2, 1], padding: [1, 0], dilation: [1, 2] }, [2, 6, 4, 2]],
      [{ groups: 2, bias: false }, [2, 6, 5, 4]],
    ];
    for (const [options, shape] of cases) {
      const conv = new nn.Conv2d(4, 6, 3, { ...options, dtype: 'float64' });
      const y = conv.forward(x);
      expect(y.shape).toEqual(shape);
      const { padding, stride, dilation, groups } = options;
      expectClose(
        y,
        A.conv2d(x, conv.weight, { padding, stride, dilation, groups, bias: conv.bias ?? undefined }),
      );
    }
  });

  it('has PyTorch parameter names, shapes and counts', () => {
    const conv = new nn.Conv2d(3, 16, 3);
    expect(stateKeys(conv)).toEqual(['weight', 'bias']);
    expect(conv.weight.shape).toEqual([16, 3, 3, 3]);
    expect(conv.weight.dtype).toBe('float32');
    expect(conv.numParameters()).toBe(448);
    expect(new nn.Conv2d(3, 16, 3, { bias: false }).numParameters()).toBe(432);
    expect(new nn.Conv2d(8, 16, [3, 5], { groups: 4 }).weight.shape).toEqual([16, 2, 3, 5]);
  });

  it('draws weight and bias from U(−1/√fanIn, 1/√fanIn) (kaiming_uniform with a = √5)', () => {
    const conv = new nn.Conv2d(32, 64, 3, { key: T.random.key(7) });
    const bound = 1 / Math.sqrt(32 * 9);
    const w = valuesOf(conv.weight);
    expect(maxAbs(w)).toBeLessThanOrEqual(bound);
    expect(maxAbs(w)).toBeGreaterThan(0.99 * bound);
    const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
    expect(std / (bound / Math.sqrt(3))).toBeCloseTo(1, 1);
    expect(maxAbs(valuesOf(conv.bias!))).toBeLessThanOrEqual(bound);
    // The same key gives the same layer; the default generator follows manualSeed.
    expect(valuesOf(new nn.Conv2d(32, 64, 3, { key: T.random.key(7) }).weight)).toEqual(w);
    nn.manualSeed(11);
    const a = valuesOf(new nn.Conv2d(2, 2, 2).weight);
    nn.manualSeed(11);
    expect(valuesOf(new nn.Conv2d(2, 2, 2).weight)).toEqual(a);
  });

  it('takes unbatched [C, H, W] input', () => {
    const conv = new nn.Conv2d(2, 3, 3, { padding: 1, dtype: 'float64' });
    const x = randn([2, 5, 5]);
    const y = conv.forward(x);
    expect(y.shape).toEqual([3, 5, 5]);
    expectClose(y, A.squeeze(conv.forward(A.unsqueeze(x, 0)), 0));
  });

  it('pads with reflect, replicate and circular modes like PyTorch', () => {
    // A kernel [1, 0, 0] copies the first element of each window: the padded sequence itself.
    const x = A.tensor([[[1, 2, 3, 4]]], { dtype: 'float64' });
    const expected = {
      zeros: [0, 0, 1, 2, 3, 4],
      reflect: [3, 2, 1, 2, 3, 4],
      replicate: [1, 1, 1, 2, 3, 4],
      circular: [3, 4, 1, 2, 3, 4],
    };
    for (const [mode, values] of Object.entries(expected)) {
      const conv = new nn.Conv1d(1, 1, 3, {
        padding: 2,
        bias: false,
        dtype: 'float64',
        paddingMode: mode as nn.PaddingMode,
      });
      conv.weight.assign(T.array([[[1, 0, 0]]], { dtype: 'float64' }));
      expect(valuesOf(conv.forward(x))).toEqual(values);
    }
    const x2 = randn([1, 2, 5, 6]);
    const reflect = new nn.Conv2d(2, 3, 3, { padding: 1, paddingMode: 'reflect', dtype: 'float64' });
    const padded = A.pad(
      x2,
      [
        [0, 0],
        [0, 0],
        [1, 1],
        [1, 1],
      ],
      { mode: 'reflect' },
    );
    expectClose(reflect.forward(x2), A.conv2d(padded, reflect.weight, { bias: reflect.bias! }));
    // 'same' with an even kernel puts the extra row/column after, in every mode.
    const same = new nn.Conv2d(2, 2, [2, 4], { padding: 'same', paddingMode: 'circular', dtype: 'float64' });
    expect(same.forward(x2).shape).toEqual([1, 2, 5, 6]);
    const sameZeros = new nn.Conv2d(2, 2, [2, 4], { padding: 'same', dtype: 'float64' });
    sameZeros.loadStateDict(same.stateDict());
    const circ = same.forward(x2);
    const zero = sameZeros.forward(x2);
    // Interior positions (no padding involved) agree.
    expectClose(
      A.slice(circ, [{}, {}, { stop: 4 }, { start: 1, stop: 4 }]),
      A.slice(zero, [{}, {}, { stop: 4 }, { start: 1, stop: 4 }]),
    );
  });

  it('rejects bad geometry and inputs with errors naming the layer', () => {
    expect(() => new nn.Conv2d(3, 4, 3, { groups: 2 })).toThrow(/Conv2d: groups=2/);
    expect(() => new nn.Conv2d(3, 4, 3, { padding: 'same', stride: 2 })).toThrow(T.ValueError);
    expect(() => new nn.Conv2d(3, 4, [3, 3, 3] as unknown as T.Size2d)).toThrow(/kernelSize/);
    const conv = new nn.Conv2d(3, 4, 3);
    expect(() => conv.forward(A.zeros([1, 2, 5, 5]))).toThrow(/Conv2d: expected 3 input channels/);
    expect(() => conv.forward(A.zeros([5, 5]))).toThrow(T.ShapeError);
    expect(() =>
      new nn.Conv1d(1, 1, 3, { padding: 3, paddingMode: 'reflect' }).forward(A.zeros([1, 1, 3])),
    ).toThrow(/reflect padding of 3 is too large/);
  });

  it('prints like PyTorch', () => {
    expect(new nn.Conv2d(3, 16, 3).toString()).toBe('Conv2d(3, 16, kernelSize=[3, 3], stride=[1, 1])');
    expect(new nn.Conv2d(3, 16, [3, 5], { stride: 2, padding: 1, groups: 1, bias: false }).toString()).toBe(
      'Conv2d(3, 16, kernelSize=[3, 5], stride=[2, 2], padding=[1, 1], bias=false)',
    );
    expect(new nn.Conv1d(4, 4, 3, { padding: 'same', dilation: 2, groups: 4 }).toString()).toBe(
      "Conv1d(4, 4, kernelSize=[3], stride=[1], padding='same', dilation=[2], groups=4)",
    );
  });

  it('is differentiable in its input and parameters', () => {
    gradcheckLayer(
      new nn.Conv2d(4, 2, 3, { stride: 2, padding: 1, groups: 2, dtype: 'float64' }),
      randn([2, 4, 5, 5]),
    );
    gradcheckLayer(
      new nn.Conv2d(2, 2, 2, { padding: 1, paddingMode: 'reflect', dtype: 'float64' }),
      randn([1, 2, 3, 4]),
    );
  });
});

describe('Conv1d', () => {
  it('matches conv1d, with PyTorch shapes and counts', () => {
    const conv = new nn.Conv1d(4, 8, 5, { stride: 2, padding: 2, dtype: 'float64' });
    const x = randn([3, 4, 11]);
    const y = conv.forward(x);
    expect(y.shape).toEqual([3, 8, 6]);
    expectClose(y, A.conv1d(x, conv.weight, { stride: 2, padding: 2, bias: conv.bias! }));
    expect(conv.weight.shape).toEqual([8, 4, 5]);
    expect(conv.numParameters()).toBe(168);
    expect(conv.forward(randn([4, 11])).shape).toEqual([8, 6]);
    gradcheckLayer(new nn.Conv1d(2, 3, 3, { dilation: 2, dtype: 'float64' }), randn([2, 2, 7]));
  });
});

describe('ConvTranspose2d', () => {
  it('has weight [in, out/groups, kh, kw] and matches convTranspose2d', () => {
    const layer = new nn.ConvTranspose2d(4, 6, 3, {
      stride: 2,
      padding: 1,
      outputPadding: 1,
      groups: 2,
      dtype: 'float64',
    });
    expect(layer.weight.shape).toEqual([4, 3, 3, 3]);
    expect(stateKeys(layer)).toEqual(['weight', 'bias']);
    const x = randn([2, 4, 5, 4]);
    const y = layer.forward(x);
    // (n − 1)·stride − 2·padding + dilation·(k − 1) + outputPadding + 1
    expect(y.shape).toEqual([2, 6, 10, 8]);
    expectClose(
      y,
      A.convTranspose2d(x, layer.weight, {
        stride: 2,
        padding: 1,
        outputPadding: 1,
        groups: 2,
        bias: layer.bias!,
      }),
    );
    expect(new nn.ConvTranspose2d(16, 8, 3).numParameters()).toBe(16 * 8 * 9 + 8);
    expect(layer.toString()).toBe(
      'ConvTranspose2d(4, 6, kernelSize=[3, 3], stride=[2, 2], padding=[1, 1], outputPadding=[1, 1], groups=2)',
    );
    expect(() => new nn.ConvTranspose2d(4, 6, 3, { outputPadding: 1 })).toThrow(/outputPadding/);
  });

  it('uses PyTorch fanIn = outChannels/groups · kh · kw for its init bound', () => {
    const layer = new nn.ConvTranspose2d(64, 8, 3, { key: T.random.key(1) });
    const bound = 1 / Math.sqrt(8 * 9);
    const w = maxAbs(valuesOf(layer.weight));
    expect(w).toBeLessThanOrEqual(bound);
    expect(w).toBeGreaterThan(0.98 * bound);
  });

  it('inverts the shape of the matching Conv2d and is differentiable', () => {
    const down = new nn.Conv2d(3, 5, 4, { stride: 2, padding: 1 });
    const up = new nn.ConvTranspose2d(5, 3, 4, { stride: 2, padding: 1 });
    expect(up.forward(down.forward(A.zeros([1, 3, 8, 8]))).shape).toEqual([1, 3, 8, 8]);
    gradcheckLayer(new nn.ConvTranspose2d(2, 3, 2, { stride: 2, dtype: 'float64' }), randn([1, 2, 3, 2]));
    const one = new nn.ConvTranspose1d(2, 4, 3, { stride: 3, dtype: 'float64' });
    const x = randn([2, 2, 4]);
    expect(one.weight.shape).toEqual([2, 4, 3]);
    expectClose(one.forward(x), A.convTranspose1d(x, one.weight, { stride: 3, bias: one.bias! }));
  });
});

describe('pooling', () => {
  const x = randn([2, 3, 8, 6]);

  it('MaxPool2d and AvgPool2d match the functional pools, stride defaulting to the kernel', () => {
    const max = new nn.MaxPool2d(2);
    expect(max.forward(x).shape).toEqual([2, 3, 4, 3]);
    expectClose(max.forward(x), A.maxPool2d(x, { kernelSize: 2, stride: 2 }));
    const strided = new nn.MaxPool2d([3, 2], { stride: 1, padding: [1, 0], dilation: 1, ceilMode: true });
    expectClose(
      strided.forward(x),
      A.maxPool2d(x, { kernelSize: [3, 2], stride: 1, padding: [1, 0], ceilMode: true }),
    );
    const { values, indices } = max.forwardWithIndices(x);
    expectClose(values, max.forward(x));
    expect(indices.dtype).toBe('int32');
    const avg = new nn.AvgPool2d(3, { stride: 2, padding: 1, countIncludePad: false });
    expectClose(
      avg.forward(x),
      A.avgPool2d(x, { kernelSize: 3, stride: 2, padding: 1, countIncludePad: false }),
    );
    expect(avg.forward(x).shape).toEqual([2, 3, 4, 3]);
    expect(max.toString()).toBe('MaxPool2d(kernelSize=2, stride=2, padding=0, dilation=1, ceilMode=false)');
    expect(avg.toString()).toBe('AvgPool2d(kernelSize=3, stride=2, padding=1)');
    expect(max.numParameters()).toBe(0);
  });

  it('AdaptiveAvgPool2d(1) is a global average, and any output size works', () => {
    const global = new nn.AdaptiveAvgPool2d(1).forward(x);
    expect(global.shape).toEqual([2, 3, 1, 1]);
    expectClose(global, A.mean(x, { axis: [2, 3], keepdims: true }));
    expect(new nn.AdaptiveAvgPool2d([3, null]).forward(x).shape).toEqual([2, 3, 3, 6]);
    expect(new nn.AdaptiveAvgPool2d([5, 4]).forward(x).shape).toEqual([2, 3, 5, 4]);
    expect(new nn.AdaptiveAvgPool2d([3, null]).toString()).toBe('AdaptiveAvgPool2d(outputSize=[3, null])');
  });

  it('has 1-D versions', () => {
    const seq = randn([2, 3, 10]);
    expectClose(
      new nn.MaxPool1d(3, { stride: 2 }).forward(seq),
      A.maxPool1d(seq, { kernelSize: 3, stride: 2 }),
    );
    expectClose(new nn.AvgPool1d(2).forward(seq), A.avgPool1d(seq, { kernelSize: 2 }));
    expect(new nn.AdaptiveAvgPool1d(4).forward(seq).shape).toEqual([2, 3, 4]);
  });
});

describe('Flatten, Unflatten and Identity', () => {
  it('reshape like PyTorch', () => {
    const x = randn([2, 3, 4, 5]);
    expect(new nn.Flatten().forward(x).shape).toEqual([2, 60]);
    expect(new nn.Flatten(0).forward(x).shape).toEqual([120]);
    expect(new nn.Flatten(1, 2).forward(x).shape).toEqual([2, 12, 5]);
    expectClose(new nn.Flatten().forward(x), A.reshape(x, [2, 60]));
    const unflat = new nn.Unflatten(1, [3, -1]);
    expect(unflat.forward(new nn.Flatten().forward(x)).shape).toEqual([2, 3, 20]);
    expectClose(new nn.Unflatten(-1, [4, 5]).forward(A.reshape(x, [2, 3, 20])), x);
    expect(() => new nn.Unflatten(1, [7, -1]).forward(A.zeros([2, 12]))).toThrow(/Unflatten: axis 1/);
    expect(() => new nn.Unflatten(3, [2, 2]).forward(A.zeros([2, 4]))).toThrow(T.IndexError);
    const identity = new nn.Identity();
    expect(identity.forward(x)).toBe(x);
    expect(new nn.Flatten().toString()).toBe('Flatten(startDim=1, endDim=-1)');
    expect(unflat.toString()).toBe('Unflatten(dim=1, unflattenedSize=[3, -1])');
  });
});

describe('Dropout', () => {
  it('drops a fraction p in training and scales the rest by 1/(1 − p)', () => {
    const drop = new nn.Dropout(0.25);
    const x = A.ones([200, 50], { requiresGrad: true });
    const y = drop.forward(x, { key: T.random.key(3) });
    const values = valuesOf(y);
    const dropped = values.filter((v) => v === 0).length / values.length;
    expect(Math.abs(dropped - 0.25)).toBeLessThan(0.02);
    expect(values.every((v) => v === 0 || Math.abs(v - 4 / 3) < 1e-6)).toBe(true);
    // The same key gives the same mask; the gradient is that mask, scaled.
    expect(valuesOf(drop.forward(x, { key: T.random.key(3) }))).toEqual(values);
    A.sum(y).backward();
    expect(valuesOf(x.grad!)).toEqual(values);
  });

  it('draws a fresh mask per call from the default generator, reproducibly under manualSeed', () => {
    const drop = new nn.Dropout();
    const x = A.ones([64]);
    nn.manualSeed(4);
    const first = valuesOf(drop.forward(x));
    const second = valuesOf(drop.forward(x));
    expect(first).not.toEqual(second);
    nn.manualSeed(4);
    expect(valuesOf(drop.forward(x))).toEqual(first);
  });

  it('is the identity in eval mode and for p = 0', () => {
    const x = randn([4, 4]);
    expect(new nn.Dropout(0.5).eval().forward(x)).toBe(x);
    expect(new nn.Dropout(0).forward(x)).toBe(x);
    expect(valuesOf(new nn.Dropout(1).forward(x)).every((v) => v === 0)).toBe(true);
    expect(() => new nn.Dropout(1.5)).toThrow(/Dropout: p must lie in \[0, 1\]/);
    expect(new nn.Dropout(0.1).toString()).toBe('Dropout(p=0.1)');
  });
});

describe('BatchNorm', () => {
  /** Per-channel batch mean and unbiased variance of an [N, C, …] input, by hand. */
  function channelStats(x: A.Tensor): { mean: number[]; unbiasedVar: number[]; biasedVar: number[] } {
    const [n, c] = x.shape;
    const inner = x.size / (n * c);
    const v = valuesOf(x);
    const mean: number[] = [];
    const unbiasedVar: number[] = [];
    const biasedVar: number[] = [];
    for (let ch = 0; ch < c; ch++) {
      const xs: number[] = [];
      for (let s = 0; s < n; s++) for (let i = 0; i < inner; i++) xs.push(v[(s * c + ch) * inner + i]);
      const m = xs.reduce((a, b) => a + b, 0) / xs.length;
      const ss = xs.reduce((a, b) => a + (b - m) ** 2, 0);
      mean.push(m);
      unbiasedVar.push(ss / (xs.length - 1));
      biasedVar.push(ss / xs.length);
    }
    return { mean, unbiasedVar, biasedVar };
  }

  it('stores PyTorch-named buffers, with camelCase getters', () => {
    const bn = new nn.BatchNorm2d(16);
    expect(stateKeys(bn)).toEqual(['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']);
    expect(bn.runningMean).toBe(bn.running_mean);
    expect(bn.runningVar).toBe(bn.running_var);
    expect(bn.numBatchesTracked).toBe(bn.num_batches_tracked);
    expect(bn.numBatchesTracked!.dtype).toBe('int32');
    expect(valuesOf(bn.runningMean!)).toEqual(new Array(16).fill(0));
    expect(valuesOf(bn.runningVar!)).toEqual(new Array(16).fill(1));
    expect(valuesOf(bn.weight!)).toEqual(new Array(16).fill(1));
    expect(valuesOf(bn.bias!)).toEqual(new Array(16).fill(0));
    expect(bn.numParameters()).toBe(32);
    expect(bn.namedBuffers().map(([name]) => name)).toEqual([
      'running_mean',
      'running_var',
      'num_batches_tracked',
    ]);
    const net = new nn.Sequential(new nn.Conv2d(3, 16, 3), bn);
    expect(new Set(stateKeys(net))).toEqual(
      new Set([
        '0.weight',
        '0.bias',
        '1.weight',
        '1.bias',
        '1.running_mean',
        '1.running_var',
        '1.num_batches_tracked',
      ]),
    );
    expect(bn.toString()).toBe(
      'BatchNorm2d(16, eps=0.00001, momentum=0.1, affine=true, trackRunningStats=true)',
    );
  });

  it('normalizes with batch statistics in training and updates the running ones', () => {
    const bn = new nn.BatchNorm2d(3, { dtype: 'float64' });
    bn.weight!.assign(T.array([1, 2, 3], { dtype: 'float64' }));
    bn.bias!.assign(T.array([0, -1, 1], { dtype: 'float64' }));
    const x = A.add(A.mul(randn([4, 3, 2, 5]), 2), 1);
    const y = bn.forward(x);
    expectClose(y, A.batchNorm(x, { weight: bn.weight!, bias: bn.bias!, training: true }));
    const { mean, unbiasedVar, biasedVar } = channelStats(x);
    // Hand-computed: (x − mean)/√(biased var + eps)·w + b at one element per channel.
    const xv = valuesOf(x);
    const yv = valuesOf(y);
    for (let c = 0; c < 3; c++) {
      const at = c * 10 + 7;
      const want = ((xv[at] - mean[c]) / Math.sqrt(biasedVar[c] + 1e-5)) * (c + 1) + [0, -1, 1][c];
      expect(yv[at]).toBeCloseTo(want, 10);
    }
    expectClose(bn.runningMean!, f64(mean.map((m) => 0.1 * m)), 1e-12);
    expectClose(bn.runningVar!, f64(unbiasedVar.map((v) => 0.9 + 0.1 * v)), 1e-12);
    expect(bn.numBatchesTracked!.item()).toBe(1);
    bn.forward(x);
    expect(bn.numBatchesTracked!.item()).toBe(2);
    expectClose(bn.runningMean!, f64(mean.map((m) => 0.19 * m)), 1e-12);
  });

  it('normalizes with the running statistics in eval mode and leaves them alone', () => {
    const bn = new nn.BatchNorm1d(4, { dtype: 'float64', eps: 1e-3 });
    for (let i = 0; i < 3; i++) bn.forward(randn([8, 4]));
    bn.eval();
    const before = valuesOf(bn.runningMean!);
    const x = randn([5, 4, 3]);
    const y = bn.forward(x);
    const shape = [1, 4, 1];
    const expected = A.add(
      A.mul(
        A.div(
          A.sub(x, A.reshape(bn.runningMean!, shape)),
          A.sqrt(A.add(A.reshape(bn.runningVar!, shape), 1e-3)),
        ),
        A.reshape(bn.weight!, shape),
      ),
      A.reshape(bn.bias!, shape),
    );
    expectClose(y, expected);
    expect(valuesOf(bn.runningMean!)).toEqual(before);
    expect(bn.numBatchesTracked!.item()).toBe(3);
  });

  it('averages all batches equally with momentum null', () => {
    const bn = new nn.BatchNorm1d(2, { momentum: null, dtype: 'float64' });
    const batches = [randn([6, 2]), randn([6, 2]), randn([6, 2])];
    for (const b of batches) bn.forward(b);
    const means = batches.map((b) => channelStats(b).mean);
    expectClose(
      bn.runningMean!,
      f64([0, 1].map((c) => (means[0][c] + means[1][c] + means[2][c]) / 3)),
      1e-12,
    );
    bn.resetRunningStats();
    expect(valuesOf(bn.runningMean!)).toEqual([0, 0]);
    expect(valuesOf(bn.runningVar!)).toEqual([1, 1]);
    expect(bn.numBatchesTracked!.item()).toBe(0);
  });

  it('without running statistics uses batch statistics in both modes and saves no buffers', () => {
    const bn = new nn.BatchNorm2d(3, { trackRunningStats: false, affine: false, dtype: 'float64' });
    expect(bn.runningMean).toBeNull();
    expect(stateKeys(bn)).toEqual([]);
    expect(bn.numParameters()).toBe(0);
    const x = randn([2, 3, 2, 2]);
    const train = bn.forward(x);
    expectClose(bn.eval().forward(x), train);
    expectClose(train, A.batchNorm(x, { training: true }));
  });

  it('loads a PyTorch-style state dict and rejects wrong ranks', () => {
    const a = new nn.BatchNorm2d(2);
    a.forward(randn([3, 2, 2, 2], 'float32'));
    const b = new nn.BatchNorm2d(2);
    b.loadStateDict(a.stateDict());
    expect(valuesOf(b.runningVar!)).toEqual(valuesOf(a.runningVar!));
    expect(b.numBatchesTracked!.item()).toBe(1);
    expect(() => b.forward(A.zeros([2, 2]))).toThrow(/BatchNorm2d: expected a 4-D input/);
    expect(() => new nn.BatchNorm1d(3).forward(A.zeros([2, 4]))).toThrow(/expected 3 channels/);
    expect(() => new nn.BatchNorm3d(3).forward(A.zeros([2, 3, 2, 2]))).toThrow(T.ShapeError);
  });

  it('is differentiable in its input and parameters (training mode)', () => {
    const bn = new nn.BatchNorm2d(2, { dtype: 'float64' });
    bn.weight!.assign(T.array([0.5, 2], { dtype: 'float64' }));
    gradcheckLayer(bn, randn([3, 2, 2, 1]));
  });
});

describe('LayerNorm, RMSNorm and GroupNorm', () => {
  it('LayerNorm matches layerNorm and gives zero mean and unit variance at init', () => {
    const ln = new nn.LayerNorm([3, 4], { dtype: 'float64' });
    expect(stateKeys(ln)).toEqual(['weight', 'bias']);
    expect(ln.weight!.shape).toEqual([3, 4]);
    const x = A.add(A.mul(randn([5, 3, 4]), 3), 2);
    const y = ln.forward(x);
    expectClose(A.mean(y, { axis: [1, 2] }), A.zeros([5], { dtype: 'float64' }), 1e-12);
    expectClose(A.mean(A.mul(y, y), { axis: [1, 2] }), A.full([5], 1, { dtype: 'float64' }), 1e-4);
    ln.weight!.assign(T.random.normal(T.random.key(1), [3, 4], { dtype: 'float64' }));
    ln.bias!.assign(T.random.normal(T.random.key(2), [3, 4], { dtype: 'float64' }));
    expectClose(ln.forward(x), A.layerNorm(x, [3, 4], { weight: ln.weight!, bias: ln.bias! }));
    expect(new nn.LayerNorm(8).numParameters()).toBe(16);
    expect(new nn.LayerNorm(8, { bias: false }).numParameters()).toBe(8);
    expect(stateKeys(new nn.LayerNorm(8, { elementwiseAffine: false }))).toEqual([]);
    expect(new nn.LayerNorm(8).toString()).toBe('LayerNorm([8], eps=0.00001, elementwiseAffine=true)');
    gradcheckLayer(ln, randn([2, 3, 4]));
  });

  it('RMSNorm is x / √(mean(x²) + eps) · weight', () => {
    const rms = new nn.RMSNorm(4, { dtype: 'float64', eps: 1e-6 });
    expect(stateKeys(rms)).toEqual(['weight']);
    rms.weight!.assign(T.array([1, 2, 0.5, -1], { dtype: 'float64' }));
    const x = randn([3, 4]);
    const xv = valuesOf(x);
    const expected: number[] = [];
    for (let r = 0; r < 3; r++) {
      const row = xv.slice(r * 4, r * 4 + 4);
      const scale = 1 / Math.sqrt(row.reduce((s, v) => s + v * v, 0) / 4 + 1e-6);
      row.forEach((v, i) => {
        expected.push(v * scale * [1, 2, 0.5, -1][i]);
      });
    }
    expectClose(rms.forward(x), f64(expected, [3, 4]), 1e-12);
    // Default eps: the machine epsilon of the input's dtype (torch.finfo(dtype).eps).
    const tiny = A.full([1, 2], 1e-5, { dtype: 'float32' });
    const plain = new nn.RMSNorm(2);
    const want = 1e-5 / Math.sqrt(1e-10 + 2 ** -23);
    expect(valuesOf(plain.forward(tiny))[0]).toBeCloseTo(want, 5);
    expect(plain.numParameters()).toBe(2);
    expect(new nn.RMSNorm([2, 3], { elementwiseAffine: false }).numParameters()).toBe(0);
    expect(() => plain.forward(A.zeros([2, 3]))).toThrow(/RMSNorm: input \[2,3\] does not end with/);
    expect(plain.toString()).toBe('RMSNorm([2], eps=null, elementwiseAffine=true)');
    gradcheckLayer(rms, randn([2, 4]));
  });

  it('GroupNorm matches groupNorm with per-channel weight and bias', () => {
    const gn = new nn.GroupNorm(2, 6, { dtype: 'float64' });
    expect(stateKeys(gn)).toEqual(['weight', 'bias']);
    expect(gn.numParameters()).toBe(12);
    gn.weight!.assign(T.random.normal(T.random.key(4), [6], { dtype: 'float64' }));
    gn.bias!.assign(T.random.normal(T.random.key(5), [6], { dtype: 'float64' }));
    const x = randn([2, 6, 3]);
    expectClose(gn.forward(x), A.groupNorm(x, 2, { weight: gn.weight!, bias: gn.bias! }));
    expect(() => new nn.GroupNorm(4, 6)).toThrow(
      /GroupNorm: numChannels \(6\) must be divisible by numGroups \(4\)/,
    );
    expect(new nn.GroupNorm(3, 6, { affine: false }).numParameters()).toBe(0);
    expect(gn.toString()).toBe('GroupNorm(2, 6, eps=0.00001, affine=true)');
    gradcheckLayer(gn, randn([2, 6, 2]));
  });
});

describe('Embedding', () => {
  it('looks rows up, shaped [...indices, dim]', () => {
    const emb = new nn.Embedding(10, 3);
    expect(stateKeys(emb)).toEqual(['weight']);
    expect(emb.numParameters()).toBe(30);
    const idx = A.tensor(
      [
        [1, 2, 9],
        [0, 1, 1],
      ],
      { dtype: 'int32' },
    );
    const y = emb.forward(idx);
    expect(y.shape).toEqual([2, 3, 3]);
    expectClose(A.reshape(y, [6, 3]), A.indexSelect(emb.weight, 0, [1, 2, 9, 0, 1, 1]));
    expect(emb.toString()).toBe('Embedding(10, 3)');
  });

  it('starts from N(0, 1)', () => {
    const w = valuesOf(new nn.Embedding(1000, 64, { key: T.random.key(9) }).weight);
    const mean = w.reduce((a, b) => a + b, 0) / w.length;
    const std = Math.sqrt(w.reduce((a, b) => a + (b - mean) ** 2, 0) / w.length);
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(Math.abs(std - 1)).toBeLessThan(0.01);
  });

  it('zeroes the padding row, which gets no gradient', () => {
    const emb = new nn.Embedding(5, 2, { paddingIdx: -1 });
    expect(emb.paddingIdx).toBe(4);
    expect(valuesOf(A.indexSelect(emb.weight, 0, [4]))).toEqual([0, 0]);
    A.sum(emb.forward(A.tensor([4, 1, 1, 4, 0], { dtype: 'int32' }))).backward();
    expect(valuesOf(emb.weight.grad!)).toEqual([1, 1, 2, 2, 0, 0, 0, 0, 0, 0]);
    expect(emb.toString()).toBe('Embedding(5, 2, paddingIdx=4)');
    expect(() => new nn.Embedding(5, 2, { paddingIdx: 5 })).toThrow(T.IndexError);
  });

  it('fromPretrained holds the given rows, frozen by default', () => {
    const rows = T.array(
      [
        [1, 2],
        [3, 4],
      ],
      { dtype: 'float64' },
    );
    const frozen = nn.Embedding.fromPretrained(rows);
    expect(frozen.weight.requiresGrad).toBe(false);
    expect(frozen.numParameters({ trainableOnly: true })).toBe(0);
    expect(valuesOf(frozen.forward([1, 0]))).toEqual([3, 4, 1, 2]);
    expect(nn.Embedding.fromPretrained(rows, { freeze: false }).weight.requiresGrad).toBe(true);
  });
});

describe('activation modules', () => {
  it('each equals its functional form', () => {
    const x = A.mul(randn([4, 5]), 3);
    const cases: [nn.TensorModule, A.Tensor][] = [
      [new nn.ReLU(), A.relu(x)],
      [new nn.ReLU6(), A.relu6(x)],
      [new nn.LeakyReLU({ negativeSlope: 0.2 }), A.leakyRelu(x, { negativeSlope: 0.2 })],
      [new nn.ELU({ alpha: 0.5 }), A.elu(x, { alpha: 0.5 })],
      [new nn.SELU(), A.selu(x)],
      [new nn.GELU(), A.gelu(x)],
      [new nn.GELU({ approximate: 'tanh' }), A.gelu(x, { approximate: 'tanh' })],
      [new nn.SiLU(), A.silu(x)],
      [new nn.Sigmoid(), A.sigmoid(x)],
      [new nn.LogSigmoid(), A.logSigmoid(x)],
      [new nn.Tanh(), A.tanh(x)],
      [new nn.Hardtanh({ minVal: -2, maxVal: 2 }), A.hardtanh(x, { minVal: -2, maxVal: 2 })],
      [new nn.Softplus({ beta: 2, threshold: 5 }), A.softplus(x, { beta: 2, threshold: 5 })],
      [new nn.Softmax(0), A.softmax(x, 0)],
      [new nn.LogSoftmax(1), A.logSoftmax(x, 1)],
      [new nn.Identity(), x],
    ];
    for (const [module, expected] of cases) {
      expectClose(module.forward(x), expected);
      expect(module.numParameters()).toBe(0);
    }
    expectClose(A.sum(new nn.Softmax(1).forward(x), { axis: 1 }), A.ones([4], { dtype: 'float64' }), 1e-12);
  });

  it('print their settings like PyTorch', () => {
    expect(new nn.ReLU().toString()).toBe('ReLU()');
    expect(new nn.LeakyReLU().toString()).toBe('LeakyReLU(negativeSlope=0.01)');
    expect(new nn.GELU({ approximate: 'tanh' }).toString()).toBe("GELU(approximate='tanh')");
    expect(new nn.Softmax(1).toString()).toBe('Softmax(dim=1)');
    expect(new nn.Softplus().toString()).toBe('Softplus(beta=1, threshold=20)');
    expect(new nn.ELU().toString()).toBe('ELU(alpha=1)');
  });
});

describe('models built from the layers', () => {
  function convNet() {
    return new nn.Sequential(
      new nn.Conv2d(1, 4, 3, { padding: 1 }),
      new nn.BatchNorm2d(4),
      new nn.ReLU(),
      new nn.MaxPool2d(2),
      new nn.Conv2d(4, 6, 3, { padding: 'same', paddingMode: 'replicate' }),
      new nn.GroupNorm(2, 6),
      new nn.GELU(),
      new nn.ConvTranspose2d(6, 6, 2, { stride: 2 }),
      new nn.AdaptiveAvgPool2d(2),
      new nn.Flatten(),
      new nn.Dropout(0.1),
      new nn.Linear(24, 8),
      new nn.LayerNorm(8),
      new nn.SiLU(),
      new nn.Linear(8, 3),
      new nn.RMSNorm(3),
    );
  }

  it('gradients reach every parameter', () => {
    nn.manualSeed(1);
    const net = convNet();
    const x = A.randn(T.random.key(2), [4, 1, 8, 8]);
    const loss = new nn.CrossEntropyLoss().forward(
      net.forward(x),
      A.tensor([0, 1, 2, 1], { dtype: 'int32' }),
    );
    loss.backward();
    for (const [name, p] of net.namedParameters()) {
      expect(p.grad, name).not.toBeNull();
      const g = valuesOf(p.grad!);
      expect(g.every(Number.isFinite), name).toBe(true);
      expect(
        g.some((v) => v !== 0),
        name,
      ).toBe(true);
    }
    const tokens = new nn.Sequential(new nn.Embedding(7, 4), new nn.LayerNorm(4), new nn.Linear(4, 2));
    A.sum(A.square(tokens.forward(A.tensor([[1, 2, 3]], { dtype: 'int32' })))).backward();
    expect(tokens.parameters().every((p) => p.grad !== null)).toBe(true);
  });

  it('round-trips through a state dict, running statistics included', () => {
    nn.manualSeed(3);
    const a = convNet();
    a.forward(A.randn(T.random.key(4), [4, 1, 8, 8]));
    nn.manualSeed(5);
    const b = convNet();
    b.loadStateDict(a.stateDict());
    const x = A.randn(T.random.key(6), [2, 1, 8, 8]);
    expect(valuesOf(b.eval().forward(x))).toEqual(valuesOf(a.eval().forward(x)));
    expect(stateKeys(a)).toContain('1.num_batches_tracked');
  });

  it('counts parameters like PyTorch (LeNet-5: 61,706) and prints a summary', () => {
    const lenet = new nn.Sequential(
      new nn.Conv2d(1, 6, 5),
      new nn.Tanh(),
      new nn.AvgPool2d(2),
      new nn.Conv2d(6, 16, 5),
      new nn.Tanh(),
      new nn.AvgPool2d(2),
      new nn.Flatten(),
      new nn.Linear(400, 120),
      new nn.Tanh(),
      new nn.Linear(120, 84),
      new nn.Tanh(),
      new nn.Linear(84, 10),
    );
    expect(lenet.numParameters()).toBe(61706);
    expect(lenet.forward(A.zeros([2, 1, 32, 32])).shape).toEqual([2, 10]);
    const text = lenet.toString();
    expect(text).toContain('(0): Conv2d(1, 6, kernelSize=[5, 5], stride=[1, 1])');
    expect(text).toContain('(2): AvgPool2d(kernelSize=2, stride=2, padding=0)');
    expect(text).toContain('(6): Flatten(startDim=1, endDim=-1)');
    const summary = lenet.summary();
    expect(summary).toMatch(/^0\s+Conv2d\s+156$/m);
    expect(summary).toMatch(/^3\s+Conv2d\s+2,416$/m);
    expect(summary).toMatch(/^total\s+61,706$/m);
  });
});
