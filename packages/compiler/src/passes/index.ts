import type { Backend } from '@tsgrad/tensor';
import type { Graph } from '../graph.js';
import { eliminateCommonSubexpressions } from './cse.js';
import { eliminateDeadCode } from './dce.js';
import { foldConstants } from './fold.js';
import { fuseElementwise } from './fuse.js';
import { simplifyAlgebra } from './simplify.js';

export { eliminateCommonSubexpressions, eliminateDeadCode, foldConstants, fuseElementwise, simplifyAlgebra };

/** The passes in the order `jit` runs them. */
export function optimizeGraph(g: Graph, backend: Backend): Graph {
  let graph = eliminateDeadCode(g);
  graph = eliminateCommonSubexpressions(simplifyAlgebra(graph));
  graph = simplifyAlgebra(foldConstants(graph, backend));
  return eliminateDeadCode(eliminateCommonSubexpressions(graph));
}
