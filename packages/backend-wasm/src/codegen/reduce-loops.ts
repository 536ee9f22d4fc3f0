import { FusedDomain, type FusedProgram, fusedDomains } from '@tsgrad/tensor';
import { type FunctionBuilder, Op, Simd, ValType } from './module.js';

// The row of a fused program with reductions (see FusedProgram.reduce): its row values are
// computed once, its element values in sweeps over the row's reduced dimensions. Sweep p
// computes the element values of pass p (recomputing the earlier-pass values they read, which
// are cheaper than a round trip through memory), stores the element outputs of that pass and
// accumulates the reductions of pass p + 1; the row values those reductions feed follow.
// float32 sums and products accumulate in float64, as the unfused kernels do; max and min let
// NaN win, as they do.

/** What one `emitBody` call emits: a sweep's element work, or a row's row work. */
export interface Sweep {
  /** Whether the body computes step i (the others are skipped, or given). */
  readonly computes: (i: number) => boolean;
  /** The local that already holds step i's value (row values), if any. */
  readonly given: (i: number, vector: boolean) => number | undefined;
  /** Emits reduce step i's accumulation of the value in local `x`. */
  readonly accumulate: (i: number, x: number, vector: boolean) => void;
  /** Whether the body stores output k. */
  readonly stores: (k: number) => boolean;
  /** The operands' pointers. */
  readonly pointers: readonly number[];
  /** The operand to load step i from instead of computing it (a value an earlier sweep stored). */
  readonly loads?: (i: number) => number | undefined;
  /** The operand to store step i to once computed (for a later sweep). */
  readonly spills?: (i: number) => number | undefined;
}

export interface RowContext {
  readonly fn: FunctionBuilder;
  readonly program: FusedProgram;
  readonly float: 'float32' | 'float64';
  /** The loop nest's sizes: `kept` dimensions, then the reduced ones. */
  readonly shape: readonly number[];
  readonly kept: number;
  /** Whether the innermost reduced dimension runs on SIMD lanes. */
  readonly vectorizable: boolean;
  /** ptr[d][j]: operand j's pointer at loop level d. */
  readonly ptr: readonly (readonly number[])[];
  readonly copyPointers: (d: number) => void;
  readonly countedLoop: (d: number, from: number, count: number, by: number, body: () => void) => void;
  readonly emitBody: (vector: boolean, sweep: Sweep) => void;
  /** The operand holding spilled step i (see `planSweeps`). */
  readonly spillOperand: (i: number) => number | undefined;
}

/**
 * Which element steps each sweep computes (`needed`), and which values a later sweep reads
 * (`spilled`): each is stored once, in the sweep that computes it, and read back later (from
 * memory the row has just written, in cache), not recomputed: recomputing softmax's exp
 * in its last sweep cost more than the unfused kernels saved. Inputs are read again instead.
 */
export function planSweeps(program: FusedProgram): {
  readonly needed: readonly Set<number>[];
  readonly lastPass: number;
  readonly spilled: readonly number[];
} {
  const { steps, outputs } = program;
  const { domain, pass } = fusedDomains(program) as NonNullable<ReturnType<typeof fusedDomains>>;
  const isRow = (i: number) => domain[i] === FusedDomain.row;
  const argsOf = (i: number): readonly number[] => {
    const st = steps[i];
    return st.kind === 'op' ? st.args : st.kind === 'reduce' ? [st.arg] : [];
  };
  let lastPass = 0;
  steps.forEach((st, i) => {
    if (st.kind === 'reduce') lastPass = Math.max(lastPass, pass[i] - 1);
  });
  for (const o of outputs) if (!isRow(o)) lastPass = Math.max(lastPass, pass[o]);
  const spilled = new Set<number>();
  const needed: Set<number>[] = [];
  // Last sweep first: the values it reads back become work of the sweeps before.
  for (let p = lastPass; p >= 0; p--) {
    const set = new Set<number>();
    const visit = (i: number) => {
      if (isRow(i) || set.has(i)) return;
      set.add(i);
      if (steps[i].kind === 'op' && pass[i] < p) {
        spilled.add(i);
        return;
      }
      for (const a of argsOf(i)) visit(a);
    };
    steps.forEach((st, i) => {
      if (st.kind === 'reduce' && pass[i] === p + 1) visit(st.arg);
      if (spilled.has(i) && pass[i] === p) visit(i);
    });
    for (const o of outputs) if (!isRow(o) && pass[o] === p) visit(o);
    needed[p] = set;
  }
  return { needed, lastPass, spilled: [...spilled].sort((x, y) => x - y) };
}

const SWAP_HALVES = [8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7];
const SWAP_PAIRS = [4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11];

