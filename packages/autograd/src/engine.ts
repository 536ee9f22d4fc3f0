import { batchLevels, checkOptions, describe, ShapeError, ValueError } from '@tsgrad/tensor';
import { checkFinite } from './anomaly.js';
import { sumFinishedLevels } from './batch-levels.js';
import { forgetSaved, giveToUser, inLibrary, inUserCode, release, userCodeRuns } from './lifetime.js';
import { isAnomalyEnabled, setAnomalyDetection, setGradEnabled } from './mode.js';
import { add, cast, full, sumToShape } from './ops/index.js';
import type { BackwardOptions, Node, Tensor } from './tensor.js';
import { checkSavedVersions } from './versions.js';

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
  const dependencies = new Map<Node, number>();
  const stack: Node[] = [];
  for (let i = 0; i < roots.length; i++) {
    if (dependencies.has(roots[i])) continue;
    dependencies.set(roots[i], 0);
    stack.push(roots[i]);
  }
  // Indexed loops, no iterators or tuples: a traced chain walks thousands of nodes per compile.
  while (stack.length > 0) {
    const { edges } = stack.pop() as Node;
    for (let i = 0; i < edges.length; i++) {
      const edge = edges[i];
      if (edge === null || !('node' in edge)) continue;
      const count = dependencies.get(edge.node);
      dependencies.set(edge.node, (count ?? 0) + 1);
      if (count === undefined) stack.push(edge.node);
    }
  }
  return dependencies;
}

/** The nodes whose VJP contributes to some target (post-order, iterative). */
function neededFor(nodes: Iterable<Node>, targets: Targets): Set<Node> {
  const needed = new Set<Node>();
  const done = new Set<Node>();
  // Two parallel stacks: a node, and whether its inputs were pushed already.
  const stack: Node[] = [];
  const expandedStack: boolean[] = [];
  for (const start of nodes) {
    stack.push(start);
    expandedStack.push(false);
    while (stack.length > 0) {
      const node = stack.pop() as Node;
      const expanded = expandedStack.pop() as boolean;
      if (done.has(node)) continue;
      const { edges } = node;
      if (!expanded) {
        stack.push(node);
        expandedStack.push(true);
        for (let i = 0; i < edges.length; i++) {
          const e = edges[i];
          if (e !== null && 'node' in e && !done.has(e.node)) {
            stack.push(e.node);
            expandedStack.push(false);
          }
        }
        continue;
      }
      done.add(node);
      for (let i = 0; i < edges.length; i++) {
        const e = edges[i];
        if (e === null) continue;
        const feeds =
          'leaf' in e
            ? targets.leaves.has(e.leaf)
            : needed.has(e.node) || (targets.slots.get(e.node)?.has(e.index) ?? false);
        if (feeds) {
          needed.add(node);
          break;
        }
      }
    }
  }
  return needed;
}

/**
 * How many places (pending slots, results) hold each gradient during a pass, so that a
 * gradient the pass made is freed as soon as it is consumed and nothing holds it.
 */
class Holds {
  private readonly counts = new Map<Tensor, number>();

  add(t: Tensor): void {
    this.counts.set(t, (this.counts.get(t) ?? 0) + 1);
  }

  remove(t: Tensor): void {
    const n = (this.counts.get(t) as number) - 1;
    if (n === 0) this.counts.delete(t);
    else this.counts.set(t, n);
  }

  has(t: Tensor): boolean {
    return this.counts.has(t);
  }
}

/** Calls a user's gradient hook; the gradient it sees is theirs from then on. */
function runHook(hook: (grad: Tensor) => Tensor | undefined, grad: Tensor): Tensor {
  return inUserCode(() => hook(grad), [grad]) ?? grad;
}

/**
 * Runs the reverse pass from `roots` seeded with `seeds`. Returns the total gradient of every
 * leaf reached (or only of the targets' leaves) and of non-leaf targets. It runs inside the
 * caller's library frame: each gradient the pass made is released once consumed (summed,
 * reduced or passed through a VJP) unless it is also held elsewhere.
 */
