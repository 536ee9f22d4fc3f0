import { describe, expect, it } from 'vitest';
import { tsgradPeers } from '../src/peers/tsgrad.js';
import { chainProblem, charRnnProblem, matmulProblem, mlpProblem, sumOfSquares } from '../src/problems.js';
import { formatRatio, markdownTable, speedRatio } from '../src/table.js';
import { measure } from '../src/timing.js';

// The harness's own logic; the peers' numbers are checked against each other at run time.

describe('ratios', () => {
  it('say how many times faster tsgrad is, for times and for rates alike', () => {
    expect(speedRatio('ms', 10, 30)).toBe(3);
    expect(speedRatio('GFLOP/s', 30, 10)).toBe(3);
    expect(formatRatio(0.0771)).toBe('0.077×');
    expect(formatRatio(6.66)).toBe('6.66×');
  });
});

describe('markdownTable', () => {
  it('pads every column to its widest cell and right-aligns all but the first', () => {
    const table = markdownTable(
      ['name', 'ms'],
      [
        ['a', '1.5'],
        ['longer', '10'],
      ],
    );
    expect(table.split('\n')).toEqual([
      '| name   |  ms |',
      '|--------|----:|',
      '| a      | 1.5 |',
      '| longer |  10 |',
    ]);
  });
});

describe('measure', () => {
  it('warms up, then takes the median of at least minRuns runs', async () => {
    let calls = 0;
    const policy = { warmupRuns: 2, warmupMs: 0, minRuns: 3, maxRuns: 3, budgetMs: 0 };
    const timing = await measure(() => {
      calls++;
    }, policy);
    expect(calls).toBe(5);
    expect(timing.runs).toBe(3);
    expect(timing.medianMs).toBeGreaterThanOrEqual(0);
  });
});

describe.each(tsgradPeers())('tsgrad workloads on $name', (tsgrad) => {
  it('matmul probes the sum of squares of the product', () => {
    const problem = matmulProblem(4);
    const expected = new Float64Array(16);
    for (let i = 0; i < 4; i++)
      for (let j = 0; j < 4; j++)
        for (let p = 0; p < 4; p++) expected[i * 4 + j] += problem.a[i * 4 + p] * problem.b[p * 4 + j];
    expect(tsgrad.matmul(problem).probe()).toBeCloseTo(sumOfSquares(expected), 4);
  });

  it('the grad chain is the identity cycle by cycle, so its gradient is all ones', () => {
    const problem = chainProblem(40);
    expect(tsgrad.gradChain(problem).probe()).toBeCloseTo(problem.x.length, 4);
  });

  it('the MLP starts near chance: a first loss close to ln 10', () => {
    expect(tsgrad.mlpStep(mlpProblem()).probe()).toBeCloseTo(Math.log(10), 0);
  });

  it('the char-RNN starts near chance: a first loss close to ln 64', () => {
    const step = tsgrad.charRnnStep?.(charRnnProblem());
    expect(step?.probe()).toBeCloseTo(Math.log(64), 0);
  }, 60_000);

  it('computes the same without any dispose', () => {
    const bare = tsgrad.withoutDispose;
    if (!bare) throw new Error('tsgrad has no no-dispose variant');
    const problem = chainProblem(40);
    expect(bare.gradChain(problem).probe()).toBe(tsgrad.gradChain(problem).probe());
    expect(bare.elementwise(new Float32Array([0, 1, -1])).probe()).toBe(
      tsgrad.elementwise(new Float32Array([0, 1, -1])).probe(),
    );
    // Two steps from the same weights: the hand-disposed one freed nothing the second needs.
    const [a, b] = [tsgrad, bare].map((p) => p.charRnnStep?.(charRnnProblem()));
    for (const step of [a, b]) step?.run();
    expect(a?.probe()).toBe(b?.probe());
  }, 60_000);
});
