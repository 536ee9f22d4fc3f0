import type { DType, TypedArray } from '../dtype.js';
import type { FusedKernels, FusedProgram } from '../fused.js';
import type { View } from '../primitives.js';
import { binaryFns, unaryFns } from './elementwise.js';
import { stridedOffsets } from './strided.js';

// The reference interpreter of fused programs: per element, each step computed in float64
// and rounded to its dtype, exactly as the unfused kernels compute and store it, so that a
// fused plan gives the same bits as the unfused one on this backend.

const ROUND: Record<DType, (v: number) => number> = {
  float32: Math.fround,
  float64: (v) => v,
  int32: (v) => v | 0,
  bool: (v) => (v !== 0 ? 1 : 0),
};

type StepFn = (values: Float64Array) => number;

function stepFunction(
  program: FusedProgram,
  i: number,
  read: readonly ((values: Float64Array) => number)[],
): StepFn {
  const step = program.steps[i];
  const round = ROUND[step.dtype];
  if (step.kind === 'input') return read[step.input];
  if (step.kind === 'constant') {
    const value = round(step.value);
    return () => value;
  }
  const [a, b, c] = step.args;
  switch (step.op) {
    case 'cast':
      return (v) => round(v[a]);
    case 'where':
      return (v) => (v[a] !== 0 ? v[b] : v[c]);
  }
  if (step.args.length === 1) {
    const fn = unaryFns[step.op as keyof typeof unaryFns];
    return (v) => round(fn(v[a]));
  }
  const fn = binaryFns[step.op as keyof typeof binaryFns];
  return (v) => round(fn(v[a], v[b]));
}

/** Fused programs on typed arrays: float32, float64 and bool values (int32 is not fused). */
export const cpuFusedKernels: FusedKernels<TypedArray> = {
  supports: (program) => program.steps.every((s) => s.dtype !== 'int32'),
  prepare(program: FusedProgram, outputs: readonly View<TypedArray>[], inputs: readonly View<TypedArray>[]) {
    const size = outputs[0].shape.reduce((n, d) => n * d, 1);
    const offsets = inputs.map((x) => stridedOffsets(x));
    const element = { index: 0 };
    const read = inputs.map((x, j) => {
      const table = offsets[j];
      return table === null ? () => x.handle[x.offset + element.index] : () => x.handle[table[element.index]];
    });
    const steps = program.steps.map((_, i) => stepFunction(program, i, read));
    const values = new Float64Array(steps.length);
    return () => {
      for (let e = 0; e < size; e++) {
        element.index = e;
        for (let s = 0; s < steps.length; s++) values[s] = steps[s](values);
        for (let o = 0; o < outputs.length; o++) outputs[o].handle[e] = values[program.outputs[o]];
      }
    };
  },
};
