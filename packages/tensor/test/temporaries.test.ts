import * as T from '@tsgrad/tensor';
import { describe, expect, it } from 'vitest';

// Every op frontend disposes the arrays and views it makes along the way (casts, scalar
// operands, broadcast views, reshaped bases, index arrays from JS lists): once the caller
// disposes the result, the backend holds exactly the buffers it held before the call, without
// waiting for the garbage collector. The caller's own arrays are never disposed, and once the
// caller disposes them too, no buffer is left.

/** The CPU backend, counting its live buffers (allocations − frees). */
function countingBackend(): { readonly backend: T.Backend; live(): number } {
  let live = 0;
  const cpu = T.cpuBackend;
  const backend: T.Backend = {
    ...cpu,
    name: 'counting',
    alloc(dtype, size) {
      live++;
      return cpu.alloc(dtype, size);
    },
    free() {
      live--;
    },
  };
  return { backend, live: () => live };
}

type Result = T.NDArray | readonly T.NDArray[] | { readonly values: T.NDArray; readonly indices: T.NDArray };

const resultArrays = (result: Result): T.NDArray[] =>
  result instanceof T.NDArray ? [result] : Array.isArray(result) ? [...result] : Object.values(result);

const counting = (n: number) => Array.from({ length: n }, (_, i) => i);
const f32 = (shape: number[]) => T.array(Float32Array.from(counting(T.sizeOf(shape))), { shape });
const i32 = (shape: number[]) => T.array(Int32Array.from(counting(T.sizeOf(shape))), { shape });
/** `view(x)`, with `x` disposed so that the view alone holds the buffer. */
const only = (x: T.NDArray, view: (x: T.NDArray) => T.NDArray) => {
  const y = view(x);
  x.dispose();
  return y;
};

/** Inputs made by `setup`, and the op under test applied to them. */
interface Case {
  readonly setup: () => T.NDArray[];
  readonly op: (inputs: T.NDArray[]) => Result;
}

