import type { FusedKernels, FusedProgram, View } from '@tsgrad/tensor';
import type { WasmBuffer } from '../buffer.js';
import { canEmit, emitFusedKernel } from '../codegen/fused-kernel.js';
import { viewsLayout } from '../codegen/layout.js';
import { compileModule } from '../codegen/module.js';
import type { WasmRuntime } from '../runtime.js';

type Run = (args: number, begin: number, end: number) => void;

const BYTES = { float32: 4, float64: 8, int32: 4, bool: 1 } as const;

/** Float64 math for the generated kernels (the float32 math comes from the kernel module). */
const MATH_IMPORTS = {
  exp: Math.exp,
  log: Math.log,
  tanh: Math.tanh,
  sin: Math.sin,
  cos: Math.cos,
  log1p: Math.log1p,
  expm1: Math.expm1,
};

/**
 * Fused elementwise kernels generated as WebAssembly: each program is emitted for its loop
 * layout, validated, compiled and instantiated once (cached by program and layout), then
 * called on the calling thread with the operands' addresses in a small block of the memory.
 */
export function wasmFusedKernels(runtime: WasmRuntime): FusedKernels<WasmBuffer> {
  const cache = new Map<string, Run>();
  const imports = {
    env: { memory: runtime.memory },
    kernels: runtime.kernels<WebAssembly.ModuleImports>(),
    math: MATH_IMPORTS,
  };
  const compiled = (program: FusedProgram, layoutKey: string, emit: () => Uint8Array<ArrayBuffer>): Run => {
    const key = `${JSON.stringify(program)}|${layoutKey}`;
    let run = cache.get(key);
    if (run === undefined) {
      const module = compileModule(emit(), 'a fused kernel');
      run = new WebAssembly.Instance(module, imports).exports.run as Run;
      cache.set(key, run);
    }
    return run;
  };
  return {
    supports: canEmit,
    prepare(
      program: FusedProgram,
      outputs: readonly View<WasmBuffer>[],
      inputs: readonly View<WasmBuffer>[],
    ) {
      const layout = viewsLayout(outputs, inputs);
      const run = compiled(program, JSON.stringify(layout), () =>
        emitFusedKernel(program, layout, { shared: runtime.variant.shared }),
      );
      const operands = [...outputs, ...inputs];
      const offsets = operands.map((v) => v.offset * BYTES[v.dtype]);
      const argsPtr = runtime.allocator.alloc(4 * operands.length);
      let words = new Int32Array(runtime.buffer, argsPtr, operands.length);
      const rows = layout.shape.length === 1 ? 1 : layout.shape[0];
      return () => {
        if (words.buffer.byteLength === 0) words = new Int32Array(runtime.buffer, argsPtr, operands.length);
        for (let j = 0; j < operands.length; j++) words[j] = operands[j].handle.ptr + offsets[j];
        run(argsPtr, 0, rows);
      };
    },
  };
}
