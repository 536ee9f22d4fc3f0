import {
  type Backend,
  BINARY_PRIMITIVES,
  type DType,
  type FusedOp,
  type FusedProgram,
  type FusedStep,
  type Primitive,
  UNARY_PRIMITIVES,
} from '@tsgrad/tensor';
import {
  type Equation,
  type Graph,
  isWholeView,
  type PlanEquation,
  type PlanGraph,
  type ViewRef,
} from '../graph.js';

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

const isFloat = (d: DType) => d === 'float32' || d === 'float64';

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
  /** Read by an equation outside the group: its position is fixed, nothing may join. */
  sealed: boolean;
  /** Merged into another group. */
  mergedInto: Group | null;
}

/** Most equations one kernel takes (a longer chain continues in the next kernel). */
const MAX_MEMBERS = 4096;

function root(g: Group): Group {
  let r = g;
  while (r.mergedInto) r = r.mergedInto;
  return r;
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

/** Groups equations into fusible chains; returns each equation's group (or null). */
function groupEquations(g: Graph, backend: Backend): (Group | null)[] {
  const fused = backend.fused;
  const groupOfBuffer = new Array<Group | null>(g.buffers.length).fill(null);
  const groupOfEquation: (Group | null)[] = [];
  for (const eq of g.equations) {
    let own = fusibleDtype(g, eq);
    if (own !== null && !fused?.supports(singleProgram(g, eq))) own = null;
    let dtype = own;
    const shape = g.buffers[eq.outputs[0]]?.shape ?? [];
    const joins = new Set<Group>();
    for (const v of eq.inputs) {
      const producer = groupOfBuffer[v.buffer];
      if (producer === null) continue;
      const group = root(producer);
      const together = dtype === null ? null : joint(group.dtype, dtype);
      const aligned =
        isWholeView(v, g.buffers[v.buffer]) &&
        sameShape(v.shape, group.shape) &&
        sameShape(group.shape, shape);
      if (group.sealed || together === null || !aligned) group.sealed = true;
      else {
        joins.add(group);
        dtype = together;
      }
    }
    // Reading a group both in step and through another view: it must be written out first.
    if ([...joins].some((group) => group.sealed)) {
      for (const group of joins) group.sealed = true;
      joins.clear();
      dtype = own;
    }
    if (dtype === null) {
      groupOfEquation.push(null);
      continue;
    }
    // Merge into the largest group (so that a long chain is not copied at every step).
    let group: Group = { members: [], shape, dtype, sealed: false, mergedInto: null };
    for (const other of joins) if (other.members.length > group.members.length) group = other;
    group.dtype = dtype;
    for (const other of joins) {
      if (other === group) continue;
      for (const m of other.members) group.members.push(m);
      other.mergedInto = group;
    }
    group.members.push(groupOfEquation.length);
    if (group.members.length >= MAX_MEMBERS) group.sealed = true;
    groupOfEquation.push(group);
    groupOfBuffer[eq.outputs[0]] = group;
  }
  return groupOfEquation.map((group) => (group ? root(group) : null));
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
 * where `backend` supports them. An intermediate read elsewhere becomes an extra output. A
 * chain stops growing once an equation outside it reads it, so each fused equation can run
 * where its last member ran.
 */
export function fuseElementwise(g: Graph, backend: Backend): PlanGraph {
  if (backend.fused === undefined) return g;
  const groups = groupEquations(g, backend);
  const groupOfBuffer = new Map<number, Group>();
  g.equations.forEach((eq, i) => {
    const group = groups[i];
    if (group) groupOfBuffer.set(eq.outputs[0], group);
  });
  const outside = new Set<number>(g.outputs.map((v) => v.buffer));
  g.equations.forEach((eq, i) => {
    for (const v of eq.inputs)
      if (groupOfBuffer.has(v.buffer) && groupOfBuffer.get(v.buffer) !== groups[i]) outside.add(v.buffer);
  });
  const equations: PlanEquation[] = [];
  g.equations.forEach((eq, i) => {
    const group = groups[i];
    if (group === null || group.members.length < 2) equations.push(eq);
    else if (group.members[group.members.length - 1] === i) {
      const members = [...group.members].sort((a, b) => a - b).map((m) => g.equations[m]);
      equations.push(fusedEquation(g, members, (id) => outside.has(id)));
    }
  });
  return { ...g, equations };
}
