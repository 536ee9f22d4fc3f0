// Packing for the GEMM: copies a block of A (or B) read through arbitrary element strides into
// the micro-panel order the micro-kernel walks linearly. A block becomes panels of MR rows where
// step p holds the MR values of column p; a B block becomes panels of NR columns where step p
// holds the NR values of row p. Lanes past the matrix edge are zero, so edge tiles compute whole.
// Strides may be negative or zero (flips, broadcasts): offsets are i32, and wasm32 address
// arithmetic wraps, so `ptr + <usize>offset` is right for negative offsets too.
import { MR, NR } from './gemm-microkernel';

function at(ptr: usize, elements: i32): usize {
  return ptr + ((<usize>elements) << 2);
}

/** Stores the transpose of the 4×4 block whose rows are r0..r3 as 4 vectors `stepBytes` apart. */
function storeTransposed(dst: usize, stepBytes: usize, r0: v128, r1: v128, r2: v128, r3: v128): void {
  const lo01 = f32x4.shuffle(r0, r1, 0, 4, 1, 5);
  const hi01 = f32x4.shuffle(r0, r1, 2, 6, 3, 7);
  const lo23 = f32x4.shuffle(r2, r3, 0, 4, 1, 5);
  const hi23 = f32x4.shuffle(r2, r3, 2, 6, 3, 7);
  v128.store(dst, f32x4.shuffle(lo01, lo23, 0, 1, 4, 5));
  v128.store(dst + stepBytes, f32x4.shuffle(lo01, lo23, 2, 3, 6, 7));
  v128.store(dst + 2 * stepBytes, f32x4.shuffle(hi01, hi23, 0, 1, 4, 5));
  v128.store(dst + 3 * stepBytes, f32x4.shuffle(hi01, hi23, 2, 3, 6, 7));
}

/**
 * Packs `lanes` lanes × `depth` steps of the matrix at `src` into panels of `width` lanes
 * (element (lane, step) at src + 4·(lane·laneStride + step·stepStride)), with any stride.
 */
function packGeneral(
  src: usize,
  laneStride: i32,
  stepStride: i32,
  lanes: i32,
  depth: i32,
  width: i32,
  dst: usize,
): usize {
  for (let lane0 = 0; lane0 < lanes; lane0 += width) {
    const valid = min(width, lanes - lane0);
    const panel = at(src, lane0 * laneStride);
    for (let p = 0; p < depth; p++) {
      const step = at(panel, p * stepStride);
      let l = 0;
      for (; l < valid; l++) store<f32>(dst + ((<usize>l) << 2), load<f32>(at(step, l * laneStride)));
      for (; l < width; l++) store<f32>(dst + ((<usize>l) << 2), 0);
      dst += (<usize>width) << 2;
    }
  }
  return dst;
}

/** Rows [0, mc) × columns [0, kc) of A at `a` into MR-row panels at `dst`. */
export function packA(a: usize, aRow: i32, aCol: i32, mc: i32, kc: i32, dst: usize): void {
  const full = mc - (mc % MR);
  if (aRow === 1) {
    // Columns of A are contiguous: each step of a panel is one vector load.
    for (let i = 0; i < full; i += MR) {
      const panel = at(a, i);
      for (let p = 0; p < kc; p++, dst += 16) v128.store(dst, v128.load(at(panel, p * aCol)));
    }
  } else if (aCol === 1) {
    // Rows of A are contiguous: transpose 4×4 blocks, then the remaining steps one by one.
    const steps4 = kc & ~3;
    for (let i = 0; i < full; i += MR) {
      const r0 = at(a, i * aRow);
      const r1 = at(r0, aRow);
      const r2 = at(r1, aRow);
      const r3 = at(r2, aRow);
      let p = 0;
      for (; p < steps4; p += 4, dst += 64) {
        const o = (<usize>p) << 2;
        storeTransposed(dst, 16, v128.load(r0 + o), v128.load(r1 + o), v128.load(r2 + o), v128.load(r3 + o));
      }
      for (; p < kc; p++, dst += 16) {
        const o = (<usize>p) << 2;
        store<f32>(dst, load<f32>(r0 + o));
        store<f32>(dst, load<f32>(r1 + o), 4);
        store<f32>(dst, load<f32>(r2 + o), 8);
        store<f32>(dst, load<f32>(r3 + o), 12);
      }
    }
  } else {
    dst = packGeneral(a, aRow, aCol, full, kc, MR, dst);
  }
  if (full < mc) packGeneral(at(a, full * aRow), aRow, aCol, mc - full, kc, MR, dst);
}

/** Rows [0, kc) × columns [0, nc) of B at `b` into NR-column panels at `dst`. */
export function packB(b: usize, bRow: i32, bCol: i32, kc: i32, nc: i32, dst: usize): void {
  const full = nc - (nc % NR);
  if (bCol === 1) {
    // Rows of B are contiguous: each step of a panel is two vector loads.
    for (let j = 0; j < full; j += NR) {
      const panel = at(b, j);
      for (let p = 0; p < kc; p++, dst += 32) {
        const row = at(panel, p * bRow);
        v128.store(dst, v128.load(row));
        v128.store(dst, v128.load(row, 16), 16);
      }
    }
  } else if (bRow === 1) {
    // Columns of B are contiguous (a transposed operand): transpose two 4×4 blocks per 4 steps.
    const steps4 = kc & ~3;
    for (let j = 0; j < full; j += NR) {
      const c0 = at(b, j * bCol);
      const c1 = at(c0, bCol);
      const c2 = at(c1, bCol);
      const c3 = at(c2, bCol);
      const c4 = at(c3, bCol);
      const c5 = at(c4, bCol);
      const c6 = at(c5, bCol);
      const c7 = at(c6, bCol);
      let p = 0;
      for (; p < steps4; p += 4, dst += 128) {
        const o = (<usize>p) << 2;
        storeTransposed(dst, 32, v128.load(c0 + o), v128.load(c1 + o), v128.load(c2 + o), v128.load(c3 + o));
        storeTransposed(
          dst + 16,
          32,
          v128.load(c4 + o),
          v128.load(c5 + o),
          v128.load(c6 + o),
          v128.load(c7 + o),
        );
      }
      for (; p < kc; p++, dst += 32) {
        const o = (<usize>p) << 2;
        store<f32>(dst, load<f32>(c0 + o));
        store<f32>(dst, load<f32>(c1 + o), 4);
        store<f32>(dst, load<f32>(c2 + o), 8);
        store<f32>(dst, load<f32>(c3 + o), 12);
        store<f32>(dst, load<f32>(c4 + o), 16);
        store<f32>(dst, load<f32>(c5 + o), 20);
        store<f32>(dst, load<f32>(c6 + o), 24);
        store<f32>(dst, load<f32>(c7 + o), 28);
      }
    }
  } else {
    dst = packGeneral(b, bCol, bRow, full, kc, NR, dst);
  }
  if (full < nc) packGeneral(at(b, full * bCol), bCol, bRow, nc - full, kc, NR, dst);
}
