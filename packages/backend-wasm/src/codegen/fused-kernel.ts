import {
  BYTES_PER_ELEMENT,
  type DType,
  FusedDomain,
  type FusedProgram,
  type FusedStep,
  fusedDomains,
} from '@tsgrad/tensor';
import type { LoopLayout } from './layout.js';
import { emitExp, type MathContext } from './math.js';
import { FunctionBuilder, ModuleBuilder, Op, Simd, ValType } from './module.js';
import { emitRow, type Sweep, scratchSteps } from './reduce-loops.js';

// Generates the WebAssembly of a fused elementwise program for one loop layout. The function
// `run(args, begin, end)` reads the operands' byte addresses (outputs, then inputs) from the
// words at `args` and computes rows [begin, end) of the outermost dimension (elements, for a
// one-dimensional layout). The innermost
// dimension runs on SIMD lanes where every operand walks it contiguously or not at all
// (broadcast), with a scalar loop for the rest. Every value lives in a local of the
// program's float type; bools are 0 and 1 there, as in the unfused kernels' memory.
// A program with reductions runs rows of its kept dimensions instead, each row in sweeps over
// its reduced dimensions (reduce-loops.ts): `emitBody` then emits one sweep's part.

type Float = 'float32' | 'float64';

/** Unary ops that need a function: float32 imports the SIMD kernels' math on four lanes, float64 JS's Math. */
const MATH = {
  exp: ['vectorExp', 'exp'],
  log: ['vectorLog', 'log'],
  tanh: ['vectorTanh', 'tanh'],
  sin: ['vectorSin', 'sin'],
  cos: ['vectorCos', 'cos'],
  erf: ['vectorErf', null],
  log1p: ['vectorLog1p', 'log1p'],
  expm1: ['vectorExpm1', 'expm1'],
} as const;
type MathOp = keyof typeof MATH;
const isMath = (op: string): op is MathOp => op in MATH;

// Per float type: scalar and SIMD opcodes of the ops that map one to one.
const F32 = {
  scalar: {
    neg: Op.f32Neg,
    abs: Op.f32Abs,
    sqrt: Op.f32Sqrt,
    ceil: Op.f32Ceil,
    floor: Op.f32Floor,
    round: Op.f32Nearest,
    add: Op.f32Add,
    sub: Op.f32Sub,
    mul: Op.f32Mul,
    div: Op.f32Div,
    maximum: Op.f32Max,
    minimum: Op.f32Min,
    eq: Op.f32Eq,
    ne: Op.f32Ne,
    lt: Op.f32Lt,
    gt: Op.f32Gt,
    le: Op.f32Le,
    ge: Op.f32Ge,
  },
  vector: {
    neg: Simd.f32x4Neg,
    abs: Simd.f32x4Abs,
    sqrt: Simd.f32x4Sqrt,
    ceil: Simd.f32x4Ceil,
    floor: Simd.f32x4Floor,
    round: Simd.f32x4Nearest,
    add: Simd.f32x4Add,
    sub: Simd.f32x4Sub,
    mul: Simd.f32x4Mul,
    div: Simd.f32x4Div,
    maximum: Simd.f32x4Max,
    minimum: Simd.f32x4Min,
    eq: Simd.f32x4Eq,
    ne: Simd.f32x4Ne,
    lt: Simd.f32x4Lt,
    gt: Simd.f32x4Gt,
    le: Simd.f32x4Le,
    ge: Simd.f32x4Ge,
  },
  type: ValType.f32,
  bytes: 4,
  lanes: 4,
  load: Op.f32Load,
  store: Op.f32Store,
  loadSplat: Simd.v128Load32Splat,
  splat: Simd.f32x4Splat,
  extract: Simd.f32x4ExtractLane,
  replace: Simd.f32x4ReplaceLane,
  fromI32: Op.f32ConvertI32U,
  signBits: [0x00, 0x00, 0x00, 0x80],
} as const;
const F64 = {
  scalar: {
    neg: Op.f64Neg,
    abs: Op.f64Abs,
    sqrt: Op.f64Sqrt,
    ceil: Op.f64Ceil,
    floor: Op.f64Floor,
    round: Op.f64Nearest,
    add: Op.f64Add,
    sub: Op.f64Sub,
    mul: Op.f64Mul,
    div: Op.f64Div,
    maximum: Op.f64Max,
    minimum: Op.f64Min,
    eq: Op.f64Eq,
    ne: Op.f64Ne,
    lt: Op.f64Lt,
    gt: Op.f64Gt,
    le: Op.f64Le,
    ge: Op.f64Ge,
  },
  vector: {
    neg: Simd.f64x2Neg,
    abs: Simd.f64x2Abs,
    sqrt: Simd.f64x2Sqrt,
    ceil: Simd.f64x2Ceil,
    floor: Simd.f64x2Floor,
    round: Simd.f64x2Nearest,
    add: Simd.f64x2Add,
    sub: Simd.f64x2Sub,
    mul: Simd.f64x2Mul,
    div: Simd.f64x2Div,
    maximum: Simd.f64x2Max,
    minimum: Simd.f64x2Min,
    eq: Simd.f64x2Eq,
    ne: Simd.f64x2Ne,
    lt: Simd.f64x2Lt,
    gt: Simd.f64x2Gt,
    le: Simd.f64x2Le,
    ge: Simd.f64x2Ge,
  },
  type: ValType.f64,
  bytes: 8,
  lanes: 2,
  load: Op.f64Load,
  store: Op.f64Store,
  loadSplat: Simd.v128Load64Splat,
  splat: Simd.f64x2Splat,
  extract: Simd.f64x2ExtractLane,
  replace: Simd.f64x2ReplaceLane,
  fromI32: Op.f64ConvertI32U,
  signBits: [0, 0, 0, 0, 0, 0, 0, 0x80],
} as const;
type Table = typeof F32 | typeof F64;
type Direct = keyof typeof F32.scalar;
const COMPARISONS = new Set(['eq', 'ne', 'lt', 'gt', 'le', 'ge']);
const isDirect = (op: string): op is Direct => op in F32.scalar;

