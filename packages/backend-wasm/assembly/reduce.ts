// float32 reductions of a packed array viewed as [outer, size, inner], reducing the middle
// axis. Sums and products accumulate in float64, as the reference does; max and min follow the
// reference exactly: NaN wins, and among equal values (±0) the first one is kept.

const SUM = 0;
const PROD = 1;
const MAX = 2;
const MIN = 3;
const ARGMAX = 4;

const NEG_INF: f32 = -Infinity;
const POS_INF: f32 = Infinity;

@inline
function f32At(p: usize, i: i32): f32 {
  return load<f32>(p + (<usize>i << 2));
}

@inline
function highHalf(v: v128): v128 {
  return v128.shuffle<i32>(v, v, 2, 3, 0, 1);
}

/** Σ or Π of n floats at p, in float64 with eight partial results. */
function sumOrProdRow(op: i32, p: usize, n: i32): f64 {
  const init = f64x2.splat(op == SUM ? 0 : 1);
  let a0 = init;
  let a1 = init;
  let a2 = init;
  let a3 = init;
  let i = 0;
  if (op == SUM) {
    for (; i + 8 <= n; i += 8) {
      const v = v128.load(p + (<usize>i << 2));
      const w = v128.load(p + (<usize>i << 2), 16);
      a0 = f64x2.add(a0, f64x2.promote_low_f32x4(v));
      a1 = f64x2.add(a1, f64x2.promote_low_f32x4(highHalf(v)));
      a2 = f64x2.add(a2, f64x2.promote_low_f32x4(w));
      a3 = f64x2.add(a3, f64x2.promote_low_f32x4(highHalf(w)));
    }
    const s = f64x2.add(f64x2.add(a0, a1), f64x2.add(a2, a3));
    let acc = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
    for (; i < n; i++) acc += <f64>f32At(p, i);
    return acc;
  }
  for (; i + 8 <= n; i += 8) {
    const v = v128.load(p + (<usize>i << 2));
    const w = v128.load(p + (<usize>i << 2), 16);
    a0 = f64x2.mul(a0, f64x2.promote_low_f32x4(v));
    a1 = f64x2.mul(a1, f64x2.promote_low_f32x4(highHalf(v)));
    a2 = f64x2.mul(a2, f64x2.promote_low_f32x4(w));
    a3 = f64x2.mul(a3, f64x2.promote_low_f32x4(highHalf(w)));
  }
  const s = f64x2.mul(f64x2.mul(a0, a1), f64x2.mul(a2, a3));
  let acc = f64x2.extract_lane(s, 0) * f64x2.extract_lane(s, 1);
  for (; i < n; i++) acc *= <f64>f32At(p, i);
  return acc;
}

/** acc, replaced lane-wise by v where v is better (greater for max) or NaN, as the reference steps. */
@inline
function step(isMax: bool, acc: v128, v: v128): v128 {
  const better = isMax ? f32x4.gt(v, acc) : f32x4.lt(v, acc);
  return v128.bitselect(v, acc, v128.or(better, f32x4.ne(v, v)));
}

/** The max (or min) of n floats at p, NaN if any is NaN; which zero it returns is unspecified. */
function extremeRow(isMax: bool, p: usize, n: i32): f32 {
  const init = f32x4.splat(isMax ? NEG_INF : POS_INF);
  let a0 = init;
  let a1 = init;
  let a2 = init;
  let a3 = init;
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const at = p + (<usize>i << 2);
    a0 = step(isMax, a0, v128.load(at));
    a1 = step(isMax, a1, v128.load(at, 16));
    a2 = step(isMax, a2, v128.load(at, 32));
    a3 = step(isMax, a3, v128.load(at, 48));
  }
  for (; i + 4 <= n; i += 4) a0 = step(isMax, a0, v128.load(p + (<usize>i << 2)));
  let acc = step(isMax, step(isMax, a0, a1), step(isMax, a2, a3));
  acc = step(isMax, acc, highHalf(acc));
  acc = step(isMax, acc, v128.shuffle<i32>(acc, acc, 1, 0, 3, 2));
  let best = f32x4.extract_lane(acc, 0);
  for (; i < n; i++) {
    const v = f32At(p, i);
    if (isMax ? v > best : v < best) best = v;
    else if (isNaN(v)) best = v;
  }
  return best;
}

