import type { DType, FusedProgram, Primitive, TypedArray } from '@tsgrad/tensor';

// The IR: a flat list of primitive equations over buffers, like a jaxpr. Every buffer is
// written once (SSA): by the caller (an input), at compile time (a constant) or by exactly
// one equation. Movement ops (reshape, transpose, broadcast, slice…) are not equations: an
// equation reads its inputs through strided views, as the kernels do, so a chain of
// reshapes is already folded into one view.

/** Where a buffer's contents come from. */
export type BufferSource =
  | { readonly kind: 'input'; readonly index: number }
  | { readonly kind: 'constant'; readonly data: TypedArray }
  | { readonly kind: 'equation' };

export interface BufferInfo {
  readonly id: number;
  readonly dtype: DType;
  /** The shape the buffer was made with (a constant's is [size]). Buffers are contiguous. */
  readonly shape: readonly number[];
  readonly size: number;
  readonly source: BufferSource;
}

/** An equation's view of a buffer: shape, strides and offset in elements, as a kernel sees it. */
export interface ViewRef {
  readonly buffer: number;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
}

export interface Equation {
  readonly primitive: Primitive;
  readonly params: unknown;
  readonly inputs: readonly ViewRef[];
  /** Buffers written by the equation, whole and contiguous. */
  readonly outputs: readonly number[];
}

export interface Graph {
  /** Indexed by buffer id. Passes may leave unused entries; `buffers[id].id === id`. */
  readonly buffers: readonly BufferInfo[];
  /** Input buffer ids, in argument order. */
  readonly inputs: readonly number[];
  readonly equations: readonly Equation[];
  readonly outputs: readonly ViewRef[];
}

/**
 * A fused elementwise kernel, made by the fusion pass (passes/fuse.ts) in the compile
 * pipeline only: `makeGraph` and the other passes see primitive equations alone.
 */
export interface FusedEquation {
  readonly primitive: 'fused';
  readonly params: FusedProgram;
  readonly inputs: readonly ViewRef[];
  readonly outputs: readonly number[];
}

/** An equation of a compiled plan: a primitive equation or a fused one. */
export type PlanEquation = Equation | FusedEquation;

/** A graph as the executor runs it: primitive equations and fused ones. */
export interface PlanGraph extends Omit<Graph, 'equations'> {
  readonly equations: readonly PlanEquation[];
}

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
  if (v.offset !== 0 || v.shape.reduce((n, d) => n * d, 1) !== buffer.size) return false;
  let stride = 1;
  for (let d = v.shape.length - 1; d >= 0; d--) {
    if (v.shape[d] !== 1 && v.strides[d] !== stride) return false;
    stride *= v.shape[d];
  }
  return true;
}

function viewText(g: PlanGraph, v: ViewRef): string {
  const b = g.buffers[v.buffer];
  const name = bufferName(v.buffer);
  if (isWholeView(v, b) && v.shape.length === b.shape.length && v.shape.every((d, i) => d === b.shape[i]))
    return name;
  if (isWholeView(v, b)) return `${name}.reshape([${v.shape.join(',')}])`;
  const offset = v.offset === 0 ? '' : ` +${v.offset}`;
  return `${name}.view([${v.shape.join(',')}] strides [${v.strides.join(',')}]${offset})`;
}

/** A fused program as `{ t3 = exp(in0); t4 = mul(t3, in0) → t4 }`. */
function fusedText(p: FusedProgram): string {
  const name = (i: number) => {
    const s = p.steps[i];
    return s.kind === 'input' ? `in${s.input}` : s.kind === 'constant' ? String(s.value) : `t${i}`;
  };
  const lines = p.steps.flatMap((s, i) =>
    s.kind === 'op' ? [`t${i} = ${s.op}(${s.args.map(name).join(', ')})`] : [],
  );
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
  readonly buffers: readonly BufferInfo[];
  readonly inputs: readonly number[];
  readonly equations: readonly Equation[];
  readonly outputs: readonly ViewRef[];

  constructor(g: Graph) {
    this.buffers = g.buffers;
    this.inputs = g.inputs;
    this.equations = g.equations;
    this.outputs = g.outputs;
  }

  toString(): string {
    return graphText(this);
  }
}
