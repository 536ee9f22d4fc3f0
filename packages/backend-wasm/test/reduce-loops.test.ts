import type { FusedProgram } from '@tsgrad/tensor';
import { describe, expect, it } from 'vitest';
import { canEmit } from '../src/codegen/fused-kernel.js';
import { planSweeps, scratchSteps } from '../src/codegen/reduce-loops.js';

// The sweep plan of fused reductions (their values are checked against unfused plans in
// @tsgrad/testing's fusion tests): what each sweep computes, and what it stores for later.

// softmax over the last axis of [4, 6]: max, then Σ exp(x − max), then exp(x − max) / Σ.
const softmax: FusedProgram = {
  steps: [
    { kind: 'input', input: 0, dtype: 'float32' },
    { kind: 'reduce', op: 'max', arg: 0, dtype: 'float32' },
    { kind: 'op', op: 'sub', args: [0, 1], dtype: 'float32' },
    { kind: 'op', op: 'exp', args: [2], dtype: 'float32' },
    { kind: 'reduce', op: 'sum', arg: 3, dtype: 'float32' },
    { kind: 'op', op: 'div', args: [3, 4], dtype: 'float32' },
  ],
  outputs: [5],
  reduce: { shape: [4, 6], axes: [1] },
};

describe('reduction sweeps', () => {
  it('sweeps once per reduction a later value depends on, storing exp(x − max) for the last sweep', () => {
    const { needed, lastPass, spilled } = planSweeps(softmax);
    expect(lastPass).toBe(2);
    expect([...needed[0]].sort()).toEqual([0]);
    expect([...needed[1]].sort()).toEqual([0, 2, 3]);
    // The last sweep reads exp back (3) instead of computing it from the input again.
    expect([...needed[2]].sort()).toEqual([3, 5]);
    expect(spilled).toEqual([3]);
    expect(scratchSteps(softmax)).toEqual([3]);
  });

  it('reads a stored value back from the output that holds it', () => {
    const both: FusedProgram = { ...softmax, outputs: [3, 5] };
    expect(planSweeps(both).spilled).toEqual([3]);
    expect(scratchSteps(both)).toEqual([]);
  });

  it('emits reductions whose last axis is reduced, not column reductions', () => {
    expect(canEmit(softmax)).toBe(true);
    // NCHW channel sums: the last axis is reduced, so each row walks runs of it.
    expect(canEmit({ ...softmax, reduce: { shape: [3, 6, 4], axes: [0, 2] } })).toBe(true);
    expect(canEmit({ ...softmax, reduce: { shape: [6, 4], axes: [0] } })).toBe(false);
    expect(canEmit({ ...softmax, reduce: { shape: [6, 4, 1], axes: [0, 2] } })).toBe(false);
  });

  it('refuses a program that reduces a row value', () => {
    const bad: FusedProgram = {
      ...softmax,
      steps: [...softmax.steps, { kind: 'reduce', op: 'sum', arg: 4, dtype: 'float32' }],
    };
    expect(canEmit(bad)).toBe(false);
  });
});
