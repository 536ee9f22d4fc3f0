import {
  type Backend,
  BINARY_PRIMITIVES,
  type DType,
  type FusedOp,
  type FusedProgram,
  type FusedStep,
  isFloat,
  type Primitive,
  UNARY_PRIMITIVES,
} from '@tsgrad/tensor';
import { checkBackend, checkGraph, trust } from '../check.js';
import type { Equation, Graph, PlanEquation, PlanGraph, ViewRef } from '../graph.js';
import { readsWhole } from '../ir.js';

// Elementwise fusion: chains of elementwise equations over one shape become one kernel that
// reads each input once and writes only what the rest of the plan reads. Intermediates live
// in registers, not memory. Runs last, in the compile pipeline only, and only on a backend
// with fused kernels (Backend.fused), for the programs that backend supports.

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

/** Whether float dtypes a and b ('bool': none yet) can share a kernel; returns the joint one. */
function joint(a: DType, b: DType): DType | null {
  if (a === 'bool') return b;
  if (b === 'bool' || a === b) return a;
  return null;
}

const sameShape = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((d, i) => d === b[i]);

/** A constant read as one value at every element (a scalar broadcast), or undefined. */
function scalarConstant(g: Graph, v: ViewRef): number | undefined {
  const source = g.buffers[v.buffer].source;
  if (source.kind !== 'constant') return undefined;
  const broadcast = v.shape.every((d, i) => d === 1 || v.strides[i] === 0);
  return broadcast ? source.data[v.offset] : undefined;
}

interface Group {
  readonly members: number[];
  readonly shape: readonly number[];
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

/** The one-equation program of `eq`, to ask the backend whether it supports the op. */
function singleProgram(g: Graph, eq: Equation): FusedProgram {
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

/**
 * Groups equations into fusible chains; returns each equation's group (or null). An equation
 * joins the groups of the inputs it reads element for element, unless a group also reaches it
 * through an equation outside (a reduction, a matmul, a shifted view of it): that group must
 * be written out before.
 */
function groupEquations(g: Graph, backend: Backend): (Group | null)[] {
  const fused = backend.fused;
  const groupOfBuffer = new Array<Group | null>(g.buffers.length).fill(null);
  /** For buffers made outside any group: the groups they depend on. */
  const viaOfBuffer = new Array<Set<Group> | null>(g.buffers.length);
  const via = (id: number): Set<Group> | null => {
    const group = groupOfBuffer[id];
    return group ? root(group).via : (viaOfBuffer[id] ?? new Set());
  };
  const groupOfEquation: (Group | null)[] = [];
  g.equations.forEach((eq, index) => {
    let dtype = fusibleDtype(g, eq);
    if (dtype !== null && !fused?.supports(singleProgram(g, eq))) dtype = null;
    const shape = g.buffers[eq.outputs[0]]?.shape ?? [];
    // What the equation depends on through outside paths, and the groups it could join.
    let blocked: Set<Group> | null = new Set();
    const candidates = new Set<Group>();
    for (const v of eq.inputs) {
      blocked = addVia(blocked, via(v.buffer));
      const producer = groupOfBuffer[v.buffer];
      if (producer === null) continue;
      const group = root(producer);
      const aligned =
        readsWhole(v, g.buffers[v.buffer]) &&
        sameShape(v.shape, group.shape) &&
        sameShape(group.shape, shape);
      if (dtype !== null && aligned && group.members.length < MAX_MEMBERS) candidates.add(group);
      else blocked = addVia(blocked, [group]);
    }
    const joins: Group[] = [];
    if (dtype !== null && blocked !== null) {
      for (const group of candidates) {
        const together = joint(group.dtype, dtype as DType);
        if (blocked.has(group) || together === null) continue;
        joins.push(group);
        dtype = together;
      }
    }
    const notJoined = [...candidates].filter((c) => !joins.includes(c));
    const reached = addVia(blocked, notJoined);
    if (dtype === null) {
      groupOfEquation.push(null);
      for (const out of eq.outputs) viaOfBuffer[out] = reached;
      return;
    }
    // Merge into the largest group (so that a long chain is not copied at every step).
    let group: Group = { members: [], shape, dtype, via: new Set(), mergedInto: null };
    for (const other of joins) if (other.members.length > group.members.length) group = other;
    group.dtype = dtype;
    for (const other of joins) {
      if (other === group) continue;
      for (const m of other.members) group.members.push(m);
      other.mergedInto = group;
    }
    group.via = addVia(group.via, reached);
    group.members.push(index);
    groupOfEquation.push(group);
    groupOfBuffer[eq.outputs[0]] = group;
  });
  return groupOfEquation.map((group) => (group ? root(group) : null));
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

/** The fused equation of a group's members (in graph order), writing what `readOutside` says is read elsewhere. */
function fusedEquation(
  g: Graph,
  members: readonly Equation[],
  readOutside: (id: number) => boolean,
): PlanEquation {
  const steps: FusedStep[] = [];
  const inputs: ViewRef[] = [];
  const stepOfView = new Map<string, number>();
  const stepOfBuffer = new Map<number, number>();
  const operand = (v: ViewRef): number => {
    const internal = stepOfBuffer.get(v.buffer);
    if (internal !== undefined) return internal;
    const key = viewKey(v);
    let step = stepOfView.get(key);
    if (step === undefined) {
      const dtype = g.buffers[v.buffer].dtype;
      const value = scalarConstant(g, v);
      if (value !== undefined) steps.push({ kind: 'constant', value, dtype });
      else steps.push({ kind: 'input', input: inputs.push(v) - 1, dtype });
      step = steps.length - 1;
      stepOfView.set(key, step);
    }
    return step;
  };
  const outputs: number[] = [];
  const outputSteps: number[] = [];
  for (const eq of members) {
    const args = eq.inputs.map(operand);
    const out = eq.outputs[0];
    steps.push({ kind: 'op', op: eq.primitive as FusedOp, args, dtype: g.buffers[out].dtype });
    stepOfBuffer.set(out, steps.length - 1);
    if (readOutside(out)) {
      outputs.push(out);
      outputSteps.push(steps.length - 1);
    }
  }
  return { primitive: 'fused', params: { steps, outputs: outputSteps }, inputs, outputs };
}

/**
 * Fuses chains of elementwise equations (unary, binary, where, cast; broadcast and strided
 * inputs; scalar constants inline) of one shape and one float dtype into fused equations,
 * where `backend` supports them. An intermediate read elsewhere becomes an extra output.
 */
export function fuseElementwise(g: Graph, backend: Backend): PlanGraph {
  checkGraph('fuseElementwise', g);
  checkBackend('fuseElementwise', backend);
  if (backend.fused === undefined) return g;
  const groups = groupEquations(g, backend);
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
      return fusedEquation(
        g,
        members.map((m) => g.equations[m]),
        (id) => outside.has(id),
      );
    });
    return trust({ ...g, equations });
  }
}