function reversePass(
  op: string,
  roots: readonly Tensor[],
  seeds: readonly Tensor[],
  options: BackwardOptions,
  targets?: Targets,
): Map<Tensor, Tensor> {
  const createGraph = options.createGraph ?? false;
  const retainGraph = options.retainGraph ?? createGraph;
  const results = new Map<Tensor, Tensor>();
  const buffers = new Map<Node, (Tensor | null)[]>();
  const held = new Holds();
  /** Gradients that may be dead now, freed at the end of each step unless still held. */
  const consumed: Tensor[] = [];
  const freeConsumed = () => {
    for (const t of consumed) if (!held.has(t)) release(t);
    consumed.length = 0;
  };
  /** `current + grad` (or grad), recorded per `record` (the caller's mode when undefined). */
  const sum = (current: Tensor | null | undefined, grad: Tensor, record?: boolean): Tensor => {
    held.add(grad);
    if (!current) return grad;
    const total = record === undefined ? add(current, grad) : withGrad(record, () => add(current, grad));
    held.remove(current);
    held.remove(grad);
    held.add(total);
    consumed.push(current, grad);
    return total;
  };
  const addToLeaf = (leaf: Tensor, grad: Tensor) => results.set(leaf, sum(results.get(leaf), grad));
  const addToSlot = (node: Node, index: number, grad: Tensor, record?: boolean) => {
    const slots = buffers.get(node) ?? [];
    slots[index] = sum(slots[index], grad, record);
    buffers.set(node, slots);
  };

  const rootNodes: Node[] = [];
  roots.forEach((root, i) => {
    if (!root.requiresGrad) throw new ValueError(op, 'the tensor does not require grad and has no gradFn');
    if (root.node === null) addToLeaf(root, seeds[i]);
    else {
      addToSlot(root.node, root.outputIndex, seeds[i]);
      rootNodes.push(root.node);
    }
  });
  const dependencies = discover(rootNodes);
  const needed = targets ? neededFor(dependencies.keys(), targets) : undefined;
  const ready = [...new Set(rootNodes)].filter((n) => dependencies.get(n) === 0);
  // Checked before any VJP runs, so a refused pass consumes nothing (runVjp checks again if
  // user code, a hook or a custom VJP, has run since and may have changed a saved tensor).
  for (const node of dependencies.keys()) {
    const context = node.context;
    if (context !== null && (needed === undefined || needed.has(node))) {
      checkSavedVersions(op, node, context.inputs, context.outputs);
    }
  }
  const checkedAt = userCodeRuns();

  // Indexed loops and no closures per node: a traced grad walks thousands of nodes per compile.
  while (ready.length > 0) {
    const node = ready.pop() as Node;
    const grads = buffers.get(node) ?? NO_GRADS;
    // Not deleted: a Map shrinking as nodes are done reallocates its table (a node is done once).
    if (grads !== NO_GRADS) buffers.set(node, DONE);
    for (let slot = 0; slot < grads.length; slot++) {
      const g = grads[slot];
      if (!g) continue;
      held.remove(g);
      consumed.push(g);
    }
    const targetSlots = targets?.slots.get(node);
    const outputGrads = new Array<Tensor | null>(node.outputMeta.length);
    let anyGrad = false;
    for (let slot = 0; slot < outputGrads.length; slot++) {
      let g = grads[slot] ?? null;
      const hooks = node.hooksAt(slot);
      for (let h = 0; h < hooks.length; h++) if (g !== null) g = runHook(hooks[h], g);
      const target = targetSlots?.get(slot);
      if (target !== undefined && g !== null) {
        results.set(target, g);
        held.add(g);
      }
      outputGrads[slot] = g;
      if (g !== null) anyGrad = true;
    }
    const inputGrads =
      anyGrad && (needed === undefined || needed.has(node))
        ? runVjp(op, node, outputGrads, createGraph, retainGraph, consumed, userCodeRuns() !== checkedAt)
        : NO_GRADS;
    const { edges } = node;
    for (let i = 0; i < edges.length; i++) {
      const edge = edges[i];
      const raw = inputGrads[i];
      if (raw) consumed.push(raw);
      if (edge === null) continue;
      if (raw) {
        const grad = reduce(raw, node, i, createGraph);
        if ('leaf' in edge) {
          if (targets === undefined || targets.leaves.has(edge.leaf)) addToLeaf(edge.leaf, grad);
          else consumed.push(grad);
        } else addToSlot(edge.node, edge.index, grad, createGraph);
      }
      if ('node' in edge) {
        const left = (dependencies.get(edge.node) as number) - 1;
        dependencies.set(edge.node, left);
        if (left === 0) ready.push(edge.node);
      }
    }
    freeConsumed();
  }
  return results;
}

