import {
  type Backend,
  BINARY_PRIMITIVES,
  type DType,
  type FusedOp,
  type FusedProgram,
  type FusedReduceOp,
  type FusedStep,
  isFloat,
  type Primitive,
  UNARY_PRIMITIVES,
} from '@tsgrad/tensor';
import { checkBackend, checkGraph, trust } from '../check.js';
import type { Equation, Graph, PlanEquation, PlanGraph, ViewRef } from '../graph.js';
import { readsWhole, sameNumbers } from '../ir.js';
import { fuseConvEpilogues } from './epilogue.js';
import { transposeMatmulOutputs } from './transpose-matmul.js';

// Elementwise fusion: chains of elementwise equations over one shape become one kernel that
// reads each input once and writes only what the rest of the plan reads. Intermediates live
// in registers, not memory. Runs last, in the compile pipeline only, and only on a backend
// with fused kernels (Backend.fused), for the programs that backend supports.
//
// A reduction joins the chain that feeds it (its input read whole), and so do the equations
// that read its result: per row (of the reduced shape), or per element through the view that
// broadcasts it back along the reduced axes (softmax's x − max(x)). A group then holds
// element and row equations over one element shape and one set of reduced axes; the kernel
// sweeps each row's reduced axes once per reduction that later work depends on (softmax: max,
// then Σ exp, then the quotient: one kernel).

const FUSIBLE: ReadonlySet<Primitive> = new Set<Primitive>([
  ...UNARY_PRIMITIVES,
  ...BINARY_PRIMITIVES,
  'where',
  'cast',
]);

/** The float dtype an elementwise equation computes in ('bool' for logic on bools), or null if not fusible. */
function fusibleDtype(g: Graph, eq: Equation): DType | null {
  if (!FUSIBLE.has(eq.primitive) || eq.outputs.length !== 1) return null;
  const dtypes = [g.buffers[eq.outputs[0]].dtype, ...eq.inputs.map((v) => g.buffers[v.buffer].dtype)];
  if (dtypes.some((d) => d !== 'bool' && !isFloat(d))) return null;
  const floats = new Set(dtypes.filter(isFloat));
  if (floats.size > 1) return null;
  return floats.size === 1 ? [...floats][0] : 'bool';
}

const REDUCTIONS: ReadonlySet<Primitive> = new Set<Primitive>(['sum', 'prod', 'max', 'min']);

/** The float dtype of a reduction over at least one axis, or null if not fusible. */
function reducibleDtype(g: Graph, eq: Equation): DType | null {
  if (!REDUCTIONS.has(eq.primitive) || eq.outputs.length !== 1 || eq.inputs.length !== 1) return null;
  if ((eq.params as { axes: readonly number[] }).axes.length === 0) return null;
  const dtype = g.buffers[eq.outputs[0]].dtype;
  return isFloat(dtype) && g.buffers[eq.inputs[0].buffer].dtype === dtype ? dtype : null;
}

const axesOf = (eq: Equation) => (eq.params as { axes: readonly number[] }).axes;

/** Whether float dtypes a and b ('bool': none yet) can share a kernel; returns the joint one. */
function joint(a: DType, b: DType): DType | null {
  if (a === 'bool') return b;
  if (b === 'bool' || a === b) return a;
  return null;
}

/** Whether two shapes are the same but for dimensions of size 1 (a row value kept with keepdims). */
const sameSize = (a: readonly number[], b: readonly number[]) =>
  sameNumbers(
    a.filter((d) => d !== 1),
    b.filter((d) => d !== 1),
  );

/** A constant read as one value at every element (a scalar broadcast), or undefined. */
function scalarConstant(g: Graph, v: ViewRef): number | undefined {
  const source = g.buffers[v.buffer].source;
  if (source.kind !== 'constant') return undefined;
  const broadcast = v.shape.every((d, i) => d === 1 || v.strides[i] === 0);
  return broadcast ? source.data[v.offset] : undefined;
}

interface Group {
  readonly members: number[];
  /** The element shape. */
  readonly shape: readonly number[];
  /** The axes its reductions reduce (null: none yet). */
  axes: readonly number[] | null;
  dtype: DType;
  /**
   * Groups this one depends on through an equation outside it (null: too many to track, so
   * any). Joining one of them would make the two wait for each other.
   */
  via: Set<Group> | null;
  /** Merged into another group. */
  mergedInto: Group | null;
}

/** Most equations one kernel takes (a longer chain continues in the next kernel). */
const MAX_MEMBERS = 4096;
/** Most groups a `via` set tracks before it stands for all of them. */
const MAX_VIA = 256;

function root(g: Group): Group {
  let r = g;
  while (r.mergedInto) r = r.mergedInto;
  return r;
}

