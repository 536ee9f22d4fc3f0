import * as A from '@tsgrad/autograd';
import { fuseElementwise, jit, makeGraph, optimizeGraph, type PlanGraph } from '@tsgrad/compiler';
import * as T from '@tsgrad/tensor';
import { describe, expect, it } from 'vitest';

// The convolution epilogue pass (compiler/src/passes/epilogue.ts) on the default (wasm)
// backend, whose conv2d adds the bias and applies the ReLU at write-back on float32: which
// patterns it rewrites, and that the rewritten plans compute what the unfused ones do.

type Dtype = 'float32' | 'float64';
const input = (seed: number, shape: number[], dtype: Dtype = 'float32') =>
  new A.Tensor(T.random.uniform(T.random.key(seed), shape, { dtype, low: -1, high: 1 }));

const x = input(1, [2, 3, 6, 6]);
const w = input(2, [4, 3, 3, 3]);
const b = input(3, [4]);
const conv = (u: A.Tensor, v: A.Tensor, c?: A.Tensor) => A.conv2d(u, v, { bias: c, padding: 1 });

/** The plan `jit` runs for f(...args) on `backend`. */
function plan(f: (...args: A.Tensor[]) => unknown, args: A.Tensor[], backend = T.getBackend()): PlanGraph {
  return fuseElementwise(optimizeGraph(makeGraph(f)(...args), backend), backend);
}

/** The conv2d equations' epilogues: 'relu' / 'none' with the number of inputs (3: with the bias). */
const epilogues = (g: PlanGraph) =>
  g.equations.flatMap((eq) =>
    eq.primitive === 'conv2d'
      ? [`${(eq.params as T.Conv2dEpilogueParams).activation ?? 'plain'}/${eq.inputs.length}`]
      : [],
  );

describe('the conv2d epilogue pass: which patterns it rewrites', () => {
  it('takes the bias add and the ReLU into the conv2d, leaving one equation', () => {
    const g = plan((u, v, c) => A.relu(conv(u, v, c)), [x, w, b]);
    expect(g.equations.map((eq) => eq.primitive)).toEqual(['conv2d']);
    expect(epilogues(g)).toEqual(['relu/3']);
  });

  it('takes a ReLU without a bias, and a bias without a ReLU (tanh stays a separate kernel)', () => {
    expect(epilogues(plan((u, v) => A.relu(conv(u, v)), [x, w]))).toEqual(['relu/2']);
    const g = plan((u, v, c) => A.tanh(conv(u, v, c)), [x, w, b]);
    expect(epilogues(g)).toEqual(['none/3']);
    expect(g.equations.map((eq) => eq.primitive)).toEqual(['conv2d', 'tanh']);
  });

  it('leaves a ReLU of the convolution read in another shape alone (the kernel writes [N, O, H, W])', () => {
    expect(epilogues(plan((u, v) => A.relu(A.reshape(conv(u, v), [2, -1])), [x, w]))).toEqual(['plain/2']);
  });

  it('leaves an intermediate that something else reads in memory', () => {
    // The convolution itself is returned: nothing moves.
    expect(
      epilogues(
        plan((u, v, c) => [A.relu(A.add(A.reshape(c, [4, 1, 1]), conv(u, v))), conv(u, v)], [x, w, b]),
      ),
    ).toEqual(['plain/2']);
    // The biased value is returned: the bias moves, the ReLU does not.
    expect(
      epilogues(
        plan(
          (u, v, c) => {
            const y = conv(u, v, c);
            return [A.relu(y), y];
          },
          [x, w, b],
        ),
      ),
    ).toEqual(['none/3']);
  });

  it('leaves float64 (no epilogue there), an add that is not one value per channel, and the CPU backend alone', () => {
    const f = (u: A.Tensor, v: A.Tensor, c: A.Tensor) => A.relu(conv(u, v, c));
    const args64 = [
      input(1, [2, 3, 6, 6], 'float64'),
      input(2, [4, 3, 3, 3], 'float64'),
      input(3, [4], 'float64'),
    ];
    expect(epilogues(plan(f, args64))).toEqual(['plain/2']);
    const perColumn = input(4, [6]); // broadcast along the last axis, not per channel
    expect(epilogues(plan((u, v, c) => A.add(conv(u, v), c), [x, w, perColumn]))).toEqual(['plain/2']);
    expect(epilogues(plan(f, [x, w, b], T.cpuBackend))).toEqual(['plain/2']);
  });

  it("points ReLU's gradient mask at the ReLU's output, so the training step keeps only the fused conv2d", () => {
    const loss = (u: A.Tensor, v: A.Tensor, c: A.Tensor) => {
      const h = A.relu(conv(u, v, c));
      return A.sum(A.mul(h, h));
    };
    const g = plan((u, v, c) => A.grad(loss, { argnums: [1, 2] })(u, v, c), [x, w, b]);
    expect(epilogues(g)).toEqual(['relu/3']);
    const fusedOutput = g.equations.find((eq) => eq.primitive === 'conv2d')?.outputs[0];
    const mask = g.equations.find(
      (eq) => eq.primitive === 'fused' && eq.params.steps.some((s) => s.kind === 'op' && s.op === 'gt'),
    );
    expect(mask?.inputs.map((v) => v.buffer)).toContain(fusedOutput);
  });
});

/** Compares jit with and without fusion, to a few float32 ulps (relative to 1). */
function expectFusedMatches(f: (...args: A.Tensor[]) => unknown, args: A.Tensor[]): void {
  const [fused] = A.treeFlatten(jit(f)(...args));
  const [unfused] = A.treeFlatten(jit(f, { fusion: false })(...args));
  expect(fused.length).toBe(unfused.length);
  fused.forEach((t, k) => {
    const a = t.toTypedArray();
    const e = unfused[k].toTypedArray();
    for (let i = 0; i < a.length; i++) {
      const [p, q] = [Number(a[i]), Number(e[i])];
      if (!(Math.abs(p - q) <= 4 * 2 ** -23 * Math.max(1, Math.abs(q))))
        expect.fail(`output ${k}, element ${i}: fused ${p}, unfused ${q}`);
    }
  });
}

describe('the conv2d epilogue pass: values', () => {
  // Batch 1 takes the chunked GEMM path and a pass over the output; batch 12 the per-image one.
  it.each([1, 12])('a two-layer convolutional step equals the unfused plan, batch %i', (batch) => {
    const images = input(5, [batch, 3, 8, 8]);
    const w2 = input(6, [5, 4, 3, 3]);
    const b2 = input(7, [5]);
    const forward = (u: A.Tensor, v: A.Tensor, c: A.Tensor, v2: A.Tensor, c2: A.Tensor) =>
      A.relu(A.conv2d(A.relu(conv(u, v, c)), v2, { bias: c2, stride: 2 }));
    expect(epilogues(plan(forward, [images, w, b, w2, b2]))).toEqual(['relu/3', 'relu/3']);
    expectFusedMatches(forward, [images, w, b, w2, b2]);
    const step = A.valueAndGrad(
      (...p: A.Tensor[]) =>
        A.sum(A.square(forward(images, ...(p as [A.Tensor, A.Tensor, A.Tensor, A.Tensor])))),
      {
        argnums: [0, 1, 2, 3],
      },
    );
    expectFusedMatches(step, [w, b, w2, b2]);
  });
});
