import {
  type AnyKernel,
  type Backend,
  contiguousStrides,
  type DType,
  NDArray,
  runPrimitive,
  ValueError,
} from '@tsgrad/tensor';
import { type BufferPlan, planBuffers } from './buffers.js';
import { checkBackend, checkFlags, checkFunction, checkGraph } from './check.js';
import { GraphInvariantError, type PlanEquation, type PlanGraph } from './graph.js';

// The executor replays a graph on a real backend as a tight loop of kernel calls. Everything
// per equation is built once, at compile time: the kernel, its params and the view objects it
// reads and writes, bound into one call (which the backend may prepare, see Backend.prepare). A call only points the views of input and output cells at that call's
// buffers, so it allocates one array per output, not one per equation.

interface MutableView {
  handle: unknown;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
}

/** One equation's kernel call on its views, prepared by the backend where it can. */
function boundCall(backend: Backend, eq: PlanEquation, outs: MutableView[], ins: MutableView[]) {
  if (eq.primitive === 'fused') {
    if (!backend.fused) throw new ValueError('jit', `the ${backend.name} backend has no fused kernels`);
    return backend.fused.prepare(eq.params, outs, ins);
  }
  const { primitive, params } = eq;
  const prepared = backend.prepare?.(primitive, outs, ins, params);
  if (prepared) return prepared;
  const kernel = backend.kernels[primitive] as unknown as AnyKernel;
  return () => kernel(outs, ins, params);
}

/** The kernel's input form: non-strided kernels need packed arrays (see runPrimitive). */
function packed(x: NDArray): NDArray {
  if (x.isContiguous && x.offset === 0 && x.storage.size === x.size) return x;
  return runPrimitive('copy', [x], {}, [{ shape: x.shape, dtype: x.dtype }])[0];
}

/** What a compiled plan holds. */
export interface ExecutableStats {
  /** The number of kernel calls per run. */
  readonly equations: number;
  /** Cells allocated once for the plan (intermediates), and their total size in bytes. */
  readonly workspaceCells: number;
  /** The total size of the workspace cells, in bytes. */
  readonly workspaceBytes: number;
  /** Fused elementwise kernels among the equations. */
  readonly fused: number;
}

const BYTES: Record<DType, number> = { float32: 4, float64: 8, int32: 4, bool: 1 };

/** Time spent in plan kernels while `profileKernels` runs (null: not profiling). */
let kernelClock: { ms: number } | null = null;

/**
 * Runs `fn` and measures the time every compiled plan it replays spends inside kernel calls
 * (the rest of a step is overhead: the executor, argument handling, eager code around it).
 * Timing each call costs about a microsecond, so profile separately from timing.
 */
export function profileKernels<R>(fn: () => R): { readonly result: R; readonly kernelMs: number } {
  checkFunction('profileKernels', 'fn', fn);
  const clock = { ms: 0 };
  const outer = kernelClock;
  kernelClock = clock;
  try {
    return { result: fn(), kernelMs: clock.ms };
  } finally {
    kernelClock = outer;
  }
}

/** A compiled graph: `run(inputs)` returns the outputs as new arrays. */
export class Executable {
  private readonly calls: (() => void)[] = [];
  /** Arrays of workspace and constant cells (null for per-call cells). */
  private readonly fixed: (NDArray | null)[];
  private readonly viewsOfCell: MutableView[][];
  private readonly inputCells: { cell: number; index: number }[] = [];
  private readonly outputCells: number[] = [];
  private readonly plan: BufferPlan;
  /** The size of the plan. */
  readonly stats: ExecutableStats;

