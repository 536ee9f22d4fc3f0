import {
  BINARY_PRIMITIVES,
  type DType,
  type KernelTable,
  type Primitive,
  UNARY_PRIMITIVES,
  type View,
} from '@tsgrad/tensor';
import type { WasmBuffer } from '../buffer.js';
import { referenceKernel } from '../reference.js';
import type { WasmRuntime } from '../runtime.js';
import { inputPointerWord, OUTPUT_POINTER_WORD, StridedDescriptor } from './strided.js';

// The op codes of assembly/elementwise.ts (mapUnary, mapBinary), in its order: `dtype:primitive`
// for ops, `from>to` for casts, `copy:bytes` for copies.
// biome-ignore format: mirrors the kernel's list
const UNARY_OPS = [
  'float32:neg', 'float32:abs', 'float32:sign', 'float32:exp', 'float32:log', 'float32:sin', 'float32:cos',
  'float32:tanh', 'float32:sqrt', 'float32:reciprocal', 'float32:floor', 'float32:ceil', 'float32:round',
  'float32:erf', 'float32:log1p', 'float32:expm1', 'int32:neg', 'int32:abs', 'int32:sign', 'bool:logicalNot',
  'copy:4', 'copy:1', 'float32>int32', 'int32>float32', 'float32>bool', 'int32>bool', 'bool>float32',
  'bool>int32', 'float32>float64', 'float64>float32',
];
// biome-ignore format: mirrors the kernel's list
const BINARY_OPS = [
  'float32:add', 'float32:sub', 'float32:mul', 'float32:div', 'float32:pow', 'float32:maximum',
  'float32:minimum', 'float32:mod', 'float32:eq', 'float32:ne', 'float32:lt', 'float32:le', 'float32:gt',
  'float32:ge', 'int32:add', 'int32:sub', 'int32:mul', 'int32:maximum', 'int32:minimum', 'int32:eq',
  'int32:ne', 'int32:lt', 'int32:le', 'int32:gt', 'int32:ge', 'bool:logicalAnd', 'bool:logicalOr',
];

const codes = (names: readonly string[]) => new Map(names.map((name, code) => [name, code]));
const UNARY_CODES = codes(UNARY_OPS);

/** The `dtype:primitive` codes by dtype, then primitive: two lookups, no key string built per call. */
function codesByDType(names: readonly string[]): ReadonlyMap<string, ReadonlyMap<string, number>> {
  const table = new Map<string, Map<string, number>>();
  names.forEach((name, code) => {
    const [dtype, primitive] = name.split(':');
    if (primitive === undefined) return;
    const byPrimitive = table.get(dtype) ?? new Map<string, number>();
    byPrimitive.set(primitive, code);
    table.set(dtype, byPrimitive);
  });
  return table;
}
const UNARY_BY_DTYPE = codesByDType(UNARY_OPS);
const BINARY_BY_DTYPE = codesByDType(BINARY_OPS);

const BYTES: Record<DType, number> = { float32: 4, float64: 8, int32: 4, bool: 1 };

/** Ops whose per-element cost makes two threads pay off on smaller arrays. */
const COSTLY = new Set(['exp', 'log', 'sin', 'cos', 'tanh', 'erf', 'log1p', 'expm1', 'pow', 'mod']);
const PARALLEL_MIN_CHEAP = 1 << 18;
const PARALLEL_MIN_COSTLY = 1 << 16;

type AnyKernel = (
  outputs: readonly View<WasmBuffer>[],
  inputs: readonly View<WasmBuffer>[],
  params: unknown,
) => void;

function sizeOf(shape: readonly number[]): number {
  let size = 1;
  for (const d of shape) size *= d;
  return size;
}

/** The kernel export, op code (-1: none) and cost class of an elementwise call, if it has a fast one. */
interface ElementwiseOp {
  readonly task: 'mapUnary' | 'mapBinary' | 'mapWhere';
  readonly code: number;
  readonly costly: boolean;
}

const UNARY: ReadonlySet<Primitive> = new Set<Primitive>(UNARY_PRIMITIVES);

const ELEMENTWISE: ReadonlySet<Primitive> = new Set<Primitive>([
  ...UNARY_PRIMITIVES,
  ...BINARY_PRIMITIVES,
  'where',
  'cast',
  'copy',
]);

const unary = (code: number | undefined, costly = false): ElementwiseOp | undefined =>
  code === undefined ? undefined : { task: 'mapUnary', code, costly };

