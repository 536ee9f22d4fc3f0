import * as T from '@tsgrad/tensor';

// The numbers a transformation derives from its state (step counts, bias corrections, decays):
// JS numbers in eager code; 0-d float64 arrays when the state holds its counts as arrays
// (`scalarsAsArrays`), so that a compiled update (`jit`, `compileStep`) reads each call's step
// instead of baking in the first one. Both forms give the same float32 values.

/** A number, or a 0-d float64 array holding one. */
export type Scalar = number | T.NDArray;

type Binary = (a: T.ArrayOrScalar, b: T.ArrayOrScalar) => T.NDArray;

const binary =
  (onArrays: Binary, onNumbers: (a: number, b: number) => number) =>
  (a: Scalar, b: Scalar): Scalar =>
    typeof a === 'number' && typeof b === 'number' ? onNumbers(a, b) : onArrays(a, b);

export const add = binary(T.add, (a, b) => a + b);
export const sub = binary(T.sub, (a, b) => a - b);
export const mul = binary(T.mul, (a, b) => a * b);
export const div = binary(T.div, (a, b) => a / b);
export const pow = binary(T.pow, (a, b) => a ** b);
export const minimum = binary(T.minimum, Math.min);
export const sqrt = (a: Scalar): Scalar => (typeof a === 'number' ? Math.sqrt(a) : T.sqrt(a));

/** `s` as an operand of an array of `dtype`: a number stays a (weak) number, an array is cast. */
export const operand = (s: Scalar, dtype: T.DType): T.ArrayOrScalar =>
  typeof s === 'number' ? s : T.cast(s, dtype);
