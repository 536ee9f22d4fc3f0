import {
  BYTES_PER_ELEMENT,
  contiguousStrides,
  FusedDomain,
  type FusedKernels,
  type FusedProgram,
  fusedDomains,
  type View,
} from '@tsgrad/tensor';
import type { WasmBuffer } from '../buffer.js';
import { canEmit, constantsOffset, emitFusedKernel, type FusedKernelCode } from '../codegen/fused-kernel.js';
import { type LoopLayout, reduceLayout, rowStrides, viewsLayout } from '../codegen/layout.js';
import { compileModule } from '../codegen/module.js';
import { scratchSteps } from '../codegen/reduce-loops.js';
import type { WasmRuntime } from '../runtime.js';
import { isParallel } from './elementwise.js';

const MATH_OPS = new Set(['exp', 'log', 'tanh', 'sin', 'cos', 'erf', 'log1p', 'expm1']);

/** Elements per share of a one-dimensional kernel: whole SIMD vectors, 64-byte aligned. */
const ELEMENT_GRAIN = 16;

/** A JSON replacer that keeps the numbers JSON would merge (NaN, ±Infinity → null; −0 → 0) apart. */
const exactNumbers = (_: string, v: unknown) =>
  typeof v === 'number' && (!Number.isFinite(v) || Object.is(v, -0)) ? `${Object.is(v, -0) ? '-0' : v}` : v;

/**
 * A reduction into one row too large for one thread: the unfused kernels split the work
 * that feeds it across the threads, a fused kernel could not (its rows are its unit of work).
 */
function oneLongRow(program: FusedProgram): boolean {
  const { reduce } = program;
  if (reduce === undefined) return false;
  const rows = reduce.shape.reduce((n, d, i) => (reduce.axes.includes(i) ? n : n * d), 1);
  return (
    rows === 1 &&
    isParallel(
      reduce.shape.reduce((n, d) => n * d, 1),
      false,
    )
  );
}

/** The loop nest of a program: over its output shape, or (a reduction) its element shape's kept, then reduced, dimensions. */
function programLayout(
  program: FusedProgram,
  outputs: readonly View<WasmBuffer>[],
  inputs: readonly View<WasmBuffer>[],
): LoopLayout {
  const { reduce } = program;
  if (reduce === undefined) return viewsLayout(outputs, inputs);
  const domain = fusedDomains(program)?.domain;
  const rowOutput = program.outputs.map((o) => domain?.[o] === FusedDomain.row);
  const rowInput: boolean[] = [];
  for (const s of program.steps) if (s.kind === 'input') rowInput[s.input] = s.row === true;
  const strides = [...outputs, ...inputs].map((v, j) => {
    const row = j < outputs.length ? rowOutput[j] : rowInput[j - outputs.length];
    return row ? rowStrides(v, reduce.shape, reduce.axes) : v.strides;
  });
  const contiguous = contiguousStrides(reduce.shape);
  for (const _ of scratchSteps(program)) strides.push(contiguous);
  return reduceLayout(reduce.shape, reduce.axes, strides);
}

/** A compiled program for one layout, and how a call of it is laid out and run. */
interface Call {
  readonly id: number;
  readonly operands: readonly View<WasmBuffer>[];
  /** Each operand's offset in bytes, added to its buffer's address. */
  readonly offsets: readonly number[];
  /** The args block's size: operand addresses, constants, scratch addresses and scratch arrays. */
  readonly argsBytes: number;
  /** Writes what the args block holds besides the operand addresses (once per block). */
  readonly fill: (argsPtr: number) => void;
  readonly count: number;
  readonly grain: number;
  readonly parallel: boolean;
}

/**
 * Fused elementwise kernels generated as WebAssembly: each program is emitted for its loop
 * layout, validated and compiled once (cached by program and layout), then run with the
 * operands' addresses in a small block of the memory: on the calling thread for small work,
 * split across the pool above the unfused elementwise kernels' thresholds.
 */
