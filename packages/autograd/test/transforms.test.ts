import * as A from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

// The functional transforms: grad, valueAndGrad, vjp, jvp, jacrev, jacfwd, hessian,
// customVjp and checkpoint, on tensors and pytrees, nested to higher order.

const f64 = (values: number[], shape?: number[]) =>
  new A.Tensor(T.array(Float64Array.from(values), { shape: shape ?? [values.length] }));
const scalar = (v: number) => f64([v], []);
const list = (x: A.Tensor) => Array.from(x.toTypedArray() as Float64Array);
const expectClose = (actual: A.Tensor, expected: A.Tensor | readonly number[], digits = 10) => {
  const want = expected instanceof A.Tensor ? list(expected) : expected;
  if (expected instanceof A.Tensor) expect(actual.shape).toEqual(expected.shape);
  const got = list(actual);
  expect(got.length).toBe(want.length);
  for (const [i, v] of got.entries()) expect(v).toBeCloseTo(want[i], digits);
};
const random = (seed: number, shape: number[]) =>
  new A.Tensor(T.random.normal(T.random.key(seed), shape, { dtype: 'float64' }));

describe('higher derivatives', () => {
  const x0 = 0.3;
  const t = Math.tanh(x0);
  const third = -2 * (1 - t * t) * (1 - 3 * t * t);

  it('d³/dx³ tanh by nested grad matches the closed form', () => {
    const d3 = A.grad(A.grad(A.grad((x: A.Tensor) => A.tanh(x))));
    expect(d3(scalar(x0)).item()).toBeCloseTo(third, 12);
  });

  it('d³/dx³ tanh by jvp of jvp of jvp, and mixed with grad', () => {
    const d = (g: (x: A.Tensor) => A.Tensor) => (x: A.Tensor) => A.jvp(g, [x], [scalar(1)])[1];
    expect(d(d(d(A.tanh)))(scalar(x0)).item()).toBeCloseTo(third, 12);
    expect(A.grad(d(A.grad((x: A.Tensor) => A.tanh(x))))(scalar(x0)).item()).toBeCloseTo(third, 12);
  });

  it('differentiates through a closed-over traced tensor', () => {
    // d/dy [ d/dx (x·y²) ] = d/dy y² = 2y
    const outer = A.grad((y: A.Tensor) => A.grad((x: A.Tensor) => A.mul(x, A.mul(y, y)))(scalar(5)));
    expect(outer(scalar(1.5)).item()).toBeCloseTo(3, 12);
    // ... and with the inner gradient taken with respect to the closed-over value's partner
    const mixed = A.grad((y: A.Tensor) => A.sum(A.grad((x: A.Tensor) => A.sin(A.mul(x, y)))(scalar(0.5))));
    // d/dy [y cos(xy)] at x = 0.5: cos(xy) − xy sin(xy)
    expect(mixed(scalar(2)).item()).toBeCloseTo(Math.cos(1) - Math.sin(1), 12);
  });

  it('connects the result to inputs that require grad (like createGraph)', () => {
    const x = f64([0.2, 0.4]);
    x.requiresGrad = true;
    const g = A.grad((v: A.Tensor) => A.sum(A.mul(v, A.mul(v, v))))(x); // 3x²
    expect(g.requiresGrad).toBe(true);
    A.sum(g).backward();
    expectClose(x.grad as A.Tensor, [1.2, 2.4]); // 6x
  });

  it('returns detached results when nothing outside records', () => {
    const [value, g] = A.valueAndGrad((v: A.Tensor) => A.sum(A.exp(v)))(f64([0, 1]));
    expect(value.requiresGrad).toBe(false);
    expect(g.requiresGrad).toBe(false);
    expect(value.isLeaf).toBe(true);
  });

  it('works inside noGrad', () => {
    const g = A.noGrad(() => A.grad((v: A.Tensor) => A.sum(A.mul(v, v)))(f64([1, 2])));
    expectClose(g, [2, 4]);
  });
});