/** Adds `from`'s groups (as their current roots) to `into`; null stands for all groups. */
function addVia(into: Set<Group> | null, from: Iterable<Group> | null): Set<Group> | null {
  if (into === null || from === null) return null;
  for (const g of from) into.add(root(g));
  return into.size > MAX_VIA ? null : into;
}

/** The row shape of a group with reductions: its element shape without the reduced axes. */
const rowShapeOf = (group: Group) => group.shape.filter((_, d) => !group.axes?.includes(d));

/** Whether `v` reads a row buffer of `group` broadcast back to the element shape, element for element. */
function expandsRow(v: ViewRef, group: Group): boolean {
  const axes = group.axes;
  if (axes === null || v.offset !== 0 || !sameNumbers(v.shape, group.shape)) return false;
  let stride = 1;
  for (let d = v.shape.length - 1; d >= 0; d--) {
    if (axes.includes(d)) {
      if (v.strides[d] !== 0 && v.shape[d] !== 1) return false;
    } else {
      if (v.strides[d] !== stride && v.shape[d] !== 1) return false;
      stride *= v.shape[d];
    }
  }
  return true;
}

/** The one-equation program of `eq`, to ask the backend whether it supports the op. */
function singleProgram(g: Graph, eq: Equation): FusedProgram {
  if (REDUCTIONS.has(eq.primitive)) {
    const v = eq.inputs[0];
    const dtype = g.buffers[v.buffer].dtype;
    return {
      steps: [
        { kind: 'input', input: 0, dtype },
        { kind: 'reduce', op: eq.primitive as FusedReduceOp, arg: 0, dtype },
      ],
      outputs: [1],
      reduce: { shape: v.shape, axes: axesOf(eq) },
    };
  }
  const steps: FusedStep[] = eq.inputs.map((v, input) => ({
    kind: 'input',
    input,
    dtype: g.buffers[v.buffer].dtype,
  }));
  steps.push({
    kind: 'op',
    op: eq.primitive as FusedOp,
    args: eq.inputs.map((_, i) => i),
    dtype: g.buffers[eq.outputs[0]].dtype,
  });
  return { steps, outputs: [steps.length - 1] };
}

/** What `groupEquations` found: each equation's group (or null), and which equations are row equations. */
interface Grouping {
  readonly groups: (Group | null)[];
  readonly row: Uint8Array;
}

const sameAxes = (a: readonly number[] | null, b: readonly number[] | null) =>
  a === null || b === null || sameNumbers(a, b);

/**
 * Groups equations into fusible chains; returns each equation's group (or null). An equation
 * joins the groups of the inputs it reads element for element (a reduction: of the input it
 * reduces; an equation of the reduced shape: of the reductions it reads; an equation of the
 * element shape: also of reductions it reads broadcast back), unless a group also reaches it
 * through an equation outside (a matmul, a shifted view of it): that group must be written
 * out before.
 */
