// Transcendental functions on four float32 lanes. Each is within 1 ulp of the correctly
// rounded result (the polynomials were fitted as minimax approximations for this file, and
// the whole evaluation checked in float32 against float64 Math); IEEE special values (NaN,
// ±Inf, ±0, subnormals) come out as float64 Math gives them after rounding to float32.
//
// Constants live in static memory and are read with load32_splat/load64_splat: one load
// each, where V8 builds every v128.const through a general register in three instructions
// and rebuilds it on every use inside a loop. (Each worker's instantiation rewrites these
// bytes of the shared memory with the same values, which is harmless.)

@inline
function k(at: usize): v128 {
  return v128.load32_splat(at);
}

/** Coefficient i of a float32 table. */
@inline
function c(table: usize, i: i32): v128 {
  return v128.load32_splat(table + (<usize>i << 2));
}

const ONE = memory.data<f32>([1]);
const TWO = memory.data<f32>([2]);
const MINUS_HALF = memory.data<f32>([-0.5]);
const INFINITY = memory.data<f32>([Infinity]);
const MINUS_INFINITY = memory.data<f32>([-Infinity]);
const QUIET_NAN = memory.data<f32>([NaN]);
const SIGN_MASK = memory.data<i32>([0x80000000]);

/** a·b + c, fused in the relaxed-SIMD build. */
@inline
function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** c − a·b, fused in the relaxed-SIMD build. */
@inline
function nmadd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_nmadd(a, b, c);
  return f32x4.sub(c, f32x4.mul(a, b));
}

@inline
function copySign(magnitude: v128, from: v128): v128 {
  return v128.or(magnitude, v128.and(from, k(SIGN_MASK)));
}

/** Clamps to [lo, hi], keeping NaN (pmax/pmin return their first operand unless the other wins). */
@inline
function clamp(x: v128, lo: usize, hi: usize): v128 {
  return f32x4.pmin(f32x4.pmax(x, k(lo)), k(hi));
}

// Polynomials are evaluated by Estrin's scheme, which halves the chain of dependent
// multiply-adds that Horner's rule builds (the loops are bound by that latency).

/** t[i] + t[i+1]·x */
@inline
function pair(t: usize, i: i32, x: v128): v128 {
  return madd(c(t, i + 1), x, c(t, i));
}

/** Σ t[i]·x^i over 5, 6, 7 or 8 coefficients, given x² (and x⁴ past 6). */
@inline
function estrin(t: usize, count: i32, x: v128, x2: v128): v128 {
  if (count == 5) return madd(madd(c(t, 4), x2, pair(t, 2, x)), x2, pair(t, 0, x));
  if (count == 6) return madd(madd(pair(t, 4, x), x2, pair(t, 2, x)), x2, pair(t, 0, x));
  const x4 = f32x4.mul(x2, x2);
  const high = count == 7 ? madd(c(t, 6), x2, pair(t, 4, x)) : madd(pair(t, 6, x), x2, pair(t, 4, x));
  return madd(high, x4, madd(pair(t, 2, x), x2, pair(t, 0, x)));
}

// --- e^x and e^x − 1 ---------------------------------------------------------------------
// x = n·ln2 + r with |r| ≤ ln2/2. Adding 1.5·2^23 + b to x·log2(e) rounds it to an integer
// held in the low mantissa bits: one add gives n + b in the low bits and, after subtracting
// the shifter back, n as a float. With b = 127, shifting those bits up to the exponent field
// gives 2^n. ln 2 = LN2_HI + LN2_LO, with n·LN2_HI exact.
// |x| ≤ 87 keeps 2^n a normal float; wider lanes (rare) take an out-of-line path.

const LOG2E = memory.data<f32>([1.44269504]);
const SHIFTER_127 = memory.data<f32>([12583039]);
const SHIFTER_254 = memory.data<f32>([12583166]);
const SHIFTER_BITS = memory.data<i32>([0x4b400000]);
const LN2_HI = memory.data<f32>([0.693359375]);
const MINUS_LN2_LO = memory.data<f32>([2.12194440e-4]);
const FAST_LIMIT = memory.data<f32>([87]);
const EXP_LOW = memory.data<f32>([-104]);
const EXP_HIGH = memory.data<f32>([89]);
const EXPM1_LOW = memory.data<f32>([-30]);
const SCALE_LIMIT = memory.data<i32>([126 + 254]);
/** (e^r − 1 − r)/r², lowest degree first: relative error of e^r below 4e-9. */
const EXP_TAIL = memory.data<f32>([
  0.4999999403953552, 0.16666515171527863, 0.04166845604777336, 0.008369418792426586, 0.0013813144760206342,
]);