/** How the SIMD kernels run `primitive` on these operands, or undefined for the reference kernel. */
function elementwiseOp(
  primitive: Primitive,
  out: View<WasmBuffer>,
  inputs: readonly View<WasmBuffer>[],
): ElementwiseOp | undefined {
  const x = inputs[0];
  switch (primitive) {
    case 'where':
      return BYTES[out.dtype] === 4 ? { task: 'mapWhere', code: -1, costly: false } : undefined;
    case 'cast':
      return unary(UNARY_CODES.get(`${x.dtype}>${out.dtype}`));
    case 'copy':
      return unary(UNARY_CODES.get(`copy:${BYTES[x.dtype]}`));
  }
  if (UNARY.has(primitive)) return unary(UNARY_BY_DTYPE.get(x.dtype)?.get(primitive), COSTLY.has(primitive));
  const code = BINARY_BY_DTYPE.get(x.dtype)?.get(primitive);
  return code === undefined ? undefined : { task: 'mapBinary', code, costly: COSTLY.has(primitive) };
}

/** Whether an elementwise kernel over `count` elements pays for waking the workers (measured for these kernels). */
export const isParallel = (count: number, costly: boolean) =>
  count >= (costly ? PARALLEL_MIN_COSTLY : PARALLEL_MIN_CHEAP);

/**
 * The SIMD elementwise kernels: unary and binary ops, where, cast and copy on strided
 * operands, in float32 and (for the cheap ones) int32 and bool. Other dtypes and layouts with
 * more than 8 merged dimensions run the reference kernel.
 */
export function elementwiseKernels(runtime: WasmRuntime): Partial<KernelTable<WasmBuffer>> {
  const descriptor = new StridedDescriptor(runtime);
  const desc = descriptor.ptr;
  const table: Partial<Record<Primitive, AnyKernel>> = {};
  for (const primitive of ELEMENTWISE) {
    const fallback = referenceKernel(runtime, primitive);
    table[primitive] = (outputs, inputs, params) => {
      const out = outputs[0];
      const op = elementwiseOp(primitive, out, inputs);
      const bytes = inputs.map((x) => BYTES[x.dtype]);
      if (op === undefined || !descriptor.write(out.shape, out.handle.ptr, inputs, bytes)) {
        fallback(outputs, inputs, params);
        return;
      }
      const count = sizeOf(out.shape);
      runtime.pool.run(
        op.task,
        op.code < 0 ? [desc, count] : [op.code, desc, count],
        isParallel(count, op.costly),
      );
    };
  }
  return table as Partial<KernelTable<WasmBuffer>>;
}

/**
 * Prepares elementwise calls for repeated runs (jit's executor): the op is resolved and the
 * descriptor laid out once; a run copies the layout in, adds the buffers' current addresses
 * and calls the kernel, allocating nothing.
 */
export function elementwisePreparer(runtime: WasmRuntime) {
  const descriptor = new StridedDescriptor(runtime);
  const desc = descriptor.ptr;
  return (
    primitive: Primitive,
    outputs: readonly View<WasmBuffer>[],
    inputs: readonly View<WasmBuffer>[],
  ): (() => void) | undefined => {
    if (!ELEMENTWISE.has(primitive)) return undefined;
    const out = outputs[0];
    const op = elementwiseOp(primitive, out, inputs);
    if (op === undefined) return undefined;
    // Plain loops over arrays made at their length: a compile prepares thousands of calls,
    // the first ones in cold code.
    const bytes = new Array<number>(inputs.length);
    const offsets = new Array<number>(inputs.length);
    const slots = new Array<number>(inputs.length);
    for (let j = 0; j < inputs.length; j++) {
      bytes[j] = BYTES[inputs[j].dtype];
      offsets[j] = inputs[j].offset * bytes[j];
      slots[j] = inputPointerWord(j);
    }
    const template = descriptor.template(out.shape, inputs, bytes);
    if (template === undefined) return undefined;
    const count = sizeOf(out.shape);
    const { task, code } = op;
    const args = code < 0 ? [desc, count] : [code, desc, count];
    const parallel = isParallel(count, op.costly);
    const fn = runtime.kernels<Record<ElementwiseOp['task'], (...args: number[]) => void>>()[task];
    return () => {
      const words = descriptor.load(template);
      words[OUTPUT_POINTER_WORD] = out.handle.ptr;
      for (let j = 0; j < slots.length; j++) words[slots[j]] = inputs[j].handle.ptr + offsets[j];
      if (parallel) runtime.pool.run(task, args, true);
      else if (code < 0) fn(desc, count, 0, 1, 0);
      else fn(code, desc, count, 0, 1, 0);
    };
  };
}