export function wasmFusedKernels(runtime: WasmRuntime): FusedKernels<WasmBuffer> {
  const kernels = new Map<string, { readonly id: number; readonly code: FusedKernelCode }>();
  // A prepared call's args block goes back to the allocator when the plan holding it is collected.
  const argsBlocks = new FinalizationRegistry<{ ptr: number; bytes: number }>(({ ptr, bytes }) => {
    runtime.allocator.release(ptr, bytes);
  });
  /** One-shot runs share one args block, grown as needed (a run finishes before the next starts). */
  let shared = { ptr: 0, bytes: 0 };

  function callOf(
    program: FusedProgram,
    outputs: readonly View<WasmBuffer>[],
    inputs: readonly View<WasmBuffer>[],
  ): Call {
    const layout = programLayout(program, outputs, inputs);
    const key = `${JSON.stringify(program, exactNumbers)}|${JSON.stringify(layout)}`;
    let kernel = kernels.get(key);
    if (kernel === undefined) {
      const code = emitFusedKernel(program, layout, runtime.variant);
      kernel = { id: runtime.generated.add(compileModule(code.bytes, 'a fused kernel'), code.bytes), code };
      kernels.set(key, kernel);
    }
    const { id, code } = kernel;
    const operands = [...outputs, ...inputs];
    const offsets = operands.map((v) => v.offset * BYTES_PER_ELEMENT[v.dtype]);
    const float32 = program.steps.every((s) => s.dtype !== 'float64');
    // The args block: operand addresses (written per call), the constants and the scratch
    // arrays' addresses (once), then the scratch arrays (values a reduction's later sweeps read).
    const scratch = program.reduce ? scratchSteps(program).length : 0;
    const start = constantsOffset(operands.length + scratch);
    const scratchStart = Math.ceil((start + 8 * code.constants.length) / 16) * 16;
    const scratchBytes = (program.reduce?.shape.reduce((n, d) => n * d, 1) ?? 0) * (float32 ? 4 : 8);
    const fill = (argsPtr: number) => {
      for (let k = 0; k < scratch; k++)
        new Int32Array(runtime.buffer, argsPtr, operands.length + scratch)[operands.length + k] =
          argsPtr + scratchStart + k * scratchBytes;
      code.constants.forEach((c, i) => {
        const at = argsPtr + start + 8 * i;
        if (float32) new Float32Array(runtime.buffer, at, 1)[0] = c;
        else new Float64Array(runtime.buffer, at, 1)[0] = c;
      });
    };
    const count = layout.shape[0];
    const size = layout.shape.reduce((n, d) => n * d, 1);
    // The unfused kernels' thresholds: a fused kernel does at least their work per element.
    const costly = program.steps.some((s) => s.kind === 'op' && MATH_OPS.has(s.op));
    return {
      id,
      operands,
      offsets,
      argsBytes: scratchStart + scratch * scratchBytes,
      fill,
      count,
      grain: layout.shape.length === 1 ? ELEMENT_GRAIN : 1,
      parallel: count > 1 && isParallel(size, costly),
    };
  }

  function writeOperands(words: Int32Array, { operands, offsets }: Call): void {
    for (let j = 0; j < operands.length; j++) words[j] = operands[j].handle.ptr + offsets[j];
  }

  return {
    supports: (program) => canEmit(program) && !oneLongRow(program),
    prepare(program, outputs, inputs) {
      const c = callOf(program, outputs, inputs);
      const argsPtr = runtime.allocator.alloc(c.argsBytes);
      c.fill(argsPtr);
      let words = new Int32Array(runtime.buffer, argsPtr, c.operands.length);
      const call = () => {
        if (words.buffer.byteLength === 0) words = new Int32Array(runtime.buffer, argsPtr, c.operands.length);
        writeOperands(words, c);
        runtime.generated.run(c.id, argsPtr, c.count, c.grain, c.parallel);
      };
      argsBlocks.register(call, { ptr: argsPtr, bytes: c.argsBytes });
      return call;
    },
    run(program, outputs, inputs) {
      const c = callOf(program, outputs, inputs);
      if (shared.bytes < c.argsBytes) {
        if (shared.bytes > 0) runtime.allocator.release(shared.ptr, shared.bytes);
        const bytes = Math.max(c.argsBytes, 256);
        shared = { ptr: runtime.allocator.alloc(bytes), bytes };
      }
      c.fill(shared.ptr);
      writeOperands(new Int32Array(runtime.buffer, shared.ptr, c.operands.length), c);
      runtime.generated.run(c.id, shared.ptr, c.count, c.grain, c.parallel);
    },
  };
}
