import type { Shape } from '@tsgrad/tensor';

// Row-major index arithmetic for the float64 spec references of movement and indexing ops
// (written independently of the kernels they check). Internal: not re-exported.

export function sizeOf(shape: Shape): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** The coordinates of row-major position `flat` in `shape`. */
export function coordsOf(flat: number, shape: Shape): number[] {
  const coords = new Array<number>(shape.length);
  let rest = flat;
  for (let d = shape.length - 1; d >= 0; d--) {
    coords[d] = rest % shape[d];
    rest = Math.floor(rest / shape[d]);
  }
  return coords;
}

/** The row-major position of `coords` in `shape`. */
export function flatOf(coords: readonly number[], shape: Shape): number {
  let at = 0;
  for (let d = 0; d < shape.length; d++) at = at * shape[d] + coords[d];
  return at;
}

/** Builds an array of `shape` whose element at each coordinate is `value(coords)`. */
export function tabulate(shape: Shape, value: (coords: number[]) => number): Float64Array {
  const out = new Float64Array(sizeOf(shape));
  for (let i = 0; i < out.length; i++) out[i] = value(coordsOf(i, shape));
  return out;
}