@inline
function outsideFastRange(x: v128): bool {
  return v128.any_true(f32x4.gt(f32x4.abs(x), k(FAST_LIMIT)));
}

/** r = x − n·ln2 for the n held by `shifted`. */
@inline
function remainderLn2(x: v128, shifted: v128, shifter: usize): v128 {
  const n = f32x4.sub(shifted, k(shifter));
  return madd(n, k(MINUS_LN2_LO), nmadd(n, k(LN2_HI), x));
}

/** e^r − 1 for the reduced argument r. */
@inline
function expm1Reduced(r: v128): v128 {
  const r2 = f32x4.mul(r, r);
  return madd(r2, estrin(EXP_TAIL, 5, r, r2), r);
}

/**
 * y·2^n from m = n + 254, n in [-150, 128], as two factors 2^⌊n/2⌋·2^⌈n/2⌉ that are normal
 * floats: exact, with a single rounding for subnormal results and Inf past the range.
 */
@inline
function scaleTwice(y: v128, m: v128): v128 {
  const half = i32x4.shr_s(m, 1);
  return f32x4.mul(f32x4.mul(y, i32x4.shl(half, 23)), i32x4.shl(i32x4.sub(m, half), 23));
}

@inline
export function expV(x: v128): v128 {
  if (outsideFastRange(x)) return expWide(x);
  const shifted = madd(x, k(LOG2E), k(SHIFTER_127));
  const y = f32x4.add(expm1Reduced(remainderLn2(x, shifted, SHIFTER_127)), k(ONE));
  return f32x4.mul(y, i32x4.shl(shifted, 23));
}

/** e^x for lanes beyond ±87: subnormal results, overflow and ±Inf. */
function expWide(x: v128): v128 {
  const clamped = clamp(x, EXP_LOW, EXP_HIGH);
  const shifted = madd(clamped, k(LOG2E), k(SHIFTER_254));
  const y = f32x4.add(expm1Reduced(remainderLn2(clamped, shifted, SHIFTER_254)), k(ONE));
  return scaleTwice(y, i32x4.sub(shifted, k(SHIFTER_BITS)));
}

@inline
export function expm1V(x: v128): v128 {
  if (outsideFastRange(x)) return expm1Wide(x);
  const shifted = madd(x, k(LOG2E), k(SHIFTER_127));
  const em = expm1Reduced(remainderLn2(x, shifted, SHIFTER_127));
  // 2^n·(e^r − 1) + (2^n − 1): no cancellation for n ≠ 0, and exactly e^r − 1 for n = 0.
  const s = i32x4.shl(shifted, 23);
  const result = madd(s, em, f32x4.sub(s, k(ONE)));
  // Keeps the sign of −0.
  return v128.bitselect(x, result, f32x4.eq(x, i32x4.splat(0)));
}

/** e^x − 1 for lanes beyond ±87. */
function expm1Wide(x: v128): v128 {
  const clamped = clamp(x, EXPM1_LOW, EXP_HIGH);
  const shifted = madd(clamped, k(LOG2E), k(SHIFTER_254));
  const em = expm1Reduced(remainderLn2(clamped, shifted, SHIFTER_254));
  const m = i32x4.sub(shifted, k(SHIFTER_BITS));
  const s = i32x4.shl(i32x4.sub(m, i32x4.splat(127)), 23);
  let result = madd(s, em, f32x4.sub(s, k(ONE)));
  const huge = i32x4.gt_s(m, k(SCALE_LIMIT));
  if (v128.any_true(huge)) {
    // 2^n overflows a float (x > 88.3): e^x − 1 rounds to e^x there.
    result = v128.bitselect(f32x4.sub(scaleTwice(f32x4.add(em, k(ONE)), m), k(ONE)), result, huge);
  }
  return v128.bitselect(x, result, f32x4.eq(x, i32x4.splat(0)));
}

