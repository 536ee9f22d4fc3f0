// Elementwise kernels over strided operands: one input (`mapUnary`: unary ops, casts, copies),
// two inputs (`mapBinary`: binary ops) or three (`mapWhere`). The output is contiguous; the
// operands are described by a descriptor that JavaScript writes (src/kernels/strided.ts):
//
//   word 0        ndim (1–8, dims already merged)
//   words 1–8     shape
//   word 9        output byte pointer
//   words 10+9k   input k: byte pointer of its first element, then 8 strides (elements)
//   words 64+8t   thread t's scratch (the position in the outer dims)
//
// Rows of the innermost dimension run as SIMD loops specialised for contiguous (stride 1)
// and broadcast (stride 0) operands; other strides gather lane by lane.

import { BOOL, F32, F64, I32, gatherV, loadV, shiftOf, splatV, storePartial, storeV } from './lanes';
import { cosV, erfV, expm1V, expV, log1pV, logV, sinV, tanhV } from './math';

// mapUnary's ops; src/kernels/elementwise.ts lists them in this order.
const NEG = 0;
const ABS = 1;
const SIGN = 2;
const EXP = 3;
const LOG = 4;
const SIN = 5;
const COS = 6;
const TANH = 7;
const SQRT = 8;
const RECIPROCAL = 9;
const FLOOR = 10;
const CEIL = 11;
const ROUND = 12;
const ERF = 13;
const LOG1P = 14;
const EXPM1 = 15;
const I32_NEG = 16;
const I32_ABS = 17;
const I32_SIGN = 18;
const NOT = 19;
const COPY_32 = 20;
const COPY_8 = 21;
const F32_TO_I32 = 22;
const I32_TO_F32 = 23;
const F32_TO_BOOL = 24;
const I32_TO_BOOL = 25;
const BOOL_TO_F32 = 26;
const BOOL_TO_I32 = 27;
const F32_TO_F64 = 28;
const F64_TO_F32 = 29;

// mapBinary's ops, likewise.
const ADD = 0;
const SUB = 1;
const MUL = 2;
const DIV = 3;
const POW = 4;
const MAX = 5;
const MIN = 6;
const MOD = 7;
const EQ = 8;
const NE = 9;
const LT = 10;
const LE = 11;
const GT = 12;
const GE = 13;
const I32_ADD = 14;
const I32_SUB = 15;
const I32_MUL = 16;
const I32_MAX = 17;
const I32_MIN = 18;
const I32_EQ = 19;
const I32_NE = 20;
const I32_LT = 21;
const I32_LE = 22;
const I32_GT = 23;
const I32_GE = 24;
const AND = 25;
const OR = 26;

const SIGN_MASK: i32 = 0x80000000;

// One out-of-line copy of each math function, for the strided rows and the row tails; the
// contiguous rows inline their own (keeping its constants' loads in the loop body).
function exp4(x: v128): v128 {
  return expV(x);
}
function expm14(x: v128): v128 {
  return expm1V(x);
}
function log4(x: v128): v128 {
  return logV(x);
}
function log1p4(x: v128): v128 {
  return log1pV(x);
}
function sin4(x: v128): v128 {
  return sinV(x);
}
function cos4(x: v128): v128 {
  return cosV(x);
}
function tanh4(x: v128): v128 {
  return tanhV(x);
}
function erf4(x: v128): v128 {
  return erfV(x);
}

@inline
function inKind1(op: i32): i32 {
  if (op <= EXPM1 || op == F32_TO_I32 || op == F32_TO_BOOL || op == F32_TO_F64) return F32;
  if (op == NOT || op == COPY_8 || op == BOOL_TO_F32 || op == BOOL_TO_I32) return BOOL;
  if (op == F64_TO_F32) return F64;
  return I32;
}

@inline
function outKind1(op: i32): i32 {
  if (op <= EXPM1 || op == I32_TO_F32 || op == BOOL_TO_F32 || op == F64_TO_F32) return F32;
  if (op == NOT || op == COPY_8 || op == F32_TO_BOOL || op == I32_TO_BOOL) return BOOL;
  if (op == F32_TO_F64) return F64;
  return I32;
}

