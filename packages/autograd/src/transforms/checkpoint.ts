import { type NDArray, ValueError } from '@tsgrad/tensor';
import { checkFunction } from '../check.js';
import { gradients } from '../engine.js';
import { isForwardActive } from '../forward.js';
import { inUserCode } from '../lifetime.js';
import { enableGrad, isGradEnabled, noGrad } from '../mode.js';
import { defineOp, watchOps } from '../op.js';
import { treeFlatten, treeUnflatten } from '../pytree.js';
import type { Node, Tensor } from '../tensor.js';
import { type Gate, internalSpec, track } from './trace.js';

interface CheckpointParams {
  /** The outputs of the forward pass, run without recording. */
  readonly values: readonly NDArray[];
  readonly backward: (cotangents: readonly Tensor[]) => (Tensor | null)[];
}

const checkpointOp = defineOp<CheckpointParams>(
  {
    name: 'checkpoint',
    forward: (_, { values }) => values,
    vjp: ({ params }, cotangents) => params.backward(cotangents),
    save: { inputs: false },
    spec: internalSpec(),
  },
  { register: false },
);

/**
 * Gradient checkpointing (rematerialization): `checkpoint(f)` computes the same values and
 * gradients as f, but its forward pass records nothing inside f and keeps only the inputs;
 * backward runs f again with recording on and backpropagates through the recomputation.
 * That trades one extra forward pass for the memory of f's intermediate results.
 *
 * Gradients reach f's arguments and the tensors it closes over (e.g. weights). f must be
 * deterministic (use explicit RNG keys). Higher order works: under `createGraph` the
 * recomputation is recorded too. Under forward mode (`jvp`) f simply runs as is.
 */
export function checkpoint<Args extends unknown[], Out>(f: (...args: Args) => Out): (...args: Args) => Out {
  checkFunction('checkpoint', f);
  return (...args) => {
    if (!isGradEnabled() || isForwardActive()) return f(...args);
    const [inputs, argsDef] = treeFlatten(args);
    const argSet = new Set(inputs);
    const created = new WeakSet<Tensor>();
    const closures = new Set<Tensor>();
    const watch = (opInputs: readonly Tensor[], opOutputs: readonly Tensor[]) => {
      for (const x of opInputs) if (x.requiresGrad && !created.has(x) && !argSet.has(x)) closures.add(x);
      for (const y of opOutputs) created.add(y);
    };
    const out = noGrad(() => watchOps(watch, () => f(...args)));
    const sources = [...inputs, ...closures];
    if (!sources.some((x) => x.requiresGrad)) return out;
    assertIndependent(closures);
    const [outputs, outDef] = treeFlatten(out);
    const backward = (cotangents: readonly Tensor[]) => {
      // The engine runs a VJP with recording on exactly when it builds a graph (createGraph).
      const createGraph = isGradEnabled();
      const gate: Gate = { open: true };
      const stands = inputs.map((x) => (x.requiresGrad ? track('checkpoint', x, gate) : x));
      const again = inUserCode(
        () => enableGrad(() => treeFlatten(f(...(treeUnflatten(argsDef, stands) as Args)))[0]),
        stands,
      );
      const live = again.flatMap((y, i) => (y.requiresGrad ? [[y, cotangents[i]] as const] : []));
      const targets = [...stands.filter((x) => x.requiresGrad), ...closures];
      // Closed, the stand-ins stop the pass: gradients flowing further back to the inputs'
      // own producers are the outer backward pass's job.
      gate.open = false;
      let found: (Tensor | null)[];
      try {
        found =
          live.length === 0
            ? []
            : gradients(
                live.map(([y]) => y),
                targets,
                live.map(([, g]) => g),
                { createGraph, retainGraph: true, allowUnused: true },
              );
      } finally {
        gate.open = true;
      }
      let next = 0;
      const forInputs = stands.map((x) => (x.requiresGrad ? (found[next++] ?? null) : null));
      return [...forInputs, ...[...closures].map(() => found[next++] ?? null)];
    };
    const results = checkpointOp.apply(sources, { values: outputs.map((y) => y.peekValue()), backward });
    return treeUnflatten(outDef, results) as Out;
  };
}

/**
 * Closed-over tensors become inputs of the checkpoint node. If one were computed from another,
 * the recomputation's gradient for the first would also flow into the second, which the outer
 * backward pass does as well: refuse rather than count it twice.
 */
function assertIndependent(closures: ReadonlySet<Tensor>): void {
  const inner = [...closures].filter((c) => c.node !== null);
  if (closures.size < 2 || inner.length === 0) return;
  const slots = new Map<Node, Set<number>>();
  for (const c of inner)
    slots.set(c.node as Node, (slots.get(c.node as Node) ?? new Set()).add(c.outputIndex));
  const seen = new Set<Node>();
  const stack = inner.map((c) => c.node as Node);
  while (stack.length > 0) {
    const node = stack.pop() as Node;
    if (seen.has(node)) continue;
    seen.add(node);
    for (const edge of node.edges) {
      if (edge === null) continue;
      const reached =
        'leaf' in edge ? closures.has(edge.leaf) : (slots.get(edge.node)?.has(edge.index) ?? false);
      if (reached) {
        throw new ValueError(
          'checkpoint',
          'the function closes over two tensors of which one is computed from the other; pass them as arguments instead',
        );
      }
      if ('node' in edge) stack.push(edge.node);
    }
  }
}