  constructor(
    /** The graph the plan runs. */
    readonly graph: PlanGraph,
    /** The backend whose kernels the plan calls. */
    readonly backend: Backend,
    donated: readonly boolean[] = [],
  ) {
    checkGraph('Executable', graph);
    checkBackend('Executable', backend);
    checkFlags('Executable', 'donated', donated);
    this.plan = planBuffers(graph, donated);
    const { cells, cellOf } = this.plan;
    this.viewsOfCell = cells.map(() => []);
    let workspaceBytes = 0;
    this.fixed = cells.map((cell, i) => {
      switch (cell.kind.kind) {
        case 'workspace':
          workspaceBytes += cell.size * BYTES[cell.dtype];
          return NDArray.uninitialized(backend, cell.dtype, [cell.size]);
        case 'constant': {
          const source = graph.buffers[cell.kind.buffer].source;
          if (source.kind !== 'constant')
            throw new GraphInvariantError('jit', 'a constant cell without data');
          return NDArray.fromTyped(backend, cell.dtype, [cell.size], source.data);
        }
        case 'input':
          this.inputCells.push({ cell: i, index: cell.kind.index });
          return null;
        case 'output':
          this.outputCells.push(i);
          return null;
        default:
          return null;
      }
    });
    let fused = 0;
    const { equations, buffers } = graph;
    // Plain loops, no per-view closure or reference object: this runs once per equation of a
    // first, cold compile.
    for (let i = 0; i < equations.length; i++) {
      const eq = equations[i];
      // Kernels never see empty outputs (as in runPrimitive).
      let empty = eq.outputs.length > 0;
      // Arrays made at their length (a push would give each room for 16).
      const outs = new Array<MutableView>(eq.outputs.length);
      for (let j = 0; j < eq.outputs.length; j++) {
        const id = eq.outputs[j];
        const b = buffers[id];
        if (b.size !== 0) empty = false;
        outs[j] = this.viewOf(cellOf[id], b.shape, contiguousStrides(b.shape), 0);
      }
      if (empty) continue;
      const ins = new Array<MutableView>(eq.inputs.length);
      for (let j = 0; j < eq.inputs.length; j++) {
        const { buffer, shape, strides, offset } = eq.inputs[j];
        ins[j] = this.viewOf(cellOf[buffer], shape, strides, offset);
      }
      this.calls.push(boundCall(backend, eq, outs, ins));
      if (eq.primitive === 'fused') fused++;
    }
    this.stats = {
      equations: this.calls.length,
      workspaceCells: cells.filter((c) => c.kind.kind === 'workspace').length,
      workspaceBytes,
      fused,
    };
  }

  /** A view of `cell` for one kernel call, pointed at the cell's array on each run. */
  private viewOf(
    cell: number,
    shape: readonly number[],
    strides: readonly number[],
    offset: number,
  ): MutableView {
    const fixed = this.fixed[cell];
    const view: MutableView = {
      handle: fixed?.storage.handle ?? null,
      dtype: this.plan.cells[cell].dtype,
      shape,
      strides,
      offset,
    };
    // Only input and output cells are pointed at a call's arrays (`point`); the rest keep theirs.
    if (fixed === null) this.viewsOfCell[cell].push(view);
    return view;
  }

  private point(cell: number, handle: unknown): void {
    const views = this.viewsOfCell[cell];
    for (let i = 0; i < views.length; i++) views[i].handle = handle;
  }

  /**
   * Runs the plan on `inputs` (in the graph's input order, with the traced shapes and dtypes) and returns the
   * outputs as new arrays.
   */
  run(inputs: readonly NDArray[]): NDArray[] {
    const { graph, backend } = this;
    if (inputs.length !== graph.inputs.length) {
      throw new ValueError('jit', `expected ${graph.inputs.length} input arrays, got ${inputs.length}`);
    }
    const ready = inputs.map((x) => {
      x.assertLive('jit');
      if (x.backend !== backend) {
        throw new ValueError(
          'jit',
          `an input lives on the ${x.backend.name} backend, the plan on ${backend.name}`,
        );
      }
      return packed(x);
    });
    const cellArrays = this.fixed.slice();
    for (const { cell, index } of this.inputCells) {
      cellArrays[cell] = ready[index];
      this.point(cell, ready[index].storage.handle);
    }
    const { cells } = this.plan;
    for (const cell of this.outputCells) {
      const array = NDArray.uninitialized(backend, cells[cell].dtype, [cells[cell].size]);
      cellArrays[cell] = array;
      this.point(cell, array.storage.handle);
    }
    const { calls } = this;
    if (kernelClock === null) {
      for (let i = 0; i < calls.length; i++) calls[i]();
    } else {
      for (let i = 0; i < calls.length; i++) {
        const start = performance.now();
        calls[i]();
        kernelClock.ms += performance.now() - start;
      }
    }
    const results = graph.outputs.map((ref) => {
      const base = cellArrays[this.plan.cellOf[ref.buffer]] as NDArray;
      return NDArray.view(base, ref.shape, ref.strides, ref.offset, 'jit');
    });
    for (const cell of this.outputCells) cellArrays[cell]?.dispose();
    ready.forEach((x, i) => {
      if (x !== inputs[i]) x.dispose();
    });
    return results;
  }

  /** Frees the plan's workspace and constants now (else the garbage collector does). */
  dispose(): void {
    for (const array of this.fixed) array?.dispose();
  }
}