describe('hessian of a small MLP loss', () => {
  const x = random(1, [5, 3]);
  const target = random(2, [5, 2]);
  type Params = { layers: { w: A.Tensor; b: A.Tensor }[] };
  const params: Params = {
    layers: [
      { w: A.mul(random(3, [3, 4]), 0.5), b: A.mul(random(4, [4]), 0.1) },
      { w: A.mul(random(5, [4, 4]), 0.5), b: A.mul(random(6, [4]), 0.1) },
      { w: A.mul(random(7, [4, 2]), 0.5), b: A.mul(random(8, [2]), 0.1) },
    ],
  };
  const loss = (p: Params) => {
    let h = x;
    p.layers.forEach(({ w, b }, i) => {
      const z = A.add(A.matmul(h, w), b);
      h = i < p.layers.length - 1 ? A.tanh(z) : z;
    });
    return A.mean(A.square(A.sub(h, target)));
  };

  it('matches central differences of the gradient', { timeout: 20_000 }, () => {
    const H = A.hessian(loss)(params);
    const gradient = A.grad(loss);
    const flatParams = A.treeLeaves(params);
    const [blocks] = A.treeFlatten(H); // row-major over (parameter i, parameter j)
    expect(blocks.length).toBe(flatParams.length ** 2);
    const eps = 1e-5;
    let worst = 0;
    flatParams.forEach((pj, j) => {
      const base = list(pj);
      for (let e = 0; e < pj.size; e++) {
        const at = (delta: number) => {
          const moved = A.treeMap((leaf) => {
            if (leaf !== pj) return leaf;
            const data = Float64Array.from(base);
            data[e] += delta;
            return f64(Array.from(data), [...pj.shape]);
          }, params) as Params;
          return A.treeLeaves(gradient(moved)).map(list);
        };
        const plus = at(eps);
        const minus = at(-eps);
        flatParams.forEach((pi, i) => {
          const block = list(blocks[i * flatParams.length + j]); // shape [...pi, ...pj]
          expect(blocks[i * flatParams.length + j].shape).toEqual([...pi.shape, ...pj.shape]);
          for (let k = 0; k < pi.size; k++) {
            const numerical = (plus[i][k] - minus[i][k]) / (2 * eps);
            worst = Math.max(worst, Math.abs(block[k * pj.size + e] - numerical));
          }
        });
      }
    });
    expect(worst).toBeLessThan(1e-7);
  });

  it('is symmetric and agrees with jacrev of jacrev', () => {
    const flat = (p: A.Tensor) => {
      const [w, b] = [A.reshape(A.narrow(p, 0, 0, 12), [3, 4]), A.narrow(p, 0, 12, 4)];
      return loss({ layers: [{ w, b }, ...params.layers.slice(1)] });
    };
    const p0 = A.concat([A.reshape(params.layers[0].w, [12]), params.layers[0].b]);
    const forwardOverReverse = A.hessian(flat)(p0);
    const reverseOverReverse = A.jacrev(A.jacrev(flat))(p0);
    expectClose(forwardOverReverse, reverseOverReverse, 10);
    expectClose(forwardOverReverse, A.transpose(forwardOverReverse), 10);
  });
});

describe('jacrev and jacfwd', () => {
  type Step = (a: A.Tensor, b: A.Tensor) => A.Tensor;
  const steps: Step[] = [
    (a) => A.sin(a),
    (a) => A.tanh(a),
    (a, b) => A.mul(a, b),
    (a, b) => A.add(a, A.exp(A.mul(b, 0.3))),
    (a) => A.div(a, A.add(A.mul(a, a), 1)),
    (a) => A.mul(A.sum(a), a),
    (a, b) => A.sub(A.cos(a), A.square(b)),
  ];

  it('agree on random compositions with pytree outputs', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: steps.length - 1 }), { minLength: 1, maxLength: 5 }),
        fc.constantFrom(
          [[3], [3]],
          [[2, 3], [3]],
          [
            [2, 1],
            [1, 3],
          ],
          [[], [2]],
        ),
        fc.integer({ min: 0, max: 1000 }),
        (program, [xShape, yShape], seed) => {
          const f = (x: A.Tensor, y: A.Tensor) => {
            let h = x;
            for (const s of program) h = steps[s](h, y);
            return { out: h, total: [A.sum(h)], label: 'static' };
          };
          const x = random(seed, [...xShape]);
          const y = random(seed + 1, [...yShape]);
          const reverse = A.jacrev(f, { argnums: [0, 1] })(x, y);
          const forward = A.jacfwd(f, { argnums: [0, 1] })(x, y);
          expect(reverse.label).toBe('static');
          const [r] = A.treeFlatten(reverse);
          const [w] = A.treeFlatten(forward);
          expect(r.length).toBe(4);
          for (const [i, block] of r.entries()) expectClose(block, w[i], 9);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('lays out blocks as [...output shape, ...input shape]', () => {
    const f = (x: A.Tensor) => A.mul(A.reshape(x, [3, 2]), 2);
    const x = f64([1, 2, 3, 4, 5, 6], [2, 3]);
    const J = A.jacrev(f)(x);
    expect(J.shape).toEqual([3, 2, 2, 3]);
    expectClose(J, A.jacfwd(f)(x));
    // d out[i, j] / d x[p, q] = 2 where the flat indices agree
    const values = list(J);
    for (const [n, v] of values.entries()) expect(v).toBe(Math.floor(n / 6) === n % 6 ? 2 : 0);
  });
});