@inline
function inKind2(op: i32): i32 {
  return op <= GE ? F32 : op <= I32_GE ? I32 : BOOL;
}

@inline
function outKind2(op: i32): i32 {
  if (op <= MOD || (op >= I32_ADD && op <= I32_MIN)) return inKind2(op);
  return BOOL;
}

/** A 0/1 lane from a comparison's all-ones/zero mask. */
@inline
function bit(mask: v128): v128 {
  return i32x4.shr_u(mask, 31);
}

/** ToInt32 of one float (truncation, modulo 2^32; NaN and ±Inf give 0), as Int32Array stores do. */
function toInt32(x: f32): i32 {
  if (!isFinite(x)) return 0;
  const v = Math.trunc(<f64>x);
  return <i32>(<i64>(v - Math.floor(v / 4294967296) * 4294967296));
}

function f32ToI32(v: v128): v128 {
  const t = i32x4.trunc_sat_f32x4_s(v);
  if (!v128.any_true(f32x4.ge(f32x4.abs(v), f32x4.splat(2147483648)))) return t;
  let out = t;
  for (let lane = 0; lane < 4; lane++) {
    out = i32x4.replace_lane(out, 0, toInt32(f32x4.extract_lane(v, 0)));
    v = v128.shuffle<i32>(v, v, 1, 2, 3, 0);
    out = v128.shuffle<i32>(out, out, 1, 2, 3, 0);
  }
  return out;
}

/** Floored modulo in float64, as the reference computes it: the result has b's sign. */
function floorMod(a: f32, b: f32): f32 {
  const y = <f64>b;
  const r = <f64>a % y;
  return <f32>(r != 0 && r < 0 != y < 0 ? r + y : r);
}

/** C's pow in float64 (1^y = 1 and (−1)^±∞ = 1), as the reference computes it. */
function powC(a: f32, b: f32): f32 {
  if (a == 1 || (a == -1 && Math.abs(b) == Infinity)) return 1;
  return <f32>Math.pow(<f64>a, <f64>b);
}

/** A scalar float op (pow or mod) lane by lane. */
function lanes2(op: i32, a: v128, b: v128): v128 {
  let out = a;
  for (let lane = 0; lane < 4; lane++) {
    const x = f32x4.extract_lane(a, 0);
    const y = f32x4.extract_lane(b, 0);
    out = f32x4.replace_lane(out, 0, op == POW ? powC(x, y) : floorMod(x, y));
    a = v128.shuffle<i32>(a, a, 1, 2, 3, 0);
    b = v128.shuffle<i32>(b, b, 1, 2, 3, 0);
    out = v128.shuffle<i32>(out, out, 1, 2, 3, 0);
  }
  return out;
}

@inline
function apply1(op: i32, v: v128, inlineMath: bool): v128 {
  switch (op) {
    case NEG:
      return f32x4.neg(v);
    case ABS:
      return f32x4.abs(v);
    case SIGN: {
      // ±1 with x's sign where x ≠ 0; ±0 and NaN stay.
      const one = v128.or(f32x4.splat(1), v128.and(v, i32x4.splat(SIGN_MASK)));
      return v128.bitselect(one, v, v128.or(f32x4.gt(v, f32x4.splat(0)), f32x4.lt(v, f32x4.splat(0))));
    }
    case EXP:
      return inlineMath ? expV(v) : exp4(v);
    case LOG:
      return inlineMath ? logV(v) : log4(v);
    case SIN:
      return inlineMath ? sinV(v) : sin4(v);
    case COS:
      return inlineMath ? cosV(v) : cos4(v);
    case TANH:
      return inlineMath ? tanhV(v) : tanh4(v);
    case SQRT:
      return f32x4.sqrt(v);
    case RECIPROCAL:
      return f32x4.div(f32x4.splat(1), v);
    case FLOOR:
      return f32x4.floor(v);
    case CEIL:
      return f32x4.ceil(v);
    case ROUND:
      return f32x4.nearest(v);
    case ERF:
      return inlineMath ? erfV(v) : erf4(v);
    case LOG1P:
      return inlineMath ? log1pV(v) : log1p4(v);
    case EXPM1:
      return inlineMath ? expm1V(v) : expm14(v);
    case I32_NEG:
      return i32x4.neg(v);
    case I32_ABS:
      return i32x4.abs(v);
    case I32_SIGN:
      return i32x4.sub(i32x4.lt_s(v, i32x4.splat(0)), i32x4.gt_s(v, i32x4.splat(0)));
    case NOT:
      return bit(i32x4.eq(v, i32x4.splat(0)));
    case F32_TO_I32:
      return f32ToI32(v);
    case I32_TO_F32:
    case BOOL_TO_F32:
      return f32x4.convert_i32x4_s(v);
    case F32_TO_BOOL:
      return bit(f32x4.ne(v, f32x4.splat(0)));
    case I32_TO_BOOL:
      return bit(i32x4.ne(v, i32x4.splat(0)));
    default:
      // Copies, bool → int32 and the float32 ↔ float64 casts (done by the lane loads/stores).
      return v;
  }
}