/** Whether `t` lives on a vmap level (its gradient may need summing over finished levels). */
const isBatched = (t: Tensor) => batchLevels(t.peekValue()).length > 0;

function withGrad<T>(enabled: boolean, fn: () => T): T {
  const previous = setGradEnabled(enabled);
  try {
    return fn();
  } finally {
    setGradEnabled(previous);
  }
}

/**
 * The node's VJP, in its own frame; zeros made for outputs without a gradient go to `consumed`.
 * `recheck`: user code ran since the pass checked the saved tensors, so check them again.
 */
function runVjp(
  op: string,
  node: Node,
  outputGrads: (Tensor | null)[],
  createGraph: boolean,
  retainGraph: boolean,
  consumed: Tensor[],
  recheck: boolean,
) {
  const context = node.context;
  if (context === null) {
    throw new ValueError(
      op,
      `trying to backward through the graph of '${node.op.name}' a second time; pass retainGraph: true the first time`,
    );
  }
  if (recheck) checkSavedVersions(op, node, context.inputs, context.outputs);
  // In place: the list is the pass's own.
  const filled = outputGrads as Tensor[];
  for (let slot = 0; slot < filled.length; slot++) {
    if (filled[slot] !== null) continue;
    filled[slot] = full(node.outputMeta[slot].shape, 0, node.outputMeta[slot].dtype);
    consumed.push(filled[slot]);
  }
  // The ops inside a VJP are not checked one by one in anomaly mode (a VJP may pass through
  // an infinity it then masks): its results are, so a NaN is blamed on this op's backward.
  const anomaly = setAnomalyDetection(false);
  let grads: readonly (Tensor | null)[];
  try {
    grads = inLibrary(() => withGrad(createGraph, () => node.op.vjp(context, filled)));
  } finally {
    setAnomalyDetection(anomaly);
  }
  if (!retainGraph) node.context = null;
  if (isAnomalyEnabled()) checkFinite(node.op.name, 'backward', grads, context.inputs);
  if (!retainGraph) {
    forgetSaved(context.inputs);
    forgetSaved(context.outputs);
  }
  return grads;
}

/** What a node without gradients (or a VJP not run) contributes: nothing. */
const NO_GRADS: readonly (Tensor | null)[] = [];

/** The gradient slots of a node the pass is done with (frozen: nothing may add to them). */
const DONE = Object.freeze([]) as unknown as (Tensor | null)[];

const sameShape = (a: readonly number[], b: readonly number[]) => {
  if (a.length !== b.length) return false;
  for (let d = 0; d < a.length; d++) if (a[d] !== b[d]) return false;
  return true;
};

/** Input i's gradient summed to its shape (and its vmap levels) and cast to its dtype. */
function reduce(grad: Tensor, node: Node, i: number, createGraph: boolean): Tensor {
  const dtype = node.inputDtypes[i];
  // Most gradients already fit (no op to record): skip the grad-mode switch and its closures.
  if (grad.dtype === dtype && sameShape(grad.shape, node.inputShapes[i]) && !isBatched(grad)) return grad;
  return withGrad(createGraph, () => {
    const summed = sumToShape(sumFinishedLevels(grad, node.inputLevels[i] ?? []), node.inputShapes[i]);
    return summed.dtype === dtype ? summed : cast(summed, dtype as Tensor['dtype']);
  });
}