/** The index of the first element at p equal to `target` (or the first NaN if target is NaN). */
function firstIndexOf(p: usize, n: i32, target: f32): i32 {
  const nan = isNaN(target);
  const t = f32x4.splat(target);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(p + (<usize>i << 2));
    if (v128.any_true(nan ? f32x4.ne(v, v) : f32x4.eq(v, t))) break;
  }
  for (; i < n; i++) {
    const v = f32At(p, i);
    if (nan ? isNaN(v) : v == target) return i;
  }
  return n;
}

function reduceRow(op: i32, p: usize, n: i32): f32 {
  if (op <= PROD) return <f32>sumOrProdRow(op, p, n);
  const best = extremeRow(op == MAX, p, n);
  // The reference keeps the first of equal values: for a zero result, the sign of the first zero.
  return best == 0 ? f32At(p, firstIndexOf(p, n, 0)) : best;
}

/** Where part `part` of `parts` of `total` rows starts. */
@inline
function share(total: i32, part: i32, parts: i32): i32 {
  return <i32>((<i64>total * part) / parts);
}

/** out[o] = op over x[o, 0..size) for the rows of one part (op: sum, prod, max, min, argmax, argmin). */
export function reduceRows(op: i32, x: usize, out: usize, outer: i32, size: i32, part: i32, parts: i32): void {
  const end = share(outer, part + 1, parts);
  for (let o = share(outer, part, parts); o < end; o++) {
    const row = x + ((<usize>o * <usize>size) << 2);
    const at = out + (<usize>o << 2);
    if (op < ARGMAX) {
      store<f32>(at, reduceRow(op, row, size));
    } else {
      store<i32>(at, size == 0 ? 0 : firstIndexOf(row, size, extremeRow(op == ARGMAX, row, size)));
    }
  }
}

/** Reduces `width` (4 or 8) columns at p over `size` rows `rowBytes` apart, into out. */
@inline
function columnGroup(op: i32, width: i32, p: usize, rowBytes: usize, size: i32, out: usize): void {
  if (op <= PROD) {
    const init = f64x2.splat(op == SUM ? 0 : 1);
    let a0 = init;
    let a1 = init;
    let a2 = init;
    let a3 = init;
    let at = p;
    for (let r = 0; r < size; r++, at += rowBytes) {
      const v = v128.load(at);
      const lo = f64x2.promote_low_f32x4(v);
      const hi = f64x2.promote_low_f32x4(highHalf(v));
      a0 = op == SUM ? f64x2.add(a0, lo) : f64x2.mul(a0, lo);
      a1 = op == SUM ? f64x2.add(a1, hi) : f64x2.mul(a1, hi);
      if (width == 8) {
        const w = v128.load(at, 16);
        const wl = f64x2.promote_low_f32x4(w);
        const wh = f64x2.promote_low_f32x4(highHalf(w));
        a2 = op == SUM ? f64x2.add(a2, wl) : f64x2.mul(a2, wl);
        a3 = op == SUM ? f64x2.add(a3, wh) : f64x2.mul(a3, wh);
      }
    }
    v128.store(out, v128.shuffle<i32>(f32x4.demote_f64x2_zero(a0), f32x4.demote_f64x2_zero(a1), 0, 1, 4, 5));
    if (width == 8) {
      v128.store(out, v128.shuffle<i32>(f32x4.demote_f64x2_zero(a2), f32x4.demote_f64x2_zero(a3), 0, 1, 4, 5), 16);
    }
  } else {
    const isMax = op == MAX;
    let a0 = f32x4.splat(isMax ? NEG_INF : POS_INF);
    let a1 = a0;
    let at = p;
    for (let r = 0; r < size; r++, at += rowBytes) {
      a0 = step(isMax, a0, v128.load(at));
      if (width == 8) a1 = step(isMax, a1, v128.load(at, 16));
    }
    v128.store(out, a0);
    if (width == 8) v128.store(out, a1, 16);
  }
}