function groupEquations(g: Graph, backend: Backend): Grouping {
  const fused = backend.fused;
  const groupOfBuffer = new Array<Group | null>(g.buffers.length).fill(null);
  /** Buffers of the row domain of their group (reductions and what reads them per row). */
  const rowBuffer = new Uint8Array(g.buffers.length);
  const row = new Uint8Array(g.equations.length);
  /** For buffers made outside any group: the groups they depend on. */
  const viaOfBuffer = new Array<Set<Group> | null>(g.buffers.length);
  const via = (id: number): Set<Group> | null => {
    const group = groupOfBuffer[id];
    return group ? root(group).via : (viaOfBuffer[id] ?? new Set());
  };
  const groupOfEquation: (Group | null)[] = [];
  g.equations.forEach((eq, index) => {
    const reduction = reducibleDtype(g, eq);
    let dtype = reduction ?? fusibleDtype(g, eq);
    if (dtype !== null && !fused?.supports(singleProgram(g, eq))) dtype = null;
    const shape = g.buffers[eq.outputs[0]]?.shape ?? [];
    // A reduction's group has the element shape of its input; an elementwise equation's
    // group the element shape of its output, or (a row equation) its output is the group's row shape.
    const elementShape = reduction !== null ? eq.inputs[0].shape : shape;
    const axes = reduction !== null ? axesOf(eq) : null;
    // What the equation depends on through outside paths, and the groups it could join.
    let blocked: Set<Group> | null = new Set();
    const elementCandidates = new Set<Group>();
    const rowCandidates = new Set<Group>();
    const expandCandidates = new Set<Group>();
    let outsideInputs = 0;
    for (const v of eq.inputs) {
      blocked = addVia(blocked, via(v.buffer));
      const producer = groupOfBuffer[v.buffer];
      if (producer === null) {
        if (scalarConstant(g, v) === undefined) outsideInputs++;
        continue;
      }
      const group = root(producer);
      const fits = dtype !== null && group.members.length < MAX_MEMBERS;
      const whole = readsWhole(v, g.buffers[v.buffer]);
      if (!rowBuffer[v.buffer]) {
        const aligned = whole && sameNumbers(v.shape, group.shape) && sameNumbers(group.shape, elementShape);
        if (fits && aligned && sameAxes(group.axes, axes)) elementCandidates.add(group);
        else blocked = addVia(blocked, [group]);
      } else if (
        fits &&
        reduction === null &&
        whole &&
        sameSize(v.shape, shape) &&
        sameSize(rowShapeOf(group), shape)
      ) {
        rowCandidates.add(group);
      } else if (fits && reduction === null && expandsRow(v, group) && sameNumbers(group.shape, shape)) {
        expandCandidates.add(group);
      } else blocked = addVia(blocked, [group]);
    }
    // One domain: per row if it reads only row values of groups, per element otherwise (then
    // it must read something per element, or it would be a row value of the element shape).
    const isRow = rowCandidates.size > 0 && elementCandidates.size === 0 && expandCandidates.size === 0;
    const perElement = elementCandidates.size > 0 || outsideInputs > 0 || reduction !== null;
    const candidates = isRow
      ? rowCandidates
      : new Set([...elementCandidates, ...(perElement ? expandCandidates : [])]);
    const joins: Group[] = [];
    let groupShape: readonly number[] = elementShape;
    let groupAxes = axes;
    if (dtype !== null && blocked !== null) {
      for (const group of candidates) {
        const together = joint(group.dtype, dtype as DType);
        if (blocked.has(group) || together === null) continue;
        if (!sameAxes(group.axes, groupAxes) || (joins.length > 0 && !sameNumbers(group.shape, groupShape)))
          continue;
        joins.push(group);
        dtype = together;
        groupShape = group.shape;
        groupAxes = groupAxes ?? group.axes;
      }
    }
    const notJoined = [...elementCandidates, ...rowCandidates, ...expandCandidates].filter(
      (c) => !joins.includes(c),
    );
    const reached = addVia(blocked, notJoined);
    if (dtype === null) {
      groupOfEquation.push(null);
      for (const out of eq.outputs) viaOfBuffer[out] = reached;
      return;
    }
    // Merge into the largest group (so that a long chain is not copied at every step).
    let group: Group = {
      members: [],
      shape: groupShape,
      axes: null,
      dtype,
      via: new Set(),
      mergedInto: null,
    };
    for (const other of joins) if (other.members.length > group.members.length) group = other;
    group.dtype = dtype;
    group.axes = groupAxes;
    for (const other of joins) {
      if (other === group) continue;
      for (const m of other.members) group.members.push(m);
      other.mergedInto = group;
    }
    group.via = addVia(group.via, reached);
    group.members.push(index);
    groupOfEquation.push(group);
    groupOfBuffer[eq.outputs[0]] = group;
    if (reduction !== null || (isRow && joins.length > 0)) {
      rowBuffer[eq.outputs[0]] = 1;
      row[index] = 1;
    }
  });
  return { groups: groupOfEquation.map((group) => (group ? root(group) : null)), row };
}

/**
 * The plan's equations in an order where every buffer is written before it is read, with each
 * group as one unit: its members' places may have moved past equations that do not depend on
 * them. Units keep their order where they can (a depth-first order over the dependencies).
 */
function schedule(
  g: Graph,
  units: readonly (readonly number[])[],
): { order: number[] } | { cycle: number[] } {
  const unitOf = new Int32Array(g.equations.length);
  units.forEach((members, u) => {
    for (const m of members) unitOf[m] = u;
  });
  const producer = new Int32Array(g.buffers.length).fill(-1);
  g.equations.forEach((eq, i) => {
    for (const out of eq.outputs) producer[out] = unitOf[i];
  });
  const dependencies = units.map((members, u) => {
    const deps = new Set<number>();
    for (const m of members)
      for (const v of g.equations[m].inputs) {
        const p = producer[v.buffer];
        if (p >= 0 && p !== u) deps.add(p);
      }
    return [...deps];
  });
  const state = new Uint8Array(units.length); // 0 new, 1 on the stack, 2 placed
  const order: number[] = [];
  for (let start = 0; start < units.length; start++) {
    if (state[start] !== 0) continue;
    const stack: [number, number][] = [[start, 0]];
    state[start] = 1;
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      const [u, next] = top;
      if (next < dependencies[u].length) {
        top[1]++;
        const d = dependencies[u][next];
        if (state[d] === 1) return { cycle: stack.slice(stack.findIndex(([v]) => v === d)).map(([v]) => v) };
        if (state[d] === 0) {
          state[d] = 1;
          stack.push([d, 0]);
        }
      } else {
        stack.pop();
        state[u] = 2;
        order.push(u);
      }
    }
  }
  return { order };
}

