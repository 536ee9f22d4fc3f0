import * as A from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';
import { describe, expect, it } from 'vitest';
import {
  Executable,
  eliminateCommonSubexpressions,
  eliminateDeadCode,
  foldConstants,
  fuseElementwise,
  type Graph,
  makeGraph,
  optimizeGraph,
  type PlanGraph,
  planBuffers,
  simplifyAlgebra,
} from '../src/index.js';
import { seeded } from './helpers.js';

// The passes and the plan must take time linear in the size of the graph: one that rescans
// the graph per equation (indexOf in a loop, re-sorting, a retried search) would make 4× the
// equations cost 16× the time. Each phase runs alone on the graph it takes, from the grad of
// an N-op and of a 4N-op chain (4N = 2,000 is the bench's chain), in turns. It is timed in CPU
// time, not wall time (on a loaded machine a long run rarely gets a core to itself), and the
// fastest of a few runs counts, so that a collection does not decide. Linear phases measure
// 2–5×; the bound is 7 (an indexOf per equation in dead-code elimination measured 11×).
// Tracing is left out: its work per op does not depend on the graph, but the garbage
// collector's does (a longer trace keeps more alive).

const N = 500;
const RUNS = 9;
const BOUND = 7;
/** Phases faster than this count as this long (a timer's noise). */
const FLOOR_MS = 0.05;

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

const backend = T.getBackend();

/** The graphs a chain goes through while compiling: traced, optimized, fused. */
interface Stages {
  readonly traced: Graph;
  readonly optimized: Graph;
  readonly fused: PlanGraph;
}

function stages(traced: Graph): Stages {
  const optimized = optimizeGraph(traced, backend);
  return { traced, optimized, fused: fuseElementwise(optimized, backend) };
}

/** Each phase on the graph it takes, alone (a quadratic part stands out the more). */
const PHASES: Record<string, (s: Stages) => unknown> = {
  eliminateDeadCode: (s) => eliminateDeadCode(s.traced),
  simplifyAlgebra: (s) => simplifyAlgebra(s.traced),
  eliminateCommonSubexpressions: (s) => eliminateCommonSubexpressions(s.traced),
  foldConstants: (s) => foldConstants(s.traced, backend),
  fuseElementwise: (s) => fuseElementwise(s.optimized, backend),
  planBuffers: (s) => planBuffers(s.fused),
  Executable: (s) => new Executable(s.fused, backend).dispose(),
};

/** The fastest of `RUNS` runs of `phase` on each chain's graphs, run in turns, in CPU milliseconds. */
function fastest(phase: (s: Stages) => unknown, graphs: readonly Stages[]): number[] {
  const best = graphs.map(() => Number.POSITIVE_INFINITY);
  for (const g of graphs) phase(g); // warm up the code paths
  for (let run = 0; run < RUNS; run++) {
    graphs.forEach((g, i) => {
      const start = process.cpuUsage();
      phase(g);
      const { user, system } = process.cpuUsage(start);
      best[i] = Math.min(best[i], (user + system) / 1000);
    });
  }
  return best;
}

describe('compile time', () => {
  const x = seeded([16], 31, 0.5, 1.5);
  const graphs = [stages(makeGraph(chain(N))(x)), stages(makeGraph(chain(4 * N))(x))];
  const [small, large] = graphs.map((s) => s.traced.equations.length);

  it('traces 4× the equations for a 4× longer chain', () => {
    expect(large).toBeGreaterThanOrEqual(4 * small - 8);
  });

  it.each(Object.keys(PHASES))(
    '%s grows near-linearly with the graph',
    (name) => {
      const [smallMs, largeMs] = fastest(PHASES[name], graphs);
      const ratio = Math.max(largeMs, FLOOR_MS) / Math.max(smallMs, FLOOR_MS);
      console.log(
        `${name}: ${smallMs.toFixed(2)} ms for ${small} equations, ${largeMs.toFixed(2)} ms for ${large}: ${ratio.toFixed(1)}×`,
      );
      expect(ratio, `${name} grew ${ratio.toFixed(1)}× for 4× the equations`).toBeLessThan(BOUND);
    },
    60_000,
  );
});
