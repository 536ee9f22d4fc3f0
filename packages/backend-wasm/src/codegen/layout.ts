import type { View } from '@tsgrad/tensor';

/**
 * The loop nest of an elementwise kernel: dimensions outermost first, with size-1 dimensions
 * dropped and neighbours that every operand walks as one merged (a contiguous operand becomes
 * one long row; a bias `[B, N] + [N]` stays B rows of N). Strides are in elements, per operand.
 */
export interface LoopLayout {
  readonly shape: readonly number[];
  /** strides[j][d]: operand j's stride along dimension d. */
  readonly strides: readonly (readonly number[])[];
  /** A reduction's layout: the number of leading dimensions kept (the others are reduced). */
  readonly kept?: number;
}

/** The merged loop nest over `shape` for operands with these strides (each of `shape`'s rank). */
export function loopLayout(
  shape: readonly number[],
  operandStrides: readonly (readonly number[])[],
): LoopLayout {
  const dims: number[] = [];
  const strides: number[][] = operandStrides.map(() => []);
  for (let d = shape.length - 1; d >= 0; d--) {
    const size = shape[d];
    if (size === 1) continue;
    const inner = dims.length - 1;
    if (inner >= 0 && operandStrides.every((s, j) => s[d] === strides[j][inner] * dims[inner])) {
      dims[inner] *= size;
      continue;
    }
    dims.push(size);
    operandStrides.forEach((s, j) => {
      strides[j].push(s[d]);
    });
  }
  if (dims.length === 0) {
    dims.push(1);
    for (const s of strides) s.push(0);
  }
  return { shape: dims.reverse(), strides: strides.map((s) => s.reverse()) };
}

/** The layout of contiguous outputs and (strided) inputs, all of the outputs' shape. */
export function viewsLayout<H>(outputs: readonly View<H>[], inputs: readonly View<H>[]): LoopLayout {
  return loopLayout(
    outputs[0].shape,
    [...outputs, ...inputs].map((v) => v.strides),
  );
}

/**
 * The loop nest of a reduction program over its element shape: the kept dimensions
 * (merged), then the reduced ones (merged). Every operand's strides are over the element
 * shape (a row operand's are 0 along the reduced axes).
 */
export function reduceLayout(
  shape: readonly number[],
  axes: readonly number[],
  operandStrides: readonly (readonly number[])[],
): LoopLayout {
  const part = (reduced: boolean) => {
    const dims = shape.flatMap((_, d) => (axes.includes(d) === reduced ? [d] : []));
    return loopLayout(
      dims.map((d) => shape[d]),
      operandStrides.map((s) => dims.map((d) => s[d])),
    );
  };
  const kept = part(false);
  const reduced = part(true);
  return {
    shape: [...kept.shape, ...reduced.shape],
    strides: kept.strides.map((s, j) => [...s, ...reduced.strides[j]]),
    kept: kept.shape.length,
  };
}

/**
 * The strides over the element `shape` of a view of the row shape (`shape` without `axes`;
 * the view may differ from it by dimensions of size 1): 0 along the reduced axes.
 */
export function rowStrides(view: View<unknown>, shape: readonly number[], axes: readonly number[]): number[] {
  const own = view.strides.filter((_, d) => view.shape[d] !== 1);
  let k = 0;
  return shape.map((size, d) => (axes.includes(d) || size === 1 ? 0 : own[k++]));
}