describe('grad, valueAndGrad, vjp and jvp with argnums, aux and pytrees', () => {
  const f = (a: A.Tensor, b: A.Tensor, c: A.Tensor) => A.sum(A.mul(A.mul(a, b), A.exp(c)));

  it('handles argnums as an index, a negative index and a list', () => {
    const [a, b, c] = [f64([1, 2]), f64([3, 4]), f64([0, 0.5])];
    expectClose(A.grad(f)(a, b, c), A.mul(b, A.exp(c)));
    expectClose(A.grad(f, { argnums: -1 })(a, b, c), A.mul(A.mul(a, b), A.exp(c)));
    const [ga, gc] = A.grad(f, { argnums: [0, 2] })(a, b, c);
    expectClose(ga, A.mul(b, A.exp(c)));
    expectClose(gc, A.mul(A.mul(a, b), A.exp(c)));
    const single = A.grad(f, { argnums: [1] })(a, b, c);
    expect(Array.isArray(single)).toBe(true);
    expectClose(single[0], A.mul(a, A.exp(c)));
  });

  it('returns [[value, aux], grads] with hasAux', () => {
    const g = (w: A.Tensor, x: A.Tensor) => {
      const y = A.mul(w, x);
      return [A.sum(A.mul(y, y)), { prediction: y, note: 'aux', count: 2 }] as const;
    };
    const [[value, aux], [gw, gx]] = A.valueAndGrad(g, { argnums: [0, 1], hasAux: true })(
      f64([1, 2]),
      f64([3, -1]),
    );
    expect(value.item()).toBeCloseTo(9 + 4, 12);
    expectClose(aux.prediction, [3, -2]);
    expect(aux.note).toBe('aux');
    expect(aux.count).toBe(2);
    expect(aux.prediction.requiresGrad).toBe(false);
    expectClose(gw, [2 * 3 * 3, 2 * -2 * -1]); // 2 (w x) x
    expectClose(gx, [2 * 3 * 1, 2 * -2 * 2]);
    const [gOnly, auxOnly] = A.grad(g, { hasAux: true })(f64([1, 2]), f64([3, -1]));
    expectClose(gOnly, gw);
    expect(auxOnly.count).toBe(2);
  });

  it('takes pytrees in and gives gradients of the same structure', () => {
    type P = { w: A.Tensor; extra: [A.Tensor, number]; name: string };
    const loss = (p: P, x: A.Tensor) => A.sum(A.mul(A.add(A.mul(p.w, x), p.extra[0]), p.extra[1]));
    const p: P = { w: f64([1, 2]), extra: [f64([0.5]), 3], name: 'layer' };
    const g = A.grad(loss)(p, f64([4, 5]));
    expect(Object.keys(g)).toEqual(['w', 'extra', 'name']);
    expectClose(g.w, [12, 15]);
    expectClose(g.extra[0], [6]);
    expect(g.extra[1]).toBe(3); // static values pass through
    expect(g.name).toBe('layer');
  });

  it('vjp pulls back pytree cotangents, many times', () => {
    const f2 = (x: A.Tensor, y: A.Tensor) => ({ sum: A.add(x, y), prod: [A.mul(x, y)] });
    const [out, pullback] = A.vjp(f2, f64([1, 2]), f64([3, 4]));
    expectClose(out.prod[0], [3, 8]);
    const [gx, gy] = pullback({ sum: f64([1, 1]), prod: [f64([1, 0])] });
    expectClose(gx, [1 + 3, 1]);
    expectClose(gy, [1 + 1, 1]);
    const [gx2] = pullback({ sum: f64([0, 0]), prod: [f64([0, 2])] });
    expectClose(gx2, [0, 8]);
    expect(() => pullback({ sum: f64([1, 1]) } as never)).toThrow(/structure/);
  });

  it('jvp pushes forward pytree tangents', () => {
    const f2 = (p: { a: A.Tensor; b: A.Tensor }) => [A.mul(p.a, p.b), 7] as const;
    const [[y, seven], [t, staticOut]] = A.jvp(
      f2,
      [{ a: f64([2]), b: f64([3]) }],
      [{ a: f64([1]), b: f64([10]) }],
    );
    expectClose(y, [6]);
    expectClose(t, [3 + 20]);
    expect(seven).toBe(7);
    expect(staticOut).toBe(7);
  });

  it('rejects non-scalar outputs, integer inputs and bad argnums', () => {
    expect(() => A.grad((x: A.Tensor) => A.mul(x, 2))(f64([1, 2]))).toThrow(/scalar/);
    expect(() =>
      A.grad((x: A.Tensor) => A.sum(A.cast(x, 'float64')))(new A.Tensor(T.array([1, 2], { dtype: 'int32' }))),
    ).toThrow(T.DTypeError);
    expect(() => A.grad(f, { argnums: 3 })(f64([1]), f64([1]), f64([1]))).toThrow(/argnums/);
    expect(() => A.grad(f, { argnums: [0, 0] })(f64([1]), f64([1]), f64([1]))).toThrow(/duplicates/);
  });
});