/** Emits one row's work at the innermost kept loop level (its pointers: ptr[kept − 1]). */
export function emitRow(ctx: RowContext): void {
  const { fn, program, float, shape, kept, vectorizable, ptr } = ctx;
  const { steps, outputs } = program;
  const { domain, pass } = fusedDomains(program) as NonNullable<ReturnType<typeof fusedDomains>>;
  const isRow = (i: number) => domain[i] === FusedDomain.row;
  const f32 = float === 'float32';
  const T = f32
    ? {
        type: ValType.f32,
        gt: Op.f32Gt,
        lt: Op.f32Lt,
        ne: Op.f32Ne,
        vgt: Simd.f32x4Gt,
        vlt: Simd.f32x4Lt,
        vne: Simd.f32x4Ne,
        extract: Simd.f32x4ExtractLane,
      }
    : {
        type: ValType.f64,
        gt: Op.f64Gt,
        lt: Op.f64Lt,
        ne: Op.f64Ne,
        vgt: Simd.f64x2Gt,
        vlt: Simd.f64x2Lt,
        vne: Simd.f64x2Ne,
        extract: Simd.f64x2ExtractLane,
      };
  const levels = shape.length;
  const innermost = levels - 1;

  // Row values: one scalar local each, splatted to a vector local for the vector sweeps.
  const rowLocal = steps.map((_, i) => (isRow(i) ? fn.local(T.type) : -1));
  const rowVector = steps.map((_, i) => (isRow(i) && vectorizable ? fn.local(ValType.v128) : -1));

  const { needed, lastPass, spilled } = planSweeps(program);
  const argsOf = (i: number): readonly number[] => {
    const st = steps[i];
    return st.kind === 'op' ? st.args : st.kind === 'reduce' ? [st.arg] : [];
  };

  // Accumulators of each reduction: float32 sums and products in two f64x2 (low and high
  // lanes), float64 ones in one; max and min in the program's vector type; a scalar for the
  // tail (f64 for sums and products).
  interface Accumulator {
    readonly op: 'sum' | 'prod' | 'max' | 'min';
    readonly vector: readonly number[];
    readonly scalar: number;
  }
  const accumulators = new Map<number, Accumulator>();
  steps.forEach((s, i) => {
    if (s.kind !== 'reduce') return;
    const arithmetic = s.op === 'sum' || s.op === 'prod';
    const vectors = !vectorizable ? 0 : arithmetic && f32 ? 2 : 1;
    accumulators.set(i, {
      op: s.op,
      vector: Array.from({ length: vectors }, () => fn.local(ValType.v128)),
      scalar: fn.local(arithmetic ? ValType.f64 : T.type),
    });
  });
  const identity = (op: Accumulator['op']) =>
    op === 'sum' ? 0 : op === 'prod' ? 1 : op === 'max' ? -Infinity : Number.POSITIVE_INFINITY;

  const initialize = (i: number) => {
    const acc = accumulators.get(i) as Accumulator;
    const start = identity(acc.op);
    const arithmetic = acc.op === 'sum' || acc.op === 'prod';
    for (const v of acc.vector) {
      if (arithmetic || !f32) fn.f64(start).simd(Simd.f64x2Splat).set(v);
      else fn.f32(start).simd(Simd.f32x4Splat).set(v);
    }
    if (arithmetic || !f32) fn.f64(start);
    else fn.f32(start);
    fn.set(acc.scalar);
  };

  /** acc ← v where v is better (greater for max) or NaN; scalar or vector. */
  const extremeStep = (acc: number, v: () => void, isMax: boolean, vector: boolean) => {
    if (vector) {
      v();
      fn.get(acc);
      v();
      fn.get(acc).simd(isMax ? T.vgt : T.vlt);
      v();
      v();
      fn.simd(T.vne).simd(Simd.v128Or).simd(Simd.v128Bitselect).set(acc);
    } else {
      v();
      fn.get(acc);
      v();
      fn.get(acc).op(isMax ? T.gt : T.lt);
      v();
      v();
      fn.op(T.ne).op(Op.i32Or).op(Op.select).set(acc);
    }
  };

  const accumulate = (i: number, x: number, vector: boolean) => {
    const acc = accumulators.get(i) as Accumulator;
    const combine = acc.op === 'sum' ? Simd.f64x2Add : Simd.f64x2Mul;
    if (acc.op === 'max' || acc.op === 'min') {
      extremeStep(vector ? acc.vector[0] : acc.scalar, () => fn.get(x), acc.op === 'max', vector);
    } else if (!vector) {
      fn.get(acc.scalar).get(x);
      if (f32) fn.op(Op.f64PromoteF32);
      fn.op(acc.op === 'sum' ? Op.f64Add : Op.f64Mul).set(acc.scalar);
    } else if (!f32) {
      fn.get(acc.vector[0]).get(x).simd(combine).set(acc.vector[0]);
    } else {
      fn.get(acc.vector[0]).get(x).simd(Simd.f64x2PromoteLowF32x4).simd(combine).set(acc.vector[0]);
      fn.get(acc.vector[1])
        .get(x)
        .get(x)
        .simd(Simd.i8x16Shuffle, ...SWAP_HALVES)
        .simd(Simd.f64x2PromoteLowF32x4)
        .simd(combine)
        .set(acc.vector[1]);
    }
  };

  /** rowLocal[i] ← the accumulators of reduce step i, combined. */
  const finish = (i: number) => {
    const acc = accumulators.get(i) as Accumulator;
    const out = rowLocal[i];
    if (acc.op === 'max' || acc.op === 'min') {
      const isMax = acc.op === 'max';
      if (acc.vector.length > 0) {
        const v = acc.vector[0];
        const shuffled = (bytes: number[]) => () =>
          fn
            .get(v)
            .get(v)
            .simd(Simd.i8x16Shuffle, ...bytes);
        // Fold the lanes into lane 0 with the same step (NaN wins).
        const folded = fn.local(ValType.v128);
        fn.get(v).set(folded);
        extremeStep(folded, shuffled(SWAP_HALVES), isMax, true);
        if (f32) {
          fn.get(folded).set(v);
          extremeStep(folded, shuffled(SWAP_PAIRS), isMax, true);
        }
        const lane = fn.local(T.type);
        fn.get(folded).lane(T.extract, 0).set(lane);
        extremeStep(acc.scalar, () => fn.get(lane), isMax, false);
      }
      fn.get(acc.scalar).set(out);
      return;
    }
    const [add, vectorAdd] = acc.op === 'sum' ? [Op.f64Add, Simd.f64x2Add] : [Op.f64Mul, Simd.f64x2Mul];
    if (acc.vector.length > 0) {
      const v = fn.local(ValType.v128);
      fn.get(acc.vector[0]);
      if (acc.vector.length === 2) fn.get(acc.vector[1]).simd(vectorAdd);
      fn.set(v);
      fn.get(v).lane(Simd.f64x2ExtractLane, 0).get(v).lane(Simd.f64x2ExtractLane, 1).op(add);
      fn.get(acc.scalar).op(add).set(acc.scalar);
    }
    fn.get(acc.scalar);
    if (f32) fn.op(Op.f32DemoteF64);
    fn.set(out);
  };

  const rowSweep = (p: number) => {
    const computes = (i: number) =>
      steps[i].kind === 'constant' || (isRow(i) && steps[i].kind !== 'reduce' && pass[i] === p);
    if (
      !steps.some((s, i) => s.kind !== 'constant' && computes(i)) &&
      !outputs.some((o) => isRow(o) && pass[o] === p)
    )
      return;
    ctx.emitBody(false, {
      computes,
      given: (i) => (isRow(i) ? rowLocal[i] : undefined),
      accumulate: () => {},
      stores: (k) => isRow(outputs[k]) && pass[outputs[k]] === p,
      pointers: ptr[kept - 1],
    });
  };

  const elementSweep = (p: number) => {
    const reduces = [...accumulators.keys()].filter((i) => pass[i] === p + 1);
    if (needed[p].size === 0 && reduces.length === 0) return;
    for (const i of reduces) initialize(i);
    // The row values this sweep reads, splatted once.
    if (vectorizable) {
      const read = new Set<number>();
      for (const i of needed[p])
        if (!spilled.includes(i) || pass[i] === p) for (const a of argsOf(i)) if (isRow(a)) read.add(a);
      for (const a of read)
        fn.get(rowLocal[a])
          .simd(f32 ? Simd.f32x4Splat : Simd.f64x2Splat)
          .set(rowVector[a]);
    }
    const sweep: Sweep = {
      computes: (i) => needed[p].has(i) || reduces.includes(i),
      // A value of an earlier sweep is read back from where that sweep stored it.
      loads: (i) => (pass[i] < p ? ctx.spillOperand(i) : undefined),
      spills: (i) => (pass[i] === p ? ctx.spillOperand(i) : undefined),
      given: (i, vector) => (isRow(i) ? (vector ? rowVector[i] : rowLocal[i]) : undefined),
      accumulate,
      stores: (k) => !isRow(outputs[k]) && pass[outputs[k]] === p,
      pointers: ptr[innermost],
    };
    const level = (d: number) => {
      ctx.copyPointers(d);
      if (d < innermost) {
        ctx.countedLoop(d, 0, shape[d], 1, () => level(d + 1));
        return;
      }
      const n = shape[d];
      const lanes = f32 ? 4 : 2;
      const vectorEnd = vectorizable && n >= lanes ? n - (n % lanes) : 0;
      if (vectorEnd > 0) ctx.countedLoop(d, 0, vectorEnd, lanes, () => ctx.emitBody(true, sweep));
      if (vectorEnd < n) ctx.countedLoop(d, vectorEnd, n, 1, () => ctx.emitBody(false, sweep));
    };
    level(kept);
    for (const i of reduces) finish(i);
  };

  rowSweep(0);
  for (let p = 0; p <= lastPass; p++) {
    elementSweep(p);
    rowSweep(p + 1);
  }
}

/**
 * The spilled steps that need memory of their own (the others are element outputs, read back
 * from there): the kernel's operands after its inputs, contiguous arrays of the element shape
 * in the program's float type.
 */
export function scratchSteps(program: FusedProgram): number[] {
  const domain = fusedDomains(program)?.domain;
  return planSweeps(program).spilled.filter((i) => {
    const k = program.outputs.indexOf(i);
    return k < 0 || domain?.[i] === FusedDomain.row || program.steps[i].dtype === 'bool';
  });
}
