import {
  type Conv2dEpilogueParams,
  type Conv2dParams,
  type ConvShape,
  convShape,
  type KernelTable,
  ValueError,
  type View,
} from '@tsgrad/tensor';
import type { WasmBuffer } from '../buffer.js';
import { referenceKernel } from '../reference.js';
import type { WasmRuntime } from '../runtime.js';
import { gemm, workspaceOf } from './gemm.js';

// Float32 convolutions as GEMMs over im2col columns, like the reference (packages/tensor/src/
// cpu/conv.ts), in one of two ways. A batch of at least two images per thread is split over its
// images (assembly/conv-images.ts): each thread builds one image's columns (a band of output
// rows at a time) in a scratch of its own and runs the GEMM on them while they are in its
// cache, reading and writing the [N, C, H, W] arrays in place. Otherwise the batch is cut into chunks of images whose column matrix fits COL_BUDGET. For
// a chunk and one group, `col[K × images·P]` holds a row per kernel tap (K = C/g·kh·kw) and the
// P = Ho·Wo output positions of each image side by side (assembly/conv.ts fills it, and
// scatters it back for the input gradient). Then one GEMM per chunk and group:
//   conv2d:            y[Og × images·P]    = w[Og × K] · col
//   conv2dWeightGrad:  dw[Og × K]         += dy[Og × images·P] · colᵀ
//   convTranspose2d:   dcol[K × images·P]  = w[Og × K]ᵀ · dy, then col2im adds dcol into dx
// y and dy live as [N, O, P]: a one-image chunk reads or writes them in place through the
// GEMM's strides; a chunk of several images goes through an [Og × images·P] block filled or
// emptied by copyBlocks. An image whose columns alone exceed the budget is processed a band of
// output rows at a time.

/**
 * Column-matrix floats per chunk (1 MiB, about a core's L2 cache, where im2col leaves the
 * columns for the GEMM). Measured on the bench CNN (batch 64; 1 and 2 threads) against 4 MiB
 * to 16 MiB chunks and against a GEMM per image: as fast or faster everywhere, e.g. conv
 * 16→32 3×3 on 14×14: 3.2 ms on one thread, against 3.4–3.7 ms.
 */
const COL_BUDGET = 1 << 18;
// Handing a task to the pool costs about 12 µs (median, 2 threads), so work is split only when
// one thread would take several times that: im2col and col2im move about 3 floats per ns,
// copyBlocks about 14.
/** Column floats below which im2col and col2im stay on the calling thread. */
const PARALLEL_COLUMN_FLOATS = 1 << 17;
/** Floats below which copyBlocks stays on the calling thread. */
const PARALLEL_COPY_FLOATS = 1 << 19;

/**
 * Column floats per band in the per-image path (each thread has its own): 256 KiB, a core's L2
 * cache share. Measured on the bench CNN (see README, CNN notes).
 */
const BAND_FLOATS = 1 << 16;
/** Images per thread from which the batch is split over its images (below, the GEMMs are split). */
const IMAGES_PER_THREAD = 2;
/** Multiply-adds from which the per-image path uses the threads (as the GEMM, gemm.ts). */
const PARALLEL_WORK = 1 << 20;
/**
 * Parts of a per-image weight gradient: each sums its images into its own partial gradient, and
 * the partials are added in order, so the result does not depend on the number of threads.
 */
const WEIGHT_GRAD_PARTS = 8;

/** The activation codes of assembly/conv-images.ts. */
const ACTIVATIONS = { none: 0, relu: 1 } as const;

/** Images [n0, n0 + images) and their output rows [oh0, oh1) (all rows unless images is 1). */
interface Chunk {
  readonly n0: number;
  readonly images: number;
  readonly oh0: number;
  readonly oh1: number;
}