describe('customVjp', () => {
  it('uses bwd instead of differentiating f', () => {
    let bwdCalls = 0;
    const square = A.customVjp(
      (x: A.Tensor) => A.mul(x, x),
      (x: A.Tensor) => [A.mul(x, x), x] as const,
      (x: A.Tensor, g: A.Tensor) => {
        bwdCalls++;
        return [A.mul(g, A.mul(x, 10))]; // deliberately not 2x
      },
    );
    const x = f64([1, 2]);
    expectClose(A.grad((v: A.Tensor) => A.sum(square(v)))(x), [10, 20]);
    expect(bwdCalls).toBe(1);
    const leaf = f64([3]);
    leaf.requiresGrad = true;
    const y = square(leaf);
    expect(y.node?.op.name).toBe('customVjp(anonymous)');
    A.sum(y).backward();
    expectClose(leaf.grad as A.Tensor, [30]);
    // Nothing to differentiate: f runs directly.
    expect(square(f64([2])).node).toBe(null);
  });

  it('clips gradients, takes pytrees, and supports higher order and forward mode', () => {
    const clipGradient = A.customVjp(
      function clip(p: { x: A.Tensor; scale: number }) {
        return A.mul(A.sin(p.x), p.scale);
      },
      (p: { x: A.Tensor; scale: number }) => [A.mul(A.sin(p.x), p.scale), p] as const,
      (p, g) => [{ x: A.clamp(A.mul(A.mul(g, A.cos(p.x)), p.scale), { min: -1, max: 1 }), scale: null }],
    );
    const x = f64([0.1, 2]);
    expectClose(A.grad((v: A.Tensor) => A.sum(clipGradient({ x: v, scale: 0.1 })))(x), [
      0.1 * Math.cos(0.1),
      0.1 * Math.cos(2),
    ]);
    const g = A.grad((v: A.Tensor) => A.sum(clipGradient({ x: v, scale: 3 })))(x);
    expectClose(g, [1, -1]); // 3 cos(0.1) and 3 cos(2), clipped
    // Second derivative through bwd (residuals stay connected to the input).
    const smooth = A.customVjp(
      (x: A.Tensor) => A.sin(x),
      (x: A.Tensor) => [A.sin(x), A.cos(x)] as const,
      (c: A.Tensor, g: A.Tensor) => [A.mul(g, c)],
    );
    expect(A.grad(A.grad((v: A.Tensor) => smooth(v)))(scalar(0.5)).item()).toBeCloseTo(-Math.sin(0.5), 12);
    // Forward mode is derived from bwd (double-VJP trick).
    expect(A.jvp(smooth, [scalar(0.5)], [scalar(2)])[1].item()).toBeCloseTo(2 * Math.cos(0.5), 12);
  });

  it('works from library code, whose frame frees what it does not return', () => {
    // fwd's output (a concat nothing saves) and its residual are temporaries of the frame.
    const twice = A.customVjp(
      (x: A.Tensor) => A.concat([x, x]),
      (x: A.Tensor) => [A.concat([x, x]), { scale: A.add(A.mul(x, 0), 2) }] as const,
      (r: { scale: A.Tensor }, g: A.Tensor) => {
        const [first, second] = A.split(g, 2);
        return [A.mul(A.add(first, second), A.mul(r.scale, 0.5))];
      },
    );
    const x = f64([0.5, 1]);
    x.requiresGrad = true;
    const y = A.inLibrary(() => twice(x));
    expectClose(y, [0.5, 1, 0.5, 1]);
    A.sum(A.mul(y, f64([1, 2, 3, 4]))).backward();
    expectClose(x.grad as A.Tensor, [4, 6]);
  });
});