@inline
function apply2(op: i32, a: v128, b: v128): v128 {
  switch (op) {
    case ADD:
      return f32x4.add(a, b);
    case SUB:
      return f32x4.sub(a, b);
    case MUL:
      return f32x4.mul(a, b);
    case DIV:
      return f32x4.div(a, b);
    case POW:
    case MOD:
      return lanes2(op, a, b);
    case MAX:
      return f32x4.max(a, b);
    case MIN:
      return f32x4.min(a, b);
    case EQ:
      return bit(f32x4.eq(a, b));
    case NE:
      return bit(f32x4.ne(a, b));
    case LT:
      return bit(f32x4.lt(a, b));
    case LE:
      return bit(f32x4.le(a, b));
    case GT:
      return bit(f32x4.gt(a, b));
    case GE:
      return bit(f32x4.ge(a, b));
    case I32_ADD:
      return i32x4.add(a, b);
    case I32_SUB:
      return i32x4.sub(a, b);
    case I32_MUL:
      return i32x4.mul(a, b);
    case I32_MAX:
      return i32x4.max_s(a, b);
    case I32_MIN:
      return i32x4.min_s(a, b);
    case I32_EQ:
      return bit(i32x4.eq(a, b));
    case I32_NE:
      return bit(i32x4.ne(a, b));
    case I32_LT:
      return bit(i32x4.lt_s(a, b));
    case I32_LE:
      return bit(i32x4.le_s(a, b));
    case I32_GT:
      return bit(i32x4.gt_s(a, b));
    case I32_GE:
      return bit(i32x4.ge_s(a, b));
    case AND:
      return v128.and(bit(i32x4.ne(a, i32x4.splat(0))), bit(i32x4.ne(b, i32x4.splat(0))));
    default:
      return v128.or(bit(i32x4.ne(a, i32x4.splat(0))), bit(i32x4.ne(b, i32x4.splat(0))));
  }
}

/** out[i] = op(x[i·sx]) for i < len; pointers in bytes, stride in elements. */
@inline
function unaryRow(op: i32, out: usize, x: usize, sx: i32, len: i32): void {
  const ik = inKind1(op);
  const ok = outKind1(op);
  const is = shiftOf(ik);
  const os = shiftOf(ok);
  let i = 0;
  if (sx == 1) {
    for (; i + 4 <= len; i += 4) storeV(ok, out + (<usize>i << os), apply1(op, loadV(ik, x + (<usize>i << is)), true));
  } else {
    const step = sx << is;
    for (; i + 4 <= len; i += 4) {
      storeV(ok, out + (<usize>i << os), apply1(op, gatherV(ik, x + <usize>(i * step), step, 4), false));
    }
  }
  if (i < len) {
    const rest = len - i;
    const v = gatherV(ik, x + <usize>((i * sx) << is), sx << is, rest);
    storePartial(ok, out + (<usize>i << os), apply1(op, v, false), rest);
  }
}

