/** Base class of every error tsgrad throws on bad input. `op` names the operation. */
export class TsgradError extends Error {
  constructor(
    readonly op: string,
    detail: string,
  ) {
    super(`${op}: ${detail}`);
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

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}
