import * as A from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';
import { describe, expect, it } from 'vitest';

// Convolution and pooling: the op specs checked as the conformance harness checks them (with
// matmul's, from linalg.ts), values against @tsgrad/tensor, and gradients of the public
// functions by float64 central differences at first and second order.

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

const randomLeaf = (shape: readonly number[], random: () => number, requiresGrad = true) =>
  leaf(
    Array.from({ length: T.sizeOf(shape) }, () => 4 * random() - 2),
    shape,
    requiresGrad,
  );

function closeTo(got: readonly number[], want: readonly number[], tol: number, what = ''): void {
  expect(got.length, `${what} length`).toBe(want.length);
  got.forEach((g, i) => {
    expect(Math.abs(g - want[i]), `${what} element ${i}: ${g} vs ${want[i]}`).toBeLessThanOrEqual(
      tol * (1 + Math.abs(want[i])),
    );
  });
}

const isFloat = (x: A.Tensor) => T.isFloat(x.dtype);

/** gradcheck and (at order 2) gradgradcheck from @tsgrad/autograd, in float64 over every element. */
function gradcheck(
  f: (...xs: A.Tensor[]) => A.Tensor | readonly A.Tensor[],
  xs: A.Tensor[],
  order: 1 | 2 = 2,
): void {
  expect(A.gradcheck(f, xs)).toBe(true);
  if (order === 2) expect(A.gradgradcheck(f, xs)).toBe(true);
}

// ---- the specs, checked as the conformance harness checks them -------------------------------

const specOps = [
  'matmul',
  'conv1d',
  'conv2d',
  'conv1dInputGrad',
  'conv2dInputGrad',
  'conv1dWeightGrad',
  'conv2dWeightGrad',
  'maxPool1d',
  'maxPool2d',
  'maxPool1dGrad',
  'maxPool2dGrad',
  'maxPool1dGather',
  'maxPool2dGather',
  'avgPool1d',
  'avgPool2d',
  'avgPool1dGrad',
  'avgPool2dGrad',
];

function drawInput(
  spec: A.InputSpec,
  shape: T.Shape,
  shapes: readonly T.Shape[],
  params: unknown,
  random: () => number,
  dtype: T.DType = 'float64',
): A.Tensor {
  const size = T.sizeOf(shape);
  if (spec.kind === 'index') {
    const bound = spec.bound?.(shapes, params) ?? 1;
    return new A.Tensor(
      T.array(
        Int32Array.from({ length: size }, () => Math.floor(random() * bound)),
        { shape },
      ),
    );
  }
  const [lo, hi] = spec.range ?? [-2, 2];
  const data =
    spec.values?.(shape, params, random) ?? Array.from({ length: size }, () => lo + (hi - lo) * random());
  const x = T.cast(T.array(Float64Array.from(data), { shape }), dtype);
  return new A.Tensor(x, { requiresGrad: T.isFloat(dtype) });
}

const dot = (a: A.Tensor, b: A.Tensor) => Number(A.sum(A.mul(a, b)).item());

describe('op specs of matmul, convolution and pooling', () => {
  it('registers every op of this family', () => {
    const names = A.registeredOps().map((o) => o.definition.name);
    for (const name of specOps) expect(names).toContain(name);
  });

  for (const name of specOps) {
    it(`${name}: reference, float32, gradcheck, gradgradcheck, jvp·vjp, errors`, () => {
      const op = A.registeredOps().find((o) => o.definition.name === name);
      if (op === undefined) throw new Error(`${name} is not registered`);
      const { spec, jvp, vjp } = op.definition;
      const random = seeded(name.length * 101);
      for (const sample of spec.samples) {
        const params = sample.params ?? {};
        const what = `${name} ${JSON.stringify(sample.shapes)} ${JSON.stringify(params)}`;
        const inputs = sample.shapes.map((shape, i) =>
          drawInput(spec.inputs[i], shape, sample.shapes, params, random),
        );
        const outputs = op.apply(inputs, params);
        if (spec.reference) {
          const want = spec.reference(
            inputs.map((x) => Float64Array.from(values(x))),
            sample.shapes,
            params,
          );
          outputs.forEach((y, i) => {
            closeTo(values(y), Array.from(want[i]), 1e-12, `${what} reference`);
          });
        }
        const low = op.apply(
          inputs.map((x) => (isFloat(x) ? new A.Tensor(T.cast(x.value, 'float32')) : x)),
          params,
        );
        low.forEach((y, i) => {
          closeTo(values(y), values(outputs[i]), 1e-5, `${what} float32`);
        });

        // Index inputs stay fixed (closed over): only the float inputs are checked.
        const floats = inputs.filter(isFloat);
        const withFloats = (xs: A.Tensor[]) => inputs.map((x) => (isFloat(x) ? xs[floats.indexOf(x)] : x));
        gradcheck((...xs) => op.apply(withFloats(xs), params), floats, spec.order === 1 ? 1 : 2);

        // ⟨J u, v⟩ = ⟨u, Jᵀ v⟩ between the op's jvp and vjp rules.
        if (jvp === undefined) continue;
        const context = { inputs, outputs, params, needsInputGrad: inputs.map(isFloat) };
        const tangents = inputs.map((x) =>
          isFloat(x) ? randomLeaf(x.shape, random, false) : A.full(x.shape, 0, 'float64'),
        );
        const cotangents = outputs.map((y) =>
          isFloat(y) ? randomLeaf(y.shape, random, false) : A.full(y.shape, 0, y.dtype),
        );
        const forward = jvp(context, tangents).reduce((s, t, i) => s + dot(t, cotangents[i]), 0);
        const backward = vjp(context, cotangents).reduce(
          (s, g, i) => (g === null ? s : s + dot(A.sumToShape(g, inputs[i].shape), tangents[i])),
          0,
        );
        expect(Math.abs(forward - backward), `${what} jvp·vjp`).toBeLessThan(1e-9 * (1 + Math.abs(forward)));
      }
      for (const bad of spec.errors ?? []) {
        const inputs = bad.shapes.map((shape, i) =>
          drawInput(spec.inputs[i], shape, bad.shapes, bad.params, random, bad.dtypes?.[i] ?? 'float64'),
        );
        expect(() => op.apply(inputs, bad.params ?? {}), JSON.stringify(bad)).toThrow(bad.throws);
        expect(() => op.apply(inputs, bad.params ?? {})).toThrow(name);
      }
    });
  }
});

