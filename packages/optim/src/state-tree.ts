import * as T from '@tsgrad/tensor';

// Names the leaves of one parameter's transformation state, for stateDict/loadStateDict.
// A state tree is made of records (named fields), chain tuples (arrays of subtrees),
// per-parameter lists (arrays of NDArray | null, of length one here: the object API keeps one
// state per parameter) and leaves: NDArrays, numbers, and null for an array not yet created.
// A leaf is named by its record fields joined by dots ("expAvg"); a chain tuple adds nothing
// unless two of its members use the same name, which are then prefixed by their position.

export type StateLeaf = T.NDArray | number | null;

export interface NamedLeaf {
  readonly key: string;
  readonly path: readonly (string | number)[];
  readonly value: StateLeaf;
}

interface RawLeaf {
  readonly key: readonly string[];
  readonly path: readonly (string | number)[];
  readonly value: StateLeaf;
}

const isLeaf = (x: unknown): x is StateLeaf => x === null || typeof x === 'number' || x instanceof T.NDArray;

function walk(op: string, node: unknown, path: readonly (string | number)[]): RawLeaf[] {
  if (isLeaf(node)) return [{ key: [], path, value: node }];
  if (Array.isArray(node)) {
    if (node.length > 0 && node.every((x) => x === null || x instanceof T.NDArray)) {
      if (node.length !== 1) {
        throw new T.ValueError(op, `expected the state of one parameter, got a list of ${node.length}`);
      }
      return [{ key: [], path: [...path, 0], value: node[0] as StateLeaf }];
    }
    const members = node.map((child, i) => walk(op, child, [...path, i]));
    const counts = new Map<string, number>();
    for (const leaf of members.flat()) {
      const name = leaf.key.join('.');
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    return members.flatMap((leaves, i) =>
      leaves.map((leaf) =>
        counts.get(leaf.key.join('.'))! > 1 ? { ...leaf, key: [String(i), ...leaf.key] } : leaf,
      ),
    );
  }
  if (typeof node === 'object' && node !== null && Object.getPrototypeOf(node) === Object.prototype) {
    return Object.entries(node).flatMap(([name, child]) =>
      walk(op, child, [...path, name]).map((leaf) => ({ ...leaf, key: [name, ...leaf.key] })),
    );
  }
  throw new T.ValueError(op, `cannot store a state value of type ${typeof node} at ${path.join('.')}`);
}

/** The named leaves of a state tree, in a fixed order. */
export function stateLeaves(op: string, tree: unknown): NamedLeaf[] {
  return walk(op, tree, []).map((leaf) => ({ key: leaf.key.join('.'), path: leaf.path, value: leaf.value }));
}

/** A copy of `tree` with the leaf at `path` replaced (the rest is shared). */
export function replaceLeaf(tree: unknown, path: readonly (string | number)[], value: StateLeaf): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path;
  if (Array.isArray(tree)) {
    const copy = [...tree];
    copy[head as number] = replaceLeaf(copy[head as number], rest, value);
    return copy;
  }
  const record = tree as Record<string, unknown>;
  return { ...record, [head]: replaceLeaf(record[head], rest, value) };
}

const MAX_DEPTH = 100;

/** `tree` with `fn` applied to its leaves (what is not a plain record or an array). */
function mapLeaves(op: string, tree: unknown, fn: (leaf: unknown, path: string) => unknown): unknown {
  const visit = (node: unknown, path: string, depth: number): unknown => {
    if (depth > MAX_DEPTH) throw new T.ValueError(op, `a state nested deeper than ${MAX_DEPTH} levels`);
    if (Array.isArray(node)) return node.map((child, i) => visit(child, `${path}[${i}]`, depth + 1));
    if (typeof node === 'object' && node !== null && Object.getPrototypeOf(node) === Object.prototype) {
      return Object.fromEntries(
        Object.entries(node).map(([k, child]) => [k, visit(child, `${path}.${k}`, depth + 1)]),
      );
    }
    return fn(node, path);
  };
  return visit(tree, '', 0);
}

/**
 * A transformation state with its numbers (step counts, products) as 0-d float64 arrays, the
 * form a compiled update needs: `jit` traces arrays but bakes numbers in. The transformations
 * accept either form and keep it, with the same float32 results.
 */
export function scalarsAsArrays<S>(state: S): S {
  return mapLeaves('scalarsAsArrays', state, (leaf) =>
    typeof leaf === 'number' ? T.scalar(leaf, { dtype: 'float64' }) : leaf,
  ) as S;
}

/** `tree` with a number wherever `template` has one (read from the 0-d array `tree` has there). */
export function numbersLike(op: string, template: unknown, tree: unknown): unknown {
  const numberPaths = new Set<string>();
  mapLeaves(op, template, (leaf, path) => {
    if (typeof leaf === 'number') numberPaths.add(path);
  });
  return mapLeaves(op, tree, (leaf, path) => {
    if (!numberPaths.has(path) || !(leaf instanceof T.NDArray)) return leaf;
    const value = Number(leaf.item());
    leaf.dispose();
    return value;
  });
}