/** Chunks covering the batch, each with at most COL_BUDGET column floats (or a single output row). */
function chunksOf(s: ConvShape): Chunk[] {
  const chunks: Chunk[] = [];
  const perImage = s.depth * s.plane;
  if (perImage <= COL_BUDGET) {
    const step = Math.floor(COL_BUDGET / perImage);
    for (let n0 = 0; n0 < s.batch; n0 += step) {
      chunks.push({ n0, images: Math.min(step, s.batch - n0), oh0: 0, oh1: s.outH });
    }
    return chunks;
  }
  const rows = Math.max(1, Math.floor(COL_BUDGET / (s.depth * s.outW)));
  for (let n0 = 0; n0 < s.batch; n0++) {
    for (let oh0 = 0; oh0 < s.outH; oh0 += rows) {
      chunks.push({ n0, images: 1, oh0, oh1: Math.min(s.outH, oh0 + rows) });
    }
  }
  return chunks;
}

/** Output positions of one image in a chunk (the chunk's column rows hold `images` of them). */
const chunkColumns = (s: ConvShape, c: Chunk) => (c.oh1 - c.oh0) * s.outW;

const isEmpty = (views: readonly View<WasmBuffer>[]) => views.some((v) => v.shape.includes(0));

const pointer = (view: View<WasmBuffer>) => view.handle.ptr + 4 * view.offset;

