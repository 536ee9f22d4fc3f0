import * as T from '@tsgrad/tensor';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { flatIndex, indices, layoutArb, makeArray, shapeArb } from './arbitraries.js';

// Movement ops against a dense host reference: every reference op rebuilds a row-major array
// from index arithmetic, so a chain of views can be checked after every step.

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

interface Host {
  readonly shape: number[];
  readonly values: number[];
}

/** A dense array whose element at each multi-index is `f(index)`. */
function tabulate(shape: number[], f: (index: number[]) => number): Host {
  return { shape, values: Array.from(indices(shape), f) };
}

const at = (t: Host, index: readonly number[]) => t.values[flatIndex(index, t.shape)];

function refPermute(t: Host, axes: readonly number[]): Host {
  return tabulate(
    axes.map((a) => t.shape[a]),
    (o) => {
      const index = new Array<number>(axes.length);
      axes.forEach((a, k) => {
        index[a] = o[k];
      });
      return at(t, index);
    },
  );
}

function refFlip(t: Host, axes: readonly number[]): Host {
  return tabulate(t.shape, (o) =>
    at(
      t,
      o.map((v, i) => (axes.includes(i) ? t.shape[i] - 1 - v : v)),
    ),
  );
}

function refBroadcast(t: Host, shape: number[]): Host {
  const lead = shape.length - t.shape.length;
  return tabulate(shape, (o) =>
    at(
      t,
      t.shape.map((d, i) => (d === 1 ? 0 : o[lead + i])),
    ),
  );
}

const refReshape = (t: Host, shape: number[]): Host => ({ shape, values: t.values });

/** The indices Python's `range(n)[start:stop:step]` selects, by CPython's slice algorithm. */
function pySlice(n: number, start: number | undefined, stop: number | undefined, step = 1): number[] {
  const adjust = (v: number, lo: number, hi: number) => (v < 0 ? Math.max(v + n, lo) : Math.min(v, hi));
  const out: number[] = [];
  if (step > 0) {
    const first = start === undefined ? 0 : adjust(start, 0, n);
    const end = stop === undefined ? n : adjust(stop, 0, n);
    for (let i = first; i < end; i += step) out.push(i);
  } else {
    const first = start === undefined ? n - 1 : adjust(start, -1, n - 1);
    const end = stop === undefined ? -1 : adjust(stop, -1, n - 1);
    for (let i = first; i > end; i += step) out.push(i);
  }
  return out;
}

/** Basic indexing on the host: numeric specs drop their axis. Null when an index is out of range. */
function refSlice(t: Host, specs: readonly T.SliceSpec[]): Host | null {
  const picks: { keep: boolean; list: number[] }[] = [];
  for (let axis = 0; axis < t.shape.length; axis++) {
    const n = t.shape[axis];
    const spec = specs[axis] ?? null;
    if (typeof spec === 'number') {
      if (spec < -n || spec >= n) return null;
      picks.push({ keep: false, list: [spec < 0 ? spec + n : spec] });
    } else {
      picks.push({ keep: true, list: pySlice(n, spec?.start, spec?.stop, spec?.step) });
    }
  }
  const full = picks.map((p) => p.list.length);
  const values = Array.from(indices(full), (o) =>
    at(
      t,
      o.map((v, i) => picks[i].list[v]),
    ),
  );
  return { shape: full.filter((_, i) => picks[i].keep), values };
}

function expectMatches(x: T.NDArray, ref: Host): void {
  expect(x.shape).toEqual(ref.shape);
  expect(Array.from(x.toTypedArray())).toEqual(ref.values);
}

const hostArb = (opts: Parameters<typeof shapeArb>[0]) =>
  shapeArb(opts).chain((shape) =>
    fc
      .tuple(
        fc.array(fc.integer({ min: -99, max: 99 }), { minLength: sizeOf(shape), maxLength: sizeOf(shape) }),
        layoutArb,
        fc.constantFrom<T.DType>('int32', 'float32', 'float64'),
      )
      .map(([values, layout, dtype]) => ({ host: { shape, values } as Host, layout, dtype })),
  );

// ---------------------------------------------------------------------------------------------
// A random chain of view ops, applied to an NDArray and to the host reference in lockstep.