// --- ln x and ln(1 + x) ---------------------------------------------------------------------
// x = m·2^e with m in [√½, √2), and ln(1 + f) = f − f²/2 + f³·Q(f) for f = m − 1.

const LOG_NORMAL_MIN = memory.data<i32>([0x00800000]);
const LOG_NORMAL_SPAN = memory.data<i32>([0x7f000000]);
const SQRT_HALF_BITS = memory.data<i32>([0x3f3504f3]);
const SMALLEST_NORMAL = memory.data<f32>([1.17549435e-38]);
const TWO_POW_23 = memory.data<f32>([8388608]);
const TWENTY_THREE = memory.data<i32>([23]);
const LOG1P_EXACT_LIMIT = memory.data<f32>([33554432]);
const LN2_LO = memory.data<f32>([-2.12194440e-4]);
/** Q, lowest degree first: relative error of ln(1 + f) below 6e-9. */
const LOG_TAIL = memory.data<f32>([
  0.3333333134651184, -0.2500082552433014, 0.20001235604286194, -0.1662314385175705, 0.14201368391513824, -0.13162004947662354, 0.1276542693376541, -0.07634386420249939,
]);

/**
 * ln(x) + extra, with `extra` (log1p's rounding correction) added before the final rounding.
 */
@inline
function logPlus(x: v128, extra: v128, withExtra: bool): v128 {
  // Positive, normal and finite lanes need no special treatment.
  const usual = !v128.any_true(i32x4.ge_u(i32x4.sub(x, k(LOG_NORMAL_MIN)), k(LOG_NORMAL_SPAN)));
  let scaled = x;
  let exponentFix = i32x4.splat(0);
  if (!usual) {
    const subnormal = f32x4.lt(x, k(SMALLEST_NORMAL));
    scaled = v128.bitselect(f32x4.mul(x, k(TWO_POW_23)), x, subnormal);
    exponentFix = v128.and(subnormal, k(TWENTY_THREE));
  }
  const e = i32x4.shr_s(i32x4.sub(scaled, k(SQRT_HALF_BITS)), 23);
  const f = f32x4.sub(i32x4.sub(scaled, i32x4.shl(e, 23)), k(ONE));
  const ef = f32x4.convert_i32x4_s(i32x4.sub(e, exponentFix));
  const f2 = f32x4.mul(f, f);
  const q = estrin(LOG_TAIL, 8, f, f2);
  let z = withExtra ? madd(ef, k(LN2_LO), extra) : f32x4.mul(ef, k(LN2_LO));
  z = madd(f32x4.mul(f2, f), q, z);
  z = madd(f2, k(MINUS_HALF), z);
  let result = madd(ef, k(LN2_HI), f32x4.add(f, z));
  if (!usual) {
    result = v128.bitselect(x, result, v128.not(f32x4.lt(x, k(INFINITY))));
    result = v128.bitselect(k(QUIET_NAN), result, f32x4.lt(x, i32x4.splat(0)));
    result = v128.bitselect(k(MINUS_INFINITY), result, f32x4.eq(x, i32x4.splat(0)));
  }
  return result;
}

@inline
export function logV(x: v128): v128 {
  return logPlus(x, x, false);
}

@inline
export function log1pV(x: v128): v128 {
  const u = f32x4.add(x, k(ONE));
  // u = 1 + x rounded; (x − (u − 1))/u is that rounding's error relative to u.
  let correction = f32x4.div(f32x4.sub(x, f32x4.sub(u, k(ONE))), u);
  correction = v128.and(correction, f32x4.lt(x, k(LOG1P_EXACT_LIMIT)));
  const result = logPlus(u, correction, true);
  return v128.bitselect(x, result, f32x4.eq(x, i32x4.splat(0)));
}

// --- tanh and erf ---------------------------------------------------------------------------

const TANH_SMALL = memory.data<f32>([0.625]);
/** tanh t = t + t³·P(t²) on [0, 0.625), P of lowest degree first. */
const TANH_POLY = memory.data<f32>([
  -0.3333328068256378, 0.1333143562078476, -0.053739115595817566, 0.020637046545743942, -0.0057026115246117115,
]);

