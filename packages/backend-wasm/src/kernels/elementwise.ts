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
import { StridedDescriptor } from './strided.js';

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
const BINARY_CODES = codes(BINARY_OPS);

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

/**
 * The SIMD elementwise kernels: unary and binary ops, where, cast and copy on strided
 * operands, in float32 and (for the cheap ones) int32 and bool. Other dtypes and layouts with
 * more than 8 merged dimensions run the reference kernel.
 */
export function elementwiseKernels(runtime: WasmRuntime): Partial<KernelTable<WasmBuffer>> {
  const descriptor = new StridedDescriptor(runtime);
  const desc = descriptor.ptr;

  /** Runs `task` over out's elements; false if the layout does not fit a descriptor. */
  const run = (
    task: string,
    code: number,
    out: View<WasmBuffer>,
    inputs: readonly View<WasmBuffer>[],
    costly: boolean,
  ) => {
    const bytes = inputs.map((x) => BYTES[x.dtype]);
    if (!descriptor.write(out.shape, out.handle.ptr, inputs, bytes)) return false;
    const count = sizeOf(out.shape);
    const parallel = count >= (costly ? PARALLEL_MIN_COSTLY : PARALLEL_MIN_CHEAP);
    runtime.pool.run(task, code < 0 ? [desc, count] : [code, desc, count], parallel);
    return true;
  };

  const withFallback = (
    primitive: Primitive,
    fast: (out: View<WasmBuffer>, inputs: readonly View<WasmBuffer>[]) => boolean,
  ): AnyKernel => {
    const fallback = referenceKernel(runtime, primitive);
    return (outputs, inputs, params) => {
      if (!fast(outputs[0], inputs)) fallback(outputs, inputs, params);
    };
  };

  const table: Partial<Record<Primitive, AnyKernel>> = {};
  for (const op of UNARY_PRIMITIVES) {
    table[op] = withFallback(op, (out, [x]) => {
      const code = UNARY_CODES.get(`${x.dtype}:${op}`);
      return code !== undefined && run('mapUnary', code, out, [x], COSTLY.has(op));
    });
  }
  for (const op of BINARY_PRIMITIVES) {
    table[op] = withFallback(op, (out, [a, b]) => {
      const code = BINARY_CODES.get(`${a.dtype}:${op}`);
      return code !== undefined && run('mapBinary', code, out, [a, b], COSTLY.has(op));
    });
  }
  table.where = withFallback(
    'where',
    (out, inputs) => BYTES[out.dtype] === 4 && run('mapWhere', -1, out, inputs, false),
  );
  table.cast = withFallback('cast', (out, [x]) => {
    const code = UNARY_CODES.get(`${x.dtype}>${out.dtype}`);
    return code !== undefined && run('mapUnary', code, out, [x], false);
  });
  table.copy = withFallback('copy', (out, [x]) => {
    const code = UNARY_CODES.get(`copy:${BYTES[x.dtype]}`);
    return code !== undefined && run('mapUnary', code, out, [x], false);
  });
  return table as Partial<KernelTable<WasmBuffer>>;
}