const floatOf = (p: FusedProgram): Float =>
  p.steps.some((s) => s.dtype === 'float64') ? 'float64' : 'float32';

/** Whether the generator can emit every step of `program` (float32, float64 and bool values). */
export function canEmit(program: FusedProgram): boolean {
  const float = floatOf(program);
  if (program.reduce !== undefined && !reducesLastAxis(program.reduce)) return false;
  if (fusedDomains(program) === null) return false;
  return program.steps.every((s) => {
    if (s.dtype === 'int32') return false;
    if (s.kind === 'reduce') return s.dtype !== 'bool';
    if (s.kind !== 'op') return true;
    const { op } = s;
    if (isMath(op)) return float === 'float32' || MATH[op][1] !== null;
    return (
      isDirect(op) ||
      ['reciprocal', 'sign', 'logicalNot', 'logicalAnd', 'logicalOr', 'where', 'cast'].includes(op)
    );
  });
}

/**
 * Whether the last axis (size-1 dimensions aside) is reduced: each row's reduction then walks
 * memory in runs, on SIMD lanes. (With the last axis kept, a column sum say, lanes would run
 * over neighbouring rows: built and measured, 2x slower than the unfused elementwise and
 * column-reduction kernels on [16, 512], so such reductions are not fused.)
 */
function reducesLastAxis(reduce: NonNullable<FusedProgram['reduce']>): boolean {
  const { shape, axes } = reduce;
  const lastKept = shape.findLastIndex((d, i) => d !== 1 && !axes.includes(i));
  const lastReduced = shape.findLastIndex((d, i) => d !== 1 && axes.includes(i));
  return lastKept < lastReduced;
}

export interface EmitOptions {
  /** Import the memory as shared (the backend's memory is, when threads are possible). */
  readonly shared: boolean;
  /** Use relaxed SIMD's multiply-add in the inline math (only where the engine accepts it; default false). */
  readonly relaxed?: boolean;
}

/** Where the constants start in the args block: after the operands' addresses, 8-byte aligned. */
export const constantsOffset = (operands: number): number => Math.ceil((4 * operands) / 8) * 8;

/** A generated kernel: its module, and the constants its args block must hold (8 bytes each). */
export interface FusedKernelCode {
  readonly bytes: Uint8Array<ArrayBuffer>;
  readonly constants: readonly number[];
}

/**
 * The module of `program` over `layout` (operands: outputs, then inputs). Imports `env.memory`,
 * `kernels.vector*` (float32 math) and `math.*` (float64 math); exports `run`, which reads
 * the operands' addresses and then `constants` from its args block.
 */