/** out[i] = op(a[i·sa], b[i·sb]) for i < len. */
@inline
function binaryRow(op: i32, out: usize, a: usize, sa: i32, b: usize, sb: i32, len: i32): void {
  const ik = inKind2(op);
  const ok = outKind2(op);
  const is = shiftOf(ik);
  const os = shiftOf(ok);
  let i = 0;
  if (sa == 1 && sb == 1) {
    for (; i + 4 <= len; i += 4) {
      const at = <usize>i << is;
      storeV(ok, out + (<usize>i << os), apply2(op, loadV(ik, a + at), loadV(ik, b + at)));
    }
  } else if (sa == 1 && sb == 0) {
    const vb = splatV(ik, b);
    for (; i + 4 <= len; i += 4) storeV(ok, out + (<usize>i << os), apply2(op, loadV(ik, a + (<usize>i << is)), vb));
  } else if (sa == 0 && sb == 1) {
    const va = splatV(ik, a);
    for (; i + 4 <= len; i += 4) storeV(ok, out + (<usize>i << os), apply2(op, va, loadV(ik, b + (<usize>i << is))));
  } else {
    // Strided operands (one may be a broadcast); the branches in `fetch` are loop-invariant.
    const va = splatV(ik, a);
    const vb = splatV(ik, b);
    for (; i + 4 <= len; i += 4) {
      storeV(ok, out + (<usize>i << os), apply2(op, fetch(ik, a, sa, i, va), fetch(ik, b, sb, i, vb)));
    }
  }
  if (i < len) {
    const rest = len - i;
    const va = gatherV(ik, a + <usize>((i * sa) << is), sa << is, rest);
    const vb = gatherV(ik, b + <usize>((i * sb) << is), sb << is, rest);
    storePartial(ok, out + (<usize>i << os), apply2(op, va, vb), rest);
  }
}

/** Four elements of an operand from element i on, by its stride: contiguous, broadcast (`splat`) or strided. */
@inline
function fetch(kind: i32, p: usize, stride: i32, i: i32, splat: v128): v128 {
  const shift = shiftOf(kind);
  if (stride == 1) return loadV(kind, p + (<usize>i << shift));
  if (stride == 0) return splat;
  return gatherV(kind, p + <usize>((i * stride) << shift), stride << shift, 4);
}

/** out[i] = cond[i·sc] ? a[i·sa] : b[i·sb] for 32-bit values and a bool condition. */
function whereRow(out: usize, c: usize, sc: i32, a: usize, sa: i32, b: usize, sb: i32, len: i32): void {
  const va = v128.load32_splat(a);
  const vb = v128.load32_splat(b);
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    const cond = sc == 1 ? loadV(BOOL, c + <usize>i) : gatherV(BOOL, c + <usize>(i * sc), sc, 4);
    const pick = i32x4.ne(cond, i32x4.splat(0));
    v128.store(out + (<usize>i << 2), v128.bitselect(fetch(I32, a, sa, i, va), fetch(I32, b, sb, i, vb), pick));
  }
  if (i < len) {
    const rest = len - i;
    const cond = gatherV(BOOL, c + <usize>(i * sc), sc, rest);
    const x = gatherV(I32, a + <usize>((i * sa) << 2), sa << 2, rest);
    const y = gatherV(I32, b + <usize>((i * sb) << 2), sb << 2, rest);
    storePartial(I32, out + (<usize>i << 2), v128.bitselect(x, y, i32x4.ne(cond, i32x4.splat(0))), rest);
  }
}

