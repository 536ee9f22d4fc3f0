import { inLibrary } from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';
import * as V from '../validate.js';

/** Options of `noisyMean`: the sensitivity, the noise scale, the divisor and the key. */
export interface NoiseOptions {
  /** C, the clipping norm given to `clipAndSum`: the sum's sensitivity. */
  readonly maxGradNorm: number;
  /** σ: the noise added to the sum has standard deviation σ·C per coordinate. */
  readonly noiseMultiplier: number;
  /**
   * What the noisy sum is divided by: the expected batch size (q·N with Poisson sampling, the
   * batch size with fixed-size batches). Not the drawn batch's size, which would leak it.
   */
  readonly expectedBatchSize: number;
  /** The noise's key: a fresh one every step (split or fold in the step number). */
  readonly key: T.random.PRNGKey;
}

/** What `clipAndSum` returns: the clipped per-example gradients summed, and their norms. */
export interface ClippedSum {
  /** Σ_b min(1, C / (‖g_b‖ + 1e-6)) · g_b for each parameter, shaped like the parameter. */
  readonly sums: T.NDArray[];
  /** Each example's gradient norm before clipping, [B] (float64). */
  readonly norms: T.NDArray;
}

const checkKey: V.Rule = (op, name, value) => {
  if (!(value instanceof T.random.PRNGKey))
    throw new T.ValueError(op, `${name} must be a PRNGKey, got ${T.describe(value)}`);
};

const NOISE_RULES: V.Rules<NoiseOptions> = {
  maxGradNorm: V.positive,
  noiseMultiplier: V.nonNegative,
  expectedBatchSize: V.positive,
  key: checkKey,
};

/**
 * The first half of a DP-SGD step (Abadi et al. 2016, "Deep Learning with Differential
 * Privacy", Algorithm 1), from per-example gradients (one array [B, ...parameter shape] per
 * parameter, as `vmap(grad)` gives them): scale each example's gradient to an L2 norm of at
 * most C, over all parameters jointly, by min(1, C / (norm + 1e-6)) as Opacus does, and sum
 * over the batch. A large batch can be clipped in chunks and the sums added.
 */
export function clipAndSum(perSampleGrads: readonly T.NDArray[], maxGradNorm: number): ClippedSum {
  const op = 'clipAndSum';
  V.listOf(V.ndarray)(op, 'perSampleGrads', perSampleGrads);
  V.positive(op, 'maxGradNorm', maxGradNorm);
  if (perSampleGrads.length === 0) throw new T.ValueError(op, 'perSampleGrads is empty');
  const batch = perSampleGrads[0].shape[0];
  perSampleGrads.forEach((g, i) => {
    if (g.ndim === 0 || g.shape[0] !== batch)
      throw new T.ShapeError(
        op,
        `perSampleGrads[${i}] has shape [${g.shape}], expected a leading batch axis of ${batch}`,
      );
    if (!T.isFloat(g.dtype))
      throw new T.DTypeError(op, `perSampleGrads[${i}] has dtype ${g.dtype}, expected a float`);
  });
  return inLibrary(() => {
    // Rows of [B, size]; norms and clipping factors in float64, whatever the gradients' dtype.
    const rows = perSampleGrads.map((g) => T.reshape(g, [batch, T.sizeOf(g.shape.slice(1))]));
    let squares = T.zeros([batch], { dtype: 'float64' });
    for (const r of rows) {
      const r64 = T.cast(r, 'float64');
      squares = T.add(squares, T.sum(T.mul(r64, r64), { axis: 1 }));
    }
    const norms = T.sqrt(squares);
    const factors = T.minimum(T.div(maxGradNorm, T.add(norms, 1e-6)), 1);
    // Σ_b factor_b · g_b as one [1, B] × [B, size] product.
    const sums = rows.map((r, i) =>
      T.reshape(
        T.matmul(T.reshape(T.cast(factors, r.dtype), [1, batch]), r),
        perSampleGrads[i].shape.slice(1),
      ),
    );
    return { sums, norms };
  });
}

/**
 * The second half of a DP-SGD step: adds N(0, σ²C²) to every coordinate of the clipped sums and
 * divides by the expected batch size, giving the private mean gradient to feed any optimizer.
 * Account for the step with `RdpAccountant.step`. The noise comes from `random.normal`, whose
 * samples are bounded (|z| ≤ 6.7 in float32): a floating-point approximation of the Gaussian,
 * as in every DP-SGD implementation.
 */
export function noisyMean(sums: readonly T.NDArray[], options: NoiseOptions): T.NDArray[] {
  const op = 'noisyMean';
  V.listOf(V.ndarray)(op, 'sums', sums);
  V.checkOptions(op, NOISE_RULES, options, ['maxGradNorm', 'noiseMultiplier', 'expectedBatchSize', 'key']);
  sums.forEach((s, i) => {
    if (!T.isFloat(s.dtype)) throw new T.DTypeError(op, `sums[${i}] has dtype ${s.dtype}, expected a float`);
  });
  const { maxGradNorm, noiseMultiplier, expectedBatchSize } = options;
  const keys = T.random.split(options.key, Math.max(1, sums.length));
  return inLibrary(() =>
    sums.map((s, i) => {
      const noise = T.random.normal(keys[i], s.shape, { dtype: s.dtype, std: noiseMultiplier * maxGradNorm });
      return T.div(T.add(s, noise), expectedBatchSize);
    }),
  );
}

/**
 * Poisson sampling, the sampling the accountant's `sampleRate` assumes: each of `size` examples
 * joins the batch independently with probability `sampleRate`, so batches vary in size (and may
 * be empty). Returns the chosen indices in increasing order.
 */
export function poissonSample(key: T.random.PRNGKey, size: number, sampleRate: number): Int32Array {
  const op = 'poissonSample';
  checkKey(op, 'key', key);
  V.count(op, 'size', size);
  V.unitInterval(op, 'sampleRate', sampleRate);
  const mask = inLibrary(() => T.random.bernoulli(key, sampleRate, [size]).toTypedArray());
  const chosen: number[] = [];
  mask.forEach((m, i) => {
    if (m) chosen.push(i);
  });
  return Int32Array.from(chosen);
}