export function emitFusedKernel(
  program: FusedProgram,
  layout: LoopLayout,
  options: EmitOptions,
): FusedKernelCode {
  const float = floatOf(program);
  const T: Table = float === 'float32' ? F32 : F64;
  const inputDtypes: DType[] = [];
  for (const s of program.steps) if (s.kind === 'input') inputDtypes[s.input] = s.dtype;
  const scratch = program.reduce ? scratchSteps(program) : [];
  const operandDtypes = [
    ...program.outputs.map((o) => program.steps[o].dtype),
    ...inputDtypes,
    ...scratch.map((): DType => float),
  ];
  const outputs = program.outputs.length;
  /** Where a reduction program keeps spilled step i: its output, or its scratch operand. */
  const spillOperand = (i: number): number | undefined => {
    const at = scratch.indexOf(i);
    if (at >= 0) return outputs + inputDtypes.length + at;
    const k = program.outputs.indexOf(i);
    return k >= 0 ? k : undefined;
  };

  const m = new ModuleBuilder();
  m.importMemory({ module: 'env', name: 'memory', shared: options.shared, minimum: 0, maximum: 65536 });
  const mathIndex = new Map<string, number>();
  for (const s of program.steps) {
    if (s.kind !== 'op' || !isMath(s.op) || mathIndex.has(s.op)) continue;
    const [vectorName, scalarName] = MATH[s.op];
    const index =
      float === 'float32'
        ? m.importFunction('kernels', vectorName, { params: [ValType.v128], results: [ValType.v128] })
        : m.importFunction('math', scalarName as string, { params: [ValType.f64], results: [ValType.f64] });
    mathIndex.set(s.op, index);
  }

  const fn = new FunctionBuilder({ params: [ValType.i32, ValType.i32, ValType.i32], results: [] });
  const [ARGS, BEGIN, END] = [0, 1, 2];
  const { shape, strides } = layout;
  const levels = shape.length;
  const inner = levels - 1;
  const counter = shape.map(() => fn.local(ValType.i32));
  const ptr = shape.map(() => operandDtypes.map(() => fn.local(ValType.i32)));
  const step = (j: number, d: number) => strides[j][d] * BYTES_PER_ELEMENT[operandDtypes[j]];

  const operandsVectorizable = operandDtypes.every(
    (dt, j) => dt !== 'bool' && (strides[j][inner] === 0 || strides[j][inner] === 1),
  );
  const vectorizable = shape[inner] >= T.lanes && operandsVectorizable;

  // Vector constants live in locals, loaded once before the loops from the args block (after
  // the operand addresses, see `constantsOffset`): V8 rebuilds a v128.const or a splat of an
  // immediate through a general register on every use inside a loop, and a splatting load at
  // each use is two instructions where a local is a register or one reload (e^x·x + 1 on 1e6
  // elements: 0.80 → 0.60 ms on one thread).
  const constants: number[] = [];
  const constantLocals: number[] = [];
  const splatConstant = (v: number) => {
    let index = constants.findIndex((c) => Object.is(c, v));
    if (index < 0) {
      index = constants.push(v) - 1;
      constantLocals.push(fn.local(ValType.v128));
    }
    fn.get(constantLocals[index]);
  };
  const math: MathContext = { fn, constant: splatConstant, relaxed: options.relaxed ?? false };

  /** Emits the program once, on SIMD lanes or on one element, storing the outputs. */
  const emitBody = (vector: boolean, sweep?: Sweep) => {
    const type = vector ? ValType.v128 : T.type;
    const value = program.steps.map((_, i) => sweep?.given(i, vector) ?? fn.local(type));
    const P = sweep?.pointers ?? ptr[inner];
    const constant = (v: number) => {
      if (vector) splatConstant(v);
      else if (T === F32) fn.f32(v);
      else fn.f64(v);
    };
    /** 0/1 of the float type from an i32 (scalar) or lane mask (vector) on the stack. */
    const fromMask = () => {
      if (vector) {
        constant(1);
        fn.simd(Simd.v128And);
      } else fn.op(T.fromI32);
    };
    /** A mask of the value's nonzero elements. */
    const nonzero = (s: number) => {
      fn.get(value[s]);
      constant(0);
      if (vector) fn.simd(T.vector.ne);
      else fn.op(T.scalar.ne);
    };
    /** Loads (or, `store`, stores) value i at operand j's pointer, which walks a contiguous array. */
    const spill = (i: number, j: number, store: boolean) => {
      fn.get(P[j]);
      if (store) fn.get(value[i]);
      if (vector) fn.simdMemory(store ? Simd.v128Store : Simd.v128Load, Math.log2(T.bytes));
      else fn.memory(store ? T.store : T.load, Math.log2(T.bytes));
      if (!store) fn.set(value[i]);
    };
    program.steps.forEach((s: FusedStep, i) => {
      if (sweep && !sweep.computes(i)) return;
      const from = sweep?.loads?.(i);
      if (from !== undefined) {
        spill(i, from, false);
        return;
      }
      if (s.kind === 'reduce') {
        sweep?.accumulate(i, value[s.arg], vector);
        return;
      }
      if (s.kind === 'input') {
        const j = outputs + s.input;
        fn.get(P[j]);
        if (!vector && s.dtype === 'bool') fn.memory(Op.i32Load8U, 0).op(T.fromI32);
        else if (!vector) fn.memory(T.load, Math.log2(T.bytes));
        else if (strides[j][inner] === 0) fn.simdMemory(T.loadSplat, Math.log2(T.bytes));
        else fn.simdMemory(Simd.v128Load, Math.log2(T.bytes));
      } else if (s.kind === 'constant') {
        constant(s.value);
      } else {
        const [a, b, c] = s.args;
        const { op } = s;
        if (isDirect(op)) {
          for (const arg of s.args) fn.get(value[arg]);
          if (vector) fn.simd(T.vector[op]);
          else fn.op(T.scalar[op]);
          if (COMPARISONS.has(op)) fromMask();
        } else if (isMath(op)) {
          const index = mathIndex.get(op) as number;
          if (float === 'float64' && vector) {
            // Lane by lane through Math.
            fn.get(value[a]).lane(T.extract, 0).call(index).simd(T.splat);
            fn.get(value[a]).lane(T.extract, 1).call(index).lane(T.replace, 1);
          } else if (op === 'exp' && vector) {
            emitExp(math, value[a], value[i], index);
            return;
          } else if (float === 'float64' || vector) {
            fn.get(value[a]).call(index);
          } else {
            fn.get(value[a]).simd(T.splat).call(index).lane(T.extract, 0);
          }
        } else if (op === 'reciprocal') {
          constant(1);
          fn.get(value[a]);
          if (vector) fn.simd(T.vector.div);
          else fn.op(T.scalar.div);
        } else if (op === 'sign') {
          // ±1 where x is neither 0 nor NaN, else x itself.
          if (vector) {
            fn.get(value[a])
              .simd(Simd.v128Const, ...repeat(T.signBits, 16 / T.bytes))
              .simd(Simd.v128And);
            constant(1);
            fn.simd(Simd.v128Or).get(value[a]);
            nonzero(a);
            fn.get(value[a]).get(value[a]).simd(T.vector.eq).simd(Simd.v128And).simd(Simd.v128Bitselect);
          } else {
            constant(1);
            fn.get(value[a])
              .op(T === F32 ? Op.f32Copysign : Op.f64Copysign)
              .get(value[a]);
            nonzero(a);
            fn.get(value[a]).get(value[a]).op(T.scalar.eq).op(Op.i32And).op(Op.select);
          }
        } else if (op === 'logicalNot') {
          fn.get(value[a]);
          constant(0);
          if (vector) fn.simd(T.vector.eq);
          else fn.op(T.scalar.eq);
          fromMask();
        } else if (op === 'logicalAnd' || op === 'logicalOr') {
          nonzero(a);
          nonzero(b);
          if (vector) fn.simd(op === 'logicalAnd' ? Simd.v128And : Simd.v128Or);
          else fn.op(op === 'logicalAnd' ? Op.i32And : Op.i32Or);
          fromMask();
        } else if (op === 'where') {
          fn.get(value[b]).get(value[c]);
          nonzero(a);
          if (vector) fn.simd(Simd.v128Bitselect);
          else fn.op(Op.select);
        } else if (op === 'cast') {
          if (s.dtype === 'bool') {
            nonzero(a);
            fromMask();
          } else fn.get(value[a]);
        }
      }
      fn.set(value[i]);
    });
    program.steps.forEach((_, i) => {
      const to = sweep?.computes(i) && sweep.loads?.(i) === undefined ? sweep.spills?.(i) : undefined;
      if (to !== undefined && to >= outputs) spill(i, to, true);
    });
    program.outputs.forEach((o, k) => {
      if (sweep && !sweep.stores(k)) return;
      fn.get(P[k]);
      if (!vector && operandDtypes[k] === 'bool') {
        nonzero(o);
        fn.memory(Op.i32Store8, 0);
      } else {
        fn.get(value[o]);
        if (vector) fn.simdMemory(Simd.v128Store, Math.log2(T.bytes));
        else fn.memory(T.store, Math.log2(T.bytes));
      }
    });
  };

  /** Advances every operand's pointer at level d by `times` strides. */
  const advance = (d: number, times: number) => {
    ptr[d].forEach((p, j) => {
      const bytes = step(j, d) * times;
      if (bytes !== 0) fn.get(p).i32(bytes).op(Op.i32Add).set(p);
    });
  };
  /** A do-while loop of `count` iterations over `body` at level d, advancing `by` elements a turn. */
  const countedLoop = (d: number, from: number, count: number, by: number, body: () => void) => {
    fn.i32(from).set(counter[d]);
    fn.loop();
    body();
    advance(d, by);
    fn.get(counter[d]).i32(by).op(Op.i32Add).tee(counter[d]).i32(count).op(Op.i32LtU).brIf(0);
    fn.end();
  };
  const level = (d: number) => {
    ptr[d].forEach((p, j) => {
      fn.get(ptr[d - 1][j]).set(p);
    });
    if (d < inner) {
      countedLoop(d, 0, shape[d], 1, () => level(d + 1));
      return;
    }
    const n = shape[d];
    const vectorEnd = vectorizable ? n - (n % T.lanes) : 0;
    if (vectorEnd > 0) countedLoop(d, 0, vectorEnd, T.lanes, () => emitBody(true));
    if (vectorEnd < n) countedLoop(d, vectorEnd, n, 1, () => emitBody(false));
  };

  // Level 0 runs [begin, end): rows of the outermost dimension, or elements when there is
  // only one dimension (so that threads can split a contiguous array too).
  const base = fn.local(ValType.i32);
  operandDtypes.forEach((_, j) => {
    // ptr[0][j] = args[j] + begin · stride₀
    fn.get(ARGS)
      .memory(Op.i32Load, 2, 4 * j)
      .set(base);
    fn.get(base);
    if (step(j, 0) !== 0) fn.get(BEGIN).i32(step(j, 0)).op(Op.i32Mul).op(Op.i32Add);
    fn.set(ptr[0][j]);
  });
  fn.get(BEGIN).set(counter[0]);
  /** while (counter + by <= end) { body; advance } */
  const rangeLoop = (by: number, body: () => void) => {
    fn.block().loop();
    fn.get(counter[0]).i32(by).op(Op.i32Add).get(END).op(Op.i32GtU).brIf(1);
    body();
    advance(0, by);
    fn.get(counter[0]).i32(by).op(Op.i32Add).set(counter[0]).br(0);
    fn.end().end();
  };
  if (layout.kept !== undefined) {
    // A reduction: rows of the kept dimensions, each in sweeps over the reduced ones.
    const kept = layout.kept;
    const domains = fusedDomains(program);
    const elementOperand = (j: number) =>
      j < outputs
        ? domains?.domain[program.outputs[j]] !== FusedDomain.row
        : !program.steps.some((s) => s.kind === 'input' && s.input === j - outputs && s.row);
    const rowVectorizable =
      shape[inner] >= T.lanes &&
      operandDtypes.every(
        (dt, j) =>
          !elementOperand(j) || (dt !== 'bool' && (strides[j][inner] === 0 || strides[j][inner] === 1)),
      );
    const copyPointers = (d: number) => {
      ptr[d].forEach((p, j) => {
        fn.get(ptr[d - 1][j]).set(p);
      });
    };
    const row = () =>
      emitRow({
        fn,
        program,
        float,
        shape,
        kept,
        vectorizable: rowVectorizable,
        ptr,
        copyPointers,
        countedLoop,
        emitBody,
        spillOperand,
      });
    const keptLevel = (d: number) => {
      copyPointers(d);
      countedLoop(d, 0, shape[d], 1, () => (d < kept - 1 ? keptLevel(d + 1) : row()));
    };
    rangeLoop(1, () => (kept > 1 ? keptLevel(1) : row()));
  } else if (levels === 1) {
    if (operandsVectorizable) rangeLoop(T.lanes, () => emitBody(true));
    rangeLoop(1, () => emitBody(false));
  } else {
    rangeLoop(1, () => level(1));
  }
  fn.prepend(() => {
    constantLocals.forEach((local, index) => {
      fn.get(ARGS)
        .simdMemory(T.loadSplat, Math.log2(T.bytes), constantsOffset(operandDtypes.length) + 8 * index)
        .set(local);
    });
  });
  m.addFunction(fn, 'run');
  return { bytes: m.bytes(), constants };
}

function repeat(bytes: readonly number[], times: number): number[] {
  return Array.from({ length: times }, () => bytes).flat();
}
