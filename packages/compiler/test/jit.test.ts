import * as A from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';
import { describe, expect, it } from 'vitest';
import { jit, makeGraph, TracerReadError } from '../src/index.js';
import { expectClose, seeded } from './helpers.js';

const mlp = (p: { w: A.Tensor; b: A.Tensor }, x: A.Tensor) => A.sum(A.tanh(A.add(A.matmul(x, p.w), p.b)));

describe('jit', () => {
  it('gives the eager values, traces once per signature, and retraces for a new shape', () => {
    let traces = 0;
    const f = (x: A.Tensor, y: A.Tensor) => {
      traces++;
      return A.div(A.exp(A.sin(x)), A.add(A.mul(y, y), 1))
        .reshape([-1])
        .sum();
    };
    const g = jit(f);
    const [x, y] = [seeded([3, 4], 1), seeded([4], 2)];
    expectClose(g(x, y), f(x, y));
    expectClose(g(seeded([3, 4], 3), y), f(seeded([3, 4], 3), y));
    expect(g.cacheSize).toBe(1);
    expect(traces).toBe(3); // two eager calls, one trace
    g(seeded([5, 4], 4), y);
    expect(g.cacheSize).toBe(2);
  });

  it('takes and returns pytrees, with static arguments in the cache key', () => {
    const f = (p: { w: A.Tensor; b: A.Tensor }, xs: A.Tensor[], scale: number) => ({
      out: A.mul(mlp(p, xs[0]), scale),
      parts: [A.neg(p.b), 7],
    });
    const g = jit(f, { staticArgnums: 2 });
    const p = { w: seeded([3, 2], 5), b: seeded([2], 6) };
    const xs = [seeded([4, 3], 7)];
    expectClose(g(p, xs, 2), f(p, xs, 2));
    expectClose(g(p, xs, 3), f(p, xs, 3));
    expect(g.cacheSize).toBe(2);
    expect(g(p, xs, 2).parts[1]).toBe(7);
  });

  it('composes with the transforms: jit(grad), jit(valueAndGrad hasAux), grad(jit), jvp(jit), nested jit', () => {
    const p = { w: seeded([3, 2], 8), b: seeded([2], 9) };
    const x = seeded([4, 3], 10);
    expectClose(jit(A.grad(mlp))(p, x), A.grad(mlp)(p, x));
    const withAux = (q: typeof p, v: A.Tensor) => [mlp(q, v), { norm: A.sum(A.mul(q.w, q.w)) }] as const;
    expectClose(
      jit(A.valueAndGrad(withAux, { hasAux: true }))(p, x),
      A.valueAndGrad(withAux, { hasAux: true })(p, x),
    );
    expectClose(A.grad(jit(mlp))(p, x), A.grad(mlp)(p, x));
    const cube = (v: A.Tensor) => A.sum(A.mul(A.sin(v), v));
    const secondOrder = (g: typeof cube) => A.grad((v: A.Tensor) => A.sum(A.grad(g)(v)));
    expectClose(secondOrder(jit(cube))(x), secondOrder(cube)(x));
    const t = seeded([4, 3], 11);
    const h = (v: A.Tensor) => A.tanh(A.mul(v, v));
    expectClose(A.jvp(jit(h), [x], [t]), A.jvp(h, [x], [t]));
    const inner = jit((v: A.Tensor) => A.exp(v));
    const outer = jit((v: A.Tensor) => A.sum(inner(A.mul(v, 2))));
    expectClose(outer(x), A.sum(A.exp(A.mul(x, 2))));
    expectClose(A.grad(outer)(x), A.grad((v: A.Tensor) => A.sum(A.exp(A.mul(v, 2))))(x));
  });

  it('backward() through a jitted function fills .grad as eager does', () => {
    const w = seeded([3, 2], 12);
    w.requiresGrad = true;
    const x = seeded([4, 3], 13);
    jit(mlp)({ w, b: seeded([2], 14) }, x).backward();
    const eager = A.grad(mlp)({ w, b: seeded([2], 14) }, x).w;
    expectClose(w.grad, eager);
  });

  it('donated arguments may be overwritten and are disposed after the call', () => {
    const step = jit((w: A.Tensor, g: A.Tensor) => A.sub(w, A.mul(g, 0.1)), { donateArgnums: 0 });
    const g = seeded([8], 15);
    const w = seeded([8], 16);
    const expected = A.sub(w, A.mul(g, 0.1));
    const out = step(w, g);
    expectClose(out, expected);
    expect(w.peekValue().isDisposed).toBe(true);
    expect(g.peekValue().isDisposed).toBe(false);
    expectClose(step(out, g), A.sub(expected, A.mul(g, 0.1)));
  });

  it('throws a TracerReadError naming the read for item(), toArray() and control flow on values', () => {
    const x = seeded([3], 17);
    expect(() => jit((v: A.Tensor) => A.mul(v, A.sum(v).item() as number))(x)).toThrow(TracerReadError);
    expect(() => jit((v: A.Tensor) => A.mul(v, A.sum(v).item() as number))(x)).toThrow(
      /item: .*staticArgnums/,
    );
    expect(() => jit((v: A.Tensor) => v.toArray())(x)).toThrow(
      /toArray: cannot read the value of a traced array \(input 0\)/,
    );
    expect(() => jit((v: A.Tensor) => ((A.sum(v).item() as number) > 0 ? v : A.neg(v)))(x)).toThrow(
      /the result of sum/,
    );
    // The library's own checks may read values while tracing (here the class-index range).
    const loss = jit((logits: A.Tensor, y: A.Tensor) => A.crossEntropy(logits, y));
    const logits = seeded([4, 3], 18);
    const y = A.tensor([0, 2, 1, 1], { dtype: 'int32' });
    expectClose(loss(logits, y), A.crossEntropy(logits, y));
  });

  it("lets the library's checks read a value computed inside the trace (the kernels run only then)", () => {
    const x = seeded([5], 20);
    const checked: number[][] = [];
    const f = (v: A.Tensor) => {
      const w = A.add(A.mul(v, 2), 1);
      const u = A.exp(w);
      w.dispose(); // the read recomputes a disposed intermediate
      const values = T.checkValues(() => u.toTypedArray());
      checked.push(Array.from(values, Number));
      return A.sum(u);
    };
    expectClose(jit(f)(x), f(x));
    expect(checked).toHaveLength(2);
    checked[0].forEach((value, i) => {
      expect(Math.abs(value - checked[1][i])).toBeLessThanOrEqual(1e-12 * Math.abs(checked[1][i]));
    });
  });

  it('frees the buffers that checked reads made once the trace is done', () => {
    const below = T.getBackend();
    let live = 0;
    const counting: T.Backend = {
      ...below,
      name: 'counting',
      alloc: (dtype, size) => {
        live++;
        return below.alloc(dtype, size);
      },
      allocUninitialized: undefined,
      free: (handle, dtype) => {
        live--;
        below.free?.(handle, dtype);
      },
    };
    const x = new A.Tensor(T.withBackend(counting, () => T.array([0.5, 1.5, 2.5], { dtype: 'float64' })));
    const before = live;
    let checked = 0;
    makeGraph((v: A.Tensor) => {
      const y = A.exp(A.mul(v, 2));
      checked = T.checkValues(() => y.toTypedArray()).length;
      return A.sum(y);
    })(x);
    expect(checked).toBe(3);
    expect(live).toBe(before);
  });

  it('traces on a symbolic backend: library calls open no frames there, but do under vmap inside jit', () => {
    const seen: boolean[] = [];
    const f = (x: A.Tensor) => {
      seen.push(T.holdsNoMemory());
      A.vmap((row: A.Tensor) => {
        seen.push(T.holdsNoMemory());
        return row;
      })(x);
      return A.exp(x);
    };
    expectClose(jit(f)(seeded([2, 3], 5)), A.exp(seeded([2, 3], 5)));
    expect(seen).toEqual([true, false]);
    expect(T.holdsNoMemory()).toBe(false);
  });

  it('handles a 100,000-op function without deep recursion', () => {
    const long = (x: A.Tensor) => {
      let y = x;
      for (let i = 0; i < 100_000; i++) y = i % 2 === 0 ? A.mul(y, 1.0001) : A.add(y, -0.0001);
      // A checked read at the end runs the whole chain on the real backend, iteratively too.
      const read = T.checkValues(() => y.toTypedArray());
      checkedSum = Array.from(read, Number).reduce((s, v) => s + v, 0);
      return A.sum(y);
    };
    let checkedSum = Number.NaN;
    const g = jit(long);
    const x = seeded([4], 19);
    const first = g(x);
    expect(Math.abs(checkedSum - (first.item() as number))).toBeLessThanOrEqual(1e-9);
    expect(g.lastCompile?.tracedEquations).toBeGreaterThanOrEqual(100_000);
    expectClose(g(x), first);
    expect(Number.isFinite(first.item())).toBe(true);
  }, 120_000);
});

describe('jit and closures', () => {
  it('bakes tensors the function closes over in as constants', () => {
    const w = seeded([3], 20);
    const f = jit((x: A.Tensor) => A.sum(A.mul(x, w)));
    const x = seeded([3], 21);
    expectClose(f(x), A.sum(A.mul(x, w)));
  });

  it('reads a closed-over tensor as one constant however many ops read it', () => {
    const w = seeded([3], 22);
    // exp(w) twice, and w in a product and a sum: the constant outlives the op that first read it.
    const body = (x: A.Tensor) => A.add(A.mul(A.add(A.mul(x, w), w), A.exp(w)), A.exp(w));
    const x = seeded([3], 23);
    expectClose(jit(body)(x), body(x));
    const g = makeGraph(body)(x);
    expect(g.buffers.filter((b) => b.source.kind === 'constant')).toHaveLength(1);
  });
});