type Step = 'permute' | 'transpose' | 'flip' | 'slice' | 'reshape' | 'unsqueeze' | 'squeeze' | 'expand';
const STEPS: readonly Step[] = [
  'permute',
  'transpose',
  'flip',
  'slice',
  'reshape',
  'unsqueeze',
  'squeeze',
  'expand',
];
const MAX_RANK = 5;

/** Reads the random numbers of one step in order: `next(n)` is in [0, n). */
function cursor(seeds: readonly number[]): (n: number) => number {
  let k = 0;
  return (n) => (n <= 0 ? 0 : seeds[k++ % seeds.length] % n);
}

interface Applied {
  x: T.NDArray;
  ref: Host;
  /** Whether the op must return a view of the same storage. */
  shares: boolean;
}

/** Applies `step` with choices drawn from `next`, or returns null when it does not apply. */
function applyStep(step: Step, next: (n: number) => number, x: T.NDArray, ref: Host): Applied | null {
  const rank = x.ndim;
  const maybeNegative = (axis: number, ndim: number) => (next(2) === 1 ? axis - ndim : axis);
  switch (step) {
    case 'permute': {
      const keys = x.shape.map(() => next(1000));
      const order = x.shape.map((_, i) => i).sort((a, b) => keys[a] - keys[b] || a - b);
      return {
        x: T.permute(
          x,
          order.map((a) => maybeNegative(a, rank)),
        ),
        ref: refPermute(ref, order),
        shares: true,
      };
    }
    case 'transpose': {
      if (rank < 2) return null;
      const [a, b] = [next(rank), next(rank)];
      const order = x.shape.map((_, i) => (i === a ? b : i === b ? a : i));
      return {
        x: T.transpose(x, maybeNegative(a, rank), maybeNegative(b, rank)),
        ref: refPermute(ref, order),
        shares: true,
      };
    }
    case 'flip': {
      const all = next(3) === 0;
      const axes = all ? x.shape.map((_, i) => i) : x.shape.flatMap((_, i) => (next(2) ? [i] : []));
      const arg = all ? undefined : axes.map((a) => maybeNegative(a, rank));
      return { x: T.flip(x, arg), ref: refFlip(ref, axes), shares: true };
    }
    case 'slice': {
      const specs: T.SliceSpec[] = x.shape.slice(0, next(rank + 1)).map((n) => {
        const kind = next(4);
        if (kind === 0) return null;
        if (kind === 1 && n > 0) return next(2 * n) - n;
        const bound = () => (next(3) === 0 ? undefined : next(2 * n + 5) - (n + 2));
        const steps = [1, 2, 3, -1, -2, -3];
        return { start: bound(), stop: bound(), step: next(4) === 0 ? undefined : steps[next(steps.length)] };
      });
      const expected = refSlice(ref, specs);
      if (expected === null) return null;
      return { x: T.slice(x, specs), ref: expected, shares: true };
    }
    case 'reshape': {
      let shape: number[];
      const how = next(3);
      if (how === 0 || rank === 0) shape = [x.size];
      else if (how === 1 && rank >= 2) {
        const i = next(rank - 1);
        shape = [...x.shape.slice(0, i), x.shape[i] * x.shape[i + 1], ...x.shape.slice(i + 2)];
      } else {
        if (rank >= MAX_RANK) return null;
        const i = next(rank);
        const d = x.shape[i];
        const split = d % 2 === 0 && d > 0 && next(2) ? [2, d / 2] : next(2) ? [1, d] : [d, 1];
        shape = [...x.shape.slice(0, i), ...split, ...x.shape.slice(i + 1)];
      }
      // Let reshape infer one size when it can.
      const arg = [...shape];
      if (x.size > 0 && arg.length > 0 && next(2)) arg[next(arg.length)] = -1;
      return { x: T.reshape(x, arg), ref: refReshape(ref, shape), shares: x.isContiguous };
    }
    case 'unsqueeze': {
      if (rank >= MAX_RANK) return null;
      const axis = maybeNegative(next(rank + 1), rank + 1);
      const normalized = axis < 0 ? axis + rank + 1 : axis;
      const shape = [...x.shape.slice(0, normalized), 1, ...x.shape.slice(normalized)];
      return { x: T.unsqueeze(x, axis), ref: refReshape(ref, shape), shares: true };
    }
    case 'squeeze': {
      const ones = x.shape.flatMap((d, i) => (d === 1 ? [i] : []));
      if (ones.length === 0) return null;
      const all = next(2) === 0;
      const which = all ? ones : [ones[next(ones.length)]];
      const shape = x.shape.filter((_, i) => !which.includes(i));
      const arg = all ? undefined : maybeNegative(which[0], rank);
      return { x: T.squeeze(x, arg), ref: refReshape(ref, shape), shares: true };
    }
    case 'expand': {
      const lead = rank < MAX_RANK && next(2) ? [next(3) + 1] : [];
      const grown = x.shape.map((d) => (d === 1 ? next(3) + 1 : d));
      const shape = [...lead, ...grown];
      const viaExpand = next(2) === 1;
      const arg = viaExpand
        ? [...lead, ...grown.map((d, i) => (d === x.shape[i] && next(2) ? -1 : d))]
        : shape;
      const out = viaExpand ? T.expand(x, arg) : T.broadcastTo(x, arg);
      return { x: out, ref: refBroadcast(ref, shape), shares: true };
    }
  }
}