// One function per op, so that each row loop is compiled for its op alone (inlined into one
// dispatching function instead, Binaryen folds the copies back into one loop that switches on
// the op for every vector).
// biome-ignore format: one line per op
function unary0(out: usize, x: usize, sx: i32, len: i32): void { unaryRow(0, out, x, sx, len); }
function unary1(out: usize, x: usize, sx: i32, len: i32): void { unaryRow(1, out, x, sx, len); }
function unary2(out: usize, x: usize, sx: i32, len: i32): void { unaryRow(2, out, x, sx, len); }
function unary3(out: usize, x: usize, sx: i32, len: i32): void { unaryRow(3, out, x, sx, len); }
function unary4(out: usize, x: usize, sx: i32, len: i32): void { unaryRow(4, out, x, sx, len); }
function unary5(out: usize, x: usize, sx: i32, len: i32): void { unaryRow(5, out, x, sx, len); }
function unary6(out: usize, x: usize, sx: i32, len: i32): void { unaryRow(6, out, x, sx, len); }
function unary7(out: usize, x: usize, sx: i32, len: i32): void { unaryRow(7, out, x, sx, len); }
function unary8(out: usize, x: usize, sx: i32, len: i32): void { unaryRow(8, out, x, sx, len); }
function unary9(out: usize, x: usize, sx: i32, len: i32): void { unaryRow(9, out, x, sx, len); }
function unary10(out: usize, x: usize, sx: i32, len: i32): void { unaryRow(10, out, x, sx, len); }
function unary11(out: usize, x: usize, sx: i32, len: i32): void { unaryRow(11, out, x, sx, len); }
function unary12(out: usize, x: usize, sx: i32, len: i32): void { unaryRow(12, out, x, sx, len); }
function unary13(out: usize, x: usize, sx: i32, len: i32): void { unaryRow(13, out, x, sx, len); }
function unary14(out: usize, x: usize, sx: i32, len: i32): void { unaryRow(14, out, x, sx, len); }
function unary15(out: usize, x: usize, sx: i32, len: i32): void { unaryRow(15, out, x, sx, len); }
function unary16(out: usize, x: usize, sx: i32, len: i32): void { unaryRow(16, out, x, sx, len); }
function unary17(out: usize, x: usize, sx: i32, len: i32): void { unaryRow(17, out, x, sx, len); }
function unary18(out: usize, x: usize, sx: i32, len: i32): void { unaryRow(18, out, x, sx, len); }
function unary19(out: usize, x: usize, sx: i32, len: i32): void { unaryRow(19, out, x, sx, len); }
function unary20(out: usize, x: usize, sx: i32, len: i32): void { unaryRow(20, out, x, sx, len); }
function unary21(out: usize, x: usize, sx: i32, len: i32): void { unaryRow(21, out, x, sx, len); }
function unary22(out: usize, x: usize, sx: i32, len: i32): void { unaryRow(22, out, x, sx, len); }
function unary23(out: usize, x: usize, sx: i32, len: i32): void { unaryRow(23, out, x, sx, len); }
function unary24(out: usize, x: usize, sx: i32, len: i32): void { unaryRow(24, out, x, sx, len); }
function unary25(out: usize, x: usize, sx: i32, len: i32): void { unaryRow(25, out, x, sx, len); }
function unary26(out: usize, x: usize, sx: i32, len: i32): void { unaryRow(26, out, x, sx, len); }
function unary27(out: usize, x: usize, sx: i32, len: i32): void { unaryRow(27, out, x, sx, len); }
function unary28(out: usize, x: usize, sx: i32, len: i32): void { unaryRow(28, out, x, sx, len); }
function unary29(out: usize, x: usize, sx: i32, len: i32): void { unaryRow(29, out, x, sx, len); }
// biome-ignore format: one line per op
function binary0(out: usize, a: usize, sa: i32, b: usize, sb: i32, len: i32): void { binaryRow(0, out, a, sa, b, sb, len); }
function binary1(out: usize, a: usize, sa: i32, b: usize, sb: i32, len: i32): void { binaryRow(1, out, a, sa, b, sb, len); }
function binary2(out: usize, a: usize, sa: i32, b: usize, sb: i32, len: i32): void { binaryRow(2, out, a, sa, b, sb, len); }
function binary3(out: usize, a: usize, sa: i32, b: usize, sb: i32, len: i32): void { binaryRow(3, out, a, sa, b, sb, len); }
function binary4(out: usize, a: usize, sa: i32, b: usize, sb: i32, len: i32): void { binaryRow(4, out, a, sa, b, sb, len); }
function binary5(out: usize, a: usize, sa: i32, b: usize, sb: i32, len: i32): void { binaryRow(5, out, a, sa, b, sb, len); }
function binary6(out: usize, a: usize, sa: i32, b: usize, sb: i32, len: i32): void { binaryRow(6, out, a, sa, b, sb, len); }
function binary7(out: usize, a: usize, sa: i32, b: usize, sb: i32, len: i32): void { binaryRow(7, out, a, sa, b, sb, len); }
function binary8(out: usize, a: usize, sa: i32, b: usize, sb: i32, len: i32): void { binaryRow(8, out, a, sa, b, sb, len); }
function binary9(out: usize, a: usize, sa: i32, b: usize, sb: i32, len: i32): void { binaryRow(9, out, a, sa, b, sb, len); }
function binary10(out: usize, a: usize, sa: i32, b: usize, sb: i32, len: i32): void { binaryRow(10, out, a, sa, b, sb, len); }
function binary11(out: usize, a: usize, sa: i32, b: usize, sb: i32, len: i32): void { binaryRow(11, out, a, sa, b, sb, len); }
function binary12(out: usize, a: usize, sa: i32, b: usize, sb: i32, len: i32): void { binaryRow(12, out, a, sa, b, sb, len); }
function binary13(out: usize, a: usize, sa: i32, b: usize, sb: i32, len: i32): void { binaryRow(13, out, a, sa, b, sb, len); }
function binary14(out: usize, a: usize, sa: i32, b: usize, sb: i32, len: i32): void { binaryRow(14, out, a, sa, b, sb, len); }
function binary15(out: usize, a: usize, sa: i32, b: usize, sb: i32, len: i32): void { binaryRow(15, out, a, sa, b, sb, len); }
function binary16(out: usize, a: usize, sa: i32, b: usize, sb: i32, len: i32): void { binaryRow(16, out, a, sa, b, sb, len); }
function binary17(out: usize, a: usize, sa: i32, b: usize, sb: i32, len: i32): void { binaryRow(17, out, a, sa, b, sb, len); }
function binary18(out: usize, a: usize, sa: i32, b: usize, sb: i32, len: i32): void { binaryRow(18, out, a, sa, b, sb, len); }
function binary19(out: usize, a: usize, sa: i32, b: usize, sb: i32, len: i32): void { binaryRow(19, out, a, sa, b, sb, len); }
function binary20(out: usize, a: usize, sa: i32, b: usize, sb: i32, len: i32): void { binaryRow(20, out, a, sa, b, sb, len); }
function binary21(out: usize, a: usize, sa: i32, b: usize, sb: i32, len: i32): void { binaryRow(21, out, a, sa, b, sb, len); }
function binary22(out: usize, a: usize, sa: i32, b: usize, sb: i32, len: i32): void { binaryRow(22, out, a, sa, b, sb, len); }
function binary23(out: usize, a: usize, sa: i32, b: usize, sb: i32, len: i32): void { binaryRow(23, out, a, sa, b, sb, len); }
function binary24(out: usize, a: usize, sa: i32, b: usize, sb: i32, len: i32): void { binaryRow(24, out, a, sa, b, sb, len); }
function binary25(out: usize, a: usize, sa: i32, b: usize, sb: i32, len: i32): void { binaryRow(25, out, a, sa, b, sb, len); }
function binary26(out: usize, a: usize, sa: i32, b: usize, sb: i32, len: i32): void { binaryRow(26, out, a, sa, b, sb, len); }

