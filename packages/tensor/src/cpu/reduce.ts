import { checkInt32, type DType, type TypedArray } from '../dtype.js';
import type { AxisParams, KernelFn, ReduceParams } from '../primitives.js';
import { contiguousStrides } from '../shape.js';

/** Start offsets of every kept-axis position and relative offsets of every reduced position. */
function reductionPlan(shape: readonly number[], axes: readonly number[]) {
  const strides = contiguousStrides(shape);
  const offsetsOver = (dims: number[]): Int32Array => {
    let offsets = Int32Array.of(0);
    for (const d of dims) {
      const next = new Int32Array(offsets.length * shape[d]);
      for (let i = 0; i < offsets.length; i++) {
        for (let j = 0; j < shape[d]; j++) next[i * shape[d] + j] = offsets[i] + j * strides[d];
      }
      offsets = next;
    }
    return offsets;
  };
  const kept = shape.map((_, i) => i).filter((i) => !axes.includes(i));
  return { bases: offsetsOver(kept), inner: offsetsOver([...axes]) };
}

type Reducer = (src: TypedArray, base: number, inner: Int32Array, dtype: DType) => number;

function reduceKernel(reducer: Reducer): KernelFn<ReduceParams, TypedArray> {
  return ([out], [x], { axes }) => {
    const { bases, inner } = reductionPlan(x.shape, axes);
    const dst = out.handle;
    for (let o = 0; o < bases.length; o++) dst[o] = reducer(x.handle, bases[o], inner, x.dtype);
  };
}

// int32 sums and products that leave the int32 range throw (instead of wrapping). The JS
// number accumulator is exact: a product of two int32 values is below 2^62 in magnitude, so
// float64 rounding cannot bring an overflowing one back into range, and a sum stays exact
// while every partial sum is below 2^53 (more than 2^22 elements of ±2^31).

/** `step` for floats; for int32, `step` checked to stay in range (`op` names the reduction). */
function checkedFor(op: string, dtype: DType, step: (a: number, b: number) => number) {
  if (dtype !== 'int32') return step;
  return (a: number, b: number) => checkInt32(op, step(a, b));
}

const plus = (a: number, b: number) => a + b;
const times = (a: number, b: number) => a * b;

export const sum = reduceKernel((src, base, inner, dtype) => {
  let acc = 0;
  for (let r = 0; r < inner.length; r++) acc += src[base + inner[r]];
  return dtype === 'int32' ? checkInt32('sum', acc) : acc;
});

export const prod = reduceKernel((src, base, inner, dtype) => {
  const step = checkedFor('prod', dtype, times);
  let acc = 1;
  for (let r = 0; r < inner.length; r++) acc = step(acc, src[base + inner[r]]);
  return acc;
});

/** NaN propagates, as in PyTorch. */
export const max = reduceKernel((src, base, inner) => {
  let acc = Number.NEGATIVE_INFINITY;
  for (let r = 0; r < inner.length; r++) {
    const v = src[base + inner[r]];
    if (v > acc || Number.isNaN(v)) acc = v;
    if (Number.isNaN(acc)) break;
  }
  return acc;
});

export const min = reduceKernel((src, base, inner) => {
  let acc = Number.POSITIVE_INFINITY;
  for (let r = 0; r < inner.length; r++) {
    const v = src[base + inner[r]];
    if (v < acc || Number.isNaN(v)) acc = v;
    if (Number.isNaN(acc)) break;
  }
  return acc;
});

/** The first index of the extreme value along the axis; NaN counts as the extreme. */
function argKernel(better: (v: number, best: number) => boolean): KernelFn<AxisParams, TypedArray> {
  return ([out], [x], { axis }) => {
    const { bases, inner } = reductionPlan(x.shape, [axis]);
    const src = x.handle;
    const dst = out.handle;
    for (let o = 0; o < bases.length; o++) {
      let best = src[bases[o]];
      let at = 0;
      for (let r = 1; r < inner.length && !Number.isNaN(best); r++) {
        const v = src[bases[o] + inner[r]];
        if (better(v, best) || Number.isNaN(v)) {
          best = v;
          at = r;
        }
      }
      dst[o] = at;
    }
  };
}

export const argmax = argKernel((v, best) => v > best);
export const argmin = argKernel((v, best) => v < best);

type Step = (acc: number, v: number) => number;

function scanKernel(stepFor: (dtype: DType) => Step, init: number): KernelFn<AxisParams, TypedArray> {
  return ([out], [x], { axis }: AxisParams) => {
    const step = stepFor(x.dtype);
    const src = x.handle;
    const dst = out.handle;
    const n = x.shape[axis];
    const inner = contiguousStrides(x.shape)[axis];
    const outer = n * inner === 0 ? 0 : src.length / (n * inner);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        let acc = init;
        for (let k = 0, at = o * n * inner + i; k < n; k++, at += inner) {
          acc = step(acc, src[at]);
          dst[at] = acc;
        }
      }
    }
  };
}

export const cumsum = scanKernel((dtype) => checkedFor('cumsum', dtype, plus), 0);
export const cumprod = scanKernel((dtype) => checkedFor('cumprod', dtype, times), 1);
