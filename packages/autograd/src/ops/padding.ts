import * as T from '@tsgrad/tensor';
import { checkOptions } from '@tsgrad/tensor';
import { checkList, checkTensor } from '../check.js';
import { inLibrary } from '../lifetime.js';
import { defineOp } from '../op.js';
import type { Tensor } from '../tensor.js';
import { flatOf, tabulate } from './coords.js';
import { indexSelect } from './indexing.js';
import { slice } from './movement.js';

/** Options of `pad`. */
export interface PadOptions {
  /** 'constant' (default) fills with `value`; 'reflect' mirrors without repeating the edge. */
  readonly mode?: 'constant' | 'reflect';
  /** The fill value of 'constant' mode (default 0). It is a constant: it gets no gradient. */
  readonly value?: number;
}

type PadWidths = readonly (readonly [number, number])[];

const padOp = defineOp<{ widths: PadWidths; value: number }>({
  name: 'pad',
  forward: ([x], { widths, value }) => T.pad(x, widths, { value }),
  vjp: ({ params }, [g]) => [
    slice(
      g,
      g.shape.map((n, i) => {
        const [before, after] = params.widths[i] ?? [0, 0];
        return { start: before, stop: n - after };
      }),
    ),
  ],
  // The fill is constant, so the tangent is padded with zeros.
  jvp: ({ params }, [t]) => [pad(t, params.widths)],
  save: { inputs: false },
  spec: {
    inputs: [{}],
    samples: [
      { shapes: [[3]], params: { widths: [[1, 2]], value: 0 } },
      {
        shapes: [[2, 3]],
        params: {
          widths: [
            [0, 1],
            [2, 0],
          ],
          value: 1.5,
        },
      },
      { shapes: [[2, 1, 2]], params: { widths: [[1, 1]], value: -1 } },
    ],
    reference: ([x], [shape], { widths, value }) => {
      const w = shape.map((_, i) => widths[i] ?? [0, 0]);
      const outShape = shape.map((d, i) => d + w[i][0] + w[i][1]);
      return [
        tabulate(outShape, (c) => {
          const source = c.map((k, i) => k - w[i][0]);
          return source.every((k, i) => k >= 0 && k < shape[i]) ? x[flatOf(source, shape)] : value;
        }),
      ];
    },
    errors: [
      { shapes: [[3]], params: { widths: [[-1, 0]], value: 0 }, throws: T.ValueError },
      {
        shapes: [[3]],
        params: {
          widths: [
            [0, 0],
            [1, 1],
          ],
          value: 0,
        },
        throws: T.ValueError,
      },
    ],
  },
});

/**
 * Pads with `widths[i] = [before, after]` for the leading axes (as `T.pad`). 'reflect' is
 * composed from `indexSelect`, so its gradient adds the mirrored positions back.
 */
export function pad(x: Tensor, widths: PadWidths, options: PadOptions = {}): Tensor {
  checkTensor('pad', x);
  checkList('pad', widths, 'widths');
  checkOptions('pad', options);
  const mode = options.mode ?? 'constant';
  if (!widths.every((w) => Array.isArray(w)))
    throw new T.ValueError('pad', 'widths must be [before, after] pairs');
  const copy = widths.map(([before, after]) => [before, after] as const);
  if (mode === 'constant') return padOp.apply([x], { widths: copy, value: options.value ?? 0 })[0];
  if (mode !== 'reflect')
    throw new T.ValueError('pad', `unknown mode '${mode}' (expected 'constant' or 'reflect')`);
  if (copy.length > x.ndim)
    throw new T.ValueError('pad', `${copy.length} pad widths for an array of rank ${x.ndim}`);
  return inLibrary(() =>
    copy.reduce((acc, [before, after], axis) => {
      const n = x.shape[axis];
      if (![before, after].every((w) => w === 0 || (Number.isInteger(w) && w > 0 && w < n))) {
        throw new T.ValueError(
          'pad',
          `reflect padding [${before},${after}] must be integers in [0, ${n}) for axis ${axis} of size ${n}`,
        );
      }
      if (before === 0 && after === 0) return acc;
      const mirrored = Array.from({ length: n + before + after }, (_, i) => {
        const j = i - before;
        return j < 0 ? -j : j >= n ? 2 * (n - 1) - j : j;
      });
      return indexSelect(acc, axis, mirrored);
    }, x),
  );
}
