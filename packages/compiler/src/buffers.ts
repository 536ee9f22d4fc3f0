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
  const { equations, outputs } = g;
  for (let i = 0; i < equations.length; i++) {
    const { inputs } = equations[i];
    for (let j = 0; j < inputs.length; j++) last[inputs[j].buffer] = i;
  }
  for (let j = 0; j < outputs.length; j++) last[outputs[j].buffer] = Number.POSITIVE_INFINITY;
  return last;
}

/** Free cells by dtype, then size (numbers, not `dtype:size` strings: the planner looks one up per buffer). */
class CellPool {
  private readonly byDType = new Map<DType, Map<number, number[]>>();

  take(dtype: DType, size: number): number | undefined {
    return this.byDType.get(dtype)?.get(size)?.pop();
  }

  put(dtype: DType, size: number, cell: number): void {
    let bySize = this.byDType.get(dtype);
    if (bySize === undefined) {
      bySize = new Map();
      this.byDType.set(dtype, bySize);
    }
    const list = bySize.get(size);
    if (list === undefined) bySize.set(size, [cell]);
    else list.push(cell);
  }
}

/**
 * Assigns each buffer of `g` a cell by liveness: intermediates share cells once dead, and a donated input
 * (`donated[i]`) lends its memory to a buffer of the same dtype and size.
 */
export function planBuffers(g: PlanGraph, donated: readonly boolean[] = []): BufferPlan {
  checkGraph('planBuffers', g);
  checkFlags('planBuffers', 'donated', donated);
  const { buffers, equations } = g;
  const cells: Cell[] = [];
  const cellOf = new Int32Array(buffers.length).fill(-1);
  const last = lastUses(g);
  const isOutput = new Uint8Array(buffers.length);
  for (let j = 0; j < g.outputs.length; j++) isOutput[g.outputs[j].buffer] = 1;
  /** Dead cells, ready for reuse. */
  const free = new CellPool();
  /** Donated input cells that are free (outputs may take them). */
  const freeDonated = new CellPool();
  // By cell number (a cell is made for one buffer, so there are at most as many as buffers).
  const reusable = new Uint8Array(buffers.length);

  const newCell = (cell: Cell) => {
    cells.push(cell);
    return cells.length - 1;
  };
  const release = (cell: number) => {
    if (reusable[cell] === 0) return;
    const c = cells[cell];
    (c.kind.kind === 'input' ? freeDonated : free).put(c.dtype, c.size, cell);
  };

  for (const id of g.inputs) {
    const b = buffers[id];
    if (b.source.kind !== 'input') continue;
    cellOf[id] = newCell({ dtype: b.dtype, size: b.size, kind: { kind: 'input', index: b.source.index } });
    if (donated[b.source.index]) {
      reusable[cellOf[id]] = 1;
      if (last[id] < 0) release(cellOf[id]);
    }
  }
  for (const b of buffers) {
    if (b.source.kind === 'constant' && last[b.id] !== -1) {
      cellOf[b.id] = newCell({ dtype: b.dtype, size: b.size, kind: { kind: 'constant', buffer: b.id } });
    }
  }

  for (let i = 0; i < equations.length; i++) {
    const { inputs, outputs } = equations[i];
    for (let j = 0; j < outputs.length; j++) {
      const out = outputs[j];
      const { dtype, size } = buffers[out];
      if (isOutput[out]) {
        cellOf[out] = freeDonated.take(dtype, size) ?? newCell({ dtype, size, kind: { kind: 'output' } });
      } else {
        cellOf[out] =
          free.take(dtype, size) ??
          freeDonated.take(dtype, size) ??
          newCell({ dtype, size, kind: { kind: 'workspace' } });
        reusable[cellOf[out]] = 1;
      }
    }
    for (let j = 0; j < inputs.length; j++) {
      const { buffer } = inputs[j];
      if (last[buffer] === i) {
        last[buffer] = -2; // released once, even when read twice
        release(cellOf[buffer]);
      }
    }
    for (let j = 0; j < outputs.length; j++) if (last[outputs[j]] === -1) release(cellOf[outputs[j]]);
  }
  return { cells, cellOf };
}
