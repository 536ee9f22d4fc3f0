// gather and scatterAdd along one axis of float32 arrays with int32 indices, on arrays viewed as
// `[outer, axis, inner]`: the index (and scatterAdd's src) is `[outer, count, inner]` with the
// same outer and inner sizes. Threads split the outer range, so each lane keeps the reference's
// order of additions. An index outside [0, axis) reads NaN (gather) or is skipped (scatterAdd)
// instead of touching memory outside the array.

/** out[o, k, t] = x[o, index[o, k, t], t]. */
export function gatherAxis(
  x: usize,
  index: usize,
  out: usize,
  outer: i32,
  axis: i32,
  count: i32,
  inner: i32,
  part: i32,
  parts: i32,
): void {
  const lane = count * inner;
  const end = (outer * (part + 1)) / parts;
  for (let o = (outer * part) / parts; o < end; o++) {
    const src = x + (<usize>(o * axis * inner) << 2);
    for (let e = o * lane, last = e + lane, t = 0; e < last; e++) {
      const at = load<i32>(index + (<usize>e << 2));
      const value: f32 = <u32>at < <u32>axis ? load<f32>(src + (<usize>(at * inner + t) << 2)) : <f32>NaN;
      store<f32>(out + (<usize>e << 2), value);
      if (++t == inner) t = 0;
    }
  }
}

/** out = base, then out[o, index[o, k, t], t] += src[o, k, t] in row-major order of (k, t). */
export function scatterAddAxis(
  base: usize,
  index: usize,
  src: usize,
  out: usize,
  outer: i32,
  axis: i32,
  count: i32,
  inner: i32,
  part: i32,
  parts: i32,
): void {
  const lane = count * inner;
  const outLane = axis * inner;
  const start = (outer * part) / parts;
  const end = (outer * (part + 1)) / parts;
  for (let o = start; o < end; o++) {
    const dst = out + (<usize>(o * outLane) << 2);
    // Lane by lane, so the additions find the copied lane in the cache.
    if (out != base) memory.copy(dst, base + (<usize>(o * outLane) << 2), <usize>outLane << 2);
    for (let e = o * lane, last = e + lane, t = 0; e < last; e++) {
      const at = load<i32>(index + (<usize>e << 2));
      if (<u32>at < <u32>axis) {
        const to = dst + (<usize>(at * inner + t) << 2);
        store<f32>(to, load<f32>(to) + load<f32>(src + (<usize>e << 2)));
      }
      if (++t == inner) t = 0;
    }
  }
}