@inline
export function tanhV(x: v128): v128 {
  const t = f32x4.abs(x);
  const small = f32x4.lt(t, k(TANH_SMALL));
  const u = f32x4.mul(t, t);
  const p = estrin(TANH_POLY, 5, u, f32x4.mul(u, u));
  let result = madd(f32x4.mul(t, u), p, t);
  if (!v128.all_true<i32>(small)) {
    // tanh t = 1 − 2/(e^{2t} + 1), without cancellation for t ≥ 0.625.
    const e = expV(f32x4.add(t, t));
    const large = f32x4.sub(k(ONE), f32x4.div(k(TWO), f32x4.add(e, k(ONE))));
    result = v128.bitselect(result, large, small);
  }
  return copySign(result, x);
}

const ERF_SMALL = memory.data<f32>([0.875]);
const ERF_ONE = memory.data<f32>([4]);
/** erf t = t + t·R(t²) on [0, 0.875), R of degree 5, lowest first. */
const ERF_POLY = memory.data<f32>([
  0.12837915122509003, -0.3761255145072937, 0.11282449960708618, -0.026791255921125412, 0.00503183901309967, -0.000620128819718957,
]);
/** S(t) = ln(erfc t) + t² on [0.875, 4], degree 6, lowest first. */
const ERFC_LOG = memory.data<f32>([
  -0.00013249761832412332, -1.1279407739639282, 0.36327072978019714, -0.10433468967676163, 0.022423774003982544, -0.0030932060908526182, 0.00020109149045310915,
]);

@inline
export function erfV(x: v128): v128 {
  const t = f32x4.abs(x);
  const small = f32x4.lt(t, k(ERF_SMALL));
  const u = f32x4.mul(t, t);
  const p = estrin(ERF_POLY, 6, u, f32x4.mul(u, u));
  let result = madd(t, p, t);
  if (!v128.all_true<i32>(small)) {
    // erf t = 1 − e^{S(t) − t²}; past 4, erf rounds to 1.
    const b = f32x4.pmin(t, k(ERF_ONE));
    const s = estrin(ERFC_LOG, 7, b, f32x4.mul(b, b));
    const large = f32x4.sub(k(ONE), expV(f32x4.sub(s, f32x4.mul(b, b))));
    result = v128.bitselect(result, large, small);
  }
  return copySign(result, x);
}

// --- sin and cos ----------------------------------------------------------------------------
// Reduced by multiples of π/2 in float64, exactly for |x| < 2^19: π/2 = PIO2_HI + PIO2_LO
// with 33 significant bits in PIO2_HI, so n·PIO2_HI is exact for n < 2^20. Taylor polynomials
// in float64 then leave only the final rounding to float32. Larger |x| go through Math.

@inline
function d(at: usize): v128 {
  return v128.load64_splat(at);
}

@inline
function dc(table: usize, i: i32): v128 {
  return v128.load64_splat(table + (<usize>i << 3));
}

const REDUCTION_LIMIT = memory.data<f32>([524288]);
const PIO2_HI = memory.data<f64>([1.5707963267341256]);
const PIO2_LO = memory.data<f64>([6.077100506506192e-11]);
const TWO_OVER_PI = memory.data<f64>([0.6366197723675814]);
const SHIFTER64 = memory.data<f64>([6755399441055744]);
const ONE64 = memory.data<f64>([1]);
const SIN_TAYLOR = memory.data<f64>([
  -1.0 / 6.0, 1.0 / 120.0, -1.0 / 5040.0, 1.0 / 362880.0, -1.0 / 39916800.0, 1.0 / 6227020800.0,
]);
const COS_TAYLOR = memory.data<f64>([
  -0.5, 1.0 / 24.0, -1.0 / 720.0, 1.0 / 40320.0, -1.0 / 3628800.0, 1.0 / 479001600.0,
]);

@inline
function madd64(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f64x2.relaxed_madd(a, b, c);
  return f64x2.add(f64x2.mul(a, b), c);
}

/** Σ t[i]·x^i over 6 float64 coefficients, given x² and x⁴. */
@inline
function estrin64(t: usize, x: v128, x2: v128): v128 {
  return madd64(madd64(pair64(t, 4, x), x2, pair64(t, 2, x)), x2, pair64(t, 0, x));
}

