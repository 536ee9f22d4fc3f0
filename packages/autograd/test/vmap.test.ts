import * as A from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';
import { describe, expect, it } from 'vitest';
import { countingBackend } from './counting-backend.js';

// vmap: batching by the per-primitive rules of the BatchingBackend, its pytree axes, nesting,
// and composition with grad, jvp and the Jacobians.

const random = (seed: number, shape: number[]) =>
  new A.Tensor(T.random.normal(T.random.key(seed), shape, { dtype: 'float64' }));
const list = (x: A.Tensor) => Array.from(x.toTypedArray() as Float64Array);
const expectClose = (actual: A.Tensor, expected: A.Tensor, digits = 10) => {
  expect(actual.shape).toEqual(expected.shape);
  const want = list(expected);
  for (const [i, v] of list(actual).entries()) expect(v).toBeCloseTo(want[i], digits);
};
/** f applied to each slice of x along axis 0, stacked. */
const loop = (f: (x: A.Tensor) => A.Tensor, x: A.Tensor) =>
  A.stack(Array.from({ length: x.shape[0] }, (_, b) => f(A.squeeze(A.narrow(x, 0, b, 1), 0))));

const w = random(1, [5, 4]);

describe('vmap', () => {
  const mlp = (x: A.Tensor) => A.sum(A.tanh(A.matmul(w, x)).mul(A.relu(x.sum().add(A.exp(x.mean())))));

  it('equals stacking f over the batch, for elementwise, reductions, matmul and movement', () => {
    const xs = random(2, [3, 4]);
    const f = (x: A.Tensor) => A.softmax(A.matmul(w, A.sin(x)).reshape([5, 1]).transpose(0, 1), -1);
    expectClose(A.vmap(f)(xs), loop(f, xs));
    expectClose(A.vmap(mlp)(xs), loop(mlp, xs));
  });

  it('takes the batch axis from inAxes (negative, null, trees) and puts it at outAxes', () => {
    const xs = random(3, [4, 3]);
    const f = (x: A.Tensor, y: A.Tensor) => A.matmul(w, x).add(y.sum());
    const y = random(4, [2]);
    const got = A.vmap(f, { inAxes: [-1, null], outAxes: 1 })(xs, y);
    const want = loop((x) => f(x, y), xs.transpose(0, 1)).transpose(0, 1);
    expectClose(got, want);
    const tree = A.vmap((p: { a: A.Tensor; b: A.Tensor }) => p.a.mul(p.b), { inAxes: [{ a: 0, b: null }] });
    expectClose(tree({ a: xs, b: y.sum() }), xs.mul(y.sum()));
  });

  it('gives per-example gradients: vmap(grad(f))', () => {
    const xs = random(5, [3, 4]);
    expectClose(A.vmap(A.grad(mlp))(xs), loop(A.grad(mlp), xs));
    // Gradients with respect to an unbatched argument differ per example too.
    const loss = (x: A.Tensor, v: A.Tensor) => A.sum(A.tanh(A.matmul(v, x)));
    const perExample = A.vmap(A.grad(loss, { argnums: 1 }), { inAxes: [0, null] })(xs, w);
    expectClose(
      perExample,
      loop((x) => A.grad(loss, { argnums: 1 })(x, w), xs),
    );
  });

  it("lets go of f's results inside once they left the level: disposing a result frees its buffer", () => {
    const xs = random(8, [3, 4]);
    let inside: A.Tensor | undefined;
    const ys = A.vmap((x: A.Tensor) => {
      inside = A.exp(x);
      return inside;
    })(xs);
    // As in JAX, a value of the level that escaped f is not usable after vmap returns.
    expect(inside?.peekValue().isDisposed).toBe(true);
    expectClose(ys, A.exp(xs));
    const { storage } = ys.peekValue();
    ys.dispose();
    expect(storage.live).toBe(false);
  });

  it('frees every array made inside at return when nothing outside recorded through it', () => {
    const { backend, live } = countingBackend();
    T.withBackend(backend, () => {
      const xs = random(14, [3, 4]);
      const v = random(15, [5, 4]);
      const loss = (x: A.Tensor, u: A.Tensor) => A.sum(A.tanh(A.matmul(u, x)));
      const expected = loop((x) => A.grad(loss, { argnums: 1 })(x, v), xs);
      const before = live();
      let escaped: A.Tensor | undefined;
      const grads = A.vmap(
        (x: A.Tensor, u: A.Tensor) => {
          escaped = A.tanh(A.matmul(u, x));
          return A.grad(loss, { argnums: 1 })(x, u);
        },
        { inAxes: [0, null] },
      )(xs, v);
      // Only the result's own buffer is left: f's tensors (user code's, which the library
      // would otherwise leave to the garbage collector) are freed.
      expect(live()).toBe(before + 1);
      expect(() => escaped?.exp()).toThrow(/vmap call that has returned/);
      expectClose(grads, expected);
      grads.dispose();
      expect(live()).toBe(before);
      // An outer reverse pass through the map keeps them until it has run.
      const g = A.grad((u: A.Tensor) => A.sum(A.vmap((x: A.Tensor) => A.tanh(A.matmul(u, x)))(xs)))(v);
      expectClose(g, A.grad((u: A.Tensor) => A.sum(loop((x) => A.tanh(A.matmul(u, x)), xs)))(v));
    });
  });

  it('differentiates through the map: grad(vmap(f)) and jvp', () => {
    const xs = random(6, [3, 4]);
    const total = (x: A.Tensor) => A.sum(A.vmap(mlp)(x));
    const direct = (x: A.Tensor) => A.sum(loop(mlp, x));
    expectClose(A.grad(total)(xs), A.grad(direct)(xs));
    const t = random(7, [3, 4]);
    expectClose(A.jvp(A.vmap(mlp), [xs], [t])[1], A.jvp((x: A.Tensor) => loop(mlp, x), [xs], [t])[1]);
    const inner = A.vmap((x: A.Tensor, d: A.Tensor) => A.jvp(mlp, [x], [d])[1])(xs, t);
    expectClose(inner, A.jvp((x: A.Tensor) => loop(mlp, x), [xs], [t])[1]);
  });

  it('nests: vmap(vmap(f)) maps over two axes, and second order works inside', () => {
    const xs = random(8, [2, 3, 4]);
    const got = A.vmap(A.vmap(mlp))(xs);
    expectClose(
      got,
      loop((x) => loop(mlp, x), xs),
    );
    const hess = A.vmap(A.hessian(mlp))(xs.reshape([6, 4]));
    expectClose(hess, loop(A.hessian(mlp), xs.reshape([6, 4])), 8);
  });

  it('refuses host reads of batched values and inconsistent batch sizes', () => {
    expect(() => A.vmap((x: A.Tensor) => A.full([], x.sum().item() as number))(random(9, [3, 2]))).toThrow(
      T.BatchedReadError,
    );
    expect(() => A.vmap((x: A.Tensor, y: A.Tensor) => x.add(y))(random(1, [3]), random(2, [4]))).toThrow(
      T.ShapeError,
    );
    expect(() => A.vmap((x: A.Tensor) => x, { inAxes: 2 })(random(1, [3]))).toThrow(T.IndexError);
    expect(() => A.vmap(() => A.full([], 1))()).toThrow(T.ValueError);
  });

  it('broadcasts outputs that do not depend on the batch; axisSize sets the size', () => {
    const out = A.vmap(() => A.full([2], 1, 'float64'), { axisSize: 3 })();
    expect(out.shape).toEqual([3, 2]);
  });
});

