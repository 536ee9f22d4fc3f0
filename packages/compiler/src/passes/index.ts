import type { Backend } from '@tsgrad/tensor';
import { checkBackend, checkGraph } from '../check.js';
import type { Graph } from '../graph.js';
import { eliminateCommonSubexpressions } from './cse.js';
import { eliminateDeadCode } from './dce.js';
import { foldConstants } from './fold.js';
import { fuseElementwise } from './fuse.js';
import { simplifyAlgebra } from './simplify.js';

export { eliminateCommonSubexpressions, eliminateDeadCode, foldConstants, fuseElementwise, simplifyAlgebra };

/** The passes in the order `jit` runs them. */
export function optimizeGraph(g: Graph, backend: Backend): Graph {
  checkGraph('optimizeGraph', g);
  checkBackend('optimizeGraph', backend);
  let graph = eliminateDeadCode(g);
  graph = eliminateCommonSubexpressions(simplifyAlgebra(graph));
  const folded = foldConstants(graph, backend);
  // Folding made new constants: simplify and merge again (skipped when it folded nothing).
  if (folded.equations.length !== graph.equations.length)
    graph = eliminateCommonSubexpressions(simplifyAlgebra(folded));
  return eliminateDeadCode(graph);
}