function unaryDispatch(op: i32, out: usize, x: usize, sx: i32, len: i32): void {
  // biome-ignore format: one case per op
  switch (op) {
    case 0: unary0(out, x, sx, len); break;
    case 1: unary1(out, x, sx, len); break;
    case 2: unary2(out, x, sx, len); break;
    case 3: unary3(out, x, sx, len); break;
    case 4: unary4(out, x, sx, len); break;
    case 5: unary5(out, x, sx, len); break;
    case 6: unary6(out, x, sx, len); break;
    case 7: unary7(out, x, sx, len); break;
    case 8: unary8(out, x, sx, len); break;
    case 9: unary9(out, x, sx, len); break;
    case 10: unary10(out, x, sx, len); break;
    case 11: unary11(out, x, sx, len); break;
    case 12: unary12(out, x, sx, len); break;
    case 13: unary13(out, x, sx, len); break;
    case 14: unary14(out, x, sx, len); break;
    case 15: unary15(out, x, sx, len); break;
    case 16: unary16(out, x, sx, len); break;
    case 17: unary17(out, x, sx, len); break;
    case 18: unary18(out, x, sx, len); break;
    case 19: unary19(out, x, sx, len); break;
    case 20: unary20(out, x, sx, len); break;
    case 21: unary21(out, x, sx, len); break;
    case 22: unary22(out, x, sx, len); break;
    case 23: unary23(out, x, sx, len); break;
    case 24: unary24(out, x, sx, len); break;
    case 25: unary25(out, x, sx, len); break;
    case 26: unary26(out, x, sx, len); break;
    case 27: unary27(out, x, sx, len); break;
    case 28: unary28(out, x, sx, len); break;
    default: unary29(out, x, sx, len); break;
  }
}

