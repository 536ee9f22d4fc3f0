import { type FunctionBuilder, Op, Simd, ValType } from './module.js';

// Float32 math emitted inline into generated kernels, on four lanes. The algorithm is the SIMD
// kernels' (assembly/math.ts, expV) with the same polynomial, written for the fewest
// instructions in V8's x64 code: the loop of a fused y = e^x·x + 1 is bound by how many
// instructions it issues, not by their latency (evaluation orders with shorter dependency
// chains measured the same).

/** What an emitter needs from the kernel around it. */
export interface MathContext {
  readonly fn: FunctionBuilder;
  /** Pushes `value` on all four lanes. */
  readonly constant: (value: number) => void;
  /**
   * Whether to use relaxed SIMD's multiply-add (fused where the CPU has FMA, as V8 on x64
   * with FMA3 does). The error bounds below hold fused or not.
   */
  readonly relaxed: boolean;
}

/** Past this |x| a lane takes the kernels' full-range e^x (subnormal results, overflow, ±Inf). */
const FAST_LIMIT = 87;
/** ln 2 = LN2_HI + LN2_LO, with n·LN2_HI exact for |n| ≤ 2⁸. */
const LN2_HI = 0.693359375;
const LN2_LO = -2.1219444e-4;
/** 1.5·2²³ + 127: adding it rounds to an integer held in the low mantissa bits, biased by 127. */
const SHIFTER = 12583039;
/**
 * (e^r − 1 − r)/r², lowest degree first, for |r| ≤ ln2/2 (assembly/math.ts's EXP_TAIL). This
 * degree is the lowest within 1 ulp: a minimax fit of one degree less (fitted to compare) made
 * y = e^x·x + 1 14 % faster but is 3 ulps off at worst, past the 2 ulps the SIMD kernels are
 * held to.
 */
const EXP_TAIL = [
  0.4999999403953552, 0.16666515171527863, 0.04166845604777336, 0.008369418792426586, 0.0013813144760206342,
];

/**
 * Emits e^x of local `x` into local `result`, within 1 ulp of the correctly rounded value.
 * Lanes with |x| ≤ 87 (and NaN) take the inline path; if any lane is beyond, the whole vector
 * calls `wide` (a function v128 → v128, the kernels' vectorExp).
 */
export function emitExp(m: MathContext, x: number, result: number, wide: number): void {
  const { fn, constant } = m;
  const value = (local: number) => () => fn.get(local);
  const splat = (v: number) => () => constant(v);
  /** a·b + c, each operand pushed by its callback. */
  const multiplyAdd = (a: () => void, b: () => void, c: () => void) => {
    a();
    b();
    if (m.relaxed) {
      c();
      fn.simd(Simd.f32x4RelaxedMadd);
    } else {
      fn.simd(Simd.f32x4Mul);
      c();
      fn.simd(Simd.f32x4Add);
    }
  };
  // x² > 87² exactly when |x| > 87 (87² is exact, and the next float's square rounds above
  // it); a mul and a lane bitmask are fewer instructions than abs (V8 builds its mask at each
  // use) and any_true.
  fn.get(x).get(x).simd(Simd.f32x4Mul);
  constant(FAST_LIMIT * FAST_LIMIT);
  fn.simd(Simd.f32x4Gt).simd(Simd.i32x4Bitmask);
  fn.if().get(x).call(wide).set(result).op(Op.else);
  const shifted = fn.local(ValType.v128);
  const n = fn.local(ValType.v128);
  const r = fn.local(ValType.v128);
  const r2 = fn.local(ValType.v128);
  const q = fn.local(ValType.v128);
  // x = n·ln2 + r: shifted = x·log2(e) + SHIFTER holds n + 127 in its low bits; n as a float.
  multiplyAdd(value(x), splat(Math.LOG2E), splat(SHIFTER));
  fn.tee(shifted);
  constant(SHIFTER);
  fn.simd(Simd.f32x4Sub).set(n);
  multiplyAdd(value(n), splat(-LN2_HI), value(x));
  fn.set(r);
  multiplyAdd(value(n), splat(-LN2_LO), value(r));
  fn.tee(r).get(r).simd(Simd.f32x4Mul).set(r2);
  // q = e^r − 1 = r + r²·P(r), P by Estrin's scheme: ((c4·r² + (c2 + c3·r))·r² + (c0 + c1·r)).
  const c = EXP_TAIL;
  const pair = (i: number) => () => multiplyAdd(splat(c[i + 1]), value(r), splat(c[i]));
  const high = () => multiplyAdd(splat(c[4]), value(r2), pair(2));
  multiplyAdd(() => multiplyAdd(high, value(r2), pair(0)), value(r2), value(r));
  fn.set(q);
  // e^x = 2ⁿ·(1 + q) = 2ⁿ·q + 2ⁿ, with 2ⁿ from the exponent bits of shifted.
  fn.get(shifted).i32(23).simd(Simd.i32x4Shl).set(shifted);
  multiplyAdd(value(q), value(shifted), value(shifted));
  fn.set(result);
  fn.end();
}