const viewKey = (v: ViewRef) => `${v.buffer}:${v.shape.join(',')}:${v.strides.join(',')}:${v.offset}`;

/**
 * The fused equation of a group's members (in graph order; `row` tells the row equations),
 * writing what `readOutside` says is read elsewhere.
 */
function fusedEquation(
  g: Graph,
  members: readonly number[],
  row: Uint8Array,
  group: Group,
  readOutside: (id: number) => boolean,
): PlanEquation {
  const steps: FusedStep[] = [];
  const inputs: ViewRef[] = [];
  const stepOfView = new Map<string, number>();
  const stepOfBuffer = new Map<number, number>();
  const operand = (v: ViewRef, perRow: boolean): number => {
    const internal = stepOfBuffer.get(v.buffer);
    if (internal !== undefined) return internal;
    const key = `${perRow}|${viewKey(v)}`;
    let step = stepOfView.get(key);
    if (step === undefined) {
      const dtype = g.buffers[v.buffer].dtype;
      const value = scalarConstant(g, v);
      if (value !== undefined) steps.push({ kind: 'constant', value, dtype });
      else if (perRow) steps.push({ kind: 'input', input: inputs.push(v) - 1, dtype, row: true });
      else steps.push({ kind: 'input', input: inputs.push(v) - 1, dtype });
      step = steps.length - 1;
      stepOfView.set(key, step);
    }
    return step;
  };
  const outputs: number[] = [];
  const outputSteps: number[] = [];
  let reduces = false;
  for (const m of members) {
    const eq = g.equations[m];
    const out = eq.outputs[0];
    const dtype = g.buffers[out].dtype;
    if (REDUCTIONS.has(eq.primitive)) {
      const arg = operand(eq.inputs[0], false);
      steps.push({ kind: 'reduce', op: eq.primitive as FusedReduceOp, arg, dtype });
      reduces = true;
    } else {
      const args = eq.inputs.map((v) => operand(v, row[m] === 1));
      steps.push({ kind: 'op', op: eq.primitive as FusedOp, args, dtype });
    }
    stepOfBuffer.set(out, steps.length - 1);
    if (readOutside(out)) {
      outputs.push(out);
      outputSteps.push(steps.length - 1);
    }
  }
  const program: FusedProgram =
    reduces && group.axes !== null
      ? { steps, outputs: outputSteps, reduce: { shape: group.shape, axes: group.axes } }
      : { steps, outputs: outputSteps };
  return { primitive: 'fused', params: program, inputs, outputs };
}

/**
 * Fuses chains of elementwise equations (unary, binary, where, cast; broadcast and strided
 * inputs; scalar constants inline) of one shape and one float dtype into fused equations,
 * where `backend` supports them. An intermediate read elsewhere becomes an extra output.
 */
export function fuseElementwise(graph: Graph, backend: Backend): PlanGraph {
  checkGraph('fuseElementwise', graph);
  checkBackend('fuseElementwise', backend);
  if (backend.fused === undefined) return graph;
  const g = fuseConvEpilogues(transposeMatmulOutputs(graph), backend);
  const { groups, row } = groupEquations(g, backend);
  for (;;) {
    const groupOfBuffer = new Map<number, Group>();
    g.equations.forEach((eq, i) => {
      const group = groups[i];
      if (group) groupOfBuffer.set(eq.outputs[0], group);
    });
    const outside = new Set<number>(g.outputs.map((v) => v.buffer));
    g.equations.forEach((eq, i) => {
      for (const v of eq.inputs) {
        const producer = groupOfBuffer.get(v.buffer);
        if (producer !== undefined && producer !== groups[i]) outside.add(v.buffer);
      }
    });
    // Units: each group of two or more members, in the order of its last member; every other equation alone.
    const units: number[][] = [];
    g.equations.forEach((_, i) => {
      const group = groups[i];
      if (group === null || group.members.length < 2) units.push([i]);
      else if (group.members[group.members.length - 1] === i)
        units.push([...group.members].sort((a, b) => a - b));
    });
    const scheduled = schedule(g, units);
    if ('cycle' in scheduled) {
      // The grouping missed a path through other equations between two groups: those on the
      // cycle run unfused, and the rest is scheduled again.
      for (const u of scheduled.cycle) for (const m of units[u]) groups[m] = null;
      continue;
    }
    const equations = scheduled.order.map((u): PlanEquation => {
      const members = units[u];
      if (members.length === 1) return g.equations[members[0]];
      return fusedEquation(g, members, row, groups[members[0]] as Group, (id) => outside.has(id));
    });
    return trust({ ...g, equations });
  }
}