@inline
function pair64(t: usize, i: i32, x: v128): v128 {
  return madd64(dc(t, i + 1), x, dc(t, i));
}

/** sin r and cos r for |r| ≤ π/4 (float64 lanes), demoted to float32 lanes 0–1. */
@inline
function sinPoly(r: v128, r2: v128, r4: v128): v128 {
  return f32x4.demote_f64x2_zero(madd64(f64x2.mul(r, r2), estrin64(SIN_TAYLOR, r2, r4), r));
}

@inline
function cosPoly(r2: v128, r4: v128): v128 {
  return f32x4.demote_f64x2_zero(madd64(r2, estrin64(COS_TAYLOR, r2, r4), d(ONE64)));
}

@inline
function joinHalves(low: v128, high: v128): v128 {
  return v128.shuffle<i32>(low, high, 0, 1, 4, 5);
}

/** sin (quadrantShift 0) or cos (quadrantShift 1) of four lanes. */
@inline
function sinCos(x: v128, quadrantShift: i32): v128 {
  if (v128.any_true(v128.not(f32x4.lt(f32x4.abs(x), k(REDUCTION_LIMIT))))) {
    return sinCosLanes(x, quadrantShift);
  }
  const xl = f64x2.promote_low_f32x4(x);
  const xh = f64x2.promote_low_f32x4(v128.shuffle<i32>(x, x, 2, 3, 0, 1));
  // As for exp: adding 1.5·2^52 rounds to an integer n held in the low 32 bits.
  const sl = madd64(xl, d(TWO_OVER_PI), d(SHIFTER64));
  const sh = madd64(xh, d(TWO_OVER_PI), d(SHIFTER64));
  const nl = f64x2.sub(sl, d(SHIFTER64));
  const nh = f64x2.sub(sh, d(SHIFTER64));
  const rl = f64x2.sub(f64x2.sub(xl, f64x2.mul(nl, d(PIO2_HI))), f64x2.mul(nl, d(PIO2_LO)));
  const rh = f64x2.sub(f64x2.sub(xh, f64x2.mul(nh, d(PIO2_HI))), f64x2.mul(nh, d(PIO2_LO)));
  const rl2 = f64x2.mul(rl, rl);
  const rh2 = f64x2.mul(rh, rh);
  const rl4 = f64x2.mul(rl2, rl2);
  const rh4 = f64x2.mul(rh2, rh2);
  const s = joinHalves(sinPoly(rl, rl2, rl4), sinPoly(rh, rh2, rh4));
  const co = joinHalves(cosPoly(rl2, rl4), cosPoly(rh2, rh4));
  const q = i32x4.add(v128.shuffle<i32>(sl, sh, 0, 2, 4, 6), i32x4.splat(quadrantShift));
  // Quadrant q (mod 4) of r: sin, cos, −sin, −cos.
  const swapped = v128.bitselect(co, s, i32x4.ne(v128.and(q, i32x4.splat(1)), i32x4.splat(0)));
  const result = v128.xor(swapped, i32x4.shl(v128.and(q, i32x4.splat(2)), 30));
  // sin(±0) = ±0 (the reduction gives +0).
  return quadrantShift == 0 ? v128.bitselect(x, result, f32x4.eq(x, i32x4.splat(0))) : result;
}

/** The rare lanes too large for the fast reduction (and NaN, ±Inf), through float64 Math. */
function sinCosLanes(x: v128, quadrantShift: i32): v128 {
  let out = x;
  for (let lane = 0; lane < 4; lane++) {
    const v = <f64>f32x4.extract_lane(x, 0);
    out = f32x4.replace_lane(out, 0, <f32>(quadrantShift == 0 ? Math.sin(v) : Math.cos(v)));
    x = v128.shuffle<i32>(x, x, 1, 2, 3, 0);
    out = v128.shuffle<i32>(out, out, 1, 2, 3, 0);
  }
  return out;
}

@inline
export function sinV(x: v128): v128 {
  return sinCos(x, 0);
}

@inline
export function cosV(x: v128): v128 {
  return sinCos(x, 1);
}
