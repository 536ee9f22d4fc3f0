// The GEMM micro-kernel: a 4×8 tile of C held in eight f32x4 registers while it walks one packed
// micro-panel of A (4 rows) and one of B (8 columns) along k. Each step loads 8 values of B as two
// vectors, broadcasts each of the 4 values of A and does 8 multiply-adds. Eight accumulators plus
// two B vectors and one broadcast fit the 16 xmm registers; a larger tile spills and runs at half
// the speed.

/** Rows of A per micro-panel (and of the register tile). */
export const MR: i32 = 4;
/** Columns of B per micro-panel (and of the register tile): two f32x4 vectors. */
export const NR: i32 = 8;

function madd(a: v128, b: v128, acc: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, acc);
  return f32x4.add(f32x4.mul(a, b), acc);
}

/**
 * tile = A·B over `kc` steps, where step p of the A micro-panel at `ap` is 4 consecutive floats
 * (one per row) and step p of B is 8 consecutive floats (one per column) at `bp + p·bStep`: a
 * packed micro-panel (bStep 32) or rows of B itself. The tile is stored to `c` (row stride
 * `ldcBytes`) or, with `accumulate`, added to it.
 */
export function microKernel(
  kc: i32,
  ap: usize,
  bp: usize,
  bStep: usize,
  c: usize,
  ldcBytes: usize,
  accumulate: bool,
): void {
  let c00 = f32x4.splat(0);
  let c01 = c00;
  let c10 = c00;
  let c11 = c00;
  let c20 = c00;
  let c21 = c00;
  let c30 = c00;
  let c31 = c00;
  const end = ap + ((<usize>kc) << 4);
  while (ap < end) {
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
    let a = v128.load32_splat(ap);
    c00 = madd(a, b0, c00);
    c01 = madd(a, b1, c01);
    a = v128.load32_splat(ap, 4);
    c10 = madd(a, b0, c10);
    c11 = madd(a, b1, c11);
    a = v128.load32_splat(ap, 8);
    c20 = madd(a, b0, c20);
    c21 = madd(a, b1, c21);
    a = v128.load32_splat(ap, 12);
    c30 = madd(a, b0, c30);
    c31 = madd(a, b1, c31);
    ap += 16;
    bp += bStep;
  }
  const c1 = c + ldcBytes;
  const c2 = c1 + ldcBytes;
  const c3 = c2 + ldcBytes;
  if (accumulate) {
    c00 = f32x4.add(c00, v128.load(c));
    c01 = f32x4.add(c01, v128.load(c, 16));
    c10 = f32x4.add(c10, v128.load(c1));
    c11 = f32x4.add(c11, v128.load(c1, 16));
    c20 = f32x4.add(c20, v128.load(c2));
    c21 = f32x4.add(c21, v128.load(c2, 16));
    c30 = f32x4.add(c30, v128.load(c3));
    c31 = f32x4.add(c31, v128.load(c3, 16));
  }
  v128.store(c, c00);
  v128.store(c, c01, 16);
  v128.store(c1, c10);
  v128.store(c1, c11, 16);
  v128.store(c2, c20);
  v128.store(c2, c21, 16);
  v128.store(c3, c30);
  v128.store(c3, c31, 16);
}
