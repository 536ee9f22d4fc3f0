import { ValueError } from '@tsgrad/tensor';
import { checkFunction } from './check.js';
import { Tensor } from './tensor.js';

// Pytrees, as in JAX: the transforms accept and return arrays and plain objects nested to any
// depth, whose leaves are tensors. Other values (numbers, booleans, strings, null, undefined,
// functions) are static: they are part of the structure and pass through unchanged.

type Static =
  | number
  | boolean
  | string
  | bigint
  | symbol
  | null
  | undefined
  | ((...args: never[]) => unknown);

/** A nested structure of arrays and plain objects with leaves of type L (tensors by default). */
export type Tree<L = Tensor> = L | Static | readonly Tree<L>[] | { readonly [key: string]: Tree<L> };

/** A tree of tensors. */
export type PyTree = Tree<Tensor>;

/** A tree's structure without its leaves: what `treeUnflatten` needs to rebuild it. */
export type TreeDef =
  | { readonly kind: 'leaf' }
  | { readonly kind: 'static'; readonly value: unknown }
  | { readonly kind: 'array'; readonly children: readonly TreeDef[] }
  | { readonly kind: 'object'; readonly keys: readonly string[]; readonly children: readonly TreeDef[] };

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function describe(value: object): string {
  return value.constructor?.name ?? 'object';
}

/** Deeper trees are refused (a self-containing or hostile structure would overflow the stack). */
const MAX_TREE_DEPTH = 1000;

/** Throws unless `def` is a structure made by `treeFlatten`. */
function checkTreeDef(op: string, def: unknown): asserts def is TreeDef {
  const kind = (def as Partial<TreeDef> | null)?.kind;
  const ok =
    kind === 'leaf' ||
    kind === 'static' ||
    ((kind === 'array' || kind === 'object') && Array.isArray((def as { children?: unknown }).children));
  if (!ok) throw new ValueError(op, 'expected a tree structure made by treeFlatten');
}

/** The tensors of `tree` in order (depth first; object keys in insertion order) and its structure. */
export function treeFlatten(tree: unknown): [Tensor[], TreeDef] {
  const leaves: Tensor[] = [];
  const visit = (node: unknown, path: string, depth = 0): TreeDef => {
    if (depth > MAX_TREE_DEPTH) {
      throw new ValueError('pytree', `nesting deeper than ${MAX_TREE_DEPTH} levels at ${path.slice(0, 40)}…`);
    }
    if (node instanceof Tensor) {
      leaves.push(node);
      return { kind: 'leaf' };
    }
    if (Array.isArray(node))
      return { kind: 'array', children: node.map((child, i) => visit(child, `${path}[${i}]`, depth + 1)) };
    if (typeof node === 'object' && node !== null) {
      if (!isPlainObject(node)) {
        throw new ValueError(
          'pytree',
          `unsupported ${describe(node)} at ${path || 'the root'}; use Tensors, arrays and plain objects`,
        );
      }
      const keys = Object.keys(node);
      return { kind: 'object', keys, children: keys.map((k) => visit(node[k], `${path}.${k}`, depth + 1)) };
    }
    return { kind: 'static', value: node };
  };
  const def = visit(tree, '');
  return [leaves, def];
}

/** The tensors of `tree`, in `treeFlatten` order. */
export function treeLeaves(tree: unknown): Tensor[] {
  return treeFlatten(tree)[0];
}

/** How many leaves a structure holds. */
export function treeSize(def: TreeDef): number {
  checkTreeDef('treeSize', def);
  if (def.kind === 'leaf') return 1;
  if (def.kind === 'static') return 0;
  return def.children.reduce((n, child) => n + treeSize(child), 0);
}

/** Rebuilds a tree of structure `def` with `leaves` in place of its tensors. */
export function treeUnflatten<L>(def: TreeDef, leaves: readonly L[]): Tree<L> {
  checkTreeDef('treeUnflatten', def);
  if (!Array.isArray(leaves)) throw new ValueError('treeUnflatten', 'the leaves must be a list');
  const expected = treeSize(def);
  if (leaves.length !== expected)
    throw new ValueError('treeUnflatten', `the structure has ${expected} leaves, got ${leaves.length}`);
  let next = 0;
  const build = (node: TreeDef): Tree<L> => {
    switch (node.kind) {
      case 'leaf':
        return leaves[next++];
      case 'static':
        return node.value as Static;
      case 'array':
        return node.children.map(build);
      case 'object':
        return Object.fromEntries(node.keys.map((k, i) => [k, build(node.children[i])]));
    }
  };
  return build(def);
}

/** Rebuilds consecutive trees of structures `defs` from one flat list of leaves. */
export function treeUnflattenAll<L>(defs: readonly TreeDef[], leaves: readonly L[]): Tree<L>[] {
  if (!Array.isArray(defs) || !Array.isArray(leaves)) {
    throw new ValueError('treeUnflattenAll', 'the structures and the leaves must be lists');
  }
  const sizes = defs.map(treeSize);
  const total = sizes.reduce((a, b) => a + b, 0);
  if (leaves.length !== total)
    throw new ValueError('treeUnflattenAll', `the structures have ${total} leaves, got ${leaves.length}`);
  const starts = sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a + b, 0));
  return defs.map((def, i) => treeUnflatten(def, leaves.slice(starts[i], starts[i] + sizes[i])));
}

/** Paths of the leaves, in `treeFlatten` order, like `[0].w` or `.layers[1].bias` (root: ''). */
export function treePaths(def: TreeDef, prefix = ''): string[] {
  checkTreeDef('treePaths', def);
  switch (def.kind) {
    case 'leaf':
      return [prefix];
    case 'static':
      return [];
    case 'array':
      return def.children.flatMap((child, i) => treePaths(child, `${prefix}[${i}]`));
    case 'object':
      return def.children.flatMap((child, i) => treePaths(child, `${prefix}.${def.keys[i]}`));
  }
}

/**
 * Applies `fn` to every tensor of `tree` (and the tensors at the same places of `rest`, which
 * must have the same structure), keeping the structure.
 */
export function treeMap<L>(
  fn: (leaf: Tensor, ...rest: Tensor[]) => L,
  tree: unknown,
  ...rest: unknown[]
): Tree<L> {
  checkFunction('treeMap', fn);
  const [leaves, def] = treeFlatten(tree);
  const others = rest.map((other, j) => {
    const [otherLeaves, otherDef] = treeFlatten(other);
    if (!sameStructure(def, otherDef))
      throw new ValueError('treeMap', `tree ${j + 1} does not have the structure of the first tree`);
    return otherLeaves;
  });
  return treeUnflatten(
    def,
    leaves.map((leaf, i) => fn(leaf, ...others.map((o) => o[i]))),
  );
}

/** Whether two structures have the same containers and leaf positions (static values may differ). */
export function sameStructure(a: TreeDef, b: TreeDef): boolean {
  checkTreeDef('sameStructure', a);
  checkTreeDef('sameStructure', b);
  if (a.kind === 'static' || b.kind === 'static') return a.kind === b.kind;
  if (a.kind !== b.kind) return false;
  if (a.kind === 'leaf') return true;
  const other = b as typeof a;
  if (a.children.length !== other.children.length) return false;
  if (a.kind === 'object' && a.keys.some((k, i) => k !== (other as typeof a).keys[i])) return false;
  return a.children.every((child, i) => sameStructure(child, other.children[i]));
}