// ---- public functions against @tsgrad/tensor -----------------------------------------------------

describe('convolution', () => {
  const random = seeded(3);

  it('conv2d and conv1d match @tsgrad/tensor, bias included', () => {
    const x = randomLeaf([2, 3, 5, 5], random);
    const w = randomLeaf([6, 1, 3, 3], random);
    const b = randomLeaf([6], random);
    const options = { stride: 2, padding: 1, dilation: 1, groups: 3 } as const;
    closeTo(
      values(A.conv2d(x, w, { ...options, bias: b })),
      values(T.conv2d(x.value, w.value, { ...options, bias: b.value })),
      1e-12,
    );
    const x1 = randomLeaf([2, 2, 7], random);
    const w1 = randomLeaf([3, 2, 2], random);
    const b1 = randomLeaf([3], random);
    closeTo(
      values(A.conv1d(x1, w1, { padding: 'same', dilation: 2, bias: b1 })),
      values(T.conv1d(x1.value, w1.value, { padding: 'same', dilation: 2, bias: b1.value })),
      1e-12,
    );
  });

  it('convTranspose2d and convTranspose1d match @tsgrad/tensor, outputPadding and groups included', () => {
    const x = randomLeaf([2, 4, 3, 3], random);
    const w = randomLeaf([4, 1, 3, 2], random);
    const b = randomLeaf([2], random);
    const options = {
      stride: [2, 3],
      padding: 1,
      outputPadding: [1, 2],
      dilation: [1, 2],
      groups: 2,
    } as const;
    const got = A.convTranspose2d(x, w, { ...options, bias: b });
    const want = T.convTranspose2d(x.value, w.value, { ...options, bias: b.value });
    expect(got.shape).toEqual(want.shape);
    closeTo(values(got), values(want), 1e-12);
    const x1 = randomLeaf([1, 2, 4], random);
    const w1 = randomLeaf([2, 3, 3], random);
    const got1 = A.convTranspose1d(x1, w1, { stride: 2, outputPadding: 1 });
    closeTo(
      values(got1),
      values(T.convTranspose1d(x1.value, w1.value, { stride: 2, outputPadding: 1 })),
      1e-12,
    );
  });

  it('has correct gradients of order 1 and 2 (conv2d with bias and same padding, conv1d, transposed)', () => {
    gradcheck(
      (x, w, b) => A.conv2d(x, w, { bias: b, padding: 'same' }),
      [randomLeaf([1, 2, 4, 4], random), randomLeaf([2, 2, 2, 2], random), randomLeaf([2], random)],
    );
    gradcheck(
      (x, w) => A.conv2d(x, w, { stride: 2, dilation: 2, padding: 1, groups: 2 }),
      [randomLeaf([1, 2, 5, 5], random), randomLeaf([2, 1, 2, 2], random)],
    );
    gradcheck(
      (x, w) => A.conv1d(x, w, { stride: 2 }),
      [randomLeaf([2, 2, 6], random), randomLeaf([3, 2, 2], random)],
    );
    gradcheck(
      (x, w, b) => A.convTranspose2d(x, w, { stride: 2, padding: 1, outputPadding: 1, bias: b }),
      [randomLeaf([1, 2, 2, 2], random), randomLeaf([2, 1, 3, 3], random), randomLeaf([1], random)],
    );
    gradcheck(
      (x, w) => A.convTranspose1d(x, w, { stride: 3, groups: 2 }),
      [randomLeaf([1, 2, 3], random), randomLeaf([2, 2, 2], random)],
    );
  });

  it('differentiates its own gradients: the three ops close under differentiation', () => {
    // d/dx of conv2dInputGrad is zero, and mixed derivatives pair x with the weight.
    const x = randomLeaf([1, 2, 4, 4], random);
    const w = randomLeaf([3, 2, 3, 3], random);
    const y = A.conv2d(x, w, { padding: 1 });
    const [gx, gw] = A.gradients([A.sum(A.mul(y, y))], [x, w], [], { createGraph: true });
    // ∂/∂x Σ (conv(x, w))² = 2 convInputGrad(y, w); its own gradient goes through all three ops.
    expect(gx?.node?.op.name).toBe('conv2dInputGrad');
    expect(gw?.node?.op.name).toBe('conv2dWeightGrad');
    gradcheck(
      (a, b) => A.conv2dInputGrad(a, b, [1, 2, 4, 4], { padding: 1 }),
      [randomLeaf([1, 3, 4, 4], random), w],
    );
    gradcheck(
      (a, b) => A.conv2dWeightGrad(a, b, [3, 2, 3, 3], { padding: 1 }),
      [x, randomLeaf([1, 3, 4, 4], random)],
    );
  });

  it('reports bad input with typed errors naming the function', () => {
    const x = randomLeaf([1, 2, 4, 4], random);
    const w = randomLeaf([2, 2, 2, 2], random);
    expect(() => A.conv2d(randomLeaf([2, 4, 4], random), w)).toThrow(T.ShapeError);
    expect(() => A.conv2d(randomLeaf([2, 4, 4], random), w)).toThrow(/^conv2d: /);
    expect(() => A.conv1d(x, w)).toThrow(/^conv1d: /);
    expect(() => A.conv2d(x, randomLeaf([2, 3, 2, 2], random))).toThrow(T.ShapeError);
    expect(() => A.conv2d(x, w, { bias: randomLeaf([3], random) })).toThrow(
      /^conv2d: bias must have shape \[2\]/,
    );
    expect(() => A.conv2d(x, w, { stride: 2, padding: 'same' })).toThrow(T.ValueError);
    expect(() => A.convTranspose2d(x, randomLeaf([3, 2, 2, 2], random))).toThrow(/^convTranspose2d: /);
    expect(() => A.convTranspose2d(x, w, { stride: 1, outputPadding: 1 })).toThrow(T.ValueError);
  });
});

