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