describe('grad through vmap of what f closes over', () => {
  it('sums the per-example gradients of an unbatched argument or closure', () => {
    const xs = random(11, [3, 4]);
    const v = random(12, [5, 4]);
    const viaArgument = A.grad((w: A.Tensor) =>
      A.sum(A.vmap((x: A.Tensor, u: A.Tensor) => A.tanh(A.matmul(u, x)), { inAxes: [0, null] })(xs, w)),
    )(v);
    const viaClosure = A.grad((w: A.Tensor) => A.sum(A.vmap((x: A.Tensor) => A.tanh(A.matmul(w, x)))(xs)))(v);
    const direct = A.grad((w: A.Tensor) => A.sum(loop((x) => A.tanh(A.matmul(w, x)), xs)))(v);
    expectClose(viaArgument, direct);
    expectClose(viaClosure, direct);
  });

  it('jacrev of jacrev and hessian agree (a finished vmap differentiated inside a newer one)', () => {
    const f = (x: A.Tensor) => A.sum(A.tanh(A.matmul(w, x)).mul(x.sum()));
    const x = random(13, [4]);
    expectClose(A.jacrev(A.jacrev(f))(x), A.hessian(f)(x));
    expectClose(A.jacfwd(A.jacrev(f))(x), A.jacrev(A.jacfwd(f))(x));
  });
});
