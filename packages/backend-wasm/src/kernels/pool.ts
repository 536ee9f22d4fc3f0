import type { AvgPool2dParams, KernelTable, Pool2dParams, View } from '@tsgrad/tensor';
import type { WasmBuffer } from '../buffer.js';
import { referenceKernel } from '../reference.js';
import type { WasmRuntime } from '../runtime.js';

// Float32 max and average pooling (assembly/pool.ts), split over the planes; other dtypes run
// the reference kernels.

/**
 * Window taps below which a pooling stays on the calling thread: handing work to the pool
 * costs about 12 µs, which 2^17 taps (about 45 µs on one thread) amortize.
 */
const PARALLEL_TAPS = 1 << 17;

const pointer = (view: View<WasmBuffer>) => view.handle.ptr + 4 * view.offset;

export function poolKernels(
  runtime: WasmRuntime,
): Pick<KernelTable<WasmBuffer>, 'maxPool2d' | 'avgPool2d' | 'avgPool2dGrad'> {
  const { pool } = runtime;
  const fallback = {
    maxPool2d: referenceKernel(runtime, 'maxPool2d'),
    avgPool2d: referenceKernel(runtime, 'avgPool2d'),
    avgPool2dGrad: referenceKernel(runtime, 'avgPool2dGrad'),
  };
  // The geometry block assembly/pool.ts reads (PoolGeometry); kernels run one at a time.
  const geometry = runtime.allocator.alloc(64);

  /**
   * Writes the geometry of pooling input `[N, C, H, W]` to output `[N, C, Ho, Wo]` and returns
   * the number of planes and whether the work is worth splitting.
   */
  const setGeometry = (
    input: readonly number[],
    output: readonly number[],
    p: Pool2dParams,
    includePad = false,
  ) => {
    const [batch, channels, height, width] = input;
    const [outH, outW] = [output[2], output[3]];
    const fields = [height, width, outH, outW, ...p.kernelSize, ...p.stride, ...p.padding, ...p.dilation];
    fields.push(includePad ? 1 : 0);
    new Int32Array(runtime.buffer, geometry, fields.length).set(fields);
    const planes = batch * channels;
    return { planes, parallel: planes * outH * outW * p.kernelSize[0] * p.kernelSize[1] >= PARALLEL_TAPS };
  };

  return {
    maxPool2d(outputs, inputs, params) {
      const [values, indices] = outputs;
      const [x] = inputs;
      if (x.dtype !== 'float32') return fallback.maxPool2d(outputs, inputs, params);
      const { planes, parallel } = setGeometry(x.shape, values.shape, params);
      if (planes === 0) return;
      pool.run('maxPool2d', [geometry, pointer(x), pointer(values), pointer(indices), planes], parallel);
    },

    avgPool2d(outputs, inputs, params: AvgPool2dParams) {
      const [out] = outputs;
      const [x] = inputs;
      if (x.dtype !== 'float32') return fallback.avgPool2d(outputs, inputs, params);
      const { planes, parallel } = setGeometry(x.shape, out.shape, params, params.countIncludePad);
      if (planes === 0) return;
      pool.run('avgPool2d', [geometry, pointer(x), pointer(out), planes], parallel);
    },

    avgPool2dGrad(outputs, inputs, params) {
      const [dx] = outputs;
      const [dy] = inputs;
      if (dy.dtype !== 'float32') return fallback.avgPool2dGrad(outputs, inputs, params);
      const { planes, parallel } = setGeometry(dx.shape, dy.shape, params, params.countIncludePad);
      if (planes === 0) return;
      pool.run('avgPool2dGrad', [geometry, pointer(dy), pointer(dx), planes], parallel);
    },
  };
}