describe('chains of views', () => {
  const stepArb = fc.record({
    step: fc.constantFrom(...STEPS),
    seeds: fc.array(fc.nat(10_000), { minLength: 24, maxLength: 24 }),
  });

  it('read back like the dense reference after every step, sharing storage (no copy)', () => {
    fc.assert(
      fc.property(
        hostArb({ minRank: 1, maxRank: 4, maxDim: 4 }),
        fc.array(stepArb, { maxLength: 7 }),
        (start, steps) => {
          let x = makeArray(start.host.values, start.host.shape, start.dtype, start.layout);
          let ref = start.host;
          expectMatches(x, ref);
          for (const { step, seeds } of steps) {
            const applied = applyStep(step, cursor(seeds), x, ref);
            if (applied === null) continue;
            expectMatches(applied.x, applied.ref);
            expect(applied.x.dtype).toBe(x.dtype);
            expect(applied.x.storage === x.storage).toBe(applied.shares);
            ({ x, ref } = applied);
          }
          expect(x.toArray()).toEqual(T.array(Float64Array.from(ref.values), { shape: ref.shape }).toArray());
          if (x.size === 1) expect(x.item()).toBe(ref.values[0]);
          expect(Array.from(T.contiguous(x).toTypedArray())).toEqual(ref.values);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('views stay readable after their base is disposed; ops on a disposed view throw naming the op', () => {
    const base = T.arange(12);
    const view = T.slice(T.reshape(base, [3, 4]), [{ step: -1 }, 1]);
    base.dispose();
    expect(view.toArray()).toEqual([9, 5, 1]);
    view.dispose();
    expect(() => view.toArray()).toThrow(T.ValueError);
    const cases: [string, () => unknown][] = [
      ['reshape', () => T.reshape(view, [3])],
      ['permute', () => T.permute(view, [0])],
      ['slice', () => T.slice(view, [0])],
      ['flip', () => T.flip(view)],
      ['broadcastTo', () => T.broadcastTo(view, [2, 3])],
      ['expand', () => T.expand(view, [2, 3])],
      ['squeeze', () => T.squeeze(view)],
      ['unsqueeze', () => T.unsqueeze(view, 0)],
    ];
    for (const [name, run] of cases) {
      expect(run).toThrow(T.ValueError);
      expect(run).toThrow(new RegExp(`^${name}: the array has been disposed`));
    }
  });

  it('item, toArray and toTypedArray read strided views', () => {
    const x = T.reshape(T.arange(24, undefined, 1, { dtype: 'float64' }), [2, 3, 4]);
    const v = T.slice(T.permute(x, [2, 0, 1]), [{ start: 3, stop: 0, step: -2 }, null, { step: 2 }]);
    expect(v.toArray()).toEqual([
      [
        [3, 11],
        [15, 23],
      ],
      [
        [1, 9],
        [13, 21],
      ],
    ]);
    expect(T.slice(v, [1, 1, 1]).item()).toBe(21);
    expect(T.slice(T.flip(x), [0, 0, { start: 1, stop: 2 }]).item()).toBe(22);
    expect(() => v.item()).toThrow(/^item: only an array of one element/);
    expect(T.broadcastTo(T.scalar(true), [2, 2]).toArray()).toEqual([
      [true, true],
      [true, true],
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// Individual ops and their errors.

describe('slice', () => {
  it('agrees with Python on a table of known results', () => {
    const x = T.arange(7);
    const table: [number | undefined, number | undefined, number | undefined, number[]][] = [
      [undefined, undefined, -1, [6, 5, 4, 3, 2, 1, 0]],
      [-3, 1, -2, [4, 2]],
      [10, -10, -3, [6, 3, 0]],
      [-100, 100, 2, [0, 2, 4, 6]],
      [5, 2, undefined, []],
      [2, 5, -1, []],
      [-1, undefined, -4, [6, 2]],
      [undefined, -8, -1, [6, 5, 4, 3, 2, 1, 0]],
      [3, 3, undefined, []],
      [-2, undefined, undefined, [5, 6]],
      [undefined, undefined, 3, [0, 3, 6]],
    ];
    for (const [start, stop, step, expected] of table) {
      expect(T.slice(x, [{ start, stop, step }]).toArray()).toEqual(expected);
    }
  });

  it('follows Python semantics: negative bounds, clamping, steps, numeric indices dropping axes', () => {
    const bound = fc.option(fc.integer({ min: -8, max: 8 }), { nil: undefined });
    const specArb: fc.Arbitrary<T.SliceSpec> = fc.oneof(
      fc.constant(null),
      fc.integer({ min: -5, max: 5 }),
      fc.record({
        start: bound,
        stop: bound,
        step: fc.option(fc.constantFrom(1, 2, 3, -1, -2, -4), { nil: undefined }),
      }),
    );
    fc.assert(
      fc.property(
        hostArb({ minRank: 1, maxRank: 3, maxDim: 5 }).chain((c) =>
          fc.tuple(fc.constant(c), fc.array(specArb, { maxLength: c.host.shape.length })),
        ),
        ([c, specs]) => {
          const x = makeArray(c.host.values, c.host.shape, c.dtype, c.layout);
          const expected = refSlice(c.host, specs);
          if (expected === null) {
            expect(() => T.slice(x, specs)).toThrow(T.IndexError);
            expect(() => T.slice(x, specs)).toThrow(
              /^slice: index -?\d+ is out of range for axis \d+ of size \d+/,
            );
            return;
          }
          const out = T.slice(x, specs);
          expectMatches(out, expected);
          expect(out.storage).toBe(x.storage);
        },
      ),
    );
  });

  it('rejects too many specs, zero or fractional steps and fractional bounds', () => {
    const x = T.zeros([2, 3]);
    expect(() => T.slice(x, [0, 0, 0])).toThrow(T.IndexError);
    expect(() => T.slice(x, [0, 0, 0])).toThrow(/^slice: 3 indices given for an array of rank 2/);
    expect(() => T.slice(x, [{ step: 0 }])).toThrow(T.ValueError);
    expect(() => T.slice(x, [{ step: 1.5 }])).toThrow(/^slice: step must be a non-zero integer/);
    expect(() => T.slice(x, [{ start: 0.5 }])).toThrow(T.IndexError);
    expect(() => T.slice(x, [null, 1.5])).toThrow(T.IndexError);
    expect(() => T.slice(x, [2])).toThrow(/^slice: index 2 is out of range for axis 0 of size 2/);
    expect(() => T.slice(x, [-3])).toThrow(T.IndexError);
    expect(T.slice(x, [-2, -3]).shape).toEqual([]);
  });
});

describe('reshape', () => {
  it('infers -1 and keeps the row-major order', () => {
    fc.assert(
      fc.property(hostArb({ maxRank: 4, maxDim: 4 }), fc.nat(), (c, pick) => {
        const x = makeArray(c.host.values, c.host.shape, c.dtype, c.layout);
        const flat = T.reshape(x, [-1]);
        expectMatches(flat, { shape: [x.size], values: c.host.values });
        expect(T.reshape(x, [x.size]).storage === x.storage).toBe(x.isContiguous);
        if (x.ndim > 0 && x.size > 0) {
          const shape = [...c.host.shape];
          const at = pick % shape.length;
          shape[at] = -1;
          expectMatches(T.reshape(x, shape), c.host);
        }
      }),
    );
  });

  it('errors name the op and both shapes', () => {
    const x = T.zeros([2, 3]);
    expect(() => T.reshape(x, [4, 2])).toThrow(T.ShapeError);
    expect(() => T.reshape(x, [4, 2])).toThrow(/^reshape: cannot reshape \[2,3\] \(size 6\) into \[4,2\]/);
    expect(() => T.reshape(x, [4, -1])).toThrow(/^reshape: cannot reshape \[2,3\] \(size 6\) into \[4,-1\]/);
    expect(() => T.reshape(x, [-1, -1])).toThrow(T.ValueError);
    expect(() => T.reshape(x, [-2, -3])).toThrow(/^reshape: invalid target shape \[-2,-3\]/);
    expect(() => T.reshape(x, [1.5, 4])).toThrow(T.ValueError);
    expect(() => T.reshape(T.zeros([0, 3]), [0, -1])).toThrow(T.ShapeError);
    expect(T.reshape(T.zeros([0, 3]), [3, 0, 2]).shape).toEqual([3, 0, 2]);
    expect(T.reshape(T.scalar(1), [1, 1]).shape).toEqual([1, 1]);
    expect(T.reshape(T.zeros([1, 1]), []).shape).toEqual([]);
  });
});

describe('permute and transpose', () => {
  it('move axes like the reference', () => {
    fc.assert(
      fc.property(
        hostArb({ maxRank: 4, maxDim: 3 }).chain((c) =>
          fc.tuple(
            fc.constant(c),
            fc.shuffledSubarray(
              c.host.shape.map((_, i) => i),
              { minLength: c.host.shape.length },
            ),
          ),
        ),
        ([c, order]) => {
          const x = makeArray(c.host.values, c.host.shape, c.dtype, c.layout);
          const out = T.permute(x, order);
          expectMatches(out, refPermute(c.host, order));
          expect(out.storage).toBe(x.storage);
          if (x.ndim >= 2) {
            const swapped = c.host.shape.map((_, i) =>
              i === x.ndim - 2 ? x.ndim - 1 : i === x.ndim - 1 ? x.ndim - 2 : i,
            );
            expectMatches(T.transpose(x), refPermute(c.host, swapped));
          }
        },
      ),
    );
  });

  it('errors name the op', () => {
    const x = T.zeros([2, 3, 4]);
    expect(() => T.permute(x, [0, 1])).toThrow(T.ShapeError);
    expect(() => T.permute(x, [0, 1])).toThrow(/^permute: expected 3 axes for shape \[2,3,4\]/);
    expect(() => T.permute(x, [0, 1, 1])).toThrow(T.IndexError);
    expect(() => T.permute(x, [0, 2, -1])).toThrow(/^permute: repeated axis/);
    expect(() => T.permute(x, [0, 1, 3])).toThrow(/^permute: axis 3 is out of range for an array of rank 3/);
    expect(() => T.transpose(x, 0, 3)).toThrow(T.IndexError);
    expect(() => T.transpose(x, -4, 0)).toThrow(/^transpose: axis -4/);
    expect(() => T.transpose(T.zeros([2]))).toThrow(/^transpose: /);
  });
});

describe('broadcastTo and expand', () => {
  it('repeat size-1 and missing leading axes with stride 0', () => {
    fc.assert(
      fc.property(
        hostArb({ maxRank: 3, maxDim: 3 }).chain((c) =>
          fc.tuple(
            fc.constant(c),
            fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 2 }),
            fc.array(fc.integer({ min: 0, max: 3 }), {
              minLength: c.host.shape.length,
              maxLength: c.host.shape.length,
            }),
          ),
        ),
        ([c, lead, sizes]) => {
          const x = makeArray(c.host.values, c.host.shape, c.dtype, c.layout);
          const target = [...lead, ...c.host.shape.map((d, i) => (d === 1 ? sizes[i] : d))];
          const out = T.broadcastTo(x, target);
          expectMatches(out, refBroadcast(c.host, target));
          expect(out.storage).toBe(x.storage);
          const keep = [...lead, ...c.host.shape.map((d, i) => (d === 1 ? sizes[i] : -1))];
          expectMatches(T.expand(x, keep), refBroadcast(c.host, target));
        },
      ),
    );
  });

  it('errors name the op and both shapes', () => {
    const x = T.zeros([2, 3]);
    expect(() => T.broadcastTo(x, [2, 4])).toThrow(T.ShapeError);
    expect(() => T.broadcastTo(x, [2, 4])).toThrow(/^broadcastTo: cannot broadcast \[2,3\] to \[2,4\]/);
    expect(() => T.broadcastTo(x, [3])).toThrow(/^broadcastTo: cannot broadcast \[2,3\] to \[3\]/);
    expect(() => T.expand(x, [5, 2, 4])).toThrow(/^expand: cannot broadcast \[2,3\] to \[5,2,4\]/);
    expect(() => T.broadcastTo(T.zeros([1]), [-1])).toThrow(T.ValueError);
    expect(() => T.expand(x, [-1, 2, 3])).toThrow(/^expand: invalid shape \[-1,2,3\]/);
    expect(() => T.broadcastTo(T.zeros([0]), [2])).toThrow(T.ShapeError);
    expect(T.broadcastTo(T.zeros([1]), [0]).shape).toEqual([0]);
  });
});

describe('flip, squeeze, unsqueeze, flatten', () => {
  it('flip reverses the given axes (all by default)', () => {
    fc.assert(
      fc.property(
        hostArb({ maxRank: 4, maxDim: 3 }),
        fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
        (c, pick) => {
          const x = makeArray(c.host.values, c.host.shape, c.dtype, c.layout);
          const axes = c.host.shape.flatMap((_, i) => (pick[i] ? [i] : []));
          expectMatches(T.flip(x, axes), refFlip(c.host, axes));
          expectMatches(
            T.flip(x),
            refFlip(
              c.host,
              c.host.shape.map((_, i) => i),
            ),
          );
          expectMatches(T.flip(T.flip(x, axes), axes), c.host);
        },
      ),
    );
  });

  it('squeeze and unsqueeze add and remove size-1 axes', () => {
    const x = T.reshape(T.arange(6), [1, 2, 1, 3]);
    expect(T.squeeze(x).shape).toEqual([2, 3]);
    expect(T.squeeze(x, -2).shape).toEqual([1, 2, 3]);
    expect(T.squeeze(x, [0, 2]).toArray()).toEqual([
      [0, 1, 2],
      [3, 4, 5],
    ]);
    expect(T.unsqueeze(x, -1).shape).toEqual([1, 2, 1, 3, 1]);
    expect(T.unsqueeze(x, 4).shape).toEqual([1, 2, 1, 3, 1]);
    expect(T.unsqueeze(T.scalar(2), 0).toArray()).toEqual([2]);
    expect(T.squeeze(T.scalar(2)).shape).toEqual([]);
    expect(() => T.squeeze(x, 1)).toThrow(T.ShapeError);
    expect(() => T.squeeze(x, 1)).toThrow(/^squeeze: axis 1 of \[1,2,1,3\] has size 2, not 1/);
    expect(() => T.squeeze(x, 4)).toThrow(T.IndexError);
    expect(() => T.unsqueeze(x, 5)).toThrow(/^unsqueeze: axis 5 is out of range/);
    expect(() => T.unsqueeze(x, -6)).toThrow(T.IndexError);
  });

  it('flatten merges a range of axes', () => {
    fc.assert(
      fc.property(hostArb({ minRank: 1, maxRank: 4, maxDim: 3 }), fc.nat(), fc.nat(), (c, p, q) => {
        const x = makeArray(c.host.values, c.host.shape, c.dtype, c.layout);
        const n = x.ndim;
        const [s, e] = [p % n, q % n].sort((a, b) => a - b);
        const shape = [
          ...c.host.shape.slice(0, s),
          sizeOf(c.host.shape.slice(s, e + 1)),
          ...c.host.shape.slice(e + 1),
        ];
        expectMatches(T.flatten(x, s, e - n), { shape, values: c.host.values });
        expectMatches(T.flatten(x), { shape: [x.size], values: c.host.values });
      }),
    );
    expect(T.flatten(T.scalar(3)).shape).toEqual([1]);
    expect(() => T.flatten(T.zeros([2, 3, 4]), 2, 1)).toThrow(/^flatten: endAxis 1 comes before startAxis 2/);
    expect(() => T.flatten(T.zeros([2, 3]), 0, 2)).toThrow(T.IndexError);
  });
});
