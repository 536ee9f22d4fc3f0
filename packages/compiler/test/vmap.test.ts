import * as A from '@tsgrad/autograd';
import { describe, expect, it } from 'vitest';
import { jit } from '../src/index.js';
import { expectClose, seeded } from './helpers.js';

// jit and vmap compose both ways: jit(vmap(f)) compiles the batched kernels into one plan;
// vmap(jit(f)) runs f inline under vmap (its primitives batch like any other).

const w = seeded([3, 2], 1);
const loss = (x: A.Tensor, v: A.Tensor) => A.sum(A.tanh(A.matmul(x, v)));
const perExample = A.vmap(A.grad(loss, { argnums: 1 }), { inAxes: [0, null] });

describe('jit and vmap', () => {
  it('jit(vmap(grad(f))) equals vmap(grad(f)) and replays its plan', () => {
    const xs = seeded([4, 3], 2);
    const compiled = jit(perExample);
    expectClose(compiled(xs, w), perExample(xs, w));
    expectClose(compiled(seeded([4, 3], 3), w), perExample(seeded([4, 3], 3), w));
    expect(compiled.cacheSize).toBe(1);
  });

  it('vmap(jit(f)) and grad through it equal the eager map', () => {
    const xs = seeded([4, 3], 4);
    const f = (x: A.Tensor) => A.exp(A.matmul(x, w)).sum();
    expectClose(A.vmap(jit(f))(xs), A.vmap(f)(xs));
    expectClose(A.vmap(A.grad(jit(f)))(xs), A.vmap(A.grad(f))(xs));
    expectClose(
      A.grad((x: A.Tensor) => A.vmap(jit(f))(x).sum())(xs),
      A.grad((x: A.Tensor) => A.vmap(f)(x).sum())(xs),
    );
  });

  it('jit(jacrev(f)) and jit(hessian(f)) equal the eager ones when f closes over strided views', () => {
    // The VJP of matmul transposes the closed-over matrix outside the trace: a strided view
    // that the level takes in through the trace's constant (a contiguous copy of its values).
    const m = seeded([4, 4], 5);
    const rows = A.narrow(seeded([6, 4], 6), 0, 1, 4);
    const f = (x: A.Tensor) => A.tanh(A.add(A.matmul(m, x), A.matmul(A.transpose(rows), x)));
    const x = seeded([4], 7);
    expectClose(jit(A.jacrev(f))(x), A.jacrev(f)(x));
    const energy = (y: A.Tensor) => A.sum(A.mul(f(y), A.sin(y)));
    expectClose(jit(A.hessian(energy))(x), A.hessian(energy)(x));
  });
});
