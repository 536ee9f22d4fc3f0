import { registeredOps } from '@tsgrad/autograd';
import { checkOp, formatFailure, formatReport, type OpReport, summarize } from '@tsgrad/testing';
import { describe, expect, it } from 'vitest';

// The conformance suite: every op registered through defineOp by @tsgrad/autograd, checked
// against its spec (one test per op), with a fixed seed.

const SEED = 20261124;
const reports: OpReport[] = [];

describe('every registered op conforms to its spec', () => {
  for (const op of registeredOps()) {
    it(op.definition.name, () => {
      const report = checkOp(op, { seed: SEED, throwOnFailure: false });
      reports.push(report);
      expect(report.failures.map(formatFailure)).toEqual([]);
    });
  }

  it('covers 100% of the registered ops, and prints the counts', () => {
    const summary = summarize(reports);
    console.log(formatReport(summary));
    const registered = registeredOps().map((op) => op.definition.name);
    expect(registered.length).toBeGreaterThan(0);
    expect(reports.map((r) => r.op)).toEqual(registered);
    expect(summary.counts.ops).toBe(registered.length);
    // Every op that declares derivatives had them checked.
    const differentiable = reports.filter((r) => r.order >= 1).length;
    const twice = reports.filter((r) => r.order === 2).length;
    expect(summary.counts).toMatchObject({ order1: differentiable, order2: twice });
  });
});
