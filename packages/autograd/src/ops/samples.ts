import type { OpSample } from '../spec.js';

// Shapes shared by many op specs.

/** One input: a scalar, a size-1 dim, a vector, a matrix with a size-1 dim, a 3-D array. */
export const unaryShapes: readonly OpSample<Record<string, never>>[] = [
  { shapes: [[]] },
  { shapes: [[1]] },
  { shapes: [[5]] },
  { shapes: [[3, 1]] },
  { shapes: [[2, 3, 2]] },
];

/** Two inputs, equal and broadcasting shapes (size-1 dims, rank differences, scalars). */
export const binaryShapes: readonly OpSample<Record<string, never>>[] = [
  { shapes: [[], []] },
  { shapes: [[4], [4]] },
  {
    shapes: [
      [2, 3],
      [2, 3],
    ],
  },
  { shapes: [[2, 3], [3]] },
  {
    shapes: [
      [3, 1],
      [1, 4],
    ],
  },
  {
    shapes: [
      [2, 1, 3],
      [4, 1],
    ],
  },
  { shapes: [[], [2, 2]] },
];
