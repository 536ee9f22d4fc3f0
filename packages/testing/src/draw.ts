import { type InputSpec, type OpSample, type OpSpec, Tensor } from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';

// Drawing an op's inputs from its spec, reproducibly from an integer seed.

/** A seeded uniform generator in [0, 1) (mulberry32): small, fast and good enough for test data. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mixes a seed with labels (op name, sample index…) so each gets its own stream. */
export function mixSeed(seed: number, ...labels: readonly (string | number)[]): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (const ch of labels.join('\u0000')) h = Math.imul(h ^ (ch.codePointAt(0) ?? 0), 0x01000193) >>> 0;
  return h;
}

/** The inputs of one sample: values (rounded to float32, so both float runs see the same ones). */
export interface DrawnInputs {
  /** Each input's values, flat in row-major order. */
  readonly values: readonly Float64Array[];
  /** Each input's shape. */
  readonly shapes: readonly T.Shape[];
  /** Whether input i is differentiated: kind 'float', and float64 in the float64 run. */
  readonly differentiable: readonly boolean[];
  /** The dtype of input i when the floating-point inputs use `float`. */
  dtypeOf(i: number, float: 'float32' | 'float64'): T.DType;
}

const DEFAULT_RANGE: readonly [number, number] = [-2, 2];
const AVOID_DISTANCE = 0.1;

function drawFloat(input: InputSpec<unknown>, random: () => number): number {
  const [lo, hi] = input.range ?? DEFAULT_RANGE;
  const avoid = input.avoid ?? [];
  for (let attempt = 0; attempt < 1000; attempt++) {
    const v = Math.fround(lo + (hi - lo) * random());
    if (avoid.every((p) => Math.abs(v - p) >= AVOID_DISTANCE)) return v;
  }
  throw new Error(
    `range [${lo}, ${hi}] has no values at least ${AVOID_DISTANCE} away from avoid [${avoid.join(', ')}]`,
  );
}

function drawValues(
  input: InputSpec<unknown>,
  shape: T.Shape,
  params: unknown,
  shapes: readonly T.Shape[],
  random: () => number,
) {
  const size = T.sizeOf(shape);
  if (input.values) return Float64Array.from(input.values(shape, params, random), (v) => Math.fround(v));
  switch (input.kind ?? 'float') {
    case 'mask':
      return Float64Array.from({ length: size }, () => (random() < 0.5 ? 1 : 0));
    case 'index': {
      if (!input.bound) throw new Error("an 'index' input needs `bound` or `values`");
      const bound = input.bound(shapes, params);
      if (!(bound >= 1)) throw new Error(`index bound is ${bound}; it must be ≥ 1`);
      return Float64Array.from({ length: size }, () => Math.floor(random() * bound));
    }
    case 'float':
      return Float64Array.from({ length: size }, () => drawFloat(input, random));
  }
}

/** Draws every input of `sample` as `spec` describes it. */
export function drawInputs<P>(spec: OpSpec<P>, sample: OpSample<P>, random: () => number): DrawnInputs {
  const inputs = spec.inputs as readonly InputSpec<unknown>[];
  const params = sample.params ?? {};
  const values = inputs.map((input, i) => drawValues(input, sample.shapes[i], params, sample.shapes, random));
  const fixedDtype = (i: number): T.DType | undefined => {
    const override = sample.dtypes?.[i];
    if (override !== undefined) return override;
    const kind = inputs[i].kind ?? 'float';
    return kind === 'index' ? 'int32' : kind === 'mask' ? 'bool' : undefined;
  };
  return {
    values,
    shapes: sample.shapes,
    differentiable: inputs.map((input, i) => {
      const fixed = fixedDtype(i);
      return (input.kind ?? 'float') === 'float' && (fixed === undefined || fixed === 'float64');
    }),
    dtypeOf: (i, float) => fixedDtype(i) ?? float,
  };
}

/** Tensors of the drawn values; floating-point inputs get dtype `float`. */
export function toTensors(drawn: DrawnInputs, float: 'float32' | 'float64', requiresGrad = false): Tensor[] {
  return drawn.values.map((v, i) => {
    const dtype = drawn.dtypeOf(i, float);
    return new Tensor(T.array(v, { shape: drawn.shapes[i], dtype }), {
      requiresGrad: requiresGrad && drawn.differentiable[i],
    });
  });
}

/** Uniform values in [−1, 1) shaped like `shape`, as a float64 tensor (tangents, cotangents). */
export function randomTensor(shape: T.Shape, random: () => number): Tensor {
  const values = Float64Array.from({ length: T.sizeOf(shape) }, () => 2 * random() - 1);
  return new Tensor(T.array(values, { shape, dtype: 'float64' }));
}
