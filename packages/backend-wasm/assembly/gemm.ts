// Float32 GEMM, blocked for the caches in the GotoBLAS/BLIS way: for each NC-wide slab of
// columns and each KC-deep slice of k, a KC×NC block of B is packed (it stays in L2); for each
// MC-tall block of rows, an MC×KC block of A is packed; then the 4×8 micro-kernel runs over every
// tile, reading one 8 KiB micro-panel of B from L1 against the A block.
import { MR, microKernel, NR } from './gemm-microkernel';
import { packA, packB } from './gemm-pack';

const KC: i32 = 256;
const MC: i32 = 128;
const NC: i32 = 512;
/** Up to this many rows, B is not packed (if its rows are contiguous). */
const DIRECT_B_MAX_ROWS: i32 = 32;

const PACKED_A_BYTES: usize = (<usize>(MC * KC)) << 2;
const PACKED_B_BYTES: usize = (<usize>(KC * NC)) << 2;
const TILE_BYTES: usize = (<usize>(MR * NR)) << 2;

/** Bytes of workspace each thread needs (packed A, packed B, one edge tile), 64-byte multiple. */
export function gemmWorkspaceBytes(): i32 {
  return <i32>(PACKED_A_BYTES + PACKED_B_BYTES + TILE_BYTES);
}

function at(ptr: usize, elements: i32): usize {
  return ptr + ((<usize>elements) << 2);
}

/** Writes (or, with `accumulate`, adds) the top-left rows × cols of a packed tile into C. */
function storeEdge(tile: usize, c: usize, ldc: i32, rows: i32, cols: i32, accumulate: bool): void {
  for (let r = 0; r < rows; r++) {
    const src = tile + ((<usize>(r * NR)) << 2);
    const dst = at(c, r * ldc);
    for (let j = 0; j < cols; j++) {
      const o = (<usize>j) << 2;
      const value = load<f32>(src + o);
      store<f32>(dst + o, accumulate ? load<f32>(dst + o) + value : value);
    }
  }
}

/** One part: C[m×n] = beta·C + A·B with a private workspace (of gemmWorkspaceBytes()). */
export function gemmBlock(
  m: i32,
  n: i32,
  k: i32,
  a: usize,
  aRow: i32,
  aCol: i32,
  b: usize,
  bRow: i32,
  bCol: i32,
  c: usize,
  ldc: i32,
  beta: f32,
  workspace: usize,
): void {
  if (k === 0) {
    if (beta === 0) for (let i = 0; i < m; i++) memory.fill(at(c, i * ldc), 0, (<usize>n) << 2);
    return;
  }
  const packedA = workspace;
  const packedB = packedA + PACKED_A_BYTES;
  const tile = packedB + PACKED_B_BYTES;
  const ldcBytes = (<usize>ldc) << 2;
  // With few rows, a packed copy of B would be read only m/4 times: when rows of B are
  // contiguous, the micro-kernel reads them in place instead (full panels; the edge is packed).
  const direct = bCol === 1 && m <= DIRECT_B_MAX_ROWS;
  for (let jc = 0; jc < n; jc += NC) {
    const nc = min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      const accumulate = pc > 0 || beta !== 0;
      const bBlock = at(b, pc * bRow + jc * bCol);
      const packedCols = direct ? nc % NR : nc;
      const packedFrom = nc - packedCols;
      packB(at(bBlock, packedFrom * bCol), bRow, bCol, kc, packedCols, packedB);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = min(MC, m - ic);
        packA(at(a, ic * aRow + pc * aCol), aRow, aCol, mc, kc, packedA);
        for (let jr = 0; jr < nc; jr += NR) {
          const cols = min(NR, nc - jr);
          const inPlace = jr < packedFrom;
          const bp = inPlace ? at(bBlock, jr) : packedB + ((<usize>((jr - packedFrom) * kc)) << 2);
          const bStep: usize = inPlace ? (<usize>bRow) << 2 : (<usize>NR) << 2;
          for (let ir = 0; ir < mc; ir += MR) {
            const rows = min(MR, mc - ir);
            const ap = packedA + ((<usize>(ir * kc)) << 2);
            const cp = at(c, (ic + ir) * ldc + jc + jr);
            if (rows === MR && cols === NR) {
              microKernel(kc, ap, bp, bStep, cp, ldcBytes, accumulate);
            } else {
              microKernel(kc, ap, bp, bStep, tile, (<usize>NR) << 2, false);
              storeEdge(tile, cp, ldc, rows, cols, accumulate);
            }
          }
        }
      }
    }
  }
}

/**
 * C[m×n] = beta·C + A[m×k]·B[k×n] in float32, where element (i, p) of A is at
 * a + 4·(i·aRow + p·aCol) and likewise for B (any strides: transposed, flipped or broadcast
 * operands need no copy); C is row-major with row stride ldc. beta is 0 (C is overwritten,
 * whatever it held) or 1. `workspace` holds gemmWorkspaceBytes() per thread.
 *
 * The larger of m and n is split into `parts` contiguous ranges of whole tiles, so each part
 * writes its own block of C; the split repeats the packing of the other operand, the smaller
 * one. `thread` selects the workspace of the thread running the part.
 */
export function gemm(
  m: i32,
  n: i32,
  k: i32,
  a: usize,
  aRow: i32,
  aCol: i32,
  b: usize,
  bRow: i32,
  bCol: i32,
  c: usize,
  ldc: i32,
  beta: f32,
  workspace: usize,
  part: i32,
  parts: i32,
  thread: i32,
): void {
  let i0 = 0;
  let i1 = m;
  let j0 = 0;
  let j1 = n;
  if (n >= m) {
    const panels = (n + NR - 1) / NR;
    j0 = min(n, ((panels * part) / parts) * NR);
    j1 = min(n, ((panels * (part + 1)) / parts) * NR);
  } else {
    const panels = (m + MR - 1) / MR;
    i0 = min(m, ((panels * part) / parts) * MR);
    i1 = min(m, ((panels * (part + 1)) / parts) * MR);
  }
  if (i0 >= i1 || j0 >= j1) return;
  gemmBlock(
    i1 - i0,
    j1 - j0,
    k,
    at(a, i0 * aRow),
    aRow,
    aCol,
    at(b, j0 * bCol),
    bRow,
    bCol,
    at(c, i0 * ldc + j0),
    ldc,
    beta,
    workspace + <usize>thread * <usize>gemmWorkspaceBytes(),
  );
}
