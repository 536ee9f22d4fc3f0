import { checkFinite } from './anomaly.js';
import { isAnomalyEnabled, setAnomalyDetection, setGradEnabled } from './mode.js';
import type { Node } from './op.js';
import { add, cast, full, sumToShape } from './ops/index.js';
import type { BackwardOptions, Tensor } from './tensor.js';

// The reverse pass: a topological walk (Kahn's algorithm, iterative, so a 100,000-op chain
// needs no deep recursion) that calls each node's VJP once all gradients of its outputs have
// arrived. Broadcast gradients are summed back to the input's shape here, once, for every op.

interface Targets {
  readonly leaves: ReadonlySet<Tensor>;
  /** Non-leaf targets, by the node and output slot that produces them. */
  readonly slots: ReadonlyMap<Node, ReadonlyMap<number, Tensor>>;
}

/** Nodes reachable from the roots, with how many edges from reachable nodes point at each. */
function discover(roots: readonly Node[]): Map<Node, number> {
  const dependencies = new Map<Node, number>(roots.map((n) => [n, 0]));
  const stack = [...new Set(roots)];
  while (stack.length > 0) {
    const node = stack.pop() as Node;
    for (const edge of node.edges) {
      if (edge === null || !('node' in edge)) continue;
      const seen = dependencies.has(edge.node);
      dependencies.set(edge.node, (dependencies.get(edge.node) ?? 0) + 1);
      if (!seen) stack.push(edge.node);
    }
  }
  return dependencies;
}

/** The nodes whose VJP contributes to some target (post-order, iterative). */
function neededFor(nodes: Iterable<Node>, targets: Targets): Set<Node> {
  const needed = new Set<Node>();
  const done = new Set<Node>();
  for (const start of nodes) {
    const stack: [Node, boolean][] = [[start, false]];
    while (stack.length > 0) {
      const [node, expanded] = stack.pop() as [Node, boolean];
      if (done.has(node)) continue;
      if (!expanded) {
        stack.push([node, true]);
        for (const e of node.edges)
          if (e !== null && 'node' in e && !done.has(e.node)) stack.push([e.node, false]);
        continue;
      }
      done.add(node);
      const feeds = node.edges.some(
        (e) =>
          e !== null &&
          ('leaf' in e
            ? targets.leaves.has(e.leaf)
            : needed.has(e.node) || (targets.slots.get(e.node)?.has(e.index) ?? false)),
      );
      if (feeds) needed.add(node);
    }
  }
  return needed;
}

function accumulate(existing: Tensor | null | undefined, grad: Tensor): Tensor {
  return existing ? add(existing, grad) : grad;
}

/**
 * Runs the reverse pass from `roots` seeded with `seeds`. Returns the total gradient of every
 * leaf reached (or only of the targets' leaves) and of non-leaf targets.
 */
function reversePass(
  roots: readonly Tensor[],
  seeds: readonly Tensor[],
  options: BackwardOptions,
  targets?: Targets,
): Map<Tensor, Tensor> {
  const results = new Map<Tensor, Tensor>();
  const buffers = new Map<Node, (Tensor | null)[]>();
  const rootNodes: Node[] = [];
  roots.forEach((root, i) => {
    if (!root.requiresGrad) throw new Error('backward: the tensor does not require grad and has no gradFn');
    if (root.node === null) {
      results.set(root, accumulate(results.get(root), seeds[i]));
      return;
    }
    const slots = buffers.get(root.node) ?? [];
    slots[root.outputIndex] = accumulate(slots[root.outputIndex], seeds[i]);
    buffers.set(root.node, slots);
    rootNodes.push(root.node);
  });
  const dependencies = discover(rootNodes);
  const needed = targets ? neededFor(dependencies.keys(), targets) : undefined;
  const ready = [...new Set(rootNodes)].filter((n) => dependencies.get(n) === 0);
  const createGraph = options.createGraph ?? false;

  while (ready.length > 0) {
    const node = ready.pop() as Node;
    const grads = buffers.get(node) ?? [];
    buffers.delete(node);
    const outputGrads = node.outputMeta.map((_, slot) => {
      let g = grads[slot] ?? null;
      for (const hook of node.hooks[slot]) if (g !== null) g = hook(g) ?? g;
      const target = targets?.slots.get(node)?.get(slot);
      if (target !== undefined && g !== null) results.set(target, g);
      return g;
    });
    const inputGrads =
      outputGrads.some((g) => g !== null) && (needed === undefined || needed.has(node))
        ? runVjp(node, outputGrads, createGraph, options.retainGraph ?? createGraph)
        : [];
    node.edges.forEach((edge, i) => {
      if (edge === null) return;
      const raw = inputGrads[i];
      if (raw) {
        const grad = reduce(raw, node.inputShapes[i], node.inputDtypes[i], createGraph);
        if ('leaf' in edge) {
          if (targets === undefined || targets.leaves.has(edge.leaf)) {
            results.set(edge.leaf, accumulate(results.get(edge.leaf), grad));
          }
        } else {
          const slots = buffers.get(edge.node) ?? [];
          slots[edge.index] = withGrad(createGraph, () => accumulate(slots[edge.index], grad));
          buffers.set(edge.node, slots);
        }
      }
      if ('node' in edge) {
        const left = (dependencies.get(edge.node) as number) - 1;
        dependencies.set(edge.node, left);
        if (left === 0) ready.push(edge.node);
      }
    });
  }
  return results;
}

