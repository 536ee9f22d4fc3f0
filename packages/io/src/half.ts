// Bit-level conversions of 16-bit floats to float32 bit patterns. Working on bits (not on JS
// numbers) keeps NaN payloads and makes every conversion exact: float32 holds every float16
// and bfloat16 value, subnormals included.

/** The float32 bits of an IEEE 754 binary16 value. */
export function float16ToFloat32Bits(half: number): number {
  const sign = (half & 0x8000) << 16;
  const exponent = (half >> 10) & 0x1f;
  const mantissa = half & 0x3ff;
  // Infinity and NaN: the all-ones exponent, mantissa (the NaN payload) moved up.
  if (exponent === 0x1f) return (sign | 0x7f800000 | (mantissa << 13)) >>> 0;
  // Normal numbers: rebias the exponent from 15 to 127.
  if (exponent !== 0) return (sign | ((exponent + 112) << 23) | (mantissa << 13)) >>> 0;
  if (mantissa === 0) return sign >>> 0;
  // Subnormals (mantissa × 2^-24) are normal in float32: shift the leading 1 into the hidden bit.
  let shifted = mantissa;
  let biased = 113;
  while ((shifted & 0x400) === 0) {
    shifted <<= 1;
    biased--;
  }
  return (sign | (biased << 23) | ((shifted & 0x3ff) << 13)) >>> 0;
}

/** The float32 bits of a bfloat16 value: bfloat16 is the top half of a float32. */
export function bfloat16ToFloat32Bits(half: number): number {
  return (half << 16) >>> 0;
}
