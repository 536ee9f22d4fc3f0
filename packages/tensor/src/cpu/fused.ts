import { allocTyped, type DType, type TypedArray } from '../dtype.js';
import type { FusedKernels, FusedProgram } from '../fused.js';
import type { AnyKernel, View } from '../primitives.js';
import { contiguousStrides } from '../shape.js';
import { binaryKernels, cast, unaryKernels, where } from './elementwise.js';

// The reference "fused" kernel: it runs the program's steps with this backend's own
// elementwise kernels, each step into an array of its dtype (reused once its last reader has
// run), so a fused plan gives the same bits as the unfused one here, at the same speed. The
// CPU backend has it so that the fusion pass is tested on the reference backend too.

const KERNELS: Record<string, AnyKernel> = { ...unaryKernels, ...binaryKernels, where, cast } as Record<
  string,
  AnyKernel
>;

/** The output each step writes (its first place in `program.outputs`), or -1. */
function outputOfSteps(program: FusedProgram): Int32Array {
  const outputOf = new Int32Array(program.steps.length).fill(-1);
  program.outputs.forEach((step, k) => {
    if (outputOf[step] < 0) outputOf[step] = k;
  });
  return outputOf;
}

/** Which temporary array each step writes (-1: an output or no array), reusing arrays of one dtype after their last reader. */
function assignTemporaries(
  program: FusedProgram,
  outputOf: Int32Array,
): { tempOf: Int32Array; temps: DType[] } {
  const { steps } = program;
  const last = new Float64Array(steps.length).fill(-1);
  steps.forEach((s, i) => {
    if (s.kind === 'op') for (const a of s.args) last[a] = i;
  });
  const tempOf = new Int32Array(steps.length).fill(-1);
  const temps: DType[] = [];
  const free = new Map<DType, number[]>();
  steps.forEach((s, i) => {
    if (s.kind === 'op' && outputOf[i] < 0) tempOf[i] = free.get(s.dtype)?.pop() ?? temps.push(s.dtype) - 1;
    if (s.kind !== 'op') return;
    for (const a of new Set(s.args)) {
      if (last[a] !== i || tempOf[a] < 0) continue;
      const list = free.get(steps[a].dtype) ?? [];
      list.push(tempOf[a]);
      free.set(steps[a].dtype, list);
    }
  });
  return { tempOf, temps };
}

/** Fused programs on typed arrays: float32, float64 and bool values (int32 is not fused). */
export const cpuFusedKernels: FusedKernels<TypedArray> = {
  supports: (program) => program.steps.every((s) => s.dtype !== 'int32'),
  prepare(program: FusedProgram, outputs: readonly View<TypedArray>[], inputs: readonly View<TypedArray>[]) {
    const shape = outputs[0].shape;
    const size = shape.reduce((n, d) => n * d, 1);
    const strides = contiguousStrides(shape);
    const outputOf = outputOfSteps(program);
    const { tempOf, temps } = assignTemporaries(program, outputOf);
    const arrays = temps.map((dtype) => allocTyped(dtype, size));
    const views = program.steps.map((s, i): View<TypedArray> => {
      if (outputOf[i] >= 0) return outputs[outputOf[i]];
      if (s.kind === 'input') return inputs[s.input];
      if (s.kind === 'constant') {
        const handle = allocTyped(s.dtype, 1);
        handle[0] = s.value;
        return { handle, dtype: s.dtype, shape, strides: shape.map(() => 0), offset: 0 };
      }
      return { handle: arrays[tempOf[i]], dtype: s.dtype, shape, strides, offset: 0 };
    });
    const calls = program.steps.flatMap((s, i) => {
      if (s.kind !== 'op') return [];
      const kernel = KERNELS[s.op];
      const out = [views[i]];
      const args = s.args.map((a) => views[a]);
      return [() => kernel(out, args, {})];
    });
    return () => {
      for (const call of calls) call();
      // An output listed twice gets the first one's values.
      program.outputs.forEach((o, k) => {
        if (views[o] !== outputs[k]) outputs[k].handle.set(views[o].handle.subarray(0, size));
      });
    };
  },
};