function binaryDispatch(op: i32, out: usize, a: usize, sa: i32, b: usize, sb: i32, len: i32): void {
  // biome-ignore format: one case per op
  switch (op) {
    case 0: binary0(out, a, sa, b, sb, len); break;
    case 1: binary1(out, a, sa, b, sb, len); break;
    case 2: binary2(out, a, sa, b, sb, len); break;
    case 3: binary3(out, a, sa, b, sb, len); break;
    case 4: binary4(out, a, sa, b, sb, len); break;
    case 5: binary5(out, a, sa, b, sb, len); break;
    case 6: binary6(out, a, sa, b, sb, len); break;
    case 7: binary7(out, a, sa, b, sb, len); break;
    case 8: binary8(out, a, sa, b, sb, len); break;
    case 9: binary9(out, a, sa, b, sb, len); break;
    case 10: binary10(out, a, sa, b, sb, len); break;
    case 11: binary11(out, a, sa, b, sb, len); break;
    case 12: binary12(out, a, sa, b, sb, len); break;
    case 13: binary13(out, a, sa, b, sb, len); break;
    case 14: binary14(out, a, sa, b, sb, len); break;
    case 15: binary15(out, a, sa, b, sb, len); break;
    case 16: binary16(out, a, sa, b, sb, len); break;
    case 17: binary17(out, a, sa, b, sb, len); break;
    case 18: binary18(out, a, sa, b, sb, len); break;
    case 19: binary19(out, a, sa, b, sb, len); break;
    case 20: binary20(out, a, sa, b, sb, len); break;
    case 21: binary21(out, a, sa, b, sb, len); break;
    case 22: binary22(out, a, sa, b, sb, len); break;
    case 23: binary23(out, a, sa, b, sb, len); break;
    case 24: binary24(out, a, sa, b, sb, len); break;
    case 25: binary25(out, a, sa, b, sb, len); break;
    default: binary26(out, a, sa, b, sb, len); break;
  }
}

const UNARY = 1;
const BINARY = 2;
const WHERE = 3;

@inline
function word(desc: usize, index: i32): i32 {
  return load<i32>(desc + (<usize>index << 2));
}

@inline
function strideOf(desc: usize, input: i32, dim: i32): i32 {
  return word(desc, 11 + 9 * input + dim);
}

/** Where part `part` of `parts` of count elements starts: contiguous ranges split at multiples of 16. */
@inline
function splitAt(count: i32, part: i32, parts: i32): i32 {
  if (part >= parts) return count;
  return <i32>((<i64>count * part) / parts) & ~15;
}

/**
 * Runs the rows of `kind` (UNARY, BINARY or WHERE: also its number of inputs) over part `part`
 * of the output, one innermost-dimension row at a time, in the scratch of thread `thread`.
 */
