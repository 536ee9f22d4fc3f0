import { allocTyped, type DType, type TypedArray } from '../dtype.js';
import { FusedDomain, type FusedKernels, type FusedProgram, fusedDomains } from '../fused.js';
import type { AnyKernel, View } from '../primitives.js';
import { contiguousStrides } from '../shape.js';
import { binaryKernels, cast, copy, unaryKernels, where } from './elementwise.js';
import { max, min, prod, sum } from './reduce.js';

// The reference "fused" kernel: it runs the program's steps with this backend's own
// kernels, each step into an array of its dtype and domain (reused once its last reader has
// run), so a fused plan gives the same bits as the unfused one here, at the same speed. The
// CPU backend has it so that the fusion pass is tested on the reference backend too.

const KERNELS: Record<string, AnyKernel> = { ...unaryKernels, ...binaryKernels, where, cast } as Record<
  string,
  AnyKernel
>;
const REDUCERS: Record<string, AnyKernel> = { sum, prod, max, min } as Record<string, AnyKernel>;

/** The output each step writes (its first place in `program.outputs`), or -1. */
function outputOfSteps(program: FusedProgram): Int32Array {
  const outputOf = new Int32Array(program.steps.length).fill(-1);
  program.outputs.forEach((step, k) => {
    if (outputOf[step] < 0) outputOf[step] = k;
  });
  return outputOf;
}

/** Which temporary array each step writes (-1: an output or no array), reusing arrays of one kind after their last reader. */
function assignTemporaries(program: FusedProgram, outputOf: Int32Array, row: (step: number) => boolean) {
  const { steps } = program;
  const last = new Float64Array(steps.length).fill(-1);
  const argsOf = (i: number) => {
    const s = steps[i];
    return s.kind === 'op' ? s.args : s.kind === 'reduce' ? [s.arg] : [];
  };
  steps.forEach((_, i) => {
    for (const a of argsOf(i)) last[a] = i;
  });
  const tempOf = new Int32Array(steps.length).fill(-1);
  const temps: { dtype: DType; row: boolean }[] = [];
  const free = new Map<string, number[]>();
  const kindOf = (i: number) => `${steps[i].dtype}:${row(i)}`;
  steps.forEach((s, i) => {
    if ((s.kind === 'op' || s.kind === 'reduce') && outputOf[i] < 0)
      tempOf[i] = free.get(kindOf(i))?.pop() ?? temps.push({ dtype: s.dtype, row: row(i) }) - 1;
    for (const a of new Set(argsOf(i))) {
      if (last[a] !== i || tempOf[a] < 0) continue;
      const list = free.get(kindOf(a)) ?? [];
      list.push(tempOf[a]);
      free.set(kindOf(a), list);
    }
  });
  return { tempOf, temps };
}

const sizeOf = (shape: readonly number[]) => shape.reduce((n, d) => n * d, 1);

/** Fused programs on typed arrays: float32, float64 and bool values (int32 is not fused). */
export const cpuFusedKernels: FusedKernels<TypedArray> = {
  supports: (program) => fusedDomains(program) !== null && program.steps.every((s) => s.dtype !== 'int32'),
  prepare(program: FusedProgram, outputs: readonly View<TypedArray>[], inputs: readonly View<TypedArray>[]) {
    const { domain } = fusedDomains(program) ?? { domain: new Uint8Array(program.steps.length) };
    const isRow = (i: number) => domain[i] === FusedDomain.row;
    const axes = program.reduce?.axes ?? [];
    const shape = program.reduce?.shape ?? outputs[0].shape;
    const rowShape = shape.filter((_, d) => !axes.includes(d));
    const strides = contiguousStrides(shape);
    const rowStrides = contiguousStrides(rowShape);
    // A row value read per element: broadcast along the reduced axes.
    const expandedStrides: number[] = [];
    for (let d = 0, k = 0; d < shape.length; d++)
      expandedStrides.push(axes.includes(d) ? 0 : rowStrides[k++]);
    const outputOf = outputOfSteps(program);
    const { tempOf, temps } = assignTemporaries(program, outputOf, isRow);
    const arrays = temps.map((t) => allocTyped(t.dtype, sizeOf(t.row ? rowShape : shape)));
    const views = program.steps.map((s, i): View<TypedArray> => {
      if (outputOf[i] >= 0) return outputs[outputOf[i]];
      if (s.kind === 'input') return inputs[s.input];
      const at = isRow(i) ? rowShape : shape;
      if (s.kind === 'constant') {
        const handle = allocTyped(s.dtype, 1);
        handle[0] = s.value;
        return { handle, dtype: s.dtype, shape: [], strides: [], offset: 0 };
      }
      const handle = arrays[tempOf[i]];
      return { handle, dtype: s.dtype, shape: at, strides: isRow(i) ? rowStrides : strides, offset: 0 };
    });
    /** Step a's view as an argument of step i: constants and row values read per element are broadcast. */
    const argView = (a: number, i: number): View<TypedArray> => {
      const at = isRow(i) ? rowShape : shape;
      if (program.steps[a].kind === 'constant') return { ...views[a], shape: at, strides: at.map(() => 0) };
      if (!isRow(i) && isRow(a)) return { ...views[a], shape, strides: expandedStrides };
      return views[a];
    };
    const calls = program.steps.flatMap((s, i) => {
      if (s.kind === 'op') {
        const kernel = KERNELS[s.op];
        const out = [views[i]];
        // Views made per call: the executor changes the handles of the views it passed.
        return [
          () =>
            kernel(
              out,
              s.args.map((a) => argView(a, i)),
              {},
            ),
        ];
      }
      if (s.kind !== 'reduce') return [];
      // The reduction kernel reads a packed array: a strided input is packed first.
      const x = views[s.arg];
      const packed = x.offset === 0 && sameStrides(x.strides, strides, shape);
      const source = packed
        ? x
        : { dtype: x.dtype, handle: allocTyped(x.dtype, sizeOf(shape)), shape, strides, offset: 0 };
      const reduce = REDUCERS[s.op];
      const out = [views[i]];
      const params = { axes };
      if (packed) return [() => reduce(out, [source], params)];
      return [
        () => {
          copy([source], [x], {});
          reduce(out, [source], params);
        },
      ];
    });
    return () => {
      for (const call of calls) call();
      // An output listed twice gets the first one's values.
      program.outputs.forEach((o, k) => {
        if (views[o] !== outputs[k])
          outputs[k].handle.set(views[o].handle.subarray(0, sizeOf(isRow(o) ? rowShape : shape)));
      });
    };
  },
};

/** Whether strides walk `shape` contiguously (size-1 dimensions aside). */
function sameStrides(a: readonly number[], b: readonly number[], shape: readonly number[]): boolean {
  return a.length === b.length && a.every((s, d) => shape[d] === 1 || s === b[d]);
}
