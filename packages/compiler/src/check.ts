import * as T from '@tsgrad/tensor';
import type { BufferInfo, PlanGraph, ViewRef } from './ir.js';

// Checks at the compiler's public boundary. A graph from outside (a user building or editing
// one) is checked once, whole, before a pass or the planner reads it; graphs the tracer and
// the passes make are trusted and not checked again.

const trusted = new WeakSet<object>();

/** Marks a graph the compiler made itself (the tracer's, a pass's result) as checked. */
export function trust<G extends object>(g: G): G {
  trusted.add(g);
  return g;
}

const PRIMITIVES: ReadonlySet<string> = new Set(Object.keys(T.cpuBackend.kernels));

const fail = (op: string, detail: string): never => {
  throw new T.ValueError(op, detail);
};

function checkList(op: string, name: string, value: unknown): asserts value is readonly unknown[] {
  if (!Array.isArray(value)) fail(op, `${name} must be a list, got ${T.describe(value)}`);
}

/** A buffer id of `g`. */
function checkId(op: string, name: string, id: unknown, count: number): asserts id is number {
  if (!Number.isInteger(id) || (id as number) < 0 || (id as number) >= count)
    fail(op, `${name} must be a buffer id below ${count}, got ${T.describe(id)}`);
}

/**
 * A view inside its buffer (so no kernel reads past it): `buffers[v.buffer]`, or
 * `buffers[bufferIndex]` when given (a view checked against one buffer).
 */
export function checkView(
  op: string,
  name: string,
  v: unknown,
  buffers: readonly unknown[],
  bufferIndex?: number,
): asserts v is ViewRef {
  T.checkRecord(op, name, v);
  if (bufferIndex === undefined) checkId(op, `${name}.buffer`, v.buffer, buffers.length);
  else checkBuffer(op, buffers[bufferIndex]);
  const shape = T.checkShape(op, v.shape as number[]);
  checkList(op, `${name}.strides`, v.strides);
  if (v.strides.length !== shape.length || !v.strides.every((s) => Number.isInteger(s)))
    fail(op, `${name}.strides must be ${shape.length} integers, got ${T.describe(v.strides)}`);
  const offset = T.checkInteger(op, `${name}.offset`, v.offset);
  if (shape.includes(0)) return;
  let low = offset;
  let high = offset;
  shape.forEach((d, i) => {
    const reach = (d - 1) * (v.strides as number[])[i];
    if (reach < 0) low += reach;
    else high += reach;
  });
  const size = (buffers[bufferIndex ?? (v.buffer as number)] as BufferInfo).size;
  if (low < 0 || high >= size) fail(op, `${name} reaches outside its buffer of ${size} elements`);
}

/** A buffer: entry `index` of a graph's buffers, or (no index) one given on its own. */
function checkBuffer(op: string, b: unknown, index?: number): asserts b is BufferInfo {
  const name = index === undefined ? 'the buffer' : `buffers[${index}]`;
  T.checkRecord(op, name, b);
  if (index !== undefined && b.id !== index) fail(op, `${name}.id must be ${index}, got ${T.describe(b.id)}`);
  const dtype = T.checkDType(op, b.dtype);
  const shape = T.checkShape(op, b.shape as number[]);
  const size = shape.reduce((n, d) => n * d, 1);
  if (b.size !== size && !(shape.length === 1 && b.size === shape[0]))
    fail(op, `${name}.size must be ${size}, got ${T.describe(b.size)}`);
  T.checkRecord(op, `${name}.source`, b.source);
  const { kind } = b.source;
  if (kind === 'input') T.checkInteger(op, `${name}.source.index`, b.source.index);
  else if (kind === 'constant') {
    const data = b.source.data;
    if (!ArrayBuffer.isView(data) || (data as T.TypedArray).length !== size)
      fail(op, `${name}.source.data must be a typed array of ${size} ${dtype} elements`);
  } else if (kind !== 'equation') fail(op, `${name}.source.kind must be input, constant or equation`);
}

/** Checks that `g` is a well-formed graph (unless the compiler made it). */
export function checkGraph(op: string, g: unknown): asserts g is PlanGraph {
  if (typeof g === 'object' && g !== null && trusted.has(g)) return;
  T.checkRecord(op, 'graph', g);
  checkList(op, 'buffers', g.buffers);
  g.buffers.forEach((b, i) => {
    checkBuffer(op, b, i);
  });
  const buffers = g.buffers as readonly BufferInfo[];
  checkList(op, 'inputs', g.inputs);
  for (const id of g.inputs) {
    checkId(op, 'an input', id, buffers.length);
    if (buffers[id].source.kind !== 'input') fail(op, `input ${id} is not an input buffer`);
  }
  checkList(op, 'equations', g.equations);
  g.equations.forEach((eq, i) => {
    const name = `equations[${i}]`;
    T.checkRecord(op, name, eq);
    if (typeof eq.primitive !== 'string' || !PRIMITIVES.has(eq.primitive))
      fail(op, `${name}.primitive must be a primitive, got ${T.describe(eq.primitive)}`);
    checkList(op, `${name}.inputs`, eq.inputs);
    eq.inputs.forEach((v, j) => {
      checkView(op, `${name}.inputs[${j}]`, v, buffers);
    });
    checkList(op, `${name}.outputs`, eq.outputs);
    for (const id of eq.outputs) {
      checkId(op, `an output of ${name}`, id, buffers.length);
      if (buffers[id].source.kind !== 'equation')
        fail(op, `${name} writes buffer ${id}, which is not its own`);
    }
  });
  checkList(op, 'outputs', g.outputs);
  g.outputs.forEach((v, j) => {
    checkView(op, `outputs[${j}]`, v, buffers);
  });
  trusted.add(g);
}

/** Checks that `backend` looks like a Backend (kernels and allocation). */
export function checkBackend(op: string, backend: unknown): asserts backend is T.Backend {
  T.checkRecord(op, 'backend', backend);
  if (typeof backend.alloc !== 'function' || typeof backend.kernels !== 'object' || backend.kernels === null)
    fail(op, `expected a backend (from getBackend()), got ${T.describe(backend)}`);
}

/** Checks that `fn` is a function. */
export function checkFunction(op: string, name: string, fn: unknown): void {
  if (typeof fn !== 'function') fail(op, `${name} must be a function, got ${T.describe(fn)}`);
}

/** Checks an optional list of booleans (donated inputs). */
export function checkFlags(op: string, name: string, flags: unknown): asserts flags is readonly boolean[] {
  checkList(op, name, flags);
  if (!flags.every((f) => typeof f === 'boolean')) fail(op, `${name} must be a list of booleans`);
}