describe('pooling', () => {
  const random = seeded(5);

  it('maxPool and avgPool match @tsgrad/tensor, indices included', () => {
    const x = randomLeaf([2, 3, 5, 5], random);
    const options = { kernelSize: 3, stride: 2, padding: 1 } as const;
    const { values: v, indices } = A.maxPool2dWithIndices(x, options);
    const want = T.maxPool2dWithIndices(x.value, options);
    expect(values(v)).toEqual(values(want.values));
    expect(values(indices)).toEqual(values(want.indices));
    expect(indices.dtype).toBe('int32');
    expect(values(A.maxPool2d(x, { kernelSize: 2, ceilMode: true }))).toEqual(
      values(T.maxPool2d(x.value, { kernelSize: 2, ceilMode: true })),
    );
    const avg = { kernelSize: 3, stride: 2, padding: 1, countIncludePad: false } as const;
    closeTo(values(A.avgPool2d(x, avg)), values(T.avgPool2d(x.value, avg)), 1e-12);
    const x1 = randomLeaf([3, 7], random);
    expect(values(A.maxPool1d(x1, { kernelSize: 3, stride: 2 }))).toEqual(
      values(T.maxPool1d(x1.value, { kernelSize: 3, stride: 2 })),
    );
    closeTo(
      values(A.avgPool1d(x1, { kernelSize: 2, padding: 1 })),
      values(T.avgPool1d(x1.value, { kernelSize: 2, padding: 1 })),
      1e-12,
    );
  });

  it('sends the max-pooling gradient to the first maximum of each window (PyTorch)', () => {
    const x = leaf([1, 3, 3, 0], [1, 1, 2, 2]);
    A.sum(A.maxPool2d(x, { kernelSize: 2 })).backward();
    expect(values(x.grad as A.Tensor)).toEqual([0, 1, 0, 0]);
    // Overlapping windows that share a maximum add their gradients.
    const y = leaf([0, 5, 1], [1, 3]);
    A.sum(A.maxPool1d(y, { kernelSize: 2, stride: 1 })).backward();
    expect(values(y.grad as A.Tensor)).toEqual([0, 2, 0]);
  });

  it('has correct gradients of order 1 and 2', () => {
    gradcheck(
      (x) => A.maxPool2d(x, { kernelSize: 2, stride: 1, dilation: 2 }),
      [randomLeaf([1, 2, 4, 4], random)],
    );
    gradcheck(
      (x) => A.avgPool2d(x, { kernelSize: 3, stride: 2, padding: 1, ceilMode: true }),
      [randomLeaf([2, 1, 4, 4], random)],
    );
    gradcheck((x) => A.maxPool1d(x, { kernelSize: 3, padding: 1, stride: 2 }), [randomLeaf([2, 5], random)]);
    gradcheck((x) => A.avgPool1d(x, { kernelSize: 2 }), [randomLeaf([1, 2, 5], random)]);
  });

  it('adaptiveAvgPool2d follows PyTorch windows, divisible or not', () => {
    const x = randomLeaf([2, 2, 5, 7], random);
    const data = values(x);
    for (const [oh, ow] of [
      [3, 4],
      [5, 7],
      [1, 1],
      [5, 1],
    ]) {
      const want: number[] = [];
      for (let p = 0; p < 4; p++)
        for (let i = 0; i < oh; i++)
          for (let j = 0; j < ow; j++) {
            const [h0, h1] = [Math.floor((i * 5) / oh), Math.ceil(((i + 1) * 5) / oh)];
            const [w0, w1] = [Math.floor((j * 7) / ow), Math.ceil(((j + 1) * 7) / ow)];
            let total = 0;
            for (let h = h0; h < h1; h++) for (let w = w0; w < w1; w++) total += data[p * 35 + h * 7 + w];
            want.push(total / ((h1 - h0) * (w1 - w0)));
          }
      const got = A.adaptiveAvgPool2d(x, [oh, ow]);
      expect(got.shape).toEqual([2, 2, oh, ow]);
      closeTo(values(got), want, 1e-12, `${oh}x${ow}`);
    }
    expect(A.adaptiveAvgPool2d(x, [null, 2]).shape).toEqual([2, 2, 5, 2]);
    closeTo(values(A.adaptiveAvgPool1d(leaf([0, 1, 2, 3, 4, 5], [1, 6]), 4)), [0.5, 1.5, 3.5, 4.5], 1e-15);
    gradcheck((y) => A.adaptiveAvgPool2d(y, [2, 3]), [randomLeaf([1, 2, 3, 4], random)]);
    gradcheck((y) => A.adaptiveAvgPool1d(y, 3), [randomLeaf([2, 5], random)]);
    expect(() => A.adaptiveAvgPool2d(randomLeaf([4, 4], random), 2)).toThrow(T.ShapeError);
    expect(() => A.adaptiveAvgPool2d(x, 0)).toThrow(T.ValueError);
  });
});