const cases: Record<string, Case> = {
  'add with a JS number': { setup: () => [f32([2, 3])], op: ([x]) => T.add(x, 2) },
  'add of a number and an array': { setup: () => [i32([3])], op: ([x]) => T.sub(1.5, x) },
  'mul broadcast': { setup: () => [f32([2, 3]), f32([3])], op: ([x, y]) => T.mul(x, y) },
  'add promoting int32 to float32': { setup: () => [i32([2, 3]), f32([3])], op: ([x, y]) => T.add(x, y) },
  'div of int32 arrays': { setup: () => [i32([2, 3]), i32([2, 1])], op: ([x, y]) => T.div(x, y) },
  'eq of int32 and a float': { setup: () => [i32([4])], op: ([x]) => T.eq(x, 1.5) },
  'logicalAnd of int32': { setup: () => [i32([2, 2]), i32([2])], op: ([x, y]) => T.logicalAnd(x, y) },
  where: {
    setup: () => [T.array([true, false, true]), i32([2, 3])],
    op: ([c, x]) => T.where(c, x, 0.5),
  },
  'where of float64 and int32': {
    setup: () => [T.array([[true], [false]]), T.zeros([3], { dtype: 'float64' }), i32([1])],
    op: ([c, x, y]) => T.where(c, x, y),
  },
  'exp of int32': { setup: () => [i32([3])], op: ([x]) => T.exp(x) },
  'logicalNot of int32': { setup: () => [i32([3])], op: ([x]) => T.logicalNot(x) },
  'sum of bool with keepdims': {
    setup: () => [
      T.array([
        [true, false],
        [true, true],
      ]),
    ],
    op: ([x]) => T.sum(x, { axis: 1, keepdims: true }),
  },
  'prod of a transposed int32': { setup: () => [only(i32([2, 3]), T.transpose)], op: ([x]) => T.prod(x) },
  'mean of int32 with keepdims': {
    setup: () => [i32([2, 3])],
    op: ([x]) => T.mean(x, { axis: 0, keepdims: true }),
  },
  'mean of float32': { setup: () => [f32([2, 3])], op: ([x]) => T.mean(x) },
  'max with keepdims': { setup: () => [f32([2, 3])], op: ([x]) => T.max(x, { axis: -1, keepdims: true }) },
  'argmax flattened with keepdims': {
    setup: () => [only(f32([2, 3]), T.transpose)],
    op: ([x]) => T.argmax(x, { keepdims: true }),
  },
  'argmin along an axis with keepdims': {
    setup: () => [f32([2, 3])],
    op: ([x]) => T.argmin(x, { axis: 1, keepdims: true }),
  },
  'cumsum of a 0-d bool': { setup: () => [T.scalar(true)], op: ([x]) => T.cumsum(x, 0) },
  'matmul of 1-D by 2-D': { setup: () => [f32([3]), i32([3, 2])], op: ([a, b]) => T.matmul(a, b) },
  'matmul of 2-D by 1-D': { setup: () => [f32([2, 3]), f32([3])], op: ([a, b]) => T.matmul(a, b) },
  'matmul of 1-D by 1-D': { setup: () => [f32([3]), f32([3])], op: ([a, b]) => T.matmul(a, b) },
  'batched matmul with broadcast and casts': {
    setup: () => [i32([2, 1, 3, 4]), f32([5, 4, 2])],
    op: ([a, b]) => T.matmul(a, b),
  },
  outer: { setup: () => [f32([2]), i32([3])], op: ([a, b]) => T.outer(a, b) },
  'stack with casts': { setup: () => [f32([2, 3]), i32([2, 3])], op: (xs) => T.stack(xs, 1) },
  'concat with casts': { setup: () => [T.array([true]), i32([2])], op: (xs) => T.concat(xs) },
  tril: { setup: () => [f32([2, 3, 3])], op: ([x]) => T.tril(x, -1) },
  triu: { setup: () => [i32([3, 4])], op: ([x]) => T.triu(x, 1) },
  oneHot: { setup: () => [T.array([0, 2, 1], { dtype: 'int32' })], op: ([i]) => T.oneHot(i, 3) },
  'indexSelect with a JS list': { setup: () => [f32([3, 2])], op: ([x]) => T.indexSelect(x, 0, [2, 0, 2]) },
  'pad reflect': {
    setup: () => [f32([3, 4])],
    op: ([x]) =>
      T.pad(
        x,
        [
          [1, 1],
          [0, 2],
        ],
        { mode: 'reflect' },
      ),
  },
  takeAlongAxis: {
    setup: () => [f32([2, 3]), T.array([[2], [0]], { dtype: 'int32' })],
    op: ([x, i]) => T.takeAlongAxis(x, i, 1),
  },
  'takeAlongAxis broadcasting the input': {
    setup: () => [
      f32([1, 3]),
      T.array(
        [
          [2, 1],
          [0, 0],
        ],
        { dtype: 'int32' },
      ),
    ],
    op: ([x, i]) => T.takeAlongAxis(x, i, 1),
  },
  'scatterAdd with casts': {
    setup: () => [i32([2, 3]), T.array([[0, 2]], { dtype: 'int32' }), f32([2, 3])],
    op: ([base, i, src]) => T.scatterAdd(base, 1, i, src),
  },
  argsort: { setup: () => [f32([2, 3])], op: ([x]) => T.argsort(x, { descending: true }) },
  topk: { setup: () => [f32([2, 5])], op: ([x]) => T.topk(x, 2) },
  'topk of a 0-d array': { setup: () => [T.scalar(3)], op: ([x]) => T.topk(x, 1) },
  'conv2d with a bias': {
    setup: () => [
      only(f32([1, 2, 4, 4]), (x) => T.cast(x, 'float64')),
      f32([3, 2, 2, 2]),
      T.zeros([3], { dtype: 'float64' }),
    ],
    op: ([x, w, bias]) => T.conv2d(x, w, { bias }),
  },
  maxPool1d: { setup: () => [f32([1, 2, 6])], op: ([x]) => T.maxPool1d(x, { kernelSize: 2 }) },
};

describe('op frontends dispose their temporaries', () => {
  for (const [name, { setup, op }] of Object.entries(cases)) {
    it(name, () => {
      const { backend, live } = countingBackend();
      T.withBackend(backend, () => {
        const inputs = setup();
        const before = live();
        for (const x of resultArrays(op(inputs))) if (!inputs.includes(x)) x.dispose();
        expect(live()).toBe(before);
        expect(inputs.every((x) => !x.isDisposed)).toBe(true);
        // Nor does a view the op made of an input keep that input's buffer alive.
        for (const x of inputs) x.dispose();
        expect(live()).toBe(0);
      });
    });
  }
});
