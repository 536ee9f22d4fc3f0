import type { DType } from '@tsgrad/tensor';
import { checkFlags, checkGraph } from './check.js';
import type { PlanGraph } from './graph.js';

// Liveness-based buffer planning: every buffer of the graph gets a cell, the memory it lives
// in during a call. Intermediates share cells once the earlier one is dead; an elementwise
// equation writes in place over an input that dies there; donated inputs lend their memory
// to intermediates and outputs (e.g. an optimizer's new moments over the old ones). An
// equation never writes over its own inputs: some kernels (the wasm backend's reference
// fallbacks) zero their outputs before reading the inputs.

/** Where a cell's memory comes from on each call. */
export type CellKind =
  /** Allocated once, at compile time: constants and intermediates. */
  | { readonly kind: 'workspace' }
  | { readonly kind: 'constant'; readonly buffer: number }
  /** The caller's input array `index` (donated ones may be overwritten). */
  | { readonly kind: 'input'; readonly index: number }
  /** A new array per call, handed to the caller. */
  | { readonly kind: 'output' };

/** One piece of memory of a plan, shared by buffers whose lifetimes do not overlap. */
export interface Cell {
  /** The element type of every buffer in the cell. */
  readonly dtype: DType;
  /** The number of elements: the largest buffer placed in it. */
  readonly size: number;
  /** Where the cell's memory comes from on each call. */
  readonly kind: CellKind;
}

/** Which cell each buffer of a graph lives in: what `planBuffers` returns. */
export interface BufferPlan {
  /** The cells, indexed by cell number. */
  readonly cells: readonly Cell[];
  /** The cell of every buffer id (-1 for buffers the graph does not use). */
  readonly cellOf: Int32Array;
}

/** The index of the last equation that reads each buffer (-1: none; Infinity: a graph output). */
export function lastUses(g: PlanGraph): Float64Array {
  checkGraph('lastUses', g);
  const last = new Float64Array(g.buffers.length).fill(-1);
  g.equations.forEach((eq, i) => {
    for (const v of eq.inputs) last[v.buffer] = i;
  });
  for (const v of g.outputs) last[v.buffer] = Number.POSITIVE_INFINITY;
  return last;
}

/**
 * Assigns each buffer of `g` a cell by liveness: intermediates share cells once dead, and a donated input
 * (`donated[i]`) lends its memory to a buffer of the same dtype and size.
 */
export function planBuffers(g: PlanGraph, donated: readonly boolean[] = []): BufferPlan {
  checkGraph('planBuffers', g);
  checkFlags('planBuffers', 'donated', donated);
  const cells: Cell[] = [];
  const cellOf = new Int32Array(g.buffers.length).fill(-1);
  const last = lastUses(g);
  const isOutput = new Uint8Array(g.buffers.length);
  for (const v of g.outputs) isOutput[v.buffer] = 1;
  /** Dead cells by `dtype:size`, ready for reuse. */
  const free = new Map<string, number[]>();
  const keyOf = (c: { dtype: DType; size: number }) => `${c.dtype}:${c.size}`;
  /** Donated input cells that are free, by `dtype:size` (outputs may take them). */
  const freeDonated = new Map<string, number[]>();
  const reusable = new Set<number>();

  const newCell = (cell: Cell) => {
    cells.push(cell);
    return cells.length - 1;
  };
  const release = (cell: number) => {
    if (!reusable.has(cell)) return;
    const c = cells[cell];
    const pool = c.kind.kind === 'input' ? freeDonated : free;
    const list = pool.get(keyOf(c)) ?? [];
    list.push(cell);
    pool.set(keyOf(c), list);
  };

  for (const id of g.inputs) {
    const b = g.buffers[id];
    if (b.source.kind !== 'input') continue;
    cellOf[id] = newCell({ dtype: b.dtype, size: b.size, kind: { kind: 'input', index: b.source.index } });
    if (donated[b.source.index]) {
      reusable.add(cellOf[id]);
      if (last[id] < 0) release(cellOf[id]);
    }
  }
  for (const b of g.buffers) {
    if (b.source.kind === 'constant' && last[b.id] !== -1) {
      cellOf[b.id] = newCell({ dtype: b.dtype, size: b.size, kind: { kind: 'constant', buffer: b.id } });
    }
  }

  g.equations.forEach((eq, i) => {
    for (const out of eq.outputs) {
      const b = g.buffers[out];
      const key = keyOf(b);
      if (isOutput[out]) {
        cellOf[out] =
          freeDonated.get(key)?.pop() ?? newCell({ dtype: b.dtype, size: b.size, kind: { kind: 'output' } });
      } else {
        cellOf[out] =
          free.get(key)?.pop() ??
          freeDonated.get(key)?.pop() ??
          newCell({ dtype: b.dtype, size: b.size, kind: { kind: 'workspace' } });
        reusable.add(cellOf[out]);
      }
    }
    for (const v of eq.inputs) {
      if (last[v.buffer] === i) {
        last[v.buffer] = -2; // released once, even when read twice
        release(cellOf[v.buffer]);
      }
    }
    for (const out of eq.outputs) if (last[out] === -1) release(cellOf[out]);
  });
  return { cells, cellOf };
}