// ---- a small network end to end ------------------------------------------------------------------

describe('conv → relu → pool → linear pipeline', () => {
  const random = seeded(9);
  const params = [[2, 1, 5, 5], [2, 1, 3, 3], [2], [3, 8], [3]].map((shape) => randomLeaf(shape, random));
  const net = (input: A.Tensor, cw: A.Tensor, cb: A.Tensor, lw: A.Tensor, lb: A.Tensor) => {
    const features = A.maxPool2d(A.relu(A.conv2d(input, cw, { bias: cb, padding: 1 })), { kernelSize: 2 });
    return A.linear(A.reshape(features, [2, 8]), lw, lb);
  };
  const call = (xs: A.Tensor[]) => net(xs[0], xs[1], xs[2], xs[3], xs[4]);

  it('has correct gradients of order 1 and 2 for every parameter', () => {
    expect(call(params).shape).toEqual([2, 3]);
    gradcheck(net, params);
  });

  it('has a forward-mode derivative (jvp rules) equal to central differences', () => {
    const tangents = params.map((p) => randomLeaf(p.shape, random, false));
    const [, tangentOut] = A.jvp(
      net,
      [params[0], params[1], params[2], params[3], params[4]],
      [tangents[0], tangents[1], tangents[2], tangents[3], tangents[4]],
    );
    const eps = 1e-6;
    const shifted = (sign: number) =>
      values(
        call(
          params.map((p, i) =>
            leaf(
              values(p).map((v, j) => v + sign * eps * values(tangents[i])[j]),
              p.shape,
            ),
          ),
        ),
      );
    const [up, down] = [shifted(1), shifted(-1)];
    closeTo(
      values(tangentOut),
      up.map((u, i) => (u - down[i]) / (2 * eps)),
      1e-6,
    );
  });
});