@inline
function forEachRow(kind: i32, op: i32, desc: usize, count: i32, part: i32, parts: i32, thread: i32): void {
  const start = splitAt(count, part, parts);
  const end = splitAt(count, part + 1, parts);
  if (start >= end) return;
  const inputs = kind;
  const ndim = word(desc, 0);
  const last = ndim - 1;
  const inner = word(desc, 1 + last);
  const index = desc + (<usize>(64 + 8 * thread) << 2);
  const out = <usize>word(desc, 9);
  const outShift = kind == UNARY ? shiftOf(outKind1(op)) : kind == BINARY ? shiftOf(outKind2(op)) : 2;
  const shift0 = kind == UNARY ? shiftOf(inKind1(op)) : kind == BINARY ? shiftOf(inKind2(op)) : 0;
  const shift1 = kind == BINARY ? shift0 : 2;
  const base0 = <usize>word(desc, 10);
  const base1 = <usize>word(desc, 19);
  const base2 = <usize>word(desc, 28);
  const s0 = strideOf(desc, 0, last);
  const s1 = inputs > 1 ? strideOf(desc, 1, last) : 0;
  const s2 = inputs > 2 ? strideOf(desc, 2, last) : 0;
  // Element offsets of the current position in each input.
  let o0 = 0;
  let o1 = 0;
  let o2 = 0;
  let rest = start;
  for (let d = last; d >= 0; d--) {
    const size = word(desc, 1 + d);
    const at = rest % size;
    rest /= size;
    store<i32>(index + (<usize>d << 2), at);
    o0 += at * strideOf(desc, 0, d);
    if (inputs > 1) o1 += at * strideOf(desc, 1, d);
    if (inputs > 2) o2 += at * strideOf(desc, 2, d);
  }
  let pos = start;
  let column = load<i32>(index + (<usize>last << 2));
  while (true) {
    const len = min(inner - column, end - pos);
    const dst = out + (<usize>pos << outShift);
    const p0 = base0 + (<usize>o0 << shift0);
    if (kind == UNARY) {
      unaryDispatch(op, dst, p0, s0, len);
    } else if (kind == BINARY) {
      binaryDispatch(op, dst, p0, s0, base1 + (<usize>o1 << shift1), s1, len);
    } else {
      whereRow(dst, p0, s0, base1 + (<usize>o1 << shift1), s1, base2 + (<usize>o2 << shift1), s2, len);
    }
    pos += len;
    if (pos >= end) return;
    // The next row starts at column 0 of the next outer position.
    o0 -= column * s0;
    o1 -= column * s1;
    o2 -= column * s2;
    column = 0;
    for (let d = last - 1; d >= 0; d--) {
      const at = index + (<usize>d << 2);
      const next = load<i32>(at) + 1;
      const size = word(desc, 1 + d);
      const t0 = strideOf(desc, 0, d);
      const t1 = inputs > 1 ? strideOf(desc, 1, d) : 0;
      const t2 = inputs > 2 ? strideOf(desc, 2, d) : 0;
      if (next < size) {
        store<i32>(at, next);
        o0 += t0;
        o1 += t1;
        o2 += t2;
        break;
      }
      store<i32>(at, 0);
      o0 -= (size - 1) * t0;
      o1 -= (size - 1) * t1;
      o2 -= (size - 1) * t2;
    }
  }
}

/** One-input elementwise op `op` (unary op, cast or copy) over the descriptor's operands. */
export function mapUnary(op: i32, desc: usize, count: i32, part: i32, parts: i32, thread: i32): void {
  forEachRow(UNARY, op, desc, count, part, parts, thread);
}

/** Two-input elementwise op `op`. */
export function mapBinary(op: i32, desc: usize, count: i32, part: i32, parts: i32, thread: i32): void {
  forEachRow(BINARY, op, desc, count, part, parts, thread);
}

/** where(cond, a, b) for 32-bit a and b. */
export function mapWhere(desc: usize, count: i32, part: i32, parts: i32, thread: i32): void {
  forEachRow(WHERE, 0, desc, count, part, parts, thread);
}
