/** Base class of every error tsgrad throws on bad input. `op` names the operation. */
export class TsgradError extends Error {
  constructor(
    /** The operation that refused its input, e.g. `'matmul'`; the message starts with it. */
    readonly op: string,
    detail: string,
  ) {
    super(
      `${typeof op === 'string' ? op : describe(op)}: ${typeof detail === 'string' ? detail : describe(detail)}`,
    );
    this.name = new.target.name;
  }
}

/** Shapes that do not fit together (broadcasting, matmul, reshape, concat…). */
export class ShapeError extends TsgradError {}
/** A dtype the op does not accept. */
export class DTypeError extends TsgradError {}
/** An axis or an index outside its range, or an index that is not an integer. */
export class IndexError extends TsgradError {}
/** Any other bad argument: a negative size, an unknown mode, a wrong parameter. */
export class ValueError extends TsgradError {}
/** An array too large to allocate (refused before allocating), or a backend out of memory. */
export class OutOfMemoryError extends TsgradError {}
/** Integer arithmetic whose result is not representable: int32 overflow, division by zero. */
export class ArithmeticError extends TsgradError {}

/**
 * Formats a shape for a message: `[2,3]`. Safe on hostile input (a non-number size is described, not
 * stringified).
 */
export function formatShape(shape: readonly number[]): string {
  if (!Array.isArray(shape)) return describe(shape);
  // Safe for hostile input: a non-number size is described, never stringified whole.
  return `[${shape.map((d) => (typeof d === 'number' ? d : describe(d))).join(',')}]`;
}

/** A short description of any value for an error message (never prints a whole structure). */
export function describe(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  // Quoted, so that '0.1' reads differently from 0.1.
  if (typeof value === 'string') return `'${value.length > 20 ? `${value.slice(0, 20)}…` : value}'`;
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) {
    const flat = value.length <= 8 && value.every((v) => typeof v === 'number' || typeof v === 'boolean');
    return flat ? `[${value.join(', ')}]` : `an array of length ${value.length}`;
  }
  if (typeof value === 'function') return 'a function';
  const name = (value as object).constructor?.name;
  return name === undefined || name === 'Object' ? 'an object' : `a ${name}`;
}
