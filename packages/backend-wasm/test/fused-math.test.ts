import type { WasmBuffer } from '@tsgrad/backend-wasm';
import { createNodeWasmBackend, type WasmBackend } from '@tsgrad/backend-wasm/node';
import * as T from '@tsgrad/tensor';
import { describe, expect, it } from 'vitest';

// The inline e^x of generated kernels (src/codegen/math.ts) against float64 Math.exp rounded to
// float32, over the whole float32 range: every 2039th bit pattern of both signs (2 million
// values: normal, subnormal, past overflow and underflow), every pattern near the edges of the
// inline path (±87) and of the float32 range (overflow past 88.72, zero below −103.97), and
// the special values. Results must be within 1 ulp (NaN for NaN); the largest error is printed.

const TOLERANCE_ULPS = 1;
const STRIDE = 2039;

const EXP_ONLY: T.FusedProgram = {
  steps: [
    { kind: 'input', input: 0, dtype: 'float32' },
    { kind: 'op', op: 'exp', args: [0], dtype: 'float32' },
  ],
  outputs: [1],
};

/** Consecutive integers for consecutive floats (−0 and +0 both 0). */
const ordinal = (bits: number) => (bits & 0x80000000 ? -(bits & 0x7fffffff) : bits);
const bitsOf = (x: number) => new Uint32Array(Float32Array.of(x).buffer)[0];

function sampleInputs(): Float32Array {
  const bits: number[] = [];
  for (const sign of [0, 0x80000000]) {
    for (let b = 0; b <= 0x7f800000; b += STRIDE) bits.push((sign | b) >>> 0);
  }
  for (const edge of [87, -87, 88.72283935546875, -103.97208404541016, -87.33654022216797, 0]) {
    const center = bitsOf(edge) | 0;
    for (let d = -2048; d <= 2048; d++) bits.push((center + d) >>> 0);
  }
  const specials = [Number.NaN, Infinity, -Infinity, 0, -0, 1, -1, 1e-45, -1e-45, 3.4028234663852886e38];
  bits.push(...specials.map(bitsOf));
  // A multiple of four lanes, so that every value goes through the SIMD loop.
  while (bits.length % 4 !== 0) bits.push(0);
  return new Float32Array(Uint32Array.from(bits).buffer);
}

/** Runs the fused e^x over `xs` on `backend`; returns the results. */
function fusedExp(backend: WasmBackend, xs: Float32Array): Float32Array {
  const input = T.NDArray.fromTyped(backend, 'float32', [xs.length], xs);
  const output = T.NDArray.uninitialized(backend, 'float32', [xs.length]);
  const view = (a: T.NDArray): T.View<WasmBuffer> => ({
    handle: a.storage.handle as WasmBuffer,
    dtype: a.dtype,
    shape: a.shape,
    strides: a.strides,
    offset: a.offset,
  });
  backend.fused?.prepare(EXP_ONLY, [view(output)], [view(input)])();
  const result = output.toTypedArray() as Float32Array;
  input.dispose();
  output.dispose();
  return result;
}

/** The largest ulp distance from Math.exp rounded to float32, and where; Infinity for a wrong NaN. */
function worstError(xs: Float32Array, ys: Float32Array): { ulps: number; at: number } {
  const gotBits = new Uint32Array(ys.buffer, ys.byteOffset, ys.length);
  const want = new Float32Array(1);
  const wantBits = new Uint32Array(want.buffer);
  let worst = { ulps: 0, at: Number.NaN };
  for (let i = 0; i < xs.length; i++) {
    want[0] = Math.exp(xs[i]);
    const ulps =
      Number.isNaN(want[0]) || Number.isNaN(ys[i])
        ? Number.isNaN(want[0]) === Number.isNaN(ys[i])
          ? 0
          : Infinity
        : Math.abs(ordinal(gotBits[i]) - ordinal(wantBits[0]));
    if (ulps > worst.ulps) worst = { ulps, at: xs[i] };
  }
  return worst;
}

describe('generated e^x (float32, inline)', () => {
  const xs = sampleInputs();
  const builds = {
    'relaxed SIMD (multiply-adds fused)': createNodeWasmBackend({ threads: 1 }),
    'plain SIMD': createNodeWasmBackend({ threads: 1, relaxedSimd: false }),
  };
  for (const [name, backend] of Object.entries(builds)) {
    it(`is within ${TOLERANCE_ULPS} ulp over the float32 range, specials included: ${name}`, () => {
      const { ulps, at } = worstError(xs, fusedExp(backend, xs));
      console.info(`generated e^x, ${name}: max error ${ulps} ulp (at x = ${at}) over ${xs.length} values`);
      expect(ulps, `${ulps} ulp at x = ${at}`).toBeLessThanOrEqual(TOLERANCE_ULPS);
    });
  }

  it('runs the relaxed build where this engine accepts it', () => {
    expect(builds['relaxed SIMD (multiply-adds fused)'].runtime.variant.relaxed).toBe(true);
    expect(builds['plain SIMD'].runtime.variant.relaxed).toBe(false);
  });

  it('gives the IEEE results at the special values, on the inline path and off it', () => {
    // Four lanes a vector: NaN beside in-range lanes stays inline; ±Inf, overflow and
    // underflow send their vector to the full-range function.
    const specials = [
      [Number.NaN, 0, -0, 1],
      [Infinity, -Infinity, -0, Number.NaN],
      [89, -104, -88, 88.5],
    ];
    for (const backend of Object.values(builds)) {
      const got = Array.from(fusedExp(backend, Float32Array.from(specials.flat())));
      const want = [
        [Number.NaN, 1, 1, Math.E],
        [Infinity, 0, 1, Number.NaN],
        [Infinity, 0, Math.exp(-88), Math.exp(88.5)],
      ];
      expect(got).toEqual(want.flat().map(Math.fround));
    }
  });
});