/** conv2d, its input gradient (convTranspose2d) and its weight gradient on float32. */
export function convKernels(
  runtime: WasmRuntime,
): Pick<KernelTable<WasmBuffer>, 'conv2d' | 'convTranspose2d' | 'conv2dWeightGrad'> {
  const { allocator, pool } = runtime;
  const fallback = {
    conv2d: referenceKernel(runtime, 'conv2d'),
    convTranspose2d: referenceKernel(runtime, 'convTranspose2d'),
    conv2dWeightGrad: referenceKernel(runtime, 'conv2dWeightGrad'),
  };
  // The geometry block assembly/conv.ts reads (ConvGeometry); kernels run one at a time.
  const geometry = allocator.alloc(64);

  /** Output rows per band of the per-image path: as many as fit BAND_FLOATS columns (at least one). */
  const bandRowsOf = (s: ConvShape) =>
    Math.min(s.outH, Math.max(1, Math.floor(BAND_FLOATS / (s.depth * s.outW))));

  const setGeometry = (s: ConvShape, p: Conv2dParams) => {
    const fields = [s.channels, s.height, s.width, s.groupIn, s.kh, s.kw, ...p.stride];
    fields.push(p.padding[0], p.padding[2], ...p.dilation, s.outH, s.outW);
    fields.push(s.batch, s.groups, s.groupOut, bandRowsOf(s));
    new Int32Array(runtime.buffer, geometry, fields.length).set(fields);
  };

  const splitsImages = (s: ConvShape) => s.batch >= IMAGES_PER_THREAD * pool.threads;

  /**
   * Runs per-image task `name(geometry, ...args, col, threadColFloats, workspace)` over the
   * batch in `parts` parts (default: up to four per thread), with a column scratch per thread.
   * With `fixedParts`, every part runs even on one thread (the weight gradient's partials).
   */
  const runImages = (s: ConvShape, name: string, args: number[], fixedParts?: number) => {
    const threadColFloats = s.depth * bandRowsOf(s) * s.outW;
    const colBytes = 4 * threadColFloats * pool.threads;
    const col = allocator.alloc(colBytes);
    try {
      const all = [geometry, ...args, col, threadColFloats, workspaceOf(runtime)];
      const parallel = s.batch * s.outChannels * s.depth * s.plane >= PARALLEL_WORK;
      const parts = fixedParts ?? Math.min(s.batch, 4 * pool.threads);
      if (fixedParts === undefined || (parallel && pool.ready)) pool.run(name, all, parallel, parts);
      else for (let part = 0; part < parts; part++) task(name)(...all, part, parts, 0);
    } finally {
      allocator.release(col, colBytes);
    }
  };
  const task = (name: string) => runtime.kernels<Record<string, (...args: number[]) => void>>()[name];

  /**
   * Runs `body(chunk, group, col, packed)` for every chunk and group, with `col` holding a
   * chunk's column matrix and `packed` an `[Og × images·P]` block for chunks of several images.
   */
  const forEachChunk = (
    s: ConvShape,
    body: (c: Chunk, group: number, col: number, packed: number) => void,
  ) => {
    const chunks = chunksOf(s);
    // The first chunk is the largest: only the last one can be smaller.
    const images = chunks[0].images;
    const colBytes = 4 * s.depth * images * chunkColumns(s, chunks[0]);
    const packedBytes = images > 1 ? 4 * s.groupOut * images * s.plane : 0;
    const col = allocator.alloc(colBytes);
    const packed = images > 1 ? allocator.alloc(packedBytes) : 0;
    try {
      for (const c of chunks) {
        for (let group = 0; group < s.groups; group++) body(c, group, col, packed);
      }
    } finally {
      allocator.release(col, colBytes);
      if (images > 1) allocator.release(packed, packedBytes);
    }
  };

  const im2col = (s: ConvShape, x: number, group: number, c: Chunk, col: number) => {
    const ldcol = c.images * chunkColumns(s, c);
    const args = [geometry, x, group * s.groupIn, c.n0, c.images, c.oh0, c.oh1, col, ldcol];
    pool.run('im2col', args, s.depth * ldcol >= PARALLEL_COLUMN_FLOATS);
  };

  const col2im = (s: ConvShape, dx: number, group: number, c: Chunk, col: number) => {
    const ldcol = c.images * chunkColumns(s, c);
    const args = [
      geometry,
      dx,
      group * s.groupIn,
      c.n0,
      c.images,
      c.oh0,
      c.oh1,
      col,
      ldcol,
      c.oh0 > 0 ? 1 : 0,
    ];
    pool.run('col2im', args, s.depth * ldcol >= PARALLEL_COLUMN_FLOATS);
  };

  /** Where the chunk's first image's channel group·Og starts in a `[N, O, Ho, Wo]` array, at row oh0. */
  const channelBlock = (s: ConvShape, ptr: number, group: number, c: Chunk) =>
    ptr + 4 * ((c.n0 * s.outChannels + group * s.groupOut) * s.plane + c.oh0 * s.outW);

  /** Moves a whole-image chunk of one group between `[N, O, P]` (at `nchw`) and `[Og × images·P]`. */
  const repack = (s: ConvShape, nchw: number, packed: number, c: Chunk, toPacked: boolean) => {
    const ldcol = c.images * s.plane;
    const nchwSide = [nchw, s.plane, s.outChannels * s.plane] as const;
    const packedSide = [packed, ldcol, s.plane] as const;
    const [from, to] = toPacked ? [nchwSide, packedSide] : [packedSide, nchwSide];
    const args = [...from, ...to, s.groupOut, c.images, s.plane];
    pool.run('copyBlocks', args, s.groupOut * ldcol >= PARALLEL_COPY_FLOATS);
  };

  /** The group's weights `[Og × K]`, or their transpose. */
  const weights = (s: ConvShape, w: View<WasmBuffer>, group: number, transposed: boolean) => {
    const ptr = pointer(w) + 4 * group * s.groupOut * s.depth;
    return transposed ? { ptr, rowStride: 1, colStride: s.depth } : { ptr, rowStride: s.depth, colStride: 1 };
  };

  return {
    conv2d(outputs, inputs, params: Conv2dEpilogueParams) {
      const [y] = outputs;
      const [x, w, bias] = inputs;
      const name = params.activation ?? 'none';
      if (!Object.hasOwn(ACTIVATIONS, name)) {
        throw new ValueError('conv2d', `unknown epilogue activation '${name}' (expected 'none' or 'relu')`);
      }
      const activation = ACTIVATIONS[name];
      const epilogue = bias !== undefined || activation !== ACTIVATIONS.none;
      if (epilogue && y.dtype !== 'float32') {
        throw new ValueError(
          'conv2d',
          `the epilogue (bias, activation) runs on float32 only, got ${y.dtype}`,
        );
      }
      if (y.dtype !== 'float32' || isEmpty([x, w, y])) return fallback.conv2d(outputs, inputs, params);
      const s = convShape(x.shape, w.shape, y.shape, params);
      setGeometry(s, params);
      const biasPtr = bias === undefined ? 0 : pointer(bias);
      if (splitsImages(s)) {
        return runImages(s, 'conv2dImages', [pointer(x), pointer(w), pointer(y), biasPtr, activation]);
      }
      forEachChunk(s, (c, group, col, packed) => {
        const ldcol = c.images * chunkColumns(s, c);
        const out = channelBlock(s, pointer(y), group, c);
        im2col(s, pointer(x), group, c, col);
        gemm(runtime, {
          m: s.groupOut,
          n: ldcol,
          k: s.depth,
          a: weights(s, w, group, false),
          b: { ptr: col, rowStride: ldcol, colStride: 1 },
          c: c.images === 1 ? { ptr: out, ldc: s.plane } : { ptr: packed, ldc: ldcol },
          beta: 0,
        });
        if (c.images > 1) repack(s, out, packed, c, false);
      });
      if (epilogue) {
        const args = [pointer(y), s.batch, s.outChannels, s.plane, biasPtr, activation];
        pool.run('convEpilogue', args, s.batch * s.outChannels * s.plane >= PARALLEL_COPY_FLOATS);
      }
    },

    convTranspose2d(outputs, inputs, params) {
      const [dx] = outputs;
      const [dy, w] = inputs;
      if (dx.dtype !== 'float32' || isEmpty([dx, dy, w])) {
        return fallback.convTranspose2d(outputs, inputs, params);
      }
      const s = convShape(dx.shape, w.shape, dy.shape, params);
      setGeometry(s, params);
      if (splitsImages(s))
        return runImages(s, 'convTranspose2dImages', [pointer(dy), pointer(w), pointer(dx)]);
      forEachChunk(s, (c, group, dcol, packed) => {
        const ldcol = c.images * chunkColumns(s, c);
        const grads = channelBlock(s, pointer(dy), group, c);
        if (c.images > 1) repack(s, grads, packed, c, true);
        gemm(runtime, {
          m: s.depth,
          n: ldcol,
          k: s.groupOut,
          a: weights(s, w, group, true),
          b:
            c.images === 1
              ? { ptr: grads, rowStride: s.plane, colStride: 1 }
              : { ptr: packed, rowStride: ldcol, colStride: 1 },
          c: { ptr: dcol, ldc: ldcol },
          beta: 0,
        });
        col2im(s, pointer(dx), group, c, dcol);
      });
    },

    conv2dWeightGrad(outputs, inputs, params) {
      const [dw] = outputs;
      const [x, dy] = inputs;
      if (dw.dtype !== 'float32' || isEmpty([dw, x, dy])) {
        return fallback.conv2dWeightGrad(outputs, inputs, params);
      }
      const s = convShape(x.shape, dw.shape, dy.shape, params);
      setGeometry(s, params);
      if (splitsImages(s)) {
        const parts = Math.min(s.batch, WEIGHT_GRAD_PARTS);
        const count = s.outChannels * s.depth;
        const partials = allocator.alloc(4 * count * parts);
        try {
          runImages(s, 'conv2dWeightGradImages', [pointer(x), pointer(dy), partials], parts);
          task('sumParts')(pointer(dw), partials, count, parts);
        } finally {
          allocator.release(partials, 4 * count * parts);
        }
        return;
      }
      forEachChunk(s, (c, group, col, packed) => {
        const ldcol = c.images * chunkColumns(s, c);
        const grads = channelBlock(s, pointer(dy), group, c);
        im2col(s, pointer(x), group, c, col);
        if (c.images > 1) repack(s, grads, packed, c, true);
        gemm(runtime, {
          m: s.groupOut,
          n: s.depth,
          k: ldcol,
          a:
            c.images === 1
              ? { ptr: grads, rowStride: s.plane, colStride: 1 }
              : { ptr: packed, rowStride: ldcol, colStride: 1 },
          b: { ptr: col, rowStride: 1, colStride: ldcol },
          c: { ptr: pointer(dw) + 4 * group * s.groupOut * s.depth, ldc: s.depth },
          beta: c.n0 === 0 && c.oh0 === 0 ? 0 : 1,
        });
      });
    },
  };
}