function columnBlock(op: i32, p: usize, rowBytes: usize, size: i32, out: usize, columns: i32): void {
  let c = 0;
  // biome-ignore format: one case per op
  for (; c + 8 <= columns; c += 8) {
    const src = p + (<usize>c << 2);
    const dst = out + (<usize>c << 2);
    switch (op) {
      case SUM: columnGroup(SUM, 8, src, rowBytes, size, dst); break;
      case PROD: columnGroup(PROD, 8, src, rowBytes, size, dst); break;
      case MAX: columnGroup(MAX, 8, src, rowBytes, size, dst); break;
      default: columnGroup(MIN, 8, src, rowBytes, size, dst); break;
    }
  }
  // biome-ignore format: one case per op
  for (; c + 4 <= columns; c += 4) {
    const src = p + (<usize>c << 2);
    const dst = out + (<usize>c << 2);
    switch (op) {
      case SUM: columnGroup(SUM, 4, src, rowBytes, size, dst); break;
      case PROD: columnGroup(PROD, 4, src, rowBytes, size, dst); break;
      case MAX: columnGroup(MAX, 4, src, rowBytes, size, dst); break;
      default: columnGroup(MIN, 4, src, rowBytes, size, dst); break;
    }
  }
  for (; c < columns; c++) {
    let acc: f64 = op == SUM ? 0 : op == PROD ? 1 : op == MAX ? NEG_INF : POS_INF;
    let at = p + (<usize>c << 2);
    for (let r = 0; r < size; r++, at += rowBytes) {
      const v = <f64>load<f32>(at);
      if (op == SUM) acc += v;
      else if (op == PROD) acc *= v;
      else if (op == MAX ? v > acc : v < acc) acc = v;
      else if (isNaN(v)) acc = v;
    }
    store<f32>(out + (<usize>c << 2), <f32>acc);
  }
}

const BLOCK = 16;

/**
 * out[o, i] = op over r of x[o, r, i] (op: sum, prod, max, min), for one part of
 * the (outer position, block of 16 columns) pairs.
 */
export function reduceColumns(
  op: i32,
  x: usize,
  out: usize,
  outer: i32,
  size: i32,
  inner: i32,
  part: i32,
  parts: i32,
): void {
  const blocks = (inner + BLOCK - 1) / BLOCK;
  const end = share(outer * blocks, part + 1, parts);
  const rowBytes = <usize>inner << 2;
  for (let unit = share(outer * blocks, part, parts); unit < end; unit++) {
    const o = unit / blocks;
    const c = (unit % blocks) * BLOCK;
    const src = x + ((<usize>o * <usize>size * <usize>inner + <usize>c) << 2);
    columnBlock(op, src, rowBytes, size, out + ((<usize>o * <usize>inner + <usize>c) << 2), min(BLOCK, inner - c));
  }
}

/**
 * out[k] = Σ (or Π) over o and i of x[o, k, i], in float64, for the k of one part: the
 * reduction of both ends of an array around kept middle axes (a bias gradient over N, H, W).
 */
export function reduceEnds(op: i32, x: usize, out: usize, outer: i32, keep: i32, inner: i32, part: i32, parts: i32): void {
  const end = share(keep, part + 1, parts);
  const rowBytes = <usize>inner << 2;
  const outerBytes = <usize>keep * rowBytes;
  for (let k = share(keep, part, parts); k < end; k++) {
    let acc: f64 = op == SUM ? 0 : 1;
    let row = x + <usize>k * rowBytes;
    for (let o = 0; o < outer; o++, row += outerBytes) {
      const value = sumOrProdRow(op, row, inner);
      acc = op == SUM ? acc + value : acc * value;
    }
    store<f32>(out + (<usize>k << 2), <f32>acc);
  }
}
