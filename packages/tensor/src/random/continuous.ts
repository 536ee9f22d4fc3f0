import { checkNumber, checkOptions } from '../check.js';
import { getBackend } from '../dispatch.js';
import { allocTyped, type DType } from '../dtype.js';
import { DTypeError, describe, ValueError } from '../errors.js';
import { NDArray } from '../ndarray.js';
import { checkAllocation, checkShape, type Shape, sizeOf } from '../shape.js';
import { checkKey, type PRNGKey, randomBits, randomWordPairs } from './key.js';
import { traceKeyed } from './traced.js';

type FloatDType = 'float32' | 'float64';

/** Options of `random.uniform`. */
export interface UniformOptions {
  /** The lower bound (inclusive). Default 0. */
  readonly low?: number;
  /** The upper bound (exclusive). Default 1. */
  readonly high?: number;
  /** float32 (default) or float64. */
  readonly dtype?: DType;
}

/** Options of `random.normal`. */
export interface NormalOptions {
  /** The mean. Default 0. */
  readonly mean?: number;
  /** The standard deviation. Default 1. */
  readonly std?: number;
  /** float32 (default) or float64. */
  readonly dtype?: DType;
}

function checkFloatDType(op: string, dtype: DType): FloatDType {
  if (dtype !== 'float32' && dtype !== 'float64') {
    throw new DTypeError(op, `dtype must be float32 or float64, got ${dtype}`);
  }
  return dtype;
}

/** The top 53 bits of the 64-bit word pair (hi, lo), as a double in [0, 1). */
export function unitFrom64(hi: number, lo: number): number {
  return (hi * 2 ** 21 + (lo >>> 11)) * 2 ** -53;
}

const f32 = new Float32Array(1);
const f32Bits = new Uint32Array(f32.buffer);
const f64 = new Float64Array(1);
const f64Bits = new BigUint64Array(f64.buffer);

/** The largest value of `dtype` strictly below the finite value `x` (itself of that dtype). */
function nextBelow(x: number, dtype: FloatDType): number {
  if (x === 0) return dtype === 'float32' ? -(2 ** -149) : -Number.MIN_VALUE;
  if (dtype === 'float32') {
    f32[0] = x;
    f32Bits[0] += x > 0 ? -1 : 1;
    return f32[0];
  }
  f64[0] = x;
  f64Bits[0] += x > 0 ? -1n : 1n;
  return f64[0];
}

/**
 * Uniform samples in [low, high). float32 uses JAX's recipe (23 random mantissa bits, then
 * `u·(high − low) + low` in float32), so with the default bounds it equals
 * `jax.random.uniform` bit for bit; float64 uses 53 bits from two words. Results that round
 * up to `high` are pulled back to the largest value below it.
 */
export function uniform(k: PRNGKey, shape: Shape, options: UniformOptions = {}): NDArray {
  const traced = traceKeyed([k], ([key]) => uniform(key, shape, options));
  if (traced !== undefined) return traced;
  checkOptions('uniform', options);
  checkKey('uniform', k);
  const dims = checkShape('uniform', shape);
  checkAllocation('uniform', dims, 'float64');
  const { low = 0, high = 1 } = options;
  checkNumber('uniform', 'low', low);
  checkNumber('uniform', 'high', high);
  const dtype = checkFloatDType('uniform', options.dtype ?? 'float32');
  const round = dtype === 'float32' ? Math.fround : (x: number) => x;
  const lo = round(low);
  const hi = round(high);
  const span = round(hi - lo);
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || !Number.isFinite(span) || !(lo < hi)) {
    throw new ValueError(
      'uniform',
      `needs finite bounds with low < high in ${dtype}, got low=${low}, high=${high}`,
    );
  }
  const n = sizeOf(dims);
  const out = allocTyped(dtype, n);
  const top = nextBelow(hi, dtype);
  if (dtype === 'float32') {
    const bits = randomBits(k, n);
    for (let i = 0; i < n; i++) {
      const unit = (bits[i] >>> 9) * 2 ** -23;
      const value = Math.fround(Math.fround(unit * span) + lo);
      out[i] = Math.min(Math.max(value, lo), top);
    }
  } else {
    const words = randomWordPairs(k, n);
    for (let i = 0; i < n; i++) {
      const value = lo + unitFrom64(words[2 * i], words[2 * i + 1]) * span;
      out[i] = Math.min(Math.max(value, lo), top);
    }
  }
  return NDArray.fromTyped(getBackend(), dtype, dims, out);
}

/**
 * Normal samples (Box–Muller on pairs). The radius uses a uniform in (0, 1], so log(0) never
 * occurs and every sample is finite: |z| ≤ 6.7 for float32 (32-bit uniforms), ≤ 8.6 for float64
 * (53-bit uniforms).
 */
export function normal(k: PRNGKey, shape: Shape, options: NormalOptions = {}): NDArray {
  const traced = traceKeyed([k], ([key]) => normal(key, shape, options));
  if (traced !== undefined) return traced;
  checkOptions('normal', options);
  checkKey('normal', k);
  const dims = checkShape('normal', shape);
  checkAllocation('normal', dims, 'float64');
  const { mean = 0, std = 1 } = options;
  const dtype = checkFloatDType('normal', options.dtype ?? 'float32');
  if (!Number.isFinite(mean) || !Number.isFinite(std) || std < 0) {
    throw new ValueError(
      'normal',
      `needs a finite mean and a finite std ≥ 0, got mean=${describe(mean)}, std=${describe(std)}`,
    );
  }
  const n = sizeOf(dims);
  const out = allocTyped(dtype, n);
  const pairs = Math.ceil(n / 2);
  // float32: one block (two 32-bit words) per pair; float64: two blocks (two 53-bit uniforms).
  const blocksPerPair = dtype === 'float32' ? 1 : 2;
  const words = randomWordPairs(k, pairs * blocksPerPair);
  for (let j = 0; j < pairs; j++) {
    let radiusUnit: number;
    let angleUnit: number;
    if (dtype === 'float32') {
      radiusUnit = (words[2 * j] + 1) * 2 ** -32;
      angleUnit = words[2 * j + 1] * 2 ** -32;
    } else {
      radiusUnit = unitFrom64(words[4 * j], words[4 * j + 1]) + 2 ** -53;
      angleUnit = unitFrom64(words[4 * j + 2], words[4 * j + 3]);
    }
    const radius = Math.sqrt(-2 * Math.log(radiusUnit));
    const angle = 2 * Math.PI * angleUnit;
    out[2 * j] = mean + std * radius * Math.cos(angle);
    if (2 * j + 1 < n) out[2 * j + 1] = mean + std * radius * Math.sin(angle);
  }
  return NDArray.fromTyped(getBackend(), dtype, dims, out);
}
