import { registeredOps } from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';
import { checkOp, formatFailure, formatReport, type OpReport, summarize } from '@tsgrad/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The conformance suite: every op registered through defineOp by @tsgrad/autograd, checked
// against its spec (one test per op), with a fixed seed, on the default (wasm) backend — with
// every float32 forward and gradient also compared with the CPU reference backend — and on
// the CPU reference backend itself.

const SEED = 20261124;
const fastBackend = T.getBackend();

describe.each([
  { name: fastBackend.name, backend: fastBackend, compareWith: T.cpuBackend },
  { name: T.cpuBackend.name, backend: T.cpuBackend, compareWith: undefined },
])('every registered op conforms to its spec on the $name backend', ({ backend, compareWith }) => {
  const reports: OpReport[] = [];
  let previous: T.Backend;
  beforeAll(() => {
    previous = T.setBackend(backend);
  });
  afterAll(() => {
    T.setBackend(previous);
  });

  for (const op of registeredOps()) {
    it(op.definition.name, () => {
      const report = checkOp(op, { seed: SEED, throwOnFailure: false, compareWith });
      reports.push(report);
      expect(report.failures.map(formatFailure)).toEqual([]);
    });
  }

  it('covers 100% of the registered ops, and prints the counts', () => {
    const summary = summarize(reports);
    console.log(`${backend.name} backend: ${formatReport(summary)}`);
    const registered = registeredOps().map((op) => op.definition.name);
    expect(registered.length).toBeGreaterThan(0);
    expect(reports.map((r) => r.op)).toEqual(registered);
    expect(summary.counts.ops).toBe(registered.length);
    // Every op that declares derivatives had them checked.
    const differentiable = reports.filter((r) => r.order >= 1).length;
    const twice = reports.filter((r) => r.order === 2).length;
    expect(summary.counts).toMatchObject({ order1: differentiable, order2: twice });
    // Every op also under jit: forward, gradients through jit and the jitted gradient.
    expect(summary.counts.underJit).toBe(registered.length);
    // And under vmap: batched forward and per-example gradients equal the stacked examples.
    expect(summary.counts.underVmap).toBe(registered.length);
    if (compareWith)
      expect(reports.filter((r) => r.checks.backend.status === 'passed').length).toBeGreaterThan(60);
  });
});
