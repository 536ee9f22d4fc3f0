import * as A from '@tsgrad/autograd';
import { type Backend, NDArray, withBackend } from '@tsgrad/tensor';
import { describe, expect, it } from 'vitest';
import { jit, makeGraph, planBuffers } from '../src/index.js';
import { expectClose, seeded } from './helpers.js';

const chain = (n: number) => (v: A.Tensor) => {
  let y = v;
  for (let i = 0; i < n; i++) y = i % 2 === 0 ? A.sin(y) : A.mul(y, 1.5);
  return y;
};

describe('buffer planning and the executor', () => {
  it('a chain of 50 ops needs two workspace cells, reused as values die', () => {
    const plan = planBuffers(makeGraph(chain(50))(seeded([8], 1)));
    expect(plan.cells.filter((c) => c.kind.kind === 'workspace')).toHaveLength(2);
    expect(plan.cells.filter((c) => c.kind.kind === 'output')).toHaveLength(1);
  });

  it('a donated input lends its memory to later values; a kept one never does', () => {
    const g = makeGraph(chain(50))(seeded([8], 2));
    const donated = planBuffers(g, [true]);
    expect(donated.cells.filter((c) => c.kind.kind === 'workspace')).toHaveLength(1);
    expect(planBuffers(g, [false]).cells.filter((c) => c.kind.kind === 'workspace')).toHaveLength(2);
  });

  it('a call allocates its outputs only, not one buffer per equation', () => {
    let allocations = 0;
    const real = seeded([8], 3).peekValue().backend;
    const counting: Backend = {
      ...real,
      name: 'counting',
      alloc: (dtype, size) => {
        allocations++;
        return real.alloc(dtype, size);
      },
      allocUninitialized: (dtype, size) => {
        allocations++;
        return (real.allocUninitialized ?? real.alloc)(dtype, size);
      },
    };
    const x = new A.Tensor(
      withBackend(counting, () => NDArray.fromTyped(counting, 'float64', [8], new Float64Array(8).fill(0.5))),
    );
    const f = jit(chain(200));
    const first = withBackend(counting, () => f(x));
    allocations = 0;
    const second = withBackend(counting, () => f(x));
    expect(allocations).toBe(1);
    expectClose(second, first);
    expectClose(
      second,
      withBackend(counting, () => chain(200)(x)),
    );
  });
});
