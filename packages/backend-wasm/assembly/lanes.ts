// Loading and storing four elements of one dtype as the four 32-bit lanes of a v128: float32
// and int32 lanes hold the element bits, bool lanes hold the byte (0 or 1) as an i32, and
// float64 elements are demoted to float32 lanes on load and promoted back on store (only the
// float32 ↔ float64 casts use them).

export const F32: i32 = 0;
export const I32: i32 = 1;
export const BOOL: i32 = 2;
export const F64: i32 = 3;

/** log2 of the element size in bytes. */
@inline
export function shiftOf(kind: i32): i32 {
  return kind == BOOL ? 0 : kind == F64 ? 3 : 2;
}

/** Four consecutive elements at p. */
@inline
export function loadV(kind: i32, p: usize): v128 {
  if (kind == BOOL) return i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(v128.load32_zero(p)));
  if (kind == F64) {
    return v128.shuffle<i32>(f32x4.demote_f64x2_zero(v128.load(p)), f32x4.demote_f64x2_zero(v128.load(p, 16)), 0, 1, 4, 5);
  }
  return v128.load(p);
}

/** The element at p in every lane. */
@inline
export function splatV(kind: i32, p: usize): v128 {
  if (kind == BOOL) return i32x4.splat(<i32>load<u8>(p));
  if (kind == F64) return f32x4.splat(<f32>load<f64>(p));
  return v128.load32_splat(p);
}

/** The element at p + lane·step bytes in lanes below `count` (1–4), zero in the others. */
@inline
export function gatherV(kind: i32, p: usize, step: i32, count: i32): v128 {
  let v = i32x4.splat(0);
  const q = <usize>step;
  if (kind == BOOL) {
    v = i32x4.replace_lane(v, 0, <i32>load<u8>(p));
    if (count > 1) v = i32x4.replace_lane(v, 1, <i32>load<u8>(p + q));
    if (count > 2) v = i32x4.replace_lane(v, 2, <i32>load<u8>(p + 2 * q));
    if (count > 3) v = i32x4.replace_lane(v, 3, <i32>load<u8>(p + 3 * q));
  } else if (kind == F64) {
    v = f32x4.replace_lane(v, 0, <f32>load<f64>(p));
    if (count > 1) v = f32x4.replace_lane(v, 1, <f32>load<f64>(p + q));
    if (count > 2) v = f32x4.replace_lane(v, 2, <f32>load<f64>(p + 2 * q));
    if (count > 3) v = f32x4.replace_lane(v, 3, <f32>load<f64>(p + 3 * q));
  } else {
    v = v128.load32_lane(p, v, 0);
    if (count > 1) v = v128.load32_lane(p + q, v, 1);
    if (count > 2) v = v128.load32_lane(p + 2 * q, v, 2);
    if (count > 3) v = v128.load32_lane(p + 3 * q, v, 3);
  }
  return v;
}

/** Stores the four lanes as consecutive elements at p. */
@inline
export function storeV(kind: i32, p: usize, v: v128): void {
  if (kind == BOOL) {
    const halves = i16x8.narrow_i32x4_u(v, v);
    v128.store32_lane(p, i8x16.narrow_i16x8_u(halves, halves), 0);
  } else if (kind == F64) {
    v128.store(p, f64x2.promote_low_f32x4(v));
    v128.store(p, f64x2.promote_low_f32x4(v128.shuffle<i32>(v, v, 2, 3, 0, 1)), 16);
  } else {
    v128.store(p, v);
  }
}

/** Stores the lanes below `count` (1–3) as consecutive elements at p. */
@inline
export function storePartial(kind: i32, p: usize, v: v128, count: i32): void {
  if (kind == BOOL) {
    store<u8>(p, <u8>i32x4.extract_lane(v, 0));
    if (count > 1) store<u8>(p, <u8>i32x4.extract_lane(v, 1), 1);
    if (count > 2) store<u8>(p, <u8>i32x4.extract_lane(v, 2), 2);
  } else if (kind == F64) {
    store<f64>(p, <f64>f32x4.extract_lane(v, 0));
    if (count > 1) store<f64>(p, <f64>f32x4.extract_lane(v, 1), 8);
    if (count > 2) store<f64>(p, <f64>f32x4.extract_lane(v, 2), 16);
  } else {
    v128.store32_lane(p, v, 0);
    if (count > 1) v128.store32_lane(p, v, 1, 4);
    if (count > 2) v128.store32_lane(p, v, 2, 8);
  }
}
