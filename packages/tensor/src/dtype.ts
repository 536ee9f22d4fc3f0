import { ArithmeticError, DTypeError, describe, ValueError } from './errors.js';

/** The element types of tsgrad. `float32` is the default. */
export type DType = 'float32' | 'float64' | 'int32' | 'bool';

/** Every dtype, from the narrowest to the widest: `bool`, `int32`, `float32`, `float64`. */
export const DTYPES: readonly DType[] = ['bool', 'int32', 'float32', 'float64'];

/** Host storage for each dtype (bool is stored one byte per element, 0 or 1). */
export interface TypedArrayOf {
  /** The storage of float32 data. */
  float32: Float32Array;
  /** The storage of float64 data. */
  float64: Float64Array;
  /** The storage of int32 data. */
  int32: Int32Array;
  /** The storage of bool data: one byte per element, 0 or 1. */
  bool: Uint8Array;
}
/** Any of the typed arrays that hold a dtype's data. */
export type TypedArray = TypedArrayOf[DType];

const constructors = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  bool: Uint8Array,
} as const;

/** Bytes per element of each dtype. */
export const BYTES_PER_ELEMENT: Readonly<Record<DType, number>> = {
  float32: 4,
  float64: 8,
  int32: 4,
  bool: 1,
};

/** Checks that `dtype` (from user input) is a tsgrad dtype; returns it. */
export function checkDType(op: string, dtype: unknown): DType {
  if (typeof dtype !== 'string' || !(DTYPES as readonly string[]).includes(dtype)) {
    const shown = typeof dtype === 'string' ? `'${dtype}'` : describe(dtype);
    throw new DTypeError(op, `unknown dtype ${shown} (expected one of ${DTYPES.join(', ')})`);
  }
  return dtype as DType;
}

export const INT32_MIN = -(2 ** 31);
export const INT32_MAX = 2 ** 31 - 1;

/** `value` as an int32 element, or an error: int32 holds only integers in [-2^31, 2^31 - 1]. */
export function checkInt32(op: string, value: number): number {
  if (!Number.isInteger(value) || value < INT32_MIN || value > INT32_MAX) {
    throw new ArithmeticError(
      op,
      `${value} is not representable as int32 (integers in [${INT32_MIN}, ${INT32_MAX}]); cast explicitly or use a float dtype`,
    );
  }
  return value;
}

/**
 * The element `value` (a number or boolean) stored as `dtype`. Into int32 a number truncates
 * toward zero (as PyTorch's constructors do); NaN, ±Infinity and numbers outside the int32
 * range have no int32 value and throw (instead of storing 0 or a wrapped value).
 */
export function toElement(op: string, value: number | boolean, dtype: DType): number {
  const v = Number(value);
  if (dtype === 'bool') return v !== 0 ? 1 : 0;
  return dtype === 'int32' ? checkInt32(op, Number.isFinite(v) ? Math.trunc(v) : v) : v;
}

/** A zero-filled typed array of `size` elements for `dtype`. */
export function allocTyped<D extends DType>(dtype: D, size: number): TypedArrayOf[D] {
  checkDType('allocTyped', dtype);
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new ValueError('allocTyped', `size must be a non-negative integer, got ${describe(size)}`);
  }
  return new constructors[dtype](size) as TypedArrayOf[D];
}

/** Whether `dtype` is a floating-point dtype (float32 or float64). */
export function isFloat(dtype: DType): dtype is 'float32' | 'float64' {
  return dtype === 'float32' || dtype === 'float64';
}

/** The dtype a host typed array holds; a Uint8Array means bool. Other typed arrays are rejected. */
export function dtypeOfTyped(data: TypedArray): DType {
  if (!ArrayBuffer.isView(data))
    throw new DTypeError('array', `expected a typed array, got ${describe(data)}`);
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof Uint8Array) return 'bool';
  const name = (data as object).constructor.name;
  throw new DTypeError(
    'array',
    `unsupported typed array ${name} (use Float32Array, Float64Array, Int32Array or Uint8Array)`,
  );
}

/**
 * Type promotion, one table for every binary op:
 *
 * |         | bool    | int32   | float32 | float64 |
 * |---------|---------|---------|---------|---------|
 * | bool    | bool    | int32   | float32 | float64 |
 * | int32   | int32   | int32   | float32 | float64 |
 * | float32 | float32 | float32 | float32 | float64 |
 * | float64 | float64 | float64 | float64 | float64 |
 *
 * A plain JS number or boolean is a *weak* scalar (as in JAX and PyTorch): it takes the
 * other operand's dtype unless it needs a higher kind (a non-integer number against an
 * int32/bool array gives float32; an integer number against bool gives int32).
 */
export function promoteTypes(a: DType, b: DType): DType {
  return DTYPES.indexOf(a) >= DTYPES.indexOf(b) ? a : b;
}

/** The dtype a weak JS scalar takes when it meets an array of dtype `other`. */
export function weakScalarType(value: number | boolean, other: DType): DType {
  if (typeof value === 'boolean') return other;
  if (isFloat(other)) return other;
  return Number.isInteger(value) ? promoteTypes(other, 'int32') : 'float32';
}

/** The dtype a JS scalar has on its own (no other operand). */
export function scalarType(value: number | boolean): DType {
  return typeof value === 'boolean' ? 'bool' : 'float32';
}

/** The float dtype an op like `exp` or true division computes in for inputs of `dtype`. */
export function toFloat(dtype: DType): 'float32' | 'float64' {
  return dtype === 'float64' ? 'float64' : 'float32';
}