describe('checkpoint', () => {
  const w1 = random(11, [3, 4]);
  const w2 = random(12, [4, 3]);
  const block = (h: A.Tensor) => A.tanh(A.matmul(A.tanh(A.matmul(h, w1)), w2));

  it('gives the gradients of the plain function and records nothing inside', () => {
    let calls = 0;
    const counted = (h: A.Tensor) => {
      calls++;
      return block(h);
    };
    const saved = A.checkpoint(counted);
    const x = random(13, [2, 3]);
    const plain = A.grad((v: A.Tensor) => A.sum(A.square(block(block(v)))))(x);
    const remat = A.grad((v: A.Tensor) => A.sum(A.square(saved(saved(v)))))(x);
    expect(calls).toBe(4); // two forward calls, two recomputations
    expectClose(remat, plain, 12);
    const leaf = random(13, [2, 3]);
    leaf.requiresGrad = true;
    const y = saved(leaf);
    expect(y.node?.op.name).toBe('checkpoint');
    expect(y.node?.edges.length).toBe(1);
  });

  it('sends gradients to closed-over leaves (weights), like backward() on the plain function', () => {
    const weight = random(14, [3, 3]);
    weight.requiresGrad = true;
    const layer = (h: A.Tensor) => A.sin(A.matmul(h, weight));
    const x = random(15, [2, 3]);
    A.sum(A.checkpoint(layer)(A.checkpoint(layer)(x))).backward();
    const viaCheckpoint = weight.grad as A.Tensor;
    weight.zeroGrad();
    A.sum(layer(layer(x))).backward();
    expectClose(viaCheckpoint, weight.grad as A.Tensor, 12);
    // Inside a transform, closed-over stand-ins get their gradient too.
    const viaGrad = A.grad((w: A.Tensor) => A.sum(A.checkpoint((h: A.Tensor) => A.sin(A.matmul(h, w)))(x)))(
      weight,
    );
    const plainGrad = A.grad((w: A.Tensor) => A.sum(A.sin(A.matmul(x, w))))(weight);
    expectClose(viaGrad, plainGrad, 12);
  });

  it('supports second order (createGraph through the recomputation)', () => {
    const x = random(16, [1, 3]);
    const plain = A.hessian((v: A.Tensor) => A.sum(block(v)))(x);
    const remat = A.hessian((v: A.Tensor) => A.sum(A.checkpoint(block)(v)))(x);
    expectClose(remat, plain, 10);
    const viaGradOfGrad = A.jacrev(A.grad((v: A.Tensor) => A.sum(A.checkpoint(block)(v))))(x);
    expectClose(viaGradOfGrad, plain, 10);
  });

  it('handles a recurrent cell whose state depends on the closed-over weight, to second order', () => {
    const cell = (w: A.Tensor) => (h: A.Tensor) => A.tanh(A.mul(A.add(h, 0.3), w));
    const unroll =
      (wrap: (step: (h: A.Tensor) => A.Tensor) => (h: A.Tensor) => A.Tensor) =>
      (w: A.Tensor): A.Tensor => {
        const step = wrap(cell(w));
        let h = f64([0.1, -0.2]);
        for (let i = 0; i < 3; i++) h = step(h);
        return A.sum(A.square(h));
      };
    const w0 = f64([0.7, -1.1]);
    const plain = unroll((step) => step);
    const remat = unroll(A.checkpoint);
    expectClose(A.grad(remat)(w0), A.grad(plain)(w0), 12);
    expectClose(A.jacrev(A.grad(remat))(w0), A.jacrev(A.grad(plain))(w0), 12);
  });

  it('refuses closed-over tensors computed from one another', () => {
    const a = f64([1, 2]);
    a.requiresGrad = true;
    const b = A.mul(a, 2);
    expect(() => A.checkpoint((x: A.Tensor) => A.mul(A.mul(x, a), b))(f64([1, 1]))).toThrow(
      /pass them as arguments/,
    );
  });
});
