import * as A from '@tsgrad/autograd';
import { describe, expect, it } from 'vitest';
import { type CompileReport, jit } from '../src/index.js';
import { seeded } from './helpers.js';

// Compile time must grow about linearly with the size of the function: a pass that rescans
// the graph per equation (indexOf in a loop, re-sorting…) would make 4× the equations cost
// 16× the time. Each phase is timed on the grad of an N-op and of a 4N-op chain (4N = 2,000 is
// the bench's chain), compiled in turns, and the fastest of a few compilations counts, so
// that a collection or a busy core does not decide; the ratio is bounded generously (linear
// is 4, quadratic 16).

const N = 500;
const RUNS = 7;
const BOUND = 10;
/** Phases faster than this count as this long (a timer's and a scheduler's noise). */
const FLOOR_MS = 0.5;

/** The grad of an n-op elementwise chain, as the bench's chain cycles exp, ·½, log, +ln 2. */
function chain(n: number) {
  return A.grad((x: A.Tensor) => {
    let y = x;
    for (let i = 0; i < n; i++) {
      const op = i % 4;
      y = op === 0 ? A.exp(y) : op === 1 ? A.mul(y, 0.5) : op === 2 ? A.log(y) : A.add(y, Math.LN2);
    }
    return A.sum(y);
  });
}

type Phase = 'traceMs' | 'optimizeMs' | 'planMs';
const PHASES: readonly Phase[] = ['traceMs', 'optimizeMs', 'planMs'];

interface Fastest {
  readonly ms: Record<Phase, number>;
  equations: number;
}

function compileOnce(f: (x: A.Tensor) => A.Tensor, x: A.Tensor, fusion: boolean, into: Fastest): void {
  const g = jit(f, { fusion });
  g(x);
  const report = g.lastCompile as CompileReport;
  for (const phase of PHASES) into.ms[phase] = Math.min(into.ms[phase], report[phase]);
  into.equations = report.tracedEquations;
}

describe('compile time', () => {
  it.each([false, true])(
    'grows near-linearly with the chain length (fusion %s)',
    (fusion) => {
      const x = seeded([16], 31, 0.5, 1.5);
      const [f, f4] = [chain(N), chain(4 * N)];
      const fresh = (): Fastest => ({
        ms: { traceMs: Infinity, optimizeMs: Infinity, planMs: Infinity },
        equations: 0,
      });
      compileOnce(f4, x, fusion, fresh()); // warm up the code paths
      const [small, large] = [fresh(), fresh()];
      for (let run = 0; run < RUNS; run++) {
        compileOnce(f, x, fusion, small);
        compileOnce(f4, x, fusion, large);
      }
      expect(large.equations).toBeGreaterThanOrEqual(4 * small.equations - 8);
      for (const phase of PHASES) {
        const ratio = Math.max(large.ms[phase], FLOOR_MS) / Math.max(small.ms[phase], FLOOR_MS);
        console.log(
          `${phase} (fusion ${fusion}): ${small.ms[phase].toFixed(2)} ms for ${small.equations} equations, ` +
            `${large.ms[phase].toFixed(2)} ms for ${large.equations}: ${ratio.toFixed(1)}×`,
        );
        expect(ratio, `${phase} grew ${ratio.toFixed(1)}× for 4× the equations`).toBeLessThan(BOUND);
      }
    },
    60_000,
  );
});
