// Batched outer products: out[b, i, j] = x[b, i] · y[b, j], a matmul whose inner dimension is 1.
// Under vmap every per-example weight gradient (Xᵀ·dY of one example) is one, and the output,
// B copies of the weight's shape, dwarfs the inputs: one streaming pass that writes each output
// row once, scaling a row of y, is all the work there is (a GEMM per example packs and tiles
// for nothing, and the strided elementwise kernel pays its per-row bookkeeping on every row).

/**
 * Rows [start, end) of part `part` of `parts` of the batch·m rows of out ([batch, m, n],
 * contiguous). Element (b, i) of x is at x + 4·(b·xBatch + i·xStride), element (b, j) of y at
 * y + 4·(b·yBatch + j·yStride): broadcast (stride 0) and transposed operands need no copy.
 */
export function outerProduct(
  batch: i32,
  m: i32,
  n: i32,
  x: usize,
  xBatch: i32,
  xStride: i32,
  y: usize,
  yBatch: i32,
  yStride: i32,
  out: usize,
  part: i32,
  parts: i32,
): void {
  const rows = <i64>batch * <i64>m;
  const start = <i32>((rows * part) / parts);
  const end = <i32>((rows * (part + 1)) / parts);
  if (start >= end) return;
  let b = start / m;
  let i = start - b * m;
  for (let r = start; r < end; r++) {
    const scale = load<f32>(x + (<usize>(b * xBatch + i * xStride) << 2));
    const row = y + (<usize>(b * yBatch) << 2);
    const dst = out + ((<usize>r * <usize>n) << 2);
    let j = 0;
    if (yStride == 1) {
      const s = f32x4.splat(scale);
      for (; j + 4 <= n; j += 4) {
        const o = <usize>j << 2;
        v128.store(dst + o, f32x4.mul(s, v128.load(row + o)));
      }
    }
    for (; j < n; j++) store<f32>(dst + (<usize>j << 2), scale * load<f32>(row + (<usize>(j * yStride) << 2)));
    if (++i == m) {
      i = 0;
      b++;
    }
  }
}
