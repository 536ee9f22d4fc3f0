import type { DType, FusedProgram, TypedArray } from '@tsgrad/tensor';
import { checkGraph, checkView } from './check.js';
import {
  type BufferInfo,
  type Equation,
  type Graph,
  type PlanGraph,
  readsWhole,
  type ViewRef,
} from './ir.js';

// The IR's types (ir.ts) and its readable text form, one equation a line like a printed jaxpr.

export {
  type BufferInfo,
  type BufferSource,
  type Equation,
  type FusedEquation,
  type Graph,
  GraphInvariantError,
  type PlanEquation,
  type PlanGraph,
  type ViewRef,
} from './ir.js';

const SHORT: Record<DType, string> = { float32: 'f32', float64: 'f64', int32: 'i32', bool: 'bool' };

/** a, b, …, z, ba, bb, … (spreadsheet-like names, as a jaxpr's). */
function bufferName(id: number): string {
  let name = '';
  let n = id;
  do {
    name = String.fromCharCode(97 + (n % 26)) + name;
    n = Math.floor(n / 26);
  } while (n > 0);
  return name;
}

const typeOf = (b: BufferInfo) => `${SHORT[b.dtype]}[${b.shape.join(',')}]`;

/** Whether `v` reads its whole buffer in order, as a buffer of `v.shape`. */
export function isWholeView(v: ViewRef, buffer: BufferInfo): boolean {
  checkView('isWholeView', 'the view', v, [buffer], 0);
  return readsWhole(v, buffer);
}

function viewText(g: PlanGraph, v: ViewRef): string {
  const b = g.buffers[v.buffer];
  const name = bufferName(v.buffer);
  if (readsWhole(v, b) && v.shape.length === b.shape.length && v.shape.every((d, i) => d === b.shape[i]))
    return name;
  if (readsWhole(v, b)) return `${name}.reshape([${v.shape.join(',')}])`;
  const offset = v.offset === 0 ? '' : ` +${v.offset}`;
  return `${name}.view([${v.shape.join(',')}] strides [${v.strides.join(',')}]${offset})`;
}

/** A fused program as `{ t3 = exp(in0); t4 = mul(t3, in0) → t4 }` (reductions: `t5 = sum[axes=[1]](t4)`). */
function fusedText(p: FusedProgram): string {
  const name = (i: number) => {
    const s = p.steps[i];
    return s.kind === 'input' ? `in${s.input}` : s.kind === 'constant' ? String(s.value) : `t${i}`;
  };
  const lines = p.steps.flatMap((s, i) => {
    if (s.kind === 'op') return [`t${i} = ${s.op}(${s.args.map(name).join(', ')})`];
    if (s.kind === 'reduce')
      return [`t${i} = ${s.op}[axes=${JSON.stringify(p.reduce?.axes)}](${name(s.arg)})`];
    return [];
  });
  return `{ ${lines.join('; ')} → ${p.outputs.map(name).join(', ')} }`;
}

function paramsText(params: unknown): string {
  if (params === null || typeof params !== 'object' || Object.keys(params).length === 0) return '';
  const parts = Object.entries(params as Record<string, unknown>).map(
    ([k, v]) => `${k}=${JSON.stringify(v)}`,
  );
  return `[${parts.join(' ')}]`;
}

function constantText(data: TypedArray): string {
  const values = Array.from(data.subarray(0, 6), (v) => String(v));
  return `${values.join(', ')}${data.length > 6 ? ', …' : ''}`;
}

/** The readable form of a graph, one equation a line, like a printed jaxpr. */
export function graphText(g: PlanGraph): string {
  checkGraph('graphText', g);
  const used = usedConstants(g);
  const lines = [
    `{ lambda ${g.inputs.map((id) => `${bufferName(id)}:${typeOf(g.buffers[id])}`).join(' ')} .`,
  ];
  for (const id of used) {
    const b = g.buffers[id];
    if (b.source.kind === 'constant')
      lines.push(`  const ${bufferName(id)}:${typeOf(b)} = [${constantText(b.source.data)}]`);
  }
  lines.push('  let');
  for (const eq of g.equations) {
    const outs = eq.outputs.map((id) => `${bufferName(id)}:${typeOf(g.buffers[id])}`).join(' ');
    const ins = eq.inputs.map((v) => viewText(g, v)).join(' ');
    const params = eq.primitive === 'fused' ? fusedText(eq.params) : paramsText(eq.params);
    lines.push(`    ${outs} = ${eq.primitive}${params} ${ins}`);
  }
  lines.push(`  in (${g.outputs.map((v) => viewText(g, v)).join(', ')}) }`);
  return lines.join('\n');
}

/** Constant buffers the equations or outputs read, in id order. */
export function usedConstants(g: PlanGraph): number[] {
  const seen = new Set<number>();
  const note = (v: ViewRef) => {
    if (g.buffers[v.buffer].source.kind === 'constant') seen.add(v.buffer);
  };
  for (const eq of g.equations) eq.inputs.forEach(note);
  g.outputs.forEach(note);
  return [...seen].sort((a, b) => a - b);
}

/** A graph with its text form as `toString()`, what `makeGraph` returns. */
export class GraphText implements Graph {
  /** Indexed by buffer id. */
  readonly buffers: readonly BufferInfo[];
  /** Input buffer ids, in argument order. */
  readonly inputs: readonly number[];
  /** The equations, in an order where every buffer is written before it is read. */
  readonly equations: readonly Equation[];
  /** The views of the results, in the order the function returns them. */
  readonly outputs: readonly ViewRef[];

  constructor(g: Graph) {
    checkGraph('GraphText', g);
    this.buffers = g.buffers;
    this.inputs = g.inputs;
    this.equations = g.equations;
    this.outputs = g.outputs;
  }

  toString(): string {
    return graphText(this);
  }
}