function withGrad<T>(enabled: boolean, fn: () => T): T {
  const previous = setGradEnabled(enabled);
  try {
    return fn();
  } finally {
    setGradEnabled(previous);
  }
}

function runVjp(node: Node, outputGrads: (Tensor | null)[], createGraph: boolean, retainGraph: boolean) {
  const context = node.context;
  if (context === null) {
    throw new Error(
      `backward: trying to backward through the graph of '${node.op.name}' a second time; pass retainGraph: true the first time`,
    );
  }
  const filled = outputGrads.map(
    (g, slot) => g ?? full(node.outputMeta[slot].shape, 0, node.outputMeta[slot].dtype),
  );
  // The ops inside a VJP are not checked one by one in anomaly mode (a VJP may pass through
  // an infinity it then masks): its results are, so a NaN is blamed on this op's backward.
  const anomaly = setAnomalyDetection(false);
  let grads: readonly (Tensor | null)[];
  try {
    grads = withGrad(createGraph, () => node.op.vjp(context, filled));
  } finally {
    setAnomalyDetection(anomaly);
  }
  if (!retainGraph) node.context = null;
  if (isAnomalyEnabled()) checkFinite(node.op.name, 'backward', grads, context.inputs);
  return grads;
}

function reduce(grad: Tensor, shape: readonly number[], dtype: string, createGraph: boolean): Tensor {
  return withGrad(createGraph, () => {
    const summed = sumToShape(grad, shape);
    return summed.dtype === dtype ? summed : cast(summed, dtype as Tensor['dtype']);
  });
}

function defaultSeed(root: Tensor): Tensor {
  if (root.size !== 1) {
    throw new Error(
      `backward: a gradient can be implied only for single-element outputs, got shape [${root.shape.join(',')}]`,
    );
  }
  return full(root.shape, 1, root.dtype);
}

/** `tensor.backward()`: accumulates into `.grad` of every leaf that requires grad. */
export function backward(
  roots: readonly Tensor[],
  gradOutputs: readonly (Tensor | undefined)[],
  options: BackwardOptions = {},
): void {
  const seeds = roots.map((r, i) => gradOutputs[i] ?? defaultSeed(r));
  const createGraph = options.createGraph ?? false;
  const grads = reversePass(roots, seeds, options);
  for (const [leaf, total] of grads) {
    let g = total;
    for (const hook of leaf.hooks) g = hook(g) ?? g;
    const kept = createGraph ? g : g.detach();
    leaf.grad = withGrad(createGraph, () => (leaf.grad === null ? kept : add(leaf.grad, kept)));
  }
}

export interface GradientsOptions extends BackwardOptions {
  /** Return null (instead of zeros) for inputs the outputs do not depend on. */
  readonly allowUnused?: boolean;
}

/**
 * Gradients of `outputs` (weighted by `gradOutputs`) with respect to `inputs`, returned
 * rather than accumulated (`torch.autograd.grad`). Inputs may be leaves or intermediates.
 */
export function gradients(
  outputs: readonly Tensor[],
  inputs: readonly Tensor[],
  gradOutputs: readonly (Tensor | undefined)[] = [],
  options: GradientsOptions = {},
): (Tensor | null)[] {
  const slots = new Map<Node, Map<number, Tensor>>();
  const leaves = new Set<Tensor>();
  for (const x of inputs) {
    if (!x.requiresGrad) throw new Error('gradients: an input does not require grad');
    if (x.node === null) leaves.add(x);
    else {
      const bySlot = slots.get(x.node) ?? new Map<number, Tensor>();
      bySlot.set(x.outputIndex, x);
      slots.set(x.node, bySlot);
    }
  }
  const live = outputs
    .map((o, i) => [o, gradOutputs[i] ?? defaultSeed(o)] as const)
    .filter(([o]) => o.requiresGrad);
  const found = reversePass(
    live.map(([o]) => o),
    live.map(([, g]) => g),
    options,
    { leaves, slots },
  );
  return inputs.map((x) => {
    const g = found.get(x);
    if (g !== undefined) return g;
    return options.allowUnused ? null : full(x.shape, 0, x.dtype);
  });
}
