import type { WasmBuffer } from '@tsgrad/backend-wasm';
import { createNodeWasmBackend } from '@tsgrad/backend-wasm/node';
import * as T from '@tsgrad/tensor';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { signedLeb128, unsignedLeb128 } from '../src/codegen/encoding.js';
import { canEmit, emitFusedKernel } from '../src/codegen/fused-kernel.js';
import { loopLayout } from '../src/codegen/layout.js';
import {
  CodegenError,
  compileModule,
  FunctionBuilder,
  ModuleBuilder,
  Op,
  ValType,
} from '../src/codegen/module.js';
import { parallelRuns, seededValues, threadBackends, workersReady } from './helpers.js';

/** Decodes LEB128 (signed or not), to check the encoders against. */
function decodeLeb128(bytes: readonly number[], signed: boolean): number {
  let result = 0;
  let shift = 0;
  for (const byte of bytes) {
    result += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  }
  const last = bytes[bytes.length - 1];
  return signed && (last & 0x40) !== 0 ? result - 2 ** shift : result;
}

describe('wasm emitter: encodings', () => {
  it('LEB128 matches the spec examples', () => {
    expect(unsignedLeb128(0)).toEqual([0]);
    expect(unsignedLeb128(127)).toEqual([0x7f]);
    expect(unsignedLeb128(128)).toEqual([0x80, 0x01]);
    expect(unsignedLeb128(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(signedLeb128(-1)).toEqual([0x7f]);
    expect(signedLeb128(63)).toEqual([0x3f]);
    expect(signedLeb128(64)).toEqual([0xc0, 0x00]);
    expect(signedLeb128(-123456)).toEqual([0xc0, 0xbb, 0x78]);
    expect(() => unsignedLeb128(-1)).toThrow(T.ValueError);
    expect(() => signedLeb128(2 ** 31)).toThrow(T.ValueError);
  });

  it('LEB128 round-trips every u32 and i32, with no redundant bytes', () => {
    fc.assert(
      fc.property(fc.nat({ max: 0xffffffff }), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (u, i) => {
        const ub = unsignedLeb128(u);
        const ib = signedLeb128(i);
        expect(decodeLeb128(ub, false)).toBe(u);
        expect(decodeLeb128(ib, true)).toBe(i);
        expect(ub.length).toBe(Math.max(1, Math.ceil(Math.log2(u + 1) / 7)));
        expect(ib.length).toBeLessThanOrEqual(5);
      }),
    );
  });
});

describe('wasm emitter: modules', () => {
  it('builds a module that validates and runs', () => {
    const m = new ModuleBuilder();
    const fn = new FunctionBuilder({ params: [ValType.f64, ValType.f64], results: [ValType.f64] });
    const t = fn.local(ValType.f64);
    fn.get(0).get(1).op(Op.f64Mul).tee(t).get(t).op(Op.f64Add);
    m.addFunction(fn, 'twiceProduct');
    const instance = new WebAssembly.Instance(compileModule(m.bytes(), 'a test'));
    expect((instance.exports.twiceProduct as (a: number, b: number) => number)(3, 4)).toBe(24);
  });

  it('refuses an invalid module with a CodegenError naming what it was for', () => {
    const m = new ModuleBuilder();
    const fn = new FunctionBuilder({ params: [], results: [ValType.i32] });
    fn.op(Op.i32Add); // no operands
    m.addFunction(fn, 'bad');
    expect(() => compileModule(m.bytes(), 'a broken test')).toThrow(CodegenError);
    expect(() => compileModule(m.bytes(), 'a broken test')).toThrow(/a broken test/);
  });
});

describe('loop layouts', () => {
  it('merges what every operand walks as one and drops size-1 dimensions', () => {
    expect(
      loopLayout(
        [2, 3, 4],
        [
          [12, 4, 1],
          [12, 4, 1],
        ],
      ),
    ).toEqual({ shape: [24], strides: [[1], [1]] });
    expect(
      loopLayout(
        [2, 1, 4],
        [
          [4, 4, 1],
          [0, 0, 1],
        ],
      ),
    ).toEqual({
      shape: [2, 4],
      strides: [
        [4, 1],
        [0, 1],
      ],
    });
    expect(
      loopLayout(
        [3, 2],
        [
          [2, 1],
          [1, 3],
        ],
      ),
    ).toEqual({
      shape: [3, 2],
      strides: [
        [2, 1],
        [1, 3],
      ],
    });
    expect(loopLayout([], [[], []])).toEqual({ shape: [1], strides: [[0], [0]] });
  });
});

// ---- fused kernels against the CPU reference interpreter ---------------------------------

const backend = createNodeWasmBackend({ threads: 1 });
const fused = backend.fused as T.FusedKernels<WasmBuffer>;
const cpuFused = T.cpuBackend.fused as T.FusedKernels<T.TypedArray>;

type Dt = 'float32' | 'float64';
const UNARY = [
  'neg',
  'abs',
  'sign',
  'exp',
  'log',
  'sin',
  'cos',
  'tanh',
  'sqrt',
  'reciprocal',
  'floor',
  'ceil',
  'round',
  'erf',
  'log1p',
  'expm1',
] as const;
const BINARY = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum'] as const;
const COMPARE = ['eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const;
/** Float32 math within a few ulps of float64 Math (the kernel module's own accuracy). */
const F32_TOL = 4e-7 * 4;

/** Runs `program` on wasm and on the CPU interpreter over the same views; returns both outputs. */
function runBoth(program: T.FusedProgram, inputs: readonly T.NDArray[], shape: number[]) {
  const run = (b: T.Backend, kernels: T.FusedKernels) =>
    T.withBackend(b, () => {
      const xs = inputs.map((x) =>
        T.NDArray.view(
          T.NDArray.fromTyped(
            b,
            x.dtype,
            [x.storage.size],
            x.storage.backend.read(x.storage.handle, x.dtype, 0, x.storage.size),
          ),
          x.shape,
          x.strides,
          x.offset,
          'test',
        ),
      );
      const outs = program.outputs.map((o) => T.NDArray.uninitialized(b, program.steps[o].dtype, shape));
      const view = (x: T.NDArray) => ({
        handle: x.storage.handle,
        dtype: x.dtype,
        shape: x.shape,
        strides: x.strides,
        offset: x.offset,
      });
      kernels.prepare(program, outs.map(view), xs.map(view))();
      return outs.map((x) => x.toTypedArray());
    });
  return [run(backend, fused as T.FusedKernels), run(T.cpuBackend, cpuFused as T.FusedKernels)];
}

function expectNear(actual: T.TypedArray[], expected: T.TypedArray[], tol: number, what: string) {
  actual.forEach((a, k) => {
    for (let i = 0; i < a.length; i++) {
      const x = Number(a[i]);
      const e = Number(expected[k][i]);
      const ok =
        Object.is(x, e) ||
        (Number.isNaN(x) && Number.isNaN(e)) ||
        Math.abs(x - e) <= tol * Math.max(1, Math.abs(e));
      if (!ok) expect.fail(`${what}: output ${k}, element ${i}: ${x} vs ${e}`);
    }
  });
}

const arrayOf = (dtype: Dt, shape: number[], seed: number, scale = 1) =>
  T.withBackend(T.cpuBackend, () =>
    T.mul(
      T.cast(
        T.array(
          seededValues(
            shape.reduce((n, d) => n * d, 1),
            seed,
          ),
          { shape },
        ),
        dtype,
      ),
      T.scalar(scale, { dtype }),
    ),
  );

describe('generated fused kernels equal the CPU interpreter', () => {
  const layouts: [string, number[], (dt: Dt, seed: number) => T.NDArray][] = [
    ['contiguous, with a tail', [3, 7], (dt, s) => arrayOf(dt, [3, 7], s)],
    [
      'a broadcast row',
      [4, 6],
      (dt, s) => T.withBackend(T.cpuBackend, () => T.broadcastTo(arrayOf(dt, [6], s), [4, 6])),
    ],
    [
      'a broadcast column',
      [5, 8],
      (dt, s) => T.withBackend(T.cpuBackend, () => T.broadcastTo(arrayOf(dt, [5, 1], s), [5, 8])),
    ],
    [
      'a transposed view',
      [6, 5],
      (dt, s) => T.withBackend(T.cpuBackend, () => T.transpose(arrayOf(dt, [5, 6], s))),
    ],
    [
      'a 3-d strided slice',
      [2, 3, 9],
      (dt, s) => T.withBackend(T.cpuBackend, () => T.slice(arrayOf(dt, [2, 4, 9], s), [{}, { start: 1 }])),
    ],
  ];
  for (const dtype of ['float32', 'float64'] as const) {
    const tol = dtype === 'float32' ? F32_TOL : 1e-15;
    it(`every unary op alone and chained, ${dtype}`, () => {
      for (const [name, shape, make] of layouts) {
        for (const op of UNARY) {
          const program: T.FusedProgram = {
            steps: [
              { kind: 'input', input: 0, dtype },
              { kind: 'op', op, args: [0], dtype },
              { kind: 'op', op: 'mul', args: [1, 0], dtype },
            ],
            outputs: [1, 2],
          };
          if (!canEmit(program)) {
            expect(`${dtype} ${op}`).toBe('float64 erf'); // the one op float64 leaves unfused
            continue;
          }
          const x = make(dtype, 3 + op.length);
          const [wasm, cpu] = runBoth(program, [x], shape);
          expectNear(wasm, cpu, tol, `${op} over ${name}`);
        }
      }
    });
    it(`every binary op, comparison, where and logic, ${dtype}`, () => {
      for (const [name, shape, make] of layouts) {
        for (const op of [...BINARY, ...COMPARE]) {
          const isCompare = (COMPARE as readonly string[]).includes(op);
          const program: T.FusedProgram = {
            steps: [
              { kind: 'input', input: 0, dtype },
              { kind: 'input', input: 1, dtype },
              { kind: 'constant', value: 0.5, dtype },
              { kind: 'op', op: 'floor', args: [1], dtype },
              { kind: 'op', op, args: [0, 3], dtype: isCompare ? 'bool' : dtype },
              { kind: 'op', op: 'logicalNot', args: [4], dtype: 'bool' },
              { kind: 'op', op: 'logicalOr', args: [5, 4], dtype: 'bool' },
              { kind: 'op', op: 'where', args: [5, 0, 2], dtype },
              { kind: 'op', op: 'cast', args: [6], dtype },
              { kind: 'op', op: 'sign', args: [7], dtype },
            ],
            outputs: [4, 7, 8, 9],
          };
          const [wasm, cpu] = runBoth(program, [make(dtype, 1), arrayOf(dtype, shape, 2, 3)], shape);
          expectNear(wasm, cpu, 0, `${op} over ${name}`);
        }
      }
    });
  }

  it('special values: NaN, ±Inf and ±0 through sign, minimum, maximum, comparisons and exp', () => {
    const values = Float32Array.from([
      Number.NaN,
      Infinity,
      -Infinity,
      0,
      -0,
      1,
      -1,
      100,
      -100,
      1e-40,
      88,
      -88,
    ]);
    const x = T.withBackend(T.cpuBackend, () => T.array(values));
    const y = T.withBackend(T.cpuBackend, () => T.array(values.slice().reverse()));
    const program: T.FusedProgram = {
      steps: [
        { kind: 'input', input: 0, dtype: 'float32' },
        { kind: 'input', input: 1, dtype: 'float32' },
        { kind: 'op', op: 'sign', args: [0], dtype: 'float32' },
        { kind: 'op', op: 'minimum', args: [0, 1], dtype: 'float32' },
        { kind: 'op', op: 'maximum', args: [0, 1], dtype: 'float32' },
        { kind: 'op', op: 'le', args: [0, 1], dtype: 'bool' },
        { kind: 'op', op: 'exp', args: [0], dtype: 'float32' },
      ],
      outputs: [2, 3, 4, 5, 6],
    };
    const [wasm, cpu] = runBoth(program, [x, y], [values.length]);
    expectNear(wasm.slice(0, 4), cpu.slice(0, 4), 0, 'special values');
    expectNear(wasm.slice(4), cpu.slice(4), F32_TOL, 'exp of special values');
  });

  it('programs that differ only in a constant JSON cannot tell apart (NaN, ±Infinity, ±0) get their own kernels', () => {
    const x = T.withBackend(T.cpuBackend, () => T.array(Float32Array.from([-0, 1, -2, 3])));
    for (const value of [Number.NaN, Infinity, -Infinity, 0, -0]) {
      const program: T.FusedProgram = {
        steps: [
          { kind: 'input', input: 0, dtype: 'float32' },
          { kind: 'constant', value, dtype: 'float32' },
          { kind: 'op', op: 'add', args: [0, 1], dtype: 'float32' },
          { kind: 'op', op: 'maximum', args: [2, 1], dtype: 'float32' },
        ],
        outputs: [3],
      };
      const [wasm, cpu] = runBoth(program, [x], [4]);
      expectNear(wasm, cpu, 0, `constant ${value}`);
    }
  });

  it('bool inputs and outputs run the scalar loop', () => {
    const mask = T.withBackend(T.cpuBackend, () => T.gt(arrayOf('float32', [3, 5], 7), T.scalar(0)));
    const program: T.FusedProgram = {
      steps: [
        { kind: 'input', input: 0, dtype: 'bool' },
        { kind: 'input', input: 1, dtype: 'float32' },
        { kind: 'op', op: 'where', args: [0, 1, 0], dtype: 'float32' },
        { kind: 'op', op: 'logicalNot', args: [0], dtype: 'bool' },
      ],
      outputs: [2, 3],
    };
    const [wasm, cpu] = runBoth(program, [mask, arrayOf('float32', [3, 5], 8)], [3, 5]);
    expectNear(wasm, cpu, 0, 'bool operands');
  });

  it('every emitted kernel validates (a module per layout and dtype of one program)', () => {
    const program: T.FusedProgram = {
      steps: [
        { kind: 'input', input: 0, dtype: 'float32' },
        { kind: 'op', op: 'tanh', args: [0], dtype: 'float32' },
      ],
      outputs: [1],
    };
    for (const shape of [[1], [3], [4], [1000], [7, 3], [2, 3, 5]]) {
      const strides = T.contiguousStrides(shape);
      const { bytes } = emitFusedKernel(program, loopLayout(shape, [strides, strides]), { shared: false });
      expect(WebAssembly.validate(bytes)).toBe(true);
    }
  });
});

describe('fused kernels on two threads', () => {
  const backends = threadBackends();
  beforeAll(() => workersReady(backends[2]));
  const program: T.FusedProgram = {
    steps: [
      { kind: 'input', input: 0, dtype: 'float32' },
      { kind: 'input', input: 1, dtype: 'float32' },
      { kind: 'op', op: 'exp', args: [0], dtype: 'float32' },
      { kind: 'op', op: 'mul', args: [2, 1], dtype: 'float32' },
      { kind: 'constant', value: 1, dtype: 'float32' },
      { kind: 'op', op: 'add', args: [3, 4], dtype: 'float32' },
    ],
    outputs: [5],
  };
  const run = (b: (typeof backends)[1], shape: number[], bShape: number[]) =>
    T.withBackend(b, () => {
      const x = T.array(
        seededValues(
          shape.reduce((n, d) => n * d, 1),
          3,
        ),
        { shape },
      );
      const y = T.broadcastTo(
        T.array(
          seededValues(
            bShape.reduce((n, d) => n * d, 1),
            4,
          ),
          { shape: bShape },
        ),
        shape,
      );
      const out = T.NDArray.uninitialized(b, 'float32', shape);
      const view = (v: T.NDArray) => ({
        handle: v.storage.handle as WasmBuffer,
        dtype: v.dtype,
        shape: v.shape,
        strides: v.strides,
        offset: v.offset,
      });
      const call = (b.fused as T.FusedKernels<WasmBuffer>).prepare(program, [view(out)], [view(x), view(y)]);
      const splits = parallelRuns(b, call);
      return { values: out.toTypedArray(), splits };
    });

  it('split a large kernel (1-d and 2-d layouts) with the results of one thread', () => {
    for (const [shape, bShape] of [
      [[70001], [70001]],
      [[211, 333], [333]],
    ]) {
      const one = run(backends[1], shape, bShape);
      const two = run(backends[2], shape, bShape);
      expect(one.splits).toBe(0);
      expect(two.splits).toBeGreaterThan(0);
      expect(two.values).toEqual(one.values);
    }
  });

  it('keep small kernels on the calling thread', () => {
    expect(run(backends[2], [100, 10], [10]).splits).toBe(0);
  });
});