/**
 * Checks the tensor lists of `backward`/`gradients` (by shape, not by class: this module is
 * below the Tensor class).
 */
function checkLists(op: string, tensors: unknown, gradOutputs: unknown): void {
  const isTensor = (t: unknown) => typeof (t as Partial<Tensor> | null)?.peekValue === 'function';
  if (!Array.isArray(tensors) || !tensors.every(isTensor)) {
    throw new ValueError(op, `expected a list of Tensors, got ${describe(tensors)}`);
  }
  if (!Array.isArray(gradOutputs)) {
    throw new ValueError(op, `expected a list of output gradients, got ${describe(gradOutputs)}`);
  }
}

/** The gradient the pass starts from at `root`: `given`, checked, or 1 for a single element. */
function seedFor(op: string, root: Tensor, given: Tensor | undefined): Tensor {
  if (given === undefined) {
    if (root.size !== 1) {
      throw new ShapeError(
        op,
        `a gradient can be implied only for single-element outputs, got shape [${root.shape.join(',')}]`,
      );
    }
    return full(root.shape, 1, root.dtype);
  }
  if (typeof given !== 'object' || given === null || typeof given.peekValue !== 'function') {
    throw new ValueError(
      op,
      `the output gradient must be a Tensor, got ${given === null ? 'null' : typeof given}`,
    );
  }
  const same = given.shape.length === root.shape.length && given.shape.every((d, i) => d === root.shape[i]);
  if (!same) {
    throw new ShapeError(
      op,
      `the output gradient has shape [${given.shape.join(',')}] but the output has shape [${root.shape.join(',')}]`,
    );
  }
  return given;
}

/** `tensor.backward()`: accumulates into `.grad` of every leaf that requires grad. */
export function backward(
  roots: readonly Tensor[],
  gradOutputs: readonly (Tensor | undefined)[],
  options: BackwardOptions = {},
): void {
  checkLists('backward', roots, gradOutputs);
  checkOptions('backward', options);
  inLibrary(() => {
    const seeds = roots.map((r, i) => seedFor('backward', r, gradOutputs[i]));
    const grads = reversePass('backward', roots, seeds, options);
    for (const [leaf, total] of grads) accumulateGrad(leaf, total, options.createGraph ?? false);
  });
}

/**
 * Adds a leaf's total gradient (after its hooks) to its `.grad`. Without createGraph the new
 * `.grad` is a fresh tensor no one else holds, so the library may free it when it is replaced.
 */
function accumulateGrad(leaf: Tensor, total: Tensor, createGraph: boolean): void {
  let g = total;
  for (const hook of leaf.hooks) g = runHook(hook, g);
  const previous = leaf.peekGrad();
  let grad: Tensor;
  if (previous !== null) grad = withGrad(createGraph, () => add(previous, g));
  else grad = createGraph ? g : g.detach();
  giveToUser(grad);
  leaf.replaceGrad(grad, !createGraph);
}

/** Options of `gradients`: those of `backward`, and what to return for unused inputs. */
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
  checkLists('gradients', outputs, gradOutputs);
  checkLists('gradients', inputs, []);
  checkOptions('gradients', options);
  const slots = new Map<Node, Map<number, Tensor>>();
  const leaves = new Set<Tensor>();
  for (const x of inputs) {
    if (!x.requiresGrad) throw new ValueError('gradients', 'an input does not require grad');
    if (x.node === null) leaves.add(x);
    else {
      const bySlot = slots.get(x.node) ?? new Map<number, Tensor>();
      bySlot.set(x.outputIndex, x);
      slots.set(x.node, bySlot);
    }
  }
  return inLibrary(() => {
    const live = outputs
      .map((o, i) => [o, seedFor('gradients', o, gradOutputs[i])] as const)
      .filter(([o]) => o.requiresGrad);
    const found = reversePass(
      'gradients',
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
  });
}
